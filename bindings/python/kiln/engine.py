"""Compiling and running graphs: :class:`InferenceSession` and :class:`Model`.

Example::

    import numpy as np
    from kiln import engine
    from kiln.dtype import DType
    from kiln.graph import Graph, TensorType, ops

    graph = Graph("relu", ops.relu, input_types=[TensorType(DType.float32, ["n"])])
    model = engine.InferenceSession().load(graph)
    print(model.execute(np.array([-1.0, 2.0], np.float32))[0].to_numpy())
"""

from __future__ import annotations

import enum
import os
import weakref
from ctypes import byref, c_void_p
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _capi
from ._capi import lib
from ._errors import KilnRuntimeError
from ._runtime import Runtime, get_runtime
from .driver import CPU, Device, Tensor
from .dtype import DType
from .graph import Graph

__all__ = ["CustomExtensionsType", "InferenceSession", "LogLevel", "Model", "TensorSpec"]

CustomExtensionsType = Union[Sequence[Union[str, Path]], str, Path]


class LogLevel(str, enum.Enum):
    """Log levels accepted by :meth:`InferenceSession.set_log_level`."""

    NOTSET = "notset"
    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


_LOG_LEVEL_CODES = {"trace": 0, "debug": 1, "info": 2, "warning": 3, "warn": 3, "error": 4,
                    "critical": 5, "off": 6, "notset": 2}


class TensorSpec:
    """Name, dtype and shape of a model input or output.

    ``shape`` lists ints, with ``None`` where the dim is symbolic (bound at execution);
    ``dims`` gives the symbolic expressions there (``"batch"``) instead.
    """

    def __init__(self, shape: Sequence[Optional[int]], dtype: DType, name: str,
                 dims: Optional[Sequence[Union[int, str]]] = None,
                 device: Optional[str] = None) -> None:
        self.shape: List[Optional[int]] = list(shape)
        self.dtype: DType = dtype
        self.name: str = name
        self.dims: List[Union[int, str]] = list(dims) if dims is not None else [
            d if d is not None else "?" for d in shape]
        self.device: Optional[str] = device
        # A mutable buffer input: the kiln Tensor passed for it is updated in place.
        self.is_buffer: bool = False

    @staticmethod
    def _from_c(spec: _capi.TensorSpecC) -> "TensorSpec":
        shape: List[Optional[int]] = []
        dims: List[Union[int, str]] = []
        for i in range(spec.rank):
            expr = spec.dim_exprs[i] if spec.dim_exprs else None
            if expr:
                shape.append(None)
                dims.append(_capi.decode(expr))
            else:
                shape.append(int(spec.shape[i]))
                dims.append(int(spec.shape[i]))
        out = TensorSpec(shape, DType(spec.dtype), _capi.decode(spec.name), dims,
                         _capi.decode(spec.device) or None)
        out.is_buffer = bool(spec.is_buffer)
        return out

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and other.shape == self.shape and
                other.dtype == self.dtype and other.name == self.name)

    __hash__ = None  # type: ignore[assignment]


def _extension_paths(extensions: Optional[CustomExtensionsType]) -> List[str]:
    if extensions is None:
        return []
    if isinstance(extensions, (str, os.PathLike)):
        extensions = [extensions]
    return [os.fspath(e) for e in extensions]


