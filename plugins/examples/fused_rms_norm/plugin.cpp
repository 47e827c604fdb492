// fused_rms_norm: an example third-party kiln plugin. It includes kiln_plugin.h only and reaches
// every host service through the kiln_host_api it is given, so it loads into any kiln of plugin
// ABI 1.x. It registers
//   - the custom op "fused_rms_norm": y = x / sqrt(mean(x * x over the last axis) + epsilon) * w,
//     inputs x (float32, rank >= 1) and w (float32, [last dim of x]), attribute epsilon (float,
//     default 1e-6), with a CPU kernel and, when built with CUDA, a CUDA kernel;
//   - a float32 softmax kernel for the CPU at priority 10, above kiln's built-in one (0).
#include <kiln/kiln_plugin.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#ifdef FUSED_RMS_NORM_HAVE_CUDA
const char* fused_rms_norm_cuda(const float* x, const float* weight, float* y, int64_t rows,
                                int64_t cols, float epsilon, void* stream);
#endif

namespace {

const kiln_host_api* g_host = nullptr;

// An error status naming the op, the node and what is wrong.
kiln_status* fail(const kiln_kernel_context* ctx, int32_t code, const std::string& reason) {
  const std::string message = std::string(g_host->ctx_get_op_name(ctx)) + " node '" +
                              g_host->ctx_get_node_name(ctx) + "': " + reason;
  return g_host->status_create(code, message.c_str());
}

kiln_status* get_tensor(kiln_kernel_context* ctx, bool output, int32_t index,
                        kiln_kernel_tensor* t) {
  t->struct_size = sizeof *t;
  return output ? g_host->ctx_get_output(ctx, index, t) : g_host->ctx_get_input(ctx, index, t);
}

// A float attribute, or `fallback` when the node does not set it.
kiln_status* float_attr(const kiln_kernel_context* ctx, const char* name, double fallback,
                        double* out) {
  kiln_attr_value value{};
  value.struct_size = sizeof value;
  kiln_status* status = g_host->ctx_get_attr(ctx, name, &value);
  if (status != nullptr) {
    // NOT_FOUND: left at its default. Older hosts lack status_destroy; the status then leaks.
    if (KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, g_host->struct_size)) {
      g_host->status_destroy(status);
    }
    *out = fallback;
    return nullptr;
  }
  if (value.kind == KILN_ATTR_FLOAT) {
    *out = value.f;
  } else if (value.kind == KILN_ATTR_INT) {
    *out = static_cast<double>(value.i);
  } else {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT,
                std::string("attribute '") + name + "' must be a number");
  }
  return nullptr;
}

// Reads and checks the operands of fused_rms_norm; rows * cols == x's element count.
struct RmsNormArgs {
  kiln_kernel_tensor x{}, w{}, y{};
  int64_t rows = 0, cols = 0;
  double epsilon = 1e-6;
};

kiln_status* rms_norm_args(kiln_kernel_context* ctx, RmsNormArgs* a) {
  if (g_host->ctx_get_input_count(ctx) != 2 || g_host->ctx_get_output_count(ctx) != 1) {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT, "takes inputs (x, weight) and one output");
  }
  if (kiln_status* s = get_tensor(ctx, false, 0, &a->x)) return s;
  if (kiln_status* s = get_tensor(ctx, false, 1, &a->w)) return s;
  if (kiln_status* s = get_tensor(ctx, true, 0, &a->y)) return s;
  if (a->x.dtype != KILN_DTYPE_FLOAT32 || a->w.dtype != KILN_DTYPE_FLOAT32 ||
      a->y.dtype != KILN_DTYPE_FLOAT32) {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT, "x, weight and the output must be float32");
  }
  if (a->x.rank < 1) return fail(ctx, KILN_STATUS_INVALID_ARGUMENT, "input 0 (x) is a scalar");
  a->cols = a->x.shape[a->x.rank - 1];
  if (a->w.rank != 1 || a->w.shape[0] != a->cols) {
    return fail(
        ctx, KILN_STATUS_INVALID_ARGUMENT,
        "input 1 (weight) must have shape [" + std::to_string(a->cols) + "], the last dim of x");
  }
  if (a->y.num_elements != a->x.num_elements || a->y.rank != a->x.rank) {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT, "the output must have the shape of x");
  }
  a->rows = a->cols == 0 ? 0 : a->x.num_elements / a->cols;
  if (kiln_status* s = float_attr(ctx, "epsilon", 1e-6, &a->epsilon)) return s;
  if (!(a->epsilon >= 0.0) || !std::isfinite(a->epsilon)) {
    return fail(
        ctx, KILN_STATUS_INVALID_ARGUMENT,
        "attribute 'epsilon' is " + std::to_string(a->epsilon) + "; it must be finite and >= 0");
  }
  return nullptr;
}

kiln_status* rms_norm_cpu(kiln_kernel_context* ctx, void*) {
  RmsNormArgs a;
  if (kiln_status* s = rms_norm_args(ctx, &a)) return s;
  const float* x = static_cast<const float*>(a.x.data);
  const float* w = static_cast<const float*>(a.w.data);
  float* y = static_cast<float*>(a.y.data);
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* row = x + r * a.cols;
    double sum = 0.0;
    for (int64_t c = 0; c < a.cols; ++c) sum += static_cast<double>(row[c]) * row[c];
    const double scale = 1.0 / std::sqrt(sum / static_cast<double>(a.cols) + a.epsilon);
    for (int64_t c = 0; c < a.cols; ++c) {
      y[r * a.cols + c] = static_cast<float>(row[c] * scale * w[c]);
    }
  }
  return nullptr;
}

