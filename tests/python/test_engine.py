"""kiln.engine: sessions, models, metadata, execution with every kind of input, weights."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import kiln
from kiln import driver, engine
from kiln.driver import CPU, Tensor
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, Weight, ops


def mlp_graph() -> Graph:
    """x[batch, 4] @ w1[4, 8] + b1 -> relu -> @ w2[8, 3] (w2 supplied at load)."""
    generator = np.random.default_rng(0)
    w1 = Weight("w1", DType.float32, [4, 8], value=generator.standard_normal((4, 8)))
    b1 = Weight("b1", DType.float32, [8], value=generator.standard_normal(8))
    w2 = Weight("w2", DType.float32, [8, 3])
    return Graph("mlp", lambda x: ops.relu(x @ w1 + b1) @ w2,
                 input_types=[TensorType(DType.float32, ["batch", 4])], input_names=["x"])


def mlp_reference(graph: Graph, x: np.ndarray, w2: np.ndarray) -> np.ndarray:
    generator = np.random.default_rng(0)
    w1 = generator.standard_normal((4, 8)).astype(np.float32)
    b1 = generator.standard_normal(8).astype(np.float32)
    return np.maximum(x @ w1 + b1, 0) @ w2


W2 = np.arange(24, dtype=np.float32).reshape(8, 3) / 10


def test_reference_engine_example() -> None:
    """Adapted from the engine/driver examples in MAX's reference."""
    device = driver.CPU() if driver.accelerator_count() == 0 else driver.Accelerator()
    session = engine.InferenceSession(devices=[device])
    assert session.devices == [device]
    graph = Graph("relu", ops.relu, input_types=[TensorType(DType.float32, ["n"])])
    model = session.load(graph)
    for spec in model.input_metadata:
        assert spec.name and spec.shape == [None] and spec.dtype == DType.float32
    out = model.execute(np.array([-1.0, 2.0], np.float32))[0]
    np.testing.assert_array_equal(out.to(CPU()).to_numpy(), [0.0, 2.0])


def test_metadata() -> None:
    session = engine.InferenceSession()
    model = session.load(mlp_graph(), weights_registry={"w2": W2})
    (spec,) = model.input_metadata
    assert spec.name == "x" and spec.shape == [None, 4] and spec.dtype == DType.float32
    assert spec.dims == ["batch", 4]
    (out,) = model.output_metadata
    assert out.shape == [None, 3] and out.dtype == DType.float32
    assert "TensorSpec" in repr(spec)


def test_execute_with_every_input_kind() -> None:
    graph = mlp_graph()
    model = engine.InferenceSession(num_threads=1).load(graph, weights_registry={"w2": W2})
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    expected = mlp_reference(graph, x, W2)
    for value in (x, Tensor.from_numpy(x), Tensor.from_dlpack(x), np.asfortranarray(x),
                  Tensor.from_numpy(np.concatenate([x, x], axis=1))[:, :4]):
        (out,) = model.execute(value)
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-5, atol=1e-5)
    (by_name,) = model(x=x)
    np.testing.assert_allclose(by_name.to_numpy(), expected, rtol=1e-5, atol=1e-5)
    (positional,) = model(x)
    np.testing.assert_allclose(positional.to_numpy(), expected, rtol=1e-5, atol=1e-5)


def test_symbolic_dims_bind_per_execution() -> None:
    model = engine.InferenceSession().load(mlp_graph(), weights_registry={"w2": W2})
    for batch in (1, 7, 0, 3):
        x = np.ones((batch, 4), np.float32)
        (out,) = model.execute(x)
        assert out.shape == (batch, 3)


def test_scalar_inputs() -> None:
    graph = Graph("scale", lambda x, s: x * s,
                  input_types=[TensorType(DType.float32, [3]), TensorType(DType.float32, [])])
    model = engine.InferenceSession().load(graph)
    (out,) = model.execute(np.ones(3, np.float32), 2.5)
    np.testing.assert_array_equal(out.to_numpy(), [2.5, 2.5, 2.5])
    (out,) = model.execute(np.ones(3, np.float32), np.float32(4))
    np.testing.assert_array_equal(out.to_numpy(), [4, 4, 4])


