"""Adds nodes to a kiln graph through kiln_graph_add_op: attribute encoding, host data for
constants and weights, and scalar-to-constant conversion.
"""

from __future__ import annotations

import ctypes
from ctypes import byref, c_double, c_int64, c_size_t, c_void_p
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .. import _capi
from .._capi import lib
from ..driver import as_c_contiguous
from ..dtype import DType
from .type import DeviceRef, TensorType
from .value import TensorValue

if TYPE_CHECKING:
    from ..driver import Tensor
    from .graph import Graph

# Enough room for the outputs of any core op; custom ops state their count.
_MIN_OUTPUT_CAPACITY = 16


# ------------------------------------------------------------------------------------------
# Host data in kiln's element encodings
# ------------------------------------------------------------------------------------------
def _bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """Rounds float32 values to bfloat16 (nearest even; NaN stays NaN) and returns the bits
    as uint16, for machines without ml_dtypes."""
    floats = np.array(values, dtype=np.float32, order="C")
    bits = floats.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    rounded = np.where(np.isnan(floats), (bits >> 16) | 0x40, rounded)
    return as_c_contiguous(rounded.astype(np.uint16).reshape(floats.shape))


def _check_representable(values: np.ndarray, dtype: DType) -> None:
    """Raises ValueError when converting ``values`` to ``dtype`` would change them beyond
    rounding (a fraction into an integer type, a value outside an integer range, a finite
    value that becomes infinite)."""
    if values.size == 0 or values.dtype == np.dtype(object):
        return
    if dtype == DType.bool:
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"values {values.ravel()[:4]}... do not fit in bool")
        return
    if dtype.is_integral():
        info = np.iinfo(dtype.to_numpy())
        if values.dtype.kind == "f" and not np.all(np.isfinite(values) &
                                                   (np.floor(values) == values)):
            raise ValueError(f"non-integer values do not fit in {dtype!r}")
        if values.dtype.kind in "fiub":
            low, high = values.min(), values.max()
            if low < info.min or high > info.max:
                raise ValueError(f"values in [{low}, {high}] do not fit in {dtype!r} "
                                 f"[{info.min}, {info.max}]")
        return
    if dtype.is_float() and values.dtype.kind in "fiu":
        limit = {DType.float16: 65504.0, DType.bfloat16: 3.3895313892515355e38,
                 DType.float32: 3.4028234663852886e38}.get(dtype)
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if limit is not None and finite.size and np.max(np.abs(finite.astype(np.float64))) > limit:
            raise ValueError(f"values up to {np.max(np.abs(finite))} overflow {dtype!r}")


def host_array(value: Any, dtype: DType) -> np.ndarray:
    """``value`` as a C-contiguous array whose bytes are kiln's encoding of ``dtype``
    (a uint16 array for bfloat16 without ml_dtypes). Raises ValueError when values do not
    fit."""
    array = np.asarray(value)
    if array.dtype == np.dtype(object):
        raise TypeError(f"cannot make a tensor of {type(value).__name__}")
    try:
        target = dtype.to_numpy()
    except ValueError:
        target = None
    if array.dtype != target:
        _check_representable(array, dtype)
    if target is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            return as_c_contiguous(array.astype(target, copy=False))
    if dtype == DType.bfloat16:
        return _bfloat16_bits(array.astype(np.float32))
    raise ValueError(f"{dtype!r} data needs the ml_dtypes package (pip install ml_dtypes)")


def host_tensor(value: Any, dtype: DType) -> "Tensor":
    """A CPU kiln Tensor holding a copy of ``value`` converted to ``dtype``."""
    from ..driver import CPU, Tensor  # noqa: PLC0415

    if isinstance(value, Tensor):
        if value.dtype != dtype:
            raise ValueError(f"tensor has dtype {value.dtype!r}, expected {dtype!r}")
        return value if value.is_host else value.to(CPU())
    array = host_array(value, dtype)
    device = CPU()
    out = c_void_p()
    lib.kiln_tensor_create_from_host(device._handle, int(dtype),
                                     _capi.int64_array(array.shape), array.ndim,
                                     array.ctypes.data_as(c_void_p), array.nbytes, byref(out))
    return Tensor._wrap(out.value, device._runtime)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Attributes