#ifdef FUSED_RMS_NORM_HAVE_CUDA
kiln_status* rms_norm_gpu(kiln_kernel_context* ctx, void*) {
  RmsNormArgs a;
  if (kiln_status* s = rms_norm_args(ctx, &a)) return s;
  if (a.rows > INT32_MAX) {
    return fail(ctx, KILN_STATUS_RESOURCE_EXHAUSTED, "more than 2^31 - 1 rows for one launch");
  }
  const char* error =
      fused_rms_norm_cuda(static_cast<const float*>(a.x.data), static_cast<const float*>(a.w.data),
                          static_cast<float*>(a.y.data), a.rows, a.cols,
                          static_cast<float>(a.epsilon), g_host->ctx_get_stream(ctx));
  if (error != nullptr) return fail(ctx, KILN_STATUS_INTERNAL, std::string("launch: ") + error);
  return nullptr;
}
#endif

// softmax over attribute 'axis' (default -1) of a float32 tensor, the maximum subtracted first
// and the sum kept in double.
kiln_status* softmax_f32(kiln_kernel_context* ctx, void*) {
  kiln_kernel_tensor x{}, y{};
  if (kiln_status* s = get_tensor(ctx, false, 0, &x)) return s;
  if (kiln_status* s = get_tensor(ctx, true, 0, &y)) return s;
  if (x.rank < 1 || y.num_elements != x.num_elements) {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT, "input 0 must have rank >= 1");
  }
  int64_t axis = -1;
  kiln_attr_value value{};
  value.struct_size = sizeof value;
  if (kiln_status* s = g_host->ctx_get_attr(ctx, "axis", &value)) {
    if (KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, g_host->struct_size)) {
      g_host->status_destroy(s);
    }
  } else {
    axis = value.i;
  }
  if (axis < -x.rank || axis >= x.rank) {
    return fail(ctx, KILN_STATUS_INVALID_ARGUMENT,
                "attribute 'axis' " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(x.rank));
  }
  if (axis < 0) axis += x.rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (int64_t d = axis + 1; d < x.rank; ++d) inner *= x.shape[d];
  const int64_t length = x.shape[axis];
  const float* in = static_cast<const float*>(x.data);
  float* out = static_cast<float*>(y.data);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * length * inner + i;
      float m = -INFINITY;
      for (int64_t j = 0; j < length; ++j) m = std::fmax(m, in[base + j * inner]);
      double sum = 0.0;
      for (int64_t j = 0; j < length; ++j) sum += std::exp(double(in[base + j * inner]) - m);
      for (int64_t j = 0; j < length; ++j) {
        out[base + j * inner] =
            static_cast<float>(std::exp(double(in[base + j * inner]) - m) / sum);
      }
    }
  }
  return nullptr;
}

const int32_t kF32[] = {KILN_DTYPE_FLOAT32};

kiln_status* add_kernel(kiln_registrar* r, const char* op, const char* device_api, int32_t priority,
                        kiln_kernel_fn compute, const char* name) {
  kiln_kernel_def k{};
  k.struct_size = sizeof k;
  k.op = op;
  k.device_api = device_api;
  k.dtypes = kF32;
  k.num_dtypes = 1;
  k.dtype_source = 0;
  k.priority = priority;
  k.compute = compute;
  k.name = name;
  return g_host->register_kernel(r, &k);
}

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* r) {
  g_host = host;
  kiln_op_def op{};
  op.struct_size = sizeof op;
  op.name = "fused_rms_norm";
  op.min_inputs = op.max_inputs = 2;
  op.min_outputs = op.max_outputs = 1;
  op.doc = "x / sqrt(mean(x^2, last axis) + epsilon) * weight (float32)";
  if (kiln_status* s = host->register_op(r, &op)) return s;
  if (kiln_status* s =
          add_kernel(r, "fused_rms_norm", "cpu", 0, rms_norm_cpu, "fused_rms_norm.cpu.f32")) {
    return s;
  }
#ifdef FUSED_RMS_NORM_HAVE_CUDA
  // Used only where the cuda plugin provides the "cuda" device API.
  if (kiln_status* s =
          add_kernel(r, "fused_rms_norm", "cuda", 0, rms_norm_gpu, "fused_rms_norm.cuda.f32")) {
    return s;
  }
#endif
  return add_kernel(r, "softmax", "cpu", 10, softmax_f32, "fused_rms_norm.softmax.f32");
}

const kiln_plugin_api kTable = {
    sizeof(kiln_plugin_api),
    KILN_PLUGIN_ABI_VERSION,
    "fused_rms_norm",
    "1.0.0",
    nullptr,  // score: runs anywhere
    initialize,
    nullptr,  // shutdown
    nullptr,  // extensions
};

}  // namespace

KILN_PLUGIN_DEFINE_ENTRY(kTable)
