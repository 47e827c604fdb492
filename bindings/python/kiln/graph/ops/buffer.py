"""Ops on mutable buffers (graph inputs of :class:`BufferType`): buffer_load, buffer_store,
buffer_store_slice and inplace_custom.

A buffer is the caller's tensor, read and written in place when the model runs. kiln runs the
nodes of a graph in the order they were added, and its passes never drop or move a store, so
these ops take effect in program order (MAX threads a chain value through them for the same
purpose; kiln needs none).
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ...dtype import DType
from .. import _emit
from ..graph import Graph
from ..type import DeviceRef, StaticDim, TensorType, Type
from ..value import BufferValue, TensorValue, Value
from ._common import as_value
from .shape import _expand_ellipsis, _slice_bounds, broadcast_to

__all__ = ["buffer_load", "buffer_store", "buffer_store_slice", "inplace_custom"]


def _buffer_operand(op: str, value: Any) -> BufferValue:
    if not isinstance(value, BufferValue):
        raise TypeError(f"{op}: expected a BufferValue (a graph input of BufferType), got "
                        f"{type(value).__name__}")
    current = Graph._current_or_none()
    if current is not None and current is not value._graph:
        raise ValueError(f"{op}: the buffer is an input of graph {value._graph.name!r}; it "
                         f"cannot be used in graph {current.name!r}")
    return value


def _source(op: str, buffer: BufferValue, source: Any, shape: Optional[List[int]]) -> TensorValue:
    """``source`` as a tensor of the buffer's graph: data becomes a constant of the buffer's
    dtype; when the target region is static and ``source`` has another (broadcastable) shape,
    it is broadcast to it."""
    if isinstance(source, BufferValue):
        raise TypeError(f"{op}: the source is a BufferValue; load it with ops.buffer_load first")
    value = as_value(buffer._graph, source, buffer.dtype, buffer.device)
    dims = list(value.shape)
    if shape is None or dims == shape or not all(isinstance(d, StaticDim) for d in dims):
        return value
    try:
        broadcastable = list(np.broadcast_shapes(tuple(d.dim for d in dims), tuple(shape)))
    except ValueError:
        broadcastable = None
    # Anything else is left to the op's check, whose error names the op and the shapes.
    return broadcast_to(value, shape) if broadcastable == shape else value


def buffer_load(x: BufferValue) -> TensorValue:
    """A copy of the buffer's current contents as a tensor (later stores do not change it)."""
    buffer = _buffer_operand("buffer_load", x)
    return _emit.add_op(buffer._graph, "buffer_load", [buffer])[0]  # type: ignore[list-item]


def buffer_store(destination: BufferValue, source: Any) -> None:
    """Copies ``source`` (a TensorValue of the buffer's dtype and shape; a scalar or array is
    made a constant of the buffer's dtype and broadcast) into the buffer."""
    buffer = _buffer_operand("buffer_store", destination)
    static = [d.dim for d in buffer.shape] if all(
        isinstance(d, StaticDim) for d in buffer.shape) else None
    value = _source("buffer_store", buffer, source, static)
    _emit.add_op(buffer._graph, "buffer_store", [buffer, value])  # type: ignore[list-item]


def _slice_attrs(buffer: BufferValue, indices: Any) -> Tuple[dict, Optional[List[int]]]:
    """slice_tensor's attributes for ``indices`` over the buffer, and the shape of the slice
    when every dim involved is static."""
    items = tuple(indices) if isinstance(indices, (list, tuple)) else (indices,)
    plain: List[Any] = []
    for item in items:
        if item is None:
            raise IndexError("buffer_store_slice: None (a new axis) is not an index of a buffer")
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], slice):
            item = item[0]  # MAX's (slice, out_dim): the dim follows from the slice here
        if isinstance(item, (TensorValue, BufferValue)):
            raise TypeError("buffer_store_slice: tensor indices are not supported; use ints, "
                            "slices and '...'")
        plain.append(item)
    dims = list(buffer.shape)
    expanded = _expand_ellipsis(tuple(plain), buffer.rank)
    starts: List[int] = []
    stops: List[int] = []
    steps: List[int] = []
    squeeze: List[int] = []
    shape: Optional[List[int]] = []
    for axis, item in enumerate(expanded):
        start, stop, step, drop = _slice_bounds(item, dims[axis], axis)
        starts.append(start)
        stops.append(stop)
        steps.append(step)
        if drop:
            squeeze.append(axis)
        elif shape is not None and isinstance(dims[axis], StaticDim):
            shape.append(len(range(*slice(start, stop, step).indices(dims[axis].dim))))
        else:
            shape = None
    attrs: dict = {"starts": starts, "stops": stops, "steps": steps}
    if squeeze:
        attrs["squeeze"] = squeeze
    return attrs, shape


def buffer_store_slice(destination: BufferValue, source: Any, indices: Any) -> None:
    """Copies ``source`` into the slice ``destination[indices]`` of the buffer.

    ``indices`` are as in basic NumPy indexing: ints (select one position), slices (any
    step, negative included), one ``...``; missing trailing entries select whole dims.
    ``source`` must have the slice's dtype and shape (a scalar or array is made a constant of
    the buffer's dtype and broadcast).
    """
    buffer = _buffer_operand("buffer_store_slice", destination)
    attrs, shape = _slice_attrs(buffer, indices)
    value = _source("buffer_store_slice", buffer, source, shape)
    _emit.add_op(buffer._graph, "buffer_store_slice", [buffer, value],  # type: ignore[list-item]
                 attrs)


def inplace_custom(name: str, device: Optional[DeviceRef], values: Sequence[Value],
                   out_types: Optional[Sequence[Type]] = None,
                   parameters: Optional[Mapping[str, Union[bool, int, float, str, DType]]] = None
                   ) -> List[Value]:
    """A node running custom op ``name`` from a plugin that writes its buffer operands in
    place (and may also have outputs, typed by ``out_types``).

    Args:
        name: the op name the plugin registered.
        device: where the op runs (None: that of its first operand); buffers are written
            where they live, so it must be their device.
        values: the op's operands: BufferValues (written in place; at least one) and
            TensorValues.
        out_types: the type of each output, if the op has any.
        parameters: attributes passed to the kernel (bool, int, float, str or DType).

    Returns:
        One TensorValue per entry of ``out_types`` (none by default).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("inplace_custom: the op needs a name")
    if device is not None and not isinstance(device, DeviceRef):
        raise TypeError(f"inplace_custom: device must be a DeviceRef, got "
                        f"{type(device).__name__}")
    inputs = list(values)
    buffers = [v for v in inputs if isinstance(v, BufferValue)]
    if not buffers:
        raise ValueError(f"inplace_custom '{name}': values must include a BufferValue (the "
                         "operands the kernel writes in place); use ops.custom otherwise")
    for buffer in buffers:
        _buffer_operand(f"inplace_custom '{name}'", buffer)
    graph = buffers[0]._graph
    if any(b._graph is not graph for b in buffers):
        raise ValueError(f"inplace_custom '{name}': the buffers belong to different graphs")
    bound: List[Any] = []
    for v in inputs:
        if isinstance(v, BufferValue):
            bound.append(v)
        elif isinstance(v, TensorValue):
            bound.append(as_value(graph, v))
        else:
            raise TypeError(f"inplace_custom '{name}': values must be BufferValues or "
                            f"TensorValues, got {type(v).__name__}")
    types = list(out_types or [])
    if not all(isinstance(t, TensorType) for t in types):
        raise TypeError(f"inplace_custom '{name}': out_types must be TensorTypes")
    return list(_emit.add_op(graph, name, bound, parameters, types, device))
