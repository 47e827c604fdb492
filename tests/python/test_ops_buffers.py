"""Mutable buffers (BufferType / BufferValue): buffer_load, buffer_store, buffer_store_slice and
inplace_custom on the CPU plugin, checked against NumPy doing the same writes in place. The
caller's kiln Tensor passed for a buffer input holds the new contents after execute."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import build_dir, rng
from kiln import engine
from kiln.driver import Tensor
from kiln.dtype import DType
from kiln.graph import BufferType, BufferValue, DeviceRef, Graph, TensorType, TensorValue, ops


def _f32(shape):
    return TensorType(DType.float32, shape)


def _buf(shape, dtype=DType.float32):
    return BufferType(dtype, shape)


def _random(shape, seed):
    return rng(seed).standard_normal(shape).astype(np.float32)


def _execute(session, graph, *inputs):
    return [out.to_numpy() for out in session.load(graph).execute(*inputs)]


# ---------------------------------------------------------------------------------------------
# Types and values
# ---------------------------------------------------------------------------------------------
def test_buffer_inputs_are_buffer_values() -> None:
    with Graph("types", input_types=[_buf([2, "n"]), _f32([3])]) as g:
        buf, x = g.inputs
        assert isinstance(buf, BufferValue) and not isinstance(buf, TensorValue)
        assert isinstance(x, TensorValue)
        assert buf.type == BufferType(DType.float32, [2, "n"])
        assert buf.type != TensorType(DType.float32, [2, "n"])
        assert buf.type.as_tensor() == TensorType(DType.float32, [2, "n"])
        assert TensorType(DType.int8, [1]).as_buffer() == BufferType(DType.int8, [1])
        assert buf.dtype == DType.float32 and buf.rank == 2
        assert list(buf.shape) == [2, "n"]
        assert buf.device == DeviceRef.CPU()
        assert buf.buffer is buf
        with pytest.raises(TypeError):
            _ = buf.tensor
        loaded = ops.buffer_load(buf)
        assert isinstance(loaded, TensorValue)
        assert loaded.type == TensorType(DType.float32, [2, "n"])
        g.output(loaded)


def test_buffer_graphs_survive_save_and_load(tmp_path) -> None:
    with Graph("saved", input_types=[_buf([4]), _f32([4])]) as g:
        buf, x = g.inputs
        before = ops.buffer_load(buf)
        ops.buffer_store(buf, x)
        g.output(before)
    path = tmp_path / "buffers.kiln"
    g.save(path)
    loaded = Graph.load(path)
    assert isinstance(loaded.inputs[0], BufferValue)
    assert loaded.inputs[0].type == _buf([4])
    assert [n["op"] for n in loaded.nodes] == ["buffer_load", "buffer_store"]


def test_model_metadata_marks_buffer_inputs(session) -> None:
    with Graph("meta", input_types=[_buf([3]), _f32([3])]) as g:
        g.output(ops.buffer_load(g.inputs[0]) + g.inputs[1])
    model = session.load(g)
    assert [spec.is_buffer for spec in model.input_metadata] == [True, False]


# ---------------------------------------------------------------------------------------------
# Load and store
# ---------------------------------------------------------------------------------------------
def test_load_is_a_copy_of_the_buffer(session) -> None:
    start = _random((2, 3), 1)
    with Graph("load", input_types=[_buf([2, 3])]) as g:
        g.output(ops.buffer_load(g.inputs[0]) * 2.0)
    tensor = Tensor.from_numpy(start.copy())
    (out,) = _execute(session, g, tensor)
    np.testing.assert_allclose(out, start * 2.0, rtol=1e-6)
    np.testing.assert_array_equal(tensor.to_numpy(), start)  # only read


def test_store_updates_the_callers_tensor(session) -> None:
    start, x = _random((3, 4), 2), _random((3, 4), 3)
    with Graph("store", input_types=[_buf([3, 4]), _f32([3, 4])]) as g:
        buf, value = g.inputs
        ops.buffer_store(buf, ops.buffer_load(buf) + value)
        g.output(value * 1.0)
    model = session.load(g)
    array = start.copy()
    tensor = Tensor.from_numpy(array)  # borrows the array's memory
    model.execute(tensor, x)
    np.testing.assert_allclose(tensor.to_numpy(), start + x, rtol=1e-6)
    np.testing.assert_allclose(array, start + x, rtol=1e-6)  # the same memory
    model.execute(tensor, x)  # each execution accumulates once more
    np.testing.assert_allclose(tensor.to_numpy(), start + 2 * x, rtol=1e-6)


def test_store_of_a_scalar_broadcasts_to_the_buffer(session) -> None:
    with Graph("fill", input_types=[_buf([2, 2], DType.int32)]) as g:
        ops.buffer_store(g.inputs[0], 7)
        g.output(ops.buffer_load(g.inputs[0]))
    tensor = Tensor.from_numpy(np.zeros((2, 2), np.int32))
    (out,) = _execute(session, g, tensor)
    np.testing.assert_array_equal(out, np.full((2, 2), 7, np.int32))
    np.testing.assert_array_equal(tensor.to_numpy(), np.full((2, 2), 7, np.int32))


SLICES = [
    (1,),
    (slice(1, None),),
    (slice(None), slice(None, None, -2)),
    (-1, slice(None, None, -1)),
    (Ellipsis, 0),
    (slice(-3, -1), slice(1, 5, 2)),
    (slice(1, 100), slice(-100, 2)),
    (slice(None, None, -1), -2),
    (0, 4),
]


@pytest.mark.parametrize("index", SLICES, ids=[str(i) for i in range(len(SLICES))])
def test_store_slice_matches_numpy(session, index) -> None:
    start = _random((4, 5), 4)
    target = start[index]
    source = _random(np.shape(target), 5)
    with Graph("slice", input_types=[_buf([4, 5]), _f32(list(np.shape(target)))]) as g:
        buf, value = g.inputs
        ops.buffer_store_slice(buf, value, index)
        g.output(ops.buffer_load(buf))
    tensor = Tensor.from_numpy(start.copy())
    (out,) = _execute(session, g, tensor, source)
    expected = start.copy()
    expected[index] = source
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(tensor.to_numpy(), expected)


def test_store_slice_of_a_symbolic_buffer(session) -> None:
    with Graph("symbolic", input_types=[_buf(["n", 4]), _f32(["n", 2])]) as g:
        buf, value = g.inputs
        ops.buffer_store_slice(buf, value, [slice(None), slice(1, 3)])
        g.output(ops.buffer_load(buf))
    model = session.load(g)
    for n in (3, 5):
        start, x = _random((n, 4), 20 + n), _random((n, 2), 30 + n)
        tensor = Tensor.from_numpy(start.copy())
        (out,) = [t.to_numpy() for t in model.execute(tensor, x)]
        expected = start.copy()
        expected[:, 1:3] = x
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(tensor.to_numpy(), expected)


def test_setitem_and_getitem_on_a_buffer(session) -> None:
    start, row = _random((3, 4), 6), _random((2,), 7)
    with Graph("items", input_types=[_buf([3, 4]), _f32([2])]) as g:
        buf, value = g.inputs
        buf[0] = 5.0                 # a scalar broadcast over row 0
        buf[1:, ::2] = ops.concat([value, value]).reshape([2, 2])
        g.output(buf[2, ::-1], buf[...])
    tensor = Tensor.from_numpy(start.copy())
    row_reversed, whole = _execute(session, g, tensor, row)
    expected = start.copy()
    expected[0] = 5.0
    expected[1:, ::2] = np.concatenate([row, row]).reshape(2, 2)
    np.testing.assert_array_equal(whole, expected)
    np.testing.assert_array_equal(row_reversed, expected[2, ::-1])
    np.testing.assert_array_equal(tensor.to_numpy(), expected)


# ---------------------------------------------------------------------------------------------
# Ordering
# ---------------------------------------------------------------------------------------------
def test_load_store_load_gives_old_then_new_values(session) -> None:
    start, x = _random((5,), 8), _random((5,), 9)
    with Graph("order", input_types=[_buf([5]), _f32([5])]) as g:
        buf, value = g.inputs
        old = ops.buffer_load(buf)
        ops.buffer_store(buf, value)
        new = ops.buffer_load(buf)
        ops.buffer_store_slice(buf, new[:2] * 10.0, [slice(3, None)])
        newest = ops.buffer_load(buf)
        g.output(old, new, newest)
    tensor = Tensor.from_numpy(start.copy())
    old, new, newest = _execute(session, g, tensor, x)
    np.testing.assert_array_equal(old, start)
    np.testing.assert_array_equal(new, x)
    expected = x.copy()
    expected[3:] = x[:2] * 10.0
    np.testing.assert_allclose(newest, expected, rtol=1e-6)
    np.testing.assert_allclose(tensor.to_numpy(), expected, rtol=1e-6)


def test_stores_nothing_reads_still_run_and_the_last_one_wins(session) -> None:
    with Graph("effects", input_types=[_buf([3]), _f32([3])]) as g:
        buf, value = g.inputs
        ops.buffer_store(buf, value * 3.0)
        ops.buffer_store(buf, value + 1.0)  # no graph output depends on either store
        g.output(value * 1.0)
    x = _random((3,), 10)
    tensor = Tensor.from_numpy(np.zeros(3, np.float32))
    session.load(g).execute(tensor, x)
    np.testing.assert_allclose(tensor.to_numpy(), x + 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
def test_store_with_a_wrong_shape_or_dtype_names_the_op_and_operand() -> None:
    with Graph("bad", input_types=[_buf([2, 3]), _f32([3, 2]),
                                   TensorType(DType.int32, [2, 3])]) as g:
        buf, wrong_shape, wrong_dtype = g.inputs
        with pytest.raises(ValueError, match=r"buffer_store.*operand 1 \(source\) is "
                                             r"float32\[3, 2\]"):
            ops.buffer_store(buf, wrong_shape)
        with pytest.raises(ValueError, match=r"buffer_store.*operand 1 \(source\) is int32"):
            ops.buffer_store(buf, wrong_dtype)
        with pytest.raises(ValueError, match=r"buffer_store_slice.*operand 1 \(source\).*slice"):
            ops.buffer_store_slice(buf, wrong_shape, [0])
        with pytest.raises(IndexError):
            ops.buffer_store_slice(buf, wrong_shape, [None])
        with pytest.raises(TypeError, match="tensor indices"):
            ops.buffer_store_slice(buf, wrong_shape, [ops.constant(0, DType.int64)])


def test_buffers_are_not_tensors() -> None:
    with Graph("misuse", input_types=[_buf([4]), _f32([4])]) as g:
        buf, x = g.inputs
        with pytest.raises(TypeError, match="buffer_load"):
            ops.add(buf, x)
        with pytest.raises(TypeError, match="buffer_load"):
            _ = x + buf
        with pytest.raises(TypeError, match="expected a BufferValue"):
            ops.buffer_load(x)
        with pytest.raises(TypeError, match="expected a BufferValue"):
            ops.buffer_store(x, x)
        with pytest.raises(TypeError, match="BufferValue"):
            g.output(buf)
        with pytest.raises(ValueError, match="only graph inputs can be buffers"):
            ops.inplace_custom("test.accumulate", DeviceRef.CPU(), [buf, x],
                               out_types=[_buf([4])])
        with pytest.raises(ValueError, match="must include a BufferValue"):
            ops.inplace_custom("test.accumulate", DeviceRef.CPU(), [x, x])


def test_a_buffer_input_needs_a_kiln_tensor(session) -> None:
    with Graph("inputs", input_types=[_buf([3])]) as g:
        ops.buffer_store(g.inputs[0], 1.0)
        g.output(ops.buffer_load(g.inputs[0]))
    model = session.load(g)
    with pytest.raises(TypeError, match="mutable buffer.*kiln Tensor"):
        model.execute(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="expects float32"):
        model.execute(Tensor.from_numpy(np.zeros(3, np.int32)))
    with pytest.raises(ValueError):
        model.execute(Tensor.from_numpy(np.zeros(4, np.float32)))


# ---------------------------------------------------------------------------------------------
# inplace_custom (the test plugin's "test.accumulate": buffer += x)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plugin_session() -> engine.InferenceSession:
    path = build_dir() / "tests" / "abi" / "plugins" / "libinplace_ops.so"
    if not path.exists():
        pytest.fail(f"the in-place test plugin is not built: {path}")
    return engine.InferenceSession(custom_extensions=[path])


def test_inplace_custom_writes_the_buffer(plugin_session) -> None:
    start, x = _random((2, 3), 11), _random((2, 3), 12)
    with Graph("inplace", input_types=[_buf([2, 3]), _f32([2, 3])]) as g:
        buf, value = g.inputs
        before = ops.buffer_load(buf)
        assert ops.inplace_custom("test.accumulate", DeviceRef.CPU(), [buf, value]) == []
        middle = ops.buffer_load(buf)
        (copy,) = ops.inplace_custom("test.accumulate", None, [buf, value * 2.0],
                                     out_types=[_f32([2, 3])])
        g.output(before, middle, copy, ops.buffer_load(buf))
    tensor = Tensor.from_numpy(start.copy())
    before, middle, copy, after = _execute(plugin_session, g, tensor, x)
    np.testing.assert_array_equal(before, start)
    np.testing.assert_allclose(middle, start + x, rtol=1e-6)
    np.testing.assert_allclose(copy, start + 3 * x, rtol=1e-6)
    np.testing.assert_allclose(after, start + 3 * x, rtol=1e-6)
    np.testing.assert_allclose(tensor.to_numpy(), start + 3 * x, rtol=1e-6)


def test_inplace_custom_with_no_reader_still_runs(plugin_session) -> None:
    start, x = _random((4,), 13), _random((4,), 14)
    with Graph("unread", input_types=[_buf([4]), _f32([4])]) as g:
        buf, value = g.inputs
        ops.inplace_custom("test.accumulate", DeviceRef.CPU(), [buf, value])
        g.output(value * 1.0)
    tensor = Tensor.from_numpy(start.copy())
    plugin_session.load(g).execute(tensor, x)
    np.testing.assert_allclose(tensor.to_numpy(), start + x, rtol=1e-6)
