"""Model-level benchmarks: an MLP and a BERT-base-shaped encoder (hidden 768, 12 heads,
FFN 3072, batch 1, sequence 128, 2 layers), built in kiln through its Python package and, with
the same weights, as an ONNX model run by ONNX Runtime and as PyTorch eager code, in the same
process.

The `onnx` package is not installed here, so the ONNX model is written directly in protobuf wire
format (the few ModelProto fields it needs, numbers from onnx.proto). PyTorch is compared when it
is importable (the set-up script leaves it out: PyPI's Linux wheel pulls ~3 GB of CUDA packages;
the lent GPU machine has it). Prints one JSON object: per model, the median latency of each
engine over --runs executions after --warmup, and the largest difference between the outputs.

    KILN_BUILD_DIR=build PYTHONPATH=bindings/python .venv/bin/python benchmarks/bench_models.py
    ... benchmarks/bench_models.py --device gpu     # kiln on gpu:0 against PyTorch CUDA eager
"""

from __future__ import annotations

import argparse
import json
import struct
import statistics
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

HIDDEN, HEADS, FFN, SEQ, LAYERS = 768, 12, 3072, 128, 2
HEAD_DIM = HIDDEN // HEADS


# ---- weights --------------------------------------------------------------------------------

def make_weights(seed: int) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def dense(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)

    def vector(n: int, scale: float = 0.02, offset: float = 0.0) -> np.ndarray:
        return (offset + scale * rng.standard_normal(n)).astype(np.float32)

    w: Dict[str, np.ndarray] = {
        "mlp.w1": dense(HIDDEN, FFN), "mlp.b1": vector(FFN),
        "mlp.w2": dense(FFN, HIDDEN), "mlp.b2": vector(HIDDEN),
    }
    for layer in range(LAYERS):
        p = f"l{layer}."
        for name in ("q", "k", "v", "o"):
            w[p + "w" + name] = dense(HIDDEN, HIDDEN)
            w[p + "b" + name] = vector(HIDDEN)
        w[p + "w1"], w[p + "b1"] = dense(HIDDEN, FFN), vector(FFN)
        w[p + "w2"], w[p + "b2"] = dense(FFN, HIDDEN), vector(HIDDEN)
        for ln in ("ln1", "ln2"):
            w[p + ln + ".g"] = vector(HIDDEN, 0.1, 1.0)
            w[p + ln + ".b"] = vector(HIDDEN)
    return w


# ---- kiln -------------------------------------------------------------------------------------

def kiln_models(w: Dict[str, np.ndarray]) -> Dict[str, Tuple[Callable, List[Tuple[int, ...]]]]:
    from kiln.graph import ops

    def c(name: str):
        return ops.constant(w[name])

    def linear(x, wname: str, bname: str):
        return ops.add(ops.matmul(x, c(wname)), c(bname))

    def mlp(x):
        return linear(ops.gelu(linear(x, "mlp.w1", "mlp.b1")), "mlp.w2", "mlp.b2")

    def encoder(x):
        for layer in range(LAYERS):
            p = f"l{layer}."

            def heads(t):  # [1, S, H] -> [1, heads, S, d]
                return ops.transpose(ops.reshape(t, [1, SEQ, HEADS, HEAD_DIM]), 1, 2)

            q = heads(linear(x, p + "wq", p + "bq"))
            k = heads(linear(x, p + "wk", p + "bk"))
            v = heads(linear(x, p + "wv", p + "bv"))
            scores = ops.mul(ops.matmul(q, ops.transpose(k, -2, -1)),
                             ops.constant(np.float32(1.0 / np.sqrt(HEAD_DIM))))
            context = ops.matmul(ops.softmax(scores, -1), v)
            context = ops.reshape(ops.transpose(context, 1, 2), [1, SEQ, HIDDEN])
            x = ops.layer_norm(ops.add(linear(context, p + "wo", p + "bo"), x),
                               c(p + "ln1.g"), c(p + "ln1.b"), 1e-12)
            ffn = linear(ops.gelu(linear(x, p + "w1", p + "b1")), p + "w2", p + "b2")
            x = ops.layer_norm(ops.add(ffn, x), c(p + "ln2.g"), c(p + "ln2.b"), 1e-12)
        return x

    return {"mlp": (mlp, [(SEQ, HIDDEN)]), "bert_encoder_2l": (encoder, [(1, SEQ, HIDDEN)])}


# ---- PyTorch eager, the same weights -------------------------------------------------------------

