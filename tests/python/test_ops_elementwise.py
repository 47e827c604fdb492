"""Element-wise ops of MAX's set on the CPU plugin, against NumPy (and ml_dtypes for float8):
the unary math and predicates, logic, mod, not_equal/greater_equal as core ops, the dtypes every
op supports (all integer widths, signed and unsigned, float64), and cast to and from float8.

Inputs: rank 0, a size-0 dim, broadcasting, and a non-contiguous NumPy view ("T": a transposed
array) for each op and dtype. Tolerances per dtype (conftest.assert_close): float64 1e-12,
float32 1e-5 / 1e-6 (libm functions 2e-5 / 2e-6), float16 2e-3, bfloat16 1.6e-2 (the kernels
compute halves in float32); integers and bool exact. References are computed in float64 from
the (already rounded) inputs and rounded to the output dtype.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

from conftest import (FLOATS, INTS, NUMERIC, SIGNED, UNSIGNED, HAVE_ML_DTYPES, assert_close,
    needs_ml_dtypes, random_array, rng, run_graph, case_seed as _seed, cast_ref as _ref,
    to_f64 as _f64)
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, ops



def _array(shape: Any, dtype: DType, generator: np.random.Generator, low: float = -3.0,
           high: float = 3.0) -> np.ndarray:
    """Random data; shape "T" is a transposed (non-contiguous) view of a [3, 5] array."""
    if dtype in UNSIGNED:
        low = max(low, 0.0)
    if shape == "T":
        base = random_array((3, 5), dtype, generator, low, high)
        view = base.T
        assert not view.flags.c_contiguous
        return view
    return random_array(shape, dtype, generator, low, high)


# ==========================================================================================
# Binary ops over every numeric dtype
# ==========================================================================================
BINARY_SHAPES: List[Tuple[Any, Any]] = [((), ()), ((2, 1, 4), (3, 1)), ((0, 3), (1, 3)),
                                        ("T", (5, 3)), ((5, 3), "T")]


def _int_reference(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer references in the operands' own dtype (NumPy wraps the same way)."""
    with np.errstate(all="ignore"):
        if op == "div":
            # Truncation toward zero; inputs keep |b| >= 1.
            q = np.abs(a.astype(np.int64)) // np.abs(b.astype(np.int64))
            sign = np.where((a < 0) != (b < 0), -1, 1) if a.dtype.kind == "i" else 1
            return (q * sign).astype(a.dtype)
        return {
            "add": np.add, "sub": np.subtract, "mul": np.multiply, "pow": np.power,
            "mod": np.mod, "max": np.maximum, "min": np.minimum,
        }[op](a, b)


BINARY_OPS = ["add", "sub", "mul", "div", "pow", "mod", "max", "min"]
FLOAT_REFERENCES: Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "mod": np.mod, "max": np.maximum, "min": np.minimum,
}
COMPARISONS: Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
    "greater_equal": np.greater_equal,
}


def _binary_inputs(op: str, shapes: Tuple[Any, Any], dtype: DType,
                   seed: int) -> Tuple[np.ndarray, np.ndarray]:
    g = rng(seed)
    if op == "pow":
        if dtype.is_integral():
            return _array(shapes[0], dtype, g, -3, 3), _array(shapes[1], dtype, g, 0, 4)
        return _array(shapes[0], dtype, g, 0.1, 2.0), _array(shapes[1], dtype, g, -2.0, 2.0)
    lhs = _array(shapes[0], dtype, g, -20 if dtype.is_integral() else -3, 20)
    rhs = _array(shapes[1], dtype, g, -6 if dtype.is_integral() else -3, 6)
    if op in ("div", "mod"):
        if dtype.is_integral():
            rhs = np.where(rhs == 0, 1, rhs).astype(rhs.dtype)
        else:
            rhs = np.where(np.abs(_f64(rhs)) < 0.25, 0.5, _f64(rhs)).astype(rhs.dtype)
    return lhs, rhs


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_all_dtypes(session, op: str, shapes, dtype: DType) -> None:
    lhs, rhs = _binary_inputs(op, shapes, dtype, _seed(op, shapes, dtype.name))
    func = {"max": ops.max, "min": ops.min}.get(op) or getattr(ops, op)
    (result,) = run_graph(session, lambda a, b: func(a, b), [lhs, rhs])
    if dtype.is_integral():
        expected = _int_reference(op, lhs, rhs)
        np.testing.assert_array_equal(result, np.broadcast_to(expected, result.shape),
                                      err_msg=f"{op} {dtype!r}")
        return
    with np.errstate(all="ignore"):
        expected64 = FLOAT_REFERENCES[op](_f64(lhs), _f64(rhs))
    rtol = 2e-5 if op in ("pow", "mod") and dtype == DType.float32 else None
    atol = 1e-6 if op == "mod" and dtype == DType.float32 else None
    assert_close(result, _ref(expected64, dtype), dtype, rtol=rtol, atol=atol,
                 what=f"{op} {dtype!r}")


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparisons(session, op: str, shapes, dtype: DType) -> None:
    g = rng(_seed(op, shapes, dtype.name))
    lhs = _array(shapes[0], dtype, g, 0, 4)
    rhs = _array(shapes[1], dtype, g, 0, 4)
    if not dtype.is_integral():  # whole numbers: ties happen
        lhs = np.floor(_f64(lhs)).astype(lhs.dtype)
        rhs = np.floor(_f64(rhs)).astype(rhs.dtype)
    (result,) = run_graph(session, lambda a, b: getattr(ops, op)(a, b), [lhs, rhs])
    assert result.dtype == np.bool_
    np.testing.assert_array_equal(result, COMPARISONS[op](_f64(lhs), _f64(rhs)),
                                  err_msg=f"{op} {dtype!r}")


