"""Shared set-up of the Python suite: finds the package and the build, and offers helpers to
build, load and run small graphs against NumPy references.

Run by ctest (tests/python/CMakeLists.txt sets KILN_BUILD_DIR and PYTHONPATH), or by hand:
    KILN_BUILD_DIR=build PYTHONPATH=bindings/python .venv/bin/python -m pytest -q tests/python

KILN_TEST_DEVICE=gpu:N runs the graphs that ``run_graph`` builds on that accelerator (inputs
typed on ``gpu:N``, a session over it); nodes it has no kernel for fall back to the CPU. The
summary at the end counts, per op, the nodes that ran on each plugin; with
KILN_TEST_PLACEMENT_REPORT=FILE it is also written to FILE as JSON.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]

try:
    import numpy as np
except ImportError:  # pragma: no cover - reported, not skipped
    pytest.exit(f"numpy is not installed in {sys.executable}; the Python suite needs numpy "
                "and pytest (scripts/setup.sh installs them into .venv)", returncode=1)

if str(REPO / "bindings" / "python") not in sys.path:
    sys.path.insert(0, str(REPO / "bindings" / "python"))


def build_dir() -> Path:
    """The build tree under test."""
    value = os.environ.get("KILN_BUILD_DIR") or os.environ.get("KILN_TEST_BUILD_DIR")
    return Path(value) if value else REPO / "build"


try:
    import kiln  # noqa: E402
except ImportError as exc:  # pragma: no cover - reported, not skipped
    pytest.exit(f"cannot import the kiln package: {exc}", returncode=1)

from kiln import driver, engine  # noqa: E402
from kiln.dtype import DType  # noqa: E402
from kiln.graph import DeviceRef, Graph, TensorType  # noqa: E402

# "" (the CPU) or "gpu:N": where run_graph's graphs run.
TEST_DEVICE = os.environ.get("KILN_TEST_DEVICE", "")
if TEST_DEVICE and not (TEST_DEVICE.startswith("gpu:") and TEST_DEVICE[4:].isdigit()):
    pytest.exit(f"KILN_TEST_DEVICE must be gpu:N, got {TEST_DEVICE!r}", returncode=2)
# op -> plugin -> nodes run there (filled by run_graph when TEST_DEVICE is set).
PLACEMENT_COUNTS: dict = {}

try:
    import ml_dtypes  # noqa: F401

    HAVE_ML_DTYPES = True
except ImportError:
    HAVE_ML_DTYPES = False

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

needs_ml_dtypes = pytest.mark.skipif(not HAVE_ML_DTYPES, reason="ml_dtypes is not installed")
needs_torch = pytest.mark.skipif(not HAVE_TORCH,
                                 reason="PyTorch is not installed (PyPI's Linux wheel pulls "
                                        "CUDA packages; the set-up script leaves it out)")


def _test_device_ref() -> Optional[DeviceRef]:
    return DeviceRef.GPU(int(TEST_DEVICE[4:])) if TEST_DEVICE else None


@pytest.fixture(scope="session")
def session() -> engine.InferenceSession:
    """One session shared by the tests: the CPU, or KILN_TEST_DEVICE's accelerator."""
    if TEST_DEVICE:
        if driver.accelerator_count() <= int(TEST_DEVICE[4:]):
            pytest.exit(f"KILN_TEST_DEVICE={TEST_DEVICE} but this machine has "
                        f"{driver.accelerator_count()} accelerator(s)", returncode=2)
        return engine.InferenceSession(devices=[driver.Accelerator(int(TEST_DEVICE[4:]))])
    return engine.InferenceSession()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not PLACEMENT_COUNTS:
        return
    terminalreporter.section(f"placement of run_graph nodes (KILN_TEST_DEVICE={TEST_DEVICE})")
    for op in sorted(PLACEMENT_COUNTS):
        counts = ", ".join(f"{plugin}: {n}" for plugin, n in
                           sorted(PLACEMENT_COUNTS[op].items()))
        terminalreporter.write_line(f"{op:24s} {counts}")
    report = os.environ.get("KILN_TEST_PLACEMENT_REPORT")
    if report:
        import json
        Path(report).write_text(json.dumps(PLACEMENT_COUNTS, indent=1, sort_keys=True))


