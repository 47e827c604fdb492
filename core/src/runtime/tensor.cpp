// Tensor creation, views and reference counting. Every shape, stride and offset from a caller is
// checked for sign, overflow and bounds before it is used.
#include "runtime/tensor.h"

#include <cstring>
#include <limits>

#include "ir/checked_math.h"
#include "ir/limits.h"
#include "runtime/device.h"
#include "runtime/runtime.h"

void* kiln_tensor::data() const {
  if (storage->data == nullptr) return nullptr;
  return static_cast<char*>(storage->data) + offset * static_cast<int64_t>(element_size());
}

bool kiln_tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d : shape)
    if (d == 0) return true;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

namespace kiln {
namespace {

// Element indices, relative to element 0, of the lowest and highest element a view addresses.
struct Extent {
  int64_t min = 0;
  int64_t max = 0;
  bool empty = false;
};

StatusOr<Extent> view_extent(const std::vector<int64_t>& shape,
                             const std::vector<int64_t>& strides) {
  Extent e;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) {
      e.empty = true;
      return e;
    }
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    auto span = checked_mul(strides[d], shape[d] - 1);
    auto next =
        span ? (*span >= 0 ? checked_add(e.max, *span) : checked_add(e.min, *span)) : std::nullopt;
    if (!next) {
      return out_of_range("the strides overflow: dim " + std::to_string(d) + " has size " +
                          std::to_string(shape[d]) + " and stride " + std::to_string(strides[d]));
    }
    (*span >= 0 ? e.max : e.min) = *next;
  }
  return e;
}

std::string join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

StatusOr<TensorPtr> make_tensor(std::shared_ptr<Storage> storage, DType dtype,
                                std::vector<int64_t> shape, std::vector<int64_t> strides,
                                int64_t offset, int64_t num_elements) {
  auto* t = new kiln_tensor;
  t->storage = std::move(storage);
  t->dtype = dtype;
  t->shape = std::move(shape);
  t->strides = std::move(strides);
  t->offset = offset;
  t->num_elements = num_elements;
  return TensorPtr(t);
}

std::shared_ptr<Runtime> owner_of(kiln_device* device) {
  return device->runtime->shared_from_this();
}

}  // namespace

Storage::~Storage() {
  if (owned) {
    device->device->deallocate(data, bytes);
  } else if (release != nullptr) {
    release(release_context);
  }
}

void tensor_release(kiln_tensor* tensor) {
  if (tensor != nullptr && tensor->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    delete tensor;
  }
}

kiln_tensor* tensor_retain(kiln_tensor* tensor) {
  if (tensor != nullptr) tensor->refs.fetch_add(1, std::memory_order_relaxed);
  return tensor;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

StatusOr<int64_t> checked_element_count(int32_t dtype, const int64_t* shape, size_t rank) {
  if (!dtype_is_valid(dtype)) {
    return invalid_argument("dtype " + std::to_string(dtype) + " is not a kiln dtype code");
  }
  if (rank > kMaxRank) {
    return invalid_argument("rank " + std::to_string(rank) + " is over the limit of " +
                            std::to_string(kMaxRank));
  }
  if (rank > 0 && shape == nullptr) {
    return invalid_argument("shape is NULL for rank " + std::to_string(rank));
  }
  int64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] < 0) {
      return invalid_argument("shape[" + std::to_string(d) + "] is " + std::to_string(shape[d]) +
                              "; dims must be >= 0");
    }
    auto next = checked_mul(count, shape[d]);
    if (!next) return invalid_argument("the element count of the shape overflows int64");
    count = *next;
  }
  const auto bytes = checked_mul(count, static_cast<int64_t>(kiln_dtype_size(dtype)));
  if (!bytes || static_cast<uint64_t>(*bytes) > std::numeric_limits<size_t>::max()) {
    return invalid_argument("the byte size of the shape overflows");
  }
  return count;
}

StatusOr<TensorPtr> tensor_allocate(kiln_device* device, DType dtype,
                                    const std::vector<int64_t>& shape) {
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                             shape.data(), shape.size()));
  auto storage = std::make_shared<Storage>();
  storage->runtime = owner_of(device);
  storage->device = device;
  const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
  KILN_ASSIGN_OR_RETURN(storage->data, device->device->allocate(bytes));
  storage->bytes = bytes;
  storage->owned = true;
  return make_tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0, count);
}

StatusOr<TensorPtr> tensor_over_storage(std::shared_ptr<Storage> storage, DType dtype,
                                        const std::vector<int64_t>& shape) {
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                             shape.data(), shape.size()));
  if (static_cast<size_t>(count) * dtype_size(dtype) > storage->bytes) {
    return internal_error("a reused buffer of " + std::to_string(storage->bytes) +
                          " bytes is too small for " + join(shape));
  }
  return make_tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0, count);
}

