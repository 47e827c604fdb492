"""Graph built in Python -> .kiln file -> `kiln run` (the CLI) -> .npy -> NumPy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from kiln import engine
from kiln.dtype import DType
from kiln.graph import Graph, TensorType, Weight, ops


def run_cli(kiln_cli: Path, graph_path: Path, inputs: dict, out_dir: Path) -> dict:
    args = [str(kiln_cli), "run", str(graph_path), "--output-dir", str(out_dir),
            "--device", "cpu"]
    for name, path in inputs.items():
        args += ["--input", f"{name}={path}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"kiln run failed:\n{result.stdout}\n{result.stderr}"
    return {p.stem: np.load(p) for p in out_dir.glob("*.npy")}


def test_python_graph_runs_in_cli(tmp_path: Path, kiln_cli: Path) -> None:
    generator = np.random.default_rng(0)
    w = generator.standard_normal((6, 3)).astype(np.float32)
    weight = Weight("w", DType.float32, [6, 3], value=w)
    graph = Graph(
        "cli", lambda x, y: (ops.softmax(x @ weight), ops.sum(y * 2, axis=0)),
        input_types=[TensorType(DType.float32, ["batch", 6]), TensorType(DType.int32, [4, 2])],
        input_names=["x", "y"])
    graph_path = tmp_path / "cli.kiln"
    graph.save(graph_path)

    x = generator.standard_normal((5, 6)).astype(np.float32)
    y = generator.integers(-5, 5, size=(4, 2)).astype(np.int32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    outputs = run_cli(kiln_cli, graph_path, {"x": tmp_path / "x.npy", "y": tmp_path / "y.npy"},
                      tmp_path / "out")

    model = engine.InferenceSession().load(graph_path)
    names = [spec.name for spec in model.output_metadata]
    assert len(outputs) == 2, f"expected two .npy files, got {sorted(outputs)}"
    by_order = [outputs.get(name) for name in names]
    if any(o is None for o in by_order):  # file names are sanitized output names
        by_order = [outputs[k] for k in sorted(outputs)]

    logits = x @ w
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    expected_softmax = e / e.sum(axis=-1, keepdims=True)
    expected_sum = (y * 2).sum(axis=0, keepdims=True)
    first, second = sorted(by_order, key=lambda a: a.dtype.kind)  # float 'f' before int 'i'
    np.testing.assert_allclose(first, expected_softmax, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(second, expected_sum)

    # The same file through the Python engine agrees with the CLI.
    python_outputs = [o.to_numpy() for o in model.execute(x, y)]
    np.testing.assert_allclose(python_outputs[0], expected_softmax, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(python_outputs[1], expected_sum)


def test_cli_reports_bad_input(tmp_path: Path, kiln_cli: Path) -> None:
    graph = Graph("bad", lambda x: x + 1, input_types=[TensorType(DType.float32, [3])],
                  input_names=["x"])
    graph.save(tmp_path / "bad.kiln")
    np.save(tmp_path / "x.npy", np.ones(3, np.int64))
    result = subprocess.run([str(kiln_cli), "run", str(tmp_path / "bad.kiln"), "--input",
                             f"x={tmp_path / 'x.npy'}", "--output-dir", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "x" in (result.stderr + result.stdout)


def test_kiln_ops_lists_every_op_the_python_package_offers(kiln_cli: Path) -> None:
    """`kiln ops --json`: each function of kiln.graph.ops adds the graph op of its name, or is
    one the CLI lists as composed by the Python package (custom ops aside)."""
    import inspect  # noqa: PLC0415
    import json  # noqa: PLC0415

    result = subprocess.run([str(kiln_cli), "ops", "--json"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    graph_ops = {op["name"] for op in report["ops"]}
    composed = {op["name"] for op in report["python_composed"]}
    assert not composed & graph_ops
    functions = {name for name in ops.__all__
                 if inspect.isfunction(getattr(ops, name))}
    plugin_ops = {"custom", "inplace_custom"}  # emit a plugin's op, named by the caller
    assert composed <= functions, composed - functions
    assert functions - plugin_ops - graph_ops == composed
    for name in ("call", "cond", "while_loop", "print", "hann_window", "as_interleaved_complex"):
        assert name in graph_ops, name

    # The same list and kinds through the C ABI, in process.
    from kiln import _capi  # noqa: PLC0415

    lib = _capi.lib
    names = [_capi.decode(lib.kiln_get_graph_op_name(i))
             for i in range(lib.kiln_get_graph_op_count())]
    assert names == [op["name"] for op in report["ops"]]
    kinds = {1: "kernel", 2: "executor", 3: "control_flow", 4: "effect", 5: "buffer"}
    for op in report["ops"]:
        assert kinds[lib.kiln_get_op_kind(_capi.encode(op["name"]))] == op["kind"], op["name"]
    assert lib.kiln_get_op_kind(_capi.encode("chunk")) == 0  # composed: not a graph op
    assert lib.kiln_get_graph_op_name(len(names)) is None
