"""kiln for Python: build, compile and run ML inference graphs with kiln (libkiln), used the
way MAX's Python API is used.

Modules:
    kiln.driver  devices and tensors (NumPy and DLPack exchange)
    kiln.dtype   element types (MAX's codes)
    kiln.graph   graph building (Graph, TensorType, TensorValue, Weight, ops)
    kiln.engine  InferenceSession and Model

Every error kiln reports is a :class:`KilnError`, also an instance of the matching built-in
exception (ValueError, LookupError, NotImplementedError, MemoryError, RuntimeError ...).

The native library is found through ``KILN_LIBRARY``, ``KILN_HOME``, a copy inside the
package, a build tree (``KILN_BUILD_DIR`` or ``build/`` above the package) or the system path.
"""

from __future__ import annotations

from typing import Dict, List

from . import _capi
from ._errors import (KilnError, KilnFileNotFoundError, KilnMemoryError, KilnNotFoundError,
                      KilnNotImplementedError, KilnPermissionError, KilnRuntimeError,
                      KilnValueError)
from . import dtype, driver, graph, engine  # noqa: E402 (after the library is loaded)
from .dtype import DType
from .engine import set_log_level

__version__ = "0.1.0"

__all__ = [
    "DType", "KilnError", "KilnFileNotFoundError", "KilnMemoryError", "KilnNotFoundError",
    "KilnNotImplementedError", "KilnPermissionError", "KilnRuntimeError", "KilnValueError",
    "abi_version", "driver", "dtype", "engine", "graph", "library_path", "library_version",
    "load_errors", "load_plugin", "plugins", "set_log_level",
]


def library_version() -> str:
    """Semantic version of the loaded libkiln."""
    return _capi.decode(_capi.lib.kiln_get_version())


def library_path() -> str:
    """Path of the loaded libkiln."""
    return _capi.LIBRARY_PATH


def abi_version() -> tuple:
    """(major, minor) of the loaded libkiln's C ABI."""
    return _capi.ABI_VERSION


def plugins() -> List[Dict[str, object]]:
    """The plugins loaded into the process-wide runtime, with their devices and kernels."""
    from ._runtime import get_runtime  # noqa: PLC0415

    return get_runtime().plugins()


def load_errors() -> List[Dict[str, str]]:
    """Plugins that were found but failed to load, with kiln's reason."""
    from ._runtime import get_runtime  # noqa: PLC0415

    return get_runtime().load_errors()


def load_plugin(path: str) -> None:
    """Loads a plugin shared object into the process-wide runtime (custom ops, kernels)."""
    from ._runtime import get_runtime  # noqa: PLC0415

    get_runtime().load_plugin(path)
