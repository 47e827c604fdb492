"""Convolution, pooling and signal ops with MAX's signatures and layouts.

kiln's core ops take channels-last activations (NHWC, NDHWC) and filters RSCF / QRSCF (spatial
dims, input channels per group, output channels); conv2d_transpose's filter is (kH, kW,
out_channels, in_channels). The other layouts MAX names (NCHW inputs, FCRS / FCQRS filters) are
permuted into those here. ``as_interleaved_complex`` and ``hann_window`` are core ops.
"""

from __future__ import annotations

import enum
from typing import Any, Iterable, Optional, Tuple, Union

import numpy as np

from ...dtype import DType
from ..type import DeviceRef, DimLike, StaticDim, shape_attr
from ..value import TensorValue, TensorValueLike
from ._common import as_value, emit, emit1, graph_of, tensor_operand

__all__ = [
    "ConvInputLayout", "FilterLayout", "InterpolationMode", "as_interleaved_complex",
    "avg_pool2d", "conv2d", "conv2d_transpose", "conv3d", "hann_window", "irfft", "max_pool2d",
    "resize",
]


class ConvInputLayout(enum.Enum):
    """Where the channels of a convolution's input are."""

    NHWC = "NHWC"
    NCHW = "NCHW"


class FilterLayout(enum.Enum):
    """The dim order of a convolution filter (F: output channels, C: input channels)."""

    RSCF = "RSCF"
    QRSCF = "QRSCF"
    FCRS = "FCRS"
    FCQRS = "FCQRS"
    CFRS = "CFRS"


class InterpolationMode(enum.Enum):
    """How resize computes values between input pixels."""

    BICUBIC = "bicubic"
    BILINEAR = "bilinear"
    NEAREST = "nearest"


def _ints(op: str, name: str, value: Any, count: int) -> list:
    items = [value] if isinstance(value, (int, np.integer)) else list(value)
    if len(items) == 1:
        items = items * count
    if len(items) != count or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                  for v in items):
        raise ValueError(f"{op}: {name} must be an int or {count} ints, got {value!r}")
    return [int(v) for v in items]


def _bias(graph: Any, x: TensorValue, bias: Optional[TensorValueLike]) -> list:
    return [] if bias is None else [as_value(graph, bias, x.dtype, x.device)]


def _channels_last(x: TensorValue, layout: ConvInputLayout, spatial: int) -> TensorValue:
    if ConvInputLayout(layout) == ConvInputLayout.NHWC:
        return x
    return x.permute([0] + list(range(2, 2 + spatial)) + [1])


def _channels_first(x: TensorValue, layout: ConvInputLayout, spatial: int) -> TensorValue:
    if ConvInputLayout(layout) == ConvInputLayout.NHWC:
        return x
    return x.permute([0, spatial + 1] + list(range(1, spatial + 1)))


def _filter(op: str, w: TensorValue, layout: FilterLayout, spatial: int) -> TensorValue:
    layout = FilterLayout(layout)
    if layout in (FilterLayout.RSCF, FilterLayout.QRSCF):
        if (layout == FilterLayout.QRSCF) != (spatial == 3):
            raise ValueError(f"{op}: filter layout {layout.value} is not for {spatial}-D")
        return w
    if layout in (FilterLayout.FCRS, FilterLayout.FCQRS):
        if (layout == FilterLayout.FCQRS) != (spatial == 3):
            raise ValueError(f"{op}: filter layout {layout.value} is not for {spatial}-D")
        # F C spatial... -> spatial... C F
        return w.permute(list(range(2, 2 + spatial)) + [1, 0])
    raise ValueError(f"{op}: filter layout {layout.value} is not supported")


def _conv(op: str, spatial: int, x: TensorValueLike, filter: TensorValueLike,  # noqa: A002
          stride: Any, dilation: Any, padding: Any, groups: int,
          bias: Optional[TensorValueLike], input_layout: ConvInputLayout,
          filter_layout: FilterLayout) -> TensorValue:
    value = tensor_operand(op, x)
    graph = graph_of([value, filter, bias])
    w = as_value(graph, filter, value.dtype, value.device)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    attrs = {"stride": _ints(op, "stride", stride, spatial),
             "dilation": _ints(op, "dilation", dilation, spatial),
             "padding": _ints(op, "padding", padding, 2 * spatial),
             "groups": int(groups)}
    inputs = [_channels_last(value, input_layout, spatial), _filter(op, w, filter_layout, spatial)]
    out = emit1(op, inputs + _bias(graph, value, bias), attrs)
    return _channels_first(out, input_layout, spatial)


