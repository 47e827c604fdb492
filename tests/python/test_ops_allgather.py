"""ops.allgather: one tensor per device, concatenated along an axis onto every one of those
devices, checked against numpy.concatenate.

Several host devices exist only when KILN_CPU_DEVICES is set before the CPU plugin starts (once
per process), so the multi-device runs happen in a child process with KILN_CPU_DEVICES=3; graph
building and its errors need no devices and run here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops


def _types(dtype, shapes, devices=None):
    devices = devices or [DeviceRef.CPU(i) for i in range(len(shapes))]
    return [TensorType(dtype, shape, device) for shape, device in zip(shapes, devices)]


# ---------------------------------------------------------------------------------------------
# Execution on 2 and 3 host devices (child process)
# ---------------------------------------------------------------------------------------------
_SCRIPT = r"""
import numpy as np
from kiln import engine
from kiln.driver import Device
from kiln._runtime import get_runtime
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops

runtime = get_runtime()
devices = [Device._wrap(runtime, runtime.find_device(f"cpu:{i}")) for i in range(3)]
session = engine.InferenceSession(devices=devices)
rng = np.random.default_rng(7)

def random(dtype, shape):
    if dtype == DType.float32:
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == DType.int64:
        return rng.integers(-2**62, 2**62, size=shape, dtype=np.int64)
    return rng.random(shape) < 0.5

def check(dtype, shapes, axis, symbolic=None):
    n = len(shapes)
    declared = [list(s) for s in shapes]
    if symbolic is not None:  # one symbolic dim shared by every input
        for s in declared:
            s[symbolic] = "b"
    types = [TensorType(dtype, declared[i], DeviceRef.CPU(i)) for i in range(n)]
    graph = Graph("gather", lambda *xs: ops.allgather(xs, axis=axis), input_types=types)
    for i, out in enumerate(graph.outputs):
        assert out.device == DeviceRef.CPU(i), (i, out.device)
    model = session.load(graph)
    arrays = [random(dtype, s) for s in shapes]
    inputs = []
    for i, a in enumerate(arrays):  # each input given on its own device
        inputs.append(engine_tensor(a, devices[i]))
    outs = model.execute(*inputs)
    want = np.concatenate(arrays, axis=axis)
    assert len(outs) == n
    for i, out in enumerate(outs):
        assert str(out.device) == f"cpu:{i}", (i, out.device)
        got = out.to_numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
        assert np.array_equal(got, want), (dtype, shapes, axis, i)
    print("ok", dtype, shapes, axis, flush=True)

def engine_tensor(array, device):
    from kiln.driver import Tensor
    return Tensor.from_numpy(array).to(device)

for dtype in (DType.float32, DType.int64, DType.bool):
    check(dtype, [(2, 3), (4, 3)], 0)
    check(dtype, [(2, 3), (2, 1), (2, 5)], 1)
    check(dtype, [(2, 3, 2), (2, 3, 4), (2, 3, 1)], -1)
    check(dtype, [(3, 1, 2), (3, 4, 2)], -2)
    check(dtype, [(3, 2, 4), (2, 2, 4), (1, 2, 4)], -3)
check(DType.float32, [(5,)], 0)                         # a single device
check(DType.float32, [(0, 3), (2, 3), (1, 3)], 0)       # an empty part
check(DType.float32, [(4, 2), (4, 3), (4, 1)], 1, symbolic=0)

# Re-execution with a new size of the symbolic dim.
types = [TensorType(DType.int64, ["n", 2], DeviceRef.CPU(i)) for i in range(2)]
model = session.load(Graph("sym", lambda a, b: ops.allgather([a, b], axis=0), input_types=types))
for n in (1, 3):
    a = np.arange(2 * n, dtype=np.int64).reshape(n, 2)
    outs = model.execute(engine_tensor(a, devices[0]), engine_tensor(-a, devices[1]))
    for out in outs:
        assert np.array_equal(out.to_numpy(), np.concatenate([a, -a])), out.to_numpy()
print("ok symbolic", flush=True)

# Downstream ops see the gathered value on each device.
def forward(a, b):
    x, y = ops.allgather([a * 2.0, b], axis=0)
    return x + 1.0, y - 1.0
types = [TensorType(DType.float32, [2], DeviceRef.CPU(i)) for i in range(2)]
model = session.load(Graph("chain", forward, input_types=types))
a = np.array([1.0, 2.0], np.float32)
b = np.array([5.0, 6.0], np.float32)
x, y = model.execute(engine_tensor(a, devices[0]), engine_tensor(b, devices[1]))
want = np.concatenate([a * 2.0, b])
assert np.array_equal(x.to_numpy(), want + 1.0) and np.array_equal(y.to_numpy(), want - 1.0)
print("ok chain", flush=True)

