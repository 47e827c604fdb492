"""How the package finds libkiln, and the ImportError it gives when it cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kiln

PACKAGE_ROOT = Path(kiln.__file__).resolve().parents[1]


def import_kiln(env_changes: dict) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key in ("KILN_LIBRARY", "KILN_HOME", "KILN_BUILD_DIR"):
        env.pop(key, None)
    env.update(env_changes)
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    return subprocess.run([sys.executable, "-c", "import kiln; print(kiln.library_path())"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_kiln_library_variable_wins() -> None:
    result = import_kiln({"KILN_LIBRARY": kiln.library_path()})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kiln.library_path()


def test_kiln_home_variable() -> None:
    prefix = Path(kiln.library_path()).parents[1]
    result = import_kiln({"KILN_HOME": str(prefix)})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == prefix / "lib" / "libkiln.so"


def test_build_dir_variable() -> None:
    build = Path(kiln.library_path()).parents[1]
    result = import_kiln({"KILN_BUILD_DIR": str(build)})
    assert result.returncode == 0, result.stderr


def test_missing_library_is_a_clear_import_error(tmp_path: Path) -> None:
    result = import_kiln({"KILN_LIBRARY": str(tmp_path / "nope.so")})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "KILN_LIBRARY" in result.stderr and "nope.so" in result.stderr


def test_unloadable_library_is_a_clear_import_error(tmp_path: Path) -> None:
    fake = tmp_path / "libkiln.so"
    fake.write_bytes(b"not a shared object")
    result = import_kiln({"KILN_LIBRARY": str(fake)})
    assert result.returncode != 0
    assert "could not load" in result.stderr


def test_search_lists_every_place(tmp_path: Path) -> None:
    # A copy of the package far from any build tree, no variables set.
    import shutil  # noqa: PLC0415

    copy = tmp_path / "pkg"
    shutil.copytree(PACKAGE_ROOT / "kiln", copy / "kiln",
                    ignore=shutil.ignore_patterns("__pycache__", "_native"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("KILN_LIBRARY", "KILN_HOME", "KILN_BUILD_DIR", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(copy)
    result = subprocess.run([sys.executable, "-c", "import kiln"], capture_output=True,
                            text=True, env=env, timeout=120, cwd=tmp_path)
    if result.returncode == 0:  # an installed libkiln on the system path
        return
    assert "cannot find libkiln.so" in result.stderr
    assert "package" in result.stderr and "build tree" in result.stderr