def test_comparisons_are_core_ops_and_nan(session) -> None:
    nan = np.float32("nan")
    a = np.array([1.0, nan, nan, 2.0, -0.0], np.float32)
    b = np.array([1.0, 1.0, nan, 3.0, 0.0], np.float32)
    results = run_graph(session, lambda x, y: (ops.not_equal(x, y), ops.greater_equal(x, y)),
                        [a, b])
    np.testing.assert_array_equal(results[0], np.not_equal(a, b))
    np.testing.assert_array_equal(results[1], np.greater_equal(a, b))


def test_not_equal_bool(session) -> None:
    g = rng(5)
    a = random_array((4, 5), DType.bool, g)
    b = random_array((5,), DType.bool, g)
    (result,) = run_graph(session, lambda x, y: ops.not_equal(x, y), [a, b])
    np.testing.assert_array_equal(result, a != b)


# -- mod semantics ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [DType.int8, DType.int32, DType.int64], ids=lambda d: d.name)
def test_mod_sign_follows_divisor_and_edges(session, dtype: DType) -> None:
    info = np.iinfo(dtype.to_numpy())
    a = np.array([7, -7, 7, -7, 0, info.min, info.min, 5], dtype.to_numpy())
    b = np.array([3, 3, -3, -3, 3, -1, 7, 0], dtype.to_numpy())
    (result,) = run_graph(session, lambda x, y: ops.mod(x, y), [a, b])
    with np.errstate(all="ignore"):
        expected = np.mod(a, b)  # NumPy: x mod 0 is 0 too
    np.testing.assert_array_equal(result, expected)


def test_mod_float_sign_and_zero(session) -> None:
    a = np.array([7.5, -7.5, 7.5, -7.5, 6.0, -6.0, 1.0, np.inf], np.float64)
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0], np.float64)
    (result,) = run_graph(session, lambda x, y: ops.mod(x, y), [a, b])
    with np.errstate(all="ignore"):
        expected = np.mod(a, b)
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(np.signbit(result[:6]), np.signbit(expected[:6]))


