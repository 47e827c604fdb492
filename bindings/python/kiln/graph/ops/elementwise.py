"""Element-wise ops: arithmetic, comparisons, activations, cast and where.

Binary ops broadcast NumPy-style and need operands of one dtype; a Python or NumPy scalar (or
array) operand becomes a constant of the other operand's dtype.
"""

from __future__ import annotations

from typing import Any

from ...dtype import DType
from ..value import TensorValue, TensorValueLike
from ._common import as_value, binary_operands, emit1, graph_of, tensor_operand

__all__ = [
    "abs", "add", "cast", "div", "equal", "exp", "gelu", "greater", "greater_equal", "log",
    "logical_not", "mul", "negate", "not_equal", "pow", "relu", "rsqrt", "sigmoid", "silu",
    "sqrt", "sub", "tanh", "where",
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
    """Element-wise ``lhs ** rhs`` with NumPy broadcasting."""
    return _binary("pow", lhs, rhs)


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
    """Element-wise ``lhs != rhs`` as a bool tensor (composed: ``equal(equal(l, r), False)``;
    NaN != NaN is True, as in NumPy)."""
    same = equal(lhs, rhs)
    return equal(same, False)


def greater_equal(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Element-wise ``lhs >= rhs`` as a bool tensor (composed of ``greater``, ``equal`` and
    ``where``; comparisons with NaN are False, as in NumPy)."""
    above = greater(lhs, rhs)
    return where(above, above, equal(lhs, rhs))


def logical_not(x: TensorValueLike) -> TensorValue:
    """Element-wise negation of a bool tensor (composed: ``equal(x, False)``)."""
    value = tensor_operand("logical_not", x)
    if value.dtype != DType.bool:
        raise TypeError(f"logical_not needs a bool tensor, got {value.dtype!r}")
    return equal(value, False)


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
