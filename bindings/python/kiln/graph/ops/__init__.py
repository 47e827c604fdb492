"""Ops for building graphs, with MAX's names and signatures (``kiln.graph.ops``).

Every function adds nodes to the graph its TensorValue operands belong to (or, when it has
none, to the graph being built in the current ``with Graph(...)`` block) and returns the
result as TensorValues. Types and shapes are checked by kiln's core when the node is added,
so a mistake raises here, naming the op and the operand, not at execution.

Core ops: add sub mul div pow max min equal greater (binary, NumPy broadcasting); negate abs
exp log sqrt rsqrt relu sigmoid tanh silu gelu (unary); cast; matmul; reshape transpose
permute broadcast_to concat slice_tensor gather; sum mean max min argmax softmax
(reductions); layer_norm; where; constant; custom.

Composed here from core ops: flatten, squeeze,
unsqueeze, stack, and ``gelu(approximate="quick")``.

Convolution, pooling, signal and quantization (ops/nn.py, ops/quantization.py): conv2d conv3d
conv2d_transpose max_pool2d avg_pool2d resize irfft as_interleaved_complex hann_window
dequantize qmatmul (core ops).
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
from .shape import (band_part, chunk, fold, gather_nd, masked_scatter, outer, pad, range, rebind,
                    repeat_interleave, scatter, scatter_nd, shape_to_tensor, split, tile)
from .nn import (ConvInputLayout, FilterLayout, InterpolationMode, as_interleaved_complex,
                 avg_pool2d, conv2d, conv2d_transpose, conv3d, hann_window, irfft, max_pool2d,
                 resize)
from .quantization import dequantize, qmatmul
from .control_flow import call, cond, while_loop
from .misc import nonzero, print, transfer_to  # noqa: A004 (MAX's ops.print)
from .elementwise import (atanh, cos, erf, floor, is_inf, is_nan, log1p, logical_and,
                          logical_or, logical_xor, mod, round, sin, trunc)
from .reduction import argmin, argsort, cumsum, logsoftmax, top_k
from .collective import allgather
from .buffer import buffer_load, buffer_store, buffer_store_slice, inplace_custom

__all__ = [
    "abs", "add", "argmax", "broadcast_to", "cast", "concat", "constant", "custom", "div",
    "equal", "exp", "flatten", "gather", "gelu", "greater", "greater_equal", "layer_norm", "log",
    "logical_not", "matmul", "max", "mean", "min", "mul", "negate", "not_equal", "permute",
    "pow", "relu", "reshape", "rsqrt", "sigmoid", "silu", "slice_tensor", "softmax", "sqrt",
    "squeeze", "stack", "sub", "sum", "tanh", "transpose", "unsqueeze", "where",
]
__all__ += [
    "band_part", "chunk", "fold", "gather_nd", "masked_scatter", "outer", "pad", "range", "rebind",
    "repeat_interleave", "scatter", "scatter_nd", "shape_to_tensor", "split", "tile",
]
__all__ += [
    "ConvInputLayout", "FilterLayout", "InterpolationMode", "as_interleaved_complex",
    "avg_pool2d", "conv2d", "conv2d_transpose", "conv3d", "dequantize", "hann_window", "irfft",
    "max_pool2d", "qmatmul", "resize",
]

__all__ += ["call", "cond", "nonzero", "print", "transfer_to", "while_loop"]
__all__ += [
    "argmin", "argsort", "atanh", "cos", "cumsum", "erf", "floor", "is_inf", "is_nan", "log1p",
    "logical_and", "logical_or", "logical_xor", "logsoftmax", "mod", "round", "sin", "top_k",
    "trunc",
]
__all__ += ["allgather"]
__all__ += ["buffer_load", "buffer_store", "buffer_store_slice", "inplace_custom"]


def _as_value(graph: Graph, value: Any) -> TensorValue:
    """Used by Graph.output: a value of ``graph`` (data becomes a constant)."""
    return _as_value_in(graph, value)
