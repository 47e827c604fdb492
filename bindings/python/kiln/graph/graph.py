"""The :class:`Graph` being built: inputs, ops (through ``kiln.graph.ops``), weights, outputs,
and saving to / loading from ``.kiln`` files.

Two ways to build one, as in MAX::

    with Graph("double", input_types=[TensorType(DType.float32, ["n"])]) as g:
        g.output(g.inputs[0] * 2)

    g = Graph("double", lambda x: x * 2, input_types=[TensorType(DType.float32, ["n"])])
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from ctypes import byref, c_size_t, c_void_p
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from .. import _capi
from .._capi import lib
from .._errors import KilnRuntimeError
from . import _emit
from .type import TensorType, Type
from .value import TensorValue, Value, make_value
from .weight import Weight

__all__ = ["Graph"]

_state = threading.local()


def _stack() -> List["Graph"]:
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


class _CurrentGraph:
    """``Graph.current``: the innermost graph being built on this thread."""

    def __get__(self, instance: Any, owner: type) -> "Graph":
        graph = owner._current_or_none()
        if graph is None:
            raise LookupError("no graph is being built: use `with Graph(...) as g:` or pass "
                              "a forward function to Graph()")
        return graph


class Graph:
    """A kiln graph under construction.

    Args:
        name: the graph's name.
        forward: optional callable; called with the graph inputs (then ``*args`` and
            ``**kwargs``) inside the graph, and its result (a value, a tuple/list of values,
            or None) becomes the outputs.
        input_types: a :class:`TensorType` per graph input.
        path: a ``.kiln`` file to load instead of building (see also :meth:`load`).
        input_names: names of the inputs (default ``input0``, ``input1``, ...), which
            ``Model.__call__`` accepts as keywords.
        custom_extensions: plugin shared objects with the custom ops this graph uses; loaded
            into the process-wide runtime now.
    """

    current = _CurrentGraph()

    def __init__(self, name: str = "graph", forward: Optional[Callable[..., Any]] = None,
                 input_types: Iterable[Type] = (), path: Optional[Union[str, os.PathLike]] = None,
                 *args: Any, custom_extensions: Sequence[Union[str, os.PathLike]] = (),
                 input_names: Optional[Sequence[str]] = None, **kwargs: Any) -> None:
        self._handle: Optional[int] = None
        self._weights: Dict[str, tuple] = {}
        self._outputs: List[TensorValue] = []
        self._init_subgraph_state(None)
        if custom_extensions:
            from .._runtime import get_runtime  # noqa: PLC0415

            for extension in custom_extensions:
                get_runtime().load_plugin(os.fspath(extension))
        if path is not None:
            out = c_void_p()
            lib.kiln_graph_load(_capi.encode_path(path), byref(out))
            self._adopt(out.value)  # type: ignore[arg-type]
            return
        out = c_void_p()
        lib.kiln_graph_create(_capi.encode(name), byref(out))
        self._adopt(out.value)  # type: ignore[arg-type]
        types = list(input_types)
        names = list(input_names) if input_names is not None else [
            f"input{i}" for i in range(len(types))]
        if len(names) != len(types):
            raise ValueError(f"{len(names)} input names for {len(types)} input types")
        self._inputs = [self._add_input(n, t) for n, t in zip(names, types)]
        if forward is not None:
            with self:
                result = forward(*self._inputs, *args, **kwargs)
                if result is not None:
                    if isinstance(result, (list, tuple)):
                        self.output(*result)
                    else:
                        self.output(result)

    def _adopt(self, handle: int) -> None:
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.kiln_graph_destroy, handle)
        self._inputs = self._read_values(lib.kiln_graph_get_input_count,
                                         lib.kiln_graph_get_input)
        self._outputs = self._read_values(lib.kiln_graph_get_output_count,
                                          lib.kiln_graph_get_output)

    def _read_values(self, count_fn: Any, get_fn: Any) -> List[TensorValue]:
        values = []
        for index in range(count_fn(self._handle)):
            out = c_void_p()
            get_fn(self._handle, index, byref(out))
            values.append(make_value(self, out.value, _emit.value_type(out.value)))
        return values  # type: ignore[return-value]

    def _add_input(self, name: str, input_type: Type) -> TensorValue:
        if not isinstance(input_type, TensorType):  # BufferType included
            raise TypeError(f"graph inputs are TensorTypes or BufferTypes, got "
                            f"{type(input_type).__name__}")
        c_type, keep = input_type._to_c()
        out = c_void_p()
        lib.kiln_graph_add_input(self._live(), _capi.encode(name), byref(c_type), byref(out))
        del keep
        return make_value(self, out.value, _emit.value_type(out.value))  # type: ignore

    def _live(self) -> int:
        if self._handle is None:
            raise KilnRuntimeError("this Graph was not created")
        return self._handle

    # -- building -------------------------------------------------------------------------
    def __enter__(self) -> "Graph":
        _stack().append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        stack = _stack()
        if stack and stack[-1] is self:
            stack.pop()
        elif self in stack:
            stack.remove(self)

    @classmethod
    def _current_or_none(cls) -> Optional["Graph"]:
        stack = _stack()
        return stack[-1] if stack else None

    @property
    def name(self) -> str:
        return _capi.decode(lib.kiln_graph_get_name(self._live()))

    @property
    def inputs(self) -> Sequence[TensorValue]:
        """The graph's input values."""
        return list(self._inputs)

    @property
    def outputs(self) -> Sequence[TensorValue]:
        """The values set by :meth:`output`."""
        return list(self._outputs)

    @property
    def output_types(self) -> List[TensorType]:
        """Types of the outputs."""
        return [value.type for value in self._outputs]

    def output(self, *outputs: Value) -> None:
        """Sets (replaces) the graph's outputs."""
        from .ops import _as_value  # noqa: PLC0415

        values = [_as_value(self, value) for value in outputs]
        handles = (c_void_p * max(len(values), 1))(*[v._handle for v in values])
        lib.kiln_graph_set_outputs(self._live(), handles, len(values))
        self._outputs = values

    def add_weight(self, weight: Weight, force_initial_weight_on_host: bool = True) -> TensorValue:
        """Adds ``weight`` to the graph and returns its value; adding the same weight again
        returns the same value.

        Raises:
            ValueError: another weight with the same name is already in the graph.
        """
        if not isinstance(weight, Weight):
            raise TypeError(f"add_weight takes a Weight, got {type(weight).__name__}")
        known = self._weights.get(weight.name)
        if known is not None:
            if known[0] is weight or known[0].type == weight.type and weight.value is None:
                return known[1]
            raise ValueError(f"a different weight named '{weight.name}' is already in graph "
                             f"'{self.name}'")
        keep: List[Any] = []
        desc = _emit.describe_weight(weight, keep)
        out = c_void_p()
        lib.kiln_graph_add_weight(self._live(), byref(desc), byref(out))
        value = TensorValue._make(self, out.value, _emit.value_type(out.value))  # type: ignore
        self._weights[weight.name] = (weight, value)
        return value

    # -- subgraphs --------------------------------------------------------------------------
    def _init_subgraph_state(self, parent: Optional["Graph"]) -> None:
        self._parent = parent
        # Values of enclosing graphs used here, each with the input it became: (outer, inner).
        self._captures: List[tuple] = []
        self._attached = False
        self._subgraph_count = 0

    def add_subgraph(self, name: str, forward: Optional[Callable[..., Any]] = None,
                     input_types: Iterable[Type] = (),
                     path: Optional[Union[str, os.PathLike]] = None,
                     custom_extensions: Sequence[Union[str, os.PathLike]] = ()) -> "Graph":
        """A subgraph of this graph for :func:`ops.call` (built now with ``forward`` if given,
        else inside ``with subgraph:``). Values of this graph (or of graphs enclosing it) used
        inside become extra inputs, which ``ops.call`` passes along. kiln has no chain values, so
        none is added to ``input_types``."""
        if path is not None:
            raise NotImplementedError("add_subgraph: loading a subgraph from a file is not "
                                      "supported; build it with `forward` instead")
        if custom_extensions:
            from .._runtime import get_runtime  # noqa: PLC0415

            for extension in custom_extensions:
                get_runtime().load_plugin(os.fspath(extension))
        sub = self._new_subgraph(name, list(input_types))
        if forward is not None:
            with sub:
                result = forward(*sub._inputs)
                if result is not None:
                    sub.output(*(result if isinstance(result, (list, tuple)) else [result]))
        return sub

    def _main(self) -> "Graph":
        graph = self
        while graph._parent is not None:
            graph = graph._parent
        return graph

    def _unique_subgraph_name(self, base: str) -> str:
        main = self._main()
        main._subgraph_count += 1
        return f"{base}_{main._subgraph_count}"

    def _new_subgraph(self, name: str, input_types: List[Type],
                      input_names: Optional[Sequence[str]] = None) -> "Graph":
        out = c_void_p()
        lib.kiln_graph_create_subgraph(self._live(), _capi.encode(name), byref(out))
        sub = Graph.__new__(Graph)
        sub._weights = {}
        sub._init_subgraph_state(self)  # also keeps this graph (which it points into) alive
        sub._adopt(out.value)  # type: ignore[arg-type]
        names = list(input_names) if input_names is not None else [
            f"input{i}" for i in range(len(input_types))]
        sub._inputs = [sub._add_input(n, t) for n, t in zip(names, input_types)]
        return sub

    def _encloses(self, other: "Graph") -> bool:
        """Whether ``other`` is this graph or a subgraph built inside it (at any depth)."""
        graph: Optional[Graph] = other
        while graph is not None:
            if graph is self:
                return True
            graph = graph._parent
        return False

    def _capture(self, value: TensorValue) -> TensorValue:
        """``value``, a value of an enclosing graph, as an input of this subgraph."""
        for outer, inner in self._captures:
            if outer._handle == value._handle:
                return inner
        if self._parent is None or not value._graph._encloses(self._parent):
            raise ValueError("a value of another graph was used; values cannot cross graphs")
        if self._attached:
            raise ValueError(f"subgraph '{self.name}' is already in use (called) and cannot "
                             f"take new values from outside")
        outer = value if value._graph is self._parent else self._parent._capture(value)
        inner = self._add_input("", value.type)
        self._captures.append((outer, inner))
        return inner

    def _attach(self) -> None:
        """Copies this finished subgraph into its main graph's subgraph list (once)."""
        if self._attached:
            return
        if self._parent is None:
            raise ValueError(f"graph '{self.name}' is not a subgraph: make it with "
                             f"Graph.add_subgraph")
        lib.kiln_graph_add_subgraph(self._parent._live(), self._live())
        self._attached = True

    @property
    def subgraph_count(self) -> int:
        """How many subgraphs the main graph holds."""
        return int(lib.kiln_graph_get_subgraph_count(self._live()))

    # -- metadata, introspection ----------------------------------------------------------
    def set_metadata(self, key: str, value: str) -> None:
        """Sets a string metadata entry (saved in the ``.kiln`` file)."""
        lib.kiln_graph_set_metadata(self._live(), _capi.encode(key), _capi.encode(value))

    def get_metadata(self, key: str) -> Optional[str]:
        """A metadata entry, or None."""
        raw = lib.kiln_graph_get_metadata(self._live(), _capi.encode(key))
        return None if raw is None else _capi.decode(raw)

    @property
    def nodes(self) -> List[Dict[str, Any]]:
        """The nodes, in order: op, name, input and output counts, device."""
        result = []
        for index in range(lib.kiln_graph_get_node_count(self._live())):
            info = _capi.new_struct(_capi.NodeInfo)
            lib.kiln_graph_get_node_info(self._handle, index, byref(info))
            result.append({"op": _capi.decode(info.op), "name": _capi.decode(info.name),
                           "num_inputs": int(info.num_inputs),
                           "num_outputs": int(info.num_outputs),
                           "device": _capi.decode(info.device)})
        return result

    @property
    def weights(self) -> List[Dict[str, Any]]:
        """The weights: name, dtype, shape, byte size, inline or external."""
        from ..dtype import DType  # noqa: PLC0415

        result = []
        for index in range(lib.kiln_graph_get_weight_count(self._live())):
            info = _capi.new_struct(_capi.WeightInfo)
            lib.kiln_graph_get_weight_info(self._handle, index, byref(info))
            result.append({"name": _capi.decode(info.name), "dtype": DType(info.dtype),
                           "shape": tuple(int(info.shape[i]) for i in range(info.rank)),
                           "byte_size": int(info.byte_size), "is_inline": bool(info.is_inline),
                           "external_path": _capi.decode(info.external_path)})
        return result

    # -- serialization --------------------------------------------------------------------
    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the graph to a ``.kiln`` file."""
        lib.kiln_graph_save(self._live(), _capi.encode_path(path))

    def to_bytes(self) -> bytes:
        """The graph serialized as ``.kiln`` bytes."""
        data = c_void_p()
        size = c_size_t()
        lib.kiln_graph_save_to_buffer(self._live(), byref(data), byref(size))
        try:
            return ctypes.string_at(data.value, size.value) if size.value else b""
        finally:
            lib.kiln_buffer_destroy(data)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Graph":
        """Reads a ``.kiln`` file (validated by kiln)."""
        return cls(path=path)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Graph":
        """Reads ``.kiln`` bytes; external weights resolve relative to the current folder."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("from_bytes takes bytes")
        buffer = bytes(data)
        out = c_void_p()
        lib.kiln_graph_load_from_buffer(buffer, len(buffer), byref(out))
        graph = cls.__new__(cls)
        graph._weights = {}
        graph._init_subgraph_state(None)
        graph._adopt(out.value)  # type: ignore[arg-type]
        return graph

    def __repr__(self) -> str:
        if self._handle is None:
            return "Graph(<not created>)"
        return (f"Graph({self.name!r}, inputs={[v.type for v in self._inputs]}, "
                f"outputs={self.output_types})")
