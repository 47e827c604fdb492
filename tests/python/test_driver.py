"""kiln.driver: devices and tensors (creation, NumPy exchange without copies, views, copies)."""

from __future__ import annotations

import numpy as np
import pytest

import kiln
from conftest import HAVE_ML_DTYPES, needs_ml_dtypes
from kiln import driver
from kiln.driver import CPU, Accelerator, Device, Tensor
from kiln.dtype import DType


# -- devices ---------------------------------------------------------------------------------
def test_cpu_device_properties() -> None:
    cpu = CPU()
    assert cpu.label == "cpu"
    assert cpu.api == "cpu"
    assert cpu.id == 0
    assert cpu.is_host
    assert isinstance(cpu, Device)
    assert str(cpu) == "cpu:0"
    assert "cpu" in repr(cpu)
    assert cpu == CPU() and hash(cpu) == hash(CPU())
    assert cpu != object()
    cpu.synchronize()
    stats = cpu.stats
    assert set(stats) == {"total_memory", "free_memory", "bytes_in_use", "peak_bytes_in_use",
                          "num_allocations"}
    assert all(isinstance(v, int) and v >= 0 for v in stats.values())


def test_cpu_rejects_other_ids() -> None:
    with pytest.raises(ValueError):
        CPU(3)


def test_device_cannot_be_made_directly() -> None:
    with pytest.raises(TypeError):
        Device()


def test_accelerators_listed_or_absent_with_reason() -> None:
    count = driver.accelerator_count()
    assert count >= 0
    if count == 0:
        assert driver.accelerator_api() == "cpu"
        with pytest.raises(LookupError) as info:
            Accelerator()
        message = str(info.value)
        assert "gpu" in message and "cpu:0" in message
        assert isinstance(info.value, kiln.KilnError)
        assert driver.scan_available_devices() == [driver.DeviceSpec.cpu()]
        assert not driver.devices_exist([driver.DeviceSpec.accelerator(0)])
    else:
        gpu = Accelerator()
        assert gpu.label == "gpu" and not gpu.is_host
        assert gpu.api in ("cuda", "hip")
        assert Accelerator(0) == gpu
    with pytest.raises(LookupError):
        Accelerator(count + 5)
    assert driver.devices_exist([driver.DeviceSpec.cpu()])
    assert driver.load_devices([driver.DeviceSpec.cpu()]) == [CPU()]


def test_stats_track_allocations() -> None:
    cpu = CPU()
    before = cpu.stats["bytes_in_use"]
    big = Tensor(DType.float32, (1024, 256))
    assert cpu.stats["bytes_in_use"] >= before + 1024 * 256 * 4 or before == 0
    del big


# -- creation --------------------------------------------------------------------------------
def test_zero_filled_tensor() -> None:
    t = Tensor(DType.float32, (2, 3))
    assert t.dtype == DType.float32
    assert t.shape == (2, 3)
    assert t.rank == 2
    assert t.num_elements == 6
    assert t.element_size == 4
    assert t.is_contiguous and t.is_host
    assert t.device == CPU()
    np.testing.assert_array_equal(t.to_numpy(), np.zeros((2, 3), np.float32))
    assert "float32" in repr(t)
    z = Tensor.zeros([4], DType.int64)
    assert z.shape == (4,) and z.to_numpy().sum() == 0
    s = Tensor(DType.int32, ())
    assert s.rank == 0 and s.num_elements == 1 and s.item() == 0
    e = Tensor(DType.float16, (3, 0))
    assert e.num_elements == 0 and e.to_numpy().shape == (3, 0)


