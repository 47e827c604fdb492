"""Matrix multiplication and layer normalization."""

from __future__ import annotations

from ..value import TensorValue, TensorValueLike
from ._common import as_value, binary_operands, emit1, graph_of, tensor_operand

__all__ = ["layer_norm", "matmul"]


def matmul(lhs: TensorValueLike, rhs: TensorValueLike) -> TensorValue:
    """Matrix product over the last two dims, broadcasting the leading (batch) dims.

    A rank-1 ``lhs`` is treated as a ``1 x K`` row and a rank-1 ``rhs`` as a ``K x 1`` column;
    those unit dims are dropped from the result. ``lhs`` is ``... x M x K``, ``rhs`` is
    ``... x K x N`` and the result ``... x M x N``. A NumPy array operand becomes a constant of
    the other operand's dtype.
    """
    a, b = binary_operands("matmul", lhs, rhs)
    return emit1("matmul", [a, b])


def layer_norm(input: TensorValueLike, gamma: TensorValueLike, beta: TensorValueLike,  # noqa: A002
               epsilon: float) -> TensorValue:
    """Normalizes over the last dim: ``(x - mean) / sqrt(var + epsilon) * gamma + beta``,
    with the population variance; ``gamma`` and ``beta`` have the last dim's size (arrays
    become constants of the input's dtype).

    Raises:
        ValueError: ``epsilon`` is not positive (kiln reports a gamma/beta size mismatch).
    """
    if not epsilon > 0:
        raise ValueError(f"layer_norm: epsilon must be positive, got {epsilon}")
    x = tensor_operand("layer_norm", input)
    graph = graph_of([x, gamma, beta])
    gamma_value = as_value(graph, gamma, x.dtype, x.device)
    beta_value = as_value(graph, beta, x.dtype, x.device)
    return emit1("layer_norm", [x, gamma_value, beta_value], {"epsilon": float(epsilon)})