@pytest.fixture(scope="session")
def kiln_cli() -> Path:
    path = build_dir() / "bin" / "kiln"
    if not path.exists():
        pytest.fail(f"the kiln CLI is not built: {path}")
    return path


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def np_dtype(dtype: DType) -> Any:
    return dtype.to_numpy()


def random_array(shape: Sequence[int], dtype: DType, generator: np.random.Generator,
                 low: float = -3.0, high: float = 3.0) -> np.ndarray:
    """Random data of ``dtype`` in [low, high) (integers: whole numbers in that range)."""
    if dtype == DType.bool:
        return generator.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.is_integral():
        return generator.integers(int(low), int(high) + 1, size=shape).astype(np_dtype(dtype))
    values = generator.uniform(low, high, size=shape)
    return values.astype(np.float32).astype(np_dtype(dtype))


def run_graph(session: engine.InferenceSession, forward: Callable[..., Any],
              inputs: Sequence[np.ndarray], dtypes: Optional[Sequence[DType]] = None,
              shapes: Optional[Sequence[Sequence[Any]]] = None) -> List[np.ndarray]:
    """Builds a graph of ``forward`` over inputs typed like ``inputs``, loads it and runs it;
    returns the outputs as NumPy arrays."""
    dtypes = list(dtypes) if dtypes is not None else [DType.from_numpy(a.dtype) for a in inputs]
    shapes = list(shapes) if shapes is not None else [a.shape for a in inputs]
    types = [TensorType(d, s, device=_test_device_ref()) for d, s in zip(dtypes, shapes)]
    graph = Graph("test", forward, input_types=types)
    model = session.load(graph)
    if TEST_DEVICE:
        for node in model.placement():
            where = node["plugin"] or "executor"
            counts = PLACEMENT_COUNTS.setdefault(node["op"], {})
            counts[where] = counts.get(where, 0) + 1
    outputs = model.execute(*inputs)
    return [out.to_numpy() for out in outputs]


def assert_close(actual: np.ndarray, expected: np.ndarray, dtype: DType, *,
                 rtol: Optional[float] = None, atol: Optional[float] = None,
                 what: str = "") -> None:
    """Compares with the tolerance stated per dtype (exact for integers and bool)."""
    tolerances = {
        DType.float64: (1e-12, 1e-12),
        DType.float32: (1e-5, 1e-6),
        DType.float16: (2e-3, 2e-3),
        DType.bfloat16: (1.6e-2, 1.6e-2),
    }
    assert actual.shape == tuple(expected.shape), (
        f"{what}: shape {actual.shape} != expected {tuple(expected.shape)}")
    if dtype in tolerances:
        default_rtol, default_atol = tolerances[dtype]
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                                   rtol=rtol if rtol is not None else default_rtol,
                                   atol=atol if atol is not None else default_atol,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


# Dtype groups the op suites sweep.
FLOATS = [DType.float32, DType.float64, DType.float16] + (
    [DType.bfloat16] if HAVE_ML_DTYPES else [])
SIGNED = [DType.int8, DType.int16, DType.int32, DType.int64]
UNSIGNED = [DType.uint8, DType.uint16, DType.uint32, DType.uint64]
INTS = SIGNED + UNSIGNED
NUMERIC = FLOATS + INTS


def case_seed(*parts: Any) -> int:
    """A stable seed per test case (its parameters), so each case draws its own data."""
    return zlib.crc32(repr(parts).encode()) % 10000


def to_f64(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype(np.float64)


def cast_ref(values: np.ndarray, dtype: DType) -> np.ndarray:
    """A float64 reference rounded to `dtype` as NumPy rounds it."""
    with np.errstate(all="ignore"):
        return np.asarray(values).astype(dtype.to_numpy())
