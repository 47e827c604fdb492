"""Devices and device-resident tensors.

:func:`CPU` and :func:`Accelerator` give the devices that kiln's plugins registered;
:class:`Tensor` is a reference-counted view of memory on one of them, with NumPy and DLPack
exchange. Host tensors convert to NumPy without copying (the array keeps the tensor alive),
and NumPy arrays become tensors without copying when they are C-contiguous.

Example::

    import numpy as np
    from kiln import driver

    device = driver.CPU() if driver.accelerator_count() == 0 else driver.Accelerator()
    t = driver.Tensor.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3)).to(device)
    print(t.shape, t.dtype, t.device)
"""

from __future__ import annotations

import itertools
import operator
import os
import weakref
from ctypes import byref, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np

from . import _capi, _dlpack
from ._capi import lib
from ._errors import KilnNotFoundError
from ._runtime import Runtime, get_runtime
from .dtype import DType

__all__ = [
    "Accelerator", "CPU", "Device", "DeviceSpec", "Tensor", "accelerator_api",
    "accelerator_count", "devices_exist", "load_devices", "scan_available_devices",
]

ShapeLike = Union[int, Sequence[int]]


# ==========================================================================================
# Devices
# ==========================================================================================
class Device:
    """A device that kiln can allocate on and run kernels on (the host CPU or an accelerator).

    Obtain devices with :class:`CPU` and :class:`Accelerator`, or from ``Tensor.device``; two
    :class:`Device` objects are equal when they name the same device.
    """

    _runtime: Runtime
    _handle: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Instances are made by CPU(), Accelerator() and Device._wrap().
        pass

    def __new__(cls, *args: Any, **kwargs: Any) -> "Device":
        if cls is Device:
            raise TypeError("Device cannot be created directly: use kiln.driver.CPU() or "
                            "kiln.driver.Accelerator()")
        return super().__new__(cls)

    @staticmethod
    def _wrap(runtime: Runtime, handle: int) -> "Device":
        cls = CPU if lib.kiln_device_is_host(handle) else Accelerator
        device = object.__new__(cls)
        device._runtime = runtime
        device._handle = handle
        return device

    @property
    def label(self) -> str:
        """``"cpu"`` for the host, ``"gpu"`` for accelerators."""
        return _capi.decode(lib.kiln_device_get_label(self._handle))

    @property
    def id(self) -> int:
        """Ordinal of the device among those with its label (always 0 for the CPU)."""
        return int(lib.kiln_device_get_id(self._handle))

    @property
    def api(self) -> str:
        """Programming API of the device: ``"cpu"``, ``"cuda"`` or ``"hip"``."""
        return _capi.decode(lib.kiln_device_get_api(self._handle))

    @property
    def name(self) -> str:
        """Human-readable device name reported by its plugin (e.g. ``"NVIDIA H100"``)."""
        return _capi.decode(lib.kiln_device_get_name(self._handle))

    @property
    def is_host(self) -> bool:
        """Whether this is the host (CPU) device."""
        return bool(lib.kiln_device_is_host(self._handle))

    @property
    def is_compatible(self) -> bool:
        """Whether kiln can use the device (always True for a device kiln lists)."""
        return True

    @property
    def stats(self) -> Dict[str, int]:
        """Memory statistics: total, free, in use by kiln, peak, live allocations (bytes;
        0 where the plugin cannot tell)."""
        stats = _capi.new_struct(_capi.DeviceStats)
        lib.kiln_device_get_stats(self._handle, byref(stats))
        return {
            "total_memory": int(stats.total_memory),
            "free_memory": int(stats.free_memory),
            "bytes_in_use": int(stats.bytes_in_use),
            "peak_bytes_in_use": int(stats.peak_bytes_in_use),
            "num_allocations": int(stats.num_allocations),
        }

    def synchronize(self) -> None:
        """Waits until all work queued on the device has finished.

        Raises:
            KilnError: if queued work failed.
        """
        lib.kiln_device_synchronize(self._handle)

    def can_access(self, other: "Device") -> bool:
        """Whether this device can address ``other``'s memory directly (kiln reports only the
        trivial case, a device and itself)."""
        return self == other

    @property
    def spec(self) -> str:
        """The device spec kiln uses for this device (``"cpu"``, ``"gpu:1"``)."""
        if self.is_host:
            return f"cpu:{self.id}" if self.id else "cpu"  # KILN_CPU_DEVICES adds host devices
        return f"gpu:{self.id}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other._handle == self._handle

    def __hash__(self) -> int:
        return hash(self._handle)

    def __repr__(self) -> str:
        return f"Device(type={self.label},id={self.id})"

    def __str__(self) -> str:
        return f"{self.label}:{self.id}"


