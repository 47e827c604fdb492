"""Every op of the core's contract, run through the Python package on the CPU plugin and
compared with NumPy (and PyTorch when it is importable): each supported dtype, random inputs
of several shapes (rank 0, size-0 dims, broadcasting).

Tolerances per dtype (conftest.assert_close): float32 rtol 1e-5 / atol 1e-6 (transcendentals
2e-5 / 2e-6), float16 2e-3 / 2e-3, bfloat16 1.6e-2 / 1.6e-2 (one ulp of an 8-bit mantissa
is 7.8e-3), integers and bool exact. References are computed in float64 from the (already
rounded) inputs and rounded to the output dtype.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

from conftest import (HAVE_ML_DTYPES, HAVE_TORCH, assert_close, needs_torch, random_array,
                      rng, run_graph)
from kiln.dtype import DType
from kiln.graph import ops

FLOATS = [DType.float32, DType.float16] + ([DType.bfloat16] if HAVE_ML_DTYPES else [])
INTS = [DType.int32, DType.int64]
NUMERIC = FLOATS + INTS


def _ids(dtype: DType) -> str:
    return dtype.name


def _ref(values: np.ndarray, dtype: DType) -> np.ndarray:
    """A float64 reference rounded to ``dtype`` (NumPy has no bfloat16 arithmetic)."""
    with np.errstate(all="ignore"):
        return np.asarray(values).astype(dtype.to_numpy())


def _f64(array: np.ndarray) -> np.ndarray:
    return np.asarray(array).astype(np.float64)


# ==========================================================================================
# Binary element-wise ops
# ==========================================================================================
BINARY_SHAPES: List[Tuple[Tuple[int, ...], Tuple[int, ...]]] = [
    ((), ()),
    ((5,), (5,)),
    ((2, 3), (3,)),
    ((2, 1, 4), (3, 1)),
    ((0, 3), (1, 3)),
    ((4, 5, 6), (4, 5, 6)),
    ((), (2, 3)),
]

BINARY_REFERENCES: Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "pow": np.power,
    "max": np.maximum,
    "min": np.minimum,
    "equal": np.equal,
    "greater": np.greater,
}


def _binary_inputs(op: str, shapes: Tuple[Tuple[int, ...], Tuple[int, ...]], dtype: DType,
                   seed: int) -> Tuple[np.ndarray, np.ndarray]:
    generator = rng(seed)
    lhs = random_array(shapes[0], dtype, generator)
    rhs = random_array(shapes[1], dtype, generator)
    if op == "div":
        # Integer division is only compared where truncation and flooring agree.
        if dtype.is_integral():
            lhs = np.abs(lhs)
            rhs = np.abs(rhs) + 1
            rhs = rhs.astype(lhs.dtype)
        else:
            rhs = np.where(np.abs(_f64(rhs)) < 0.25, 0.5, _f64(rhs)).astype(rhs.dtype)
    if op == "pow":
        if dtype.is_integral():
            lhs = random_array(shapes[0], dtype, generator, 0, 4)
            rhs = random_array(shapes[1], dtype, generator, 0, 3)
        else:
            lhs = random_array(shapes[0], dtype, generator, 0.1, 2.0)
            rhs = random_array(shapes[1], dtype, generator, -2.0, 2.0)
    if op == "equal" and lhs.shape == rhs.shape and lhs.size:
        # Make every other element equal on purpose.
        rhs = rhs.copy()
        rhs.reshape(-1)[::2] = lhs.reshape(-1)[::2]
    return lhs, rhs


@pytest.mark.parametrize("dtype", NUMERIC, ids=_ids)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", sorted(BINARY_REFERENCES))
def test_binary(session, op: str, shapes, dtype: DType) -> None:
    lhs, rhs = _binary_inputs(op, shapes, dtype, seed=zlib.crc32(repr((op, shapes)).encode()) % 1000)
    func = getattr(ops, op)
    (result,) = run_graph(session, lambda a, b: func(a, b), [lhs, rhs])
    with np.errstate(all="ignore"):
        expected64 = BINARY_REFERENCES[op](_f64(lhs), _f64(rhs))
    if op in ("equal", "greater"):
        assert result.dtype == np.bool_
        np.testing.assert_array_equal(result, expected64, err_msg=f"{op} {dtype!r}")
        return
    if dtype.is_integral() and op == "div":
        expected64 = np.floor(expected64)
    rtol = 2e-5 if op == "pow" and dtype == DType.float32 else None
    assert_close(result, _ref(expected64, dtype), dtype, rtol=rtol, what=f"{op} {dtype!r}")


def test_equal_bool(session) -> None:
    generator = rng(3)
    a = random_array((4, 5), DType.bool, generator)
    b = random_array((5,), DType.bool, generator)
    (result,) = run_graph(session, lambda x, y: ops.equal(x, y), [a, b])
    np.testing.assert_array_equal(result, np.equal(a, b))


@pytest.mark.parametrize("dtype", NUMERIC, ids=_ids)
def test_binary_with_python_scalars(session, dtype: DType) -> None:
    """Python scalars take the tensor's dtype (MAX's promotion), on either side."""
    x = random_array((3, 4), dtype, rng(5), 1, 4)
    results = run_graph(session, lambda v: (v + 2, 3 - v, v * 2, 2 * v, v > 2, v == 1), [x])
    xf = _f64(x)
    assert_close(results[0], _ref(xf + 2, dtype), dtype)
    assert_close(results[1], _ref(3 - xf, dtype), dtype)
    assert_close(results[2], _ref(xf * 2, dtype), dtype)
    assert_close(results[3], _ref(2 * xf, dtype), dtype)
    np.testing.assert_array_equal(results[4], xf > 2)
    np.testing.assert_array_equal(results[5], xf == 1)
    for result in results[:4]:
        assert result.dtype == dtype.to_numpy()


def test_comparison_operators(session) -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0, -1.0], np.float32)
    y = np.array([1.0, 3.0, np.nan, 2.0, -1.0], np.float32)
    results = run_graph(session, lambda a, b: (a == b, a != b, a > b, a >= b, a < b, a <= b),
                        [x, y])
    expected = [x == y, x != y, x > y, x >= y, x < y, x <= y]
    for got, want, name in zip(results, expected, ["==", "!=", ">", ">=", "<", "<="]):
        np.testing.assert_array_equal(got, want, err_msg=name)


# ==========================================================================================
# Unary element-wise ops
# ==========================================================================================
def _gelu_exact(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# op -> (kiln builder, reference, dtypes, input range)
UNARY: Dict[str, Tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], List[DType],
                       Tuple[float, float]]] = {
    "negate": (ops.negate, np.negative, NUMERIC, (-3, 3)),
    "abs": (ops.abs, np.abs, NUMERIC, (-3, 3)),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), NUMERIC, (-3, 3)),
    "exp": (ops.exp, np.exp, FLOATS, (-3, 3)),
    "log": (ops.log, np.log, FLOATS, (0.05, 5)),
    "sqrt": (ops.sqrt, np.sqrt, FLOATS, (0.0, 5)),
    "rsqrt": (ops.rsqrt, lambda x: 1.0 / np.sqrt(x), FLOATS, (0.05, 5)),
    "sigmoid": (ops.sigmoid, _sigmoid, FLOATS, (-6, 6)),
    "tanh": (ops.tanh, np.tanh, FLOATS, (-4, 4)),
    "silu": (ops.silu, lambda x: x * _sigmoid(x), FLOATS, (-6, 6)),
    "gelu": (ops.gelu, _gelu_exact, FLOATS, (-4, 4)),
    "gelu_tanh": (lambda x: ops.gelu(x, approximate="tanh"), _gelu_tanh, FLOATS, (-4, 4)),
    "gelu_quick": (lambda x: ops.gelu(x, approximate="quick"),
                   lambda x: x * _sigmoid(1.702 * x), FLOATS, (-4, 4)),
}
UNARY_SHAPES = [(), (7,), (3, 0), (2, 3, 5), (1, 65)]
UNARY_CASES = [(op, dtype) for op, (_, _, dtypes, _) in sorted(UNARY.items()) for dtype in dtypes]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("op,dtype", UNARY_CASES, ids=[f"{o}-{d.name}" for o, d in UNARY_CASES])
def test_unary(session, op: str, dtype: DType, shape) -> None:
    build, reference, _, (low, high) = UNARY[op]
    x = random_array(shape, dtype, rng(len(shape) * 31 + len(op)), low, high)
    (result,) = run_graph(session, build, [x])
    with np.errstate(all="ignore"):
        expected = reference(_f64(x))
    transcendental = op not in ("negate", "abs", "relu")
    rtol = atol = None
    if transcendental and dtype == DType.float32:
        rtol, atol = 2e-5, 2e-6
    assert_close(result, _ref(expected, dtype), dtype, rtol=rtol, atol=atol,
                 what=f"{op} {dtype!r} {shape}")


# ==========================================================================================
# cast
# ==========================================================================================
CAST_TYPES = [DType.float32, DType.float16, DType.int32, DType.int64, DType.bool] + (
    [DType.bfloat16] if HAVE_ML_DTYPES else [])
CAST_CASES = [(a, b) for a in CAST_TYPES for b in CAST_TYPES if a != b]


@pytest.mark.parametrize("source,target", CAST_CASES,
                         ids=[f"{a.name}->{b.name}" for a, b in CAST_CASES])
def test_cast(session, source: DType, target: DType) -> None:
    generator = rng(11)
    x = random_array((4, 6), source, generator, -100, 100)
    if source.is_float():
        # Whole and fractional values, negatives included, all inside every target's range.
        x = (np.round(_f64(x) * 4) / 4).astype(source.to_numpy())
    (result,) = run_graph(session, lambda v: ops.cast(v, target), [x])
    assert result.dtype == target.to_numpy()
    if target == DType.bool:
        expected = _f64(x) != 0
    elif target.is_integral():
        expected = np.trunc(_f64(x)).astype(target.to_numpy())
    else:
        expected = _ref(_f64(x), target)
    assert_close(result, np.asarray(expected), target, what=f"cast {source!r}->{target!r}")


# ==========================================================================================
# matmul
# ==========================================================================================
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
    ((17, 33), (33, 9)),
]


@pytest.mark.parametrize("dtype", NUMERIC, ids=_ids)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(session, shapes, dtype: DType) -> None:
    generator = rng(17)
    a = random_array(shapes[0], dtype, generator, -2, 2)
    b = random_array(shapes[1], dtype, generator, -2, 2)
    (result,) = run_graph(session, lambda x, y: x @ y, [a, b])
    expected = np.matmul(_f64(a), _f64(b))
    k = shapes[0][-1]
    tol = {DType.float32: 1e-5, DType.float16: 2e-3 * max(1, k / 4),
           DType.bfloat16: 1.6e-2 * max(1, k / 8)}.get(dtype)
    assert_close(result, _ref(expected, dtype), dtype, rtol=tol, atol=tol,
                 what=f"matmul {dtype!r} {shapes}")


# ==========================================================================================
# Shape ops
# ==========================================================================================
ALL_TYPES = NUMERIC + [DType.bool]


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape,target", [
    ((2, 3, 4), (6, 4)),
    ((2, 3, 4), (-1,)),
    ((2, 3, 4), (4, -1, 2)),
    ((), (1,)),
    ((1,), ()),
    ((0, 3), (3, 0)),
    ((5, 1), (1, 5)),
], ids=str)
def test_reshape(session, dtype: DType, shape, target) -> None:
    x = random_array(shape, dtype, rng(1))
    (result,) = run_graph(session, lambda v: ops.reshape(v, target), [x])
    np.testing.assert_array_equal(result, x.reshape(target))


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape,axes", [
    ((2, 3), (0, 1)),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, -2)),
    ((2, 0, 4), (1, 2)),
    ((3, 3), (1, 1)),
], ids=str)
def test_transpose(session, dtype: DType, shape, axes) -> None:
    x = random_array(shape, dtype, rng(2))
    (result,) = run_graph(session, lambda v: ops.transpose(v, *axes), [x])
    np.testing.assert_array_equal(result, np.swapaxes(x, *axes))


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape,dims", [
    ((2, 3, 4), (2, 0, 1)),
    ((2, 3, 4), (0, 1, 2)),
    ((5,), (0,)),
    ((), ()),
    ((1, 2, 0, 3), (3, 2, 1, 0)),
], ids=str)
def test_permute(session, dtype: DType, shape, dims) -> None:
    x = random_array(shape, dtype, rng(3))
    (result,) = run_graph(session, lambda v: ops.permute(v, list(dims)), [x])
    np.testing.assert_array_equal(result, np.transpose(x, dims))


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape,target", [
    ((3, 1), (2, 3, 4)),
    ((), (2, 2)),
    ((1,), (0,)),
    ((4,), (3, 4)),
    ((2, 3), (2, 3)),
], ids=str)
def test_broadcast_to(session, dtype: DType, shape, target) -> None:
    x = random_array(shape, dtype, rng(4))
    (result,) = run_graph(session, lambda v: v.broadcast_to(target), [x])
    np.testing.assert_array_equal(result, np.broadcast_to(x, target))


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shapes,axis", [
    (((2, 3), (4, 3)), 0),
    (((2, 3), (2, 1), (2, 5)), 1),
    (((2, 3, 4), (2, 3, 2)), -1),
    (((0, 3), (2, 3)), 0),
    (((3,),), 0),
], ids=str)
def test_concat(session, dtype: DType, shapes, axis: int) -> None:
    generator = rng(5)
    arrays = [random_array(s, dtype, generator) for s in shapes]
    (result,) = run_graph(session, lambda *vs: ops.concat(list(vs), axis=axis), arrays)
    np.testing.assert_array_equal(result, np.concatenate(arrays, axis=axis))


SLICES = [
    (0,),
    (-1,),
    (slice(None), slice(1, 3)),
    (Ellipsis, slice(None, None, -1)),
    (slice(1, -1, 2),),
    (None, slice(None), 0),
    (slice(None, None, -2), Ellipsis),
    (slice(5, 100),),
    (slice(-100, 2),),
    (slice(None), slice(None), None),
    (1, 2, 3),
    (slice(3, 1),),
    (slice(None, None, -1), slice(None, None, -1), slice(None, None, -3)),
    (Ellipsis, 1),
    (slice(-2, None), Ellipsis, slice(None, -1)),
]


def _index_id(index: Tuple[Any, ...]) -> str:
    def one(item: Any) -> str:
        if item is Ellipsis:
            return "..."
        if item is None:
            return "None"
        if isinstance(item, slice):
            return ":".join("" if v is None else str(v) for v in (item.start, item.stop, item.step))
        return str(item)
    return "[" + ",".join(one(i) for i in index) + "]"


@pytest.mark.parametrize("index", SLICES, ids=_index_id)
def test_slice_tensor(session, index) -> None:
    x = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    (result,) = run_graph(session, lambda v: v[index], [x])
    np.testing.assert_array_equal(result, x[index])


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
def test_slice_tensor_dtypes(session, dtype: DType) -> None:
    x = random_array((4, 6), dtype, rng(6))
    (a, b) = run_graph(session, lambda v: (ops.slice_tensor(v, [slice(1, None), 2]),
                                           v[::-1, 1::2]), [x])
    np.testing.assert_array_equal(a, x[1:, 2])
    np.testing.assert_array_equal(b, x[::-1, 1::2])


@pytest.mark.parametrize("index_dtype", [DType.int32, DType.int64], ids=_ids)
@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape,indices_shape,axis", [
    ((5, 3), (4,), 0),
    ((5, 3), (2, 2), -1),
    ((2, 5, 3), (), 1),
    ((2, 5, 3), (0,), 1),
    ((6,), (3, 2), 0),
], ids=str)
def test_gather(session, dtype: DType, index_dtype: DType, shape, indices_shape, axis) -> None:
    generator = rng(7)
    x = random_array(shape, dtype, generator)
    indices = generator.integers(0, shape[axis], size=indices_shape).astype(
        index_dtype.to_numpy())
    (result,) = run_graph(session, lambda v, i: ops.gather(v, i, axis=axis), [x, indices])
    np.testing.assert_array_equal(result, np.take(x, indices, axis=axis))


# ==========================================================================================
# Reductions, softmax, layer_norm
# ==========================================================================================
REDUCE_SHAPES = [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((1, 1), 1),
                 ((2, 7, 3), -2)]
REDUCTIONS = {
    "sum": (ops.sum, np.sum, NUMERIC),
    "mean": (ops.mean, np.mean, FLOATS),
    "max": (lambda x, axis: ops.max(x, axis=axis), np.max, NUMERIC),
    "min": (lambda x, axis: ops.min(x, axis=axis), np.min, NUMERIC),
    "argmax": (ops.argmax, np.argmax, NUMERIC),
}
REDUCE_CASES = [(op, d) for op, (_, _, dtypes) in sorted(REDUCTIONS.items()) for d in dtypes]


@pytest.mark.parametrize("shape,axis", REDUCE_SHAPES, ids=str)
@pytest.mark.parametrize("op,dtype", REDUCE_CASES,
                         ids=[f"{o}-{d.name}" for o, d in REDUCE_CASES])
def test_reduction(session, op: str, dtype: DType, shape, axis: int) -> None:
    build, reference, _ = REDUCTIONS[op]
    x = random_array(shape, dtype, rng(8))
    (result,) = run_graph(session, lambda v: build(v, axis=axis), [x])
    if op == "argmax":
        assert result.dtype == np.int64
        np.testing.assert_array_equal(result, np.expand_dims(np.argmax(x, axis=axis), axis))
        return
    expected = reference(_f64(x), axis=axis, keepdims=True)
    n = shape[axis]
    tol = {DType.float16: 2e-3 * max(1, n / 4), DType.bfloat16: 1.6e-2 * max(1, n / 4)}.get(dtype)
    assert_close(result, _ref(expected, dtype), dtype, rtol=tol, atol=tol,
                 what=f"{op} {dtype!r} {shape} axis={axis}")


def test_reduction_over_empty_axis(session) -> None:
    x = np.zeros((3, 0), np.float32)
    (total,) = run_graph(session, lambda v: ops.sum(v, axis=-1), [x])
    np.testing.assert_array_equal(total, np.zeros((3, 1), np.float32))


def test_argmax_ties_pick_first(session) -> None:
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32)
    (result,) = run_graph(session, lambda v: ops.argmax(v), [x])
    np.testing.assert_array_equal(result, [[1], [0]])


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS, ids=_ids)
@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0),
                                        ((2, 3, 17), 1), ((2, 0, 3), -1)], ids=str)
def test_softmax(session, dtype: DType, shape, axis: int) -> None:
    x = random_array(shape, dtype, rng(9), -5, 5)
    (result,) = run_graph(session, lambda v: ops.softmax(v, axis=axis), [x])
    assert_close(result, _ref(_softmax(_f64(x), axis), dtype), dtype,
                 rtol=2e-5 if dtype == DType.float32 else None,
                 atol=2e-6 if dtype == DType.float32 else None)


def test_softmax_large_values_are_stable(session) -> None:
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]], np.float32)
    (result,) = run_graph(session, ops.softmax, [x])
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, _softmax(_f64(x), -1), rtol=1e-5, atol=1e-6)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.mark.parametrize("dtype", FLOATS, ids=_ids)
@pytest.mark.parametrize("shape", [(4, 8), (2, 3, 16), (7,), (1, 1)], ids=str)
def test_layer_norm(session, dtype: DType, shape) -> None:
    generator = rng(10)
    x = random_array(shape, dtype, generator)
    gamma = random_array(shape[-1:], dtype, generator, 0.5, 1.5)
    beta = random_array(shape[-1:], dtype, generator, -0.5, 0.5)
    (result,) = run_graph(session, lambda v, g, b: ops.layer_norm(v, g, b, 1e-5),
                          [x, gamma, beta])
    expected = _layer_norm(_f64(x), _f64(gamma), _f64(beta), 1e-5)
    tol = {DType.float32: 1e-4, DType.float16: 1e-2, DType.bfloat16: 5e-2}[dtype]
    assert_close(result, _ref(expected, dtype), dtype, rtol=tol, atol=tol)


# ==========================================================================================
# where, constant
# ==========================================================================================
@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5), (4, 5)), ((5,), (4, 5), ()),
                                    ((4, 1), (1, 5), (4, 5)), ((0, 2), (2,), (2,))], ids=str)
def test_where(session, dtype: DType, shapes) -> None:
    generator = rng(12)
    cond = random_array(shapes[0], DType.bool, generator)
    x = random_array(shapes[1], dtype, generator)
    y = random_array(shapes[2], dtype, generator)
    (result,) = run_graph(session, ops.where, [cond, x, y])
    np.testing.assert_array_equal(result, np.where(cond, x, y))


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=_ids)
@pytest.mark.parametrize("shape", [(), (3,), (2, 0), (2, 3)], ids=str)
def test_constant(session, dtype: DType, shape) -> None:
    value = random_array(shape, dtype, rng(13))
    x = np.zeros(shape, dtype.to_numpy())

    def build(v: Any) -> Any:
        c = ops.constant(value, dtype=dtype)
        return c, ops.where(ops.equal(c, c), c, v)

    outputs = run_graph(session, build, [x])
    for out in outputs:
        np.testing.assert_array_equal(out, value)


def test_constant_conversions(session) -> None:
    x = np.zeros((), np.float32)

    def build(v: Any) -> Any:
        return (ops.constant(1.5, DType.float32) + v, ops.constant([1, 2, 3], DType.int64),
                ops.constant(np.array([0.1, 0.2]), DType.float16),
                ops.constant(7, DType.int32), ops.constant(True, DType.bool))

    a, b, c, d, e = run_graph(session, build, [x])
    assert a == np.float32(1.5) and a.shape == ()
    np.testing.assert_array_equal(b, np.array([1, 2, 3], np.int64))
    np.testing.assert_array_equal(c, np.array([0.1, 0.2], np.float16))
    assert d.dtype == np.int32 and d == 7
    assert e.dtype == np.bool_ and bool(e)


# ==========================================================================================
# Composed ops and TensorValue methods
# ==========================================================================================
def test_composed_shape_ops(session) -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = np.arange(24, 48, dtype=np.float32).reshape(2, 3, 4)
    results = run_graph(session, lambda a, b: (
        a.flatten(), a.flatten(1), ops.squeeze(a[:, :1], 1), ops.unsqueeze(a, -1),
        ops.stack([a, b], axis=1), a.T, a.permute([1, 0, 2]), a.cast(DType.int32),
        a.sum(), a.mean(1), a.max(0), a.min(), a.argmax(), -a, abs(a - 10), a ** 2,
        a / 2, 2 / (a + 1), a @ ops.transpose(b, 1, 2)), [x, y])
    expected = [x.reshape(-1), x.reshape(2, 12), x[:, 0], x[..., None], np.stack([x, y], 1),
                np.swapaxes(x, -1, -2), x.transpose(1, 0, 2), x.astype(np.int32),
                x.sum(-1, keepdims=True), x.mean(1, keepdims=True), x.max(0, keepdims=True),
                x.min(-1, keepdims=True), x.argmax(-1)[..., None], -x, np.abs(x - 10), x ** 2,
                x / 2, 2 / (x + 1), x @ np.swapaxes(y, 1, 2)]
    for i, (got, want) in enumerate(zip(results, expected)):
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"result {i}")


# ==========================================================================================
# PyTorch as a second oracle
# ==========================================================================================
TORCH_CASES = ["gelu", "gelu_tanh", "silu", "sigmoid", "softmax", "layer_norm", "matmul"]


@needs_torch
@pytest.mark.parametrize("op", TORCH_CASES)
def test_against_torch(session, op: str) -> None:
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: N812,PLC0415

    generator = rng(21)
    x = random_array((3, 8), DType.float32, generator)
    tx = torch.from_numpy(x)
    if op == "matmul":
        w = random_array((8, 5), DType.float32, generator)
        (got,) = run_graph(session, lambda a, b: a @ b, [x, w])
        want = (tx @ torch.from_numpy(w)).numpy()
    elif op == "layer_norm":
        g = random_array((8,), DType.float32, generator)
        b = random_array((8,), DType.float32, generator)
        (got,) = run_graph(session, lambda a, gg, bb: ops.layer_norm(a, gg, bb, 1e-5), [x, g, b])
        want = F.layer_norm(tx, (8,), torch.from_numpy(g), torch.from_numpy(b), 1e-5).numpy()
    else:
        build: Dict[str, Callable[[Any], Any]] = {
            "gelu": ops.gelu, "gelu_tanh": lambda a: ops.gelu(a, approximate="tanh"),
            "silu": ops.silu, "sigmoid": ops.sigmoid, "softmax": ops.softmax}
        reference = {"gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
                     "silu": F.silu, "sigmoid": torch.sigmoid,
                     "softmax": lambda t: torch.softmax(t, -1)}
        (got,) = run_graph(session, build[op], [x])
        want = reference[op](tx).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_torch_oracle_status() -> None:
    """Says in the log whether PyTorch took part (it is optional)."""
    if not HAVE_TORCH:
        pytest.skip("PyTorch not importable: NumPy was the only oracle")
