"""Types of graph values: dims (static, symbolic, algebraic), shapes, device references and
tensor types.

A dim is an ``int`` (static), a name such as ``"batch"`` (symbolic), or an expression of names
and integers with ``+ - *`` and parentheses such as ``"2*batch"`` or ``Dim("seq") + 1``
(algebraic). kiln's core canonicalizes algebraic dims, so dims read back from a graph print in
canonical form (``"2*batch"``).
"""

from __future__ import annotations

import ctypes
import enum
import operator
import re
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _capi
from ..dtype import DType

__all__ = [
    "AlgebraicDim", "DeviceKind", "DeviceRef", "Dim", "DimLike", "Shape", "ShapeLike",
    "StaticDim", "SymbolicDim", "TensorType", "Type",
]
__all__ += ["BufferType"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ==========================================================================================
# Devices
# ==========================================================================================
class DeviceKind(str, enum.Enum):
    """Kind of device a graph value lives on."""

    CPU = "cpu"
    GPU = "gpu"

    def __str__(self) -> str:
        return self.value

    @staticmethod
    def from_string(txt: str) -> "DeviceKind":
        try:
            return DeviceKind(txt.lower())
        except ValueError:
            raise ValueError(f"unknown device kind {txt!r} (expected 'cpu' or 'gpu')") from None


@dataclass(frozen=True)
class DeviceRef:
    """A device named in a graph (``cpu:0``, ``gpu:1``); mapped onto a session's devices at
    load time (``gpu:N`` is the session's Nth accelerator)."""

    device_type: DeviceKind
    id: int = 0

    def __post_init__(self) -> None:
        kind = self.device_type
        if not isinstance(kind, DeviceKind):
            kind = DeviceKind.from_string(str(kind))
            object.__setattr__(self, "device_type", kind)
        if int(self.id) < 0:
            raise ValueError(f"device id must be >= 0, got {self.id}")

    @staticmethod
    def CPU(id: int = 0) -> "DeviceRef":  # noqa: N802,A002 (MAX's names)
        """A reference to the host CPU."""
        return DeviceRef(DeviceKind.CPU, id)

    @staticmethod
    def GPU(id: int = 0) -> "DeviceRef":  # noqa: N802,A002
        """A reference to accelerator ``id``."""
        return DeviceRef(DeviceKind.GPU, id)

    def is_cpu(self) -> bool:
        return self.device_type == DeviceKind.CPU

    def is_gpu(self) -> bool:
        return self.device_type == DeviceKind.GPU

    @staticmethod
    def from_device(device: Any) -> "DeviceRef":
        """The reference for a :class:`kiln.driver.Device`."""
        return DeviceRef.CPU() if device.is_host else DeviceRef.GPU(device.id)

    def to_device(self) -> Any:
        """The :class:`kiln.driver.Device` this reference names on this machine."""
        from .. import driver  # noqa: PLC0415 (graph types do not need devices otherwise)

        return driver.CPU() if self.is_cpu() else driver.Accelerator(self.id)

    @property
    def spec(self) -> str:
        """kiln's device ref string: ``"cpu"`` or ``"gpu:N"``."""
        return "cpu" if self.is_cpu() and self.id == 0 else f"{self.device_type.value}:{self.id}"

    @staticmethod
    def parse(text: Optional[str]) -> Optional["DeviceRef"]:
        """Parses kiln's device ref strings (``"cpu"``, ``"gpu:1"``); ``None`` for ``""``."""
        if not text:
            return None
        kind, _, index = text.partition(":")
        return DeviceRef(DeviceKind.from_string(kind), int(index) if index else 0)

    def __str__(self) -> str:
        return f"{self.device_type.value}:{self.id}"

    def __repr__(self) -> str:
        return f"DeviceRef.{self.device_type.name}({self.id})"


# ==========================================================================================
# Dims
# ==========================================================================================
DimLike = Union[int, str, "Dim", np.integer]


class Dim:
    """A tensor dimension: ``Dim(4)`` is a :class:`StaticDim`, ``Dim("batch")`` a
    :class:`SymbolicDim`, ``Dim("2*batch")`` or ``Dim("batch") * 2`` an :class:`AlgebraicDim`.
    """

    def __new__(cls, value: DimLike = 0) -> "Dim":  # type: ignore[misc]
        if cls is not Dim:
            return object.__new__(cls)
        if isinstance(value, Dim):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return object.__new__(StaticDim)
        if isinstance(value, str):
            text = value.strip()
            if _IDENTIFIER.match(text):
                return object.__new__(SymbolicDim)
            try:
                int(text)
                return object.__new__(StaticDim)
            except ValueError:
                return object.__new__(AlgebraicDim)
        raise TypeError(f"a dim is an int, a name or a Dim; got {type(value).__name__}")

    # Subclasses define expr (kiln's text for the dim).
    @property
    def expr(self) -> str:
        raise NotImplementedError

    @property
    def is_static(self) -> bool:
        return isinstance(self, StaticDim)

    def _binary(self, other: DimLike, symbol: str, fold: Any, swap: bool = False) -> "Dim":
        other_dim = Dim(other)
        left, right = (other_dim, self) if swap else (self, other_dim)
        if isinstance(left, StaticDim) and isinstance(right, StaticDim):
            return StaticDim(fold(left.dim, right.dim))
        return AlgebraicDim(f"({left.expr}){symbol}({right.expr})")

    def __add__(self, other: DimLike) -> "Dim":
        return self._binary(other, "+", operator.add)

    def __radd__(self, other: DimLike) -> "Dim":
        return self._binary(other, "+", operator.add, swap=True)

    def __sub__(self, other: DimLike) -> "Dim":
        return self._binary(other, "-", operator.sub)

    def __rsub__(self, other: DimLike) -> "Dim":
        return self._binary(other, "-", operator.sub, swap=True)

    def __mul__(self, other: DimLike) -> "Dim":
        return self._binary(other, "*", operator.mul)

    def __rmul__(self, other: DimLike) -> "Dim":
        return self._binary(other, "*", operator.mul, swap=True)

    def __neg__(self) -> "Dim":
        return self._binary(-1, "*", operator.mul)

    def __eq__(self, other: object) -> bool:
        try:
            other_dim = Dim(other)  # type: ignore[arg-type]
        except TypeError:
            return NotImplemented
        return _canonical(self.expr) == _canonical(other_dim.expr)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(_canonical(self.expr))

    def __str__(self) -> str:
        return self.expr


def _canonical(expr: str) -> str:
    return expr.replace(" ", "")


class StaticDim(Dim):
    """A dimension of known size."""

    def __init__(self, dim: DimLike = 0) -> None:
        if isinstance(dim, StaticDim):
            dim = dim.dim
        value = int(dim)  # type: ignore[arg-type]
        if value < 0 and value != -1:
            raise ValueError(f"a static dim is >= 0, got {value}")
        self.dim: int = value

    @property
    def expr(self) -> str:
        return str(self.dim)

    def __int__(self) -> int:
        return self.dim

    def __index__(self) -> int:
        return self.dim

    def __repr__(self) -> str:
        return f"Dim({self.dim})"


class SymbolicDim(Dim):
    """A named dimension whose size is bound at execution (``"batch"``)."""

    def __init__(self, name: Union[str, "SymbolicDim"] = "") -> None:
        if isinstance(name, SymbolicDim):
            name = name.name
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"a symbolic dim name is an identifier, got {name!r}")
        self.name: str = name

    @property
    def expr(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Dim({self.name!r})"


class AlgebraicDim(Dim):
    """An expression of symbolic dims and integers (``"2*batch"``, ``"seq+1"``)."""

    def __init__(self, value: Union[str, "AlgebraicDim"] = "") -> None:
        if isinstance(value, AlgebraicDim):
            value = value.text
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"an algebraic dim is an expression string, got {value!r}")
        self.text: str = value.strip()

    @property
    def expr(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Dim({self.text!r})"


ShapeLike = Iterable[DimLike]


class Shape(list):
    """A list of :class:`Dim` with ``rank`` and ``static_dims``."""

    def __init__(self, dims: ShapeLike = ()) -> None:
        super().__init__(Dim(d) for d in dims)

    @property
    def rank(self) -> int:
        return len(self)

    @property
    def static_dims(self) -> List[int]:
        """The sizes of the static dims, in order."""
        return [d.dim for d in self if isinstance(d, StaticDim)]

    @property
    def is_static(self) -> bool:
        return all(isinstance(d, StaticDim) for d in self)

    def to_ints(self) -> Tuple[int, ...]:
        """The dims as ints; raises ValueError if one is symbolic."""
        if not self.is_static:
            raise ValueError(f"shape {self} has symbolic dims")
        return tuple(d.dim for d in self)  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(d) for d in self) + "]"

    def __str__(self) -> str:
        return "[" + ", ".join(str(d) for d in self) + "]"


