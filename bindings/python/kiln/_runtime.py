"""The process-wide kiln runtime (plugins and devices), created on first use.

Every Python object that holds a kiln handle keeps a reference to the :class:`Runtime` it came
from, so the runtime is destroyed only after all of them (libkiln also keeps what a handle needs
alive internally; the Python reference makes the order explicit).
"""

from __future__ import annotations

import threading
import weakref
from ctypes import byref, c_char_p, c_void_p
from typing import Dict, List, Optional

from . import _capi
from ._capi import lib


class Runtime:
    """Owns one ``kiln_runtime*``. Use :func:`get_runtime` for the shared one."""

    def __init__(self) -> None:
        handle = c_void_p()
        lib.kiln_runtime_create(None, byref(handle))
        self._handle: int = handle.value  # type: ignore[assignment]
        self._finalizer = weakref.finalize(self, lib.kiln_runtime_destroy, self._handle)

    @property
    def handle(self) -> int:
        return self._handle

    def load_plugin(self, path: str) -> None:
        """Loads a plugin shared object into this runtime (no-op if already loaded)."""
        lib.kiln_runtime_load_plugin(self._handle, _capi.encode_path(path))

    def device_handles(self) -> List[int]:
        """Every device's handle, host first (borrowed: they live as long as the runtime)."""
        handles = []
        for index in range(lib.kiln_runtime_get_device_count(self._handle)):
            out = c_void_p()
            lib.kiln_runtime_get_device(self._handle, index, byref(out))
            handles.append(out.value)
        return handles

    def find_device(self, spec: str) -> int:
        """The handle of the device named by ``spec`` ("cpu", "gpu:1", "cuda:0")."""
        out = c_void_p()
        lib.kiln_runtime_find_device(self._handle, _capi.encode(spec), byref(out))
        return out.value  # type: ignore[return-value]

    def plugins(self) -> List[Dict[str, object]]:
        """Loaded plugins, as dictionaries of their kiln_plugin_info fields."""
        result = []
        for index in range(lib.kiln_runtime_get_plugin_count(self._handle)):
            info = _capi.new_struct(_capi.PluginInfo)
            lib.kiln_runtime_get_plugin_info(self._handle, index, byref(info))
            result.append({
                "name": _capi.decode(info.name),
                "version": _capi.decode(info.version),
                "path": _capi.decode(info.path),
                "abi_version": (info.abi_version >> 16, info.abi_version & 0xFFFF),
                "device_api": _capi.decode(info.device_api) or None,
                "num_devices": int(info.num_devices),
                "device_note": _capi.decode(info.device_note),
                "num_kernels": int(info.num_kernels),
                "num_ops": int(info.num_ops),
            })
        return result

    def load_errors(self) -> List[Dict[str, str]]:
        """Plugins that failed to load, with the reason."""
        result = []
        for index in range(lib.kiln_runtime_get_load_error_count(self._handle)):
            path, message = c_char_p(), c_char_p()
            lib.kiln_runtime_get_load_error(self._handle, index, byref(path), byref(message))
            result.append({"path": _capi.decode(path.value),
                           "message": _capi.decode(message.value)})
        return result


_lock = threading.Lock()
_shared: Optional[Runtime] = None


def get_runtime() -> Runtime:
    """The shared runtime of this process, created (plugins discovered) on the first call."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = Runtime()
    return _shared
