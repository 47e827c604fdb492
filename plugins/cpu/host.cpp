// host.cpp: kernel-side helpers over the host services (tensors, attributes, error statuses).
#include "host.h"

#include <cstdio>
#include <exception>
#include <new>
#include <thread>

namespace kiln_cpu {

const kiln_host_api* g_host = nullptr;

namespace {

std::string vformat(const char* format, va_list args) {
  char buffer[512];
  va_list copy;
  va_copy(copy, args);
  const int needed = std::vsnprintf(buffer, sizeof buffer, format, copy);
  va_end(copy);
  if (needed < 0) return format;
  if (static_cast<size_t>(needed) < sizeof buffer) return std::string(buffer, needed);
  std::string text(static_cast<size_t>(needed) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(needed));
  return text;
}

}  // namespace

kiln_status* make_status(int32_t code, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const std::string message = vformat(format, args);
  va_end(args);
  return g_host->status_create(code, message.c_str());
}

std::string shape_string(const int64_t* shape, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string shape_string(const Tensor& t) { return shape_string(t.shape, t.rank); }

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
      return "bool";
    case KILN_DTYPE_FLOAT16:
      return "float16";
    case KILN_DTYPE_BFLOAT16:
      return "bfloat16";
    case KILN_DTYPE_FLOAT32:
      return "float32";
    case KILN_DTYPE_FLOAT64:
      return "float64";
    case KILN_DTYPE_UINT8:
      return "uint8";
    case KILN_DTYPE_INT8:
      return "int8";
    case KILN_DTYPE_UINT16:
      return "uint16";
    case KILN_DTYPE_INT16:
      return "int16";
    case KILN_DTYPE_UINT32:
      return "uint32";
    case KILN_DTYPE_INT32:
      return "int32";
    case KILN_DTYPE_UINT64:
      return "uint64";
    case KILN_DTYPE_INT64:
      return "int64";
    case KILN_DTYPE_FLOAT8_E4M3FN:
      return "float8_e4m3fn";
    case KILN_DTYPE_FLOAT8_E4M3FNUZ:
      return "float8_e4m3fnuz";
    case KILN_DTYPE_FLOAT8_E5M2:
      return "float8_e5m2";
    case KILN_DTYPE_FLOAT8_E5M2FNUZ:
      return "float8_e5m2fnuz";
    default:
      return "unknown dtype";
  }
}

int Kernel::num_inputs() const { return g_host->ctx_get_input_count(ctx_); }
int Kernel::num_outputs() const { return g_host->ctx_get_output_count(ctx_); }

int Kernel::num_threads() const {
  int n = g_host->ctx_get_num_threads(ctx_);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

const char* Kernel::op_name() const {
  const char* name = g_host->ctx_get_op_name ? g_host->ctx_get_op_name(ctx_) : nullptr;
  return name ? name : "?";
}

const char* Kernel::node_name() const {
  const char* name = g_host->ctx_get_node_name ? g_host->ctx_get_node_name(ctx_) : nullptr;
  return name ? name : "?";
}

kiln_status* Kernel::error(int32_t code, const char* format, ...) const {
  va_list args;
  va_start(args, format);
  const std::string detail = vformat(format, args);
  va_end(args);
  const std::string message = std::string(op_name()) + " '" + node_name() + "': " + detail;
  return g_host->status_create(code, message.c_str());
}

namespace {

kiln_status* fill_tensor(const Kernel& k, const kiln_kernel_tensor& raw, const char* role,
                         int index, Tensor* out) {
  if (raw.rank < 0 || raw.rank > kMaxRank) {
    return k.error(KILN_STATUS_UNIMPLEMENTED, "%s %d has rank %d; the CPU kernels support up to %d",
                   role, index, raw.rank, kMaxRank);
  }
  if (kiln_dtype_size(raw.dtype) == 0) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s %d has unknown dtype code %d", role, index,
                   raw.dtype);
  }
  out->data = raw.data;
  out->dtype = raw.dtype;
  out->rank = raw.rank;
  int64_t count = 1;
  for (int i = 0; i < raw.rank; ++i) {
    const int64_t d = raw.shape[i];
    if (d < 0) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s %d has negative dim %lld", role, index,
                     static_cast<long long>(d));
    }
    out->shape[i] = d;
    if (__builtin_mul_overflow(count, d, &count)) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s %d: element count overflows", role, index);
    }
  }
  if (count != raw.num_elements) {
    return k.error(KILN_STATUS_INTERNAL, "%s %d: num_elements %lld does not match shape %s", role,
                   index, static_cast<long long>(raw.num_elements),
                   shape_string(out->shape, out->rank).c_str());
  }
  // ABI 1.0 promises contiguous tensors; check it rather than read out of bounds.
  if (raw.strides != nullptr && count > 0) {
    int64_t expected = 1;
    for (int i = raw.rank - 1; i >= 0; --i) {
      if (raw.shape[i] != 1 && raw.strides[i] != expected) {
        return k.error(KILN_STATUS_UNIMPLEMENTED, "%s %d is not contiguous", role, index);
      }
      expected *= raw.shape[i];
    }
  }
  if (count > 0 && raw.data == nullptr) {
    return k.error(KILN_STATUS_INTERNAL, "%s %d has no data", role, index);
  }
  out->num_elements = count;
  return nullptr;
}

}  // namespace

kiln_status* Kernel::input(int index, Tensor* out) const {
  kiln_kernel_tensor raw{};
  raw.struct_size = sizeof raw;
  KILN_CPU_TRY(g_host->ctx_get_input(ctx_, index, &raw));
  return fill_tensor(*this, raw, "input", index, out);
}

