// elementwise.cu: the elementwise kernels the GPU plugin registers (float32 `add` for now), with
// the checks that turn a request they cannot serve into a clear status.
#include <string>

#include "device.h"
#include "elementwise.cuh"
#include "elementwise.h"
#include "gpu_status.h"

namespace kiln::gpu {
namespace {

kiln_kernel_tensor empty_tensor() {
  kiln_kernel_tensor t = {};
  t.struct_size = sizeof(t);
  return t;
}

std::string shape_string(const kiln_kernel_tensor& t) {
  std::string s = "[";
  for (int32_t i = 0; i < t.rank; ++i) {
    s += (i > 0 ? ", " : "") + std::to_string(t.shape[i]);
  }
  return s + "]";
}

bool same_shape(const kiln_kernel_tensor& x, const kiln_kernel_tensor& y) {
  if (x.rank != y.rank) {
    return false;
  }
  for (int32_t i = 0; i < x.rank; ++i) {
    if (x.shape[i] != y.shape[i]) {
      return false;
    }
  }
  return true;
}

bool contiguous(const kiln_kernel_tensor& t) {
  int64_t expected = 1;
  for (int32_t i = t.rank - 1; i >= 0; --i) {
    if (t.shape[i] != 1 && t.strides[i] != expected) {
      return false;
    }
    expected *= t.shape[i];
  }
  return true;
}

// What the same-shape float32 kernels can serve; anything else is named precisely.
Status check_binary_f32(const std::string& where, const kiln_kernel_tensor& a,
                        const kiln_kernel_tensor& b, const kiln_kernel_tensor& out) {
  const kiln_kernel_tensor* operands[] = {&a, &b, &out};
  const char* names[] = {"input 0", "input 1", "output"};
  for (int i = 0; i < 3; ++i) {
    if (operands[i]->dtype != KILN_DTYPE_FLOAT32) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, where + ": " + names[i] + " has dtype code " +
                                                      std::to_string(operands[i]->dtype) +
                                                      ", this kernel takes float32");
    }
    if (!contiguous(*operands[i])) {
      return Status(KILN_STATUS_UNIMPLEMENTED,
                    where + ": " + names[i] + " is not contiguous; this kernel needs that");
    }
  }
  if (!same_shape(a, b)) {
    return Status(KILN_STATUS_UNIMPLEMENTED,
                  where + ": operands of shapes " + shape_string(a) + " and " + shape_string(b) +
                      " need broadcasting, which the " KILN_GPU_RUNTIME_NAME
                      " kernels do not support yet (same-shape operands only)");
  }
  if (!same_shape(a, out)) {
    return Status(KILN_STATUS_INVALID_ARGUMENT, where + ": output shape " + shape_string(out) +
                                                    " differs from the operands' " +
                                                    shape_string(a));
  }
  return {};
}

// Checks the operands and enqueues out = a + b on the kernel's stream (waiting when it is NULL).
Status run_add_f32(Backend& backend, const std::string& where, int32_t ordinal, void* stream,
                   const kiln_kernel_tensor& a, const kiln_kernel_tensor& b,
                   const kiln_kernel_tensor& out) {
  KILN_GPU_RETURN_IF_ERROR(check_binary_f32(where, a, b, out));
  Device* device = nullptr;
  const DeviceInfo* info = nullptr;
  KILN_GPU_RETURN_IF_ERROR(backend.lookup(ordinal, &device));
  KILN_GPU_RETURN_IF_ERROR(device->info(&info));
  KILN_GPU_RETURN_IF_ERROR(device->activate());
  const gpuError_t error =
      launch_binary_f32(static_cast<const float*>(a.data), static_cast<const float*>(b.data),
                        static_cast<float*>(out.data), a.num_elements, info->multiprocessors,
                        device->stream_for(stream), AddOp{});
  if (error != gpuSuccess) {
    return call_error(ordinal, "launch of binary_f32_kernel<AddOp>", error, where);
  }
  return device->finish(stream, where.c_str());
}

kiln_status* add_f32(kiln_kernel_context* ctx, void* user_data) {
  return guarded("add", [&]() -> kiln_status* {
    const kiln_host_api& h = host();
    const char* node = h.ctx_get_node_name(ctx);
    const std::string where =
        std::string(KILN_GPU_PLUGIN_NAME ".add.f32 (node ") + (node ? node : "?") + ")";
    if (h.ctx_get_input_count(ctx) != 2 || h.ctx_get_output_count(ctx) != 1) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, where + ": expects 2 inputs and 1 output")
          .release();
    }
    kiln_kernel_tensor a = empty_tensor();
    kiln_kernel_tensor b = empty_tensor();
    kiln_kernel_tensor out = empty_tensor();
    KILN_GPU_RETURN_IF_HOST_ERROR(h.ctx_get_input(ctx, 0, &a));
    KILN_GPU_RETURN_IF_HOST_ERROR(h.ctx_get_input(ctx, 1, &b));
    KILN_GPU_RETURN_IF_HOST_ERROR(h.ctx_get_output(ctx, 0, &out));
    return run_add_f32(*static_cast<Backend*>(user_data), where, h.ctx_get_device_ordinal(ctx),
                       h.ctx_get_stream(ctx), a, b, out)
        .release();
  });
}

}  // namespace

kiln_status* register_elementwise_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                          Backend* backend) {
  static const int32_t kFloat32[] = {KILN_DTYPE_FLOAT32};
  kiln_kernel_def add = {};
  add.struct_size = sizeof(kiln_kernel_def);
  add.op = "add";
  add.device_api = KILN_GPU_DEVICE_API;
  add.dtypes = kFloat32;
  add.num_dtypes = 1;
  add.dtype_source = 0;
  add.priority = 0;
  add.compute = add_f32;
  add.user_data = backend;
  add.name = KILN_GPU_PLUGIN_NAME ".add.f32";
  return host->register_kernel(registrar, &add);
}

}  // namespace kiln::gpu
