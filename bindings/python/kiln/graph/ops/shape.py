"""Ops that move elements without computing: reshape, squeeze, unsqueeze, flatten, rebind,
transpose, permute, broadcast, concatenation, stacking, splitting, tiling, padding, band masks,
slicing, gathering and scattering; plus range and shape_to_tensor, which make index-like
tensors. chunk, outer and shape_to_tensor are composed of other ops here."""

from __future__ import annotations

import operator
from typing import Any, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ...dtype import DType
from ..type import Dim, DimLike, StaticDim, shape_attr
from ..value import TensorValue, TensorValueLike
from ._common import as_value, check_axis, emit, emit1, graph_of, tensor_operand

__all__ = [
    "band_part", "broadcast_to", "chunk", "concat", "flatten", "fold", "gather", "gather_nd",
    "masked_scatter", "outer", "pad", "permute", "range", "rebind", "repeat_interleave",
    "reshape", "scatter", "scatter_nd", "shape_to_tensor", "slice_tensor", "split", "squeeze",
    "stack", "tile", "transpose", "unsqueeze",
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
    """Merges dims ``start_dim`` through ``end_dim`` (inclusive) into one whose size is their
    product (symbolic dims give a product expression). A scalar flattens to shape ``[1]``."""
    value = tensor_operand("flatten", x)
    return emit1("flatten", [value], {"start_dim": check_axis("flatten", start_dim),
                                      "end_dim": check_axis("flatten", end_dim)})


def squeeze(x: TensorValueLike, axis: int) -> TensorValue:
    """Removes dim ``axis``, which must have static size 1."""
    value = tensor_operand("squeeze", x)
    return emit1("squeeze", [value], {"axis": check_axis("squeeze", axis)})


def unsqueeze(x: TensorValueLike, axis: int) -> TensorValue:
    """Inserts a dim of size 1 at ``axis``; negative counts from the end of the result
    (``-1`` appends)."""
    value = tensor_operand("unsqueeze", x)
    return emit1("unsqueeze", [value], {"axis": check_axis("unsqueeze", axis)})


def rebind(x: TensorValueLike, shape: Iterable[DimLike], message: str = "",
           layout: Any = None) -> TensorValue:
    """``x`` with its shape asserted to be ``shape`` (same rank). Dims that differ statically
    are an error now; symbolic ones are checked when the graph runs, failing with
    ``message``. ``layout`` (MAX's filter layout for conv weights) must be None."""
    if layout is not None:
        raise NotImplementedError("rebind: a filter layout is not supported")
    value = tensor_operand("rebind", x)
    return emit1("rebind", [value], {"shape": shape_attr(list(shape)), "message": str(message)})


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
    """Joins tensors of one dtype and shape along a new dim ``axis`` (negative counts from the
    end of the result). Arrays among the inputs become constants of the first TensorValue's
    dtype."""
    items = list(values)
    if not items:
        raise ValueError("stack needs at least one tensor")
    anchors = [v for v in items if isinstance(v, TensorValue)]
    if not anchors:
        raise TypeError("stack: at least one input must be a TensorValue")
    graph = graph_of(items)
    first = as_value(graph, anchors[0])
    converted = [as_value(graph, v, first.dtype, first.device) for v in items]
    return emit1("stack", converted, {"axis": check_axis("stack", axis)})


def split(x: TensorValueLike, split_sizes: Sequence[DimLike], axis: int = 0) -> List[TensorValue]:
    """Cuts ``x`` along ``axis`` into consecutive pieces of the given sizes, which must add up
    to that dim (symbolic sizes too: ``["n", "n"]`` splits a ``2*n`` dim)."""
    value = tensor_operand("split", x)
    sizes = list(split_sizes)
    if not sizes:
        raise ValueError("split: split_sizes must not be empty")
    return emit("split", [value], {"split_sizes": shape_attr(sizes),
                                   "axis": check_axis("split", axis)})


def chunk(x: TensorValueLike, chunks: int, axis: int = 0) -> List[TensorValue]:
    """Splits ``x`` into ``chunks`` equal pieces along ``axis``; the dim must be static and a
    multiple of ``chunks`` (composed: ``split``)."""
    value = tensor_operand("chunk", x)
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    index = _normalize_axis("chunk", axis, value.rank)
    dim = value.shape[index]
    if not isinstance(dim, StaticDim):
        raise ValueError(f"chunk: dim {axis} is symbolic ({dim}); it must be static")
    if dim.dim % int(chunks) != 0:
        raise ValueError(f"chunk: dim {axis} has size {dim.dim}, not a multiple of {chunks}")
    return split(value, [dim.dim // int(chunks)] * int(chunks), axis)


def tile(x: TensorValueLike, repeats: Iterable[DimLike]) -> TensorValue:
    """``x`` copied ``repeats[i]`` times along each dim i (one entry per dim), like
    ``numpy.tile``; symbolic repeats give product dims."""
    value = tensor_operand("tile", x)
    return emit1("tile", [value], {"repeats": shape_attr(list(repeats))})


def repeat_interleave(x: TensorValueLike, repeats: Any, axis: Optional[int] = None,
                      out_dim: Optional[DimLike] = None) -> TensorValue:
    """Each element of ``x`` repeated along ``axis`` (``numpy.repeat``); with ``axis=None``
    the flattened ``x``. ``repeats`` is an int (every element the same count) or a rank-1
    int32/int64 TensorValue of per-element counts (length 1 or the axis dim); the result's
    length then depends on the data, so ``out_dim`` is required: a static size, or a new
    symbol that is bound when the graph runs. With an int, ``out_dim`` (if given) must equal
    the result's dim."""
    value = tensor_operand("repeat_interleave", x)
    if axis is None:
        value = flatten(value)
        axis = 0
    axis = check_axis("repeat_interleave", axis)
    if isinstance(repeats, TensorValue):
        if out_dim is None:
            raise ValueError("repeat_interleave: out_dim is required when repeats is a tensor")
        counts = as_value(graph_of([value, repeats]), repeats)
        return emit1("repeat_interleave", [value, counts],
                     {"axis": axis, "out_dim": shape_attr([out_dim])})
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)):
        raise TypeError(f"repeat_interleave: repeats must be an int or a TensorValue, got "
                        f"{repeats!r}")
    result = emit1("repeat_interleave", [value], {"repeats": int(repeats), "axis": axis})
    if out_dim is not None:
        dims: List[Any] = list(result.shape)
        dims[_normalize_axis("repeat_interleave", axis, result.rank)] = out_dim
        result = rebind(result, dims)
    return result


def pad(input: TensorValueLike, paddings: Iterable[int], mode: str = "constant",  # noqa: A002
        value: TensorValueLike = 0) -> TensorValue:
    """``input`` with ``paddings[2*i]`` elements before and ``paddings[2*i+1]`` after along
    each dim i, filled with ``value`` (a scalar, converted to the input's dtype). Only mode
    ``"constant"`` exists (as in MAX)."""
    x = tensor_operand("pad", input)
    pads = [_as_int(p, i // 2) for i, p in enumerate(paddings)]
    graph = graph_of([x, value])
    fill = as_value(graph, value, x.dtype, x.device)
    return emit1("pad", [x, fill], {"paddings": pads, "mode": str(mode)})


def band_part(x: TensorValueLike, num_lower: Optional[int] = None,
              num_upper: Optional[int] = None, exclude: bool = False) -> TensorValue:
    """Keeps the diagonal band of the trailing matrices of ``x`` and zeroes the rest:
    element (m, n) stays when ``m - n <= num_lower`` and ``n - m <= num_upper`` (None: no
    limit). ``exclude=True`` zeroes the band instead."""
    value = tensor_operand("band_part", x)
    attrs = {"num_lower": _band_limit("num_lower", num_lower),
             "num_upper": _band_limit("num_upper", num_upper),
             "exclude": 1 if exclude else 0}
    return emit1("band_part", [value], attrs)


def _band_limit(name: str, limit: Optional[int]) -> int:
    """A band_part limit as its attribute: -1 for None (no limit)."""
    if limit is None:
        return -1
    limit = check_axis("band_part", limit)
    if limit < 0:
        raise ValueError(f"band_part: {name} must be >= 0 or None, got {limit}")
    return limit


def range(start: TensorValueLike, stop: TensorValueLike, step: TensorValueLike,  # noqa: A001
          out_dim: Optional[DimLike] = None, device: Any = None,
          dtype: DType = DType.float32) -> TensorValue:
    """The values ``start, start + step, ...`` below ``stop`` (above, for a negative step).

    Python numbers become scalar constants of ``dtype``; TensorValues must be scalars of one
    dtype. ``out_dim`` is the length: when every bound is a number it is computed (and
    checked against ``out_dim`` if given); otherwise it is required and may be a new symbol,
    which is bound when the graph runs."""
    from ..type import DeviceRef  # noqa: PLC0415

    items = [start, stop, step]
    if device is None:
        device = DeviceRef.CPU()
    tensors = [v for v in items if isinstance(v, TensorValue)]
    if not tensors:
        values = [np.asarray(v, dtype=dtype.to_numpy()).item() for v in items]
        if values[2] == 0:
            raise ValueError("range: step must be non-zero")
        length = max(0, int(np.ceil((values[1] - values[0]) / values[2])))
        if (values[1] - values[0]) * values[2] < 0:
            raise ValueError(f"range: stop - start ({values[1] - values[0]}) and step "
                             f"({values[2]}) have different signs")
        if out_dim is not None and Dim(out_dim) != StaticDim(length):
            raise ValueError(f"range: out_dim {out_dim} does not match the {length} values")
        out_dim = length
    elif out_dim is None:
        raise ValueError("range: out_dim is required when start, stop or step is a tensor")
    graph = graph_of(items)
    anchor_dtype = tensors[0].dtype if tensors else dtype
    operands = [as_value(graph, v, anchor_dtype, device) for v in items]
    return emit1("range", operands, {"out_dim": shape_attr([out_dim])})


def shape_to_tensor(shape: Iterable[DimLike]) -> TensorValue:
    """A rank-1 int64 tensor holding the dims of ``shape``. Only static dims are supported
    (a symbolic dim's value is known only when the graph runs)."""
    dims = [Dim(d) for d in shape]
    if not all(isinstance(d, StaticDim) for d in dims):
        raise NotImplementedError(f"shape_to_tensor: symbolic dims are not supported "
                                  f"({[str(d) for d in dims]})")
    from .misc import constant  # noqa: PLC0415
    from ..type import DeviceRef  # noqa: PLC0415

    return constant(np.array([d.dim for d in dims], dtype=np.int64),  # type: ignore[union-attr]
                    DType.int64, DeviceRef.CPU())


def fold(input: TensorValueLike, output_size: Tuple[DimLike, DimLike],  # noqa: A002
         kernel_size: Tuple[int, int], stride: Any = 1, dilation: Any = 1,
         padding: Any = 0) -> TensorValue:
    """Sums sliding blocks back into an image (col2im, the inverse layout of unfold):
    ``input`` ``[N, C * kh * kw, L]`` becomes ``[N, C, output_size[0], output_size[1]]``,
    overlapping entries added. ``stride``, ``dilation`` and ``padding`` are ints or pairs; L
    must be the number of block positions they give."""
    value = tensor_operand("fold", input)

    def pair(name: str, item: Any) -> List[int]:
        items = [item, item] if isinstance(item, (int, np.integer)) else list(item)
        if len(items) != 2:
            raise ValueError(f"fold: {name} must be an int or a pair, got {item!r}")
        return [_as_int(v, i) for i, v in enumerate(items)]

    sizes = list(output_size)
    if len(sizes) != 2:
        raise ValueError(f"fold: output_size must have two entries, got {output_size!r}")
    return emit1("fold", [value], {"output_size": shape_attr(sizes),
                                   "kernel_size": pair("kernel_size", kernel_size),
                                   "stride": pair("stride", stride),
                                   "dilation": pair("dilation", dilation),
                                   "padding": pair("padding", padding)})


def outer(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """The outer product of ``lhs`` and ``rhs``, each flattened to a vector: shape
    ``[lhs elements, rhs elements]`` (composed: ``reshape`` and ``mul``)."""
    from .elementwise import mul  # noqa: PLC0415

    a = tensor_operand("outer", lhs) if isinstance(lhs, TensorValue) else None
    b = tensor_operand("outer", rhs) if isinstance(rhs, TensorValue) else None
    if a is None or b is None:
        raise TypeError("outer: both operands must be TensorValues")
    return mul(reshape(flatten(a), [-1, 1]), reshape(flatten(b), [1, -1]))


def gather(input: TensorValueLike, indices: TensorValueLike, axis: int = -1) -> TensorValue:  # noqa: A002
    """Picks slices of ``input`` along ``axis`` by ``indices`` (int32 or int64; arrays become
    int64 constants). The result's shape is ``input.shape[:axis] + indices.shape +
    input.shape[axis+1:]`` (``numpy.take``)."""
    value = tensor_operand("gather", input)
    graph = graph_of([value, indices])
    index_value = as_value(graph, indices, None if isinstance(indices, TensorValue)
                           else DType.int64, value.device)
    return emit1("gather", [value, index_value], {"axis": check_axis("gather", axis)})


def gather_nd(input: TensorValueLike, indices: TensorValueLike,  # noqa: A002
              batch_dims: int = 0) -> TensorValue:
    """Picks elements or slices of ``input`` by index tuples: the last dim of ``indices``
    (static, size k) addresses the k dims of ``input`` after its first ``batch_dims``, which
    ``input`` and ``indices`` share. Result shape: ``input.shape[:batch_dims] +
    indices.shape[batch_dims:-1] + input.shape[batch_dims + k:]``."""
    value = tensor_operand("gather_nd", input)
    index_value = _index_operand(value, indices)
    return emit1("gather_nd", [value, index_value],
                 {"batch_dims": check_axis("gather_nd", batch_dims)})


def scatter(input: TensorValueLike, updates: TensorValueLike,  # noqa: A002
            indices: TensorValueLike, axis: int = -1) -> TensorValue:
    """A copy of ``input`` in which, for every position p of ``updates``, the element at p
    with its ``axis`` coordinate replaced by ``indices[p]`` is ``updates[p]``
    (``numpy.put_along_axis``; when positions repeat, the last one in C order wins)."""
    value = tensor_operand("scatter", input)
    graph = graph_of([value, updates, indices])
    update_value = as_value(graph, updates, value.dtype, value.device)
    index_value = _index_operand(value, indices)
    return emit1("scatter", [value, update_value, index_value],
                 {"axis": check_axis("scatter", axis)})


def scatter_nd(input: TensorValueLike, updates: TensorValueLike,  # noqa: A002
               indices: TensorValueLike) -> TensorValue:
    """A copy of ``input`` with the slices addressed by the index tuples in the last dim of
    ``indices`` (size k <= rank) replaced by ``updates``, of shape ``indices.shape[:-1] +
    input.shape[k:]``. Repeated tuples: the last one wins."""
    value = tensor_operand("scatter_nd", input)
    graph = graph_of([value, updates, indices])
    update_value = as_value(graph, updates, value.dtype, value.device)
    index_value = _index_operand(value, indices)
    return emit1("scatter_nd", [value, update_value, index_value])


def masked_scatter(input: TensorValueLike, mask: TensorValueLike,  # noqa: A002
                   updates: TensorValueLike, out_dim: Optional[DimLike] = None) -> TensorValue:
    """A copy of ``input`` whose elements where ``mask`` (bool, broadcast to ``input``'s shape)
    is true are replaced, in C order, by consecutive elements of ``updates`` (flattened), which
    must have at least as many. ``out_dim`` (MAX's name for the count of true elements) is
    accepted and not needed."""
    value = tensor_operand("masked_scatter", input)
    graph = graph_of([value, mask, updates])
    mask_value = as_value(graph, mask, DType.bool if not isinstance(mask, TensorValue) else None,
                          value.device)
    update_value = as_value(graph, updates, value.dtype, value.device)
    return emit1("masked_scatter", [value, mask_value, update_value])


def _index_operand(anchor: TensorValue, indices: TensorValueLike) -> TensorValue:
    graph = graph_of([anchor, indices])
    return as_value(graph, indices, None if isinstance(indices, TensorValue) else DType.int64,
                    anchor.device)


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