class CPU(Device):
    """The host CPU device.

    Args:
        id: accepted for MAX compatibility; the CPU is always device 0 (-1 or 0).
    """

    def __new__(cls, id: int = -1) -> "CPU":  # noqa: A002 (MAX's parameter name)
        if id not in (-1, 0):
            raise ValueError(f"kiln has one CPU device (id 0), not id {id}")
        runtime = get_runtime()
        return Device._wrap(runtime, runtime.find_device("cpu"))  # type: ignore[return-value]


class Accelerator(Device):
    """An accelerator (GPU) device.

    Args:
        id: which accelerator; -1 (the default) picks the first one.

    Raises:
        LookupError: (:class:`kiln.KilnNotFoundError`) when there is no such accelerator;
            the message lists the devices that exist and why plugins found none.
    """

    def __new__(cls, id: int = -1) -> "Accelerator":  # noqa: A002
        runtime = get_runtime()
        spec = "gpu" if id < 0 else f"gpu:{id}"
        try:
            handle = runtime.find_device(spec)
        except KilnNotFoundError as exc:
            raise KilnNotFoundError(_no_accelerator_message(runtime, spec, str(exc)),
                                    exc.code) from None
        return Device._wrap(runtime, handle)  # type: ignore[return-value]


def _no_accelerator_message(runtime: Runtime, spec: str, core_message: str) -> str:
    existing = [str(Device._wrap(runtime, h)) for h in runtime.device_handles()]
    lines = [f"no accelerator '{spec}': {core_message}",
             f"devices: {', '.join(existing) or 'none'}"]
    for plugin in runtime.plugins():
        if plugin["device_api"] and plugin["device_api"] != "cpu" and not plugin["num_devices"]:
            note = plugin["device_note"] or "no devices"
            lines.append(f"plugin '{plugin['name']}': {note}")
    for error in runtime.load_errors():
        lines.append(f"plugin {error['path']} failed to load: {error['message']}")
    return "\n".join(lines)


def _all_devices() -> List[Device]:
    runtime = get_runtime()
    return [Device._wrap(runtime, h) for h in runtime.device_handles()]


def accelerator_count() -> int:
    """Number of accelerators kiln's plugins found on this machine."""
    return sum(1 for device in _all_devices() if not device.is_host)


def accelerator_api() -> str:
    """API of the first accelerator (``"cuda"``, ``"hip"``), or ``"cpu"`` when there is none."""
    for device in _all_devices():
        if not device.is_host:
            return device.api
    return "cpu"


@dataclass(frozen=True)
class DeviceSpec:
    """Names a device by kind and id without opening it."""

    id: int
    device_type: Literal["cpu", "gpu"] = "cpu"

    @staticmethod
    def cpu(id: int = -1) -> "DeviceSpec":  # noqa: A002
        return DeviceSpec(id, "cpu")

    @staticmethod
    def accelerator(id: int = 0) -> "DeviceSpec":  # noqa: A002
        return DeviceSpec(id, "gpu")


def load_devices(device_specs: Iterable[DeviceSpec]) -> List[Device]:
    """The devices named by ``device_specs`` (raises if one does not exist)."""
    return [CPU(spec.id) if spec.device_type == "cpu" else Accelerator(spec.id)
            for spec in device_specs]


