"""Collective ops: values spread over several devices (MAX's ``ops.allgather``)."""

from __future__ import annotations

from typing import Iterable, List

from ..value import TensorValue
from ._common import as_value, check_axis, emit, graph_of

__all__ = ["allgather"]


def allgather(inputs: Iterable[TensorValue], axis: int = 0) -> List[TensorValue]:
    """Gathers one tensor per device and concatenates them along ``axis`` (negative counts
    from the end) on every one of those devices.

    Args:
        inputs: one TensorValue per device, all on different devices, of one dtype and rank,
            their shapes equal except along ``axis``.
        axis: the dimension to concatenate along. Defaults to 0.

    Returns:
        One TensorValue per input, output ``i`` on the device of ``inputs[i]``, each the
        concatenation of all inputs along ``axis``.

    Raises:
        TypeError: an input is not a TensorValue, or ``axis`` is not an int.
        ValueError: no inputs, two inputs on one device, dtypes, ranks or off-axis dims that
            differ, or ``axis`` out of range.
    """
    values = list(inputs)
    if not values:
        raise ValueError("allgather: needs at least one input tensor")
    for i, value in enumerate(values):
        if not isinstance(value, TensorValue):
            raise TypeError(f"allgather: input {i} must be a TensorValue, got "
                            f"{type(value).__name__}")
    seen = {}
    for i, value in enumerate(values):
        if value.device in seen:
            raise ValueError(f"allgather: inputs {seen[value.device]} and {i} are both on "
                             f"{value.device}; allgather must have unique devices across its "
                             "input tensors")
        seen[value.device] = i
    graph = graph_of(values)
    bound = [as_value(graph, value) for value in values]
    return emit("allgather", bound, {"axis": check_axis("allgather", axis)})
