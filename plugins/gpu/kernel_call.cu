// kernel_call.cu: the host side shared by the GPU kernels (operands, attributes, errors, launch).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernel_call.h"

namespace kiln::gpu {

const std::vector<int32_t> kGpuFloatTypes = {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                             KILN_DTYPE_BFLOAT16};
const std::vector<int32_t> kGpuArithmeticTypes = {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                                  KILN_DTYPE_BFLOAT16, KILN_DTYPE_INT32,
                                                  KILN_DTYPE_INT64};
const std::vector<int32_t> kGpuAllTypes = {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                           KILN_DTYPE_BFLOAT16, KILN_DTYPE_INT32,
                                           KILN_DTYPE_INT64, KILN_DTYPE_BOOL};

std::string shape_string(const Operand& t) {
  std::string s = "[";
  for (int i = 0; i < t.rank; ++i) {
    s += (i > 0 ? ", " : "") + std::to_string(t.shape[i]);
  }
  return s + "]";
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL: return "bool";
    case KILN_DTYPE_FLOAT16: return "float16";
    case KILN_DTYPE_BFLOAT16: return "bfloat16";
    case KILN_DTYPE_FLOAT32: return "float32";
    case KILN_DTYPE_FLOAT64: return "float64";
    case KILN_DTYPE_INT32: return "int32";
    case KILN_DTYPE_INT64: return "int64";
    default: return "an unsupported dtype";
  }
}

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL: return 1;
    case KILN_DTYPE_FLOAT16:
    case KILN_DTYPE_BFLOAT16: return 2;
    case KILN_DTYPE_FLOAT32:
    case KILN_DTYPE_INT32: return 4;
    case KILN_DTYPE_FLOAT64:
    case KILN_DTYPE_INT64: return 8;
    default: return 0;
  }
}

Call::Call(kiln_kernel_context* ctx, Backend* backend) : ctx_(ctx), backend_(backend) {
  const kiln_host_api& h = host();
  const char* op = h.ctx_get_op_name(ctx);
  const char* node = h.ctx_get_node_name(ctx);
  where_ = std::string(KILN_GPU_PLUGIN_NAME ".") + (op ? op : "?") + " (node " +
           (node ? node : "?") + ")";
  ordinal_ = h.ctx_get_device_ordinal(ctx);
  host_stream_ = h.ctx_get_stream(ctx);
}

int Call::num_inputs() const { return host().ctx_get_input_count(ctx_); }

static kiln_status* read_tensor(const Call& call, const kiln_kernel_tensor& t, const char* role,
                                int index, Operand* out) {
  if (t.rank > kMaxRank) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, std::string(role) + " " + std::to_string(index) +
                                                     " has rank " + std::to_string(t.rank) +
                                                     "; the GPU kernels take at most " +
                                                     std::to_string(kMaxRank));
  }
  out->data = t.data;
  out->dtype = t.dtype;
  out->rank = t.rank;
  std::copy(t.shape, t.shape + t.rank, out->shape);
  out->num_elements = t.num_elements;
  return nullptr;
}

kiln_status* Call::input(int index, Operand* out) const {
  kiln_kernel_tensor t = {};
  t.struct_size = sizeof(t);
  KILN_GPU_CALL_TRY(host().ctx_get_input(ctx_, index, &t));
  return read_tensor(*this, t, "input", index, out);
}

kiln_status* Call::output(int index, Operand* out) const {
  kiln_kernel_tensor t = {};
  t.struct_size = sizeof(t);
  KILN_GPU_CALL_TRY(host().ctx_get_output(ctx_, index, &t));
  return read_tensor(*this, t, "output", index, out);
}

kiln_status* Call::attr(const char* name, kiln_attr_value* out, bool* present) const {
  *out = kiln_attr_value{};
  out->struct_size = sizeof(*out);
  kiln_status* status = host().ctx_get_attr(ctx_, name, out);
  *present = status == nullptr;
  // The only failure for a valid context is NOT_FOUND (left at its default); ours to free.
  if (status != nullptr &&
      KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, host().struct_size)) {
    host().status_destroy(status);
  }
  return nullptr;
}

kiln_status* Call::attr_int(const char* name, int64_t default_value, int64_t* out) const {
  kiln_attr_value v;
  bool has = false;
  KILN_GPU_CALL_TRY(attr(name, &v, &has));
  if (!has) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind != KILN_ATTR_INT && v.kind != KILN_ATTR_BOOL) {
    return error(KILN_STATUS_INVALID_ARGUMENT, std::string("attribute '") + name + "' must be int");
  }
  *out = v.i;
  return nullptr;
}

kiln_status* Call::attr_float(const char* name, double default_value, double* out) const {
  kiln_attr_value v;
  bool has = false;
  KILN_GPU_CALL_TRY(attr(name, &v, &has));
  if (!has) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind == KILN_ATTR_FLOAT) {
    *out = v.f;
  } else if (v.kind == KILN_ATTR_INT) {
    *out = static_cast<double>(v.i);
  } else {
    return error(KILN_STATUS_INVALID_ARGUMENT,
                 std::string("attribute '") + name + "' must be a float");
  }
  return nullptr;
}

