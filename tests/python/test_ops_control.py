"""Subgraphs and control flow (call, cond, while_loop) and re-execution with new symbolic
shapes, through the Python package on the CPU plugin, checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import rng
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, Weight, ops
from kiln.graph import _emit


def _f32(shape):
    return TensorType(DType.float32, shape)


BOOL_SCALAR = TensorType(DType.bool, [])


def _run(session, graph, *inputs):
    return [out.to_numpy() for out in session.load(graph).execute(*inputs)]


# ---------------------------------------------------------------------------------------------
# cond
# ---------------------------------------------------------------------------------------------
def _cond_graph() -> Graph:
    def forward(pred, x):
        return ops.cond(pred, [_f32([3])], lambda: x * 2.0, lambda: x - 1.0)

    return Graph("cond", forward, input_types=[BOOL_SCALAR, _f32([3])])


@pytest.mark.parametrize("pred", [True, False])
def test_cond_runs_the_chosen_branch(session, pred):
    x = rng(1).standard_normal(3).astype(np.float32)
    (out,) = _run(session, _cond_graph(), np.array(pred), x)
    np.testing.assert_allclose(out, x * 2.0 if pred else x - 1.0, rtol=1e-6)


def test_cond_branches_with_constants_and_several_outputs(session):
    def forward(pred, x):
        def then_fn():
            return ops.constant(1, DType.int32), x + 1.0

        def else_fn():
            return ops.constant(0, DType.int32), ops.negate(x)

        return ops.cond(pred, [TensorType(DType.int32, []), _f32([2])], then_fn, else_fn)

    graph = Graph("cond2", forward, input_types=[BOOL_SCALAR, _f32([2])])
    model = session.load(graph)
    x = np.array([1.5, -2.0], np.float32)
    flag, y = [t.to_numpy() for t in model.execute(np.array(True), x)]
    assert flag == 1 and np.array_equal(y, x + 1.0)
    flag, y = [t.to_numpy() for t in model.execute(np.array(False), x)]
    assert flag == 0 and np.array_equal(y, -x)


def test_cond_branch_type_mismatch_is_an_error():
    with Graph("bad", input_types=[BOOL_SCALAR, _f32([3])]) as g:
        pred, x = g.inputs
        with pytest.raises(ValueError, match="else branch"):
            ops.cond(pred, [_f32([3])], lambda: x, lambda: ops.cast(x, DType.int32))
        with pytest.raises(ValueError, match="then branch returns 2 values"):
            ops.cond(pred, [_f32([3])], lambda: (x, x), lambda: x)


def test_cond_needs_a_bool_scalar_predicate():
    with Graph("bad", input_types=[_f32([]), _f32([3])]) as g:
        pred, x = g.inputs
        with pytest.raises(ValueError, match="bool scalar"):
            ops.cond(pred, [_f32([3])], lambda: x, lambda: x)


def test_core_checks_cond_against_its_subgraphs():
    """The checks do not depend on the Python layer: a cond node naming branches whose outputs
    differ is rejected by kiln, naming the subgraphs."""
    with Graph("core", input_types=[BOOL_SCALAR, _f32([3])]) as g:
        pred, x = g.inputs
        a = g.add_subgraph("a", lambda: ops.constant(np.zeros(3, np.float32)))
        b = g.add_subgraph("b", lambda: ops.constant(np.zeros(4, np.float32)))
        a._attach()
        b._attach()
        with pytest.raises(ValueError, match="subgraph 'a'.*subgraph 'b'"):
            _emit.add_op(g, "cond", [pred], {"then_branch": "a", "else_branch": "b"})
        with pytest.raises(ValueError, match="bool scalar"):
            _emit.add_op(g, "cond", [x], {"then_branch": "a", "else_branch": "a"})
        with pytest.raises(LookupError, match="subgraph 'nope'.*subgraphs: a, b"):
            _emit.add_op(g, "call", [], {"callee": "nope"})
        with pytest.raises(ValueError, match="takes 0 operands"):
            _emit.add_op(g, "call", [x], {"callee": "a"})


# ---------------------------------------------------------------------------------------------
# while_loop
# ---------------------------------------------------------------------------------------------
def test_while_loop_counts_like_numpy(session):
    def forward(limit, x):
        i = ops.constant(0, DType.int32)
        return ops.while_loop(
            [i, x],
            lambda i, acc: ops.greater(limit, i),  # `limit` comes from the enclosing graph
            lambda i, acc: [i + 1, acc * 2.0 + 1.0])

    graph = Graph("loop", forward, input_types=[TensorType(DType.int32, []), _f32([4])])
    model = session.load(graph)
    x = rng(2).standard_normal(4).astype(np.float32)
    for limit in (0, 1, 5):
        i, acc = [t.to_numpy() for t in model.execute(np.array(limit, np.int32), x)]
        expected = x.copy()
        for _ in range(limit):
            expected = expected * np.float32(2.0) + np.float32(1.0)
        assert int(i) == limit
        np.testing.assert_allclose(acc, expected, rtol=1e-6)


def test_while_loop_errors():
    with Graph("bad", input_types=[_f32([2])]) as g:
        (x,) = g.inputs
        with pytest.raises(ValueError, match="must not be empty"):
            ops.while_loop([], lambda: x, lambda: x)
        with pytest.raises(ValueError, match="bool scalar"):
            ops.while_loop([x], lambda v: v, lambda v: v)
        with pytest.raises(ValueError, match="body returns"):
            ops.while_loop([x], lambda v: ops.constant(True), lambda v: ops.cast(v, DType.int32))


# ---------------------------------------------------------------------------------------------
# call, nesting, weights, save/load
# ---------------------------------------------------------------------------------------------
def _call_graph() -> Graph:
    w = rng(3).standard_normal((3, 2)).astype(np.float32)
    weight = Weight("w", DType.float32, [3, 2], value=w)
    with Graph("main", input_types=[_f32([2, 3]), _f32([2, 3])]) as g:
        a, b = g.inputs
        linear = g.add_subgraph("linear", lambda v: ops.matmul(v, weight) + 1.0,
                                input_types=[_f32([2, 3])])
        (ya,) = ops.call(linear, a)
        (yb,) = ops.call(linear, b)
        g.output(ya, yb)
    g._test_w = w  # for the reference
    return g


def test_call_with_weights(session):
    g = _call_graph()
    a = rng(4).standard_normal((2, 3)).astype(np.float32)
    b = rng(5).standard_normal((2, 3)).astype(np.float32)
    ya, yb = _run(session, g, a, b)
    np.testing.assert_allclose(ya, a @ g._test_w + 1.0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(yb, b @ g._test_w + 1.0, rtol=1e-5, atol=1e-6)
    assert g.subgraph_count == 1


def test_call_argument_errors():
    with Graph("bad", input_types=[_f32([2])]) as g:
        (x,) = g.inputs
        sub = g.add_subgraph("twice", lambda v: v * 2.0, input_types=[_f32([2])])
        with pytest.raises(ValueError, match="takes 1 arguments"):
            ops.call(sub)
        with pytest.raises(ValueError, match="operand 0"):
            ops.call(sub, ops.cast(x, DType.int32))


def _nested_graph() -> Graph:
    with Graph("nested", input_types=[_f32(["n"]), TensorType(DType.int32, [])]) as g:
        x, steps = g.inputs
        triple = g.add_subgraph("triple", lambda v: v * 3.0, input_types=[_f32(["m"])])

        def outer_fn(v):
            (t,) = ops.call(triple, v)  # a subgraph calling a subgraph
            return t + x  # and capturing a value of the main graph

        outer = g.add_subgraph("outer", outer_fn, input_types=[_f32(["n"])])

        def body(i, odd, acc):
            # a cond inside a loop body: odd steps call `outer`, even ones negate
            (nxt,) = ops.cond(odd, [acc.type], lambda: ops.call(outer, acc)[0],
                              lambda: ops.negate(acc))
            return [i + 1, ops.logical_not(odd), nxt]

        i0 = ops.constant(0, DType.int32)
        odd0 = ops.constant(False)
        _, _, result = ops.while_loop([i0, odd0, x],
                                      lambda i, odd, acc: ops.greater(steps, i), body)
        g.output(result)
    return g


def _nested_reference(x: np.ndarray, steps: int) -> np.ndarray:
    acc = x.copy()
    for i in range(steps):
        acc = acc * np.float32(3.0) + x if i % 2 == 1 else -acc
    return acc


def test_nested_subgraphs(session):
    model = session.load(_nested_graph())
    x = rng(6).standard_normal(5).astype(np.float32)
    for steps in (0, 1, 4):
        (out,) = [t.to_numpy() for t in model.execute(x, np.array(steps, np.int32))]
        np.testing.assert_allclose(out, _nested_reference(x, steps), rtol=1e-5, atol=1e-6)


def test_save_and_load_keep_subgraphs(session, tmp_path):
    g = _nested_graph()
    path = tmp_path / "nested.kiln"
    g.save(path)
    loaded = Graph.load(path)
    assert loaded.subgraph_count == g.subgraph_count >= 4
    x = rng(7).standard_normal(3).astype(np.float32)
    (out,) = _run(session, loaded, x, np.array(3, np.int32))
    np.testing.assert_allclose(out, _nested_reference(x, 3), rtol=1e-5, atol=1e-6)
    # Bytes round trip too, including the weight held by a subgraph.
    c = Graph.from_bytes(_call_graph().to_bytes())
    a = np.ones((2, 3), np.float32)
    ya, yb = _run(session, c, a, a)
    assert ya.shape == (2, 2) and np.array_equal(ya, yb)


# ---------------------------------------------------------------------------------------------
# Symbolic dims: one model, new shapes on each execute
# ---------------------------------------------------------------------------------------------
def test_symbolic_dims_reexecute_with_new_shapes(session):
    def forward(x, y):
        s = ops.sum(x * 2.0 + y, axis=-1)
        return s, ops.reshape(x, ["batch", "n"])

    graph = Graph("sym", forward, input_types=[_f32(["batch", "n"]), _f32(["batch", "n"])])
    model = session.load(graph)
    for shape in [(2, 3), (5, 1), (1, 7), (0, 4), (3, 3)]:
        x = rng(8).standard_normal(shape).astype(np.float32)
        y = rng(9).standard_normal(shape).astype(np.float32)
        s, r = [t.to_numpy() for t in model.execute(x, y)]
        np.testing.assert_allclose(s, (x * 2.0 + y).sum(axis=-1, keepdims=True), rtol=1e-5,
                                   atol=1e-5)
        assert np.array_equal(r, x)
    with pytest.raises(ValueError):
        model.execute(np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32))


# ---------------------------------------------------------------------------------------------
# nonzero: a data-dependent output shape
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [DType.float32, DType.int32, DType.bool, DType.float16])
def test_nonzero_matches_numpy_argwhere(session, dtype):
    graph = Graph("nz", lambda x: ops.nonzero(x, "nnz"),
                  input_types=[TensorType(dtype, ["a", "b"])])
    model = session.load(graph)
    generator = rng(10)
    for shape in [(3, 4), (1, 1), (0, 5), (6, 2)]:
        x = (generator.integers(-1, 2, size=shape) * generator.integers(0, 2, size=shape))
        x = x.astype(dtype.to_numpy())
        if dtype == DType.float32 and x.size:
            x.flat[0] = -0.0  # negative zero is zero
        (out,) = [t.to_numpy() for t in model.execute(x)]
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, np.argwhere(x))
        np.testing.assert_array_equal(out.T, np.array(np.nonzero(x)).reshape(2, -1))


def test_nonzero_output_feeds_later_ops(session):
    def forward(x):
        idx = ops.nonzero(x, "nnz")
        return ops.sum(ops.cast(idx, DType.float32), axis=0)

    graph = Graph("nz2", forward, input_types=[_f32([8])])
    x = np.array([0, 1, 0, 2, 3, 0, 0, 4], np.float32)
    (out,) = _run(session, graph, x)
    np.testing.assert_array_equal(out, [[np.argwhere(x).sum()]])


def test_nonzero_static_out_dim_is_checked(session):
    graph = Graph("nz3", lambda x: ops.nonzero(x, 2), input_types=[_f32([4])])
    model = session.load(graph)
    (out,) = [t.to_numpy() for t in model.execute(np.array([0, 5, 0, 1], np.float32))]
    np.testing.assert_array_equal(out, [[1], [3]])
    with pytest.raises(Exception, match="nonzero.*out_dim"):
        model.execute(np.array([1, 5, 0, 1], np.float32))


# ---------------------------------------------------------------------------------------------
# transfer_to between host devices (KILN_CPU_DEVICES=2)
# ---------------------------------------------------------------------------------------------
_TRANSFER_SCRIPT = r"""
import numpy as np
from kiln import engine
from kiln.driver import Device
from kiln._runtime import get_runtime
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops

