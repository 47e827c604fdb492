"""Building kiln graphs in Python, as with MAX's ``max.graph``.

:class:`Graph` holds typed inputs, nodes added by :mod:`kiln.graph.ops` (or by arithmetic on
:class:`TensorValue`), weights and outputs; it can be saved as a ``.kiln`` file or loaded into
an :class:`kiln.engine.InferenceSession`.
"""

from . import ops
from .graph import Graph
from .type import (AlgebraicDim, BufferType, DeviceKind, DeviceRef, Dim, DimLike, Shape,
                   ShapeLike, StaticDim, SymbolicDim, TensorType, Type)
from .value import BufferValue, TensorValue, TensorValueLike, Value
from .weight import Weight

__all__ = [
    "AlgebraicDim", "DeviceKind", "DeviceRef", "Dim", "DimLike", "Graph", "Shape", "ShapeLike",
    "StaticDim", "SymbolicDim", "TensorType", "TensorValue", "TensorValueLike", "Type", "Value",
    "Weight", "ops",
]
__all__ += ["BufferType", "BufferValue"]
