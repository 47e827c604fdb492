"""Exceptions raised by the kiln package, one class per family of kiln status codes.

Every exception that comes from libkiln derives from :class:`KilnError` *and* from the built-in
exception that fits its code, so callers can catch either ``kiln.KilnError`` (everything kiln
reports) or the usual Python class (``ValueError``, ``LookupError``, ...).
"""

from __future__ import annotations

from typing import Optional

# Status codes of kiln_types.h (kiln_status_code). Kept here so that the exception mapping does
# not need the native library.
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16

CODE_NAMES = {
    OK: "OK",
    CANCELLED: "CANCELLED",
    UNKNOWN: "UNKNOWN",
    INVALID_ARGUMENT: "INVALID_ARGUMENT",
    DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
    NOT_FOUND: "NOT_FOUND",
    ALREADY_EXISTS: "ALREADY_EXISTS",
    PERMISSION_DENIED: "PERMISSION_DENIED",
    RESOURCE_EXHAUSTED: "RESOURCE_EXHAUSTED",
    FAILED_PRECONDITION: "FAILED_PRECONDITION",
    ABORTED: "ABORTED",
    OUT_OF_RANGE: "OUT_OF_RANGE",
    UNIMPLEMENTED: "UNIMPLEMENTED",
    INTERNAL: "INTERNAL",
    UNAVAILABLE: "UNAVAILABLE",
    DATA_LOSS: "DATA_LOSS",
    UNAUTHENTICATED: "UNAUTHENTICATED",
}


class KilnError(Exception):
    """Base of every error reported by kiln.

    Attributes:
        code: the kiln status code (an int, see ``kiln_status_code`` in kiln_types.h), or
            ``None`` for errors raised by the Python layer itself.
        code_name: the code's name (``"INVALID_ARGUMENT"``), or ``None``.
    """

    code: Optional[int] = None

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def code_name(self) -> Optional[str]:
        return None if self.code is None else CODE_NAMES.get(self.code, str(self.code))


class KilnValueError(KilnError, ValueError):
    """A malformed argument: bad shape, dtype, attribute, index or file contents."""


class KilnNotFoundError(KilnError, LookupError):
    """Something named does not exist: a device, plugin, op, weight or input name."""


class KilnFileNotFoundError(KilnNotFoundError, FileNotFoundError):
    """A file that kiln was asked to read does not exist."""


class KilnPermissionError(KilnError, PermissionError):
    """Refused access, e.g. an external weight path that escapes its graph's folder."""


class KilnNotImplementedError(KilnError, NotImplementedError):
    """A valid request that no loaded code implements (e.g. no kernel for a dtype)."""


class KilnMemoryError(KilnError, MemoryError):
    """Out of memory, or a size over one of kiln's stated limits."""


class KilnRuntimeError(KilnError, RuntimeError):
    """Any other failure: wrong state, internal error, unavailable device, closed object."""


_CLASS_BY_CODE = {
    INVALID_ARGUMENT: KilnValueError,
    OUT_OF_RANGE: KilnValueError,
    ALREADY_EXISTS: KilnValueError,
    DATA_LOSS: KilnValueError,
    NOT_FOUND: KilnNotFoundError,
    PERMISSION_DENIED: KilnPermissionError,
    UNIMPLEMENTED: KilnNotImplementedError,
    RESOURCE_EXHAUSTED: KilnMemoryError,
}


def error_for_code(code: int, message: str, *, about_file: bool = False) -> KilnError:
    """Builds the exception that represents a kiln status ``code`` with ``message``.

    ``about_file`` marks calls that read a file named by the caller: a NOT_FOUND from them
    becomes :class:`KilnFileNotFoundError` (so ``except FileNotFoundError`` works).
    """
    if code == NOT_FOUND and about_file:
        return KilnFileNotFoundError(message, code)
    cls = _CLASS_BY_CODE.get(code, KilnRuntimeError)
    return cls(message, code)
