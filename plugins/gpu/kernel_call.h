// kernel_call.h: what every GPU kernel entry uses on the host side — the operands and attributes
// of one node, its device and stream, and errors that name the kernel and the node.
#ifndef KILN_PLUGINS_GPU_KERNEL_CALL_H_
#define KILN_PLUGINS_GPU_KERNEL_CALL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "device.h"
#include "gpu_status.h"
#include "kiln/kiln_plugin.h"
#include "vendor.h"

namespace kiln::gpu {

// Ranks above this are refused (index arithmetic lives in kernel arguments).
constexpr int kMaxRank = 8;

// One contiguous operand (the host passes contiguous tensors in ABI 1.0).
struct Operand {
  void* data = nullptr;
  int32_t dtype = KILN_DTYPE_INVALID;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t num_elements = 0;
};

std::string shape_string(const Operand& t);
const char* dtype_name(int32_t dtype);
size_t dtype_size(int32_t dtype);

// The context of one kernel call. Methods returning kiln_status* return NULL on success or a
// status for the host (ours, naming "<plugin>.<op> (node <name>)", or one the host made).
class Call {
 public:
  Call(kiln_kernel_context* ctx, Backend* backend);

  int num_inputs() const;
  kiln_status* input(int index, Operand* out) const;
  kiln_status* output(int index, Operand* out) const;

  kiln_status* attr_int(const char* name, int64_t default_value, int64_t* out) const;
  kiln_status* attr_float(const char* name, double default_value, double* out) const;
  kiln_status* attr_string(const char* name, const char* default_value, std::string* out) const;
  kiln_status* attr_ints(const char* name, std::vector<int64_t>* out, bool* present) const;
  kiln_status* normalize_axis(int64_t axis, int rank, const char* what, int* out) const;

  // Makes the device current and resolves the stream; call before enqueuing work.
  kiln_status* begin();
  gpuStream_t stream() const { return stream_; }
  int32_t multiprocessors() const { return multiprocessors_; }
  int32_t ordinal() const { return ordinal_; }
  Device* device() const { return device_; }

  // Scratch device memory released when the kernel returns (stream-ordered by the host).
  kiln_status* scratch(size_t bytes, void** out) const;

  // The launch status of the kernel just enqueued, naming it.
  kiln_status* launched(const char* kernel) const;
  // Waits for the work when the host gave no stream (synchronous semantics).
  kiln_status* finish() const;

  kiln_status* error(int32_t code, const std::string& message) const;
  const std::string& where() const { return where_; }

 private:
  kiln_status* attr(const char* name, kiln_attr_value* out, bool* present) const;

  kiln_kernel_context* ctx_;
  Backend* backend_;
  std::string where_;
  int32_t ordinal_ = 0;
  void* host_stream_ = nullptr;
  Device* device_ = nullptr;
  gpuStream_t stream_ = nullptr;
  int32_t multiprocessors_ = 1;
};

using CallBody = kiln_status* (*)(Call& call, const void* user_data);

// Runs a kernel body behind the ABI edge (no C++ exception escapes) and finishes the call.
kiln_status* run_call(kiln_kernel_context* ctx, void* user_data, CallBody body);

// The user_data a GPU kernel is registered with.
struct KernelInfo {
  Backend* backend;
  int32_t code;  // an op code of the kernel's family
};

template <CallBody Body>
kiln_status* call_entry(kiln_kernel_context* ctx, void* user_data) {
  return run_call(ctx, user_data, Body);
}

// Registers "<plugin>.<op>" for this plugin's device API; `dtypes` empty means any dtype.
kiln_status* register_gpu_kernel(const kiln_host_api* host, kiln_registrar* registrar,
                                 const char* op, const std::vector<int32_t>& dtypes,
                                 int32_t dtype_source, kiln_kernel_fn fn, const KernelInfo* info,
                                 int32_t priority = 0);

// Grid size for a grid-stride loop over `items`: at most a few waves of blocks per multiprocessor.
unsigned grid_for(int64_t items, int threads, int32_t multiprocessors);

// Dtype sets the families register.
extern const std::vector<int32_t> kGpuFloatTypes;       // f32 f16 bf16
extern const std::vector<int32_t> kGpuArithmeticTypes;  // floats + i32 i64
extern const std::vector<int32_t> kGpuAllTypes;         // arithmetic + bool

}  // namespace kiln::gpu

#define KILN_GPU_CALL_TRY(expr)                       \
  do {                                                \
    kiln_status* kiln_gpu_call_status_ = (expr);      \
    if (kiln_gpu_call_status_ != nullptr) {           \
      return kiln_gpu_call_status_;                   \
    }                                                 \
  } while (0)

#endif  // KILN_PLUGINS_GPU_KERNEL_CALL_H_
