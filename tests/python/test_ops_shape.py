"""Shape and data-movement ops (squeeze, unsqueeze, flatten, rebind, stack, split, chunk,
tile, repeat_interleave, pad, band_part, range, outer, shape_to_tensor, and the symbolic
shapes of concat/reshape/transpose/permute/broadcast_to) run on the CPU plugin and compared
with NumPy: every dtype class (moving elements is exact, so results must match bit for bit),
rank 0, size-0 dims, negative axes, non-contiguous (transposed) inputs, symbolic and
algebraic dims in type inference, and error messages that name the op and the reason."""

from __future__ import annotations

from typing import Any, List

import numpy as np
import pytest

from conftest import HAVE_ML_DTYPES, random_array, rng, run_graph
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, ops

# Every dtype MAX allows for data movement, one of each storage size and class at least.
ALL_DTYPES = ([DType.float32, DType.float16, DType.float64, DType.int8, DType.int16,
               DType.int32, DType.int64, DType.uint8, DType.uint16, DType.uint32, DType.uint64,
               DType.bool] + ([DType.bfloat16] if HAVE_ML_DTYPES else []))
FEW_DTYPES = [DType.float32, DType.int64, DType.uint8, DType.bool] + (
    [DType.bfloat16] if HAVE_ML_DTYPES else [])


def _data(shape, dtype: DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, rng(seed), low=-50, high=50)