class InferenceSession:
    """Loads graphs for execution on a set of devices.

    Args:
        num_threads: CPU threads for kernels (default: one per available core).
        devices: devices to run on (default: the CPU). Graph device refs map onto them:
            ``cpu`` refs to the host, ``gpu:N`` refs to the Nth accelerator in this list.
        custom_extensions: plugin shared objects (custom ops, extra kernels) to load.
        cpu_fallback: run a node that an accelerator has no kernel for on the CPU instead
            (its operands are copied; ``Model.placement()`` tells which nodes did). With
            ``False`` such a graph fails to load, naming the node.
        graph_replay: record a model's first execution for each set of input shapes as a
            device graph (CUDA/HIP graphs) and replay it for the next ones with those shapes,
            when every node of the model runs on one accelerator (docs/runtime.md).

    For convenience ``InferenceSession([device, ...])`` (devices first) is also accepted.
    A session can be closed (``close()`` or ``with``); models it loaded keep working.
    """

    def __init__(self, num_threads: Optional[int] = None,
                 devices: Optional[Iterable[Device]] = None, *,
                 custom_extensions: Optional[CustomExtensionsType] = None,
                 cpu_fallback: bool = True, graph_replay: bool = False) -> None:
        self._handle: Optional[int] = None
        if num_threads is not None and not isinstance(num_threads, int):
            if devices is not None and not isinstance(devices, int):
                raise TypeError("num_threads must be an int")
            num_threads, devices = devices, num_threads  # devices given first
        if num_threads is not None and (isinstance(num_threads, bool) or num_threads < 0):
            raise ValueError(f"num_threads must be a non-negative int, got {num_threads!r}")
        device_list = list(devices) if devices is not None else [CPU()]
        for device in device_list:
            if not isinstance(device, Device):
                raise TypeError(f"devices must be kiln.driver.Device objects, got "
                                f"{type(device).__name__}")
        if not device_list:
            raise ValueError("an InferenceSession needs at least one device")
        self._devices = device_list
        self._runtime: Runtime = get_runtime()
        specs = [_capi.encode(d.spec) for d in device_list]
        extensions = [_capi.encode_path(p) for p in _extension_paths(custom_extensions)]
        c_specs = _capi.char_p_array(specs)
        c_extensions = _capi.char_p_array(extensions)
        options = _capi.new_struct(_capi.SessionOptions)
        options.devices = c_specs
        options.num_devices = len(specs)
        options.num_threads = int(num_threads or 0)
        options.custom_extensions = c_extensions
        options.num_custom_extensions = len(extensions)
        options.disable_cpu_fallback = 0 if cpu_fallback else 1
        options.enable_graph_replay = 1 if graph_replay else 0
        out = c_void_p()
        lib.kiln_session_create(self._runtime.handle, byref(options), byref(out))
        self._handle = out.value
        self._finalizer = weakref.finalize(self, lib.kiln_session_destroy, out.value)

    def _live(self) -> int:
        if self._handle is None:
            raise KilnRuntimeError("this InferenceSession is closed")
        return self._handle

    @property
    def devices(self) -> List[Device]:
        """The session's devices."""
        return list(self._devices)

    def load(self, model: Union[Graph, str, Path], *,
             custom_extensions: Optional[CustomExtensionsType] = None,
             custom_ops_path: Optional[str] = None,
             weights_registry: Optional[Mapping[str, Any]] = None) -> "Model":
        """Compiles a graph (a :class:`~kiln.graph.Graph` or a ``.kiln`` file path) into a
        :class:`Model`.

        Args:
            model: the graph or its file.
            custom_extensions: plugins to load first (into the process-wide runtime).
            custom_ops_path: same as one custom extension (MAX's older name).
            weights_registry: weight name -> data (NumPy array, kiln Tensor, or any DLPack
                producer) for weights whose data is not in the graph; overrides data that is.
                Arrays are used without copying when possible and kept alive by the model.

        Raises:
            FileNotFoundError: the file does not exist.
            KilnError: the graph is invalid, a weight is missing, no kernel exists for an op
                on the session's devices, and so on (the message names the node).
        """
        handle = self._live()
        extensions = _extension_paths(custom_extensions)
        if custom_ops_path is not None:
            extensions.append(os.fspath(custom_ops_path))
        for path in extensions:
            self._runtime.load_plugin(path)
        if isinstance(model, Graph):
            graph = model
        elif isinstance(model, (str, os.PathLike)):
            graph = Graph.load(model)
        else:
            raise TypeError(f"load() takes a Graph or a path, got {type(model).__name__}")

        names: List[bytes] = []
        tensors: List[Tensor] = []
        for name, data in (weights_registry or {}).items():
            names.append(_capi.encode(name))
            tensors.append(_as_tensor(data, f"weight '{name}'"))
        options = _capi.new_struct(_capi.LoadOptions)
        c_names = _capi.char_p_array(names)
        c_tensors = (c_void_p * max(len(tensors), 1))(*[t._live() for t in tensors])
        options.weight_names = c_names
        options.weights = c_tensors
        options.num_weights = len(tensors)
        out = c_void_p()
        lib.kiln_session_load(handle, graph._live(), byref(options), byref(out))
        return Model._wrap(out.value, self)  # type: ignore[arg-type]

    def set_log_level(self, level: Union[str, LogLevel]) -> None:
        """Sets kiln's process-wide log level (``"debug"``, ``"info"``, ``"warning"`` ...)."""
        set_log_level(level)

    def close(self) -> None:
        """Releases the session. Models it loaded stay usable; further loads raise."""
        if self._handle is not None:
            self._handle = None
            self._finalizer()

    def __enter__(self) -> "InferenceSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else ", ".join(str(d) for d in self._devices)
        return f"InferenceSession({state})"