# ==========================================================================================
# Tensor types
# ==========================================================================================
class Type:
    """Base of the types a graph value can have (kiln has tensor types only)."""


class TensorType(Type):
    """The type of a tensor value in a graph: element type, dims and device.

    Args:
        dtype: element type.
        shape: dims (ints, names, expressions or :class:`Dim`).
        device: where the value lives; defaults to the CPU.
    """

    def __init__(self, dtype: DType, shape: ShapeLike,
                 device: Optional[DeviceRef] = None) -> None:
        if not isinstance(dtype, DType):
            raise TypeError(f"TensorType needs a kiln DType, got {dtype!r}")
        if device is not None and not isinstance(device, DeviceRef):
            raise TypeError(f"TensorType's device is a DeviceRef, got {type(device).__name__}")
        self.dtype: DType = dtype
        self.shape: Shape = Shape(shape)
        for dim in self.shape:
            if isinstance(dim, StaticDim) and dim.dim < 0:
                raise ValueError(f"static dims must be >= 0, got {self.shape}")
        self.device: DeviceRef = device if device is not None else DeviceRef.CPU()

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __eq__(self, other: object) -> bool:
        # A BufferType is never equal to a TensorType of the same dtype and shape.
        return (isinstance(other, TensorType) and type(other) is type(self) and
                other.dtype == self.dtype and list(other.shape) == list(self.shape) and
                other.device == self.device)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.dtype, tuple(self.shape), self.device))

    def as_buffer(self) -> "BufferType":
        """The buffer type of the same dtype, shape and device."""
        return BufferType(self.dtype, self.shape, self.device)

    def __repr__(self) -> str:
        return f"TensorType(dtype={self.dtype!r}, shape={self.shape!r}, device={self.device})"

    # -- C conversion ---------------------------------------------------------------------
    def _to_c(self) -> Tuple[_capi.TensorTypeC, List[Any]]:
        """The kiln_tensor_type, and the buffers that must stay alive while it is used."""
        dims = (_capi.Dim * max(self.rank, 1))()
        keep: List[Any] = [dims]
        for i, dim in enumerate(self.shape):
            if isinstance(dim, StaticDim):
                dims[i].size = dim.dim
                dims[i].expr = None
            else:
                text = _capi.encode(dim.expr)
                keep.append(text)
                dims[i].size = -1
                dims[i].expr = text
        device = _capi.encode(self.device.spec)
        keep.append(device)
        c_type = _capi.new_struct(_capi.TensorTypeC, dtype=int(self.dtype), rank=self.rank,
                                  dims=ctypes.cast(dims, ctypes.POINTER(_capi.Dim)),
                                  device=device, is_buffer=int(isinstance(self, BufferType)))
        return c_type, keep

    @staticmethod
    def _from_spec(spec: _capi.TensorSpecC) -> "TensorType":
        dims: List[Dim] = []
        for i in range(spec.rank):
            expr = spec.dim_exprs[i] if spec.dim_exprs else None
            dims.append(Dim(_capi.decode(expr)) if expr else StaticDim(int(spec.shape[i])))
        device = DeviceRef.parse(_capi.decode(spec.device))
        if spec.is_buffer:
            return BufferType(DType(spec.dtype), dims, device)
        return TensorType(DType(spec.dtype), dims, device)


