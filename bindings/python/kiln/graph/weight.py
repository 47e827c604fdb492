"""Weights: named tensors of a graph whose data comes from outside the graph's ops.

A :class:`Weight` is declared outside any graph (name, dtype, static shape, device) and is
added to the graph it is first used in. Its data is either given now (``value=``, stored in
the graph and in its ``.kiln`` file) or supplied at load time by name through
``InferenceSession.load(graph, weights_registry={name: array})``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional

import numpy as np

from ..dtype import DType
from .type import DeviceRef, DimLike, Shape, StaticDim, TensorType
from .value import TensorValue

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Weight"]


class Weight(TensorValue):
    """A named weight tensor.

    Args:
        name: unique name within a graph (the key of ``weights_registry``).
        dtype: element type.
        shape: static dims.
        device: where the weight is used; defaults to the CPU.
        quantization_encoding: accepted for MAX compatibility; must be None.
        align: accepted for MAX compatibility (kiln aligns every allocation).
        value: optional data (NumPy array, kiln Tensor, or anything ``np.asarray`` takes),
            converted to ``dtype`` and stored inline in the graph.
    """

    def __init__(self, name: str, dtype: DType, shape: Iterable[DimLike],
                 device: Optional[DeviceRef] = None, quantization_encoding: Any = None,
                 align: Optional[int] = None, *, value: Any = None) -> None:  # noqa: D107
        if not isinstance(name, str) or not name:
            raise ValueError("a weight needs a non-empty name")
        if quantization_encoding is not None:
            raise NotImplementedError("kiln does not support quantized weights yet")
        weight_type = TensorType(dtype, shape, device)
        if not all(isinstance(d, StaticDim) for d in weight_type.shape):
            raise ValueError(f"weight '{name}': weight shapes must be static, got "
                             f"{weight_type.shape}")
        self.name = name
        self.align = align
        self.quantization_encoding = None
        self._type = weight_type
        self.value = value
        if value is not None:
            self.value = _checked_value(name, value, weight_type)

    @property
    def type(self) -> TensorType:
        return self._type

    @property
    def shape(self) -> Shape:
        return Shape(self._type.shape)

    @property
    def original_dtype_and_shape(self) -> tuple:
        return (self.dtype, self.shape)

    def _bound(self, graph: Optional["Graph"] = None) -> TensorValue:
        from .graph import Graph  # noqa: PLC0415 (circular import)

        target = graph if graph is not None else Graph._current_or_none()
        if target is None:
            raise RuntimeError(f"weight '{self.name}' is used outside a graph: build inside "
                               "`with Graph(...)` or a forward function")
        return target.add_weight(self)

    @property
    def graph(self) -> "Graph":
        raise AttributeError("a Weight belongs to every graph it is used in; use the value "
                             "returned by graph.add_weight(weight)")

    def __repr__(self) -> str:
        return (f"Weight(name={self.name!r}, dtype={self.dtype.name}, shape={self.shape}, "
                f"device={self.device})")


def _checked_value(name: str, value: Any, weight_type: TensorType) -> Any:
    from ..driver import Tensor  # noqa: PLC0415

    if isinstance(value, Tensor):
        shape = tuple(value.shape)
    else:
        value = np.asarray(value)
        shape = value.shape
    expected = weight_type.shape.to_ints()
    if tuple(shape) != tuple(expected):
        raise ValueError(f"weight '{name}': value has shape {list(shape)}, declared "
                         f"{list(expected)}")
    return value
