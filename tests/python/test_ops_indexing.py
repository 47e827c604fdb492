"""Index-addressed ops (gather, gather_nd, scatter, scatter_nd, masked_scatter, slice_tensor)
run on the CPU plugin and compared with NumPy (np.take, fancy indexing, np.put_along_axis):
every dtype class bit for bit, int32 and int64 indices, negative indices, rank 0 and size-0
dims, non-contiguous inputs, symbolic dims in type inference, and out-of-range indices at run
time, which must be an error naming the op and the index (never a stray memory access)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HAVE_ML_DTYPES, random_array, rng, run_graph
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, ops

ALL_DTYPES = ([DType.float32, DType.float16, DType.float64, DType.int8, DType.int16,
               DType.int32, DType.int64, DType.uint8, DType.uint16, DType.uint32, DType.uint64,
               DType.bool] + ([DType.bfloat16] if HAVE_ML_DTYPES else []))
INDEX_DTYPES = [DType.int32, DType.int64]


def _data(shape, dtype: DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, rng(seed), low=-50, high=50)


def _same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected)


def _type_of(forward, *types: TensorType):
    graph = Graph("types", forward, input_types=list(types))
    return [[str(d) for d in out.type.shape] for out in graph.outputs]


def _error(forward, *types: TensorType) -> str:
    with pytest.raises(Exception) as info:
        Graph("bad", forward, input_types=list(types))
    return str(info.value)


# -- gather ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_gather_dtypes(session, dtype: DType) -> None:
    x = _data((4, 5), dtype)
    idx = np.array([[3, -1], [0, 0]], dtype=np.int64)
    (out,) = run_graph(session, lambda v, i: ops.gather(v, i, axis=0), [x, idx])
    _same(out, np.take(x, idx, axis=0))


@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape,idx_shape,axis", [((5,), (), 0), ((3, 4), (0,), 1),
                                                  ((2, 3, 4), (2, 2), -2), ((0, 3), (4,), 1)])
def test_gather_shapes(session, index_dtype: DType, shape, idx_shape, axis) -> None:
    x = _data(shape, DType.float32)
    dim = shape[axis]
    idx = rng(1).integers(-dim, dim, size=idx_shape).astype(index_dtype.to_numpy())
    (out,) = run_graph(session, lambda v, i: ops.gather(v, i, axis=axis), [x, idx])
    _same(out, np.take(x, idx, axis=axis))


def test_gather_non_contiguous_and_symbolic(session) -> None:
    x = _data((3, 6), DType.int32)
    idx = np.array([5, 0, 2], dtype=np.int32)
    (out,) = run_graph(session, lambda v, i: ops.gather(ops.transpose(v, 0, 1), i, 0), [x, idx])
    _same(out, np.take(x.T, idx, axis=0))
    assert _type_of(lambda v, i: ops.gather(v, i, axis=0),
                    TensorType(DType.float32, ["vocab", "d"]),
                    TensorType(DType.int64, ["batch", "seq"])) == [["batch", "seq", "d"]]


@pytest.mark.parametrize("bad", [4, -5, 1000])
def test_gather_out_of_range(session, bad: int) -> None:
    x = _data((4, 2), DType.float32)
    idx = np.array([0, bad], dtype=np.int64)
    with pytest.raises(Exception, match=f"gather.*index {bad}.*out of range"):
        run_graph(session, lambda v, i: ops.gather(v, i, axis=0), [x, idx])


def test_gather_errors() -> None:
    message = _error(lambda v, i: ops.gather(v, i), TensorType(DType.float32, [3]),
                     TensorType(DType.float32, [2]))
    assert "gather" in message and "int32 or int64" in message


# -- gather_nd ---------------------------------------------------------------------------------
def _gather_nd_reference(x: np.ndarray, idx: np.ndarray, batch_dims: int) -> np.ndarray:
    depth = idx.shape[-1]
    out_shape = x.shape[:batch_dims] + idx.shape[batch_dims:-1] + x.shape[batch_dims + depth:]
    out = np.zeros(out_shape, dtype=x.dtype)
    for position in np.ndindex(*idx.shape[:-1]):
        batch = position[:batch_dims]
        out[position] = x[batch + tuple(int(i) for i in idx[position])]
    return out


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_gather_nd_dtypes(session, dtype: DType) -> None:
    x = _data((3, 4, 2), dtype)
    idx = np.array([[0, 1], [2, -1], [1, 3]], dtype=np.int64)
    (out,) = run_graph(session, lambda v, i: ops.gather_nd(v, i), [x, idx])
    _same(out, x[idx[:, 0], idx[:, 1]])


@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("x_shape,idx_shape,batch_dims", [
    ((5, 6), (4, 2), 0), ((5, 6), (2, 3, 1), 0), ((2, 3, 4, 5), (2, 6, 2), 1),
    ((2, 3, 4), (2, 3, 1), 2), ((4, 3), (0, 2), 0), ((3, 4), (2, 0), 0)])
def test_gather_nd_shapes(session, index_dtype, x_shape, idx_shape, batch_dims) -> None:
    x = _data(x_shape, DType.float32)
    depth = idx_shape[-1]
    generator = rng(3)
    columns = [generator.integers(0, x_shape[batch_dims + j], size=idx_shape[:-1])
               for j in range(depth)]
    idx = (np.stack(columns, axis=-1) if depth else np.zeros(idx_shape, np.int64)).astype(
        index_dtype.to_numpy())
    (out,) = run_graph(session, lambda v, i: ops.gather_nd(v, i, batch_dims), [x, idx])
    _same(out, _gather_nd_reference(x, idx, batch_dims))


def test_gather_nd_symbolic_type_and_errors(session) -> None:
    assert _type_of(lambda v, i: ops.gather_nd(v, i, batch_dims=1),
                    TensorType(DType.bfloat16 if HAVE_ML_DTYPES else DType.float32,
                               ["a", "b", "c", "d", "e"]),
                    TensorType(DType.int32, ["a", "f", 3])) == [["a", "f", "e"]]
    message = _error(lambda v, i: ops.gather_nd(v, i), TensorType(DType.float32, [3, 4]),
                     TensorType(DType.int64, [2, "k"]))
    assert "gather_nd" in message and "static" in message
    message = _error(lambda v, i: ops.gather_nd(v, i), TensorType(DType.float32, [3, 4]),
                     TensorType(DType.int64, [2, 3]))
    assert "gather_nd" in message and "index depth 3" in message
    x = _data((3, 4), DType.float32)
    idx = np.array([[0, 4]], dtype=np.int64)
    with pytest.raises(Exception, match="gather_nd.*index 4.*out of range"):
        run_graph(session, lambda v, i: ops.gather_nd(v, i), [x, idx])


# -- scatter -----------------------------------------------------------------------------------
def _unique_indices(shape, dim: int, axis: int, seed: int) -> np.ndarray:
    """Indices along ``axis`` that never repeat within a line (permutation prefixes)."""
    generator = rng(seed)
    moved = list(shape)
    moved.append(moved.pop(axis))
    lines = int(np.prod(moved[:-1], dtype=np.int64))
    rows = [generator.permutation(dim)[:moved[-1]] for _ in range(lines)]
    arr = np.array(rows, dtype=np.int64).reshape(moved)
    return np.moveaxis(arr, -1, axis)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", [0, -1])
def test_scatter(session, dtype: DType, axis: int) -> None:
    x = _data((4, 5), dtype, 1)
    upd_shape = (2, 5) if axis == 0 else (4, 3)
    updates = _data(upd_shape, dtype, 2)
    idx = _unique_indices(upd_shape, x.shape[axis], axis, 3)
    (out,) = run_graph(session, lambda v, u, i: ops.scatter(v, u, i, axis=axis),
                       [x, updates, idx])
    expected = x.copy()
    np.put_along_axis(expected, idx, updates, axis=axis)
    _same(out, expected)


def test_scatter_smaller_updates_negative_indices(session) -> None:
    x = _data((3, 4), DType.int32, 1)
    updates = _data((2, 2), DType.int32, 2)
    idx = np.array([[-1, 0], [2, -4]], dtype=np.int32)
    (out,) = run_graph(session, lambda v, u, i: ops.scatter(v, u, i, axis=1), [x, updates, idx])
    expected = x.copy()
    for r in range(2):
        for c in range(2):
            expected[r, idx[r, c] % 4] = updates[r, c]
    _same(out, expected)


def test_scatter_out_of_range_and_errors(session) -> None:
    x = _data((3, 4), DType.float32)
    updates = _data((3, 1), DType.float32)
    idx = np.array([[0], [4], [1]], dtype=np.int64)
    with pytest.raises(Exception, match="scatter.*index 4.*out of range"):
        run_graph(session, lambda v, u, i: ops.scatter(v, u, i, axis=1), [x, updates, idx])
    message = _error(lambda v, u, i: ops.scatter(v, u, i),
                     TensorType(DType.float32, [3, 4]), TensorType(DType.float32, [3, 2]),
                     TensorType(DType.int64, [3, 3]))
    assert "scatter" in message and "indices" in message
    assert _type_of(lambda v, u, i: ops.scatter(v, u, i, axis=0),
                    TensorType(DType.float32, ["n", 4]), TensorType(DType.float32, ["k", 4]),
                    TensorType(DType.int64, ["k", 4])) == [["n", "4"]]


# -- scatter_nd --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_scatter_nd_dtypes(session, dtype: DType) -> None:
    x = _data((4, 3), dtype, 1)
    updates = _data((2,), dtype, 2)
    idx = np.array([[3, 2], [0, -1]], dtype=np.int64)
    (out,) = run_graph(session, lambda v, u, i: ops.scatter_nd(v, u, i), [x, updates, idx])
    expected = x.copy()
    expected[idx[:, 0], idx[:, 1]] = updates
    _same(out, expected)


@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=lambda d: d.name)
def test_scatter_nd_slices(session, index_dtype: DType) -> None:
    x = _data((5, 2, 3), DType.float32, 1)
    idx = np.array([[[4], [1]], [[0], [2]]], dtype=index_dtype.to_numpy())  # [2, 2, 1]
    updates = _data((2, 2, 2, 3), DType.float32, 2)
    (out,) = run_graph(session, lambda v, u, i: ops.scatter_nd(v, u, i), [x, updates, idx])
    expected = x.copy()
    expected[idx[..., 0].reshape(-1)] = updates.reshape(-1, 2, 3)
    _same(out, expected)


def test_scatter_nd_out_of_range_and_errors(session) -> None:
    x = _data((4, 3), DType.float32)
    updates = _data((1,), DType.float32)
    idx = np.array([[1, -4]], dtype=np.int64)
    with pytest.raises(Exception, match="scatter_nd.*index -4.*out of range"):
        run_graph(session, lambda v, u, i: ops.scatter_nd(v, u, i), [x, updates, idx])
    message = _error(lambda v, u, i: ops.scatter_nd(v, u, i),
                     TensorType(DType.float32, [4, 3]), TensorType(DType.float32, [2, 2]),
                     TensorType(DType.int64, [2, 2]))
    assert "scatter_nd" in message and "updates of shape [2]" in message


# -- masked_scatter ----------------------------------------------------------------------------
def _masked_scatter_reference(x, mask, updates):
    out = x.copy()
    full = np.broadcast_to(mask, x.shape)
    out[full] = updates.reshape(-1)[:int(full.sum())]
    return out


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_masked_scatter_dtypes(session, dtype: DType) -> None:
    x = _data((3, 4), dtype, 1)
    mask = rng(5).integers(0, 2, size=(3, 4)).astype(bool)
    updates = _data((12,), dtype, 2)
    (out,) = run_graph(session, lambda v, m, u: ops.masked_scatter(v, m, u, out_dim="n"),
                       [x, mask, updates])
    _same(out, _masked_scatter_reference(x, mask, updates))


def test_masked_scatter_broadcast_mask(session) -> None:
    x = _data((2, 3, 4), DType.float32, 1)
    mask = np.array([True, False, True, True])
    updates = _data((5, 5), DType.float32, 2)
    (out,) = run_graph(session, lambda v, m, u: ops.masked_scatter(v, m, u, out_dim=18),
                       [x, mask, updates])
    _same(out, _masked_scatter_reference(x, mask, updates))


def test_masked_scatter_too_few_updates(session) -> None:
    x = _data((2, 2), DType.float32)
    mask = np.ones((2, 2), dtype=bool)
    updates = _data((3,), DType.float32)
    with pytest.raises(Exception, match="masked_scatter.*selects 4.*only 3"):
        run_graph(session, lambda v, m, u: ops.masked_scatter(v, m, u, out_dim=4),
                  [x, mask, updates])
    message = _error(lambda v, m, u: ops.masked_scatter(v, m, u, out_dim=1),
                     TensorType(DType.float32, [2, 2]), TensorType(DType.int32, [2, 2]),
                     TensorType(DType.float32, [4]))
    assert "masked_scatter" in message and "bool" in message


# -- slice_tensor ------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [
    (slice(None, None, -1),), (slice(None, None, -2), 1), (Ellipsis, None, slice(1, 3)),
    (slice(-1, -5, -1), slice(None)), (-1, slice(3, None, -2)), (slice(10, None, -1),),
    (slice(0, 0),), (None, Ellipsis, None),
])
@pytest.mark.parametrize("dtype", [DType.float32, DType.uint16, DType.bool],
                         ids=lambda d: d.name)
def test_slice_tensor_numpy_forms(session, index, dtype: DType) -> None:
    x = _data((5, 4), dtype)
    (out,) = run_graph(session, lambda v: ops.slice_tensor(v, list(index)), [x])
    _same(out, x[index])


def test_slice_tensor_symbolic(session) -> None:
    t = TensorType(DType.float32, ["batch", 4])
    assert _type_of(lambda v: (ops.slice_tensor(v, [slice(None), 1]),
                               ops.slice_tensor(v, [slice(1, None)]),
                               ops.slice_tensor(v, [slice(None, -2)]),
                               ops.slice_tensor(v, [-1]),
                               ops.slice_tensor(v, [slice(-3, None)]),
                               ops.slice_tensor(v, [slice(None, None, -1)])), t) == [
        ["batch"], ["batch - 1", "4"], ["batch - 2", "4"], ["4"], ["3", "4"], ["batch", "4"]]
    message = _error(lambda v: ops.slice_tensor(v, [slice(-3, 2)]), t)
    assert "slice_tensor" in message and "symbolic" in message
    message = _error(lambda v: ops.slice_tensor(v, [slice(None, None, 2)]), t)
    assert "slice_tensor" in message and "symbolic" in message


def test_slice_tensor_symbolic_runs(session) -> None:
    x = _data((5, 4), DType.int32)
    outs = run_graph(session, lambda v: (ops.slice_tensor(v, [slice(1, None)]),
                                         ops.slice_tensor(v, [slice(None, -2), -1]),
                                         ops.slice_tensor(v, [slice(None, None, -1)])),
                     [x], shapes=[["batch", 4]])
    _same(outs[0], x[1:])
    _same(outs[1], x[:-2, -1])
    _same(outs[2], x[::-1])


def test_slice_tensor_symbolic_out_of_bounds_is_an_error(session) -> None:
    """MAX assumes in-bounds slices of symbolic dims; a shorter dim fails, never misreads."""
    x = _data((2, 4), DType.float32)
    with pytest.raises(Exception, match="slice_tensor"):
        run_graph(session, lambda v: ops.slice_tensor(v, [slice(0, 3)]), [x],
                  shapes=[["batch", 4]])
    with pytest.raises(Exception):
        run_graph(session, lambda v: ops.slice_tensor(v, [slice(3, None)]), [x],
                  shapes=[["batch", 4]])
