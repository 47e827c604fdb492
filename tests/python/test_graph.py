"""kiln.graph: building graphs (types, dims, values, weights), type inference results, and
.kiln serialization."""

from __future__ import annotations

import numpy as np
import pytest

import kiln
from kiln.dtype import DType
from kiln.graph import (AlgebraicDim, DeviceKind, DeviceRef, Dim, Graph, Shape, StaticDim,
                        SymbolicDim, TensorType, TensorValue, Weight, ops)


# -- types -----------------------------------------------------------------------------------
def test_dims() -> None:
    assert isinstance(Dim(3), StaticDim) and Dim(3).dim == 3
    assert isinstance(Dim("batch"), SymbolicDim) and Dim("batch").name == "batch"
    assert isinstance(Dim("2*batch"), AlgebraicDim)
    assert isinstance(Dim("batch") * 5, AlgebraicDim)
    assert Dim(2) + 3 == 5 and isinstance(Dim(2) + 3, StaticDim)
    assert Dim(4) == 4 and Dim("x") == "x" and Dim("x") != "y"
    assert int(StaticDim(7)) == 7
    assert repr(Dim(2)) == "Dim(2)" and repr(Dim("n")) == "Dim('n')"
    assert Dim(Dim("n")) == Dim("n")
    with pytest.raises(ValueError):
        SymbolicDim("not a name")
    with pytest.raises(TypeError):
        Dim(1.5)  # type: ignore[arg-type]
    assert len({Dim(3), Dim(3), Dim("n")}) == 2


def test_shape() -> None:
    shape = Shape([2, "batch", Dim(4)])
    assert shape.rank == 3
    assert shape.static_dims == [2, 4]
    assert shape == [2, "batch", 4]
    assert str(shape) == "[2, batch, 4]"
    with pytest.raises(ValueError):
        shape.to_ints()


def test_device_ref() -> None:
    assert str(DeviceRef.GPU()) == "gpu:0"
    assert str(DeviceRef.CPU(id=1)) == "cpu:1"
    assert DeviceRef.CPU().is_cpu() and DeviceRef.GPU(2).is_gpu()
    assert DeviceRef("gpu", 1) == DeviceRef.GPU(1)
    assert DeviceRef.CPU().device_type == DeviceKind.CPU
    assert DeviceRef.from_device(kiln.driver.CPU()) == DeviceRef.CPU()
    assert DeviceRef.CPU().to_device() == kiln.driver.CPU()
    with pytest.raises(ValueError):
        DeviceRef("tpu")


def test_tensor_type() -> None:
    t = TensorType(DType.float32, (2, 3))
    assert t.dtype == DType.float32 and t.shape == [2, 3] and t.rank == 2
    assert t.device == DeviceRef.CPU()
    assert t == TensorType(DType.float32, [2, 3], DeviceRef.CPU())
    assert t != TensorType(DType.float16, [2, 3])
    with pytest.raises(TypeError):
        TensorType(np.float32, (2,))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TensorType(DType.float32, (-2,))


# -- building --------------------------------------------------------------------------------
def test_context_manager_graph() -> None:
    with Graph("g", input_types=[TensorType(DType.float32, ["batch", 4])]) as g:
        assert Graph.current is g
        (x,) = g.inputs
        assert isinstance(x, TensorValue)
        assert x.shape == ["batch", 4] and x.dtype == DType.float32 and x.rank == 2
        y = ops.relu(x * 2 + 1)
        g.output(y)
    with pytest.raises(LookupError):
        Graph.current  # noqa: B018
    assert g.output_types == [TensorType(DType.float32, ["batch", 4])]
    assert g.name == "g"
    ops_used = [node["op"] for node in g.nodes]
    assert {"mul", "add", "relu", "constant"} <= set(ops_used)


def test_forward_graph_with_several_outputs() -> None:
    g = Graph("two", lambda a, b: (a + b, a - b),
              input_types=[TensorType(DType.int32, [3]), TensorType(DType.int32, [3])])
    assert len(g.outputs) == 2
    assert [t.dtype for t in g.output_types] == [DType.int32, DType.int32]


