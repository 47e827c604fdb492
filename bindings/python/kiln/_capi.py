"""The one ctypes layer over libkiln's C ABI (core/include/kiln/kiln.h).

Every kiln.h function is declared here with its argument and result types; the rest of the
package calls ``lib.kiln_*`` through this module only. Functions that return ``kiln_status*``
get an ``errcheck`` that converts a non-NULL status into the matching :class:`KilnError`
subclass (same message), and destroys the status.

Handles are plain ``c_void_p`` (Python ints, ``None`` for NULL). Structs mirror kiln.h exactly;
each starts with ``struct_size``, which :func:`new_struct` fills in.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)
from typing import Any, Iterable, Optional, Sequence, Type, TypeVar

from . import _errors
from ._library import load_library

# The C ABI major version this package is written against, and the minimum minor it needs.
ABI_MAJOR = 0
ABI_MINOR = 1

handle_p = POINTER(c_void_p)


# ------------------------------------------------------------------------------------------
# Structs (kiln_types.h, kiln.h)
# ------------------------------------------------------------------------------------------
class DeviceStats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("total_memory", c_uint64),
        ("free_memory", c_uint64),
        ("bytes_in_use", c_uint64),
        ("peak_bytes_in_use", c_uint64),
        ("num_allocations", c_uint64),
    ]


class RuntimeOptions(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("plugin_paths", POINTER(c_char_p)),
        ("num_plugin_paths", c_size_t),
        ("discover_plugins", c_int32),
        ("config_path", c_char_p),
    ]


class PluginInfo(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("name", c_char_p),
        ("version", c_char_p),
        ("path", c_char_p),
        ("abi_version", c_uint32),
        ("device_api", c_char_p),
        ("num_devices", c_size_t),
        ("device_note", c_char_p),
        ("num_kernels", c_size_t),
        ("num_ops", c_size_t),
    ]


class Dim(Structure):
    _fields_ = [("size", c_int64), ("expr", c_char_p)]


class TensorTypeC(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("dtype", c_int32),
        ("rank", c_size_t),
        ("dims", POINTER(Dim)),
        ("device", c_char_p),
        ("is_buffer", c_int32),
    ]


class TensorSpecC(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("name", c_char_p),
        ("dtype", c_int32),
        ("rank", c_size_t),
        ("shape", POINTER(c_int64)),
        ("dim_exprs", POINTER(c_char_p)),
        ("device", c_char_p),
        ("is_buffer", c_int32),
    ]


class Attr(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("kind", c_int32),
        ("i", c_int64),
        ("f", c_double),
        ("s", c_char_p),
        ("ints", POINTER(c_int64)),
        ("floats", POINTER(c_double)),
        ("count", c_size_t),
        ("tensor", c_void_p),
    ]


class OpDesc(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("op", c_char_p),
        ("inputs", POINTER(c_void_p)),
        ("num_inputs", c_size_t),
        ("attrs", POINTER(Attr)),
        ("num_attrs", c_size_t),
        ("output_types", POINTER(TensorTypeC)),
        ("num_output_types", c_size_t),
        ("name", c_char_p),
        ("device", c_char_p),
    ]


class WeightDesc(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("name", c_char_p),
        ("dtype", c_int32),
        ("rank", c_size_t),
        ("shape", POINTER(c_int64)),
        ("data", c_void_p),
        ("external_path", c_char_p),
        ("external_offset", c_uint64),
        ("device", c_char_p),
    ]


class NodeInfo(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("op", c_char_p),
        ("name", c_char_p),
        ("num_inputs", c_size_t),
        ("num_outputs", c_size_t),
        ("device", c_char_p),
    ]


class ModelNodeInfo(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("op", c_char_p),
        ("name", c_char_p),
        ("device", c_char_p),
        ("kernel", c_char_p),
        ("plugin", c_char_p),
        ("input_names", POINTER(c_char_p)),
        ("num_inputs", c_size_t),
        ("output_names", POINTER(c_char_p)),
        ("num_outputs", c_size_t),
        ("rejected", c_char_p),
    ]


class WeightInfo(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("name", c_char_p),
        ("dtype", c_int32),
        ("rank", c_size_t),
        ("shape", POINTER(c_int64)),
        ("byte_size", c_uint64),
        ("is_inline", c_int32),
        ("external_path", c_char_p),
    ]


class SessionOptions(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("devices", POINTER(c_char_p)),
        ("num_devices", c_size_t),
        ("num_threads", c_int32),
        ("custom_extensions", POINTER(c_char_p)),
        ("num_custom_extensions", c_size_t),
        ("disable_graph_passes", c_int32),
        ("disable_cpu_fallback", c_int32),
        ("enable_graph_replay", c_int32),
    ]


class LoadOptions(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("weight_names", POINTER(c_char_p)),
        ("weights", POINTER(c_void_p)),
        ("num_weights", c_size_t),
    ]


# Attribute kinds (kiln_attr_kind).
ATTR_INT = 1
ATTR_FLOAT = 2
ATTR_STRING = 3
ATTR_INTS = 4
ATTR_FLOATS = 5
ATTR_BOOL = 6
ATTR_DTYPE = 7
ATTR_TENSOR = 8

# void (*release)(void* context) of kiln_tensor_create_borrowed.
RELEASE_FN = CFUNCTYPE(None, c_void_p)

S = TypeVar("S", bound=Structure)


def new_struct(cls: Type[S], **fields: Any) -> S:
    """A zeroed struct with struct_size set (when the struct has one) and ``fields`` assigned."""
    value = cls()
    if any(name == "struct_size" for name, _ in cls._fields_):
        value.struct_size = ctypes.sizeof(cls)
    for key, item in fields.items():
        setattr(value, key, item)
    return value


# ------------------------------------------------------------------------------------------
# Status handling
# ------------------------------------------------------------------------------------------
# Functions whose NOT_FOUND is about a file the caller named.
_FILE_FUNCTIONS = {"kiln_graph_load", "kiln_graph_save", "kiln_runtime_load_plugin"}


def _status_errcheck(result: Optional[int], func: Any, args: Any) -> None:
    if not result:
        return None
    raise status_to_error(result, about_file=getattr(func, "__name__", "") in _FILE_FUNCTIONS)


def status_to_error(status: int, *, about_file: bool = False) -> _errors.KilnError:
    """Converts (and destroys) a non-NULL kiln_status* into an exception object."""
    try:
        code = int(lib.kiln_status_get_code(status))
        raw = lib.kiln_status_get_message(status)
        message = raw.decode("utf-8", "replace") if raw else ""
    finally:
        lib.kiln_status_destroy(status)
    if not message:
        message = f"kiln error {_errors.CODE_NAMES.get(code, code)}"
    return _errors.error_for_code(code, message, about_file=about_file)


# ------------------------------------------------------------------------------------------
# Function declarations
# ------------------------------------------------------------------------------------------
_STATUS = "status"  # marker: returns kiln_status*

# name -> (restype, argtypes)
_FUNCTIONS = {
    # Library
    "kiln_get_version": (c_char_p, []),
    "kiln_get_abi_version": (c_uint32, []),
    "kiln_set_log_level": (None, [c_int32]),
    "kiln_dtype_get_name": (c_char_p, [c_int32]),
    "kiln_dtype_from_name": (c_int32, [c_char_p]),
    # Ops a graph may name (sorted) and how each runs (kiln_op_kind)
    "kiln_get_graph_op_count": (c_size_t, []),
    "kiln_get_graph_op_name": (c_char_p, [c_size_t]),
    "kiln_get_op_kind": (c_int32, [c_char_p]),
    # Status
    "kiln_status_get_code": (c_int32, [c_void_p]),
    "kiln_status_get_message": (c_char_p, [c_void_p]),
    "kiln_status_code_get_name": (c_char_p, [c_int32]),
    "kiln_status_destroy": (None, [c_void_p]),
    "kiln_buffer_destroy": (None, [c_void_p]),
    # Runtime and plugins
    "kiln_runtime_create": (_STATUS, [POINTER(RuntimeOptions), handle_p]),
    "kiln_runtime_destroy": (None, [c_void_p]),
    "kiln_runtime_load_plugin": (_STATUS, [c_void_p, c_char_p]),
    "kiln_runtime_get_plugin_count": (c_size_t, [c_void_p]),
    "kiln_runtime_get_plugin_info": (_STATUS, [c_void_p, c_size_t, POINTER(PluginInfo)]),
    "kiln_runtime_get_load_error_count": (c_size_t, [c_void_p]),
    "kiln_runtime_get_load_error": (_STATUS, [c_void_p, c_size_t, POINTER(c_char_p),
                                              POINTER(c_char_p)]),
    # Devices
    "kiln_runtime_get_device_count": (c_size_t, [c_void_p]),
    "kiln_runtime_get_device": (_STATUS, [c_void_p, c_size_t, handle_p]),
    "kiln_runtime_find_device": (_STATUS, [c_void_p, c_char_p, handle_p]),
    "kiln_device_get_label": (c_char_p, [c_void_p]),
    "kiln_device_get_id": (c_int32, [c_void_p]),
    "kiln_device_get_api": (c_char_p, [c_void_p]),
    "kiln_device_get_name": (c_char_p, [c_void_p]),
    "kiln_device_is_host": (c_int32, [c_void_p]),
    "kiln_device_get_stats": (_STATUS, [c_void_p, POINTER(DeviceStats)]),
    "kiln_device_synchronize": (_STATUS, [c_void_p]),
    # Tensors
    "kiln_tensor_create": (_STATUS, [c_void_p, c_int32, POINTER(c_int64), c_size_t, handle_p]),
    "kiln_tensor_create_from_host": (_STATUS, [c_void_p, c_int32, POINTER(c_int64), c_size_t,
                                               c_void_p, c_size_t, handle_p]),
    "kiln_tensor_create_borrowed": (_STATUS, [c_void_p, c_int32, POINTER(c_int64), c_size_t,
                                              POINTER(c_int64), c_void_p, RELEASE_FN, c_void_p,
                                              handle_p]),
    "kiln_tensor_retain": (None, [c_void_p]),
    "kiln_tensor_release": (None, [c_void_p]),
    "kiln_tensor_get_dtype": (c_int32, [c_void_p]),
    "kiln_tensor_get_rank": (c_size_t, [c_void_p]),
    "kiln_tensor_get_shape": (POINTER(c_int64), [c_void_p]),
    "kiln_tensor_get_strides": (POINTER(c_int64), [c_void_p]),
    "kiln_tensor_get_num_elements": (c_int64, [c_void_p]),
    "kiln_tensor_get_byte_size": (c_size_t, [c_void_p]),
    "kiln_tensor_is_contiguous": (c_int32, [c_void_p]),
    "kiln_tensor_get_device": (c_void_p, [c_void_p]),
    "kiln_tensor_get_data": (c_void_p, [c_void_p]),
    "kiln_tensor_read": (_STATUS, [c_void_p, c_void_p, c_size_t]),
    "kiln_tensor_write": (_STATUS, [c_void_p, c_void_p, c_size_t]),
    "kiln_tensor_copy_to_device": (_STATUS, [c_void_p, c_void_p, handle_p]),
    "kiln_tensor_view": (_STATUS, [c_void_p, c_int32, POINTER(c_int64), c_size_t,
                                   POINTER(c_int64), c_int64, handle_p]),
    "kiln_tensor_contiguous": (_STATUS, [c_void_p, handle_p]),
    "kiln_tensor_to_dlpack_versioned": (_STATUS, [c_void_p, handle_p]),
    "kiln_tensor_to_dlpack": (_STATUS, [c_void_p, handle_p]),
    "kiln_tensor_from_dlpack_versioned": (_STATUS, [c_void_p, c_void_p, handle_p]),
    "kiln_tensor_from_dlpack": (_STATUS, [c_void_p, c_void_p, handle_p]),
    # Graphs
    "kiln_graph_create": (_STATUS, [c_char_p, handle_p]),
    "kiln_graph_destroy": (None, [c_void_p]),
    "kiln_graph_add_input": (_STATUS, [c_void_p, c_char_p, POINTER(TensorTypeC), handle_p]),
    "kiln_graph_add_op": (_STATUS, [c_void_p, POINTER(OpDesc), POINTER(c_void_p), c_size_t,
                                    POINTER(c_size_t)]),
    "kiln_graph_add_weight": (_STATUS, [c_void_p, POINTER(WeightDesc), handle_p]),
    "kiln_graph_set_outputs": (_STATUS, [c_void_p, POINTER(c_void_p), c_size_t]),
    "kiln_graph_set_metadata": (_STATUS, [c_void_p, c_char_p, c_char_p]),
    "kiln_graph_save": (_STATUS, [c_void_p, c_char_p]),
    "kiln_graph_save_to_buffer": (_STATUS, [c_void_p, handle_p, POINTER(c_size_t)]),
    "kiln_graph_load": (_STATUS, [c_char_p, handle_p]),
    "kiln_graph_load_from_buffer": (_STATUS, [c_void_p, c_size_t, handle_p]),
    "kiln_graph_get_name": (c_char_p, [c_void_p]),
    "kiln_graph_get_input_count": (c_size_t, [c_void_p]),
    "kiln_graph_get_input": (_STATUS, [c_void_p, c_size_t, handle_p]),
    "kiln_graph_get_output_count": (c_size_t, [c_void_p]),
    "kiln_graph_get_output": (_STATUS, [c_void_p, c_size_t, handle_p]),
    "kiln_graph_get_node_count": (c_size_t, [c_void_p]),
    "kiln_graph_get_node_info": (_STATUS, [c_void_p, c_size_t, POINTER(NodeInfo)]),
    "kiln_graph_get_weight_count": (c_size_t, [c_void_p]),
    "kiln_graph_get_weight_info": (_STATUS, [c_void_p, c_size_t, POINTER(WeightInfo)]),
    "kiln_graph_get_metadata": (c_char_p, [c_void_p, c_char_p]),
    "kiln_value_get_spec": (_STATUS, [c_void_p, POINTER(TensorSpecC)]),
    "kiln_graph_create_subgraph": (_STATUS, [c_void_p, c_char_p, handle_p]),
    "kiln_graph_add_subgraph": (_STATUS, [c_void_p, c_void_p]),
    "kiln_graph_get_subgraph_count": (c_size_t, [c_void_p]),
    # Sessions and models
    "kiln_session_create": (_STATUS, [c_void_p, POINTER(SessionOptions), handle_p]),
    "kiln_session_destroy": (None, [c_void_p]),
    "kiln_session_load": (_STATUS, [c_void_p, c_void_p, POINTER(LoadOptions), handle_p]),
    "kiln_model_destroy": (None, [c_void_p]),
    "kiln_model_get_input_count": (c_size_t, [c_void_p]),
    "kiln_model_get_node_count": (c_size_t, [c_void_p]),
    "kiln_model_get_node_info": (_STATUS, [c_void_p, c_size_t, POINTER(ModelNodeInfo)]),
    "kiln_model_get_input_spec": (_STATUS, [c_void_p, c_size_t, POINTER(TensorSpecC)]),
    "kiln_model_get_output_count": (c_size_t, [c_void_p]),
    "kiln_model_get_output_spec": (_STATUS, [c_void_p, c_size_t, POINTER(TensorSpecC)]),
    "kiln_model_execute": (_STATUS, [c_void_p, POINTER(c_void_p), c_size_t, POINTER(c_void_p),
                                     c_size_t]),
}


def _declare(library: ctypes.CDLL) -> None:
    missing = []
    for name, (restype, argtypes) in _FUNCTIONS.items():
        try:
            func = getattr(library, name)
        except AttributeError:
            missing.append(name)
            continue
        func.argtypes = argtypes
        if restype == _STATUS:
            func.restype = c_void_p
            func.errcheck = _status_errcheck
        else:
            func.restype = restype
    if missing:
        raise ImportError(f"kiln: {LIBRARY_PATH} lacks C ABI functions this package needs: "
                          f"{', '.join(missing)} (a library older than the package?)")


lib, LIBRARY_PATH = load_library()
_declare(lib)

_abi = int(lib.kiln_get_abi_version())
if (_abi >> 16) != ABI_MAJOR or (_abi & 0xFFFF) < ABI_MINOR:
    raise ImportError(
        f"kiln: {LIBRARY_PATH} has C ABI {_abi >> 16}.{_abi & 0xFFFF}, but this package needs "
        f"{ABI_MAJOR}.{ABI_MINOR} or a newer minor of major {ABI_MAJOR}")
ABI_VERSION = (_abi >> 16, _abi & 0xFFFF)


# ------------------------------------------------------------------------------------------
# Small helpers shared by the modules
# ------------------------------------------------------------------------------------------
def encode(text: str) -> bytes:
    """UTF-8 bytes of a name or string attribute."""
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text.encode("utf-8")


def encode_path(path: "os.PathLike[str] | str") -> bytes:
    return os.fsencode(os.fspath(path))


def decode(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def int64_array(values: Sequence[int]) -> Optional["ctypes.Array[c_int64]"]:
    """A C int64 array of ``values`` (None for an empty sequence, which C reads as NULL)."""
    values = list(values)
    if not values:
        return None
    return (c_int64 * len(values))(*values)


def char_p_array(values: Iterable[bytes]) -> "ctypes.Array[c_char_p]":
    items = list(values)
    return (c_char_p * max(len(items), 1))(*items)


def out_handle() -> c_void_p:
    return c_void_p()