def test_tensor_argument_errors() -> None:
    with pytest.raises(ValueError):
        Tensor(DType.float32, (2, -1))
    with pytest.raises(TypeError):
        Tensor(DType.float32, "abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Tensor(12345, (2,))
    with pytest.raises(TypeError):
        Tensor(DType.float32, (2,), device="cpu")  # type: ignore[arg-type]


@pytest.mark.parametrize("np_type", [np.float32, np.float16, np.float64, np.int8, np.int16,
                                     np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                                     np.uint64, np.bool_])
def test_numpy_roundtrip(np_type) -> None:
    source = (np.arange(12) % 3).astype(np_type).reshape(3, 4)
    tensor = Tensor.from_numpy(source)
    assert tensor.dtype == DType.from_numpy(np_type)
    assert tensor.shape == (3, 4)
    np.testing.assert_array_equal(tensor.to_numpy(), source)


@needs_ml_dtypes
def test_bfloat16_roundtrip() -> None:
    import ml_dtypes  # noqa: PLC0415

    source = np.array([1.0, -2.5, 3.140625], dtype=ml_dtypes.bfloat16)
    tensor = Tensor.from_numpy(source)
    assert tensor.dtype == DType.bfloat16
    back = tensor.to_numpy()
    assert back.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(back, source)
    assert Tensor.scalar(1.5, DType.bfloat16).item() == 1.5


def test_from_numpy_shares_memory() -> None:
    source = np.zeros((2, 3), np.float32)
    tensor = Tensor.from_numpy(source)
    source[1, 2] = 7.0
    assert tensor.to_numpy()[1, 2] == 7.0
    view = tensor.to_numpy()
    view[0, 0] = -1.0
    assert source[0, 0] == -1.0
    assert np.shares_memory(view, source)


def test_from_numpy_copies_what_it_must() -> None:
    strided = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    t = Tensor.from_numpy(strided)
    assert t.is_contiguous
    np.testing.assert_array_equal(t.to_numpy(), strided)
    swapped = np.arange(6, dtype=">i4")
    t2 = Tensor.from_numpy(swapped)
    assert t2.dtype == DType.int32
    np.testing.assert_array_equal(t2.to_numpy(), np.arange(6))


def test_from_numpy_read_only_stays_read_only() -> None:
    source = np.arange(4, dtype=np.float32)
    source.flags.writeable = False
    tensor = Tensor.from_numpy(source)
    out = tensor.to_numpy()
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[0] = 1


def test_from_numpy_unsupported_dtype() -> None:
    with pytest.raises(ValueError, match="complex"):
        Tensor.from_numpy(np.zeros(3, np.complex64))


def test_to_numpy_keeps_tensor_alive() -> None:
    array = Tensor.from_numpy(np.arange(5, dtype=np.int64)).to_numpy()
    import gc  # noqa: PLC0415

    gc.collect()
    np.testing.assert_array_equal(array, np.arange(5))


def test_scalar_and_item() -> None:
    assert Tensor.scalar(3, DType.int32).item() == 3
    assert Tensor.scalar(True, DType.bool).item() is True
    assert Tensor.scalar(2.5, DType.float32).item() == 2.5
    assert Tensor.from_numpy(np.array([[4.0]], np.float32)).item() == 4.0
    with pytest.raises(ValueError):
        Tensor(DType.float32, (2,)).item()


# -- copies, views ---------------------------------------------------------------------------
def test_copy_and_to() -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = Tensor.from_numpy(source)
    copy = tensor.copy()
    source[0, 0] = 100
    assert copy.to_numpy()[0, 0] == 0
    assert tensor.to(CPU()) is tensor
    copy2 = tensor.copy(device=CPU())
    np.testing.assert_array_equal(copy2.to_numpy(), source)


def test_views_share_storage() -> None:
    source = np.arange(24, dtype=np.float32).reshape(4, 6)
    tensor = Tensor.from_numpy(source)
    as_int = tensor.view(DType.int32)
    assert as_int.dtype == DType.int32 and as_int.shape == (4, 6)
    np.testing.assert_array_equal(as_int.to_numpy(), source.view(np.int32))
    reshaped = tensor.view(DType.float32, (6, 4))
    np.testing.assert_array_equal(reshaped.to_numpy(), source.reshape(6, 4))
    with pytest.raises(ValueError):
        tensor.view(DType.float32, (5, 5))
    with pytest.raises(ValueError):
        tensor.view(DType.float64)


@pytest.mark.parametrize("index", [
    0, -1, (slice(None), 2), (slice(1, 3),), (Ellipsis, slice(None, None, 2)),
    (slice(None, None, -1),), (None, 1), (slice(2, 2),), (1, Ellipsis, None),
    (slice(None), slice(None, None, -2)),
], ids=str)
def test_indexing_matches_numpy(index) -> None:
    source = np.arange(24, dtype=np.int32).reshape(4, 6)
    tensor = Tensor.from_numpy(source)
    view = tensor[index]
    expected = source[index]
    assert view.shape == expected.shape
    np.testing.assert_array_equal(view.to_numpy(), expected)
    np.testing.assert_array_equal(view.contiguous().to_numpy(), expected)
    np.testing.assert_array_equal(view.copy().to_numpy(), expected)


def test_indexing_errors() -> None:
    tensor = Tensor(DType.float32, (2, 3))
    with pytest.raises(IndexError):
        tensor[2]
    with pytest.raises(IndexError):
        tensor[0, 0, 0]
    with pytest.raises(IndexError):
        tensor[..., ...]
    with pytest.raises(IndexError):
        tensor[[0, 1]]


def test_setitem_and_inplace_copy() -> None:
    tensor = Tensor(DType.float32, (2, 3))
    tensor[0, 1] = 5.0
    tensor[1] = np.array([1, 2, 3])
    np.testing.assert_array_equal(tensor.to_numpy(), [[0, 5, 0], [1, 2, 3]])
    other = Tensor(DType.float32, (3, 2))
    other.inplace_copy_from(tensor)
    np.testing.assert_array_equal(other.to_numpy().reshape(-1), [0, 5, 0, 1, 2, 3])
    with pytest.raises(ValueError):
        other.inplace_copy_from(Tensor(DType.int32, (6,)))


def test_non_contiguous_view_is_not_contiguous() -> None:
    tensor = Tensor.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4))
    column = tensor[:, 1]
    assert not column.is_contiguous
    assert column.strides == (4,)
    solid = column.contiguous()
    assert solid.is_contiguous
    np.testing.assert_array_equal(solid.to_numpy(), [1, 5, 9])


def test_mmap(tmp_path) -> None:
    path = tmp_path / "data.bin"
    data = np.arange(10, dtype=np.float32)
    data.tofile(path)
    tensor = Tensor.mmap(path, DType.float32, (2, 5))
    np.testing.assert_array_equal(tensor.to_numpy(), data.reshape(2, 5))
    offset = Tensor.mmap(path, DType.float32, 4, mode="r", offset=8)
    np.testing.assert_array_equal(offset.to_numpy(), data[2:6])
    assert not offset.to_numpy().flags.writeable


def test_array_protocol_and_len() -> None:
    tensor = Tensor.from_numpy(np.arange(6, dtype=np.int16).reshape(2, 3))
    np.testing.assert_array_equal(np.asarray(tensor), np.arange(6).reshape(2, 3))
    assert np.asarray(tensor, dtype=np.float64).dtype == np.float64
    assert len(tensor) == 2
    with pytest.raises(TypeError):
        len(Tensor(DType.int32, ()))


def test_bfloat16_without_ml_dtypes_message() -> None:
    if HAVE_ML_DTYPES:
        pytest.skip("ml_dtypes is installed; the message path is not reachable")
    with pytest.raises(ValueError, match="ml_dtypes"):
        Tensor(DType.bfloat16, (2,)).to_numpy()