class BufferType(TensorType):
    """The type of a mutable buffer (MAX's ``BufferType``): a graph input whose tensor the
    model reads and writes in place, through ``ops.buffer_load``, ``ops.buffer_store``,
    ``ops.buffer_store_slice`` and ``ops.inplace_custom``. The kiln ``Tensor`` passed for it
    to ``Model.execute`` holds the new contents afterwards.

    Args:
        dtype: element type.
        shape: dims (ints, names, expressions or :class:`Dim`).
        device: where the buffer lives; defaults to the CPU.
    """

    def as_tensor(self) -> TensorType:
        """The tensor type of the same dtype, shape and device."""
        return TensorType(self.dtype, self.shape, self.device)

    def __repr__(self) -> str:
        return f"BufferType(dtype={self.dtype!r}, shape={self.shape!r}, device={self.device})"


def shape_attr(shape: Sequence[Any]) -> Union[List[int], str]:
    """A shape as kiln's reshape/broadcast_to attribute: INTS when every dim is static (or
    -1), else the comma-separated dim expressions."""
    dims: List[Dim] = []
    for item in shape:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool) and item == -1:
            dims.append(StaticDim(-1))
        else:
            dims.append(Dim(item))
    if all(isinstance(d, StaticDim) for d in dims):
        return [d.dim for d in dims]  # type: ignore[union-attr]
    return ",".join(d.expr for d in dims)