def conv2d(x: TensorValueLike, filter: TensorValueLike,  # noqa: A002 (MAX's name)
           stride: Tuple[int, int] = (1, 1), dilation: Tuple[int, int] = (1, 1),
           padding: Tuple[int, int, int, int] = (0, 0, 0, 0), groups: int = 1,
           bias: Optional[TensorValueLike] = None,
           input_layout: ConvInputLayout = ConvInputLayout.NHWC,
           filter_layout: FilterLayout = FilterLayout.RSCF) -> TensorValue:
    """2-D convolution of an NHWC input (batch, height, width, in_channels) with an RSCF
    filter (height, width, in_channels / groups, out_channels), plus an optional bias of
    out_channels. ``padding`` is (top, bottom, left, right) zeros around the input."""
    return _conv("conv2d", 2, x, filter, stride, dilation, padding, groups, bias, input_layout,
                 filter_layout)


def conv3d(x: TensorValueLike, filter: TensorValueLike,  # noqa: A002 (MAX's name)
           stride: Tuple[int, int, int] = (1, 1, 1), dilation: Tuple[int, int, int] = (1, 1, 1),
           padding: Tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0), groups: int = 1,
           bias: Optional[TensorValueLike] = None,
           input_layout: ConvInputLayout = ConvInputLayout.NHWC,
           filter_layout: FilterLayout = FilterLayout.QRSCF) -> TensorValue:
    """3-D convolution of an NDHWC input with a QRSCF filter (depth, height, width,
    in_channels / groups, out_channels); ``padding`` is (before, after) per D, H, W."""
    return _conv("conv3d", 3, x, filter, stride, dilation, padding, groups, bias, input_layout,
                 filter_layout)


def conv2d_transpose(x: TensorValueLike, filter: TensorValueLike,  # noqa: A002 (MAX's name)
                     stride: Tuple[int, int] = (1, 1), dilation: Tuple[int, int] = (1, 1),
                     padding: Tuple[int, int, int, int] = (0, 0, 0, 0),
                     output_paddings: Tuple[int, int] = (0, 0),
                     bias: Optional[TensorValueLike] = None,
                     input_layout: ConvInputLayout = ConvInputLayout.NHWC,
                     filter_layout: FilterLayout = FilterLayout.RSCF) -> TensorValue:
    """The transpose (input gradient) of conv2d: NHWC input with in_channels, filter (kH, kW,
    out_channels, in_channels). Each output dim is (in - 1) * stride - pad_before - pad_after
    + dilation * (k - 1) + 1; ``padding`` crops the output. Only zero output_paddings."""
    op = "conv2d_transpose"
    value = tensor_operand(op, x)
    graph = graph_of([value, filter, bias])
    w = as_value(graph, filter, value.dtype, value.device)
    layout = FilterLayout(filter_layout)
    if layout == FilterLayout.CFRS:
        w = w.permute([2, 3, 1, 0])  # C(in) F(out) R S -> R S F C
    elif layout != FilterLayout.RSCF:
        raise ValueError(f"{op}: filter layout {layout.value} is not supported")
    attrs = {"stride": _ints(op, "stride", stride, 2),
             "dilation": _ints(op, "dilation", dilation, 2),
             "padding": _ints(op, "padding", padding, 4),
             "output_paddings": _ints(op, "output_paddings", output_paddings, 2)}
    out = emit1(op, [_channels_last(value, input_layout, 2), w] + _bias(graph, value, bias),
                attrs)
    return _channels_first(out, input_layout, 2)


def _pool(op: str, input: TensorValueLike, kernel_size: Any, stride: Any,  # noqa: A002
          dilation: Any, padding: Any, ceil_mode: bool, extra: dict) -> TensorValue:
    value = tensor_operand(op, input)
    attrs = {"kernel_size": _ints(op, "kernel_size", kernel_size, 2),
             "stride": _ints(op, "stride", stride, 2),
             "dilation": _ints(op, "dilation", dilation, 2),
             "padding": _ints(op, "padding", padding, 2),
             "ceil_mode": int(bool(ceil_mode))}
    attrs.update(extra)
    return emit1(op, [value], attrs)


def max_pool2d(input: TensorValueLike, kernel_size: Tuple[int, int],  # noqa: A002
               stride: Union[int, Tuple[int, int]] = 1,
               dilation: Union[int, Tuple[int, int]] = 1,
               padding: Union[int, Tuple[int, int]] = 0,
               ceil_mode: bool = False) -> TensorValue:
    """Maximum over kernel_size windows of an NHWC input; ``padding`` (per H and W, on both
    sides) is at most half the kernel. ``ceil_mode`` rounds the output size up."""
    return _pool("max_pool2d", input, kernel_size, stride, dilation, padding, ceil_mode, {})


