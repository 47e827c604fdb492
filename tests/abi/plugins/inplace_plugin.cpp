// A kernel library for the tests of in-place custom ops (ops.inplace_custom): "test.accumulate"
// adds its float32 operand 1 into its buffer operand 0 on the CPU, in place, and, when the node
// states an output, also writes the updated contents there.
#include <cstring>
#include <string>

#include "kiln/kiln_plugin.h"

namespace {

const kiln_host_api* g_host = nullptr;

kiln_status* error(const std::string& message) {
  return g_host->status_create(KILN_STATUS_INVALID_ARGUMENT, message.c_str());
}

kiln_kernel_tensor blank_tensor() {
  kiln_kernel_tensor t{};
  t.struct_size = sizeof t;
  return t;
}

kiln_status* accumulate_f32(kiln_kernel_context* ctx, void*) {
  kiln_kernel_tensor buffer = blank_tensor(), x = blank_tensor();
  if (kiln_status* s = g_host->ctx_get_input(ctx, 0, &buffer)) return s;
  if (kiln_status* s = g_host->ctx_get_input(ctx, 1, &x)) return s;
  if (x.dtype != KILN_DTYPE_FLOAT32 || x.num_elements != buffer.num_elements) {
    return error(
        "test.accumulate: operand 1 must be float32 with as many elements as the "
        "buffer (" +
        std::to_string(buffer.num_elements) + ")");
  }
  float* acc = static_cast<float*>(buffer.data);  // the buffer: written in place
  const float* in = static_cast<const float*>(x.data);
  for (int64_t i = 0; i < buffer.num_elements; ++i) acc[i] += in[i];
  if (g_host->ctx_get_output_count(ctx) == 1) {
    kiln_kernel_tensor out = blank_tensor();
    if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &out)) return s;
    if (out.num_elements != buffer.num_elements) {
      return error("test.accumulate: the output must have as many elements as the buffer");
    }
    std::memcpy(out.data, acc, static_cast<size_t>(buffer.num_elements) * sizeof(float));
  }
  return nullptr;
}

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* r) {
  g_host = host;
  kiln_op_def op{};
  op.struct_size = sizeof op;
  op.name = "test.accumulate";
  op.min_inputs = 2;
  op.max_inputs = 2;
  op.min_outputs = 0;
  op.max_outputs = 1;
  op.doc = "buffer += x, in place (a test of inplace_custom)";
  if (kiln_status* s = host->register_op(r, &op)) return s;
  static const int32_t kF32[] = {KILN_DTYPE_FLOAT32};
  kiln_kernel_def def{};
  def.struct_size = sizeof def;
  def.op = "test.accumulate";
  def.device_api = "cpu";
  def.dtypes = kF32;
  def.num_dtypes = 1;
  def.dtype_source = 0;
  def.compute = accumulate_f32;
  def.name = "test.accumulate.f32";
  return host->register_kernel(r, &def);
}

const kiln_plugin_api kApi = {sizeof(kiln_plugin_api),
                              KILN_PLUGIN_ABI_VERSION,
                              "inplace_ops",
                              "1.0.0",
                              nullptr,
                              initialize,
                              nullptr,
                              nullptr};

}  // namespace

extern "C" {
KILN_PLUGIN_DEFINE_ENTRY(kApi)
}
