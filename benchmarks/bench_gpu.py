"""GPU benchmarks of kiln against PyTorch in the same process, on the same GPU (issue 5's table):

- bf16 and fp16 matmul, n x n x n for n in 4096, 8192: TFLOP/s, kiln / torch.matmul;
- add, softmax and layer_norm over 256 MB float32 tensors ([16384, 4096]): GB/s counting the
  bytes read and written once, against the device-to-device copy bandwidth measured here
  (torch's copy_ of 256 MB) and against PyTorch's own kernels;
- a chain of 1,000 tiny ops (float32[16], add/mul alternating): microseconds per op.

Each figure is the median of --runs timed repetitions after --warmup; a repetition is one call
followed by a device synchronization (kiln: Accelerator.synchronize, torch: cuda.synchronize).
Prints one JSON object.

    KILN_BUILD_DIR=... PYTHONPATH=bindings/python python3 benchmarks/bench_gpu.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable, Dict, List

import numpy as np


def median_s(fn: Callable[[], object], sync: Callable[[], object], warmup: int,
             runs: int) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    args = parser.parse_args()

    import torch
    from kiln import driver, engine
    from kiln.dtype import DType
    from kiln.graph import DeviceRef, Graph, TensorType, ops

    accelerator = driver.Accelerator(0)
    session = engine.InferenceSession(devices=[accelerator])
    gpu = DeviceRef.GPU(0)
    ksync = accelerator.synchronize
    tsync = torch.cuda.synchronize
    results: Dict[str, object] = {"gpu": torch.cuda.get_device_name(0),
                                  "pytorch": torch.__version__, "runs": args.runs}

    def load(name: str, forward: Callable, types: List[TensorType]):
        return session.load(Graph(name, forward, input_types=types))

    def on_gpu(t: "torch.Tensor") -> driver.Tensor:
        # Through the host: the test does not depend on DLPack import of CUDA memory.
        return driver.Tensor.from_numpy(t.cpu().numpy()).to(accelerator)

    # ---- matmul ---------------------------------------------------------------------------
    rows = []
    sizes = [1024] if args.quick else [4096, 8192]
    for dtype, tdtype in ((DType.bfloat16, torch.bfloat16), (DType.float16, torch.float16)):
        for n in sizes:
            a = torch.randn(n, n, device="cuda", dtype=tdtype)
            b = torch.randn(n, n, device="cuda", dtype=tdtype)
            model = load("matmul", lambda x, y: ops.matmul(x, y),
                         [TensorType(dtype, [n, n], device=gpu)] * 2)
            ka, kb = on_gpu(a.float()), on_gpu(b.float())
            # Cast on the GPU side of kiln: inputs are uploaded as float32 then converted once.
            cast = load("cast", lambda x: ops.cast(x, dtype),
                        [TensorType(DType.float32, [n, n], device=gpu)])
            ka, kb = cast.execute(ka)[0], cast.execute(kb)[0]
            kiln_s = median_s(lambda: model.execute(ka, kb), ksync, args.warmup, args.runs)
            torch_s = median_s(lambda: torch.matmul(a, b), tsync, args.warmup, args.runs)
            flops = 2.0 * n ** 3
            rows.append({"dtype": dtype.name, "n": n, "kiln_tflops": flops / kiln_s / 1e12,
                         "torch_tflops": flops / torch_s / 1e12,
                         "kiln_over_torch": torch_s / kiln_s})
    results["matmul"] = rows

    # ---- bandwidth-bound ops ----------------------------------------------------------------
    shape = [1024, 4096] if args.quick else [16384, 4096]
    nbytes = shape[0] * shape[1] * 4
    x = torch.randn(*shape, device="cuda")
    y = torch.randn(*shape, device="cuda")
    out = torch.empty_like(x)
    copy_s = median_s(lambda: out.copy_(x), tsync, args.warmup, args.runs)
    copy_gbs = 2 * nbytes / copy_s / 1e9
    gamma = torch.randn(shape[1], device="cuda")
    beta = torch.randn(shape[1], device="cuda")
    kx, ky = on_gpu(x), on_gpu(y)
    kg, kb = on_gpu(gamma), on_gpu(beta)
    f32 = DType.float32
    cases = {
        "add": (load("add", lambda p, q: ops.add(p, q),
                     [TensorType(f32, shape, device=gpu)] * 2), (kx, ky),
                lambda: torch.add(x, y), 3 * nbytes),
        "softmax": (load("softmax", lambda p: ops.softmax(p, -1),
                         [TensorType(f32, shape, device=gpu)]), (kx,),
                    lambda: torch.softmax(x, -1), 2 * nbytes),
        "layer_norm": (load("layer_norm", lambda p, g, b: ops.layer_norm(p, g, b, 1e-5),
                            [TensorType(f32, shape, device=gpu),
                             TensorType(f32, [shape[1]], device=gpu),
                             TensorType(f32, [shape[1]], device=gpu)]), (kx, kg, kb),
                       lambda: torch.nn.functional.layer_norm(x, (shape[1],), gamma, beta, 1e-5),
                       2 * nbytes),
    }
    bw = {"device_copy_gbs": copy_gbs, "tensor_mb": nbytes / 2 ** 20}
    for name, (model, inputs, torch_fn, moved) in cases.items():
        kiln_s = median_s(lambda: model.execute(*inputs), ksync, args.warmup, args.runs)
        torch_s = median_s(torch_fn, tsync, args.warmup, args.runs)
        bw[name] = {"kiln_gbs": moved / kiln_s / 1e9, "torch_gbs": moved / torch_s / 1e9,
                    "kiln_over_copy": moved / kiln_s / 1e9 / copy_gbs,
                    "kiln_over_torch": torch_s / kiln_s}
    results["bandwidth"] = bw

    # ---- dispatch: 1,000 tiny ops -----------------------------------------------------------
    def chain(p):
        for i in range(1000):
            p = ops.add(p, p) if i % 2 == 0 else ops.mul(p, p)
        return p

    small = load("chain", chain, [TensorType(f32, [16], device=gpu)])
    ks = on_gpu(torch.full((16,), 0.5, device="cuda"))
    kiln_s = median_s(lambda: small.execute(ks), ksync, 2, max(3, args.runs // 2))
    replaying = engine.InferenceSession(devices=[accelerator], graph_replay=True)
    replayed = replaying.load(Graph("chain", chain, input_types=[TensorType(f32, [16], device=gpu)]))
    replay_s = median_s(lambda: replayed.execute(ks), ksync, 2, max(3, args.runs // 2))
    same = np.array_equal(replayed.execute(ks)[0].to_numpy(), small.execute(ks)[0].to_numpy())
    ts = torch.full((16,), 0.5, device="cuda")

    def torch_chain():
        p = ts
        for i in range(1000):
            p = p + p if i % 2 == 0 else p * p
        return p

    torch_s = median_s(torch_chain, tsync, 2, max(3, args.runs // 2))
    results["dispatch_us_per_op"] = {"kiln": kiln_s / 1000 * 1e6,
                                     "kiln_graph_replay": replay_s / 1000 * 1e6,
                                     "replay_matches": bool(same),
                                     "torch_eager": torch_s / 1000 * 1e6}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