def scan_available_devices() -> List[DeviceSpec]:
    """Specs of every accelerator, or of the CPU when there is none."""
    count = accelerator_count()
    if count == 0:
        return [DeviceSpec.cpu()]
    return [DeviceSpec.accelerator(i) for i in range(count)]


def devices_exist(devices: Iterable[DeviceSpec]) -> bool:
    """Whether every spec names an existing device."""
    try:
        load_devices(devices)
    except (LookupError, ValueError):
        return False
    return True


# ==========================================================================================
# Tensors
# ==========================================================================================
# NumPy memory borrowed by kiln tensors, kept alive until libkiln's release callback runs.
_borrowed: Dict[int, Any] = {}
_borrow_keys = itertools.count(1)


@_capi.RELEASE_FN
def _release_borrowed(context: Optional[int]) -> None:
    _borrowed.pop(context or 0, None)


def as_c_contiguous(array: np.ndarray) -> np.ndarray:
    """``array`` itself when C-contiguous, else a C-contiguous copy; keeps rank 0 (unlike
    ``np.ascontiguousarray``, which turns a scalar into a 1-element vector)."""
    return array if array.flags.c_contiguous else np.array(array, order="C")


def _as_dtype(dtype: Any) -> DType:
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, int) and not isinstance(dtype, bool):
        try:
            return DType(dtype)
        except ValueError:
            raise ValueError(f"{dtype} is not a kiln dtype code") from None
    if isinstance(dtype, str):
        try:
            return DType[dtype]
        except KeyError:
            raise ValueError(f"unknown dtype name {dtype!r}") from None
    return DType.from_numpy(dtype)


def _as_shape(shape: ShapeLike) -> Tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    if isinstance(shape, (str, bytes)):
        raise TypeError(f"a shape is a sequence of ints, got {shape!r}")
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"a shape is a sequence of ints, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"shape dims must be >= 0, got {list(dims)}")
    return dims


def _default_device(device: Optional[Device]) -> Device:
    if device is None:
        return CPU()
    if not isinstance(device, Device):
        raise TypeError(f"expected a kiln.driver.Device, got {type(device).__name__}")
    return device


# NumPy "typestr" of a same-sized unsigned integer (or bool) for __array_interface__; the
# array is then viewed as the real dtype (needed for ml_dtypes types).
_RAW_TYPESTR = {1: "|u1", 2: "<u2", 4: "<u4", 8: "<u8"}


class _ArrayView:
    """Exposes a host tensor's memory to NumPy; the resulting array keeps it (and so the
    tensor) alive as its base."""

    def __init__(self, tensor: "Tensor", typestr: str) -> None:
        self._tensor = tensor
        itemsize = tensor.element_size
        strides = lib.kiln_tensor_get_strides(tensor._handle)
        rank = tensor.rank
        self.__array_interface__ = {
            "version": 3,
            "shape": tensor.shape,
            "typestr": typestr,
            "data": (int(lib.kiln_tensor_get_data(tensor._handle) or 0), tensor._read_only),
            "strides": tuple(int(strides[i]) * itemsize for i in range(rank)) if rank else None,
        }