def _same(actual: np.ndarray, expected: np.ndarray) -> None:
    """Exact: data movement never changes an element (NaN-free data, so == is bitwise)."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected)


def _type_of(forward, *types: TensorType) -> List[Any]:
    """The output shapes (as strings) of a graph built over ``types``."""
    graph = Graph("types", forward, input_types=list(types))
    return [[str(d) for d in out.type.shape] for out in graph.outputs]


def _error(forward, *types: TensorType) -> str:
    with pytest.raises(Exception) as info:
        Graph("bad", forward, input_types=list(types))
    return str(info.value)


# -- squeeze / unsqueeze / flatten ---------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_squeeze_unsqueeze_flatten_dtypes(session, dtype: DType) -> None:
    x = _data((2, 1, 3, 4), dtype)
    sq, un, fl, fl_mid = run_graph(session, lambda v: (
        ops.squeeze(v, -3), ops.unsqueeze(v, -1), ops.flatten(v), ops.flatten(v, 1, 2)), [x])
    _same(sq, np.squeeze(x, 1))
    _same(un, np.expand_dims(x, -1))
    _same(fl, x.reshape(-1))
    _same(fl_mid, x.reshape(2, 3, 4))


@pytest.mark.parametrize("shape,axis", [((), 0), ((), -1), ((0, 3), 1), ((3,), -2)])
def test_unsqueeze_shapes(session, shape, axis) -> None:
    x = _data(shape, DType.float32)
    (out,) = run_graph(session, lambda v: ops.unsqueeze(v, axis), [x])
    _same(out, np.expand_dims(x, axis))


def test_flatten_scalar_and_empty(session) -> None:
    s = np.array(7.5, dtype=np.float32)
    e = np.zeros((2, 0, 3), dtype=np.int32)
    (fs,) = run_graph(session, lambda v: ops.flatten(v), [s])
    _same(fs, s.reshape(1))
    (fe,) = run_graph(session, lambda v: ops.flatten(v, 0, 1), [e])
    _same(fe, e.reshape(0, 3))


def test_squeeze_non_contiguous(session) -> None:
    x = _data((4, 1, 5), DType.int32)
    (out,) = run_graph(session, lambda v: ops.squeeze(ops.permute(v, [2, 1, 0]), 1), [x])
    _same(out, np.transpose(x, (2, 1, 0)).reshape(5, 4))


def test_shape_ops_are_core_nodes() -> None:
    graph = Graph("core", lambda v: (ops.squeeze(v, 0), ops.unsqueeze(v, 0), ops.flatten(v),
                                     ops.stack([v, v])),
                  input_types=[TensorType(DType.float32, [1, 3])])
    ops_used = {node["op"] for node in graph.nodes}
    assert {"squeeze", "unsqueeze", "flatten", "stack"} <= ops_used
    assert "reshape" not in ops_used and "concat" not in ops_used


def test_symbolic_squeeze_flatten_types() -> None:
    t = TensorType(DType.float32, ["batch", 1, "seq", 4])
    assert _type_of(lambda v: (ops.squeeze(v, 1), ops.flatten(v, 1, 3), ops.flatten(v),
                               ops.unsqueeze(v, 0)), t) == [
        ["batch", "seq", "4"], ["batch", "4*seq"], ["4*batch*seq"],
        ["1", "batch", "1", "seq", "4"]]


def test_squeeze_errors() -> None:
    message = _error(lambda v: ops.squeeze(v, 0), TensorType(DType.float32, ["batch", 3]))
    assert "squeeze" in message and "batch" in message and "not 1" in message
    message = _error(lambda v: ops.squeeze(v, 2), TensorType(DType.float32, [1, 3]))
    assert "squeeze" in message and "axis" in message
    message = _error(lambda v: ops.flatten(v, 2, 1), TensorType(DType.float32, [1, 3, 4]))
    assert "flatten" in message and "start_dim" in message


# -- stack / split / chunk / concat ------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_stack(session, dtype: DType, axis: int) -> None:
    a, b, c = (_data((2, 3), dtype, seed) for seed in (1, 2, 3))
    (out,) = run_graph(session, lambda x, y, z: ops.stack([x, y, z], axis=axis), [a, b, c])
    _same(out, np.stack([a, b, c], axis=axis))


def test_stack_scalars_and_empty(session) -> None:
    a, b = np.array(1.0, np.float32), np.array(2.0, np.float32)
    (out,) = run_graph(session, lambda x, y: ops.stack([x, y]), [a, b])
    _same(out, np.stack([a, b]))
    e = np.zeros((0, 2), np.int64)
    (out,) = run_graph(session, lambda x: ops.stack([x, x], axis=1), [e])
    _same(out, np.stack([e, e], axis=1))


@pytest.mark.parametrize("dtype", FEW_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("sizes,axis", [([1, 2, 3], 0), ([4, 0, 1], -1), ([2, 2], 1)])
def test_split(session, dtype: DType, sizes, axis: int) -> None:
    shape = [6, 4, 5]
    shape[axis] = sum(sizes)
    x = _data(shape, dtype)
    outs = run_graph(session, lambda v: tuple(ops.split(v, sizes, axis)), [x])
    expected = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        _same(got, want)


def test_split_non_contiguous(session) -> None:
    x = _data((3, 8), DType.int16)
    outs = run_graph(session, lambda v: tuple(ops.split(ops.transpose(v, 0, 1), [5, 3])), [x])
    for got, want in zip(outs, np.split(x.T, [5])):
        _same(got, want)


def test_chunk(session) -> None:
    x = _data((2, 9), DType.float64)
    outs = run_graph(session, lambda v: tuple(ops.chunk(v, 3, axis=-1)), [x])
    for got, want in zip(outs, np.split(x, 3, axis=1)):
        _same(got, want)
    with pytest.raises(ValueError, match="multiple of 2"):
        Graph("bad", lambda v: ops.chunk(v, 2, 1), input_types=[TensorType(DType.float32, [2, 9])])


def test_symbolic_concat_stack_split_types() -> None:
    t = TensorType(DType.float32, ["batch", 3])
    assert _type_of(lambda a, b: (ops.concat([a, b], 0), ops.concat([a, a, b], -2),
                                  ops.stack([a, b], axis=1)), t, t) == [
        ["2*batch", "3"], ["3*batch", "3"], ["batch", "2", "3"]]
    u = TensorType(DType.float32, ["2*n", "m"])
    assert _type_of(lambda v: tuple(ops.split(v, ["n", "n"], 0)), u) == [["n", "m"], ["n", "m"]]
    message = _error(lambda v: ops.split(v, ["n", 1], 0), u)
    assert "split" in message and "n + 1" in message and "2*n" in message


def test_symbolic_concat_runs(session) -> None:
    a = _data((3, 2), DType.float32, 1)
    b = _data((3, 2), DType.float32, 2)
    (out,) = run_graph(session, lambda x, y: ops.concat([x, y], 0), [a, b],
                       shapes=[["batch", 2], ["batch", 2]])
    _same(out, np.concatenate([a, b]))


def test_stack_errors() -> None:
    message = _error(lambda a, b: ops.stack([a, b]), TensorType(DType.float32, [2, 3]),
                     TensorType(DType.float32, [3, 2]))
    assert "stack" in message and "[3, 2]" in message


# -- tile / repeat_interleave ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_tile_dtypes(session, dtype: DType) -> None:
    x = _data((2, 3), dtype)
    (out,) = run_graph(session, lambda v: ops.tile(v, [2, 3]), [x])
    _same(out, np.tile(x, (2, 3)))


@pytest.mark.parametrize("shape,reps", [((), []), ((4,), [0]), ((0, 2), [3, 2]),
                                        ((2, 1, 3), [1, 4, 2])])
def test_tile_shapes(session, shape, reps) -> None:
    x = _data(shape, DType.int32)
    (out,) = run_graph(session, lambda v: ops.tile(v, reps), [x])
    _same(out, np.tile(x, reps) if reps else x)


def test_tile_symbolic_type() -> None:
    t = TensorType(DType.float32, ["batch", 3])
    assert _type_of(lambda v: ops.tile(v, [2, "k"]), t) == [["2*batch", "3*k"]]
    message = _error(lambda v: ops.tile(v, [2]), t)
    assert "tile" in message and "repeats" in message


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_repeat_interleave(session, dtype: DType, axis) -> None:
    x = _data((2, 3), dtype)
    (out,) = run_graph(session, lambda v: ops.repeat_interleave(v, 3, axis=axis), [x])
    _same(out, np.repeat(x, 3, axis=axis))


def test_repeat_interleave_zero_and_symbolic(session) -> None:
    x = _data((2, 3), DType.float32)
    (out,) = run_graph(session, lambda v: ops.repeat_interleave(v, 0, axis=0), [x])
    _same(out, np.repeat(x, 0, axis=0))
    t = TensorType(DType.float32, ["batch", 3])
    assert _type_of(lambda v: ops.repeat_interleave(v, 2, axis=0), t) == [["2*batch", "3"]]


@pytest.mark.parametrize("dtype", [DType.float32, DType.uint8, DType.bool] + (
    [DType.bfloat16] if HAVE_ML_DTYPES else []), ids=lambda d: d.name)
@pytest.mark.parametrize("axis", [0, -1, None])
def test_repeat_interleave_tensor_counts(session, dtype: DType, axis) -> None:
    x = _data((3, 2), dtype)
    length = 6 if axis is None else (3 if axis == 0 else 2)
    counts = rng(7).integers(0, 4, size=length).astype(np.int64)
    (out,) = run_graph(session, lambda v, c: ops.repeat_interleave(v, c, axis, out_dim="total"),
                       [x, counts])
    _same(out, np.repeat(x, counts, axis=axis))


def test_repeat_interleave_tensor_counts_errors(session) -> None:
    x = _data((3, 2), DType.float32)
    counts = np.array([1, 2, 3], dtype=np.int32)
    with pytest.raises(Exception, match="add up to 6.*out_dim"):
        run_graph(session, lambda v, c: ops.repeat_interleave(v, c, 0, out_dim=5), [x, counts])
    with pytest.raises(Exception, match="repeats.*entry 1 is -2"):
        run_graph(session, lambda v, c: ops.repeat_interleave(v, c, 0, out_dim="n"),
                  [x, np.array([1, -2, 3], dtype=np.int32)])
    with pytest.raises(ValueError, match="out_dim is required"):
        Graph("bad", lambda v, c: ops.repeat_interleave(v, c, 0),
              input_types=[TensorType(DType.float32, [3, 2]), TensorType(DType.int64, [3])])
    message = _error(lambda v, c: ops.repeat_interleave(v, c, 0, out_dim="n"),
                     TensorType(DType.float32, [3, 2]), TensorType(DType.int64, [2]))
    assert "repeat_interleave" in message and "[1] or [3]" in message


# -- pad ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_pad_dtypes(session, dtype: DType) -> None:
    x = _data((2, 3), dtype)
    fill = True if dtype == DType.bool else 7
    (out,) = run_graph(session, lambda v: ops.pad(v, [1, 2, 0, 3], value=fill), [x])
    _same(out, np.pad(x, ((1, 2), (0, 3)), constant_values=np.asarray(fill).astype(x.dtype)))


@pytest.mark.parametrize("shape,pads", [((), []), ((0, 2), [1, 1, 2, 0]), ((3,), [0, 0]),
                                        ((2, 3, 4), [1, 0, 0, 2, 3, 1])])
def test_pad_shapes(session, shape, pads) -> None:
    x = _data(shape, DType.float32)
    (out,) = run_graph(session, lambda v: ops.pad(v, pads, value=-1.5), [x])
    width = [(pads[2 * i], pads[2 * i + 1]) for i in range(len(shape))]
    _same(out, np.pad(x, np.array(width, dtype=np.int64).reshape(-1, 2),
                      constant_values=np.float32(-1.5)) if shape else x)


def test_pad_non_contiguous_and_symbolic(session) -> None:
    x = _data((3, 4), DType.int64)
    (out,) = run_graph(session, lambda v: ops.pad(ops.transpose(v, 0, 1), [2, 0, 0, 1]), [x])
    _same(out, np.pad(x.T, ((2, 0), (0, 1))))
    t = TensorType(DType.float32, ["n", 4])
    assert _type_of(lambda v: ops.pad(v, [1, 2, 0, 0]), t) == [["n + 3", "4"]]


def test_pad_errors() -> None:
    t = TensorType(DType.float32, [2, 3])
    assert "paddings" in _error(lambda v: ops.pad(v, [1, 1]), t)
    message = _error(lambda v: ops.pad(v, [1, 1, 0, 0], mode="reflect"), t)
    assert "pad" in message and "mode" in message
    message = _error(lambda v: ops.pad(v, [-1, 1, 0, 0]), t)
    assert "pad" in message and ">= 0" in message


# -- band_part ---------------------------------------------------------------------------------
def _band_reference(x: np.ndarray, lower, upper, exclude: bool) -> np.ndarray:
    m = np.arange(x.shape[-2])[:, None]
    n = np.arange(x.shape[-1])[None, :]
    keep = np.ones((x.shape[-2], x.shape[-1]), dtype=bool)
    if lower is not None:
        keep &= (m - n) <= lower
    if upper is not None:
        keep &= (n - m) <= upper
    if exclude:
        keep = ~keep
    return np.where(keep, x, np.zeros_like(x))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_band_part_dtypes(session, dtype: DType) -> None:
    x = _data((2, 4, 5), dtype)
    (out,) = run_graph(session, lambda v: ops.band_part(v, 1, 2), [x])
    _same(out, _band_reference(x, 1, 2, False))


@pytest.mark.parametrize("lower,upper,exclude", [(None, 0, False), (0, None, False),
                                                 (0, 0, False), (None, None, False),
                                                 (2, 1, True), (0, None, True), (7, 9, False)])
def test_band_part_limits(session, lower, upper, exclude) -> None:
    x = _data((3, 6, 4), DType.float32)
    (out,) = run_graph(session, lambda v: ops.band_part(v, lower, upper, exclude), [x])
    _same(out, _band_reference(x, lower, upper, exclude))
    if not exclude and lower is None and upper == 0:
        _same(out, np.tril(x))
    if not exclude and lower == 0 and upper is None:
        _same(out, np.triu(x))


def test_band_part_errors() -> None:
    assert "rank" in _error(lambda v: ops.band_part(v, 0, 0), TensorType(DType.float32, [3]))
    with pytest.raises(ValueError, match="num_lower"):
        Graph("bad", lambda v: ops.band_part(v, -2, 0),
              input_types=[TensorType(DType.float32, [3, 3])])


# -- range / outer / shape_to_tensor / rebind ----------------------------------------------
@pytest.mark.parametrize("dtype", [DType.float32, DType.float64, DType.int32, DType.int64,
                                   DType.int8, DType.uint8, DType.float16],
                         ids=lambda d: d.name)
@pytest.mark.parametrize("bounds", [(0, 10, 1), (2, 11, 3), (10, 0, -2), (5, 5, 1)])
def test_range_constant_bounds(session, dtype: DType, bounds) -> None:
    if dtype == DType.uint8 and bounds[2] < 0:
        pytest.skip("negative step has no uint8 form")
    start, stop, step = bounds
    (out,) = run_graph(session, lambda: ops.range(start, stop, step, dtype=dtype), [])
    _same(out, np.arange(start, stop, step).astype(dtype.to_numpy()))


def test_range_float_steps(session) -> None:
    (out,) = run_graph(session, lambda: ops.range(0.5, 3.0, 0.25, dtype=DType.float32), [])
    np.testing.assert_allclose(out, np.arange(0.5, 3.0, 0.25, dtype=np.float64), rtol=1e-6)
    assert out.dtype == np.float32


def test_range_tensor_bounds_bind_out_dim(session) -> None:
    """Bounds given as graph inputs: the length is a new symbol the kernel binds."""
    s, e, d = (np.array(v, dtype=np.int64) for v in (3, 17, 4))
    (out,) = run_graph(session, lambda a, b, c: ops.range(a, b, c, out_dim="len"), [s, e, d])
    _same(out, np.arange(3, 17, 4, dtype=np.int64))


def test_range_errors(session) -> None:
    with pytest.raises(ValueError, match="non-zero"):
        Graph("bad", lambda: ops.range(0, 3, 0), input_types=[])
    with pytest.raises(ValueError, match="signs"):
        Graph("bad", lambda: ops.range(0, 3, -1), input_types=[])
    s, e, d = (np.array(v, dtype=np.int64) for v in (0, 3, -1))
    with pytest.raises(Exception, match="signs"):
        run_graph(session, lambda a, b, c: ops.range(a, b, c, out_dim="n"), [s, e, d])
    s, e, d = (np.array(v, dtype=np.int64) for v in (0, 3, 1))
    with pytest.raises(Exception, match="out_dim"):
        run_graph(session, lambda a, b, c: ops.range(a, b, c, out_dim=5), [s, e, d])


@pytest.mark.parametrize("dtype", [DType.float32, DType.int64, DType.float64],
                         ids=lambda d: d.name)
def test_outer(session, dtype: DType) -> None:
    a = _data((4,), dtype, 1)
    b = _data((2, 3), dtype, 2)
    (out,) = run_graph(session, lambda x, y: ops.outer(x, y), [a, b])
    _same(out, np.outer(a, b))


def test_shape_to_tensor(session) -> None:
    x = _data((2, 5, 3), DType.float32)
    (out,) = run_graph(session, lambda v: ops.shape_to_tensor(v.shape), [x])
    _same(out, np.array([2, 5, 3], dtype=np.int64))
    with pytest.raises(NotImplementedError, match="symbolic"):
        Graph("bad", lambda v: ops.shape_to_tensor(v.shape),
              input_types=[TensorType(DType.float32, ["n"])])


def test_rebind(session) -> None:
    x = _data((3, 4), DType.float32)
    (out,) = run_graph(session, lambda v: ops.rebind(v, ["rows", 4]), [x], shapes=[["n", 4]])
    _same(out, x)
    t = TensorType(DType.float32, ["n", 4])
    assert _type_of(lambda v: ops.rebind(v, ["rows", 4]), t) == [["rows", "4"]]
    message = _error(lambda v: ops.rebind(v, [3, 5]), TensorType(DType.float32, [3, 4]))
    assert "rebind" in message and "not 5" in message


def test_rebind_checks_at_run_time(session) -> None:
    x = _data((3, 4), DType.float32)
    with pytest.raises(Exception, match="rows must be 2"):
        run_graph(session, lambda v: ops.rebind(v, [2, 4], message="rows must be 2"), [x],
                  shapes=[["n", 4]])


# -- existing layout ops against MAX's semantics, symbolic --------------------------------
def test_reshape_transpose_permute_broadcast_symbolic_types() -> None:
    t = TensorType(DType.float32, ["batch", "seq", 8])
    assert _type_of(lambda v: (ops.reshape(v, ["batch", -1]), ops.reshape(v, [-1, 2, 4]),
                               ops.transpose(v, -1, 0), ops.permute(v, [2, 0, 1]),
                               ops.broadcast_to(ops.unsqueeze(v, 0), [5, "batch", "seq", 8])),
                    t) == [["batch", "8*seq"], ["batch*seq", "2", "4"],
                           ["8", "seq", "batch"], ["8", "batch", "seq"],
                           ["5", "batch", "seq", "8"]]


@pytest.mark.parametrize("dtype", FEW_DTYPES, ids=lambda d: d.name)
def test_layout_ops_dtypes(session, dtype: DType) -> None:
    x = _data((2, 3, 4), dtype)
    outs = run_graph(session, lambda v: (ops.reshape(v, [4, -1]), ops.transpose(v, 0, 2),
                                         ops.permute(v, [1, 2, 0]),
                                         ops.broadcast_to(ops.unsqueeze(v, 1), [2, 5, 3, 4])),
                     [x])
    _same(outs[0], x.reshape(4, -1))
    _same(outs[1], np.swapaxes(x, 0, 2))
    _same(outs[2], np.transpose(x, (1, 2, 0)))
    _same(outs[3], np.broadcast_to(x[:, None], (2, 5, 3, 4)))


# -- fold --------------------------------------------------------------------------------------
def _fold_reference(x: np.ndarray, out_size, kernel, stride, dilation, padding) -> np.ndarray:
    """col2im with np.add.at, in float64."""
    n, ckk, blocks = x.shape
    kh, kw = kernel
    c = ckk // (kh * kw)
    h, w = out_size
    out = np.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), dtype=np.float64)
    blocks_w = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cols = x.astype(np.float64).reshape(n, c, kh, kw, blocks)
    for ki in range(kh):
        for kj in range(kw):
            for b in range(blocks):
                r = (b // blocks_w) * stride[0] + ki * dilation[0]
                s = (b % blocks_w) * stride[1] + kj * dilation[1]
                np.add.at(out, (slice(None), slice(None), r, s), cols[:, :, ki, kj, b])
    return out[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


@pytest.mark.parametrize("dtype", [DType.float32, DType.float64, DType.float16] + (
    [DType.bfloat16] if HAVE_ML_DTYPES else []), ids=lambda d: d.name)
@pytest.mark.parametrize("out_size,kernel,stride,dilation,padding", [
    ((4, 5), (2, 2), (1, 1), (1, 1), (0, 0)),
    ((6, 6), (3, 2), (2, 1), (1, 2), (1, 0)),
    ((3, 3), (1, 1), (1, 1), (1, 1), (0, 0)),
])
def test_fold(session, dtype: DType, out_size, kernel, stride, dilation, padding) -> None:
    blocks = 1
    for d in range(2):
        blocks *= (out_size[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) \
            // stride[d] + 1
    x = random_array((2, 3 * kernel[0] * kernel[1], blocks), dtype, rng(4))
    (out,) = run_graph(session, lambda v: ops.fold(v, out_size, kernel, stride, dilation,
                                                   padding), [x])
    expected = _fold_reference(x, out_size, kernel, stride, dilation, padding)
    tolerance = {DType.float16: 4e-3, DType.bfloat16: 3e-2}.get(dtype, 1e-5)
    assert out.shape == expected.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out.astype(np.float64), expected, rtol=tolerance,
                               atol=tolerance)


def test_fold_errors() -> None:
    t = TensorType(DType.float32, [1, 8, 11])
    message = _error(lambda v: ops.fold(v, (4, 5), (2, 2)), t)
    assert "fold" in message and "block positions" in message
    message = _error(lambda v: ops.fold(v, (4, 5), (3, 3)), TensorType(DType.float32, [1, 8, 6]))
    assert "fold" in message and "multiple of the kernel size 9" in message
    message = _error(lambda v: ops.fold(v, (4, 5), (2, 2)), TensorType(DType.int32, [1, 4, 12]))
    assert "fold" in message and "float" in message