def test_integer_pow_and_div_edges(session) -> None:
    a = np.array([2, -2, 3, 1, -1, 0, 5, -128], np.int8)
    b = np.array([7, 3, 5, -3, -3, 0, 0, -1], np.int8)
    results = run_graph(session, lambda x, y: (ops.pow(x, y), ops.div(x, y)), [a, b])
    np.testing.assert_array_equal(results[0], np.array([-128, -8, -13, 1, -1, 1, 1, 0],
                                                       np.int8))
    np.testing.assert_array_equal(results[1], np.array([0, 0, 0, 0, 0, 0, 0, -128], np.int8))
    u = np.array([250, 3, 7], np.uint8)
    v = np.array([2, 7, 2], np.uint8)
    results = run_graph(session, lambda x, y: (ops.pow(x, y), ops.div(x, y), ops.sub(y, x)),
                        [u, v])
    np.testing.assert_array_equal(results[0], np.power(u, v))
    np.testing.assert_array_equal(results[1], u // v)
    np.testing.assert_array_equal(results[2], v - u)


# ==========================================================================================
# Logic
# ==========================================================================================
LOGICAL: Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", sorted(LOGICAL))
def test_logical_binary(session, op: str, shapes) -> None:
    g = rng(_seed(op, shapes))
    a = _array(shapes[0], DType.bool, g)
    b = _array(shapes[1], DType.bool, g)
    (result,) = run_graph(session, lambda x, y: getattr(ops, op)(x, y), [a, b])
    assert result.dtype == np.bool_
    np.testing.assert_array_equal(result, LOGICAL[op](a, b))


@pytest.mark.parametrize("shape", [(), (7,), (3, 0), "T"], ids=str)
def test_logical_not(session, shape) -> None:
    a = _array(shape, DType.bool, rng(_seed("not", shape)))
    (result,) = run_graph(session, lambda x: ops.logical_not(x), [a])
    np.testing.assert_array_equal(result, np.logical_not(a))


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical_rejects_non_bool(op: str) -> None:
    with pytest.raises(ValueError, match=rf"{op} .*operand 0 \(lhs\) has dtype float32.*bool"):
        Graph("g", lambda x, y: getattr(ops, op)(x, y),
              input_types=[TensorType(DType.float32, [2]), TensorType(DType.bool, [2])])


def test_logical_not_rejects_non_bool() -> None:
    with pytest.raises(ValueError, match=r"logical_not .*operand 0 \(x\) has dtype int32"):
        Graph("g", lambda x: ops.logical_not(x), input_types=[TensorType(DType.int32, [2])])


# ==========================================================================================
# Unary ops
# ==========================================================================================
def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# op -> (reference in float64, input range, dtypes)
UNARY: Dict[str, Tuple[Callable[[np.ndarray], np.ndarray], Tuple[float, float], List[DType]]] = {
    "atanh": (np.arctanh, (-0.95, 0.95), FLOATS),
    "cos": (np.cos, (-6.0, 6.0), FLOATS),
    "sin": (np.sin, (-6.0, 6.0), FLOATS),
    "erf": (_erf, (-3.0, 3.0), FLOATS),
    "log1p": (np.log1p, (-0.9, 5.0), FLOATS),
    "floor": (np.floor, (-5.0, 5.0), NUMERIC),
    "round": (np.round, (-5.0, 5.0), NUMERIC),
    "trunc": (np.trunc, (-5.0, 5.0), NUMERIC),
    "negate": (np.negative, (-5.0, 5.0), NUMERIC),
    "abs": (np.abs, (-5.0, 5.0), NUMERIC),
    "relu": (lambda x: np.maximum(x, 0), (-5.0, 5.0), NUMERIC),
    "exp": (np.exp, (-3.0, 3.0), [DType.float64]),
    "log": (np.log, (0.1, 5.0), [DType.float64]),
    "tanh": (np.tanh, (-3.0, 3.0), [DType.float64]),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-5.0, 5.0), [DType.float64]),
}
UNARY_SHAPES = [(), (7,), (3, 0), (2, 3, 5), "T"]
UNARY_CASES = [(op, dtype) for op, (_, _, dtypes) in sorted(UNARY.items()) for dtype in dtypes]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("op,dtype", UNARY_CASES, ids=[f"{o}-{d.name}" for o, d in UNARY_CASES])
def test_unary(session, op: str, dtype: DType, shape) -> None:
    reference, (low, high), _ = UNARY[op]
    x = _array(shape, dtype, rng(_seed(op, dtype.name, shape)), low, high)
    (result,) = run_graph(session, lambda v: getattr(ops, op)(v), [x])
    assert result.dtype == x.dtype
    if dtype.is_integral():
        with np.errstate(all="ignore"):
            expected = x if op in ("floor", "round", "trunc") else reference(x).astype(x.dtype)
        if dtype in UNSIGNED and op == "negate":
            expected = (0 - x.astype(np.uint64)).astype(x.dtype)
        np.testing.assert_array_equal(result, expected, err_msg=f"{op} {dtype!r}")
        return
    precise = op in ("floor", "round", "trunc", "negate", "abs", "relu")
    rtol = None if precise or dtype != DType.float32 else 2e-5
    atol = None if precise or dtype != DType.float32 else 2e-6
    assert_close(result, _ref(reference(_f64(x)), dtype), dtype, rtol=rtol, atol=atol,
                 what=f"{op} {dtype!r}")


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_round_halves_to_even_and_specials(session, dtype: DType) -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7, -3.2, np.inf, -np.inf, np.nan],
                 np.float64).astype(dtype.to_numpy())
    results = run_graph(session, lambda v: (ops.round(v), ops.floor(v), ops.trunc(v)), [x])
    for result, reference in zip(results, (np.round, np.floor, np.trunc)):
        np.testing.assert_array_equal(_f64(result), reference(_f64(x)))


