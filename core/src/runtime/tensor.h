// Tensors: a reference-counted view (dtype, shape, strides in elements, element offset) of a
// Storage on one device. The C handle kiln_tensor is this object itself. Metadata never changes
// after creation, so a tensor may be shared between threads; only the count is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"
#include "kiln/kiln.h"

namespace kiln {

class Runtime;

// Memory on a device: allocated by kiln (freed through the device), or the caller's (freed
// through their release callback, e.g. a DLPack deleter).
struct Storage {
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  std::shared_ptr<Runtime> runtime;  // keeps `device` (a handle of that runtime) alive
  kiln_device* device = nullptr;
  void* data = nullptr;
  size_t bytes = 0;
  bool owned = false;  // set once `data` is allocated through `device`; else external
  void (*release)(void* context) = nullptr;
  void* release_context = nullptr;
  bool read_only = false;  // a read-only DLPack import
};

}  // namespace kiln

struct kiln_tensor {
  std::atomic<int64_t> refs{1};
  std::shared_ptr<kiln::Storage> storage;
  kiln::DType dtype = kiln::DType::kInvalid;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // elements
  int64_t offset = 0;            // elements from storage->data to element 0
  int64_t num_elements = 0;

  size_t element_size() const { return kiln::dtype_size(dtype); }
  size_t byte_size() const { return static_cast<size_t>(num_elements) * element_size(); }
  void* data() const;
  kiln_device* device() const { return storage->device; }
  bool is_contiguous() const;
};

namespace kiln {

// Drops one reference; the tensor (and its storage, with the last view) goes with the last.
void tensor_release(kiln_tensor* tensor);
kiln_tensor* tensor_retain(kiln_tensor* tensor);

struct TensorReleaser {
  void operator()(kiln_tensor* t) const { tensor_release(t); }
};
// One owned reference; .release() hands it to a C caller.
using TensorPtr = std::unique_ptr<kiln_tensor, TensorReleaser>;

// C-contiguous strides of a shape.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);
// Checks a dtype code and a shape from a caller ("shape[1] is -3") and returns the element
// count; the byte size must fit in size_t and int64.
StatusOr<int64_t> checked_element_count(int32_t dtype, const int64_t* shape, size_t rank);

// A contiguous tensor on `device` with uninitialized contents.
StatusOr<TensorPtr> tensor_allocate(kiln_device* device, DType dtype,
                                    const std::vector<int64_t>& shape);
// The same over storage that already exists (reused from a free list); its size must fit.
StatusOr<TensorPtr> tensor_over_storage(std::shared_ptr<Storage> storage, DType dtype,
                                        const std::vector<int64_t>& shape);
StatusOr<TensorPtr> tensor_create_zeroed(kiln_device* device, DType dtype,
                                         const std::vector<int64_t>& shape);
StatusOr<TensorPtr> tensor_create_from_host(kiln_device* device, DType dtype,
                                            const std::vector<int64_t>& shape, const void* data,
                                            size_t data_size);
// Wraps caller memory whose element 0 is at `element0` (strides may be negative); `release` is
// called with `release_context` when the storage goes. On error `release` is not called.
StatusOr<TensorPtr> tensor_wrap_external(kiln_device* device, DType dtype,
                                         const std::vector<int64_t>& shape,
                                         const std::vector<int64_t>& strides, void* element0,
                                         void (*release)(void*), void* release_context,
                                         bool read_only);
// A view of `tensor`'s storage; `offset` is relative to the tensor's element 0. Bounds and
// overflow checked against the storage.
StatusOr<TensorPtr> tensor_view(const kiln_tensor* tensor, DType dtype,
                                const std::vector<int64_t>& shape,
                                const std::vector<int64_t>& strides, int64_t offset);

// Copies: any device, any strides (staged through host memory when the device is not the
// host's). `dst`/`src` are host memory in C order.
Status tensor_read(const kiln_tensor* tensor, void* dst, size_t dst_size);
Status tensor_write(kiln_tensor* tensor, const void* src, size_t src_size);
StatusOr<TensorPtr> tensor_copy_to_device(const kiln_tensor* tensor, kiln_device* device);
// Copies src's elements into dst (same dtype and shape; dst may be a strided view, e.g. a slice
// of a buffer; both on one device). Memory of a non-host device is staged through the host.
Status tensor_copy_into(kiln_tensor* dst, const kiln_tensor* src);
// The tensor itself (new reference) when contiguous, else a contiguous copy on its device.
StatusOr<TensorPtr> tensor_contiguous(kiln_tensor* tensor);

}  // namespace kiln
