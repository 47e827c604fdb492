// DLPack interchange: dtype and device mapping, export contexts, validated zero-copy import.
#include "runtime/dlpack.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "ir/limits.h"
#include "runtime/device.h"
#include "runtime/runtime.h"

namespace kiln {
namespace {

struct DtypeMapping {
  DType dtype;
  uint8_t code;
  uint8_t bits;
};

// float8 has no code in DLPack 1.0 and is refused both ways.
constexpr DtypeMapping kDtypes[] = {
    {DType::kBool, kDLBool, 8},        {DType::kFloat16, kDLFloat, 16},
    {DType::kBFloat16, kDLBfloat, 16}, {DType::kFloat32, kDLFloat, 32},
    {DType::kFloat64, kDLFloat, 64},   {DType::kUInt8, kDLUInt, 8},
    {DType::kInt8, kDLInt, 8},         {DType::kUInt16, kDLUInt, 16},
    {DType::kInt16, kDLInt, 16},       {DType::kUInt32, kDLUInt, 32},
    {DType::kInt32, kDLInt, 32},       {DType::kUInt64, kDLUInt, 64},
    {DType::kInt64, kDLInt, 64},
};

StatusOr<DLDataType> to_dl_dtype(DType dtype) {
  for (const DtypeMapping& m : kDtypes)
    if (m.dtype == dtype) return DLDataType{m.code, m.bits, 1};
  return unimplemented("dtype " + dtype_name(dtype) + " has no DLPack 1.0 code");
}

StatusOr<DType> from_dl_dtype(const DLDataType& t) {
  if (t.lanes != 1) {
    return invalid_argument("DLPack dtype has " + std::to_string(t.lanes) +
                            " lanes; kiln supports only 1");
  }
  for (const DtypeMapping& m : kDtypes)
    if (m.code == t.code && m.bits == t.bits) return m.dtype;
  return invalid_argument("DLPack dtype (code " + std::to_string(t.code) + ", bits " +
                          std::to_string(t.bits) + ") has no kiln dtype");
}

StatusOr<DLDevice> to_dl_device(const kiln_device* handle) {
  const Device& d = *handle->device;
  if (d.is_host()) return DLDevice{kDLCPU, 0};
  if (d.api_name() == "cuda") return DLDevice{kDLCUDA, d.ordinal()};
  if (d.api_name() == "hip") return DLDevice{kDLROCM, d.ordinal()};
  return unimplemented("device " + handle->spec + " (API '" + d.api_name() +
                       "') has no DLPack device type");
}

StatusOr<kiln_device*> from_dl_device(Runtime& runtime, const DLDevice& d) {
  const std::string where = "DLPack device (type " + std::to_string(d.device_type) + ", id " +
                            std::to_string(d.device_id) + ")";
  switch (d.device_type) {
    case kDLCPU:
    case kDLCUDAHost:
    case kDLROCMHost:
      if (kiln_device* host = runtime.host_device()) return host;
      return not_found(where + ": this runtime has no host device (is the cpu plugin loaded?)");
    case kDLCUDA:
    case kDLROCM: {
      const std::string spec = std::string(d.device_type == kDLCUDA ? "cuda" : "hip") + ":" +
                               std::to_string(d.device_id);
      if (d.device_id < 0) return invalid_argument(where + ": negative device id");
      auto found = runtime.find_device(spec);
      if (!found.is_ok()) return found.status().with_context(where);
      return found;
    }
    default:
      return unimplemented(where + ": kiln imports only CPU, CUDA, CUDA host and ROCm tensors");
  }
}

template <typename Managed>
struct ExportContext {
  kiln_tensor* tensor = nullptr;  // one reference
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  Managed managed{};
};

template <typename Managed>
void delete_export(Managed* self) {
  auto* ctx = static_cast<ExportContext<Managed>*>(self->manager_ctx);
  tensor_release(ctx->tensor);
  delete ctx;
}

template <typename Managed>
StatusOr<Managed*> export_common(kiln_tensor* tensor) {
  KILN_ASSIGN_OR_RETURN(DLDataType dtype, to_dl_dtype(tensor->dtype));
  KILN_ASSIGN_OR_RETURN(DLDevice device, to_dl_device(tensor->device()));
  auto* ctx = new ExportContext<Managed>;
  ctx->tensor = tensor_retain(tensor);
  ctx->shape = tensor->shape;
  ctx->strides = tensor->strides;
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = tensor->data();
  dl.device = device;
  dl.ndim = static_cast<int32_t>(tensor->shape.size());
  dl.dtype = dtype;
  dl.shape = ctx->shape.empty() ? nullptr : ctx->shape.data();
  dl.strides = ctx->strides.empty() ? nullptr : ctx->strides.data();
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = delete_export<Managed>;
  return &ctx->managed;
}

template <typename Managed>
void call_deleter(void* context) {
  auto* managed = static_cast<Managed*>(context);
  if (managed->deleter != nullptr) managed->deleter(managed);
}

template <typename Managed>
StatusOr<TensorPtr> import_common(Runtime& runtime, Managed* managed, bool read_only) {
  const DLTensor& dl = managed->dl_tensor;
  if (dl.ndim < 0 || static_cast<size_t>(dl.ndim) > kMaxRank) {
    return invalid_argument("DLPack tensor has ndim " + std::to_string(dl.ndim) +
                            " (kiln allows 0 to " + std::to_string(kMaxRank) + ")");
  }
  if (dl.ndim > 0 && dl.shape == nullptr) {
    return invalid_argument("DLPack tensor has ndim " + std::to_string(dl.ndim) + " but no shape");
  }
  KILN_ASSIGN_OR_RETURN(DType dtype, from_dl_dtype(dl.dtype));
  std::vector<int64_t> shape(dl.shape, dl.shape + dl.ndim);
  for (int32_t d = 0; d < dl.ndim; ++d) {
    if (shape[d] < 0) {
      return invalid_argument("DLPack tensor has shape[" + std::to_string(d) +
                              "] = " + std::to_string(shape[d]));
    }
  }
  std::vector<int64_t> strides = dl.strides == nullptr
                                     ? contiguous_strides(shape)
                                     : std::vector<int64_t>(dl.strides, dl.strides + dl.ndim);
  if (dl.byte_offset > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return invalid_argument("DLPack byte_offset " + std::to_string(dl.byte_offset) +
                            " is too large");
  }
  KILN_ASSIGN_OR_RETURN(kiln_device * device, from_dl_device(runtime, dl.device));
  void* element0 = dl.data == nullptr ? nullptr : static_cast<char*>(dl.data) + dl.byte_offset;
  auto tensor = tensor_wrap_external(device, dtype, shape, strides, element0, call_deleter<Managed>,
                                     managed, read_only);
  if (!tensor.is_ok()) return tensor.status().with_context("DLPack import");
  return tensor;
}

}  // namespace

StatusOr<DLManagedTensorVersioned*> export_dlpack_versioned(kiln_tensor* tensor) {
  KILN_ASSIGN_OR_RETURN(DLManagedTensorVersioned * managed,
                        export_common<DLManagedTensorVersioned>(tensor));
  managed->version = {kDLPackMajorVersion, kDLPackMinorVersion};
  managed->flags = tensor->storage->read_only ? kDLPackFlagBitmaskReadOnly : 0;
  return managed;
}

StatusOr<DLManagedTensor*> export_dlpack(kiln_tensor* tensor) {
  return export_common<DLManagedTensor>(tensor);
}

StatusOr<TensorPtr> import_dlpack_versioned(Runtime& runtime, DLManagedTensorVersioned* managed) {
  // The version must be checked before any other field is read: a newer major may move them.
  if (managed->version.major != kDLPackMajorVersion) {
    return invalid_argument("DLPack tensor has version " + std::to_string(managed->version.major) +
                            "." + std::to_string(managed->version.minor) + "; kiln reads " +
                            std::to_string(kDLPackMajorVersion) + ".x");
  }
  return import_common(runtime, managed, (managed->flags & kDLPackFlagBitmaskReadOnly) != 0);
}

StatusOr<TensorPtr> import_dlpack(Runtime& runtime, DLManagedTensor* managed) {
  return import_common(runtime, managed, /*read_only=*/false);
}

}  // namespace kiln