kiln_status* Kernel::output(int index, Tensor* out) const {
  kiln_kernel_tensor raw{};
  raw.struct_size = sizeof raw;
  KILN_CPU_TRY(g_host->ctx_get_output(ctx_, index, &raw));
  return fill_tensor(*this, raw, "output", index, out);
}

kiln_status* Kernel::attr(const char* name, kiln_attr_value* out, bool* present) const {
  *out = kiln_attr_value{};
  out->struct_size = sizeof *out;
  kiln_status* status = g_host->ctx_get_attr(ctx_, name, out);
  *present = status == nullptr;
  // The host's only failure for a valid context and name is NOT_FOUND (attribute absent), which
  // callers turn into the default. The status is ours to free.
  release_status(status);
  return nullptr;
}

void release_status(kiln_status* status) {
  if (status != nullptr && g_host != nullptr &&
      KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, g_host->struct_size) &&
      g_host->status_destroy != nullptr) {
    g_host->status_destroy(status);
  }
  // An older host without status_destroy: the status leaks (a few bytes); nothing else is safe.
}

namespace {

const char* kind_name(int32_t kind) {
  switch (kind) {
    case KILN_ATTR_INT:
      return "int";
    case KILN_ATTR_FLOAT:
      return "float";
    case KILN_ATTR_STRING:
      return "string";
    case KILN_ATTR_INTS:
      return "ints";
    case KILN_ATTR_FLOATS:
      return "floats";
    case KILN_ATTR_BOOL:
      return "bool";
    case KILN_ATTR_DTYPE:
      return "dtype";
    case KILN_ATTR_TENSOR:
      return "tensor";
    default:
      return "unknown";
  }
}

}  // namespace

kiln_status* Kernel::attr_int(const char* name, int64_t default_value, int64_t* out) const {
  kiln_attr_value v;
  bool present = false;
  KILN_CPU_TRY(attr(name, &v, &present));
  if (!present) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind != KILN_ATTR_INT && v.kind != KILN_ATTR_BOOL) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be an int, got %s", name,
                 kind_name(v.kind));
  }
  *out = v.i;
  return nullptr;
}

kiln_status* Kernel::attr_float(const char* name, double default_value, double* out) const {
  kiln_attr_value v;
  bool present = false;
  KILN_CPU_TRY(attr(name, &v, &present));
  if (!present) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind == KILN_ATTR_FLOAT) {
    *out = v.f;
  } else if (v.kind == KILN_ATTR_INT) {
    *out = static_cast<double>(v.i);
  } else {
    return error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be a float, got %s", name,
                 kind_name(v.kind));
  }
  return nullptr;
}

kiln_status* Kernel::attr_string(const char* name, const char* default_value,
                                 std::string* out) const {
  kiln_attr_value v;
  bool present = false;
  KILN_CPU_TRY(attr(name, &v, &present));
  if (!present) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind != KILN_ATTR_STRING || v.s == nullptr) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be a string, got %s", name,
                 kind_name(v.kind));
  }
  *out = v.s;
  return nullptr;
}

kiln_status* Kernel::attr_ints(const char* name, std::vector<int64_t>* out, bool* present) const {
  kiln_attr_value v;
  bool has = false;
  KILN_CPU_TRY(attr(name, &v, &has));
  if (present) *present = has;
  out->clear();
  if (!has) {
    return nullptr;
  }
  if (v.kind != KILN_ATTR_INTS) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be ints, got %s", name,
                 kind_name(v.kind));
  }
  if (v.count > 0 && v.ints == nullptr) {
    return error(KILN_STATUS_INTERNAL, "attribute '%s' has no data", name);
  }
  out->assign(v.ints, v.ints + v.count);
  return nullptr;
}

kiln_status* Kernel::attr_dtype(const char* name, int32_t* out, bool* present) const {
  kiln_attr_value v;
  bool has = false;
  KILN_CPU_TRY(attr(name, &v, &has));
  if (present) *present = has;
  if (!has) {
    return nullptr;
  }
  if (v.kind != KILN_ATTR_DTYPE && v.kind != KILN_ATTR_INT) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be a dtype, got %s", name,
                 kind_name(v.kind));
  }
  *out = static_cast<int32_t>(v.i);
  return nullptr;
}

kiln_status* Kernel::scratch(size_t bytes, void** out) const {
  return g_host->ctx_allocate_scratch(ctx_, bytes, out);
}

kiln_status* Kernel::check_output_like_input(const Tensor& x, const Tensor& y) const {
  if (x.dtype == y.dtype && x.num_elements == y.num_elements) return nullptr;
  return error(KILN_STATUS_INVALID_ARGUMENT, "output %s %s does not match input %s %s",
               dtype_name(y.dtype), shape_string(y).c_str(), dtype_name(x.dtype),
               shape_string(x).c_str());
}

kiln_status* Kernel::normalize_axis(int64_t axis, int rank, const char* what, int* out) const {
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "%s %lld is out of range for rank %d", what,
                 static_cast<long long>(axis), rank);
  }
  *out = static_cast<int>(normalized);
  return nullptr;
}

kiln_status* run_kernel_body(kiln_kernel_context* ctx, const void* user_data, KernelBody body) {
  Kernel kernel(ctx);
  try {
    return body(kernel, user_data);
  } catch (const std::bad_alloc&) {
    return kernel.error(KILN_STATUS_RESOURCE_EXHAUSTED, "out of host memory");
  } catch (const std::exception& e) {
    return kernel.error(KILN_STATUS_INTERNAL, "unexpected error: %s", e.what());
  } catch (...) {
    return kernel.error(KILN_STATUS_INTERNAL, "unexpected non-standard exception");
  }
}

}  // namespace kiln_cpu
