"""Quantization encodings, as in MAX's ``max.graph.quantization``.

A quantized weight is a uint8 tensor of packed GGML blocks, [rows, blocks * block_size]: each
block holds ``elements_per_block`` values in ``block_size`` bytes. kiln's CPU kernels decode
Q4_0, Q4_K, Q6_K and Q8_0 (Q8_0 is a kiln addition to MAX's list; Q5_K and GPTQ are named for
compatibility but have no kernel).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["BlockParameters", "QuantizationConfig", "QuantizationEncoding"]


@dataclass(frozen=True)
class BlockParameters:
    """How many elements a block holds and how many bytes it takes."""

    elements_per_block: int
    block_size: int


@dataclass
class QuantizationConfig:
    """Parameters of GPTQ-style quantization (kept for MAX's signatures)."""

    quant_method: str
    bits: int
    group_size: int
    desc_act: bool = False
    sym: bool = False


_BLOCKS = {
    "Q4_0": BlockParameters(32, 18),
    "Q8_0": BlockParameters(32, 34),
    "Q4_K": BlockParameters(256, 144),
    "Q5_K": BlockParameters(256, 176),
    "Q6_K": BlockParameters(256, 210),
}


class QuantizationEncoding(enum.Enum):
    """A quantized weight's encoding."""

    Q4_0 = "Q4_0"
    Q4_K = "Q4_K"
    Q5_K = "Q5_K"
    Q6_K = "Q6_K"
    Q8_0 = "Q8_0"
    GPTQ = "GPTQ"

    @property
    def block_parameters(self) -> BlockParameters:
        if self.value not in _BLOCKS:
            raise ValueError(f"{self.value} is not a block encoding")
        return _BLOCKS[self.value]

    @property
    def elements_per_block(self) -> int:
        return self.block_parameters.elements_per_block

    @property
    def block_size(self) -> int:
        return self.block_parameters.block_size

    @property
    def is_gguf(self) -> bool:
        return self.value in _BLOCKS

    @property
    def name(self) -> str:  # type: ignore[override]  # MAX: the lowercase name
        return self.value.lower()
