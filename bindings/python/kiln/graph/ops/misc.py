"""Constants and custom ops."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

from ...dtype import DType
from .. import _emit
from ..graph import Graph
from ..type import DeviceRef, TensorType, Type
from ..value import TensorValue, Value
from ._common import as_value, emit, emit1, graph_of, tensor_operand

__all__ = ["constant", "custom", "nonzero", "print", "transfer_to"]


def constant(value: Any, dtype: Optional[DType] = None,
             device: Optional[DeviceRef] = None) -> TensorValue:
    """A tensor whose data is stored in the graph.

    Args:
        value: a NumPy array, a Python/NumPy scalar (rank 0), a nested list, or a kiln
            ``driver.Tensor``.
        dtype: element type; ``value`` is converted to it and must fit (a fraction in an
            integer type, or an integer out of range, is a ValueError; float rounding is
            allowed). Defaults to the array's own dtype (Python floats: float32).
        device: where the constant lives (default: the CPU).
    """
    if dtype is not None and not isinstance(dtype, DType):
        raise TypeError(f"constant: dtype must be a kiln DType, got {dtype!r}")
    if device is not None and not isinstance(device, DeviceRef):
        raise TypeError(f"constant: device must be a DeviceRef, got {type(device).__name__}")
    graph = Graph.current
    if isinstance(value, TensorValue):
        raise TypeError("constant: value is already a TensorValue")
    return as_value(graph, value, dtype, device or DeviceRef.CPU())


def custom(name: str, device: Optional[DeviceRef], values: Sequence[Value],
           out_types: Sequence[Type],
           parameters: Optional[Mapping[str, Union[bool, int, float, str, DType]]] = None
           ) -> list:
    """A node running custom op ``name`` from a plugin.

    Args:
        name: the op name the plugin registered.
        device: where the op runs (None: inherited from its inputs).
        values: the op's inputs.
        out_types: the type of each output (custom ops have no type inference in kiln, so
            the graph states them).
        parameters: attributes passed to the kernel (bool, int, float, str or DType).

    Returns:
        One TensorValue per entry of ``out_types``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("custom: the op needs a name")
    types = list(out_types)
    if not all(isinstance(t, TensorType) for t in types):
        raise TypeError("custom: out_types must be TensorTypes")
    inputs = list(values)
    if any(not isinstance(v, TensorValue) for v in inputs):
        raise TypeError("custom: values must be TensorValues")
    graph = graph_of(inputs) if inputs else Graph.current
    bound = [as_value(graph, v) for v in inputs]
    if not bound:
        return _emit.add_op(graph, name, [], parameters, types, device)
    return emit(name, bound, parameters, types, device)


def nonzero(x: Any, out_dim: Any) -> TensorValue:
    """The indices of the nonzero elements of ``x`` in row-major order: an int64 tensor of
    shape ``[out_dim, rank(x)]`` (NumPy's ``argwhere``). Its size is known only when the graph
    runs: ``out_dim`` names that dim (a new symbol such as ``"nnz"``, or a static size the count
    must equal)."""
    from ..type import Dim as _Dim  # noqa: PLC0415

    if isinstance(out_dim, bool) or not isinstance(out_dim, (int, str, _Dim)) and not hasattr(
            out_dim, "__index__"):
        raise TypeError(f"nonzero: out_dim must be an int, a str or a Dim, got {out_dim!r}")
    value = tensor_operand("nonzero", x) if isinstance(x, TensorValue) else as_value(
        Graph.current, x)
    text = str(int(out_dim)) if not isinstance(out_dim, (str, _Dim)) else str(out_dim)
    return emit1("nonzero", [value], {"out_dim": text})


def transfer_to(x: TensorValue, device: DeviceRef) -> TensorValue:
    """``x`` copied to ``device`` (no copy when it is already there)."""
    if not isinstance(device, DeviceRef):
        raise TypeError(f"transfer_to: device must be a DeviceRef, got {type(device).__name__}")
    value = tensor_operand("transfer_to", x)
    return emit("transfer_to", [value], device=device)[0]


def print(value: Any, label: str = "debug_tensor") -> None:  # noqa: A001 (MAX's name)
    """Prints ``value`` when the graph runs: a tensor as ``<label>: <type> <values>`` on
    stdout (one line per execution), or a string as it is."""
    if not isinstance(label, str):
        raise TypeError(f"print: label must be a str, got {type(label).__name__}")
    if isinstance(value, str):
        _emit.add_op(Graph.current, "print", [], {"label": value})
        return
    emit("print", [tensor_operand("print", value)], {"label": label})
