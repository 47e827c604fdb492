"""An installed kiln and a third-party plugin built against it, as a user would do it.

Installs the build tree (KILN_TEST_BUILD_DIR) into a temporary prefix, writes the code blocks of
docs/writing-a-plugin.md into an empty folder (they must equal plugins/examples/fused_rms_norm)
and runs the guide's commands there: the plugin is built with find_package(kiln) only and used
from Python. Then the plugin is loaded by every other route (kiln --plugin, KILN_PLUGIN_PATH,
kiln.yaml, the C ABI's custom_extensions, kiln.hpp) and its numbers are checked against numpy.
Every child process gets an environment without KILN_* variables and LD_LIBRARY_PATH, so the
installed kiln must find its library and plugins by itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest

SOURCE = Path(os.environ.get("KILN_SOURCE_DIR") or Path(__file__).resolve().parents[2])
BUILD = Path(os.environ.get("KILN_TEST_BUILD_DIR") or SOURCE / "build")
CMAKE = os.environ.get("KILN_CMAKE") or shutil.which("cmake") or "cmake"
EXAMPLE = SOURCE / "plugins" / "examples" / "fused_rms_norm"
GUIDE = SOURCE / "docs" / "writing-a-plugin.md"
PLUGIN_FILE = "libfused_rms_norm.so"


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KILN_") and k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}
    # The guide says `python3` and `cmake`: make them this interpreter and this cmake.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(Path(CMAKE).parent),
                                   env.get("PATH", "")])
    env.update(extra)
    return env


def run(cmd: List[object], cwd: Path, env: Dict[str, str] = None,
        check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(),
                            capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}\n--- stdout\n{result.stdout}"
                             f"\n--- stderr\n{result.stderr}")
    return result


def guide_blocks() -> Tuple[Dict[str, str], List[str]]:
    """The guide's files (<!-- file: NAME --> before a fenced block) and commands (<!-- run -->)."""
    files: Dict[str, str] = {}
    commands: List[str] = []
    for match in re.finditer(r"<!-- (file: (\S+)|run) -->\n```[\w+-]*\n(.*?)^```$",
                             GUIDE.read_text(), re.S | re.M):
        if match.group(2):
            assert match.group(2) not in files, f"the guide shows {match.group(2)} twice"
            files[match.group(2)] = match.group(3)
        else:
            commands.append(match.group(3))
    return files, commands


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    x64 = x.astype(np.float64)
    return x64 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + eps) * w


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kiln-prefix")
    run([CMAKE, "--install", BUILD, "--prefix", out], cwd=out)
    return out


@pytest.fixture(scope="module")
def guide_dir(prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, str]:
    """An empty folder where the guide's files are written and its commands run."""
    folder = tmp_path_factory.mktemp("my-plugin")
    files, commands = guide_blocks()
    for name, text in files.items():
        (folder / name).write_text(text)
    output = ""
    for command in commands:
        output += run(["bash", "-euo", "pipefail", "-c", command], cwd=folder,
                      env=clean_env(KILN_PREFIX=str(prefix))).stdout
    return folder, output


@pytest.fixture(scope="module")
def plugin(guide_dir: Tuple[Path, str]) -> Path:
    path = guide_dir[0] / "build" / PLUGIN_FILE
    assert path.is_file(), f"the guide's commands did not build {path}"
    return path


@pytest.fixture(scope="module")
def inputs(guide_dir: Tuple[Path, str]) -> Tuple[np.ndarray, np.ndarray, Path, Path]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 8)).astype(np.float32) * 3
    w = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    x_path, w_path = guide_dir[0] / "x.npy", guide_dir[0] / "w.npy"
    np.save(x_path, x)
    np.save(w_path, w)
    return x, w, x_path, w_path


def test_the_guide_shows_the_example_files_exactly() -> None:
    files, commands = guide_blocks()
    example = {p.name: p.read_text() for p in EXAMPLE.iterdir() if p.is_file()}
    assert sorted(files) == sorted(example), "the guide's files and the example's differ"
    for name, text in example.items():
        assert files[name] == text, f"the guide's {name} differs from {EXAMPLE / name}"
    assert commands, "the guide has no <!-- run --> block"


def test_the_install_has_the_documented_layout(prefix: Path) -> None:
    for rel in ["include/kiln/kiln.h", "include/kiln/kiln.hpp", "include/kiln/kiln_plugin.h",
                "include/kiln/kiln_types.h", "lib/libkiln.so", "lib/kiln/plugins/libkiln_cpu.so",
                "bin/kiln", "lib/cmake/kiln/kilnConfig.cmake",
                "lib/cmake/kiln/kilnConfigVersion.cmake", "lib/cmake/kiln/kilnTargets.cmake",
                "lib/pkgconfig/kiln.pc", "lib/kiln/python/kiln/__init__.py"]:
        assert (prefix / rel).exists(), f"{rel} is not installed"


