"""Ops that move elements without computing: reshape, transpose, permute, broadcast,
concatenation, slicing and gathering (plus flatten, squeeze, unsqueeze and stack, composed of
them)."""

from __future__ import annotations

import operator
from typing import Any, Iterable, List, Optional, Tuple

import numpy as np

from ...dtype import DType
from ..type import Dim, DimLike, StaticDim, shape_attr
from ..value import TensorValue, TensorValueLike
from ._common import as_value, check_axis, emit1, graph_of, tensor_operand

__all__ = [
    "broadcast_to", "concat", "flatten", "gather", "permute", "reshape", "slice_tensor",
    "squeeze", "stack", "transpose", "unsqueeze",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def reshape(x: TensorValueLike, shape: Iterable[DimLike]) -> TensorValue:
    """The elements of ``x`` in C order, in a new shape with the same element count.

    ``shape`` holds ints, symbolic names/expressions or :class:`Dim`; one entry may be -1,
    which takes the size that makes the element counts match.
    """
    value = tensor_operand("reshape", x)
    return emit1("reshape", [value], {"shape": shape_attr(list(shape))})


def flatten(x: TensorValueLike, start_dim: int = 0, end_dim: int = -1) -> TensorValue:
    """Merges dims ``start_dim`` through ``end_dim`` (inclusive) into one (composed:
    ``reshape``)."""
    value = tensor_operand("flatten", x)
    dims = list(value.shape)
    if not dims:
        return reshape(value, [1])
    rank = len(dims)
    start = start_dim + rank if start_dim < 0 else start_dim
    end = end_dim + rank if end_dim < 0 else end_dim
    if not 0 <= start <= end < rank:
        raise IndexError(f"flatten: dims {start_dim}..{end_dim} out of range for rank {rank}")
    merged = dims[start:end + 1]
    if all(isinstance(d, StaticDim) for d in merged):
        size: DimLike = int(np.prod([d.dim for d in merged], dtype=np.int64))  # type: ignore
    else:
        size = -1
    return reshape(value, dims[:start] + [size] + dims[end + 1:])


def squeeze(x: TensorValueLike, axis: int) -> TensorValue:
    """Removes dim ``axis``, which must have size 1 (composed: ``reshape``)."""
    value = tensor_operand("squeeze", x)
    dims = list(value.shape)
    index = _normalize_axis("squeeze", axis, len(dims))
    if dims[index] != 1:
        raise ValueError(f"squeeze: dim {axis} has size {dims[index]}, not 1")
    return reshape(value, dims[:index] + dims[index + 1:])


def unsqueeze(x: TensorValueLike, axis: int) -> TensorValue:
    """Inserts a dim of size 1 at ``axis`` (``-1`` appends) (composed: ``reshape``)."""
    value = tensor_operand("unsqueeze", x)
    dims: List[Any] = list(value.shape)
    index = _normalize_axis("unsqueeze", axis, len(dims) + 1)
    return reshape(value, dims[:index] + [1] + dims[index:])


def transpose(x: TensorValueLike, axis_1: int, axis_2: int) -> TensorValue:
    """Swaps dims ``axis_1`` and ``axis_2`` (negative counts from the end)."""
    value = tensor_operand("transpose", x)
    return emit1("transpose", [value], {"axis_1": check_axis("transpose", axis_1),
                                        "axis_2": check_axis("transpose", axis_2)})


def permute(x: TensorValueLike, dims: List[int]) -> TensorValue:
    """Reorders every dim: output dim ``i`` is input dim ``dims[i]``."""
    value = tensor_operand("permute", x)
    return emit1("permute", [value], {"dims": [check_axis("permute", d) for d in dims]})


def broadcast_to(x: TensorValueLike, shape: Iterable[DimLike],
                 out_dims: Optional[Iterable[DimLike]] = None) -> TensorValue:
    """``x`` repeated along dims of size 1 (and new leading dims) to ``shape``, NumPy-style.

    ``shape`` holds ints, symbolic names/expressions or :class:`Dim`. A tensor-valued shape
    (MAX's ``out_dims`` form) is not supported.
    """
    if isinstance(shape, TensorValue):
        raise NotImplementedError("broadcast_to: a shape given as a tensor is not supported")
    value = tensor_operand("broadcast_to", x)
    return emit1("broadcast_to", [value], {"shape": shape_attr(list(shape))})


def concat(original_vals: Iterable[TensorValueLike], axis: int = 0) -> TensorValue:
    """Joins tensors of one dtype and rank along ``axis``; the other dims must match.
    Arrays among the inputs become constants of the first TensorValue's dtype."""
    items = list(original_vals)
    if not items:
        raise ValueError("concat needs at least one tensor")
    anchors = [v for v in items if isinstance(v, TensorValue)]
    if not anchors:
        raise TypeError("concat: at least one input must be a TensorValue")
    graph = graph_of(items)
    first = as_value(graph, anchors[0])
    values = [as_value(graph, v, first.dtype, first.device) for v in items]
    return emit1("concat", values, {"axis": check_axis("concat", axis)})


def stack(values: Iterable[TensorValueLike], axis: int = 0) -> TensorValue:
    """Joins tensors of one shape along a new dim ``axis`` (composed: ``unsqueeze`` and
    ``concat``)."""
    items = list(values)
    if not items:
        raise ValueError("stack needs at least one tensor")
    anchors = [v for v in items if isinstance(v, TensorValue)]
    if not anchors:
        raise TypeError("stack: at least one input must be a TensorValue")
    graph = graph_of(items)
    first = as_value(graph, anchors[0])
    converted = [as_value(graph, v, first.dtype, first.device) for v in items]
    return concat([unsqueeze(v, axis) for v in converted], axis=axis)


def gather(input: TensorValueLike, indices: TensorValueLike, axis: int = -1) -> TensorValue:  # noqa: A002
    """Picks slices of ``input`` along ``axis`` by ``indices`` (int32 or int64; arrays become
    int64 constants). The result's shape is ``input.shape[:axis] + indices.shape +
    input.shape[axis+1:]`` (``numpy.take``)."""
    value = tensor_operand("gather", input)
    graph = graph_of([value, indices])
    index_value = as_value(graph, indices, None if isinstance(indices, TensorValue)
                           else DType.int64, value.device)
    return emit1("gather", [value, index_value], {"axis": check_axis("gather", axis)})


# -- slicing ---------------------------------------------------------------------------------
def slice_tensor(x: TensorValueLike, indices: Any) -> TensorValue:
    """Basic NumPy indexing of a tensor: ``x[indices]``.

    ``indices`` is a sequence whose entries are ints (select one position and drop the
    dim), slices (with any step, negative included), one ``...`` (all remaining dims) and
    ``None`` (a new dim of size 1). Missing trailing entries select whole dims. Tensor
    indices are not supported here (use :func:`gather`).
    """
    value = tensor_operand("slice_tensor", x)
    items = tuple(indices) if isinstance(indices, (list, tuple)) else (indices,)
    expanded = _expand_ellipsis(items, value.rank)
    dims = list(value.shape)
    starts: List[int] = []
    stops: List[int] = []
    steps: List[int] = []
    squeeze_axes: List[int] = []
    # Entries of the final shape: None marks a new axis, an int the slice_tensor output axis.
    layout: List[Optional[int]] = []
    out_axis = 0
    axis = 0
    for item in expanded:
        if item is None:
            layout.append(None)
            continue
        start, stop, step, drop = _slice_bounds(item, dims[axis], axis)
        starts.append(start)
        stops.append(stop)
        steps.append(step)
        if drop:
            squeeze_axes.append(axis)
        else:
            layout.append(out_axis)
            out_axis += 1
        axis += 1
    attrs = {"starts": starts, "stops": stops, "steps": steps}
    if squeeze_axes:
        attrs["squeeze"] = squeeze_axes
    result = emit1("slice_tensor", [value], attrs)
    if any(entry is None for entry in layout):
        sliced = list(result.shape)
        target: List[Any] = [1 if entry is None else sliced[entry] for entry in layout]
        result = reshape(result, target)
    return result


def _expand_ellipsis(items: Tuple[Any, ...], rank: int) -> List[Any]:
    ellipses = sum(1 for item in items if item is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    if used > rank:
        raise IndexError(f"too many indices: the tensor has rank {rank}, {used} were given")
    expanded: List[Any] = []
    for item in items:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (rank - used))
        else:
            expanded.append(item)
    if not ellipses:
        expanded.extend([slice(None)] * (rank - used))
    return expanded


def _slice_bounds(item: Any, dim: Dim, axis: int) -> Tuple[int, int, int, bool]:
    """(start, stop, step, drop) of one index entry, in slice_tensor's encoding."""
    if isinstance(item, TensorValue):
        raise TypeError("slice_tensor: tensor indices are not supported; use ops.gather")
    if isinstance(item, slice):
        step = 1 if item.step is None else _as_int(item.step, axis)
        if step == 0:
            raise ValueError(f"slice step cannot be zero (axis {axis})")
        if item.start is None:
            start = 0 if step > 0 else INT64_MAX
        else:
            start = _as_int(item.start, axis)
        if item.stop is None:
            stop = INT64_MAX if step > 0 else INT64_MIN
        else:
            stop = _as_int(item.stop, axis)
        return start, stop, step, False
    position = _as_int(item, axis)
    if isinstance(dim, StaticDim) and not -dim.dim <= position < dim.dim:
        raise IndexError(f"index {position} is out of bounds for axis {axis} with size "
                         f"{dim.dim}")
    stop = INT64_MAX if position == -1 else position + 1
    return position, stop, 1, True


def _as_int(value: Any, axis: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"bool index on axis {axis} is not supported")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"index on axis {axis} must be an int, a slice, '...' or None; got "
                        f"{type(value).__name__}") from None


def _normalize_axis(op: str, axis: int, rank: int) -> int:
    axis = check_axis(op, axis)
    index = axis + rank if axis < 0 else axis
    if not 0 <= index < rank:
        raise IndexError(f"{op}: axis {axis} out of range for rank {rank}")
    return index