def test_weights_registry_overrides_and_dlpack_weights() -> None:
    graph = mlp_graph()
    session = engine.InferenceSession()
    x = np.ones((2, 4), np.float32)
    w2_tensor = Tensor.from_numpy(W2 * 2)
    model = session.load(graph, weights_registry={"w2": w2_tensor})
    (out,) = model.execute(x)
    np.testing.assert_allclose(out.to_numpy(), mlp_reference(graph, x, W2 * 2), rtol=1e-5)
    zero_b1 = np.zeros(8, np.float32)
    model2 = session.load(graph, weights_registry={"w2": W2, "b1": zero_b1})
    (out2,) = model2.execute(x)
    generator = np.random.default_rng(0)
    w1 = generator.standard_normal((4, 8)).astype(np.float32)
    np.testing.assert_allclose(out2.to_numpy(), np.maximum(x @ w1, 0) @ W2, rtol=1e-5)


def test_registry_weight_lives_as_long_as_the_model() -> None:
    import gc  # noqa: PLC0415

    model = engine.InferenceSession().load(mlp_graph(),
                                           weights_registry={"w2": W2.copy() * 1.0})
    gc.collect()
    x = np.ones((1, 4), np.float32)
    (a,) = model.execute(x)
    gc.collect()
    (b,) = model.execute(x)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_load_from_file(tmp_path: Path) -> None:
    graph = Graph("file", lambda x: x + 1, input_types=[TensorType(DType.int64, [2])])
    path = tmp_path / "g.kiln"
    graph.save(path)
    session = engine.InferenceSession()
    for model in (session.load(path), session.load(str(path))):
        (out,) = model.execute(np.array([1, 2], np.int64))
        np.testing.assert_array_equal(out.to_numpy(), [2, 3])


def test_devices_first_argument_order() -> None:
    session = engine.InferenceSession([CPU()])
    assert session.devices == [CPU()]
    session = engine.InferenceSession(2, [CPU()])
    assert session.devices == [CPU()]


def test_threads_execute_one_model() -> None:
    graph = mlp_graph()
    model = engine.InferenceSession().load(graph, weights_registry={"w2": W2})
    inputs = [np.random.default_rng(i).standard_normal((3, 4)).astype(np.float32)
              for i in range(8)]
    expected = [mlp_reference(graph, x, W2) for x in inputs]
    failures = []

    def worker(index: int) -> None:
        for _ in range(20):
            (out,) = model.execute(inputs[index])
            if not np.allclose(out.to_numpy(), expected[index], rtol=1e-5, atol=1e-5):
                failures.append(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_session_and_model_close() -> None:
    session = engine.InferenceSession()
    graph = Graph("c", lambda x: -x, input_types=[TensorType(DType.float32, [1])])
    model = session.load(graph)
    session.close()
    session.close()  # idempotent
    (out,) = model.execute(np.ones(1, np.float32))  # the model outlives its session
    assert out.to_numpy()[0] == -1
    with pytest.raises(RuntimeError, match="closed"):
        session.load(graph)
    model.close()
    with pytest.raises(kiln.KilnError, match="closed"):
        model.execute(np.ones(1, np.float32))
    assert out.to_numpy()[0] == -1  # outputs outlive the model
    with engine.InferenceSession() as s2:
        m2 = s2.load(graph)
    with m2:
        m2.execute(np.ones(1, np.float32))
    assert "closed" in repr(m2) and "closed" in repr(s2)


def test_model_cannot_be_constructed() -> None:
    with pytest.raises(TypeError):
        engine.Model()


def test_log_level() -> None:
    kiln.set_log_level("error")
    engine.InferenceSession().set_log_level(engine.LogLevel.WARNING)
    with pytest.raises(ValueError):
        kiln.set_log_level("loud")
    kiln.set_log_level("warning")


def test_library_information() -> None:
    assert kiln.library_version().count(".") == 2
    assert kiln.abi_version()[0] == 0
    assert Path(kiln.library_path()).name.startswith("libkiln")
    plugins = kiln.plugins()
    assert any(p["name"] == "cpu" and p["num_devices"] >= 1 for p in plugins), plugins
    assert isinstance(kiln.load_errors(), list)


def test_placement_lists_each_node_with_its_kernel() -> None:
    graph = Graph("placed", lambda x: ops.softmax(ops.add(x, x), -1),
                  input_types=[TensorType(DType.float32, [2, 3])])
    for fallback in (True, False):
        model = engine.InferenceSession(cpu_fallback=fallback).load(graph)
        nodes = model.placement()
        assert [n["op"] for n in nodes] == ["add", "softmax"]
        for node in nodes:
            assert node["device"] == "cpu:0"
            assert node["plugin"] == "cpu"
            assert node["kernel"] == "cpu." + node["op"]
            assert not any(line.startswith("CPU fallback") for line in node["passed_over"])
        out = model.execute(np.ones((2, 3), np.float32))[0].to_numpy()
        np.testing.assert_allclose(out, np.full((2, 3), 1 / 3, np.float32), rtol=1e-6)