def torch_models(w: Dict[str, np.ndarray], device: str) -> Dict[str, Callable]:
    import torch
    import torch.nn.functional as F

    t = {name: torch.from_numpy(array).to(device) for name, array in w.items()}

    def linear(x, wname: str, bname: str):
        return torch.addmm(t[bname], x.reshape(-1, x.shape[-1]), t[wname]).reshape(
            *x.shape[:-1], t[wname].shape[1])

    def mlp(x):
        return linear(F.gelu(linear(x, "mlp.w1", "mlp.b1")), "mlp.w2", "mlp.b2")

    def encoder(x):
        for layer in range(LAYERS):
            p = f"l{layer}."

            def heads(v):
                return v.reshape(1, SEQ, HEADS, HEAD_DIM).transpose(1, 2)

            q = heads(linear(x, p + "wq", p + "bq"))
            k = heads(linear(x, p + "wk", p + "bk"))
            v = heads(linear(x, p + "wv", p + "bv"))
            scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / np.sqrt(HEAD_DIM))
            context = torch.matmul(torch.softmax(scores, -1), v)
            context = context.transpose(1, 2).reshape(1, SEQ, HIDDEN)
            x = F.layer_norm(linear(context, p + "wo", p + "bo") + x, (HIDDEN,),
                             t[p + "ln1.g"], t[p + "ln1.b"], 1e-12)
            ffn = linear(F.gelu(linear(x, p + "w1", p + "b1")), p + "w2", p + "b2")
            x = F.layer_norm(ffn + x, (HIDDEN,), t[p + "ln2.g"], t[p + "ln2.b"], 1e-12)
        return x

    return {"mlp": mlp, "bert_encoder_2l": encoder}


# ---- ONNX in protobuf wire format -------------------------------------------------------------

def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:  # length-delimited
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _str(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _tensor(name: str, array: np.ndarray) -> bytes:
    code = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}[array.dtype]
    dims = b"".join(_int(1, d) for d in array.shape)
    return dims + _int(2, code) + _str(8, name) + _field(9, np.ascontiguousarray(array).tobytes())


def _value_info(name: str, shape: Sequence[int]) -> bytes:
    dims = b"".join(_field(1, _int(1, d)) for d in shape)
    tensor_type = _int(1, 1) + _field(2, dims)
    return _str(1, name) + _field(2, _field(1, tensor_type))


class OnnxBuilder:
    def __init__(self) -> None:
        self.nodes: List[bytes] = []
        self.initializers: List[bytes] = []
        self.count = 0

    def init(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(_field(5, _tensor(name, array)))
        return name

    def node(self, op: str, inputs: Sequence[str], **attrs) -> str:
        self.count += 1
        out = f"{op.lower()}_{self.count}"
        body = b"".join(_str(1, i) for i in inputs) + _str(2, out) + _str(3, out) + _str(4, op)
        for key, value in attrs.items():
            if isinstance(value, float):
                attr = _str(1, key) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, 1)
            elif isinstance(value, int):
                attr = _str(1, key) + _int(3, value) + _int(20, 2)
            else:  # a list of ints
                attr = _str(1, key) + b"".join(_int(8, v) for v in value) + _int(20, 7)
            body += _field(5, attr)
        self.nodes.append(_field(1, body))
        return out

    def model(self, inputs: Sequence[Tuple[str, Sequence[int]]],
              outputs: Sequence[Tuple[str, Sequence[int]]]) -> bytes:
        graph = b"".join(self.nodes) + _str(2, "bench") + b"".join(self.initializers)
        graph += b"".join(_field(11, _value_info(n, s)) for n, s in inputs)
        graph += b"".join(_field(12, _value_info(n, s)) for n, s in outputs)
        opset = _str(1, "") + _int(2, 20)
        return _int(1, 9) + _str(2, "kiln-bench") + _field(7, graph) + _field(8, opset)


