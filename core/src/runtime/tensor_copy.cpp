// Tensor data movement: reads in C order from any strides, writes, copies between any two
// devices. Memory of a non-host device is staged through host memory (device to host, then host
// to device), which is always correct; direct device-to-device copies are used within a device.
#include <cstring>
#include <vector>

#include "runtime/device.h"
#include "runtime/runtime.h"
#include "runtime/tensor.h"

namespace kiln {
namespace {

// Copies the elements of a strided view, in C order, to dst. `origin` points at element 0;
// every element address is origin + sum(index * stride) * elem.
void gather(const uint8_t* origin, const std::vector<int64_t>& shape,
            const std::vector<int64_t>& strides, size_t elem, uint8_t* dst) {
  const size_t rank = shape.size();
  if (rank == 0) {
    std::memcpy(dst, origin, elem);
    return;
  }
  const int64_t inner = shape[rank - 1];
  const int64_t inner_stride = strides[rank - 1];
  std::vector<int64_t> index(rank - 1, 0);
  int64_t offset = 0;  // elements, of the current row's first element
  while (true) {
    if (inner_stride == 1) {
      std::memcpy(dst, origin + offset * static_cast<int64_t>(elem),
                  static_cast<size_t>(inner) * elem);
      dst += static_cast<size_t>(inner) * elem;
    } else {
      for (int64_t i = 0; i < inner; ++i, dst += elem) {
        std::memcpy(dst, origin + (offset + i * inner_stride) * static_cast<int64_t>(elem), elem);
      }
    }
    // Next row: an odometer over the outer dims.
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank == 1) return;
  }
}

// The inverse of gather: writes C-ordered `src` into the elements of a strided view.
void scatter(uint8_t* origin, const std::vector<int64_t>& shape,
             const std::vector<int64_t>& strides, size_t elem, const uint8_t* src) {
  const size_t rank = shape.size();
  std::vector<int64_t> index(rank, 0);
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  int64_t offset = 0;  // elements from element 0 to the current one
  for (int64_t n = 0; n < count; ++n, src += elem) {
    std::memcpy(origin + offset * static_cast<int64_t>(elem), src, elem);
    for (size_t d = rank; d-- > 0;) {  // odometer, innermost dim first
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

// Lowest and highest element index (relative to element 0) of a non-empty view.
void extent(const kiln_tensor& t, int64_t* lo, int64_t* hi) {
  *lo = 0;
  *hi = 0;
  for (size_t d = 0; d < t.shape.size(); ++d) {
    const int64_t span = t.strides[d] * (t.shape[d] - 1);  // checked when the view was made
    (span >= 0 ? *hi : *lo) += span;
  }
}

}  // namespace

Status tensor_read(const kiln_tensor* t, void* dst, size_t dst_size) {
  const size_t bytes = t->byte_size();
  if (dst_size != bytes) {
    return invalid_argument("dst_size is " + std::to_string(dst_size) +
                            " bytes but the tensor has " + std::to_string(bytes));
  }
  if (bytes == 0) return Status::ok();
  if (dst == nullptr) return invalid_argument("dst is NULL");
  Device* device = t->device()->device;
  if (t->is_contiguous()) {
    if (device->is_host()) {
      std::memcpy(dst, t->data(), bytes);
      return Status::ok();
    }
    return device->copy(KILN_COPY_DEVICE_TO_HOST, dst, t->data(), bytes);
  }
  const size_t elem = t->element_size();
  if (device->is_host()) {
    gather(static_cast<const uint8_t*>(t->data()), t->shape, t->strides, elem,
           static_cast<uint8_t*>(dst));
    return Status::ok();
  }
  // Stage the span of device memory the view covers, then gather on the host.
  int64_t lo = 0, hi = 0;
  extent(*t, &lo, &hi);
  std::vector<uint8_t> staging(static_cast<size_t>(hi - lo + 1) * elem);
  const uint8_t* first = static_cast<const uint8_t*>(t->data()) + lo * static_cast<int64_t>(elem);
  KILN_RETURN_IF_ERROR(
      device->copy(KILN_COPY_DEVICE_TO_HOST, staging.data(), first, staging.size()));
  gather(staging.data() + static_cast<size_t>(-lo) * elem, t->shape, t->strides, elem,
         static_cast<uint8_t*>(dst));
  return Status::ok();
}

Status tensor_write(kiln_tensor* t, const void* src, size_t src_size) {
  const size_t bytes = t->byte_size();
  if (t->storage->read_only) {
    return failed_precondition("the tensor is read-only (a read-only DLPack import)");
  }
  if (!t->is_contiguous()) {
    return failed_precondition("the tensor is not contiguous; write into a contiguous tensor");
  }
  if (src_size != bytes) {
    return invalid_argument("src_size is " + std::to_string(src_size) +
                            " bytes but the tensor has " + std::to_string(bytes));
  }
  if (bytes == 0) return Status::ok();
  if (src == nullptr) return invalid_argument("src is NULL");
  Device* device = t->device()->device;
  if (device->is_host()) {
    std::memcpy(t->data(), src, bytes);
    return Status::ok();
  }
  return device->copy(KILN_COPY_HOST_TO_DEVICE, t->data(), src, bytes);
}

StatusOr<TensorPtr> tensor_copy_to_device(const kiln_tensor* t, kiln_device* target) {
  KILN_ASSIGN_OR_RETURN(TensorPtr out, tensor_allocate(target, t->dtype, t->shape));
  const size_t bytes = t->byte_size();
  if (bytes == 0) return out;
  Device* src = t->device()->device;
  Device* dst = target->device;
  if (dst->is_host()) {
    KILN_RETURN_IF_ERROR(tensor_read(t, out->data(), bytes));
  } else if (src == dst && t->is_contiguous()) {
    KILN_RETURN_IF_ERROR(dst->copy(KILN_COPY_DEVICE_TO_DEVICE, out->data(), t->data(), bytes));
  } else if (src->is_host() && t->is_contiguous()) {
    KILN_RETURN_IF_ERROR(dst->copy(KILN_COPY_HOST_TO_DEVICE, out->data(), t->data(), bytes));
  } else {
    std::vector<uint8_t> staging(bytes);
    KILN_RETURN_IF_ERROR(tensor_read(t, staging.data(), bytes));
    KILN_RETURN_IF_ERROR(dst->copy(KILN_COPY_HOST_TO_DEVICE, out->data(), staging.data(), bytes));
  }
  return out;
}

Status tensor_copy_into(kiln_tensor* dst, const kiln_tensor* src) {
  if (dst->dtype != src->dtype || dst->shape != src->shape) {
    return invalid_argument("copy between tensors of different dtypes or shapes");
  }
  if (dst->storage->read_only) {
    return failed_precondition("the tensor is read-only (a read-only DLPack import)");
  }
  if (dst->device()->device != src->device()->device) {
    return invalid_argument("copy into a tensor on " + dst->device()->spec + " from one on " +
                            src->device()->spec);
  }
  const size_t bytes = dst->byte_size();
  if (bytes == 0) return Status::ok();
  Device* device = dst->device()->device;
  if (dst->is_contiguous() && src->is_contiguous()) {
    if (device->is_host()) {
      std::memmove(dst->data(), src->data(), bytes);
      return Status::ok();
    }
    return device->copy(KILN_COPY_DEVICE_TO_DEVICE, dst->data(), src->data(), bytes);
  }
  std::vector<uint8_t> values(bytes);
  KILN_RETURN_IF_ERROR(tensor_read(src, values.data(), bytes));
  if (dst->is_contiguous()) return tensor_write(dst, values.data(), bytes);
  const size_t elem = dst->element_size();
  if (device->is_host()) {
    scatter(static_cast<uint8_t*>(dst->data()), dst->shape, dst->strides, elem, values.data());
    return Status::ok();
  }
  // Stage the span of device memory the view covers, scatter into it, write it back.
  int64_t lo = 0, hi = 0;
  extent(*dst, &lo, &hi);
  std::vector<uint8_t> staging(static_cast<size_t>(hi - lo + 1) * elem);
  uint8_t* first = static_cast<uint8_t*>(dst->data()) + lo * static_cast<int64_t>(elem);
  KILN_RETURN_IF_ERROR(
      device->copy(KILN_COPY_DEVICE_TO_HOST, staging.data(), first, staging.size()));
  scatter(staging.data() + static_cast<size_t>(-lo) * elem, dst->shape, dst->strides, elem,
          values.data());
  return device->copy(KILN_COPY_HOST_TO_DEVICE, first, staging.data(), staging.size());
}

StatusOr<TensorPtr> tensor_contiguous(kiln_tensor* t) {
  if (t->is_contiguous()) return TensorPtr(tensor_retain(t));
  return tensor_copy_to_device(t, t->device());
}

}  // namespace kiln