def test_type_inference_and_symbolic_dims() -> None:
    with Graph("shapes", input_types=[TensorType(DType.float32, ["b", "s", 64])]) as g:
        (x,) = g.inputs
        merged = x.reshape(["b", -1]).shape
        assert merged[0] == "b" and str(merged[1]).replace(" ", "") in ("64*s", "s*64")
        assert x.transpose(0, 2).shape == [64, "s", "b"]
        assert x.T.shape == ["b", 64, "s"]
        assert x.permute([2, 0, 1]).shape == [64, "b", "s"]
        assert x.sum().shape == ["b", "s", 1]
        assert x.argmax(axis=1).dtype == DType.int64
        assert (x > 0).dtype == DType.bool
        assert x.cast(DType.float16).dtype == DType.float16
        assert x[:, :, 3].shape == ["b", "s"]
        assert x[..., 1:5].shape == ["b", "s", 4]
        assert x[None].shape == [1, "b", "s", 64]
        w = ops.constant(np.ones((64, 8), np.float32))
        assert (x @ w).shape == ["b", "s", 8]
        g.output(x @ w)


def test_scalar_promotion_uses_tensor_dtype() -> None:
    with Graph("p", input_types=[TensorType(DType.float16, [2])]) as g:
        (x,) = g.inputs
        for value in (x + 1, 1 + x, x * 2.5, np.float64(3) - x, x / np.int8(2), x ** 2):
            assert value.dtype == DType.float16
        with pytest.raises(ValueError):
            ops.add(g.inputs[0], 1e10)  # overflows float16
    with Graph("q", input_types=[TensorType(DType.int32, [2])]) as g:
        (x,) = g.inputs
        assert (x + 3).dtype == DType.int32
        with pytest.raises(ValueError):
            x + 0.5  # noqa: B018 - a fraction does not fit an int32


def test_type_errors_come_from_kiln() -> None:
    with Graph("bad", input_types=[TensorType(DType.float32, [2, 3]),
                                   TensorType(DType.int32, [2, 3])]) as g:
        x, y = g.inputs
        with pytest.raises(ValueError) as info:
            x + y
        assert isinstance(info.value, kiln.KilnError)
        assert "add" in str(info.value) and "int32" in str(info.value)
        with pytest.raises(ValueError, match="matmul"):
            x @ x
        with pytest.raises(ValueError):
            x.reshape([7])
        with pytest.raises(ValueError):
            ops.transpose(x, 0, 5)
        with pytest.raises(ValueError):
            ops.exp(y)  # float only
        with pytest.raises(ValueError):
            ops.layer_norm(x, np.ones(3), np.ones(3), 0.0)


def test_values_cannot_cross_graphs() -> None:
    a = Graph("a", input_types=[TensorType(DType.float32, [2])])
    b = Graph("b", input_types=[TensorType(DType.float32, [2])])
    with pytest.raises(ValueError, match="different graphs"):
        ops.add(a.inputs[0], b.inputs[0])


def test_no_graph_for_constant() -> None:
    with pytest.raises(LookupError):
        ops.constant(1.0, DType.float32)


def test_tensor_value_is_not_a_bool() -> None:
    with Graph("b", input_types=[TensorType(DType.float32, [2])]) as g:
        x = g.inputs[0]
        with pytest.raises(TypeError):
            bool(x == x)
        with pytest.raises(TypeError):
            list(x)
        with pytest.raises(TypeError):
            x == "text"  # noqa: B015
        assert {x: 1}[x] == 1  # hashable by identity
        assert "float32" in repr(x)
        moved = x.to(DeviceRef.GPU())  # a transfer_to node (placed when loaded)
        assert g.nodes[-1]["op"] == "transfer_to" and moved.device == DeviceRef.GPU()


