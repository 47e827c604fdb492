"""Convolution, pooling and signal ops on the CPU plugin against float64 NumPy references
written here (sums over kernel taps of padded, strided slices; np.fft for irfft).

Tolerances: float32 rtol/atol 1e-4 (sums over up to a few hundred products, oneDNN may
reorder them); float16 1e-2 and bfloat16 6e-2 (inputs are rounded first, the kernels compute in
float32 and round the result once).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from conftest import HAVE_ML_DTYPES, rng, run_graph
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops

FLOATS = [DType.float32, DType.float16] + ([DType.bfloat16] if HAVE_ML_DTYPES else [])
TOLERANCE = {DType.float32: 1e-4, DType.float16: 1e-2, DType.bfloat16: 6e-2}


def _data(shape, dtype, seed):
    return rng(seed).uniform(-1, 1, size=shape).astype(np.float32).astype(dtype.to_numpy())


def _f64(a):
    return np.asarray(a).astype(np.float64)


def _close(actual, expected, dtype):
    tol = TOLERANCE[dtype]
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(_f64(actual), expected, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------
def conv_ref(x, w, stride, dilation, padding, groups, bias=None):
    """NHWC / NDHWC input, RSCF / QRSCF filter."""
    x, w = _f64(x), _f64(w)
    spatial = x.ndim - 2
    xp = np.pad(x, [(0, 0)] + [(padding[2 * i], padding[2 * i + 1]) for i in range(spatial)]
                + [(0, 0)])
    kernel = w.shape[:spatial]
    group_in, filters = w.shape[spatial], w.shape[spatial + 1]
    group_out = filters // groups
    outs = [(xp.shape[1 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
            for i in range(spatial)]
    out = np.zeros((x.shape[0], *outs, filters))
    for taps in itertools.product(*[range(k) for k in kernel]):
        window = tuple(slice(taps[i] * dilation[i],
                             taps[i] * dilation[i] + stride[i] * (outs[i] - 1) + 1, stride[i])
                       for i in range(spatial))
        patch = xp[(slice(None),) + window + (slice(None),)]
        for g in range(groups):
            out[..., g * group_out:(g + 1) * group_out] += (
                patch[..., g * group_in:(g + 1) * group_in]
                @ w[taps][:, g * group_out:(g + 1) * group_out])
    if bias is not None:
        out += _f64(bias)
    return out


def conv_transpose_ref(x, w, stride, dilation, padding, bias=None):
    """NHWC input, filter (kH, kW, out, in): scatter every input pixel through the kernel,
    then crop ``padding`` from the full output."""
    x, w = _f64(x), _f64(w)
    n, h, wd, _ = x.shape
    kh, kw, filters, _ = w.shape
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1
    full_w = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1
    full = np.zeros((n, full_h, full_w, filters))
    for i, j in itertools.product(range(kh), range(kw)):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (h - 1) + 1, stride[0])
        cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (wd - 1) + 1, stride[1])
        full[:, rows, cols, :] += x @ w[i, j].T
    out = full[:, padding[0]:full_h - padding[1], padding[2]:full_w - padding[3], :]
    if bias is not None:
        out = out + _f64(bias)
    return out


def pool_out_size(size, k, s, d, p, ceil_mode):
    span = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(size + 2 * p - span) // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return (size + 2 * p - span) // s + 1


def pool_ref(x, kernel, stride, dilation, padding, ceil_mode, mode, count_boundary=True):
    x = _f64(x)
    n, h, w, c = x.shape
    outs = [pool_out_size(x.shape[1 + i], kernel[i], stride[i], dilation[i], padding[i],
                          ceil_mode) for i in range(2)]
    out = np.zeros((n, outs[0], outs[1], c))
    for oh, ow in itertools.product(range(outs[0]), range(outs[1])):
        taps_h = [oh * stride[0] - padding[0] + t * dilation[0] for t in range(kernel[0])]
        taps_w = [ow * stride[1] - padding[1] + t * dilation[1] for t in range(kernel[1])]
        real_h = [t for t in taps_h if 0 <= t < h]
        real_w = [t for t in taps_w if 0 <= t < w]
        values = x[:, real_h][:, :, real_w].reshape(n, -1, c)
        if mode == "max":
            out[:, oh, ow] = values.max(axis=1)
        else:
            if count_boundary:
                count = (sum(-padding[0] <= t < h + padding[0] for t in taps_h)
                         * sum(-padding[1] <= t < w + padding[1] for t in taps_w))
            else:
                count = len(real_h) * len(real_w)
            out[:, oh, ow] = values.sum(axis=1) / count
    return out


# ------------------------------------------------------------------------------------------
# conv2d / conv3d
# ------------------------------------------------------------------------------------------
CONV2D_CASES = [
    # x shape, filter shape (R, S, C/g, F), stride, dilation, padding, groups, bias
    ((1, 5, 5, 3), (3, 3, 3, 4), (1, 1), (1, 1), (0, 0, 0, 0), 1, False),
    ((2, 7, 6, 4), (3, 2, 4, 5), (2, 1), (1, 1), (1, 1, 0, 2), 1, True),
    ((2, 9, 9, 4), (3, 3, 2, 6), (1, 2), (2, 1), (2, 1, 1, 1), 2, True),
    ((1, 8, 8, 6), (1, 1, 1, 6), (1, 1), (1, 1), (0, 0, 0, 0), 6, False),  # depthwise 1x1
    ((3, 6, 5, 8), (2, 3, 8, 16), (2, 2), (1, 2), (1, 0, 2, 1), 1, True),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("case", CONV2D_CASES, ids=lambda c: f"x{c[0]}-w{c[1]}-g{c[5]}")
def test_conv2d(session, case, dtype):
    xs, ws, stride, dilation, padding, groups, has_bias = case
    x, w = _data(xs, dtype, 1), _data(ws, dtype, 2)
    inputs = [x, w] + ([_data((ws[3],), dtype, 3)] if has_bias else [])

    def forward(x, w, b=None):
        return ops.conv2d(x, w, stride=stride, dilation=dilation, padding=padding,
                          groups=groups, bias=b)

    (out,) = run_graph(session, forward, inputs)
    _close(out, conv_ref(x, w, stride, dilation, padding, groups,
                         inputs[2] if has_bias else None), dtype)


def test_conv2d_symbolic_batch(session):
    w = _data((3, 3, 2, 4), DType.float32, 5)
    b = _data((4,), DType.float32, 6)
    graph = Graph("conv", lambda x: ops.conv2d(x, w, stride=(2, 2), padding=(1, 1, 1, 1),
                                               bias=b),
                  input_types=[TensorType(DType.float32, ["batch", 8, 8, 2])])
    model = session.load(graph)
    for batch in (1, 3):
        x = _data((batch, 8, 8, 2), DType.float32, batch)
        (out,) = model.execute(x)
        _close(out.to_numpy(), conv_ref(x, w, (2, 2), (1, 1), (1, 1, 1, 1), 1, b),
               DType.float32)


def test_conv2d_nchw_fcrs_layouts(session):
    x = _data((2, 3, 6, 6), DType.float32, 7)      # NCHW
    w = _data((4, 3, 3, 3), DType.float32, 8)      # FCRS
    (out,) = run_graph(session, lambda x, w: ops.conv2d(
        x, w, padding=(1, 1, 1, 1), input_layout=ops.ConvInputLayout.NCHW,
        filter_layout=ops.FilterLayout.FCRS), [x, w])
    expected = conv_ref(x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), (1, 1), (1, 1),
                        (1, 1, 1, 1), 1).transpose(0, 3, 1, 2)
    _close(out, expected, DType.float32)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("case", [
    ((1, 4, 5, 5, 2), (2, 3, 3, 2, 3), (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, 0, 0), 1, False),
    ((2, 5, 6, 4, 4), (3, 2, 2, 2, 6), (2, 1, 2), (1, 2, 1), (1, 1, 0, 1, 1, 0), 2, True),
], ids=["plain", "strided-grouped"])
def test_conv3d(session, case, dtype):
    xs, ws, stride, dilation, padding, groups, has_bias = case
    x, w = _data(xs, dtype, 11), _data(ws, dtype, 12)
    inputs = [x, w] + ([_data((ws[4],), dtype, 13)] if has_bias else [])

    def forward(x, w, b=None):
        return ops.conv3d(x, w, stride=stride, dilation=dilation, padding=padding,
                          groups=groups, bias=b)

    (out,) = run_graph(session, forward, inputs)
    _close(out, conv_ref(x, w, stride, dilation, padding, groups,
                         inputs[2] if has_bias else None), dtype)


# ------------------------------------------------------------------------------------------
# conv2d_transpose
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("case", [
    ((1, 3, 3, 2), (3, 3, 4, 2), (1, 1), (1, 1), (0, 0, 0, 0), False),
    ((2, 4, 3, 3), (3, 2, 5, 3), (2, 2), (1, 1), (1, 0, 0, 1), True),
    ((1, 5, 4, 4), (2, 3, 2, 4), (3, 2), (2, 1), (1, 1, 2, 0), True),
], ids=["plain", "stride2-bias", "dilated"])
def test_conv2d_transpose(session, case, dtype):
    xs, ws, stride, dilation, padding, has_bias = case
    x, w = _data(xs, dtype, 21), _data(ws, dtype, 22)
    inputs = [x, w] + ([_data((ws[2],), dtype, 23)] if has_bias else [])

    def forward(x, w, b=None):
        return ops.conv2d_transpose(x, w, stride=stride, dilation=dilation, padding=padding,
                                    bias=b)

    (out,) = run_graph(session, forward, inputs)
    _close(out, conv_transpose_ref(x, w, stride, dilation, padding,
                                   inputs[2] if has_bias else None), dtype)


def test_conv2d_transpose_symbolic_batch(session):
    w = _data((3, 3, 2, 3), DType.float32, 31)
    graph = Graph("deconv", lambda x: ops.conv2d_transpose(x, w, stride=(2, 2)),
                  input_types=[TensorType(DType.float32, ["batch", 4, 4, 3])])
    model = session.load(graph)
    x = _data((2, 4, 4, 3), DType.float32, 32)
    (out,) = model.execute(x)
    _close(out.to_numpy(), conv_transpose_ref(x, w, (2, 2), (1, 1), (0, 0, 0, 0)),
           DType.float32)


# ------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------
POOL_CASES = [
    # x shape, kernel, stride, dilation, padding, ceil_mode
    ((1, 6, 6, 3), (2, 2), (2, 2), (1, 1), (0, 0), False),
    ((2, 7, 5, 4), (3, 3), (2, 1), (1, 1), (1, 1), False),
    ((2, 7, 7, 2), (3, 2), (2, 2), (1, 1), (1, 0), True),
    ((1, 9, 8, 3), (2, 3), (1, 2), (2, 1), (1, 1), False),
    ((1, 6, 6, 5), (3, 3), (2, 2), (1, 1), (0, 0), True),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"x{c[0]}-k{c[1]}-s{c[2]}-c{c[5]}")
def test_max_pool2d(session, case, dtype):
    xs, kernel, stride, dilation, padding, ceil_mode = case
    x = _data(xs, dtype, 41)
    (out,) = run_graph(session, lambda v: ops.max_pool2d(
        v, kernel, stride=stride, dilation=dilation, padding=padding, ceil_mode=ceil_mode), [x])
    _close(out, pool_ref(x, kernel, stride, dilation, padding, ceil_mode, "max"), dtype)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("count_boundary", [True, False])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"x{c[0]}-k{c[1]}-s{c[2]}-c{c[5]}")
def test_avg_pool2d(session, case, count_boundary, dtype):
    xs, kernel, stride, dilation, padding, ceil_mode = case
    x = _data(xs, dtype, 42)
    (out,) = run_graph(session, lambda v: ops.avg_pool2d(
        v, kernel, stride=stride, dilation=dilation, padding=padding, ceil_mode=ceil_mode,
        count_boundary=count_boundary), [x])
    _close(out, pool_ref(x, kernel, stride, dilation, padding, ceil_mode, "avg",
                         count_boundary), dtype)


def test_pool_symbolic_batch(session):
    graph = Graph("pool", lambda v: ops.max_pool2d(v, (2, 2), stride=2),
                  input_types=[TensorType(DType.float32, ["n", 4, 6, 3])])
    model = session.load(graph)
    x = _data((3, 4, 6, 3), DType.float32, 43)
    (out,) = model.execute(x)
    _close(out.to_numpy(), pool_ref(x, (2, 2), (2, 2), (1, 1), (0, 0), False, "max"),
           DType.float32)


# ------------------------------------------------------------------------------------------
# Signal ops
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [DType.float32], ids=lambda d: d.name)
@pytest.mark.parametrize("bins,n,norm", [(5, None, "backward"), (5, 9, "ortho"),
                                         (9, 8, "forward"), (4, 12, "backward")])
def test_irfft_last_axis(session, bins, n, norm, dtype):
    generator = rng(bins * 31 + (n or 0))
    spectrum = generator.uniform(-1, 1, size=(3, bins)) + 1j * generator.uniform(-1, 1,
                                                                                size=(3, bins))
    interleaved = np.stack([spectrum.real, spectrum.imag], axis=-1).reshape(3, 2 * bins)
    x = interleaved.astype(np.float32)
    (out,) = run_graph(session, lambda v: ops.irfft(v, n=n, normalization=norm), [x])
    expected = np.fft.irfft(_f64(x).reshape(3, bins, 2) @ np.array([1, 1j]), n=n, axis=-1,
                            norm=norm)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_irfft_complex_input_axis0(session):
    generator = rng(77)
    spectrum = generator.uniform(-1, 1, size=(6, 4, 2)).astype(np.float32)
    (out,) = run_graph(session, lambda v: ops.irfft(v, n=10, axis=0, input_is_complex=True),
                       [spectrum])
    expected = np.fft.irfft(_f64(spectrum) @ np.array([1, 1j]), n=10, axis=0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_as_interleaved_complex(session):
    x = _data((2, 3, 8), DType.float32, 80)
    (out,) = run_graph(session, ops.as_interleaved_complex, [x])
    np.testing.assert_array_equal(out, x.reshape(2, 3, 4, 2))


@pytest.mark.parametrize("length,periodic", [(1, True), (8, True), (8, False), (13, False)])
def test_hann_window(session, length, periodic):
    graph = Graph("hann", lambda: ops.hann_window(length, DeviceRef.CPU(), periodic=periodic),
                  input_types=[])
    (out,) = session.load(graph).execute()
    expected = np.hanning(length + 1)[:-1] if periodic and length > 1 else np.hanning(length)
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-6, atol=1e-7)
    assert math.isclose(float(out.to_numpy().max(initial=0)), float(expected.max(initial=0)),
                        rel_tol=1e-6)


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------
def _build_error(forward, types) -> str:
    with pytest.raises(Exception) as info:
        Graph("bad", forward, input_types=types)
    return str(info.value)


def test_conv2d_wrong_rank():
    message = _build_error(lambda x, w: ops.conv2d(x, w),
                           [TensorType(DType.float32, [5, 5, 3]),
                            TensorType(DType.float32, [3, 3, 3, 4])])
    assert "conv2d" in message and "operand 0 (input)" in message and "rank 3" in message


def test_conv2d_channel_mismatch():
    message = _build_error(lambda x, w: ops.conv2d(x, w, groups=2),
                           [TensorType(DType.float32, [1, 5, 5, 3]),
                            TensorType(DType.float32, [3, 3, 3, 4])])
    assert "conv2d" in message and "channels" in message and "needs 6" in message


def test_conv2d_bias_shape():
    message = _build_error(lambda x, w, b: ops.conv2d(x, w, bias=b),
                           [TensorType(DType.float32, [1, 5, 5, 3]),
                            TensorType(DType.float32, [3, 3, 3, 4]),
                            TensorType(DType.float32, [3])])
    assert "operand 2 (bias)" in message


def test_conv2d_window_too_large():
    message = _build_error(lambda x, w: ops.conv2d(x, w),
                           [TensorType(DType.float32, [1, 2, 5, 3]),
                            TensorType(DType.float32, [3, 3, 3, 4])])
    assert "smaller than the window" in message


def test_conv2d_symbolic_spatial_needs_stride1():
    message = _build_error(lambda x, w: ops.conv2d(x, w, stride=(2, 2)),
                           [TensorType(DType.float32, [1, "h", 5, 3]),
                            TensorType(DType.float32, [3, 3, 3, 4])])
    assert "symbolic" in message and "stride 1" in message


def test_pool_padding_too_large():
    message = _build_error(lambda x: ops.max_pool2d(x, (2, 2), padding=2),
                           [TensorType(DType.float32, [1, 6, 6, 3])])
    assert "max_pool2d" in message and "padding" in message


def test_irfft_needs_even_last_dim():
    with pytest.raises(ValueError, match="even"):
        Graph("bad", lambda x: ops.irfft(x, n=4), input_types=[TensorType(DType.float32, [3, 5])])


# ------------------------------------------------------------------------------------------
# resize (PyTorch's interpolate conventions, align_corners=False)
# ------------------------------------------------------------------------------------------
def _resize_matrix(size_in: int, size_out: int, mode: str) -> np.ndarray:
    """[size_out, size_in] interpolation weights along one dim."""
    m = np.zeros((size_out, size_in))
    scale = size_in / size_out
    for o in range(size_out):
        if mode == "nearest":
            m[o, min(int(np.floor(o * scale)), size_in - 1)] = 1
        elif mode == "bilinear":
            src = max(0.0, (o + 0.5) * scale - 0.5)
            i0 = min(int(src), size_in - 1)
            frac = src - i0
            m[o, i0] += 1 - frac
            m[o, min(i0 + 1, size_in - 1)] += frac
        else:
            a = -0.75
            src = (o + 0.5) * scale - 0.5
            i0 = int(np.floor(src))
            for tap in range(-1, 3):
                dist = abs(src - (i0 + tap))
                if dist <= 1:
                    w = (a + 2) * dist ** 3 - (a + 3) * dist ** 2 + 1
                else:
                    w = a * dist ** 3 - 5 * a * dist ** 2 + 8 * a * dist - 4 * a
                m[o, min(max(i0 + tap, 0), size_in - 1)] += w
    return m


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("mode", list(ops.InterpolationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("sizes", [((5, 7), (10, 14)), ((8, 6), (3, 4)), ((4, 4), (7, 2))],
                         ids=lambda s: f"{s[0]}->{s[1]}")
def test_resize(session, sizes, mode, dtype):
    (ih, iw), (oh, ow) = sizes
    x = _data((2, 3, ih, iw), dtype, ih * iw + oh)
    (out,) = run_graph(session, lambda v: ops.resize(v, [2, 3, oh, ow], mode), [x])
    expected = np.einsum("oh,nchw,pw->ncop", _resize_matrix(ih, oh, mode.value), _f64(x),
                         _resize_matrix(iw, ow, mode.value))
    _close(out, expected, dtype)


def test_resize_keeps_n_and_c():
    message = _build_error(lambda v: ops.resize(v, [2, 4, 5, 5], ops.InterpolationMode.BICUBIC),
                           [TensorType(DType.float32, [2, 3, 4, 4])])
    assert "resize" in message and "only H and W" in message


def test_conv2d_concurrent_executions(session):
    """One loaded model executed from several threads at once (shared cached primitives)."""
    from concurrent.futures import ThreadPoolExecutor

    w = _data((3, 3, 4, 8), DType.float32, 90)
    graph = Graph("conv", lambda x: ops.conv2d(x, w, padding=(1, 1, 1, 1)),
                  input_types=[TensorType(DType.float32, ["batch", 9, 9, 4])])
    model = session.load(graph)
    inputs = [_data((1 + i % 3, 9, 9, 4), DType.float32, 100 + i) for i in range(12)]

    def run(x):
        return model.execute(x)[0].to_numpy()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, inputs))
    for x, out in zip(inputs, results):
        _close(out, conv_ref(x, w, (1, 1), (1, 1), (1, 1, 1, 1), 1), DType.float32)


def _shape_text(graph: Graph) -> list:
    return [str(d) for d in graph.output_types[0].shape]


def test_symbolic_shape_inference():
    """Symbolic batch dims pass through; a symbolic spatial dim with stride 1 stays a
    polynomial; the transpose scales it by the stride."""
    f32 = DType.float32
    conv = Graph("c", lambda x, w: ops.conv2d(x, w, padding=(1, 0, 0, 0)),
                 input_types=[TensorType(f32, ["n", "h", 7, 3]), TensorType(f32, [3, 3, 3, 4])])
    assert _shape_text(conv) == ["n", str(conv.output_types[0].shape[1]), "5", "4"]
    assert "h" in str(conv.output_types[0].shape[1])
    deconv = Graph("d", lambda x, w: ops.conv2d_transpose(x, w, stride=(2, 2)),
                   input_types=[TensorType(f32, ["n", "h", 4, 3]),
                                TensorType(f32, [3, 3, 5, 3])])
    assert "2*h" in str(deconv.output_types[0].shape[1]).replace(" ", "")
    assert _shape_text(deconv)[2:] == ["9", "5"]
    pool = Graph("p", lambda x: ops.avg_pool2d(x, (3, 3), padding=1),
                 input_types=[TensorType(f32, ["n", "h", "w", 3])])
    assert _shape_text(pool) == ["n", "h", "w", "3"]