kiln_status* Call::attr_string(const char* name, const char* default_value,
                               std::string* out) const {
  kiln_attr_value v;
  bool has = false;
  KILN_GPU_CALL_TRY(attr(name, &v, &has));
  if (!has) {
    *out = default_value;
    return nullptr;
  }
  if (v.kind != KILN_ATTR_STRING || v.s == nullptr) {
    return error(KILN_STATUS_INVALID_ARGUMENT,
                 std::string("attribute '") + name + "' must be a string");
  }
  *out = v.s;
  return nullptr;
}

kiln_status* Call::attr_ints(const char* name, std::vector<int64_t>* out, bool* present) const {
  kiln_attr_value v;
  bool has = false;
  KILN_GPU_CALL_TRY(attr(name, &v, &has));
  if (present != nullptr) *present = has;
  out->clear();
  if (!has) return nullptr;
  if (v.kind != KILN_ATTR_INTS || (v.count > 0 && v.ints == nullptr)) {
    return error(KILN_STATUS_INVALID_ARGUMENT,
                 std::string("attribute '") + name + "' must be a list of ints");
  }
  out->assign(v.ints, v.ints + v.count);
  return nullptr;
}

kiln_status* Call::normalize_axis(int64_t axis, int rank, const char* what, int* out) const {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    return error(KILN_STATUS_INVALID_ARGUMENT, std::string(what) + " " + std::to_string(axis) +
                                                   " is out of range for rank " +
                                                   std::to_string(rank));
  }
  *out = static_cast<int>(a);
  return nullptr;
}

kiln_status* Call::begin() {
  const DeviceInfo* info = nullptr;
  const Status status = [&]() -> Status {
    KILN_GPU_RETURN_IF_ERROR(backend_->lookup(ordinal_, &device_));
    KILN_GPU_RETURN_IF_ERROR(device_->info(&info));
    return device_->activate();
  }();
  if (!status.ok()) {
    return Status(status.code(), where_ + ": " + status.message()).release();
  }
  multiprocessors_ = std::max(info->multiprocessors, 1);
  stream_ = device_->stream_for(host_stream_);
  return nullptr;
}

kiln_status* Call::scratch(size_t bytes, void** out) const {
  return host().ctx_allocate_scratch(ctx_, bytes, out);
}

kiln_status* Call::launched(const char* kernel) const {
  const gpuError_t error = gpuGetLastError();
  if (error != gpuSuccess) {
    return call_error(ordinal_, "launch", error, std::string(kernel) + " for " + where_).release();
  }
  return nullptr;
}

// Kernels never wait: NULL-stream work stays queued in the device's NULL-stream order, which the
// next copy to the host (or a free) waits for. A fault in a kernel therefore surfaces at that
// copy or at synchronize; KILN_GPU_SYNC_KERNELS=1 waits after every kernel, naming the node.
kiln_status* Call::finish() const {
  static const bool wait = [] {
    const char* v = std::getenv("KILN_GPU_SYNC_KERNELS");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  if (device_ == nullptr || !wait) return nullptr;
  const gpuError_t error = gpuStreamSynchronize(stream_);
  if (error != gpuSuccess) {
    return call_error(ordinal_, KILN_GPU_NAME(gpuStreamSynchronize), error, "after " + where_)
        .release();
  }
  return nullptr;
}

kiln_status* Call::error(int32_t code, const std::string& message) const {
  return Status(code, where_ + ": " + message).release();
}

kiln_status* run_call(kiln_kernel_context* ctx, void* user_data, CallBody body) {
  return guarded("kernel", [&]() -> kiln_status* {
    const auto* info = static_cast<const KernelInfo*>(user_data);
    Call call(ctx, info->backend);
    (void)gpuGetLastError();  // start clean, so a launch check blames only this kernel
    KILN_GPU_CALL_TRY(body(call, user_data));
    return call.finish();
  });
}

kiln_status* register_gpu_kernel(const kiln_host_api* host, kiln_registrar* registrar,
                                 const char* op, const std::vector<int32_t>& dtypes,
                                 int32_t dtype_source, kiln_kernel_fn fn, const KernelInfo* info,
                                 int32_t priority) {
  const std::string name = std::string(KILN_GPU_PLUGIN_NAME ".") + op;
  kiln_kernel_def def = {};
  def.struct_size = sizeof(def);
  def.op = op;
  def.device_api = KILN_GPU_DEVICE_API;
  def.dtypes = dtypes.empty() ? nullptr : dtypes.data();
  def.num_dtypes = dtypes.size();
  def.dtype_source = dtype_source;
  def.priority = priority;
  def.compute = fn;
  def.user_data = const_cast<KernelInfo*>(info);
  def.name = name.c_str();
  return host->register_kernel(registrar, &def);
}

unsigned grid_for(int64_t items, int threads, int32_t multiprocessors) {
  const int64_t wanted = std::max<int64_t>((items + threads - 1) / threads, 1);
  const int64_t cap = static_cast<int64_t>(std::max(multiprocessors, 1)) * 16;
  return static_cast<unsigned>(std::min(wanted, cap));
}

}  // namespace kiln::gpu