class Tensor:
    """A tensor on a kiln device: dtype, shape, strides and a shared reference to storage.

    ``Tensor(dtype, shape, device=None)`` allocates a zero-filled tensor (on the CPU by
    default). Views (``view``, indexing) share storage; storage lives until its last view is
    gone. A tensor keeps its runtime alive.

    Args:
        dtype: element type.
        shape: dims (each >= 0); ``()`` for a scalar.
        device: where to allocate; defaults to the CPU.
        pinned: accepted for MAX compatibility; kiln allocates pageable host memory.
    """

    _handle: Optional[int]
    _read_only: bool

    def __init__(self, dtype: Union[DType, Any], shape: ShapeLike,
                 device: Optional[Device] = None, pinned: bool = False) -> None:
        dtype = _as_dtype(dtype)
        dims = _as_shape(shape)
        device = _default_device(device)
        out = c_void_p()
        lib.kiln_tensor_create(device._handle, int(dtype), _capi.int64_array(dims), len(dims),
                               byref(out))
        self._adopt(out.value, device._runtime)  # type: ignore[arg-type]

    # -- construction helpers -------------------------------------------------------------
    def _adopt(self, handle: int, runtime: Runtime, read_only: bool = False) -> None:
        """Takes ownership of one reference to ``handle``."""
        self._handle = handle
        self._runtime = runtime
        self._read_only = read_only
        self._finalizer = weakref.finalize(self, lib.kiln_tensor_release, handle)
        rank = int(lib.kiln_tensor_get_rank(handle))
        shape_ptr = lib.kiln_tensor_get_shape(handle)
        self._shape = tuple(int(shape_ptr[i]) for i in range(rank)) if rank else ()
        self._dtype = DType(int(lib.kiln_tensor_get_dtype(handle)))

    @classmethod
    def _wrap(cls, handle: int, runtime: Runtime, read_only: bool = False) -> "Tensor":
        tensor = cls.__new__(cls)
        tensor._adopt(handle, runtime, read_only)
        return tensor

    @classmethod
    def zeros(cls, shape: ShapeLike, dtype: Union[DType, Any],
              device: Optional[Device] = None) -> "Tensor":
        """A zero-filled tensor."""
        return cls(dtype, shape, device)

    @classmethod
    def scalar(cls, value: Any, dtype: Union[DType, Any],
               device: Optional[Device] = None) -> "Tensor":
        """A rank-0 tensor holding ``value`` converted to ``dtype``."""
        dtype = _as_dtype(dtype)
        array = np.asarray(value, dtype=dtype.to_numpy()).reshape(())
        return cls._from_host_copy(array, dtype, _default_device(device))

    @classmethod
    def _from_host_copy(cls, array: np.ndarray, dtype: DType, device: Device) -> "Tensor":
        array = as_c_contiguous(array)
        out = c_void_p()
        lib.kiln_tensor_create_from_host(device._handle, int(dtype),
                                         _capi.int64_array(array.shape), array.ndim,
                                         array.ctypes.data_as(c_void_p), array.nbytes,
                                         byref(out))
        return cls._wrap(out.value, device._runtime)  # type: ignore[arg-type]

    @classmethod
    def from_numpy(cls, arr: np.ndarray) -> "Tensor":
        """A host tensor over a NumPy array's memory.

        C-contiguous, aligned, native-endian arrays are not copied: the tensor borrows the
        array's memory and keeps the array alive (writes through either are visible to the
        other). Other arrays are copied to a contiguous array first.

        Raises:
            ValueError: when the array's dtype has no kiln dtype.
        """
        array = np.asarray(arr)
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        dtype = DType.from_numpy(array.dtype)
        if not (array.flags.c_contiguous and array.flags.aligned):
            array = np.array(array, order="C")  # a fresh copy is contiguous and aligned
        device = CPU()
        key = next(_borrow_keys)
        _borrowed[key] = array
        out = c_void_p()
        try:
            lib.kiln_tensor_create_borrowed(device._handle, int(dtype),
                                            _capi.int64_array(array.shape), array.ndim, None,
                                            array.ctypes.data, _release_borrowed, key,
                                            byref(out))
        except BaseException:
            _borrowed.pop(key, None)
            raise
        return cls._wrap(out.value, device._runtime,  # type: ignore[arg-type]
                         read_only=not array.flags.writeable)

    @classmethod
    def from_dlpack(cls, array: Any, *, copy: Optional[bool] = None) -> "Tensor":
        """A tensor over the memory of any DLPack producer (NumPy, PyTorch, another kiln
        tensor ...), normally without copying; ``copy=True`` forces a copy.

        Raises:
            TypeError: ``array`` does not implement ``__dlpack__``.
            KilnError: kiln cannot represent it (unknown device or dtype).
        """
        if isinstance(array, Tensor):
            return array.copy() if copy else array
        if not hasattr(array, "__dlpack__"):
            raise TypeError(f"{type(array).__name__} does not implement the DLPack protocol "
                            "(__dlpack__)")
        runtime = get_runtime()
        try:
            handle, read_only = _dlpack.import_object(runtime.handle, array)
        except BufferError:
            # NumPy refuses DLPack for some arrays (ml_dtypes types, old NumPy and read-only
            # arrays); the borrowed path gives the same zero-copy result.
            if isinstance(array, np.ndarray):
                tensor = cls.from_numpy(array)
                return tensor.copy() if copy else tensor
            raise
        tensor = cls._wrap(handle, runtime, read_only=read_only)
        return tensor.copy() if copy else tensor

    @classmethod
    def mmap(cls, filename: Union[str, "os.PathLike[str]"], dtype: Union[DType, Any],
             shape: ShapeLike, mode: str = "copyonwrite", offset: int = 0) -> "Tensor":
        """A host tensor over a memory-mapped file (``mode`` as for ``numpy.memmap``:
        ``"r"``/``"readonly"``, ``"r+"``/``"readwrite"``, ``"c"``/``"copyonwrite"``,
        ``"w+"``/``"write"``)."""
        dtype = _as_dtype(dtype)
        dims = _as_shape(shape)
        mapped = np.memmap(filename, dtype=dtype.to_numpy(), mode=mode, offset=offset,
                           shape=dims)
        return cls.from_numpy(mapped)

    # -- metadata -------------------------------------------------------------------------
    @property
    def dtype(self) -> DType:
        """Element type."""
        return self._dtype

    @property
    def shape(self) -> Tuple[int, ...]:
        """Dims, as a tuple of ints."""
        return self._shape

    @property
    def rank(self) -> int:
        """Number of dims."""
        return len(self._shape)

    @property
    def num_elements(self) -> int:
        """Number of elements (1 for a rank-0 tensor)."""
        return int(lib.kiln_tensor_get_num_elements(self._live()))

    @property
    def element_size(self) -> int:
        """Bytes per element."""
        return self._dtype.size_in_bytes

    @property
    def strides(self) -> Tuple[int, ...]:
        """Strides in elements (kiln's convention; NumPy's are in bytes)."""
        ptr = lib.kiln_tensor_get_strides(self._live())
        return tuple(int(ptr[i]) for i in range(self.rank)) if self.rank else ()

    @property
    def is_contiguous(self) -> bool:
        """Whether the elements are laid out densely in C order."""
        return bool(lib.kiln_tensor_is_contiguous(self._live()))

    @property
    def device(self) -> Device:
        """The device the storage lives on."""
        return Device._wrap(self._runtime, lib.kiln_tensor_get_device(self._live()))

    @property
    def is_host(self) -> bool:
        """Whether the storage is in host memory."""
        return bool(lib.kiln_device_is_host(lib.kiln_tensor_get_device(self._live())))

    @property
    def pinned(self) -> bool:
        """Whether the memory is page-locked (kiln tensors never are)."""
        return False

    def _live(self) -> int:
        handle = getattr(self, "_handle", None)
        if handle is None:
            raise ValueError("this Tensor was not initialized")
        return handle

    # -- copies and views -----------------------------------------------------------------
    def copy(self, device: Optional[Device] = None) -> "Tensor":
        """A deep, contiguous copy on ``device`` (default: this tensor's device)."""
        target = self.device if device is None else _default_device(device)
        out = c_void_p()
        lib.kiln_tensor_copy_to_device(self._live(), target._handle, byref(out))
        return Tensor._wrap(out.value, self._runtime)  # type: ignore[arg-type]

    def to(self, device: Device) -> "Tensor":
        """This tensor if it is already on ``device``, else a copy there."""
        device = _default_device(device)
        return self if device == self.device else self.copy(device)

    def contiguous(self) -> "Tensor":
        """This tensor if it is contiguous, else a contiguous copy on the same device."""
        out = c_void_p()
        lib.kiln_tensor_contiguous(self._live(), byref(out))
        return Tensor._wrap(out.value, self._runtime, self._read_only)  # type: ignore[arg-type]

    def view(self, dtype: Union[DType, Any], shape: Optional[ShapeLike] = None) -> "Tensor":
        """A tensor sharing this one's storage, reinterpreted as ``dtype`` (same element size)
        and, when given, reshaped to ``shape`` (this tensor must then be contiguous).

        Raises:
            ValueError: element sizes differ, element counts differ, or a reshape of a
                non-contiguous tensor was asked for.
        """
        dtype = _as_dtype(dtype)
        if dtype.size_in_bytes != self.element_size:
            raise ValueError(f"cannot view {self.dtype!r} as {dtype!r}: element sizes differ "
                             f"({self.element_size} vs {dtype.size_in_bytes} bytes)")
        if shape is None:
            return self._view(dtype, self.shape, self.strides, 0)
        dims = _as_shape(shape)
        if int(np.prod(dims, dtype=np.int64)) != self.num_elements:
            raise ValueError(f"cannot view {self.num_elements} elements as shape {list(dims)}")
        if not self.is_contiguous:
            raise ValueError("a view with a new shape needs a contiguous tensor; call "
                             ".contiguous() first")
        return self._view(dtype, dims, None, 0)

    def _view(self, dtype: DType, shape: Sequence[int], strides: Optional[Sequence[int]],
              offset: int) -> "Tensor":
        out = c_void_p()
        lib.kiln_tensor_view(self._live(), int(dtype), _capi.int64_array(shape), len(shape),
                             None if strides is None else _capi.int64_array(strides), offset,
                             byref(out))
        return Tensor._wrap(out.value, self._runtime, self._read_only)  # type: ignore[arg-type]

    def __getitem__(self, index: Any) -> "Tensor":
        """Basic NumPy indexing (ints, slices, ``...``, ``None``) as a view sharing storage."""
        shape, strides, offset = _index_view(self.shape, self.strides, index)
        if any(d == 0 for d in shape):
            offset = 0
        return self._view(self.dtype, shape, strides, offset)

    def __setitem__(self, index: Any, value: Any) -> None:
        """Assigns into a host tensor (NumPy semantics, through its memory)."""
        if not self.is_host:
            raise NotImplementedError("item assignment needs a host tensor; copy it to the "
                                      "CPU, assign, and copy back")
        self.to_numpy()[index] = np.asarray(value.to_numpy() if isinstance(value, Tensor)
                                            else value)

    def inplace_copy_from(self, src: "Tensor") -> None:
        """Copies ``src``'s elements (same dtype and element count, any device) into this
        contiguous tensor."""
        if not isinstance(src, Tensor):
            raise TypeError(f"expected a kiln Tensor, got {type(src).__name__}")
        if src.dtype != self.dtype or src.num_elements != self.num_elements:
            raise ValueError(f"cannot copy {src.dtype!r}{list(src.shape)} into "
                             f"{self.dtype!r}{list(self.shape)}")
        host = as_c_contiguous(src._host_array())
        lib.kiln_tensor_write(self._live(), host.ctypes.data_as(c_void_p), host.nbytes)

    # -- NumPy ----------------------------------------------------------------------------
    def to_numpy(self) -> np.ndarray:
        """A NumPy array over this host tensor's memory (no copy; the array keeps the tensor
        alive).

        Raises:
            ValueError: the tensor is not on the host (use ``.to(CPU())`` first), or its
                dtype has no NumPy dtype (bfloat16/float8 without ml_dtypes).
        """
        if not self.is_host:
            raise ValueError(f"to_numpy() needs a host tensor; this one is on {self.device}. "
                             "Use tensor.to(kiln.driver.CPU()).to_numpy()")
        np_dtype = self.dtype.to_numpy()
        if self.num_elements == 0:
            return np.empty(self.shape, dtype=np_dtype)
        typestr = "|b1" if self.dtype == DType.bool else _RAW_TYPESTR[self.element_size]
        array = np.asarray(_ArrayView(self, typestr))
        return array if array.dtype == np_dtype else array.view(np_dtype)

    def _host_array(self) -> np.ndarray:
        return (self if self.is_host else self.to(CPU())).to_numpy()

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        array = self._host_array()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array.copy() if copy else array

    def item(self) -> Any:
        """The value of a one-element tensor as a Python scalar."""
        if self.num_elements != 1:
            raise ValueError(f"item() needs a tensor with one element; shape is "
                             f"{list(self.shape)}")
        return self._host_array().reshape(()).item()

    # -- DLPack ---------------------------------------------------------------------------
    def __dlpack__(self, *, stream: Any = None, max_version: Optional[Tuple[int, int]] = None,
                   dl_device: Optional[Tuple[int, int]] = None,
                   copy: Optional[bool] = None) -> Any:
        """Exports this tensor as a DLPack capsule (versioned when the consumer passes
        ``max_version`` >= (1, 0)). The capsule holds a reference to the tensor."""
        source: Tensor = self
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            if copy is False:
                raise BufferError(f"tensor is on {self.device}; DLPack device {dl_device} "
                                  "needs a copy")
            if tuple(dl_device)[0] != _dlpack.KDL_CPU:
                raise BufferError(f"kiln can export to DLPack device {dl_device} only from "
                                  "a tensor on that device")
            source = self.to(CPU())
        elif copy:
            source = self.copy()
        if not source.is_host:
            source.device.synchronize()
        return _dlpack.export_capsule(source._live(), _dlpack.wants_versioned(max_version))

    def __dlpack_device__(self) -> Tuple[int, int]:
        """(DLPack device type, device id) of the storage."""
        device = self.device
        return (_dlpack.DEVICE_TYPE_BY_API.get(device.api, _dlpack.KDL_CPU), device.id)

    # -- misc ------------------------------------------------------------------------------
    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a rank-0 tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        try:
            where = str(self.device)
        except Exception:  # noqa: BLE001 (repr must not fail)
            where = "?"
        return f"Tensor(dtype={self.dtype.name}, shape={list(self.shape)}, device={where})"


