"""Reductions, scans and sorting of MAX's set on the CPU plugin, against NumPy: sum, mean,
max, min, argmax and argmin over every numeric dtype, cumsum (exclusive, reverse), logsoftmax,
top_k and argsort.

Inputs: several shapes incl. a size-0 dim and a non-contiguous NumPy view ("T": a transposed
array). Tolerances per dtype (conftest.assert_close): float64 1e-12, float32 1e-5 / 1e-6,
float16 2e-3, bfloat16 1.6e-2; integer results and indices exact. Float references are
computed in float64 from the (already rounded) inputs and rounded to the output dtype.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import numpy as np
import pytest

from conftest import (FLOATS, INTS, NUMERIC, SIGNED, UNSIGNED, HAVE_ML_DTYPES, assert_close,
    random_array, rng, run_graph, case_seed as _seed, cast_ref as _ref, to_f64 as _f64)
import kiln
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, ops



def _array(shape: Any, dtype: DType, generator: np.random.Generator, low: float = -3.0,
           high: float = 3.0) -> np.ndarray:
    """Random data; shape "T" is a transposed (non-contiguous) view of a [4, 6] array."""
    if dtype in UNSIGNED:
        low = max(low, 0.0)
    if shape == "T":
        view = random_array((4, 6), dtype, generator, low, high).T
        assert not view.flags.c_contiguous
        return view
    return random_array(shape, dtype, generator, low, high)


# ==========================================================================================
# Reductions (the reduced axis is kept with size 1)
# ==========================================================================================
REDUCTIONS: Dict[str, Callable[..., np.ndarray]] = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "argmax": np.argmax,
    "argmin": np.argmin,
}
REDUCE_CASES = [((7,), 0), ((2, 3, 5), 1), ((2, 3, 5), -1), ((3, 0), 0), ("T", 0), ("T", 1)]


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shape,axis", REDUCE_CASES, ids=str)
@pytest.mark.parametrize("op", sorted(REDUCTIONS))
def test_reductions_all_dtypes(session, op: str, shape, axis: int, dtype: DType) -> None:
    x = _array(shape, dtype, rng(_seed(op, shape, axis, dtype.name)), -9, 9)
    if x.shape[axis] == 0 and op not in ("sum", "mean"):
        pytest.skip("no maximum or minimum of an empty axis")
    if op in ("argmax", "argmin") and not dtype.is_integral():
        x = np.floor(_f64(x)).astype(x.dtype)  # ties: the first index wins
    (result,) = run_graph(session, lambda v: getattr(ops, op)(v, axis=axis), [x])
    if op in ("argmax", "argmin"):
        assert result.dtype == np.int64
        expected = np.expand_dims(REDUCTIONS[op](_f64(x), axis=axis), axis)
        np.testing.assert_array_equal(result, expected, err_msg=f"{op} {dtype!r}")
        return
    assert result.dtype == x.dtype
    if dtype.is_integral():
        if op == "mean":
            # The wrapped 64-bit sum divided by the count, truncated toward zero.
            total = np.sum(x.astype(np.int64), axis=axis, keepdims=True)
            count = max(x.shape[axis], 1)
            expected = (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)
        else:
            with np.errstate(all="ignore"):
                expected = REDUCTIONS[op](x, axis=axis, keepdims=True).astype(x.dtype)
        np.testing.assert_array_equal(result, expected, err_msg=f"{op} {dtype!r}")
        return
    with np.errstate(all="ignore"):
        expected64 = REDUCTIONS[op](_f64(x), axis=axis, keepdims=True)
    assert_close(result, _ref(expected64, dtype), dtype, what=f"{op} {dtype!r}")


def test_argmin_nan_and_ties(session) -> None:
    x = np.array([[3.0, 1.0, 1.0, 2.0], [2.0, np.nan, -1.0, np.nan]], np.float32)
    results = run_graph(session, lambda v: (ops.argmin(v), ops.argmax(v)), [x])
    np.testing.assert_array_equal(results[0], np.argmin(x, axis=-1)[:, None])
    np.testing.assert_array_equal(results[1], np.argmax(x, axis=-1)[:, None])


def test_argmin_rejects_bad_axis() -> None:
    with pytest.raises(ValueError, match=r"argmin .*attribute 'axis' is 2 but the rank is 2"):
        Graph("g", lambda x: ops.argmin(x, axis=2), input_types=[TensorType(DType.float32,
                                                                               [2, 3])])


# ==========================================================================================
# cumsum
# ==========================================================================================
def _cumsum_reference(x: np.ndarray, axis: int, exclusive: bool, reverse: bool) -> np.ndarray:
    v = np.flip(x, axis) if reverse else x
    out = np.cumsum(v, axis=axis, dtype=v.dtype)
    if exclusive:
        out = out - v
    return np.flip(out, axis) if reverse else out


CUMSUM_CASES = [((7,), 0), ((2, 3, 5), 1), ((2, 3, 5), -1), ((3, 0), 1), ("T", 0), ("T", 1)]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shape,axis", CUMSUM_CASES, ids=str)
def test_cumsum(session, shape, axis: int, dtype: DType, exclusive: bool,
                reverse: bool) -> None:
    x = _array(shape, dtype, rng(_seed("cumsum", shape, axis, dtype.name)), -9, 9)
    (result,) = run_graph(session, lambda v: ops.cumsum(v, axis=axis, exclusive=exclusive,
                                                        reverse=reverse), [x])
    assert result.dtype == x.dtype and result.shape == x.shape
    if dtype.is_integral():
        with np.errstate(all="ignore"):
            expected = _cumsum_reference(x, axis, exclusive, reverse)
        np.testing.assert_array_equal(result, expected)
        return
    expected64 = _cumsum_reference(_f64(x), axis, exclusive, reverse)
    assert_close(result, _ref(expected64, dtype), dtype, what=f"cumsum {dtype!r}")


def test_cumsum_bad_attributes() -> None:
    with pytest.raises(TypeError, match="exclusive must be a bool"):
        Graph("g", lambda x: ops.cumsum(x, exclusive=2),
              input_types=[TensorType(DType.float32, [3])])
    with pytest.raises(ValueError, match=r"cumsum .*attribute 'axis' is -3 but the rank is 2"):
        Graph("g", lambda x: ops.cumsum(x, axis=-3),
              input_types=[TensorType(DType.float32, [2, 3])])
    with pytest.raises(ValueError, match=r"cumsum .*operand 0 \(x\) has dtype bool"):
        Graph("g", lambda x: ops.cumsum(x), input_types=[TensorType(DType.bool, [3])])


# ==========================================================================================
# logsoftmax
# ==========================================================================================
def _logsoftmax(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((2, 3, 5), 1), ((2, 3, 5), -1),
                                        ((0, 4), -1), ("T", 0), ("T", 1)], ids=str)
def test_logsoftmax(session, shape, axis: int, dtype: DType) -> None:
    x = _array(shape, dtype, rng(_seed("lsm", shape, dtype.name)), -8, 8)
    (result,) = run_graph(session, lambda v: ops.logsoftmax(v, axis=axis), [x])
    assert_close(result, _ref(_logsoftmax(_f64(x), axis), dtype), dtype,
                 what=f"logsoftmax {dtype!r}")


def test_logsoftmax_large_inputs_stay_finite(session) -> None:
    x = np.array([[1000.0, 0.0, -1000.0], [88.0, 89.0, 90.0]], np.float32)
    (result,) = run_graph(session, lambda v: ops.logsoftmax(v), [x])
    np.testing.assert_allclose(result, _logsoftmax(_f64(x), -1), rtol=1e-6, atol=1e-6)


def test_logsoftmax_rejects_integers() -> None:
    with pytest.raises(ValueError, match=r"logsoftmax .*has dtype int32.*float"):
        Graph("g", lambda x: ops.logsoftmax(x), input_types=[TensorType(DType.int32, [3])])


# ==========================================================================================
# top_k and argsort
# ==========================================================================================
def _stable_desc_order(x: np.ndarray, axis: int) -> np.ndarray:
    """Indices sorting descending with ties in index order (NaN-free input)."""
    if x.size == 0:
        return np.zeros(x.shape, np.int64)
    moved = np.moveaxis(_f64(x), axis, -1)
    n = moved.shape[-1]
    # lexsort sorts by the last key first: primary -value, then index.
    flat = moved.reshape(-1, n)
    order = np.stack([np.lexsort((np.arange(n), -row)) for row in flat])
    return np.moveaxis(order.reshape(moved.shape), -1, axis)


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shape,axis,k", [((7,), 0, 3), ((2, 3, 5), -1, 5), ((2, 3, 5), 1, 2),
                                          ((4, 0), 0, 2), ((3, 4), 1, 0), ("T", 0, 4),
                                          ("T", 1, 1)], ids=str)
def test_top_k(session, shape, axis: int, k: int, dtype: DType) -> None:
    x = _array(shape, dtype, rng(_seed("topk", shape, dtype.name)), -5, 5)
    if not dtype.is_integral():
        x = (np.round(_f64(x) * 2) / 2).astype(x.dtype)  # ties happen
    values, indices = run_graph(session, lambda v: ops.top_k(v, k, axis=axis), [x])
    order = np.take(_stable_desc_order(x, axis), np.arange(k), axis=axis)
    assert indices.dtype == np.int64 and values.dtype == x.dtype
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(x, order, axis=axis))


def test_top_k_nan_counts_as_largest(session) -> None:
    x = np.array([1.0, np.nan, 3.0, 2.0], np.float32)
    values, indices = run_graph(session, lambda v: ops.top_k(v, 2), [x])
    np.testing.assert_array_equal(indices, [1, 2])
    assert np.isnan(values[0]) and values[1] == 3.0


def test_top_k_k_too_large_is_an_error_at_build_and_run(session) -> None:
    with pytest.raises(ValueError, match=r"top_k .*attribute 'k' is 6 but axis 1 .*has only 5"):
        Graph("g", lambda x: ops.top_k(x, 6), input_types=[TensorType(DType.float32, [2, 5])])
    with pytest.raises(ValueError, match=r"top_k .*attribute 'k' is -1"):
        Graph("g", lambda x: ops.top_k(x, -1), input_types=[TensorType(DType.float32, [5])])
    graph = Graph("g", lambda x: ops.top_k(x, 4),
                  input_types=[TensorType(DType.float32, ["n"])])
    model = session.load(graph)
    values, _ = model.execute(np.arange(6, dtype=np.float32))
    np.testing.assert_array_equal(values.to_numpy(), [5, 4, 3, 2])
    with pytest.raises(kiln.KilnError, match=r"top_k .*'k' is 4 but axis 0 .*has 3"):
        model.execute(np.arange(3, dtype=np.float32))


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(9,), (5, 3), (0,), (4, 0), "T"], ids=str)
def test_argsort(session, shape, dtype: DType, ascending: bool) -> None:
    x = _array(shape, dtype, rng(_seed("argsort", shape, dtype.name)), -4, 4)
    (result,) = run_graph(session, lambda v: ops.argsort(v, ascending=ascending), [x])
    assert result.dtype == np.int64 and result.shape == x.shape
    if ascending:
        expected = np.argsort(_f64(x), axis=0, kind="stable")
    else:
        expected = _stable_desc_order(x, 0)
    np.testing.assert_array_equal(result, expected)


def test_argsort_nan_sorts_last(session) -> None:
    x = np.array([2.0, np.nan, -1.0, np.nan, 0.5], np.float64)
    results = run_graph(session, lambda v: (ops.argsort(v), ops.argsort(v, ascending=False)),
                        [x])
    np.testing.assert_array_equal(results[0], np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(results[1], [1, 3, 0, 4, 2])


def test_argsort_errors() -> None:
    with pytest.raises(ValueError, match=r"argsort .*rank 0.*needs rank >= 1"):
        Graph("g", lambda x: ops.argsort(x), input_types=[TensorType(DType.float32, [])])
    with pytest.raises(ValueError, match=r"argsort .*has dtype bool"):
        Graph("g", lambda x: ops.argsort(x), input_types=[TensorType(DType.bool, [3])])
    with pytest.raises(TypeError, match="ascending must be a bool"):
        Graph("g", lambda x: ops.argsort(x, ascending="yes"),
              input_types=[TensorType(DType.float32, [3])])
