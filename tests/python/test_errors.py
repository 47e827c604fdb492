"""Misuse gets a clear exception (with kiln's message), never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kiln
from kiln import engine
from kiln._errors import (INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNIMPLEMENTED,
                          error_for_code)
from kiln.driver import Tensor
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, Weight, ops


@pytest.fixture(scope="module")
def model() -> engine.Model:
    graph = Graph("m", lambda x, y: x @ y, input_types=[TensorType(DType.float32, ["n", 3]),
                                                       TensorType(DType.float32, [3, 2])])
    return engine.InferenceSession().load(graph)


def test_exception_classes() -> None:
    assert isinstance(error_for_code(INVALID_ARGUMENT, "m"), ValueError)
    assert isinstance(error_for_code(NOT_FOUND, "m"), LookupError)
    assert isinstance(error_for_code(NOT_FOUND, "m", about_file=True), FileNotFoundError)
    assert isinstance(error_for_code(UNIMPLEMENTED, "m"), NotImplementedError)
    assert isinstance(error_for_code(RESOURCE_EXHAUSTED, "m"), MemoryError)
    assert isinstance(error_for_code(99, "m"), RuntimeError)
    error = error_for_code(INVALID_ARGUMENT, "the message")
    assert isinstance(error, kiln.KilnError)
    assert str(error) == "the message" and error.code_name == "INVALID_ARGUMENT"


def test_wrong_dtype_input(model: engine.Model) -> None:
    with pytest.raises(ValueError, match="float32"):
        model.execute(np.ones((2, 3), np.int32), np.ones((3, 2), np.float32))


def test_wrong_shape_input(model: engine.Model) -> None:
    with pytest.raises(kiln.KilnError) as info:
        model.execute(np.ones((2, 4), np.float32), np.ones((3, 2), np.float32))
    assert isinstance(info.value, ValueError)
    assert str(info.value)
    with pytest.raises(ValueError):
        model.execute(np.ones((2, 3, 1), np.float32), np.ones((3, 2), np.float32))


def test_wrong_input_count_and_names(model: engine.Model) -> None:
    with pytest.raises(TypeError, match="2 inputs"):
        model.execute(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="no input named"):
        model(np.ones((2, 3), np.float32), z=np.ones((3, 2), np.float32))
    with pytest.raises(TypeError, match="missing"):
        model(input0=np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="twice"):
        model(np.ones((2, 3), np.float32), input0=np.ones((2, 3), np.float32))
    with pytest.raises(TypeError):
        model.execute("text", np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="scalar"):
        model.execute(1.0, np.ones((3, 2), np.float32))


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError) as info:
        engine.InferenceSession().load("/nonexistent/graph.kiln")
    assert isinstance(info.value, kiln.KilnError)
    assert "nonexistent" in str(info.value)


def test_corrupt_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.kiln"
    garbage.write_bytes(b"\x00\x01 this is not a kiln graph \xff" * 10)
    with pytest.raises(kiln.KilnError) as info:
        Graph.load(garbage)
    assert str(info.value)
    graph = Graph("t", lambda x: x * 2, input_types=[TensorType(DType.float32, [4])])
    data = graph.to_bytes()
    truncated = tmp_path / "truncated.kiln"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(kiln.KilnError):
        Graph.load(truncated)
    with pytest.raises(kiln.KilnError):
        Graph.from_bytes(b"")


def test_missing_weight() -> None:
    graph = Graph("w", lambda x: x + Weight("bias", DType.float32, [2]),
                  input_types=[TensorType(DType.float32, [2])])
    with pytest.raises(kiln.KilnError, match="bias"):
        engine.InferenceSession().load(graph)
    with pytest.raises(kiln.KilnError):
        engine.InferenceSession().load(graph, weights_registry={"bias": np.ones(3, np.float32)})
    with pytest.raises(TypeError):
        engine.InferenceSession().load(graph, weights_registry={"bias": [1.0, 2.0]})


def test_unknown_custom_op_fails_at_load() -> None:
    with Graph("custom", input_types=[TensorType(DType.float32, [4])]) as g:
        (out,) = ops.custom("no_such_op_anywhere", DeviceRef.CPU(), [g.inputs[0]],
                            [TensorType(DType.float32, [4])])
        g.output(out)
    with pytest.raises(kiln.KilnError, match="no_such_op_anywhere"):
        engine.InferenceSession().load(g)


def test_bad_session_arguments() -> None:
    with pytest.raises(TypeError):
        engine.InferenceSession(devices=["cpu"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        engine.InferenceSession(num_threads=-1)
    with pytest.raises(kiln.KilnError):
        engine.InferenceSession(custom_extensions=["/nonexistent/plugin.so"])
    with pytest.raises(TypeError):
        engine.InferenceSession().load(12345)  # type: ignore[arg-type]


def test_bad_plugin_file(tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"not an ELF file")
    with pytest.raises(kiln.KilnError) as info:
        kiln.load_plugin(str(fake))
    assert "libfake.so" in str(info.value)


def test_graph_without_outputs() -> None:
    graph = Graph("empty", input_types=[TensorType(DType.float32, [1])])
    model = engine.InferenceSession().load(graph)
    assert model.output_metadata == []
    assert model.execute(np.ones(1, np.float32)) == []


def test_bad_graph_arguments() -> None:
    with pytest.raises(TypeError):
        Graph("g", input_types=[DType.float32])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        Graph("g", input_types=[TensorType(DType.float32, [1])], input_names=["a", "b"])
    with pytest.raises(kiln.KilnError):
        Graph("g", input_types=[TensorType(DType.float32, [1])] * 2, input_names=["a", "a"])
    with Graph("g", input_types=[TensorType(DType.float32, [2, 3])]) as g:
        x = g.inputs[0]
        with pytest.raises(TypeError):
            ops.cast(x, np.float32)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            ops.gelu(x, approximate="fast")
        with pytest.raises(TypeError):
            ops.sum(x, axis=1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ops.add(1, 2)
        with pytest.raises(TypeError):
            ops.add(x, object())
        with pytest.raises(ValueError):
            x[:, ::0]
        with pytest.raises(IndexError):
            x[5]
        with pytest.raises(IndexError):
            x[0, 0, 0]
        with pytest.raises(TypeError):
            x[x]
        with pytest.raises(ValueError):
            ops.concat([])
        with pytest.raises(ValueError):
            ops.constant(np.array([1.5]), DType.int32)
        with pytest.raises(ValueError):
            ops.constant(300, DType.int8)
        with pytest.raises(TypeError):
            ops.where(x > 0, 1.0, 0.0)


def test_tensor_on_missing_device_and_misuse() -> None:
    tensor = Tensor(DType.float32, (2,))
    with pytest.raises(TypeError):
        tensor.copy(device="gpu")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tensor.inplace_copy_from(np.zeros(2))  # type: ignore[arg-type]
    uninitialized = Tensor.__new__(Tensor)
    with pytest.raises(ValueError):
        uninitialized.num_elements  # noqa: B018
