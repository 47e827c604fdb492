"""dequantize and qmatmul over GGML block formats, against the ``gguf`` package's decoder.

Packed blocks come from gguf.quants.quantize where gguf has an encoder (Q4_0, Q8_0), else from
random bytes whose float16 scales are set to finite values (Q4_K, Q6_K): every other byte
pattern is a valid block. qmatmul is compared with NumPy's float64 matmul of the dequantized
weight (rtol 1e-5 / atol 1e-4 for float32 sums over K up to 1024).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import rng, run_graph
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, ops
from kiln.graph.quantization import QuantizationEncoding

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType, quants  # noqa: E402

ENCODINGS = {
    QuantizationEncoding.Q4_0: GGMLQuantizationType.Q4_0,
    QuantizationEncoding.Q8_0: GGMLQuantizationType.Q8_0,
    QuantizationEncoding.Q4_K: GGMLQuantizationType.Q4_K,
    QuantizationEncoding.Q6_K: GGMLQuantizationType.Q6_K,
}

# Byte offsets of each block's float16 scales.
SCALE_OFFSETS = {
    QuantizationEncoding.Q4_0: [0],
    QuantizationEncoding.Q8_0: [0],
    QuantizationEncoding.Q4_K: [0, 2],
    QuantizationEncoding.Q6_K: [208],
}


def _packed(encoding: QuantizationEncoding, rows: int, cols: int, seed: int) -> np.ndarray:
    """Random packed blocks [rows, cols / elements * block_size] as uint8."""
    generator = rng(seed)
    if encoding in (QuantizationEncoding.Q4_0, QuantizationEncoding.Q8_0):
        data = generator.standard_normal((rows, cols)).astype(np.float32)
        return quants.quantize(data, ENCODINGS[encoding])
    blocks = rows * cols // encoding.elements_per_block
    raw = generator.integers(0, 256, size=(blocks, encoding.block_size), dtype=np.uint8)
    for offset in SCALE_OFFSETS[encoding]:
        scale = generator.uniform(-0.05, 0.05, size=blocks).astype(np.float16)
        raw[:, offset:offset + 2] = scale.view(np.uint8).reshape(blocks, 2)
    return raw.reshape(rows, -1)


def _reference(encoding: QuantizationEncoding, packed: np.ndarray) -> np.ndarray:
    return quants.dequantize(packed, ENCODINGS[encoding]).astype(np.float32)


@pytest.mark.parametrize("encoding", list(ENCODINGS), ids=lambda e: e.value)
@pytest.mark.parametrize("rows,cols", [(1, 256), (3, 512), (8, 1024)])
def test_dequantize_matches_gguf(session, encoding, rows, cols):
    packed = _packed(encoding, rows, cols, seed=rows * 7 + cols)
    expected = _reference(encoding, packed)
    (out,) = run_graph(session, lambda q: ops.dequantize(encoding, q), [packed])
    assert out.dtype == np.float32 and out.shape == (rows, cols)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("encoding", list(ENCODINGS), ids=lambda e: e.value)
@pytest.mark.parametrize("lhs_shape,n", [((4, 256), 5), ((2, 3, 512), 17), ((1, 1024), 64)])
def test_qmatmul_matches_numpy(session, encoding, lhs_shape, n):
    k = lhs_shape[-1]
    packed = _packed(encoding, n, k, seed=n + k)
    weight = _reference(encoding, packed).astype(np.float64)
    x = rng(n * 3 + k).uniform(-1, 1, size=lhs_shape).astype(np.float32)
    (out,) = run_graph(session, lambda a, w: ops.qmatmul(encoding, None, a, w), [x, packed])
    expected = x.astype(np.float64) @ weight.T
    assert out.shape == lhs_shape[:-1] + (n,)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_qmatmul_symbolic_batch(session):
    encoding = QuantizationEncoding.Q4_0
    packed = _packed(encoding, 6, 64, seed=1)
    weight = _reference(encoding, packed).astype(np.float64)
    graph = Graph("qmm", lambda a, w: ops.qmatmul(encoding, None, a, w),
                  input_types=[TensorType(DType.float32, ["batch", 64]),
                               TensorType(DType.uint8, [6, packed.shape[1]])])
    model = session.load(graph)
    for batch in (1, 5):
        x = rng(batch).uniform(-1, 1, size=(batch, 64)).astype(np.float32)
        (out,) = model.execute(x, packed)
        np.testing.assert_allclose(out.to_numpy(), x.astype(np.float64) @ weight.T,
                                   rtol=1e-5, atol=1e-5)


def test_block_parameters():
    assert QuantizationEncoding.Q4_0.block_parameters.elements_per_block == 32
    assert QuantizationEncoding.Q4_0.block_size == 18
    assert QuantizationEncoding.Q6_K.block_size == 210
    assert QuantizationEncoding.Q4_K.elements_per_block == 256
    assert QuantizationEncoding.Q4_K.name == "q4_k"
    assert QuantizationEncoding.Q4_K.is_gguf and not QuantizationEncoding.GPTQ.is_gguf


def _build_error(forward, types) -> str:
    with pytest.raises(Exception) as info:
        Graph("bad", forward, input_types=types)
    return str(info.value)


def test_wrong_packed_byte_count():
    message = _build_error(lambda q: ops.dequantize(QuantizationEncoding.Q4_0, q),
                           [TensorType(DType.uint8, [2, 19])])
    assert "dequantize" in message and "18-byte block" in message


def test_wrong_packed_dtype():
    message = _build_error(lambda q: ops.dequantize(QuantizationEncoding.Q6_K, q),
                           [TensorType(DType.float32, [2, 210])])
    assert "uint8" in message


def test_qmatmul_k_mismatch():
    message = _build_error(lambda a, w: ops.qmatmul(QuantizationEncoding.Q4_0, None, a, w),
                           [TensorType(DType.float32, [3, 48]), TensorType(DType.uint8, [4, 36])])
    assert "qmatmul" in message and "K is 64" in message


def test_qmatmul_rank():
    message = _build_error(lambda a, w: ops.qmatmul(QuantizationEncoding.Q8_0, None, a, w),
                           [TensorType(DType.float32, [3, 32]),
                            TensorType(DType.uint8, [1, 4, 34])])
    assert "rank" in message


def test_unsupported_encoding():
    with pytest.raises(ValueError, match="Q5_K is not supported"):
        Graph("bad", lambda q: ops.dequantize(QuantizationEncoding.Q5_K, q),
              input_types=[TensorType(DType.uint8, [1, 176])])
