"""The core ops hann_window and as_interleaved_complex on the CPU plugin against NumPy, and their
errors (from the Python checks MAX documents and from the core's schemas).

hann_window references: np.hanning(N) for a symmetric window, np.hanning(N + 1)[:-1] for a
periodic one; a window of length 1 is [1] either way (torch.hann_window). The kernel computes in
float64 and rounds once, so float32/float64 match to a few ulps and float16/bfloat16 to one
rounding of the output.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HAVE_ML_DTYPES, rng, run_graph
from kiln import KilnError
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops

FLOATS = ([DType.float32, DType.float64, DType.float16]
          + ([DType.bfloat16] if HAVE_ML_DTYPES else []))
# (rtol, atol) per output dtype: one rounding of a float64 value in [0, 1].
TOLERANCE = {DType.float64: (1e-13, 1e-15), DType.float32: (3e-7, 1e-7),
             DType.float16: (1e-3, 1e-4), DType.bfloat16: (8e-3, 1e-3)}


def _hann_reference(length: int, periodic: bool) -> np.ndarray:
    if length == 1:
        return np.ones(1)
    return np.hanning(length + 1)[:-1] if periodic else np.hanning(length)


def _hann(session, length, periodic=True, dtype=DType.float32):
    graph = Graph("hann", lambda: ops.hann_window(length, DeviceRef.CPU(), periodic=periodic,
                                                  dtype=dtype), input_types=[])
    assert [node["op"] for node in graph.nodes] == ["hann_window"]
    (out,) = session.load(graph).execute()
    return out.to_numpy()


# ------------------------------------------------------------------------------------------
# hann_window
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("length", [0, 1, 2, 3, 8, 13, 64, 1001])
def test_hann_window_matches_numpy(session, length, periodic):
    out = _hann(session, length, periodic)
    assert out.dtype == np.float32 and out.shape == (length,)
    expected = _hann_reference(length, periodic)
    np.testing.assert_allclose(out.astype(np.float64), expected, rtol=3e-7, atol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("periodic", [True, False])
def test_hann_window_dtypes(session, dtype, periodic):
    out = _hann(session, 37, periodic, dtype)
    assert out.dtype == dtype.to_numpy() and out.shape == (37,)
    rtol, atol = TOLERANCE[dtype]
    np.testing.assert_allclose(out.astype(np.float64), _hann_reference(37, periodic),
                               rtol=rtol, atol=atol)


def test_hann_window_periodic_is_the_longer_symmetric_window_cut(session):
    # MAX: hann_window(L, periodic=True) == hann_window(L + 1, periodic=False)[:-1]
    periodic = _hann(session, 20, True, DType.float64)
    symmetric = _hann(session, 21, False, DType.float64)
    np.testing.assert_allclose(periodic, symmetric[:-1], rtol=1e-14, atol=1e-15)
    # A symmetric window is a palindrome with its peak of 1 in the middle; a periodic one is not.
    odd = _hann(session, 9, False, DType.float64)
    np.testing.assert_allclose(odd, odd[::-1], atol=1e-15)
    assert odd[4] == 1.0 and odd[0] == 0.0
    assert not np.allclose(periodic, periodic[::-1])


def test_hann_window_windows_a_signal(session):
    x = rng(3).standard_normal((4, 16)).astype(np.float32)
    (out,) = run_graph(session, lambda v: v * ops.hann_window(16, DeviceRef.CPU()), [x])
    np.testing.assert_allclose(out, x * np.hanning(17)[:-1], rtol=1e-6, atol=1e-6)


def test_hann_window_numpy_integer_length(session):
    out = _hann(session, np.int64(5), False)
    np.testing.assert_allclose(out, np.hanning(5), rtol=3e-7, atol=1e-7)


def _build_error(forward, types=()):
    with pytest.raises(Exception) as info:
        Graph("bad", forward, input_types=list(types))
    return info.value


def test_hann_window_negative_length():
    error = _build_error(lambda: ops.hann_window(-1, DeviceRef.CPU()))
    assert isinstance(error, ValueError)
    assert "hann_window" in str(error) and "window_length" in str(error) and "-1" in str(error)


@pytest.mark.parametrize("length", [2.5, "8", True, None])
def test_hann_window_length_not_an_int(length):
    error = _build_error(lambda: ops.hann_window(length, DeviceRef.CPU()))
    assert isinstance(error, TypeError)
    assert "hann_window" in str(error) and "window_length" in str(error)


@pytest.mark.parametrize("dtype", [DType.int32, DType.int64, DType.bool, DType.uint8])
def test_hann_window_needs_a_float_dtype(dtype):
    error = _build_error(lambda: ops.hann_window(8, DeviceRef.CPU(), dtype=dtype))
    assert isinstance(error, KilnError) and isinstance(error, ValueError)
    message = str(error)
    assert "hann_window" in message and "attribute 'dtype'" in message
    assert dtype.name in message and "float" in message


def test_hann_window_bad_arguments():
    assert isinstance(_build_error(lambda: ops.hann_window(8, "cpu")), TypeError)
    assert isinstance(_build_error(lambda: ops.hann_window(8, DeviceRef.CPU(), periodic=1)),
                      TypeError)
    assert isinstance(_build_error(lambda: ops.hann_window(8, DeviceRef.CPU(), dtype="float32")),
                      TypeError)


# ------------------------------------------------------------------------------------------
# as_interleaved_complex
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2,), (8,), (2, 3, 8), (3, 0), (0, 4), (5, 1, 6)])
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_as_interleaved_complex(session, shape, dtype):
    x = rng(1).uniform(-1, 1, size=shape).astype(np.float32).astype(dtype.to_numpy())
    graph = Graph("c", ops.as_interleaved_complex, input_types=[TensorType(dtype, shape)])
    assert [node["op"] for node in graph.nodes] == ["as_interleaved_complex"]
    (out,) = session.load(graph).execute(x)
    out = out.to_numpy()
    expected = x.reshape(shape[:-1] + (shape[-1] // 2, 2))
    assert out.shape == expected.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out, expected)
    # (real, imag) pairs: element [..., k, 0] + i [..., k, 1] is x[..., 2k] + i x[..., 2k + 1].
    complex_view = out[..., 0].astype(np.float64) + 1j * out[..., 1].astype(np.float64)
    np.testing.assert_array_equal(complex_view, x[..., 0::2].astype(np.float64)
                                  + 1j * x[..., 1::2].astype(np.float64))


def test_as_interleaved_complex_symbolic_dims(session):
    # A last dim with a factor 2 halves symbolically.
    graph = Graph("c", ops.as_interleaved_complex,
                  input_types=[TensorType(DType.float32, ["batch", "2*n"])])
    (out_type,) = graph.output_types
    assert [str(d) for d in out_type.shape] == ["batch", "n", "2"]
    # Symbolic leading dims are bound at execution.
    graph = Graph("c", ops.as_interleaved_complex,
                  input_types=[TensorType(DType.float32, ["batch", 10])])
    x = rng(2).standard_normal((3, 10)).astype(np.float32)
    (out,) = session.load(graph).execute(x)
    np.testing.assert_array_equal(out.to_numpy(), x.reshape(3, 5, 2))


def test_as_interleaved_complex_feeds_irfft(session):
    spectrum = rng(4).standard_normal((2, 5, 2))
    x = spectrum.reshape(2, 10).astype(np.float32)
    (out,) = run_graph(session, lambda v: ops.irfft(ops.as_interleaved_complex(v), n=8,
                                                    input_is_complex=True), [x])
    expected = np.fft.irfft(spectrum[..., 0] + 1j * spectrum[..., 1], n=8)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_as_interleaved_complex_odd_last_dim():
    error = _build_error(ops.as_interleaved_complex, [TensorType(DType.float32, [2, 7])])
    assert isinstance(error, ValueError)
    message = str(error)
    assert "as_interleaved_complex" in message and "operand 0 (x)" in message
    assert "[2, 7]" in message and "odd" in message and "even" in message


def test_as_interleaved_complex_last_dim_not_known_even():
    error = _build_error(ops.as_interleaved_complex, [TensorType(DType.float32, [2, "n"])])
    assert isinstance(error, ValueError)
    assert "as_interleaved_complex" in str(error) and "not known to be even" in str(error)


@pytest.mark.parametrize("dtype", [DType.int32, DType.int64, DType.bool])
def test_as_interleaved_complex_needs_floats(dtype):
    error = _build_error(ops.as_interleaved_complex, [TensorType(dtype, [4])])
    assert isinstance(error, ValueError)
    message = str(error)
    assert "as_interleaved_complex" in message and "operand 0 (x)" in message
    assert dtype.name in message and "float" in message


def test_as_interleaved_complex_scalar():
    error = _build_error(ops.as_interleaved_complex, [TensorType(DType.float32, [])])
    assert isinstance(error, ValueError)
    assert "as_interleaved_complex" in str(error) and "rank >= 1" in str(error)


def test_as_interleaved_complex_needs_a_value():
    assert isinstance(_build_error(lambda: ops.as_interleaved_complex(np.ones(4))), TypeError)