def test_the_installed_kiln_finds_its_library_and_plugins_alone(prefix: Path,
                                                                 tmp_path: Path) -> None:
    out = json.loads(run([prefix / "bin" / "kiln", "plugins", "--json"], cwd=tmp_path).stdout)
    cpu = [p for p in out["plugins"] if p["name"] == "cpu"]
    assert cpu, out
    assert Path(cpu[0]["path"]).resolve() == (prefix / "lib/kiln/plugins/libkiln_cpu.so").resolve()
    assert out["load_errors"] == []
    assert any(d["spec"] == "cpu:0" for d in out["devices"])


def test_pkg_config_builds_and_runs_a_program(prefix: Path, tmp_path: Path) -> None:
    if shutil.which("pkg-config") is None or shutil.which("cc") is None:
        pytest.skip("pkg-config or cc is not installed")
    env = clean_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "kiln"], cwd=tmp_path, env=env).stdout.split()
    (tmp_path / "v.c").write_text(
        '#include <kiln/kiln.h>\n#include <stdio.h>\n'
        'int main(void) { printf("%s\\n", kiln_get_version()); return 0; }\n')
    run(["cc", "v.c", "-o", "v", *flags], cwd=tmp_path, env=env)
    version = run([tmp_path / "v"], cwd=tmp_path).stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version


def test_python_uses_the_custom_op_as_the_guide_says(guide_dir: Tuple[Path, str]) -> None:
    folder, output = guide_dir
    assert "fused_rms_norm and softmax match numpy" in output
    assert (folder / "rms.kiln").is_file()