def _index_view(shape: Sequence[int], strides: Sequence[int],
                index: Any) -> Tuple[List[int], List[int], int]:
    """Shape, strides and element offset of ``tensor[index]`` for basic indexing."""
    items = index if isinstance(index, tuple) else (index,)
    if sum(1 for item in items if item is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices: tensor is rank {len(shape)}, {consumed} were "
                         "indexed")
    expanded: List[Any] = []
    for item in items:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - consumed))
        else:
            expanded.append(item)
    if not any(item is Ellipsis for item in items):
        expanded.extend([slice(None)] * (len(shape) - consumed))
    out_shape: List[int] = []
    out_strides: List[int] = []
    offset = 0
    axis = 0
    for item in expanded:
        if item is None:
            out_shape.append(1)
            out_strides.append(0)
            continue
        size, stride = shape[axis], strides[axis]
        if isinstance(item, slice):
            start, stop, step = item.indices(size)
            length = len(range(start, stop, step))
            offset += start * stride if length else 0
            out_shape.append(length)
            out_strides.append(stride * step)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            position = int(item)
            if not -size <= position < size:
                raise IndexError(f"index {position} is out of bounds for axis {axis} with "
                                 f"size {size}")
            offset += (position % size) * stride
        else:
            raise IndexError(f"kiln tensors support basic indexing only (ints, slices, "
                             f"'...', None), not {type(item).__name__}")
        axis += 1
    return out_shape, out_strides, offset