def test_weights() -> None:
    w = Weight("w", DType.float32, [3, 2])
    b = Weight("b", DType.float32, [2], value=np.array([1.0, -1.0]))
    with Graph("weights", input_types=[TensorType(DType.float32, ["n", 3])]) as g:
        (x,) = g.inputs
        y = x @ w + b
        assert y.shape == ["n", 2]
        same = g.add_weight(w)
        assert g.add_weight(w) is same
        with pytest.raises(ValueError):
            g.add_weight(Weight("w", DType.float16, [3, 2]))
        g.output(y)
    info = {entry["name"]: entry for entry in g.weights}
    assert info["w"]["shape"] == (3, 2) and not info["w"]["is_inline"]
    assert info["b"]["is_inline"] and info["b"]["byte_size"] == 8
    with pytest.raises(ValueError):
        Weight("s", DType.float32, ["n"])
    with pytest.raises(ValueError):
        Weight("v", DType.float32, [2], value=np.zeros(3))
    with pytest.raises(LookupError, match="no graph"):
        w + 1  # noqa: B018 - outside any graph


def test_metadata_and_serialization(tmp_path) -> None:
    g = Graph("saved", lambda x: ops.softmax(x * 3),
              input_types=[TensorType(DType.float32, ["batch", 10])])
    g.set_metadata("author", "tests")
    path = tmp_path / "g.kiln"
    g.save(path)
    loaded = Graph.load(path)
    assert loaded.name == "saved"
    assert loaded.get_metadata("author") == "tests"
    assert loaded.get_metadata("missing") is None
    assert [v.type for v in loaded.inputs] == [v.type for v in g.inputs]
    assert loaded.output_types == g.output_types
    data = g.to_bytes()
    assert data and Graph.from_bytes(data).name == "saved"
    assert [n["op"] for n in loaded.nodes] == [n["op"] for n in g.nodes]


def test_custom_op_node() -> None:
    with Graph("custom", input_types=[TensorType(DType.float32, [4])]) as g:
        (x,) = g.inputs
        outs = ops.custom("my_plugin_op", DeviceRef.CPU(), [x],
                          [TensorType(DType.float32, [4]), TensorType(DType.int64, [2])],
                          parameters={"alpha": 0.5, "mode": "fast", "count": 3,
                                      "flag": True, "to": DType.int8})
        assert [o.type for o in outs] == [TensorType(DType.float32, [4]),
                                          TensorType(DType.int64, [2])]
        g.output(*outs)


def test_reference_linear_example() -> None:
    """Adapted from the Graph example in MAX's reference (a Linear layer as forward)."""

    class Linear:
        def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
            self.weight, self.bias = weight, bias

        def __call__(self, x: TensorValue) -> TensorValue:
            weight = ops.constant(self.weight, dtype=DType.float32, device=DeviceRef.CPU())
            bias = ops.constant(self.bias, dtype=DType.float32, device=DeviceRef.CPU())
            return ops.matmul(x, weight) + bias

    linear_graph = Graph("linear", Linear(np.ones((2, 2)), np.ones((2,))),
                         input_types=[TensorType(DType.float32, (2,))])
    assert linear_graph.output_types[0].shape == [2]


def test_reference_tensor_value_examples() -> None:
    """Adapted from the TensorValue examples in MAX's reference."""
    matrix = np.array([[1, 2], [3, 4]], dtype=np.float32)
    with Graph("tensor_demo"):
        tensor = ops.constant(matrix, dtype=DType.float32, device=DeviceRef.CPU())
        assert tensor.shape == [2, 2] and tensor.dtype == DType.float32 and tensor.rank == 2
        assert tensor.T.shape == [2, 2]
        assert (tensor * 2).shape == [2, 2]
        assert tensor.broadcast_to((3, 2, 2)).shape == [3, 2, 2]
        assert tensor.cast(DType.int32).dtype == DType.int32
        assert tensor.flatten().shape == [4]
        assert tensor.reshape((1, 4)).shape == [1, 4]
    with Graph("transpose_demo"):
        tensor = ops.constant(np.array([[1, 2, 3], [4, 5, 6]], np.float32), DType.float32,
                              DeviceRef.CPU())
        assert tensor.transpose(dim_1=0, dim_2=1).shape == [3, 2]
