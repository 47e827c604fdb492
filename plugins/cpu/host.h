// host.h: the host services the CPU plugin received at initialize(), and the small layer kernels
// use on top of them: reading tensors and attributes, building error statuses that name the op and
// node, and the kernel entry wrapper that keeps every C++ exception inside the plugin.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/kiln_plugin.h"

namespace kiln_cpu {

// Set once by initialize(); read-only afterwards.
extern const kiln_host_api* g_host;

// Ranks above this are rejected with UNIMPLEMENTED (kernels keep index arithmetic on the stack).
constexpr int kMaxRank = 32;

// Returns early with the status when an expression yields an error.
#define KILN_CPU_TRY(expr)                         \
  do {                                             \
    kiln_status* kiln_cpu_status_ = (expr);        \
    if (kiln_cpu_status_) return kiln_cpu_status_; \
  } while (0)

// A status with a printf-style message (no op prefix): for device functions and initialization.
kiln_status* make_status(int32_t code, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

// A kernel's view of one contiguous tensor: shape copied out of the host's call-scoped arrays.
struct Tensor {
  void* data = nullptr;
  int32_t dtype = KILN_DTYPE_INVALID;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t num_elements = 0;

  template <class T>
  T* as() const {
    return static_cast<T*>(data);
  }
  size_t element_size() const { return kiln_dtype_size(dtype); }
  size_t byte_size() const { return static_cast<size_t>(num_elements) * element_size(); }
  std::vector<int64_t> dims() const { return std::vector<int64_t>(shape, shape + rank); }
};

// Frees a status the host returned to us that we do not pass on (see kiln_host_api).
void release_status(kiln_status* status);

// "[2, 3, 4]" for messages.
std::string shape_string(const int64_t* shape, int rank);
std::string shape_string(const Tensor& t);
// "float32" etc., or "dtype(<code>)".
const char* dtype_name(int32_t dtype);

// Calls fn(T{}) with the C type of an integer dtype (int8 ... uint64); false for any other dtype.
template <class Fn>
bool visit_integer(int32_t dtype, Fn&& fn) {
  switch (dtype) {
    case KILN_DTYPE_INT8:
      fn(int8_t{});
      return true;
    case KILN_DTYPE_INT16:
      fn(int16_t{});
      return true;
    case KILN_DTYPE_INT32:
      fn(int32_t{});
      return true;
    case KILN_DTYPE_INT64:
      fn(int64_t{});
      return true;
    case KILN_DTYPE_UINT8:
      fn(uint8_t{});
      return true;
    case KILN_DTYPE_UINT16:
      fn(uint16_t{});
      return true;
    case KILN_DTYPE_UINT32:
      fn(uint32_t{});
      return true;
    case KILN_DTYPE_UINT64:
      fn(uint64_t{});
      return true;
    default:
      return false;
  }
}

// The context of one kernel call.
class Kernel {
 public:
  explicit Kernel(kiln_kernel_context* ctx) : ctx_(ctx) {}

  int num_inputs() const;
  int num_outputs() const;
  // Threads this call may use (>= 1).
  int num_threads() const;
  kiln_status* input(int index, Tensor* out) const;
  kiln_status* output(int index, Tensor* out) const;

  // Attribute readers: *present (if given) tells whether the node had the attribute; a missing
  // attribute yields the default, one of the wrong kind an INVALID_ARGUMENT naming it.
  kiln_status* attr_int(const char* name, int64_t default_value, int64_t* out) const;
  kiln_status* attr_float(const char* name, double default_value, double* out) const;
  kiln_status* attr_string(const char* name, const char* default_value, std::string* out) const;
  kiln_status* attr_ints(const char* name, std::vector<int64_t>* out, bool* present) const;
  kiln_status* attr_dtype(const char* name, int32_t* out, bool* present) const;

  // Scratch memory freed by the host when the kernel returns.
  kiln_status* scratch(size_t bytes, void** out) const;

  // An error status whose message starts with "<op> '<node>': ".
  kiln_status* error(int32_t code, const char* format, ...) const
      __attribute__((format(printf, 3, 4)));

  // INVALID_ARGUMENT unless output y has input x's dtype and element count.
  kiln_status* check_output_like_input(const Tensor& x, const Tensor& y) const;

  // Normalizes a possibly negative axis against rank; error naming `what` when out of range.
  kiln_status* normalize_axis(int64_t axis, int rank, const char* what, int* out) const;

  const char* op_name() const;
  const char* node_name() const;
  kiln_kernel_context* raw() const { return ctx_; }

 private:
  kiln_status* attr(const char* name, kiln_attr_value* out, bool* present) const;
  kiln_kernel_context* ctx_;
};

using KernelBody = kiln_status* (*)(Kernel& kernel, const void* user_data);

// Runs `body` and turns any escaping C++ exception into a status naming the op: nothing thrown
// inside a kernel crosses the plugin ABI.
kiln_status* run_kernel_body(kiln_kernel_context* ctx, const void* user_data, KernelBody body);

template <KernelBody Body>
kiln_status* kernel_entry(kiln_kernel_context* ctx, void* user_data) {
  return run_kernel_body(ctx, user_data, Body);
}

}  // namespace kiln_cpu