# A saved graph keeps the op and its per-operand placement.
types = [TensorType(DType.float32, [2, 2], DeviceRef.CPU(i)) for i in range(3)]
saved = Graph("saved", lambda *xs: ops.allgather(xs, axis=1), input_types=types).to_bytes()
model = session.load(Graph.from_bytes(saved))
parts = [np.full((2, 2), i, np.float32) for i in range(3)]
outs = model.execute(*[engine_tensor(p, devices[i]) for i, p in enumerate(parts)])
for i, out in enumerate(outs):
    assert str(out.device) == f"cpu:{i}", out.device
    assert np.array_equal(out.to_numpy(), np.concatenate(parts, axis=1))
print("ok saved", flush=True)
"""


def test_allgather_on_several_host_devices():
    env = dict(os.environ, KILN_CPU_DEVICES="3")
    result = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 21, result.stdout


def test_allgather_single_input_runs_here(session):
    graph = Graph("one", lambda x: ops.allgather([x], axis=-1),
                  input_types=[TensorType(DType.float32, [2, 3], DeviceRef.CPU())])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (out,) = session.load(graph).execute(x)
    np.testing.assert_array_equal(out.to_numpy(), x)


# ---------------------------------------------------------------------------------------------
# Graph building: types, placement and errors
# ---------------------------------------------------------------------------------------------
def test_allgather_output_types_and_devices():
    with Graph("types", input_types=_types(DType.int64, [[2, "s"], [2, "s"], [2, "s"]])) as g:
        outs = ops.allgather(g.inputs, axis=0)
        assert len(outs) == 3
        for i, out in enumerate(outs):
            assert out.dtype == DType.int64
            assert [str(d) for d in out.shape] == ["6", "s"]
            assert out.device == DeviceRef.CPU(i)
        node = g.nodes[-1]
        assert node["op"] == "allgather"


@pytest.mark.parametrize("shapes, axis, message", [
    ([[2, 3], [2, 4]], 0, "operand 1 has shape [2, 4] but operand 0 has [2, 3]: dim 1 differs "
                          "off the gather axis 0"),
    ([[2, 3], [2, 3, 1]], 0, "operand 1 has rank 3 but operand 0 has rank 2"),
    ([[2, 3], [2, 3]], 2, "attribute 'axis' is 2 but the rank is 2"),
    ([[2, 3], [2, 3]], -3, "attribute 'axis' is -3 but the rank is 2"),
    ([[], []], 0, "no axis exists"),
])
def test_allgather_shape_errors(shapes, axis, message):
    with Graph("bad", input_types=_types(DType.float32, shapes)) as g:
        with pytest.raises(ValueError, match="allgather") as info:
            ops.allgather(g.inputs, axis=axis)
        assert message in str(info.value)


def test_allgather_dtype_mismatch():
    types = [TensorType(DType.float32, [2], DeviceRef.CPU(0)),
             TensorType(DType.int64, [2], DeviceRef.CPU(1))]
    with Graph("bad", input_types=types) as g:
        with pytest.raises(ValueError, match="operand 1 has dtype int64 but operand 0 has "
                                             "float32"):
            ops.allgather(g.inputs)


def test_allgather_needs_one_input_per_device():
    types = _types(DType.float32, [[2], [2], [2]],
                   [DeviceRef.CPU(0), DeviceRef.CPU(1), DeviceRef.CPU(0)])
    with Graph("bad", input_types=types) as g:
        with pytest.raises(ValueError, match="inputs 0 and 2 are both on cpu:0.*unique devices"):
            ops.allgather(g.inputs)
        with pytest.raises(ValueError, match="needs at least one input"):
            ops.allgather([])
        with pytest.raises(TypeError, match="input 1 must be a TensorValue"):
            ops.allgather([g.inputs[0], np.zeros(2, np.float32)])
        with pytest.raises(TypeError, match="axis must be an int"):
            ops.allgather(g.inputs[:2], axis=0.5)


def test_allgather_device_not_in_session(session):
    # The default session has one CPU device: cpu:1 cannot be placed.
    graph = Graph("far", lambda a, b: ops.allgather([a, b]),
                  input_types=_types(DType.float32, [[2], [2]]))
    with pytest.raises(LookupError, match="cpu:1"):
        session.load(graph)