def onnx_models(w: Dict[str, np.ndarray]) -> Dict[str, bytes]:
    def linear(b: OnnxBuilder, x: str, wname: str, bname: str) -> str:
        return b.node("Add", [b.node("MatMul", [x, b.init(wname, w[wname])]),
                              b.init(bname, w[bname])])

    mlp = OnnxBuilder()
    h = mlp.node("Gelu", [linear(mlp, "x", "mlp.w1", "mlp.b1")])
    out = linear(mlp, h, "mlp.w2", "mlp.b2")
    models = {"mlp": mlp.model([("x", (SEQ, HIDDEN))], [(out, (SEQ, HIDDEN))])}

    b = OnnxBuilder()
    split = b.init("split_shape", np.array([1, SEQ, HEADS, HEAD_DIM], np.int64))
    merge = b.init("merge_shape", np.array([1, SEQ, HIDDEN], np.int64))
    scale = b.init("scale", np.array(1.0 / np.sqrt(HEAD_DIM), np.float32))
    x = "x"
    for layer in range(LAYERS):
        p = f"l{layer}."

        def heads(t: str, perm: List[int]) -> str:
            return b.node("Transpose", [b.node("Reshape", [t, split])], perm=perm)

        q = heads(linear(b, x, p + "wq", p + "bq"), [0, 2, 1, 3])
        kt = heads(linear(b, x, p + "wk", p + "bk"), [0, 2, 3, 1])
        v = heads(linear(b, x, p + "wv", p + "bv"), [0, 2, 1, 3])
        scores = b.node("Mul", [b.node("MatMul", [q, kt]), scale])
        context = b.node("MatMul", [b.node("Softmax", [scores], axis=-1), v])
        context = b.node("Reshape", [b.node("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        x = b.node("LayerNormalization",
                   [b.node("Add", [linear(b, context, p + "wo", p + "bo"), x]),
                    b.init(p + "ln1.g", w[p + "ln1.g"]), b.init(p + "ln1.b", w[p + "ln1.b"])],
                   axis=-1, epsilon=1e-12)
        ffn = linear(b, b.node("Gelu", [linear(b, x, p + "w1", p + "b1")]), p + "w2", p + "b2")
        x = b.node("LayerNormalization",
                   [b.node("Add", [ffn, x]),
                    b.init(p + "ln2.g", w[p + "ln2.g"]), b.init(p + "ln2.b", w[p + "ln2.b"])],
                   axis=-1, epsilon=1e-12)
    models["bert_encoder_2l"] = b.model([("x", (1, SEQ, HIDDEN))], [(x, (1, SEQ, HIDDEN))])
    return models


# ---- timing ------------------------------------------------------------------------------------

def median_ms(fn: Callable[[], object], warmup: int, runs: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                        help="gpu: kiln on gpu:0 against PyTorch CUDA eager (no ONNX Runtime)")
    args = parser.parse_args()

    from kiln import driver, engine
    from kiln.dtype import DType
    from kiln.graph import DeviceRef, Graph, TensorType

    weights = make_weights(0)
    rng = np.random.default_rng(1)
    gpu = args.device == "gpu"
    if gpu:
        accelerator = driver.Accelerator(0)
        session = engine.InferenceSession(num_threads=args.threads, devices=[accelerator])
        sync = accelerator.synchronize
    else:
        session = engine.InferenceSession(num_threads=args.threads)
        sync = lambda: None  # noqa: E731
    results: Dict[str, object] = {"device": args.device, "threads": args.threads, "models": {}}
    try:
        import torch
        torch.set_num_threads(args.threads)
        torch_device = "cuda" if gpu else "cpu"
        torch_fns = torch_models(weights, torch_device)
        results["pytorch"] = torch.__version__
        if gpu:
            results["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        torch, torch_fns = None, {}
        results["pytorch"] = "not importable: not compared"
    try:
        if gpu:
            raise ImportError("ONNX Runtime is compared on the CPU only")
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        onnx = onnx_models(weights)
        results["onnxruntime"] = ort.__version__
    except ImportError:
        ort, onnx = None, {}
        results["onnxruntime"] = "not importable: skipped"

    where = DeviceRef.GPU(0) if gpu else DeviceRef.CPU()
    for name, (forward, shapes) in kiln_models(weights).items():
        inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        graph = Graph(name, forward,
                      input_types=[TensorType(DType.float32, s, device=where) for s in shapes])
        model = session.load(graph)
        kiln_inputs = [driver.Tensor.from_numpy(a).to(accelerator) for a in inputs] if gpu \
            else inputs
        kiln_out = model.execute(*kiln_inputs)[0].to_numpy()

        def run_kiln():
            model.execute(*kiln_inputs)
            sync()

        entry: Dict[str, object] = {"kiln_ms": median_ms(run_kiln, args.warmup, args.runs)}
        if gpu:
            entry["kiln_nodes_on_gpu"] = sum(1 for n in model.placement()
                                             if n["device"].startswith("gpu"))
            entry["kiln_nodes"] = len(model.placement())
            replaying = engine.InferenceSession(devices=[accelerator], graph_replay=True)
            replayed = replaying.load(graph)
            replay_out = replayed.execute(*kiln_inputs)[0].to_numpy()
            entry["kiln_graph_replay_ms"] = median_ms(
                lambda: (replayed.execute(*kiln_inputs), sync()), args.warmup, args.runs)
            entry["replay_max_abs_diff"] = float(np.max(np.abs(replay_out - kiln_out)))
        if torch is not None:
            x = torch.from_numpy(inputs[0]).to(torch_device)
            with torch.inference_mode():
                torch_out = torch_fns[name](x).cpu().numpy()

                def run_torch():
                    torch_fns[name](x)
                    if gpu:
                        torch.cuda.synchronize()

                entry["pytorch_ms"] = median_ms(run_torch, args.warmup, args.runs)
            entry["max_abs_diff_pytorch"] = float(np.max(np.abs(torch_out - kiln_out)))
            entry["kiln_over_pytorch"] = entry["kiln_ms"] / entry["pytorch_ms"]
        if ort is not None:
            sess = ort.InferenceSession(onnx[name], options, providers=["CPUExecutionProvider"])
            feed = {"x": inputs[0]}
            ort_out = sess.run(None, feed)[0]
            entry["onnxruntime_ms"] = median_ms(lambda: sess.run(None, feed), args.warmup,
                                                args.runs)
            entry["max_abs_diff"] = float(np.max(np.abs(ort_out - kiln_out)))
            entry["kiln_over_ort"] = entry["kiln_ms"] / entry["onnxruntime_ms"]
        results["models"][name] = entry
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
