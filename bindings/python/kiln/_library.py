"""Finds and opens libkiln.so, in a fixed, documented order.

1. ``$KILN_LIBRARY``: the path of the shared object itself.
2. ``$KILN_HOME``: an install prefix; ``$KILN_HOME/lib/libkiln.so``.
3. A library shipped inside this package: ``kiln/_native/libkiln.so``.
4. A build tree: ``$KILN_BUILD_DIR/lib/libkiln.so``, else the first ``build/lib/libkiln.so``
   found walking up from this file (a source checkout).
5. The system's search path (``ctypes.util.find_library("kiln")``).

An environment variable that is set is authoritative: if it names no usable library, loading
stops there with an error instead of silently falling through to another copy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Optional, Tuple

LIBRARY_FILE = "libkiln.so"


def _candidates() -> Tuple[List[Tuple[str, Path]], Optional[str]]:
    """Returns (where, path) candidates in search order, and the name of an authoritative
    environment variable when one is set (then it is the only candidate)."""
    explicit = os.environ.get("KILN_LIBRARY")
    if explicit:
        return [("$KILN_LIBRARY", Path(explicit))], "KILN_LIBRARY"
    home = os.environ.get("KILN_HOME")
    if home:
        return [("$KILN_HOME", Path(home) / "lib" / LIBRARY_FILE)], "KILN_HOME"

    found: List[Tuple[str, Path]] = []
    package_dir = Path(__file__).resolve().parent
    found.append(("package", package_dir / "_native" / LIBRARY_FILE))
    build_dir = os.environ.get("KILN_BUILD_DIR")
    if build_dir:
        found.append(("$KILN_BUILD_DIR", Path(build_dir) / "lib" / LIBRARY_FILE))
    for parent in package_dir.parents:
        found.append(("build tree", parent / "build" / "lib" / LIBRARY_FILE))
    return found, None


def find_library() -> Tuple[str, List[str]]:
    """Returns the path of the library to load and the list of places looked at.

    Raises:
        ImportError: when nothing was found; the message lists every place looked at.
    """
    looked: List[str] = []
    candidates, authority = _candidates()
    for where, path in candidates:
        looked.append(f"{where}: {path}")
        if path.is_file():
            return str(path), looked
    if authority is not None:
        raise ImportError(
            f"kiln: ${authority} is set but names no library: {candidates[0][1]} does not "
            "exist. Fix or unset it.")
    system = ctypes.util.find_library("kiln")
    looked.append(f"system search path: {system or 'libkiln not found'}")
    if system:
        return system, looked
    raise ImportError("kiln: cannot find libkiln.so. Looked at:\n  " + "\n  ".join(looked) +
                      "\nSet KILN_LIBRARY to the library's path, KILN_HOME to its install "
                      "prefix, or KILN_BUILD_DIR to a build folder.")


def load_library() -> Tuple[ctypes.CDLL, str]:
    """Opens libkiln and returns it with its path.

    Raises:
        ImportError: not found, or found but not loadable (the loader's reason is included).
    """
    path, looked = find_library()
    try:
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    except OSError as exc:
        raise ImportError(f"kiln: found {path} but could not load it: {exc}\nLooked at:\n  " +
                          "\n  ".join(looked)) from exc
    return lib, path