def avg_pool2d(input: TensorValueLike, kernel_size: Tuple[int, int],  # noqa: A002
               stride: Union[int, Tuple[int, int]] = 1,
               dilation: Union[int, Tuple[int, int]] = 1,
               padding: Union[int, Tuple[int, int]] = 0, ceil_mode: bool = False,
               count_boundary: bool = True) -> TensorValue:
    """Mean over kernel_size windows of an NHWC input. With ``count_boundary`` the padding
    zeros count in the divisor (not the extra right edge ``ceil_mode`` adds); without it only
    real elements do."""
    return _pool("avg_pool2d", input, kernel_size, stride, dilation, padding, ceil_mode,
                 {"count_boundary": int(bool(count_boundary))})


def as_interleaved_complex(x: TensorValueLike) -> TensorValue:
    """[..., 2n] of alternating (real, imag) as [..., n, 2] (the core op
    ``as_interleaved_complex``; float dtypes). The last dim must be even: static, or symbolic
    with a known factor 2 (``2*n``)."""
    return emit1("as_interleaved_complex", [tensor_operand("as_interleaved_complex", x)])


def irfft(input_tensor: TensorValueLike, n: Optional[int] = None, axis: int = -1,
          normalization: Any = "backward", input_is_complex: bool = False,
          buffer_size_mb: int = 512) -> TensorValue:
    """Inverse real FFT along ``axis``: the spectrum is cut or zero-padded to n // 2 + 1 bins
    and the result has n real values there (default n = 2 * (bins - 1)). Without
    ``input_is_complex`` the last dim holds interleaved (real, imag) pairs; with it the input's
    last dim is 2 and ``axis`` does not count it. ``normalization``: backward divides by n,
    ortho by sqrt(n), forward not at all. ``buffer_size_mb`` is accepted for MAX's signature."""
    del buffer_size_mb  # kiln's kernel needs no persistent buffer
    value = tensor_operand("irfft", input_tensor)
    if not input_is_complex:
        value = as_interleaved_complex(value)
    norm = getattr(normalization, "value", normalization)
    rank = value.rank - 1
    if not -rank <= axis < rank:
        raise ValueError(f"irfft: axis {axis} is out of range for rank {rank}")
    if n is None:
        bins = value.shape[axis % rank]
        if not isinstance(bins, StaticDim):
            raise ValueError("irfft: n must be given when the axis is symbolic")
        n = 2 * (bins.dim - 1)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"irfft: n must be a positive int, got {n!r}")
    return emit1("irfft", [value], {"n": int(n), "axis": int(axis),
                                    "normalization": str(norm).lower()})


def hann_window(window_length: int, device: DeviceRef, periodic: bool = True,
                dtype: DType = DType.float32) -> TensorValue:
    """The core op ``hann_window``: H[i] = (1 - cos(2 pi i / (N - 1))) / 2 for
    i < window_length, with N = window_length (+ 1 when ``periodic``, so
    ``hann_window(L, periodic=True) == hann_window(L + 1, periodic=False)[:-1]``); a window of
    length 1 is [1] (torch.hann_window). ``dtype`` must be a float type.

    Raises:
        TypeError: window_length is not an int, periodic not a bool, device not a DeviceRef or
            dtype not a DType.
        ValueError: window_length is negative.
    """
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"hann_window: window_length must be an int, got {window_length!r}")
    if window_length < 0:
        raise ValueError(f"hann_window: window_length must be >= 0, got {window_length}")
    if not isinstance(periodic, (bool, np.bool_)):
        raise TypeError(f"hann_window: periodic must be a bool, got {periodic!r}")
    if not isinstance(device, DeviceRef):
        raise TypeError(f"hann_window: device must be a DeviceRef, got {type(device).__name__}")
    if not isinstance(dtype, DType):
        raise TypeError(f"hann_window: dtype must be a kiln DType, got {dtype!r}")
    return emit("hann_window", [], {"window_length": int(window_length),
                                    "periodic": bool(periodic), "dtype": dtype},
                device=device)[0]


def resize(input: TensorValueLike, shape: Iterable[DimLike],  # noqa: A002 (MAX's name)
           interpolation: InterpolationMode = InterpolationMode.BILINEAR) -> TensorValue:
    """Resizes the H and W dims of an NCHW input to ``shape`` (N and C must stay). PyTorch's
    conventions: half-pixel centres without corner alignment; bicubic uses A = -0.75 and
    clamps taps at the borders; nearest takes floor(dst * in / out)."""
    value = tensor_operand("resize", input)
    mode = InterpolationMode(interpolation).value
    return emit1("resize", [value], {"shape": shape_attr(list(shape)), "interpolation": mode})
