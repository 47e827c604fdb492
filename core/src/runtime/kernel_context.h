// struct kiln_kernel_context: what one kernel call sees through the host's ctx_* accessors. The
// executor builds it on its stack for each call; nothing in it outlives the call.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "kiln/kiln_plugin.h"
#include "runtime/tensor.h"

namespace kiln {

class Device;
struct KernelEntry;

// Allocates an output once its shape is known (the executor reuses freed buffers).
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  virtual StatusOr<TensorPtr> allocate(kiln_device* device, DType dtype,
                                       const std::vector<int64_t>& shape) = 0;
};

struct KernelOutput {
  TensorPtr tensor;                  // null while a data-dependent shape is not set
  const TensorType* type = nullptr;  // the value's type (rank and static dims to check against)
};

}  // namespace kiln

struct kiln_kernel_context {
  kiln_kernel_context() = default;
  kiln_kernel_context(const kiln_kernel_context&) = delete;
  kiln_kernel_context& operator=(const kiln_kernel_context&) = delete;
  ~kiln_kernel_context();  // frees scratch memory

  const kiln::Node* node = nullptr;
  const kiln::KernelEntry* kernel = nullptr;
  kiln_device* device = nullptr;
  int32_t num_threads = 1;
  const kiln_tensor* const* inputs = nullptr;  // contiguous, on `device`
  int32_t num_inputs = 0;
  kiln::KernelOutput* outputs = nullptr;
  int32_t num_outputs = 0;
  kiln::OutputAllocator* allocator = nullptr;
  void* stream = nullptr;  // the execution's stream on `device`; nullptr: synchronous order
  std::vector<std::pair<void*, size_t>> scratch;
};

namespace kiln {

// The host_api entries.
int32_t ctx_get_input_count(const kiln_kernel_context* ctx);
int32_t ctx_get_output_count(const kiln_kernel_context* ctx);
kiln_status* ctx_get_input(const kiln_kernel_context* ctx, int32_t index,
                           kiln_kernel_tensor* out_tensor);
kiln_status* ctx_get_output(kiln_kernel_context* ctx, int32_t index,
                            kiln_kernel_tensor* out_tensor);
kiln_status* ctx_set_output_shape(kiln_kernel_context* ctx, int32_t index, const int64_t* shape,
                                  int32_t rank);
kiln_status* ctx_get_attr(const kiln_kernel_context* ctx, const char* name,
                          kiln_attr_value* out_value);
int32_t ctx_get_num_threads(const kiln_kernel_context* ctx);
int32_t ctx_get_device_ordinal(const kiln_kernel_context* ctx);
void* ctx_get_stream(const kiln_kernel_context* ctx);
kiln_status* ctx_allocate_scratch(kiln_kernel_context* ctx, size_t bytes, void** out_ptr);
const char* ctx_get_node_name(const kiln_kernel_context* ctx);
const char* ctx_get_op_name(const kiln_kernel_context* ctx);

}  // namespace kiln