@pytest.mark.parametrize("shape", [(), (7,), (3, 0), "T"], ids=str)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_is_inf_is_nan(session, dtype: DType, shape) -> None:
    base_shape = (3, 5) if shape == "T" else shape
    values = _f64(random_array(base_shape, dtype, rng(_seed("isinf", dtype.name, shape))))
    flat = values.reshape(-1)
    for i, special in enumerate([np.inf, -np.inf, np.nan][:flat.size]):
        flat[i * 2 % max(flat.size, 1)] = special
    x = values.astype(dtype.to_numpy())
    if shape == "T":
        x = x.T  # non-contiguous
    results = run_graph(session, lambda v: (ops.is_inf(v), ops.is_nan(v)), [x])
    assert results[0].dtype == np.bool_ and results[1].dtype == np.bool_
    np.testing.assert_array_equal(results[0], np.isinf(_f64(x)))
    np.testing.assert_array_equal(results[1], np.isnan(_f64(x)))


@pytest.mark.parametrize("op", ["atanh", "cos", "erf", "is_inf", "is_nan"])
def test_float_only_unary_rejects_integers(op: str) -> None:
    with pytest.raises(ValueError, match=rf"{op} .*operand 0 \(x\) has dtype int32.*float"):
        Graph("g", lambda x: getattr(ops, op)(x), input_types=[TensorType(DType.int32, [2])])


def test_float_specials(session) -> None:
    x = np.array([1.0, -1.0, 2.0, 0.0, -0.0, np.inf, np.nan], np.float32)
    results = run_graph(session, lambda v: (ops.atanh(v), ops.log1p(v), ops.erf(v)), [x])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(results[0], np.arctanh(x))
        np.testing.assert_array_equal(results[1], np.log1p(x))
    np.testing.assert_allclose(results[2], _erf(_f64(x)), rtol=2e-7, atol=0)


# -- gelu: both MAX approximations, float64 and a non-contiguous input ------------------------
@pytest.mark.parametrize("approximate", ["none", "tanh", "quick"])
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_gelu_modes(session, dtype: DType, approximate: str) -> None:
    x = _array("T", dtype, rng(_seed("gelu", dtype.name, approximate)), -5, 5)
    (result,) = run_graph(session, lambda v: ops.gelu(v, approximate=approximate), [x])
    v = _f64(x)
    if approximate == "none":
        expected = 0.5 * v * (1 + _erf(v / math.sqrt(2)))
    elif approximate == "tanh":
        expected = 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
    else:
        expected = v / (1 + np.exp(-1.702 * v))
    tight = dtype == DType.float32
    assert_close(result, _ref(expected, dtype), dtype, rtol=2e-5 if tight else None,
                 atol=2e-6 if tight else None, what=f"gelu {approximate} {dtype!r}")


# ==========================================================================================
# cast: every integer width, and float8
# ==========================================================================================
CAST_TYPES = [DType.float32, DType.float64, DType.float16, DType.int8, DType.int16,
              DType.int32, DType.int64, DType.uint8, DType.uint16, DType.uint32, DType.uint64,
              DType.bool]


