// The C ABI of tensors: creation, reference counting, metadata, copies and views.
#include <vector>

#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/tensor.h"

namespace {

kiln_status* fail(const char* function, const kiln::Status& status) {
  return kiln::make_c_status(status.code(), std::string(function) + ": " + status.message());
}

// Validates dtype and shape and copies the shape.
kiln::StatusOr<std::vector<int64_t>> shape_arg(int32_t dtype, const int64_t* shape, size_t rank) {
  KILN_ASSIGN_OR_RETURN(int64_t count, kiln::checked_element_count(dtype, shape, rank));
  (void)count;
  return rank == 0 ? std::vector<int64_t>() : std::vector<int64_t>(shape, shape + rank);
}

}  // namespace

extern "C" {

kiln_status* kiln_tensor_create(kiln_device* device, int32_t dtype, const int64_t* shape,
                                size_t rank, kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(device);
  KILN_CHECK_ARG(out_tensor);
  auto dims = shape_arg(dtype, shape, rank);
  if (!dims.is_ok()) return fail(__func__, dims.status());
  auto t = kiln::tensor_create_zeroed(device, static_cast<kiln::DType>(dtype), *dims);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_create_from_host(kiln_device* device, int32_t dtype, const int64_t* shape,
                                          size_t rank, const void* data, size_t data_size,
                                          kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(device);
  KILN_CHECK_ARG(out_tensor);
  auto dims = shape_arg(dtype, shape, rank);
  if (!dims.is_ok()) return fail(__func__, dims.status());
  auto t = kiln::tensor_create_from_host(device, static_cast<kiln::DType>(dtype), *dims, data,
                                         data_size);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_create_borrowed(kiln_device* device, int32_t dtype, const int64_t* shape,
                                         size_t rank, const int64_t* strides, void* data,
                                         void (*release)(void* release_context),
                                         void* release_context, kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(device);
  KILN_CHECK_ARG(out_tensor);
  auto dims = shape_arg(dtype, shape, rank);
  if (!dims.is_ok()) return fail(__func__, dims.status());
  std::vector<int64_t> steps = strides == nullptr || rank == 0
                                   ? kiln::contiguous_strides(*dims)
                                   : std::vector<int64_t>(strides, strides + rank);
  auto t = kiln::tensor_wrap_external(device, static_cast<kiln::DType>(dtype), *dims, steps, data,
                                      release, release_context, /*read_only=*/false);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

void kiln_tensor_retain(kiln_tensor* tensor) { kiln::tensor_retain(tensor); }
void kiln_tensor_release(kiln_tensor* tensor) { kiln::tensor_release(tensor); }

int32_t kiln_tensor_get_dtype(const kiln_tensor* tensor) {
  return tensor ? static_cast<int32_t>(tensor->dtype) : KILN_DTYPE_INVALID;
}

size_t kiln_tensor_get_rank(const kiln_tensor* tensor) { return tensor ? tensor->shape.size() : 0; }

const int64_t* kiln_tensor_get_shape(const kiln_tensor* tensor) {
  return tensor && !tensor->shape.empty() ? tensor->shape.data() : nullptr;
}

const int64_t* kiln_tensor_get_strides(const kiln_tensor* tensor) {
  return tensor && !tensor->strides.empty() ? tensor->strides.data() : nullptr;
}

int64_t kiln_tensor_get_num_elements(const kiln_tensor* tensor) {
  return tensor ? tensor->num_elements : 0;
}

size_t kiln_tensor_get_byte_size(const kiln_tensor* tensor) {
  return tensor ? tensor->byte_size() : 0;
}

int32_t kiln_tensor_is_contiguous(const kiln_tensor* tensor) {
  return tensor && tensor->is_contiguous() ? 1 : 0;
}

kiln_device* kiln_tensor_get_device(const kiln_tensor* tensor) {
  return tensor ? tensor->device() : nullptr;
}

void* kiln_tensor_get_data(const kiln_tensor* tensor) { return tensor ? tensor->data() : nullptr; }

kiln_status* kiln_tensor_read(const kiln_tensor* tensor, void* dst, size_t dst_size) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  kiln::Status s = kiln::tensor_read(tensor, dst, dst_size);
  return s.is_ok() ? nullptr : fail(__func__, s);
  KILN_API_END
}

kiln_status* kiln_tensor_write(kiln_tensor* tensor, const void* src, size_t src_size) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  kiln::Status s = kiln::tensor_write(tensor, src, src_size);
  return s.is_ok() ? nullptr : fail(__func__, s);
  KILN_API_END
}

kiln_status* kiln_tensor_copy_to_device(const kiln_tensor* tensor, kiln_device* device,
                                        kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  KILN_CHECK_ARG(device);
  KILN_CHECK_ARG(out_tensor);
  auto t = kiln::tensor_copy_to_device(tensor, device);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_view(kiln_tensor* tensor, int32_t dtype, const int64_t* shape, size_t rank,
                              const int64_t* strides, int64_t offset, kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  KILN_CHECK_ARG(out_tensor);
  auto dims = shape_arg(dtype, shape, rank);
  if (!dims.is_ok()) return fail(__func__, dims.status());
  std::vector<int64_t> steps = strides == nullptr || rank == 0
                                   ? kiln::contiguous_strides(*dims)
                                   : std::vector<int64_t>(strides, strides + rank);
  auto t = kiln::tensor_view(tensor, static_cast<kiln::DType>(dtype), *dims, steps, offset);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_contiguous(kiln_tensor* tensor, kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  KILN_CHECK_ARG(out_tensor);
  auto t = kiln::tensor_contiguous(tensor);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

}  // extern "C"