@pytest.fixture(scope="module")
def consumers(prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("consumer-build")
    run([CMAKE, "-S", SOURCE / "tests/install/consumer", "-B", build,
         f"-DCMAKE_PREFIX_PATH={prefix}"], cwd=build)
    run([CMAKE, "--build", build], cwd=build)
    return build


@pytest.mark.parametrize("program", ["rms_norm_c", "rms_norm_cpp"])
def test_c_and_cpp_programs_get_numpys_numbers(program: str, consumers: Path, plugin: Path,
                                               tmp_path: Path) -> None:
    rows, cols, eps = 3, 37, 1e-3
    out = run([consumers / program, plugin, rows, cols, eps], cwd=tmp_path).stdout
    got = np.array([float(v) for v in out.split()], np.float32).reshape(rows, cols)
    x = (3.0 * np.sin(0.37 * np.arange(rows * cols))).astype(np.float32).reshape(rows, cols)
    w = (0.5 + 0.1 * np.arange(cols)).astype(np.float32)
    np.testing.assert_allclose(got, rms_norm(x, w, eps), rtol=1e-5, atol=1e-6)


def run_model(prefix: Path, folder: Path, inputs: tuple, env: Dict[str, str],
              flags: List[str]) -> List[np.ndarray]:
    x, w, x_path, w_path = inputs
    outdir = folder / "out"
    shutil.rmtree(outdir, ignore_errors=True)
    result = run([prefix / "bin" / "kiln", *flags, "run", folder / "rms.kiln", "--input",
                  f"input0={x_path}", "--input", f"input1={w_path}", "--output-dir", outdir,
                  "--json"], cwd=folder, env=env)
    return [np.load(o["file"]) for o in json.loads(result.stdout)["outputs"]]


@pytest.mark.parametrize("route", ["--plugin", "KILN_PLUGIN_PATH", "kiln.yaml"])
def test_the_cli_loads_the_plugin_by_each_route(route: str, prefix: Path, plugin: Path,
                                                guide_dir: Tuple[Path, str], inputs: tuple,
                                                tmp_path: Path) -> None:
    env, flags = clean_env(), []
    if route == "--plugin":
        flags = ["--plugin", str(plugin)]
    elif route == "KILN_PLUGIN_PATH":
        folder = tmp_path / "plugins"
        folder.mkdir()
        shutil.copy(plugin, folder / PLUGIN_FILE)
        env = clean_env(KILN_PLUGIN_PATH=str(folder))
    else:
        (tmp_path / "kiln.yaml").write_text(f"plugins:\n  - {plugin}\n")
        env = clean_env(KILN_CONFIG=str(tmp_path / "kiln.yaml"))
    y, probs = run_model(prefix, guide_dir[0], inputs, env, flags)
    expected = rms_norm(inputs[0], inputs[1], 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs, softmax(expected), rtol=1e-5, atol=1e-6)


def test_kiln_yaml_in_the_working_folder_is_read(prefix: Path, plugin: Path,
                                                 guide_dir: Tuple[Path, str], inputs: tuple,
                                                 tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(guide_dir[0] / "rms.kiln", folder / "rms.kiln")
    (folder / "kiln.yaml").write_text(f"plugins: [{plugin}]\n")
    (y, _) = run_model(prefix, folder, inputs, clean_env(), [])
    np.testing.assert_allclose(y, rms_norm(inputs[0], inputs[1], 1e-5), rtol=1e-5, atol=1e-6)


def test_a_saved_graph_names_the_plugin_it_needs(prefix: Path, guide_dir: Tuple[Path, str],
                                                 inputs: tuple) -> None:
    x, w, x_path, w_path = inputs
    result = run([prefix / "bin" / "kiln", "run", guide_dir[0] / "rms.kiln", "--input",
                  f"input0={x_path}", "--input", f"input1={w_path}"], cwd=guide_dir[0],
                 check=False)
    assert result.returncode == 1, result
    assert "op 'fused_rms_norm'" in result.stderr, result.stderr
    assert "plugin 'fused_rms_norm' 1.0.0, which is not loaded" in result.stderr, result.stderr


def test_the_plugins_softmax_replaces_the_builtin_one(prefix: Path, plugin: Path,
                                                      guide_dir: Tuple[Path, str]) -> None:
    kiln = prefix / "bin" / "kiln"
    out = json.loads(run([kiln, "--plugin", plugin, "inspect", guide_dir[0] / "rms.kiln",
                          "--placement", "--device", "cpu", "--json"], cwd=guide_dir[0]).stdout)
    chosen = {n["op"]: (n["kernel"], n["plugin"]) for n in out["nodes"]}
    assert chosen["softmax"] == ("fused_rms_norm.softmax.f32", "fused_rms_norm"), out
    assert chosen["fused_rms_norm"] == ("fused_rms_norm.cpu.f32", "fused_rms_norm"), out
    softmax = [n for n in out["nodes"] if n["op"] == "softmax"][0]
    assert any("(plugin 'cpu'): lower priority (0 < 10)" in line
               for line in softmax["passed_over"]), softmax
    listing = run([kiln, "--plugin", plugin, "inspect", "--kernels"], cwd=guide_dir[0]).stdout
    assert "fused_rms_norm.softmax.f32" in listing


def test_plugins_check_describes_the_example(prefix: Path, plugin: Path, tmp_path: Path) -> None:
    kiln = prefix / "bin" / "kiln"
    report = json.loads(run([kiln, "plugins", "--check", plugin, "--json"], cwd=tmp_path).stdout)
    assert report["loaded"] and report["problems"] == [], report
    assert (report["name"], report["version"]) == ("fused_rms_norm", "1.0.0")
    assert report["abi"] == report["host_abi"]
    assert report["needed"] and all(lib["found"] for lib in report["needed"]), report["needed"]
    assert [op["name"] for op in report["ops"]] == ["fused_rms_norm"]
    kernels = {k["name"]: k for k in report["kernels"]}
    assert kernels["fused_rms_norm.cpu.f32"]["usable"]
    assert "replaces 'cpu.softmax" in kernels["fused_rms_norm.softmax.f32"]["note"], kernels
    text = run([kiln, "plugins", "--check", plugin], cwd=tmp_path).stdout
    assert "fused_rms_norm 1.0.0" in text and "no problems found" in text, text


def test_plugins_check_says_what_is_wrong(prefix: Path, tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_text("not a plugin\n")
    result = run([prefix / "bin" / "kiln", "plugins", "--check", fake], cwd=tmp_path, check=False)
    assert result.returncode == 1, result
    assert "not an ELF file" in result.stdout, result.stdout


def test_conformance_checks_the_replaced_softmax(prefix: Path, plugin: Path,
                                                  tmp_path: Path) -> None:
    out = run([prefix / "bin" / "kiln", "conformance", "--plugin", plugin], cwd=tmp_path).stdout
    rows = [line.split() for line in out.splitlines()]
    assert ["fused_rms_norm.softmax.f32", "softmax", "cpu", "float32", "pass"] in \
        [r[:5] for r in rows], out
    assert "custom op: kiln has no reference kernel for it" in out, out
    assert re.search(r"^1 passed, 0 failed, \d+ skipped$", out, re.M), out


def test_conformance_catches_a_wrong_kernel_on_a_third_party_device(prefix: Path,
                                                                     tmp_path: Path) -> None:
    plugins = BUILD / "tests" / "abi" / "plugins"
    kiln = prefix / "bin" / "kiln"
    good = run([kiln, "conformance", "--plugin", plugins / "libfrozen10.so"], cwd=tmp_path).stdout
    assert re.search(r"frozen10\.kernel\s+add\s+frozendev\s+float32\s+pass", good), good
    result = run([kiln, "conformance", "--plugin", plugins / "libwrong_add.so"], cwd=tmp_path,
                 check=False)
    assert result.returncode == 1, result
    assert re.search(r"wrong_add\.kernel\s+add\s+wrongdev\s+float32\s+FAIL\s+output 0: element "
                     r"131 is", result.stdout), result.stdout
    assert "0 passed, 1 failed" in result.stdout, result.stdout