@pytest.mark.parametrize("target", CAST_TYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("source", CAST_TYPES, ids=lambda d: d.name)
def test_cast_all_widths(session, source: DType, target: DType) -> None:
    g = rng(_seed("cast", source.name, target.name))
    low = 0 if source in UNSIGNED or target in UNSIGNED or target == DType.bool else -100
    x = _array("T", source, g, low, 100)
    (result,) = run_graph(session, lambda v: ops.cast(v, target), [x])
    expected = _f64(x).astype(target.to_numpy()) if source.is_float() else \
        x.astype(target.to_numpy())
    np.testing.assert_array_equal(result, expected, err_msg=f"{source!r} -> {target!r}")


def test_cast_uint64_large_values(session) -> None:
    x = np.array([0, 1, 2 ** 63, 2 ** 64 - 1], np.uint64)
    results = run_graph(session, lambda v: (ops.cast(v, DType.float64), ops.cast(v, DType.int64)),
                        [x])
    np.testing.assert_array_equal(results[0], x.astype(np.float64))
    np.testing.assert_array_equal(results[1], x.astype(np.int64))


F8_TYPES = [DType.float8_e4m3fn, DType.float8_e5m2]


def _f8_probe_values() -> np.ndarray:
    special = [0.0, -0.0, 1.0, -1.0, 0.1, 448.0, 460.0, 464.0, 465.0, 480.0, 1000.0, 57344.0,
               61439.0, 61440.0, 1e6, np.inf, -np.inf, np.nan, 2.0 ** -6, 2.0 ** -9, 2.0 ** -10,
               3 * 2.0 ** -11, 2.0 ** -14, 2.0 ** -16, 2.0 ** -17, 3 * 2.0 ** -18, 1e-9,
               1.0625, 1.125, 1.1875, 0.3, -0.7, 240.0, 232.0, 248.0]
    g = rng(11)
    random = g.uniform(-600, 600, 64) * np.exp2(g.integers(-18, 4, 64))
    return np.concatenate([np.array(special), random])


@needs_ml_dtypes
@pytest.mark.parametrize("source", [DType.float32, DType.float64, DType.float16, DType.bfloat16],
                         ids=lambda d: d.name)
@pytest.mark.parametrize("target", F8_TYPES, ids=lambda d: d.name)
def test_cast_to_float8_matches_ml_dtypes(session, source: DType, target: DType) -> None:
    with np.errstate(all="ignore"):
        x = _f8_probe_values().astype(source.to_numpy())
    (result,) = run_graph(session, lambda v: ops.cast(v, target), [x])
    expected = x.astype(target.to_numpy())
    assert result.dtype == expected.dtype
    got, want = _f64(result), _f64(expected)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{x}")
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@needs_ml_dtypes
@pytest.mark.parametrize("target", [DType.float32, DType.float64, DType.float16, DType.bfloat16,
                                    DType.int32, DType.uint8, DType.bool, DType.float8_e5m2,
                                    DType.float8_e4m3fn], ids=lambda d: d.name)
@pytest.mark.parametrize("source", F8_TYPES, ids=lambda d: d.name)
def test_cast_from_float8_every_code(session, source: DType, target: DType) -> None:
    codes = np.arange(256, dtype=np.uint8).view(source.to_numpy()).reshape(16, 16).T
    if target.is_integral():
        values = _f64(codes)
        keep = np.isfinite(values) & (np.abs(values) < 100)
        if target in UNSIGNED:
            keep &= values >= 0
        codes = codes.T.reshape(-1)[keep.T.reshape(-1)]
    (result,) = run_graph(session, lambda v: ops.cast(v, target), [codes])
    expected = _f64(codes).astype(target.to_numpy()) if target != source else codes
    got, want = _f64(result), _f64(expected)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)],
                                  err_msg=f"{source!r} -> {target!r}")


# ==========================================================================================
# Errors name the op, the node, the operand and the reason
# ==========================================================================================
def test_mod_dtype_mismatch_message() -> None:
    with pytest.raises(ValueError, match=r"mod .*operand 1 \(rhs\) has dtype int8 but "
                                         r"operand 0 \(lhs\) has int32"):
        Graph("g", lambda x, y: ops.mod(x, y),
              input_types=[TensorType(DType.int32, [2]), TensorType(DType.int8, [2])])


def test_greater_equal_rejects_bool() -> None:
    with pytest.raises(ValueError, match=r"greater_equal .*has dtype bool"):
        Graph("g", lambda x, y: ops.greater_equal(x, y),
              input_types=[TensorType(DType.bool, [2]), TensorType(DType.bool, [2])])


def test_symbolic_dims_flow_through(session) -> None:
    graph = Graph("g", lambda x, y: (ops.mod(x, y), ops.logical_not(ops.is_nan(x))),
                  input_types=[TensorType(DType.float32, ["batch", 3]),
                               TensorType(DType.float32, [3])])
    model = session.load(graph)
    x = rng(2).uniform(-3, 3, (4, 3)).astype(np.float32)
    y = np.array([1.5, -2.0, 2.5], np.float32)
    out = [t.to_numpy() for t in model.execute(x, y)]
    np.testing.assert_allclose(out[0], np.mod(x, y), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[1], np.ones((4, 3), bool))
