"""DLPack exchange: PyCapsules around libkiln's DLPack export, and consumption of other
libraries' capsules, through the CPython capsule API (``ctypes.pythonapi``).

Capsule names follow the DLPack Python specification: a producer hands out ``"dltensor"``
(legacy ``DLManagedTensor``) or ``"dltensor_versioned"`` (``DLManagedTensorVersioned``, DLPack
1.x); a consumer that takes ownership renames it ``"used_dltensor"`` /
``"used_dltensor_versioned"``. A capsule that is destroyed unconsumed calls the managed tensor's
deleter.
"""

from __future__ import annotations

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_int, c_int32, c_int64, c_uint8,
                    c_uint16, c_uint32, c_uint64, c_void_p, py_object)
from typing import Any, Optional, Tuple

from ._capi import lib

# Device types of dlpack.h (DLDeviceType).
KDL_CPU = 1
KDL_CUDA = 2
KDL_CUDA_HOST = 3
KDL_ROCM = 10
DEVICE_TYPE_BY_API = {"cpu": KDL_CPU, "cuda": KDL_CUDA, "hip": KDL_ROCM}

FLAG_READ_ONLY = 1  # DLPACK_FLAG_BITMASK_READ_ONLY
SUPPORTED_VERSION = (1, 0)


class DLDevice(Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DLDataType(Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(Structure):
    _fields_ = [
        ("data", c_void_p),
        ("device", DLDevice),
        ("ndim", c_int32),
        ("dtype", DLDataType),
        ("shape", POINTER(c_int64)),
        ("strides", POINTER(c_int64)),
        ("byte_offset", c_uint64),
    ]


_DELETER = CFUNCTYPE(None, c_void_p)


class DLManagedTensor(Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c_void_p), ("deleter", _DELETER)]


class DLPackVersion(Structure):
    _fields_ = [("major", c_uint32), ("minor", c_uint32)]


class DLManagedTensorVersioned(Structure):
    _fields_ = [
        ("version", DLPackVersion),
        ("manager_ctx", c_void_p),
        ("deleter", _DELETER),
        ("flags", c_uint64),
        ("dl_tensor", DLTensor),
    ]


# Capsule names must outlive the capsules: module-level buffers.
_NAME = ctypes.create_string_buffer(b"dltensor")
_NAME_USED = ctypes.create_string_buffer(b"used_dltensor")
_NAME_V = ctypes.create_string_buffer(b"dltensor_versioned")
_NAME_V_USED = ctypes.create_string_buffer(b"used_dltensor_versioned")


def _addr(buf: "ctypes.Array[ctypes.c_char]") -> int:
    return ctypes.addressof(buf)


# The capsule API, with the GIL held (PYFUNCTYPE). Two flavours of the query functions: on a
# Python object, and on a raw PyObject* (inside the capsule destructor).
_api = ctypes.pythonapi
_PyCapsule_New = ctypes.PYFUNCTYPE(py_object, c_void_p, c_void_p, c_void_p)(
    ("PyCapsule_New", _api))
_PyCapsule_IsValid = ctypes.PYFUNCTYPE(c_int, py_object, c_void_p)(("PyCapsule_IsValid", _api))
_PyCapsule_GetPointer = ctypes.PYFUNCTYPE(c_void_p, py_object, c_void_p)(
    ("PyCapsule_GetPointer", _api))
_PyCapsule_SetName = ctypes.PYFUNCTYPE(c_int, py_object, c_void_p)(("PyCapsule_SetName", _api))
_PyCapsule_IsValid_raw = ctypes.PYFUNCTYPE(c_int, c_void_p, c_void_p)(("PyCapsule_IsValid", _api))
_PyCapsule_GetPointer_raw = ctypes.PYFUNCTYPE(c_void_p, c_void_p, c_void_p)(
    ("PyCapsule_GetPointer", _api))


@CFUNCTYPE(None, c_void_p)
def _capsule_destructor(capsule: int) -> None:
    """Runs when a capsule dies: if nobody consumed it, the managed tensor is deleted."""
    for name, struct in ((_NAME_V, DLManagedTensorVersioned), (_NAME, DLManagedTensor)):
        if _PyCapsule_IsValid_raw(capsule, _addr(name)):
            pointer = _PyCapsule_GetPointer_raw(capsule, _addr(name))
            if pointer:
                managed = struct.from_address(pointer)
                if managed.deleter:
                    managed.deleter(pointer)
            return


_DESTRUCTOR_ADDRESS = ctypes.cast(_capsule_destructor, c_void_p).value


def export_capsule(tensor_handle: int, versioned: bool) -> Any:
    """A new DLPack capsule that holds one reference to the kiln tensor."""
    out = c_void_p()
    if versioned:
        lib.kiln_tensor_to_dlpack_versioned(tensor_handle, byref(out))
        name, struct = _NAME_V, DLManagedTensorVersioned
    else:
        lib.kiln_tensor_to_dlpack(tensor_handle, byref(out))
        name, struct = _NAME, DLManagedTensor
    try:
        return _PyCapsule_New(out.value, _addr(name), _DESTRUCTOR_ADDRESS)
    except BaseException:
        managed = struct.from_address(out.value)
        if managed.deleter:
            managed.deleter(out.value)
        raise


def wants_versioned(max_version: Optional[Tuple[int, int]]) -> bool:
    """Whether a consumer that passed ``max_version`` understands versioned capsules."""
    return max_version is not None and tuple(max_version)[0] >= 1


def _get_capsule(obj: Any) -> Any:
    """Asks ``obj`` for a capsule, preferring the versioned protocol."""
    try:
        return obj.__dlpack__(max_version=SUPPORTED_VERSION)
    except TypeError:
        # A producer that predates DLPack 1.0's keyword arguments.
        return obj.__dlpack__()


def import_object(runtime_handle: int, obj: Any) -> Tuple[int, bool]:
    """Imports a DLPack producer (an object with ``__dlpack__``) without copying.

    Returns the new kiln tensor handle (one reference) and whether the producer marked the
    memory read-only.
    """
    capsule = _get_capsule(obj)
    return import_capsule(runtime_handle, capsule)


def import_capsule(runtime_handle: int, capsule: Any) -> Tuple[int, bool]:
    out = c_void_p()
    if _PyCapsule_IsValid(capsule, _addr(_NAME_V)):
        pointer = _PyCapsule_GetPointer(capsule, _addr(_NAME_V))
        managed = DLManagedTensorVersioned.from_address(pointer)
        if managed.version.major > SUPPORTED_VERSION[0]:
            raise ValueError(f"DLPack version {managed.version.major}.{managed.version.minor} "
                             f"is newer than kiln understands ({SUPPORTED_VERSION[0]}.x)")
        read_only = bool(managed.flags & FLAG_READ_ONLY)
        lib.kiln_tensor_from_dlpack_versioned(runtime_handle, pointer, byref(out))
        _PyCapsule_SetName(capsule, _addr(_NAME_V_USED))
        return out.value, read_only  # type: ignore[return-value]
    if _PyCapsule_IsValid(capsule, _addr(_NAME)):
        pointer = _PyCapsule_GetPointer(capsule, _addr(_NAME))
        lib.kiln_tensor_from_dlpack(runtime_handle, pointer, byref(out))
        _PyCapsule_SetName(capsule, _addr(_NAME_USED))
        return out.value, False  # type: ignore[return-value]
    raise ValueError("__dlpack__() did not return an unconsumed DLPack capsule "
                     "('dltensor' or 'dltensor_versioned')")
