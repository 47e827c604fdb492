"""Reductions along one axis (the reduced dim is kept with size 1, as in MAX), and softmax."""

from __future__ import annotations

from typing import Optional

from ..value import TensorValue, TensorValueLike
from ._common import check_axis, emit1, tensor_operand
from .elementwise import maximum, minimum

__all__ = ["argmax", "max", "mean", "min", "softmax", "sum"]


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
