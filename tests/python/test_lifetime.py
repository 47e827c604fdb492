"""Object lifetimes: handles freed in any order (with gc.collect between), parents kept alive
by children, no leak of device memory over many iterations, no crash at any point."""

from __future__ import annotations

import gc
import itertools
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kiln import engine
from kiln.driver import CPU, Tensor
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, Weight, ops


def make_objects() -> dict:
    weight = Weight("w", DType.float32, [4, 4], value=np.eye(4))
    graph = Graph("life", lambda x: ops.relu(x @ weight),
                  input_types=[TensorType(DType.float32, ["n", 4])])
    session = engine.InferenceSession()
    model = session.load(graph)
    source = np.arange(8, dtype=np.float32).reshape(2, 4)
    tensor = Tensor.from_numpy(source)
    (output,) = model.execute(tensor)
    return {"graph": graph, "session": session, "model": model, "tensor": tensor,
            "output": output, "array": output.to_numpy(), "source": source,
            "capsule": output.__dlpack__(max_version=(1, 0)), "value": graph.inputs[0]}


@pytest.mark.parametrize("order", list(itertools.permutations(
    ["graph", "session", "model", "tensor", "output", "array"]))[::37])
def test_any_destruction_order(order) -> None:
    objects = make_objects()
    expected = np.maximum(objects["source"], 0)
    for name in order:
        if name == "array":
            np.testing.assert_array_equal(objects["array"], expected)
        del objects[name]
        gc.collect()
    np.testing.assert_array_equal(np.from_dlpack(_Wrap(objects.pop("capsule"))), expected)
    gc.collect()


class _Wrap:
    """A DLPack producer that hands out a capsule made earlier."""

    def __init__(self, capsule) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def test_values_keep_their_graph_alive() -> None:
    graph = Graph("keep", input_types=[TensorType(DType.float32, [3])])
    value = graph.inputs[0]
    del graph
    gc.collect()
    assert value.shape == [3]
    doubled = value * 2  # still builds into the (living) graph
    assert doubled.graph is value.graph


def test_model_outlives_graph_and_session() -> None:
    graph = Graph("g", lambda x: x + 1, input_types=[TensorType(DType.int32, [2])])
    session = engine.InferenceSession()
    model = session.load(graph)
    del graph, session
    gc.collect()
    (out,) = model.execute(np.array([1, 2], np.int32))
    np.testing.assert_array_equal(out.to_numpy(), [2, 3])


def test_borrowed_numpy_memory_outlives_the_array_name() -> None:
    tensor = Tensor.from_numpy(np.arange(1000, dtype=np.float64))
    gc.collect()
    assert tensor.to_numpy()[999] == 999
    view = tensor[10:20]
    del tensor
    gc.collect()
    np.testing.assert_array_equal(view.to_numpy(), np.arange(10, 20))


def test_no_device_memory_leak_over_many_runs() -> None:
    cpu = CPU()
    graph = Graph("loop", lambda x: ops.softmax(x * 2),
                  input_types=[TensorType(DType.float32, ["n", 64])])
    session = engine.InferenceSession()

    def one_round() -> None:
        model = session.load(graph)
        x = np.ones((16, 64), np.float32)
        for _ in range(5):
            (out,) = model.execute(x)
            np.from_dlpack(out)
            out.__dlpack__()
            Tensor.from_dlpack(x)
            Tensor.from_numpy(x)[1:3]

    one_round()
    gc.collect()
    baseline = cpu.stats
    for _ in range(20):
        one_round()
    gc.collect()
    after = cpu.stats
    assert after["num_allocations"] <= baseline["num_allocations"]
    assert after["bytes_in_use"] <= baseline["bytes_in_use"]


def test_interpreter_exit_with_live_objects() -> None:
    """Objects still alive at exit are released by finalizers without crashing."""
    script = textwrap.dedent("""
        import numpy as np
        from kiln import engine
        from kiln.driver import Tensor
        from kiln.graph import Graph, TensorType, ops
        from kiln.dtype import DType
        g = Graph("exit", lambda x: x * 3, input_types=[TensorType(DType.float32, [2])])
        m = engine.InferenceSession().load(g)
        out = m.execute(np.ones(2, np.float32))
        keep = [Tensor.from_numpy(np.ones(3)), out[0].to_numpy(), out[0].__dlpack__()]
        cycle = [m]
        cycle.append(cycle)
        print("ok", out[0].to_numpy().tolist())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ok [3.0, 3.0]" in result.stdout