def set_log_level(level: Union[str, int, LogLevel]) -> None:
    """Sets kiln's process-wide log level: a name (``trace`` ... ``critical``, ``off``) or a
    kiln_log_level number."""
    if isinstance(level, LogLevel):
        level = level.value
    if isinstance(level, str):
        try:
            code = _LOG_LEVEL_CODES[level.lower()]
        except KeyError:
            raise ValueError(f"unknown log level {level!r}") from None
    else:
        code = int(level)
    lib.kiln_set_log_level(code)


class Model:
    """A compiled graph, ready to execute. Made by :meth:`InferenceSession.load`.

    ``execute`` and ``__call__`` are thread safe (the GIL is released while kiln runs).
    """

    _handle: Optional[int]

    def __init__(self) -> None:
        raise TypeError("Model objects are made by InferenceSession.load()")

    @classmethod
    def _wrap(cls, handle: int, session: InferenceSession) -> "Model":
        model = cls.__new__(cls)
        model._handle = handle
        model._session = session
        model._runtime = session._runtime
        model._finalizer = weakref.finalize(model, lib.kiln_model_destroy, handle)
        model._inputs = model._read_specs(lib.kiln_model_get_input_count,
                                          lib.kiln_model_get_input_spec)
        model._outputs = model._read_specs(lib.kiln_model_get_output_count,
                                           lib.kiln_model_get_output_spec)
        return model

    def _read_specs(self, count_fn: Any, get_fn: Any) -> List[TensorSpec]:
        specs = []
        for index in range(count_fn(self._handle)):
            spec = _capi.new_struct(_capi.TensorSpecC)
            get_fn(self._handle, index, byref(spec))
            specs.append(TensorSpec._from_c(spec))
        return specs

    def _live(self) -> int:
        if self._handle is None:
            raise KilnRuntimeError("this Model is closed")
        return self._handle

    @property
    def input_metadata(self) -> List[TensorSpec]:
        """Name, dtype and shape (None for symbolic dims) of each input."""
        return list(self._inputs)

    @property
    def output_metadata(self) -> List[TensorSpec]:
        """Name, dtype and shape (None for symbolic dims) of each output."""
        return list(self._outputs)

    def placement(self) -> List[Dict[str, Any]]:
        """Where each node of the loaded model runs, after the graph passes: one dict per node
        with ``op``, ``name``, ``device`` (a session device spec), ``kernel`` and ``plugin``
        (empty when the executor runs the node itself) and ``passed_over`` (why each other
        candidate kernel was not chosen; a CPU fallback is its first line)."""
        handle = self._live()
        nodes = []
        for i in range(lib.kiln_model_get_node_count(handle)):
            info = _capi.new_struct(_capi.ModelNodeInfo)
            lib.kiln_model_get_node_info(handle, i, byref(info))
            rejected = _capi.decode(info.rejected)
            nodes.append({"op": _capi.decode(info.op), "name": _capi.decode(info.name),
                          "device": _capi.decode(info.device),
                          "kernel": _capi.decode(info.kernel),
                          "plugin": _capi.decode(info.plugin),
                          "passed_over": rejected.split("\n") if rejected else []})
        return nodes

    def execute(self, *args: Any) -> List[Tensor]:
        """Runs the model on one value per input, in order, and returns the outputs.

        Inputs may be kiln Tensors (on any device; copied to the input's device when
        needed), NumPy arrays (used without copying when contiguous), DLPack producers
        (PyTorch tensors, ...), or Python/NumPy scalars for rank-0 inputs.

        Raises:
            TypeError: wrong number of inputs, or an input of an unsupported kind.
            ValueError: an input's dtype or shape does not match (kiln's message names it).
        """
        handle = self._live()
        if len(args) != len(self._inputs):
            names = ", ".join(spec.name for spec in self._inputs)
            raise TypeError(f"the model takes {len(self._inputs)} inputs ({names}), "
                            f"{len(args)} were given")
        tensors = [_as_input(arg, spec) for arg, spec in zip(args, self._inputs)]
        c_inputs = (c_void_p * max(len(tensors), 1))(*[t._live() for t in tensors])
        count = len(self._outputs)
        c_outputs = (c_void_p * max(count, 1))()
        lib.kiln_model_execute(handle, c_inputs, len(tensors), c_outputs, count)
        return [Tensor._wrap(c_outputs[i], self._runtime) for i in range(count)]

    def __call__(self, *args: Any, **kwargs: Any) -> List[Tensor]:
        """Like :meth:`execute`, also taking inputs by name (``model(x=array)``)."""
        if not kwargs:
            return self.execute(*args)
        names = [spec.name for spec in self._inputs]
        if len(args) > len(names):
            raise TypeError(f"the model takes {len(names)} inputs, {len(args)} were given")
        values: Dict[str, Any] = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"the model has no input named {name!r} (inputs: "
                                f"{', '.join(names)})")
            if name in values:
                raise TypeError(f"input {name!r} was given twice")
            values[name] = value
        missing = [name for name in names if name not in values]
        if missing:
            raise TypeError(f"missing model inputs: {', '.join(missing)}")
        return self.execute(*[values[name] for name in names])

    def close(self) -> None:
        """Releases the model; further calls raise."""
        if self._handle is not None:
            self._handle = None
            self._finalizer()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._handle is None:
            return "Model(closed)"
        return f"Model(inputs={self._inputs}, outputs={self._outputs})"


