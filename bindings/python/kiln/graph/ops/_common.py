"""Helpers shared by the op modules: finding the graph an op goes into, turning operands
into values (scalars and arrays become constants), and emitting nodes."""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ...dtype import DType
from .. import _emit
from ..graph import Graph
from ..type import DeviceRef, StaticDim, TensorType
from ..value import BufferValue, TensorValue
from ..weight import Weight


def graph_of(operands: Iterable[Any]) -> Graph:
    """The graph that ``operands`` belong to, else the graph being built (``with Graph``).

    Raises:
        ValueError: operands come from different graphs.
        LookupError: no operand has a graph and no graph is being built.
    """
    graphs = {}
    for operand in operands:
        if isinstance(operand, TensorValue) and not isinstance(operand, Weight):
            graphs[id(operand._graph)] = operand._graph
    current = Graph._current_or_none()
    if graphs and current is not None and all(g._encloses(current) for g in graphs.values()):
        return current  # a subgraph being built uses values of the graphs around it
    if len(graphs) > 1:
        names = ", ".join(repr(g.name) for g in graphs.values())
        raise ValueError(f"operands belong to different graphs ({names})")
    if graphs:
        return next(iter(graphs.values()))
    return Graph.current


def _infer_dtype(value: Any) -> DType:
    if isinstance(value, bool):
        return DType.bool
    if isinstance(value, int):
        return DType.int64
    if isinstance(value, float):
        return DType.float32
    return DType.from_numpy(np.asarray(value).dtype)


def as_value(graph: Graph, value: Any, dtype: Optional[DType] = None,
             device: Optional[DeviceRef] = None) -> TensorValue:
    """``value`` as a TensorValue of ``graph``: values pass through (weights are added to the
    graph), anything else becomes a constant of ``dtype`` (inferred from the data when None:
    NumPy dtypes are kept, Python bool/int/float become bool/int64/float32)."""
    if isinstance(value, TensorValue):
        bound = value._bound(graph)
        if bound._graph is not graph:
            raise ValueError("a value of another graph was used; values cannot cross graphs")
        return bound
    if isinstance(value, BufferValue):
        raise TypeError("a BufferValue was used as a tensor; load it with ops.buffer_load "
                        "(or buffer[...]) first")
    from ...driver import Tensor  # noqa: PLC0415

    if isinstance(value, StaticDim):
        value = value.dim
    if isinstance(value, Tensor):
        return _emit.constant_value(graph, value, dtype or value.dtype, device)
    if dtype is None:
        dtype = _infer_dtype(value)
    return _emit.constant_value(graph, value, dtype, device)


def _check_operand(value: Any, op: str) -> None:
    if isinstance(value, BufferValue):
        raise TypeError(f"{op}: a BufferValue was used as a tensor; load it with "
                        "ops.buffer_load (or buffer[...]) first")
    if isinstance(value, (TensorValue, int, float, bool, np.ndarray, np.generic, list, tuple,
                          StaticDim)):
        return
    from ...driver import Tensor  # noqa: PLC0415

    if isinstance(value, Tensor):
        return
    raise TypeError(f"{op}: unsupported operand of type {type(value).__name__}")


def binary_operands(op: str, lhs: Any, rhs: Any) -> Tuple[TensorValue, TensorValue]:
    """Both operands as values of one graph. A non-value operand becomes a constant of the
    other operand's dtype and device (MAX's promotion of Python and NumPy scalars)."""
    _check_operand(lhs, op)
    _check_operand(rhs, op)
    lhs_is_value = isinstance(lhs, TensorValue)
    rhs_is_value = isinstance(rhs, TensorValue)
    if not (lhs_is_value or rhs_is_value):
        raise TypeError(f"{op}: at least one operand must be a TensorValue (got "
                        f"{type(lhs).__name__} and {type(rhs).__name__})")
    graph = graph_of([lhs, rhs])
    if lhs_is_value and rhs_is_value:
        return as_value(graph, lhs), as_value(graph, rhs)
    anchor = as_value(graph, lhs if lhs_is_value else rhs)
    other = as_value(graph, rhs if lhs_is_value else lhs, anchor.dtype, anchor.device)
    return (anchor, other) if lhs_is_value else (other, anchor)


def tensor_operand(op: str, value: Any) -> TensorValue:
    """A single operand that must already be a value (a TensorValue or Weight)."""
    if isinstance(value, BufferValue):
        raise TypeError(f"{op}: a BufferValue was used as a tensor; load it with "
                        "ops.buffer_load (or buffer[...]) first")
    if not isinstance(value, TensorValue):
        raise TypeError(f"{op}: expected a TensorValue, got {type(value).__name__}")
    return as_value(graph_of([value]), value)


def emit(op: str, inputs: Sequence[TensorValue], attrs: Optional[Mapping[str, Any]] = None,
         output_types: Optional[Sequence[TensorType]] = None,
         device: Optional[DeviceRef] = None) -> List[TensorValue]:
    """Adds the node to the inputs' graph (or the current graph when there are none)."""
    graph = graph_of(inputs) if inputs else Graph.current
    return _emit.add_op(graph, op, inputs, attrs, output_types, device)


def emit1(op: str, inputs: Sequence[TensorValue],
          attrs: Optional[Mapping[str, Any]] = None) -> TensorValue:
    return emit(op, inputs, attrs)[0]


def check_axis(op: str, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return int(axis)
