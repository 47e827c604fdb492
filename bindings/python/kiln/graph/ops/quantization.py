"""Ops on quantized weights: dequantize and qmatmul (see :mod:`kiln.graph.quantization`)."""

from __future__ import annotations

from typing import Optional

from ...dtype import DType
from ..quantization import QuantizationConfig, QuantizationEncoding
from ..value import TensorValue
from ._common import as_value, emit1, graph_of, tensor_operand

__all__ = ["dequantize", "qmatmul"]

_SUPPORTED = (QuantizationEncoding.Q4_0, QuantizationEncoding.Q4_K, QuantizationEncoding.Q6_K,
              QuantizationEncoding.Q8_0)


def _encoding(op: str, encoding: QuantizationEncoding) -> str:
    encoding = QuantizationEncoding(encoding)
    if encoding not in _SUPPORTED:
        raise ValueError(f"{op}: encoding {encoding.value} is not supported (supported: "
                         + ", ".join(e.value for e in _SUPPORTED) + ")")
    return encoding.value.lower()


def dequantize(encoding: QuantizationEncoding, quantized: TensorValue) -> TensorValue:
    """Decodes uint8 packed blocks [..., blocks * block_size] into float32
    [..., blocks * elements_per_block]."""
    name = _encoding("dequantize", encoding)
    return emit1("dequantize", [tensor_operand("dequantize", quantized)], {"encoding": name})


def qmatmul(encoding: QuantizationEncoding, config: Optional[QuantizationConfig],
            lhs: TensorValue, *rhs: TensorValue) -> TensorValue:
    """``lhs @ dequantize(rhs).T``: float32 lhs [..., M, K] and a packed weight [N, packed]
    stored transposed (row j holds output column j's K values); the result is [..., M, N].
    kiln decodes the weight and multiplies in float32 (lhs is not quantized)."""
    name = _encoding("qmatmul", encoding)
    if config is not None and not isinstance(config, QuantizationConfig):
        raise TypeError(f"qmatmul: config must be a QuantizationConfig or None, got {config!r}")
    if len(rhs) != 1:
        raise ValueError(f"qmatmul: {encoding.value} takes one packed weight, got {len(rhs)}")
    a = tensor_operand("qmatmul", lhs)
    graph = graph_of([a, rhs[0]])
    w = as_value(graph, rhs[0], DType.uint8, a.device)
    return emit1("qmatmul", [a, w], {"encoding": name})