def _as_tensor(value: Any, what: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor.from_numpy(value)
    if hasattr(value, "__dlpack__"):
        return Tensor.from_dlpack(value)
    raise TypeError(f"{what}: expected a kiln Tensor, a NumPy array or a DLPack producer, got "
                    f"{type(value).__name__}")


def _as_buffer_input(value: Any, spec: TensorSpec) -> Tensor:
    """A buffer input is written in place, so it must be a kiln Tensor the caller keeps (a
    NumPy array or scalar would be converted, and the writes would be lost)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"input '{spec.name}' is a mutable buffer, which the model updates in "
                        f"place: pass a kiln Tensor (e.g. Tensor.from_numpy(array)), not "
                        f"{type(value).__name__}")
    if value.dtype != spec.dtype:
        raise ValueError(f"input '{spec.name}' expects {spec.dtype.name}, got "
                         f"{value.dtype.name}")
    if not value.is_contiguous:
        raise ValueError(f"input '{spec.name}' is a mutable buffer, updated in place: pass a "
                         "contiguous tensor")
    return value


def _as_input(value: Any, spec: TensorSpec) -> Tensor:
    if spec.is_buffer:
        return _as_buffer_input(value, spec)
    if isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, np.ndarray):
        if spec.shape:
            raise ValueError(f"input '{spec.name}' has rank {len(spec.shape)}; a scalar "
                             "was given")
        return Tensor.scalar(value, spec.dtype)
    tensor = _as_tensor(value, f"input '{spec.name}'")
    if tensor.dtype != spec.dtype:
        raise ValueError(f"input '{spec.name}' expects {spec.dtype.name}, got "
                         f"{tensor.dtype.name}")
    if not tensor.is_contiguous:
        tensor = tensor.contiguous()
    return tensor
