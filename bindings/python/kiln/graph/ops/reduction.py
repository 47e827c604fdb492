"""Reductions along one axis (the reduced dim is kept with size 1, as in MAX), scans, softmax
and logsoftmax, top_k and argsort."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..value import TensorValue, TensorValueLike
from ._common import check_axis, emit, emit1, tensor_operand
from .elementwise import maximum, minimum

__all__ = ["argmax", "argmin", "argsort", "cumsum", "logsoftmax", "max", "mean", "min",
           "softmax", "sum", "top_k"]


def _reduce(op: str, x: TensorValueLike, axis: int) -> TensorValue:
    return emit1(op, [tensor_operand(op, x)], {"axis": check_axis(op, axis)})


def sum(x: TensorValueLike, axis: int = -1) -> TensorValue:  # noqa: A001
    """Sum along ``axis`` (negative counts from the end); the result keeps ``axis`` with
    size 1."""
    return _reduce("sum", x, axis)


def mean(x: TensorValueLike, axis: int = -1) -> TensorValue:
    """Arithmetic mean along ``axis``; the result keeps ``axis`` with size 1."""
    return _reduce("mean", x, axis)


def argmax(x: TensorValueLike, axis: int = -1) -> TensorValue:
    """Index (int64) of the largest element along ``axis``, the first one on ties; the
    result keeps ``axis`` with size 1."""
    return _reduce("argmax", x, axis)


def argmin(x: TensorValueLike, axis: int = -1) -> TensorValue:
    """Index (int64) of the smallest element along ``axis``, the first one on ties (a NaN
    counts as the smallest); the result keeps ``axis`` with size 1."""
    return _reduce("argmin", x, axis)


def max(x: TensorValueLike, y: Optional[TensorValueLike] = None, /,  # noqa: A001
        axis: Optional[int] = None) -> TensorValue:
    """Element-wise maximum of ``x`` and ``y`` when ``y`` is given (``axis`` is then
    ignored); otherwise the largest element of ``x`` along ``axis`` (default -1), kept with
    size 1."""
    if y is not None:
        return maximum(x, y)
    return _reduce("max", x, -1 if axis is None else axis)


def min(x: TensorValueLike, y: Optional[TensorValueLike] = None, /,  # noqa: A001
        axis: Optional[int] = None) -> TensorValue:
    """Element-wise minimum of ``x`` and ``y`` when ``y`` is given (``axis`` is then
    ignored); otherwise the smallest element of ``x`` along ``axis`` (default -1), kept with
    size 1."""
    if y is not None:
        return minimum(x, y)
    return _reduce("min", x, -1 if axis is None else axis)


def softmax(x: TensorValueLike, axis: int = -1) -> TensorValue:
    """``exp(x) / sum(exp(x))`` along ``axis`` (computed stably by the kernel); same shape as
    ``x``."""
    return _reduce("softmax", x, axis)


def logsoftmax(x: TensorValueLike, axis: int = -1) -> TensorValue:
    """``x - log(sum(exp(x)))`` along ``axis`` (the last by default; computed stably by the
    kernel); same shape as ``x``."""
    return _reduce("logsoftmax", x, axis)


def _flag(op: str, name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def cumsum(x: TensorValueLike, axis: int = -1, exclusive: bool = False,
           reverse: bool = False) -> TensorValue:
    """Running sum along ``axis``; same type as ``x``.

    Args:
        x: input tensor.
        axis: the axis to scan (negative counts from the end).
        exclusive: each output leaves out its own element (the first is 0).
        reverse: sum from the end of the axis toward the start.
    """
    attrs = {"axis": check_axis("cumsum", axis),
             "exclusive": _flag("cumsum", "exclusive", exclusive),
             "reverse": _flag("cumsum", "reverse", reverse)}
    return emit1("cumsum", [tensor_operand("cumsum", x)], attrs)


def top_k(input: TensorValueLike, k: int, axis: int = -1  # noqa: A002
          ) -> Tuple[TensorValue, TensorValue]:
    """The ``k`` largest elements along ``axis``, largest first, and their int64 indices (equal
    values keep index order; NaN counts as the largest).

    Raises:
        ValueError: ``k`` is negative or larger than the axis (when its size is known).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"top_k: k must be an int, got {k!r}")
    values, indices = emit("top_k", [tensor_operand("top_k", input)],
                           {"k": int(k), "axis": check_axis("top_k", axis)})
    return values, indices


def argsort(x: TensorValueLike, ascending: bool = True) -> TensorValue:
    """int64 indices that sort ``x`` along its first axis (stable: equal values keep index
    order; NaN sorts as the largest value)."""
    return emit1("argsort", [tensor_operand("argsort", x)],
                 {"ascending": _flag("argsort", "ascending", ascending)})
