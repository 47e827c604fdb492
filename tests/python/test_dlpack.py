"""DLPack exchange with NumPy (both ways, legacy and versioned capsules) and PyTorch."""

from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

from conftest import needs_torch
from kiln.driver import CPU, Tensor
from kiln.dtype import DType

_IsValid = ctypes.pythonapi.PyCapsule_IsValid
_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_IsValid.restype = ctypes.c_int


def capsule_name_is(capsule, name: bytes) -> bool:
    return bool(_IsValid(capsule, name))


@pytest.mark.parametrize("np_type", [np.float32, np.float16, np.int32, np.int64, np.uint8,
                                     np.bool_, np.float64])
def test_numpy_consumes_kiln(np_type) -> None:
    source = (np.arange(12) % 2).astype(np_type).reshape(3, 4)
    tensor = Tensor.from_numpy(source.copy())
    array = np.from_dlpack(tensor)
    np.testing.assert_array_equal(array, source)
    assert np.shares_memory(array, tensor.to_numpy())


def test_numpy_consumes_strided_view() -> None:
    tensor = Tensor.from_numpy(np.arange(20, dtype=np.float32).reshape(4, 5))
    view = tensor[:, 1::2]
    array = np.from_dlpack(view)
    np.testing.assert_array_equal(array, np.arange(20, dtype=np.float32).reshape(4, 5)[:, 1::2])


def test_exported_array_outlives_tensor() -> None:
    tensor = Tensor.from_numpy(np.arange(6, dtype=np.int64))
    array = np.from_dlpack(tensor)
    del tensor
    gc.collect()
    np.testing.assert_array_equal(array, np.arange(6))


def test_kiln_consumes_numpy() -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = Tensor.from_dlpack(source)
    assert tensor.dtype == DType.float32 and tensor.shape == (2, 3)
    source[0, 0] = 42.0
    assert tensor.to_numpy()[0, 0] == 42.0  # no copy
    copied = Tensor.from_dlpack(source, copy=True)
    source[0, 0] = 0.0
    assert copied.to_numpy()[0, 0] == 42.0


@pytest.mark.parametrize("np_type", [np.float16, np.int8, np.uint16, np.bool_, np.float64])
def test_kiln_consumes_numpy_dtypes(np_type) -> None:
    source = (np.arange(10) % 3).astype(np_type)
    tensor = Tensor.from_dlpack(source)
    assert tensor.dtype == DType.from_numpy(np_type)
    np.testing.assert_array_equal(tensor.to_numpy(), source)


def test_kiln_consumes_numpy_strided() -> None:
    source = np.arange(24, dtype=np.int32).reshape(4, 6)[::2, ::3]
    tensor = Tensor.from_dlpack(source)
    np.testing.assert_array_equal(tensor.to_numpy(), source)
    np.testing.assert_array_equal(tensor.contiguous().to_numpy(), source)


def test_kiln_to_kiln() -> None:
    tensor = Tensor.from_numpy(np.arange(3, dtype=np.float32))
    assert Tensor.from_dlpack(tensor) is tensor
    copy = Tensor.from_dlpack(tensor, copy=True)
    assert copy is not tensor
    np.testing.assert_array_equal(copy.to_numpy(), [0, 1, 2])


def test_legacy_and_versioned_capsules() -> None:
    tensor = Tensor.from_numpy(np.arange(4, dtype=np.float32))
    legacy = tensor.__dlpack__()
    assert capsule_name_is(legacy, b"dltensor")
    versioned = tensor.__dlpack__(max_version=(1, 0))
    assert capsule_name_is(versioned, b"dltensor_versioned")
    assert tensor.__dlpack_device__() == (1, 0)

    class Producer:
        def __init__(self, capsule, device=(1, 0)):
            self.capsule, self.device = capsule, device

        def __dlpack__(self, **kwargs):
            return self.capsule

        def __dlpack_device__(self):
            return self.device

    imported = Tensor.from_dlpack(Producer(legacy))
    assert capsule_name_is(legacy, b"used_dltensor")
    np.testing.assert_array_equal(imported.to_numpy(), [0, 1, 2, 3])
    imported_v = Tensor.from_dlpack(Producer(versioned))
    assert capsule_name_is(versioned, b"used_dltensor_versioned")
    np.testing.assert_array_equal(imported_v.to_numpy(), [0, 1, 2, 3])
    with pytest.raises(ValueError):
        Tensor.from_dlpack(Producer(legacy))  # already consumed


def test_unconsumed_capsules_are_freed() -> None:
    cpu = CPU()
    tensor = Tensor(DType.float32, (256, 256))
    before = cpu.stats["num_allocations"]
    for _ in range(50):
        tensor.__dlpack__()
        tensor.__dlpack__(max_version=(1, 0))
    gc.collect()
    assert cpu.stats["num_allocations"] == before


def test_dlpack_copy_and_device_arguments() -> None:
    source = np.arange(4, dtype=np.float32)
    tensor = Tensor.from_numpy(source)
    copied = np.from_dlpack(tensor, copy=True)
    source[0] = 9
    assert copied[0] == 0
    same = np.from_dlpack(tensor, device="cpu")
    assert same[0] == 9


def test_non_dlpack_object() -> None:
    with pytest.raises(TypeError, match="DLPack"):
        Tensor.from_dlpack([1, 2, 3])


@needs_torch
def test_torch_roundtrip() -> None:
    import torch  # noqa: PLC0415

    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    k = Tensor.from_dlpack(t)
    np.testing.assert_array_equal(k.to_numpy(), t.numpy())
    t[0, 0] = 100
    assert k.to_numpy()[0, 0] == 100
    back = torch.from_dlpack(k)
    assert torch.equal(back, t)
    bf = torch.ones(3, dtype=torch.bfloat16)
    kb = Tensor.from_dlpack(bf)
    assert kb.dtype == DType.bfloat16
    assert torch.equal(torch.from_dlpack(kb), bf)


def test_read_only_flag_travels_both_ways() -> None:
    source = np.arange(4, dtype=np.float32)
    source.flags.writeable = False
    tensor = Tensor.from_dlpack(source)  # versioned capsule with the read-only flag
    np.testing.assert_array_equal(tensor.to_numpy(), source)
    assert not tensor.to_numpy().flags.writeable
    assert not np.from_dlpack(tensor).flags.writeable
