"""Symbolic values of a graph being built: :class:`Value` and :class:`TensorValue`.

A :class:`TensorValue` is an edge of the dataflow graph (a graph input, a weight, or an op's
output). It has a type (dtype, shape, device) but no data; arithmetic on it adds ops to its
graph. Python and NumPy scalars mixed with a TensorValue become constants of the
TensorValue's dtype (``x * 2`` on a float16 ``x`` multiplies by a float16 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence, Union

import numpy as np

from ..dtype import DType
from .type import BufferType, DeviceRef, DimLike, Shape, TensorType

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["BufferValue", "TensorValue", "TensorValueLike", "Value"]


def _ops() -> Any:
    from . import ops  # noqa: PLC0415 (ops imports this module)

    return ops


class Value:
    """Base of the symbolic values of a graph: :class:`TensorValue` and :class:`BufferValue`."""

    @property
    def type(self) -> TensorType:
        raise NotImplementedError

    @property
    def tensor(self) -> "TensorValue":
        """This value as a :class:`TensorValue` (raises if it is not one)."""
        if isinstance(self, TensorValue):
            return self
        raise TypeError(f"{type(self).__name__} is not a TensorValue")

    @property
    def buffer(self) -> "BufferValue":
        """This value as a :class:`BufferValue` (raises if it is not one)."""
        if isinstance(self, BufferValue):
            return self
        raise TypeError(f"{type(self).__name__} is not a BufferValue")


class TensorValue(Value):
    """A tensor-typed value in a graph under construction.

    Built by the graph (inputs, ``ops.*`` results, weights); ``TensorValue(v)`` of another
    TensorValue returns an equivalent handle to the same value.
    """

    # NumPy must not try to broadcast a TensorValue as an object array: `array + value`
    # then calls TensorValue.__radd__.
    __array_ufunc__ = None

    _graph: "Graph"
    _handle: int
    _type: TensorType

    def __init__(self, value: "TensorValue") -> None:
        if not isinstance(value, TensorValue):
            raise TypeError(f"TensorValue() wraps another TensorValue, got "
                            f"{type(value).__name__}; use ops.constant() for data")
        bound = value._bound()
        self._graph = bound._graph
        self._handle = bound._handle
        self._type = bound._type

    @classmethod
    def _make(cls, graph: "Graph", handle: int, value_type: TensorType) -> "TensorValue":
        value = cls.__new__(cls)
        value._graph = graph
        value._handle = handle
        value._type = value_type
        return value

    def _bound(self, graph: Optional["Graph"] = None) -> "TensorValue":
        """The value as a node of a graph (a Weight is added to ``graph`` on first use; a value
        of a graph enclosing the subgraph ``graph`` becomes one of its inputs)."""
        if graph is not None and graph is not self._graph and self._graph._encloses(graph):
            return graph._capture(self)
        return self

    @property
    def graph(self) -> "Graph":
        """The graph this value belongs to."""
        return self._bound()._graph

    # -- type -----------------------------------------------------------------------------
    @property
    def type(self) -> TensorType:
        """The value's :class:`TensorType`."""
        return self._type

    @property
    def dtype(self) -> DType:
        """Element type."""
        return self.type.dtype

    @property
    def shape(self) -> Shape:
        """Dims (static ints, symbolic names or expressions)."""
        return Shape(self.type.shape)

    @property
    def rank(self) -> int:
        """Number of dims."""
        return self.type.rank

    @property
    def device(self) -> DeviceRef:
        """Device the value lives on."""
        return self.type.device

    # -- shape manipulation ---------------------------------------------------------------
    def reshape(self, shape: Iterable[DimLike]) -> "TensorValue":
        """Same elements in a new shape (one dim may be -1); see :func:`ops.reshape`."""
        return _ops().reshape(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "TensorValue":
        """Merges dims ``start_dim..end_dim`` (inclusive) into one."""
        return _ops().flatten(self, start_dim, end_dim)

    def broadcast_to(self, shape: Iterable[DimLike]) -> "TensorValue":
        """Broadcasts to ``shape`` (NumPy rules); see :func:`ops.broadcast_to`."""
        return _ops().broadcast_to(self, shape)

    def cast(self, dtype: DType) -> "TensorValue":
        """Converts the elements to ``dtype``."""
        return _ops().cast(self, dtype)

    def permute(self, dims: List[int]) -> "TensorValue":
        """Reorders all dims: output dim i is input dim ``dims[i]``."""
        return _ops().permute(self, dims)

    def transpose(self, dim_1: int, dim_2: int) -> "TensorValue":
        """Swaps two dims."""
        return _ops().transpose(self, dim_1, dim_2)

    @property
    def T(self) -> "TensorValue":  # noqa: N802 (MAX's name)
        """The last two dims swapped."""
        return self.transpose(-1, -2)

    def __getitem__(self, index: Any) -> "TensorValue":
        """Basic NumPy indexing (ints, slices with steps, ``...``, ``None``); see
        :func:`ops.slice_tensor`."""
        if isinstance(index, TensorValue) or not isinstance(index, tuple):
            index = (index,)
        return _ops().slice_tensor(self, index)

    def print(self, label: str = "debug_tensor") -> None:
        """Prints this value when the graph runs (``ops.print``)."""
        _ops().print(self, label)

    def to(self, device: DeviceRef) -> "TensorValue":
        """This value copied to ``device`` (``ops.transfer_to``)."""
        return _ops().transfer_to(self, device)

    # -- reductions -----------------------------------------------------------------------
    def argmax(self, axis: int = -1) -> "TensorValue":
        """Index (int64) of the largest element along ``axis`` (kept as size 1)."""
        return _ops().argmax(self, axis=axis)

    def max(self, axis: int = -1) -> "TensorValue":
        """Largest element along ``axis`` (kept as size 1)."""
        return _ops().max(self, axis=axis)

    def min(self, axis: int = -1) -> "TensorValue":
        """Smallest element along ``axis`` (kept as size 1)."""
        return _ops().min(self, axis=axis)

    def mean(self, axis: int = -1) -> "TensorValue":
        """Mean along ``axis`` (kept as size 1)."""
        return _ops().mean(self, axis=axis)

    def sum(self, axis: int = -1) -> "TensorValue":
        """Sum along ``axis`` (kept as size 1)."""
        return _ops().sum(self, axis=axis)

    # -- arithmetic -----------------------------------------------------------------------
    def __add__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().add(self, rhs)

    def __radd__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().add(lhs, self)

    def __sub__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().sub(self, rhs)

    def __rsub__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().sub(lhs, self)

    def __mul__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().mul(self, rhs)

    def __rmul__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().mul(lhs, self)

    def __truediv__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().div(self, rhs)

    def __rtruediv__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().div(lhs, self)

    def __pow__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().pow(self, rhs)

    def __rpow__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().pow(lhs, self)

    def __matmul__(self, rhs: "TensorValueLike") -> "TensorValue":
        return _ops().matmul(self, rhs)

    def __rmatmul__(self, lhs: "TensorValueLike") -> "TensorValue":
        return _ops().matmul(lhs, self)

    def __neg__(self) -> "TensorValue":
        return _ops().negate(self)

    def __abs__(self) -> "TensorValue":
        return _ops().abs(self)

    # -- comparisons (element-wise, like MAX: they build ops and return bool tensors) ------
    def __eq__(self, rhs: object) -> "TensorValue":  # type: ignore[override]
        _check_comparable(self, rhs, "==")
        return _ops().equal(self, rhs)

    def __ne__(self, rhs: object) -> "TensorValue":  # type: ignore[override]
        _check_comparable(self, rhs, "!=")
        return _ops().not_equal(self, rhs)

    def __gt__(self, rhs: "TensorValueLike") -> "TensorValue":
        _check_comparable(self, rhs, ">")
        return _ops().greater(self, rhs)

    def __ge__(self, rhs: "TensorValueLike") -> "TensorValue":
        _check_comparable(self, rhs, ">=")
        return _ops().greater_equal(self, rhs)

    def __lt__(self, rhs: "TensorValueLike") -> "TensorValue":
        _check_comparable(self, rhs, "<")
        return _ops().greater(rhs, self)

    def __le__(self, rhs: "TensorValueLike") -> "TensorValue":
        _check_comparable(self, rhs, "<=")
        return _ops().greater_equal(rhs, self)

    # `==` builds an op, so hashing falls back to identity (values stay usable as dict keys
    # and set members: lookups compare identity before calling __eq__).
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError("a TensorValue has no truth value while the graph is being built; "
                        "use ops.where() to select by a condition")

    def __iter__(self) -> Any:
        raise TypeError("a TensorValue is not iterable; index it (x[i]) or use "
                        "ops.slice_tensor")

    def __repr__(self) -> str:
        return (f"TensorValue(dtype={self.dtype.name}, shape={self.shape}, "
                f"device={self.device})")


TensorValueLike = Union[TensorValue, int, float, bool, np.ndarray, np.generic, Sequence[Any]]


class BufferValue(Value):
    """A mutable buffer in a graph under construction (MAX's ``BufferValue``): a graph input
    of :class:`BufferType` whose tensor the model reads and writes in place.

    It takes part in no arithmetic: read it with ``ops.buffer_load`` (or ``buffer[...]``, a
    load then a slice) and write it with ``ops.buffer_store``, ``ops.buffer_store_slice``
    (or ``buffer[...] = value``) and ``ops.inplace_custom``. Those nodes run in the order
    they are added, so a load after a store sees the stored values.
    """

    _graph: "Graph"
    _handle: int
    _type: BufferType

    def __init__(self, value: "BufferValue") -> None:
        if not isinstance(value, BufferValue):
            raise TypeError(f"BufferValue() wraps another BufferValue, got "
                            f"{type(value).__name__}")
        self._graph = value._graph
        self._handle = value._handle
        self._type = value._type

    @classmethod
    def _make(cls, graph: "Graph", handle: int, value_type: BufferType) -> "BufferValue":
        value = cls.__new__(cls)
        value._graph = graph
        value._handle = handle
        value._type = value_type
        return value

    @property
    def graph(self) -> "Graph":
        """The graph this buffer belongs to."""
        return self._graph

    @property
    def type(self) -> BufferType:  # type: ignore[override]
        """The value's :class:`BufferType`."""
        return self._type

    @property
    def dtype(self) -> DType:
        """Element type."""
        return self._type.dtype

    @property
    def shape(self) -> Shape:
        """Dims (static ints, symbolic names or expressions)."""
        return Shape(self._type.shape)

    @property
    def rank(self) -> int:
        """Number of dims."""
        return self._type.rank

    @property
    def device(self) -> DeviceRef:
        """Device the buffer lives on."""
        return self._type.device

    def __getitem__(self, index: Any) -> TensorValue:
        """A load of the buffer, sliced as ``TensorValue.__getitem__`` slices."""
        return _ops().buffer_load(self)[index]

    def __setitem__(self, index: Any, value: "TensorValueLike") -> None:
        """Stores ``value`` into the slice ``index`` of the buffer
        (``ops.buffer_store_slice``)."""
        _ops().buffer_store_slice(self, value, index)

    def print(self, label: str = "debug_buffer") -> None:
        """Prints the buffer's current contents when the graph runs (a load, then
        ``ops.print``)."""
        _ops().print(_ops().buffer_load(self), label)

    def __iter__(self) -> Any:
        raise TypeError("a BufferValue is not iterable; load it with ops.buffer_load")

    def __repr__(self) -> str:
        return (f"BufferValue(dtype={self.dtype.name}, shape={self.shape}, "
                f"device={self.device})")


def make_value(graph: "Graph", handle: int, value_type: TensorType) -> Value:
    """A BufferValue for a buffer type, else a TensorValue."""
    if isinstance(value_type, BufferType):
        return BufferValue._make(graph, handle, value_type)
    return TensorValue._make(graph, handle, value_type)


def _check_comparable(lhs: TensorValue, rhs: object, symbol: str) -> None:
    if not isinstance(rhs, (TensorValue, int, float, np.ndarray, np.generic, list, tuple)):
        raise TypeError(f"'{symbol}' is not supported between a TensorValue and "
                        f"{type(rhs).__name__}")
