"""Element types of kiln tensors.

:class:`DType` uses MAX's numeric codes (the same codes as ``kiln_dtype`` in kiln_types.h and as
stored in ``.kiln`` files), and converts to and from NumPy dtypes. ``bfloat16`` and the float8
types have no NumPy dtype of their own; they map to the ``ml_dtypes`` package's types when it is
installed (``pip install ml_dtypes``), and raise a ``ValueError`` saying so when it is not.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Optional

import numpy as np

__all__ = ["DType"]


def _ml_dtypes() -> Optional[Any]:
    try:
        import ml_dtypes  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return None
    return ml_dtypes


class DType(enum.IntEnum):
    """The data type of a tensor's elements (MAX's codes)."""

    bool = 1
    float8_e4m3fn = 66
    float8_e4m3fnuz = 67
    float8_e5m2 = 68
    float8_e5m2fnuz = 69
    float16 = 70
    bfloat16 = 71
    float32 = 72
    float64 = 73
    uint8 = 134
    int8 = 135
    uint16 = 136
    int16 = 137
    uint32 = 138
    int32 = 139
    uint64 = 140
    int64 = 141

    def __repr__(self) -> str:
        return f"DType.{self.name}"

    __str__ = __repr__

    # -- classification ------------------------------------------------------------------
    def is_float(self) -> "builtins_bool":
        """True for every floating-point type (float8 variants, half types, float32/64)."""
        return self in _FLOATS

    def is_integral(self) -> "builtins_bool":
        """True for signed and unsigned integer types (not for ``bool``)."""
        return self in _SIGNED or self in _UNSIGNED

    def is_signed_integral(self) -> "builtins_bool":
        """True for int8, int16, int32 and int64."""
        return self in _SIGNED

    def is_unsigned_integral(self) -> "builtins_bool":
        """True for uint8, uint16, uint32 and uint64."""
        return self in _UNSIGNED

    def is_half(self) -> "builtins_bool":
        """True for the 16-bit floating-point types, float16 and bfloat16."""
        return self in (DType.float16, DType.bfloat16)

    def is_float8(self) -> "builtins_bool":
        """True for the four 8-bit floating-point types."""
        return self in _FLOAT8

    # -- sizes ---------------------------------------------------------------------------
    @property
    def size_in_bytes(self) -> int:
        """Bytes one element occupies."""
        return _SIZES[self]

    @property
    def align(self) -> int:
        """Alignment, in bytes, that an element of this type needs (its size: every kiln
        dtype is a scalar of a power-of-two size)."""
        return _SIZES[self]

    # -- NumPy ---------------------------------------------------------------------------
    def to_numpy(self) -> np.dtype:
        """The NumPy dtype of this type.

        Raises:
            ValueError: for bfloat16/float8 when ``ml_dtypes`` is not installed.
        """
        simple = _TO_NUMPY.get(self)
        if simple is not None:
            return np.dtype(simple)
        ml = _ml_dtypes()
        if ml is None:
            raise ValueError(
                f"{self!r} has no NumPy dtype without the ml_dtypes package "
                f"(pip install ml_dtypes); kiln uses ml_dtypes.{self.name} for it")
        return np.dtype(getattr(ml, self.name))

    @staticmethod
    def from_numpy(dtype: Any) -> "DType":
        """The :class:`DType` of a NumPy dtype (or anything ``np.dtype()`` accepts).

        Raises:
            ValueError: when kiln has no matching type (complex, strings, objects ...).
        """
        try:
            np_dtype = np.dtype(dtype)
        except TypeError as exc:
            raise ValueError(f"not a NumPy dtype: {dtype!r}") from exc
        found = _FROM_NUMPY.get(np_dtype)
        if found is not None:
            return found
        ml = _ml_dtypes()
        if ml is not None:
            for kiln_type in _ML_DTYPES_NAMES:
                if np_dtype == np.dtype(getattr(ml, kiln_type.name)):
                    return kiln_type
        raise ValueError(f"kiln has no dtype for NumPy dtype {np_dtype}")

    # -- PyTorch (optional) --------------------------------------------------------------
    def to_torch(self) -> Any:
        """The ``torch.dtype`` of this type (needs PyTorch)."""
        import torch  # noqa: PLC0415

        name = {"bool": "bool"}.get(self.name, self.name)
        found = getattr(torch, name, None)
        if not isinstance(found, torch.dtype):
            raise ValueError(f"PyTorch has no dtype for {self!r}")
        return found

    @staticmethod
    def from_torch(dtype: Any) -> "DType":
        """The :class:`DType` of a ``torch.dtype``."""
        name = str(dtype).replace("torch.", "")
        try:
            return DType[name]
        except KeyError:
            raise ValueError(f"kiln has no dtype for {dtype}") from None


builtins_bool = type(True)  # `bool` is shadowed by DType.bool inside the class body.

_SIGNED = frozenset({DType.int8, DType.int16, DType.int32, DType.int64})
_UNSIGNED = frozenset({DType.uint8, DType.uint16, DType.uint32, DType.uint64})
_FLOAT8 = frozenset({DType.float8_e4m3fn, DType.float8_e4m3fnuz, DType.float8_e5m2,
                     DType.float8_e5m2fnuz})
_FLOATS = _FLOAT8 | {DType.float16, DType.bfloat16, DType.float32, DType.float64}

_SIZES: Dict[DType, int] = {
    DType.bool: 1, DType.float8_e4m3fn: 1, DType.float8_e4m3fnuz: 1, DType.float8_e5m2: 1,
    DType.float8_e5m2fnuz: 1, DType.uint8: 1, DType.int8: 1,
    DType.float16: 2, DType.bfloat16: 2, DType.uint16: 2, DType.int16: 2,
    DType.float32: 4, DType.uint32: 4, DType.int32: 4,
    DType.float64: 8, DType.uint64: 8, DType.int64: 8,
}

_TO_NUMPY: Dict[DType, Any] = {
    DType.bool: np.bool_, DType.float16: np.float16, DType.float32: np.float32,
    DType.float64: np.float64, DType.uint8: np.uint8, DType.int8: np.int8,
    DType.uint16: np.uint16, DType.int16: np.int16, DType.uint32: np.uint32,
    DType.int32: np.int32, DType.uint64: np.uint64, DType.int64: np.int64,
}
_FROM_NUMPY: Dict[np.dtype, DType] = {np.dtype(v): k for k, v in _TO_NUMPY.items()}
_ML_DTYPES_NAMES = (DType.bfloat16, DType.float8_e4m3fn, DType.float8_e4m3fnuz,
                    DType.float8_e5m2, DType.float8_e5m2fnuz)