runtime = get_runtime()
devices = [Device._wrap(runtime, runtime.find_device(s)) for s in ("cpu:0", "cpu:1")]
session = engine.InferenceSession(devices=devices)

def forward(x):
    y = ops.transfer_to(x * 2.0, DeviceRef.CPU(1))
    return y + 1.0, x.to(DeviceRef.CPU(1))

g = Graph("move", forward, input_types=[TensorType(DType.float32, [3], DeviceRef.CPU(0))])
model = session.load(g)
x = np.array([1.0, 2.0, 3.0], np.float32)
a, b = model.execute(x)
assert np.array_equal(a.to_numpy(), x * 2.0 + 1.0), a.to_numpy()
assert np.array_equal(b.to_numpy(), x)
print("devices", a.device, b.device)
"""


def test_transfer_to_between_two_cpu_devices(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, KILN_CPU_DEVICES="2")
    result = subprocess.run([sys.executable, "-c", _TRANSFER_SCRIPT], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("cpu:1") == 2, result.stdout


def test_transfer_to_on_one_device(session):
    graph = Graph("same", lambda x: ops.transfer_to(x, x.device) * 3.0,
                  input_types=[_f32([2])])
    (out,) = _run(session, graph, np.array([1.0, -1.0], np.float32))
    np.testing.assert_array_equal(out, [3.0, -3.0])
