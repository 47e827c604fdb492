"""kiln.dtype: MAX's codes, classification, sizes and NumPy conversion."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import needs_ml_dtypes
from kiln.dtype import DType

MAX_CODES = {
    "bool": 1, "float8_e4m3fn": 66, "float8_e4m3fnuz": 67, "float8_e5m2": 68,
    "float8_e5m2fnuz": 69, "float16": 70, "bfloat16": 71, "float32": 72, "float64": 73,
    "uint8": 134, "int8": 135, "uint16": 136, "int16": 137, "uint32": 138, "int32": 139,
    "uint64": 140, "int64": 141,
}


def test_codes_are_max_codes() -> None:
    assert {d.name: int(d) for d in DType} == MAX_CODES


def test_codes_agree_with_libkiln() -> None:
    from kiln import _capi  # noqa: PLC0415

    for dtype in DType:
        assert _capi.decode(_capi.lib.kiln_dtype_get_name(int(dtype))) == dtype.name
        assert _capi.lib.kiln_dtype_from_name(dtype.name.encode()) == int(dtype)


def test_classification() -> None:
    assert DType.float32.is_float() and not DType.float32.is_integral()
    assert DType.int64.is_integral() and DType.int64.is_signed_integral()
    assert DType.uint8.is_unsigned_integral() and not DType.uint8.is_signed_integral()
    assert not DType.bool.is_integral() and not DType.bool.is_float()
    assert DType.bfloat16.is_half() and DType.float16.is_half() and not DType.float32.is_half()
    assert DType.float8_e5m2.is_float8() and DType.float8_e5m2.is_float()
    assert not DType.float16.is_float8()


def test_sizes() -> None:
    assert DType.float64.size_in_bytes == 8
    assert DType.bfloat16.size_in_bytes == 2
    assert DType.bool.size_in_bytes == 1
    assert DType.float8_e4m3fn.size_in_bytes == 1
    for dtype in DType:
        assert dtype.align == dtype.size_in_bytes


def test_repr() -> None:
    assert repr(DType.float32) == "DType.float32"
    assert str(DType.int8) == "DType.int8"


@pytest.mark.parametrize("dtype", [d for d in DType if not d.is_float8() and
                                   d != DType.bfloat16])
def test_numpy_roundtrip(dtype: DType) -> None:
    assert DType.from_numpy(dtype.to_numpy()) == dtype
    assert np.zeros(2, dtype=dtype.to_numpy()).itemsize == dtype.size_in_bytes


def test_from_numpy_accepts_types_and_dtypes() -> None:
    assert DType.from_numpy(np.float16) == DType.float16
    assert DType.from_numpy(np.dtype("int32")) == DType.int32
    assert DType.from_numpy("bool") == DType.bool


def test_from_numpy_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        DType.from_numpy(np.complex128)
    with pytest.raises(ValueError):
        DType.from_numpy("U8")


@needs_ml_dtypes
def test_ml_dtypes_mapping() -> None:
    import ml_dtypes  # noqa: PLC0415

    assert DType.bfloat16.to_numpy() == np.dtype(ml_dtypes.bfloat16)
    assert DType.from_numpy(ml_dtypes.bfloat16) == DType.bfloat16
    assert DType.from_numpy(ml_dtypes.float8_e4m3fn) == DType.float8_e4m3fn
    assert DType.float8_e5m2.to_numpy() == np.dtype(ml_dtypes.float8_e5m2)


def test_reference_example() -> None:
    """Adapted from the dtype module's usage example in MAX's reference."""
    tensor = np.zeros((2, 3), dtype=DType.float32.to_numpy())
    assert tensor.dtype == np.float32
    array = np.ones((4, 4), dtype=np.float16)
    assert DType.from_numpy(array.dtype) == DType.float16
    assert DType.float32.is_float()
    assert DType.int64.is_integral()
    assert DType.float64.size_in_bytes == 8


@needs_ml_dtypes
def test_bfloat16_encoding_without_ml_dtypes_matches_ml_dtypes() -> None:
    """kiln's own float32 -> bfloat16 rounding (used when ml_dtypes is absent) agrees with
    ml_dtypes: round to nearest even, infinities kept, NaN stays NaN."""
    import ml_dtypes  # noqa: PLC0415

    from kiln.graph._emit import _bfloat16_bits  # noqa: PLC0415

    generator = np.random.default_rng(0)
    values = np.concatenate([
        generator.standard_normal(10000).astype(np.float32) * 100,
        np.array([0.0, -0.0, np.inf, -np.inf, 3.4e38, 1e-40, 1.00390625, 1.01171875],
                 np.float32)])
    expected = values.astype(ml_dtypes.bfloat16).view(np.uint16)
    np.testing.assert_array_equal(_bfloat16_bits(values), expected)
    nan_bits = _bfloat16_bits(np.array([np.nan], np.float32))
    assert np.isnan(nan_bits.view(ml_dtypes.bfloat16).astype(np.float32))[0]
    assert _bfloat16_bits(np.float32(1.5)).shape == ()
