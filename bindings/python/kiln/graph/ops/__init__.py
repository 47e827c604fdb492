"""Ops for building graphs, with MAX's names and signatures (``kiln.graph.ops``).

Every function adds nodes to the graph its TensorValue operands belong to (or, when it has
none, to the graph being built in the current ``with Graph(...)`` block) and returns the
result as TensorValues. Types and shapes are checked by kiln's core when the node is added,
so a mistake raises here, naming the op and the operand, not at execution.

Core ops: add sub mul div pow max min equal greater (binary, NumPy broadcasting); negate abs
exp log sqrt rsqrt relu sigmoid tanh silu gelu (unary); cast; matmul; reshape transpose
permute broadcast_to concat slice_tensor gather; sum mean max min argmax softmax
(reductions); layer_norm; where; constant; custom.

Composed here from core ops: not_equal, greater_equal, logical_not, flatten, squeeze,
unsqueeze, stack, and ``gelu(approximate="quick")``.
"""

from __future__ import annotations

from typing import Any

from ..graph import Graph
from ..value import TensorValue
from ._common import as_value as _as_value_in
from .elementwise import (abs, add, cast, div, equal, exp, gelu, greater, greater_equal, log,
                          logical_not, mul, negate, not_equal, pow, relu, rsqrt, sigmoid, silu,
                          sqrt, sub, tanh, where)
from .linalg import layer_norm, matmul
from .misc import constant, custom
from .reduction import argmax, max, mean, min, softmax, sum
from .shape import (broadcast_to, concat, flatten, gather, permute, reshape, slice_tensor,
                    squeeze, stack, transpose, unsqueeze)

__all__ = [
    "abs", "add", "argmax", "broadcast_to", "cast", "concat", "constant", "custom", "div",
    "equal", "exp", "flatten", "gather", "gelu", "greater", "greater_equal", "layer_norm", "log",
    "logical_not", "matmul", "max", "mean", "min", "mul", "negate", "not_equal", "permute",
    "pow", "relu", "reshape", "rsqrt", "sigmoid", "silu", "slice_tensor", "softmax", "sqrt",
    "squeeze", "stack", "sub", "sum", "tanh", "transpose", "unsqueeze", "where",
]


def _as_value(graph: Graph, value: Any) -> TensorValue:
    """Used by Graph.output: a value of ``graph`` (data becomes a constant)."""
    return _as_value_in(graph, value)