StatusOr<TensorPtr> tensor_create_zeroed(kiln_device* device, DType dtype,
                                         const std::vector<int64_t>& shape) {
  KILN_ASSIGN_OR_RETURN(TensorPtr t, tensor_allocate(device, dtype, shape));
  KILN_RETURN_IF_ERROR(device->device->memset_zero(t->data(), t->byte_size()));
  return t;
}

StatusOr<TensorPtr> tensor_create_from_host(kiln_device* device, DType dtype,
                                            const std::vector<int64_t>& shape, const void* data,
                                            size_t data_size) {
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                             shape.data(), shape.size()));
  const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
  if (data_size != bytes) {
    return invalid_argument("data_size is " + std::to_string(data_size) + " bytes but a " +
                            dtype_name(dtype) + join(shape) + " tensor is " +
                            std::to_string(bytes));
  }
  if (bytes > 0 && data == nullptr) return invalid_argument("data is NULL");
  KILN_ASSIGN_OR_RETURN(TensorPtr t, tensor_allocate(device, dtype, shape));
  KILN_RETURN_IF_ERROR(tensor_write(t.get(), data, bytes));
  return t;
}

StatusOr<TensorPtr> tensor_wrap_external(kiln_device* device, DType dtype,
                                         const std::vector<int64_t>& shape,
                                         const std::vector<int64_t>& strides, void* element0,
                                         void (*release)(void*), void* release_context,
                                         bool read_only) {
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                             shape.data(), shape.size()));
  if (strides.size() != shape.size()) {
    return internal_error("strides and shape differ in rank");
  }
  KILN_ASSIGN_OR_RETURN(Extent extent, view_extent(shape, strides));
  if (count > 0 && element0 == nullptr) return invalid_argument("data is NULL");
  const int64_t elem = static_cast<int64_t>(dtype_size(dtype));
  auto storage = std::make_shared<Storage>();
  storage->runtime = owner_of(device);
  storage->device = device;
  storage->owned = false;
  storage->read_only = read_only;
  int64_t offset = 0;
  if (!extent.empty) {
    auto elements = checked_add(extent.max - extent.min, 1);
    auto bytes = elements ? checked_mul(*elements, elem) : std::nullopt;
    if (!bytes) return out_of_range("the memory the strides span overflows");
    storage->data = static_cast<char*>(element0) + extent.min * elem;
    storage->bytes = static_cast<size_t>(*bytes);
    offset = -extent.min;
  } else {
    storage->data = element0;
  }
  // Set last: from here on the storage owns the memory and calls `release`.
  storage->release = release;
  storage->release_context = release_context;
  return make_tensor(std::move(storage), dtype, shape, strides, offset, count);
}

StatusOr<TensorPtr> tensor_view(const kiln_tensor* tensor, DType dtype,
                                const std::vector<int64_t>& shape,
                                const std::vector<int64_t>& strides, int64_t offset) {
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                             shape.data(), shape.size()));
  if (dtype_size(dtype) != tensor->element_size()) {
    return invalid_argument(
        "a view as " + dtype_name(dtype) + " (" + std::to_string(dtype_size(dtype)) +
        " bytes) of a " + dtype_name(tensor->dtype) + " tensor (" +
        std::to_string(tensor->element_size()) + " bytes) needs dtypes of the same size");
  }
  if (strides.size() != shape.size()) {
    return invalid_argument("strides has " + std::to_string(strides.size()) + " entries for rank " +
                            std::to_string(shape.size()));
  }
  const auto base = checked_add(tensor->offset, offset);
  if (!base) return out_of_range("offset " + std::to_string(offset) + " overflows");
  KILN_ASSIGN_OR_RETURN(Extent extent, view_extent(shape, strides));
  const int64_t capacity = static_cast<int64_t>(tensor->storage->bytes / tensor->element_size());
  const std::string what = "a view of shape " + join(shape) + ", strides " + join(strides) +
                           " at offset " + std::to_string(offset);
  if (extent.empty) {
    if (*base < 0 || *base > capacity) {
      return out_of_range(what + " starts outside the storage of " + std::to_string(capacity) +
                          " elements");
    }
  } else {
    auto lo = checked_add(*base, extent.min);
    auto hi = checked_add(*base, extent.max);
    if (!lo || !hi || *lo < 0 || *hi >= capacity) {
      return out_of_range(what + " addresses storage elements outside [0, " +
                          std::to_string(capacity) + ")");
    }
  }
  return make_tensor(tensor->storage, dtype, shape, strides, *base, count);
}

}  // namespace kiln