# ------------------------------------------------------------------------------------------
def _encode_attr(name: str, value: Any, keep: List[Any]) -> _capi.Attr:
    from ..driver import Tensor  # noqa: PLC0415

    attr = _capi.Attr()
    encoded_name = _capi.encode(name)
    keep.append(encoded_name)
    attr.name = encoded_name
    if isinstance(value, DType):
        attr.kind, attr.i = _capi.ATTR_DTYPE, int(value)
    elif isinstance(value, (bool, np.bool_)):
        attr.kind, attr.i = _capi.ATTR_BOOL, int(bool(value))
    elif isinstance(value, (int, np.integer)):
        attr.kind, attr.i = _capi.ATTR_INT, int(value)
    elif isinstance(value, (float, np.floating)):
        attr.kind, attr.f = _capi.ATTR_FLOAT, float(value)
    elif isinstance(value, str):
        text = _capi.encode(value)
        keep.append(text)
        attr.kind, attr.s = _capi.ATTR_STRING, text
    elif isinstance(value, Tensor):
        keep.append(value)
        attr.kind, attr.tensor = _capi.ATTR_TENSOR, value._live()
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if any(isinstance(v, (float, np.floating)) for v in items):
            floats = (c_double * max(len(items), 1))(*[float(v) for v in items])
            keep.append(floats)
            attr.kind, attr.count = _capi.ATTR_FLOATS, len(items)
            attr.floats = ctypes.cast(floats, ctypes.POINTER(c_double))
        else:
            ints = (c_int64 * max(len(items), 1))(*[int(v) for v in items])
            keep.append(ints)
            attr.kind, attr.count = _capi.ATTR_INTS, len(items)
            attr.ints = ctypes.cast(ints, ctypes.POINTER(c_int64))
    else:
        raise TypeError(f"attribute '{name}': unsupported value {value!r} "
                        f"({type(value).__name__})")
    return attr


# ------------------------------------------------------------------------------------------
# Nodes
# ------------------------------------------------------------------------------------------
def value_type(handle: int) -> TensorType:
    spec = _capi.new_struct(_capi.TensorSpecC)
    lib.kiln_value_get_spec(handle, byref(spec))
    return TensorType._from_spec(spec)


def add_op(graph: "Graph", op: str, inputs: Sequence[TensorValue],
           attrs: Optional[Mapping[str, Any]] = None,
           output_types: Optional[Sequence[TensorType]] = None,
           device: Optional[DeviceRef] = None) -> List[TensorValue]:
    """Adds one node and returns its outputs as TensorValues of ``graph``."""
    keep: List[Any] = []
    handles = [value._handle for value in inputs]
    c_inputs = (c_void_p * max(len(handles), 1))(*handles)
    attr_items = list((attrs or {}).items())
    c_attrs = (_capi.Attr * max(len(attr_items), 1))(
        *[_encode_attr(k, v, keep) for k, v in attr_items])
    desc = _capi.new_struct(_capi.OpDesc, op=_capi.encode(op),
                            inputs=ctypes.cast(c_inputs, ctypes.POINTER(c_void_p)),
                            num_inputs=len(handles),
                            attrs=ctypes.cast(c_attrs, ctypes.POINTER(_capi.Attr)),
                            num_attrs=len(attr_items))
    if output_types:
        c_types = (_capi.TensorTypeC * len(output_types))()
        for i, out_type in enumerate(output_types):
            c_types[i], type_keep = out_type._to_c()
            keep.append(type_keep)
        keep.append(c_types)
        desc.output_types = ctypes.cast(c_types, ctypes.POINTER(_capi.TensorTypeC))
        desc.num_output_types = len(output_types)
    if device is not None:
        device_text = _capi.encode(device.spec)
        keep.append(device_text)
        desc.device = device_text
    capacity = max(_MIN_OUTPUT_CAPACITY, len(output_types or ()))
    outputs = (c_void_p * capacity)()
    count = c_size_t(0)
    lib.kiln_graph_add_op(graph._live(), byref(desc), outputs, capacity, byref(count))
    if count.value > capacity:
        raise RuntimeError(f"op '{op}' has {count.value} outputs, more than {capacity}")
    return [TensorValue._make(graph, outputs[i], value_type(outputs[i]))
            for i in range(count.value)]


def constant_value(graph: "Graph", value: Any, dtype: DType,
                   device: Optional[DeviceRef]) -> TensorValue:
    """Adds a ``constant`` node holding ``value`` converted to ``dtype``."""
    tensor = host_tensor(value, dtype)
    return add_op(graph, "constant", [], {"value": tensor}, device=device)[0]


def describe_weight(weight: Any, keep: List[Any]) -> _capi.WeightDesc:
    """The kiln_weight_desc of a :class:`Weight` (inline data when it has a value)."""
    desc = _capi.new_struct(_capi.WeightDesc)
    name = _capi.encode(weight.name)
    shape = weight.type.shape.to_ints()
    c_shape = (c_int64 * max(len(shape), 1))(*shape)
    device = _capi.encode(weight.device.spec)
    keep.extend([name, c_shape, device])
    desc.name = name
    desc.dtype = int(weight.dtype)
    desc.rank = len(shape)
    desc.shape = ctypes.cast(c_shape, ctypes.POINTER(c_int64))
    desc.device = device
    if weight.value is not None:
        data = host_tensor(weight.value, weight.dtype)
        keep.append(data)
        desc.data = data._live()
    return desc


def shape_of(value: Any) -> Tuple[int, ...]:
    return tuple(np.shape(value))


def as_dict(mapping: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    return dict(mapping or {})
