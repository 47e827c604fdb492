"""Element-wise ops: arithmetic, comparisons, logic, unary math, activations, cast and where.

Binary ops broadcast NumPy-style and need operands of one dtype; a Python or NumPy scalar (or
array) operand becomes a constant of the other operand's dtype.
"""

from __future__ import annotations

from typing import Any

from ...dtype import DType
from ..value import TensorValue, TensorValueLike
from ._common import as_value, binary_operands, emit1, graph_of, tensor_operand

__all__ = [
    "abs", "add", "atanh", "cast", "cos", "div", "equal", "erf", "exp", "floor", "gelu",
    "greater", "greater_equal", "is_inf", "is_nan", "log", "log1p", "logical_and", "logical_not",
    "logical_or", "logical_xor", "mod", "mul", "negate", "not_equal", "pow", "relu", "round",
    "rsqrt", "sigmoid", "silu", "sin", "sqrt", "sub", "tanh", "trunc", "where",
]


def _binary(op: str, lhs: Any, rhs: Any) -> TensorValue:
    a, b = binary_operands(op, lhs, rhs)
    return emit1(op, [a, b])


def _unary(op: str, x: Any) -> TensorValue:
    return emit1(op, [tensor_operand(op, x)])


# -- arithmetic ------------------------------------------------------------------------------
def add(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs + rhs`` with NumPy broadcasting."""
    return _binary("add", lhs, rhs)


def sub(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs - rhs`` with NumPy broadcasting."""
    return _binary("sub", lhs, rhs)


def mul(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs * rhs`` with NumPy broadcasting."""
    return _binary("mul", lhs, rhs)


def div(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs / rhs`` with NumPy broadcasting (integer types divide as the CPU
    plugin's kernel does, truncating toward zero)."""
    return _binary("div", lhs, rhs)


def pow(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:  # noqa: A001
    """Element-wise ``lhs ** rhs`` with NumPy broadcasting (integer types: exact, wrapping on
    overflow; a negative exponent gives 0 unless the base is 1 or -1)."""
    return _binary("pow", lhs, rhs)


def mod(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise remainder with the sign of ``rhs`` (Python's ``%``, NumPy's ``mod``), with
    NumPy broadcasting. ``x mod 0`` is 0 for integers and NaN for floats."""
    return _binary("mod", lhs, rhs)


def maximum(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise maximum with NumPy broadcasting (``ops.max(x, y)``)."""
    return _binary("max", lhs, rhs)


def minimum(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise minimum with NumPy broadcasting (``ops.min(x, y)``)."""
    return _binary("min", lhs, rhs)


# -- comparisons -----------------------------------------------------------------------------
def equal(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs == rhs`` as a bool tensor, with NumPy broadcasting."""
    return _binary("equal", lhs, rhs)


def greater(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs > rhs`` as a bool tensor, with NumPy broadcasting."""
    return _binary("greater", lhs, rhs)


def not_equal(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs != rhs`` as a bool tensor, with NumPy broadcasting (NaN != NaN is
    True, as in NumPy)."""
    return _binary("not_equal", lhs, rhs)


def greater_equal(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs >= rhs`` as a bool tensor, with NumPy broadcasting (comparisons with
    NaN are False)."""
    return _binary("greater_equal", lhs, rhs)


# -- logic (bool operands) -------------------------------------------------------------------
def logical_and(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs and rhs`` of bool tensors, with NumPy broadcasting."""
    return _binary("logical_and", lhs, rhs)


def logical_or(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs or rhs`` of bool tensors, with NumPy broadcasting."""
    return _binary("logical_or", lhs, rhs)


def logical_xor(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise exclusive or of bool tensors, with NumPy broadcasting."""
    return _binary("logical_xor", lhs, rhs)


def logical_not(x: TensorValueLike) -> TensorValue:
    """Element-wise negation of a bool tensor."""
    return _unary("logical_not", x)


# -- unary math ------------------------------------------------------------------------------
def negate(x: TensorValueLike) -> TensorValue:
    """Element-wise ``-x``."""
    return _unary("negate", x)


def abs(x: TensorValueLike) -> TensorValue:  # noqa: A001
    """Element-wise absolute value."""
    return _unary("abs", x)


def exp(x: TensorValueLike) -> TensorValue:
    """Element-wise ``e ** x``."""
    return _unary("exp", x)


def log(x: TensorValueLike) -> TensorValue:
    """Element-wise natural logarithm."""
    return _unary("log", x)


def sqrt(x: TensorValueLike) -> TensorValue:
    """Element-wise square root."""
    return _unary("sqrt", x)


def rsqrt(x: TensorValueLike) -> TensorValue:
    """Element-wise ``1 / sqrt(x)``."""
    return _unary("rsqrt", x)


def tanh(x: TensorValueLike) -> TensorValue:
    """Element-wise hyperbolic tangent."""
    return _unary("tanh", x)


def atanh(x: TensorValueLike) -> TensorValue:
    """Element-wise inverse hyperbolic tangent (NaN outside [-1, 1], +-inf at +-1)."""
    return _unary("atanh", x)


def cos(x: TensorValueLike) -> TensorValue:
    """Element-wise cosine (radians)."""
    return _unary("cos", x)


def sin(x: TensorValueLike) -> TensorValue:
    """Element-wise sine (radians)."""
    return _unary("sin", x)


def erf(x: TensorValueLike) -> TensorValue:
    """Element-wise Gauss error function."""
    return _unary("erf", x)


def log1p(x: TensorValueLike) -> TensorValue:
    """Element-wise ``log(1 + x)``, accurate for small ``x``."""
    return _unary("log1p", x)


def floor(x: TensorValueLike) -> TensorValue:
    """Element-wise largest integer not above ``x`` (the identity on integer types)."""
    return _unary("floor", x)


def round(x: TensorValueLike) -> TensorValue:  # noqa: A001
    """Element-wise rounding to the nearest integer, halves to even as NumPy (the identity on
    integer types)."""
    return _unary("round", x)


def trunc(x: TensorValueLike) -> TensorValue:
    """Element-wise rounding toward zero (the identity on integer types)."""
    return _unary("trunc", x)


def is_inf(x: TensorValueLike) -> TensorValue:
    """Element-wise test for +-inf of a float tensor, as a bool tensor."""
    return _unary("is_inf", x)


def is_nan(x: TensorValueLike) -> TensorValue:
    """Element-wise test for NaN of a float tensor, as a bool tensor."""
    return _unary("is_nan", x)


# -- activations -----------------------------------------------------------------------------
def relu(x: TensorValueLike) -> TensorValue:
    """Element-wise ``max(x, 0)``."""
    return _unary("relu", x)


def sigmoid(x: TensorValueLike) -> TensorValue:
    """Element-wise logistic function ``1 / (1 + exp(-x))``."""
    return _unary("sigmoid", x)


def silu(x: TensorValueLike) -> TensorValue:
    """Element-wise ``x * sigmoid(x)`` (also called swish)."""
    return _unary("silu", x)


def gelu(x: TensorValueLike, approximate: str = "none") -> TensorValue:
    """Element-wise Gaussian error linear unit.

    Args:
        x: input tensor.
        approximate: ``"none"`` for ``0.5 * x * (1 + erf(x / sqrt(2)))``; ``"tanh"`` for
            ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``; ``"quick"`` for
            ``x * sigmoid(1.702 * x)`` (composed of ``mul`` and ``sigmoid``).

    Raises:
        ValueError: an unknown ``approximate``.
    """
    if approximate == "quick":
        value = tensor_operand("gelu", x)
        return mul(value, sigmoid(mul(value, 1.702)))
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none', 'tanh' or 'quick', got "
                         f"{approximate!r}")
    return emit1("gelu", [tensor_operand("gelu", x)], {"approximate": approximate})


# -- types and selection ---------------------------------------------------------------------
def cast(x: TensorValueLike, dtype: DType) -> TensorValue:
    """The elements of ``x`` converted to ``dtype`` (floats to integers truncate toward
    zero; to bool, nonzero is True)."""
    if not isinstance(dtype, DType):
        raise TypeError(f"cast: dtype must be a kiln DType, got {dtype!r}")
    return emit1("cast", [tensor_operand("cast", x)], {"dtype": dtype})


def where(condition: TensorValueLike, x: TensorValueLike, y: TensorValueLike) -> TensorValue:
    """Element-wise ``x if condition else y``, broadcasting all three NumPy-style.

    ``condition`` must be bool. A non-tensor ``x`` or ``y`` becomes a constant of the other's
    dtype; at least one of them must be a TensorValue.
    """
    if not isinstance(x, TensorValue) and not isinstance(y, TensorValue):
        raise TypeError("where: x or y must be a TensorValue (the other may be a scalar or "
                        "array, converted to its dtype)")
    graph = graph_of([condition, x, y])
    x_value, y_value = binary_operands("where", x, y)
    cond_value = as_value(graph, condition, DType.bool, x_value.device)
    if cond_value.dtype != DType.bool:
        raise TypeError(f"where: condition must be bool, got {cond_value.dtype!r}")
    return emit1("where", [cond_value, x_value, y_value])
