// A small but real device plugin for the ABI tests: device API "testdev" with two accelerator
// devices ("gpu" label, not host-addressable as far as kiln knows, so every transfer goes through
// its copy function) whose memory is malloc'd; an f32 "add" kernel, two "mul" kernels of
// different priority, and custom ops: scale (attribute + scratch), positive (data-dependent
// shape), fail (a kernel error) and calls (how many add/mul/scale kernel calls ran so far).
// Streams and graph capture (ABI 1.1) as a GPU runtime has them, in miniature: while a stream
// is capturing, the add, mul and scale kernels record their work on it instead of doing it, and
// a launched graph does the recorded work; positive cannot be recorded (it must read its input
// to size its output), so it fails a capture, as a kernel that waits for a GPU would.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kiln/kiln_plugin.h"

#ifndef TESTDEV_NAME
#define TESTDEV_NAME "testdev"
#endif

namespace {

const kiln_host_api* g_host = nullptr;
constexpr int32_t kDevices = 2;
constexpr uint64_t kTotalMemory = 1ull << 30;
std::atomic<uint64_t> g_used[kDevices];

kiln_status* error(int32_t code, const std::string& message) {
  return g_host->status_create(code, message.c_str());
}

kiln_status* check(int32_t ordinal) {
  if (ordinal < 0 || ordinal >= kDevices) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "testdev: no device " + std::to_string(ordinal));
  }
  return nullptr;
}

int32_t get_count(void*, const char** out_reason) {
  if (out_reason) *out_reason = "";
  return kDevices;
}

kiln_status* get_properties(void*, int32_t ordinal, kiln_device_properties* out) {
  if (kiln_status* s = check(ordinal)) return s;
  static const char* kNames[kDevices] = {"Test Device 0", "Test Device 1"};
  out->name = kNames[ordinal];
  out->total_memory = kTotalMemory;
  out->compute_major = 1;
  out->compute_minor = ordinal;
  return nullptr;
}

// Each block records its size in front, so deallocate can keep the per-device usage exact.
kiln_status* allocate(void*, int32_t ordinal, size_t bytes, void** out_ptr) {
  if (kiln_status* s = check(ordinal)) return s;
  if (bytes > kTotalMemory) {
    return error(KILN_STATUS_RESOURCE_EXHAUSTED,
                 "testdev: " + std::to_string(bytes) + " bytes is more than the device has");
  }
  auto* block = static_cast<uint64_t*>(std::aligned_alloc(64, 64 + (bytes + 63) / 64 * 64));
  if (block == nullptr) return error(KILN_STATUS_RESOURCE_EXHAUSTED, "testdev: out of memory");
  block[0] = bytes;
  g_used[ordinal] += bytes;
  *out_ptr = reinterpret_cast<char*>(block) + 64;
  return nullptr;
}

void deallocate(void*, int32_t ordinal, void* ptr) {
  if (ptr == nullptr || ordinal < 0 || ordinal >= kDevices) return;
  auto* block = reinterpret_cast<uint64_t*>(static_cast<char*>(ptr) - 64);
  g_used[ordinal] -= block[0];
  std::free(block);
}

kiln_status* copy(void*, int32_t ordinal, int32_t kind, void* dst, const void* src, size_t bytes,
                  void*) {
  if (kiln_status* s = check(ordinal)) return s;
  if (kind < KILN_COPY_HOST_TO_DEVICE || kind > KILN_COPY_DEVICE_TO_DEVICE) {
    return error(KILN_STATUS_INVALID_ARGUMENT, "testdev: bad copy kind");
  }
  std::memmove(dst, src, bytes);
  return nullptr;
}

kiln_status* memset_zero(void*, int32_t ordinal, void* dst, size_t bytes, void*) {
  if (kiln_status* s = check(ordinal)) return s;
  std::memset(dst, 0, bytes);
  return nullptr;
}

kiln_status* synchronize(void*, int32_t ordinal) { return check(ordinal); }

kiln_status* get_stats(void*, int32_t ordinal, kiln_device_stats* out) {
  if (kiln_status* s = check(ordinal)) return s;
  out->total_memory = kTotalMemory;
  out->free_memory = kTotalMemory - g_used[ordinal].load();
  return nullptr;
}

// ---- streams and graphs ----

struct Stream {
  bool capturing = false;
  bool broken = false;  // something that cannot be recorded ran while capturing
  std::vector<std::function<void()>> recorded;
};
struct Graph {
  std::vector<std::function<void()>> work;
};
std::atomic<int64_t> g_kernel_calls{0};  // add/mul/scale computes (not replays)

kiln_status* stream_create(void*, int32_t ordinal, void** out) {
  if (kiln_status* s = check(ordinal)) return s;
  *out = new Stream;
  return nullptr;
}
void stream_destroy(void*, int32_t, void* stream) { delete static_cast<Stream*>(stream); }
kiln_status* stream_synchronize(void*, int32_t ordinal, void* stream) {
  if (kiln_status* s = check(ordinal)) return s;
  if (stream != nullptr && static_cast<Stream*>(stream)->capturing) {
    static_cast<Stream*>(stream)->broken = true;
    return error(KILN_STATUS_FAILED_PRECONDITION, "testdev: a capturing stream cannot be waited for");
  }
  return nullptr;
}
kiln_status* graph_begin_capture(void*, int32_t ordinal, void* stream) {
  if (kiln_status* s = check(ordinal)) return s;
  auto* st = static_cast<Stream*>(stream);
  st->capturing = true;
  st->broken = false;
  st->recorded.clear();
  return nullptr;
}
kiln_status* graph_end_capture(void*, int32_t ordinal, void* stream, void** out_graph) {
  if (kiln_status* s = check(ordinal)) return s;
  auto* st = static_cast<Stream*>(stream);
  st->capturing = false;
  *out_graph = nullptr;
  if (st->broken) return error(KILN_STATUS_FAILED_PRECONDITION, "testdev: the capture was broken");
  auto* graph = new Graph;
  graph->work.swap(st->recorded);
  *out_graph = graph;
  return nullptr;
}
kiln_status* graph_launch(void*, int32_t ordinal, void* graph, void*) {
  if (kiln_status* s = check(ordinal)) return s;
  for (const auto& work : static_cast<Graph*>(graph)->work) work();
  return nullptr;
}
void graph_destroy(void*, int32_t, void* graph) { delete static_cast<Graph*>(graph); }

// Does `work` now, or records it when the kernel's stream is capturing.
void run_or_record(kiln_kernel_context* ctx, std::function<void()> work) {
  auto* stream = static_cast<Stream*>(g_host->ctx_get_stream(ctx));
  if (stream != nullptr && stream->capturing) {
    stream->recorded.push_back(std::move(work));
  } else {
    work();
  }
}

// ---- kernels ----

kiln_kernel_tensor blank_tensor() {
  kiln_kernel_tensor t{};
  t.struct_size = sizeof t;
  return t;
}

struct Operands {
  kiln_kernel_tensor a = blank_tensor();
  kiln_kernel_tensor b = blank_tensor();
  kiln_kernel_tensor out = blank_tensor();
};

kiln_status* binary_operands(kiln_kernel_context* ctx, Operands* o) {
  if (kiln_status* s = g_host->ctx_get_input(ctx, 0, &o->a)) return s;
  if (kiln_status* s = g_host->ctx_get_input(ctx, 1, &o->b)) return s;
  if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &o->out)) return s;
  if (o->a.num_elements != o->b.num_elements || o->a.num_elements != o->out.num_elements) {
    return error(KILN_STATUS_INVALID_ARGUMENT,
                 std::string("testdev: ") + g_host->ctx_get_node_name(ctx) + " needs equal shapes");
  }
  return nullptr;
}

kiln_status* add_f32(kiln_kernel_context* ctx, void*) {
  Operands o;
  if (kiln_status* s = binary_operands(ctx, &o)) return s;
  const float* a = static_cast<const float*>(o.a.data);
  const float* b = static_cast<const float*>(o.b.data);
  float* out = static_cast<float*>(o.out.data);
  const int64_t n = o.out.num_elements;
  ++g_kernel_calls;
  run_or_record(ctx, [=] {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  });
  return nullptr;
}

kiln_status* mul_f32(kiln_kernel_context* ctx, void*) {
  Operands o;
  if (kiln_status* s = binary_operands(ctx, &o)) return s;
  const float* a = static_cast<const float*>(o.a.data);
  const float* b = static_cast<const float*>(o.b.data);
  float* out = static_cast<float*>(o.out.data);
  const int64_t n = o.out.num_elements;
  ++g_kernel_calls;
  run_or_record(ctx, [=] {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
  });
  return nullptr;
}

kiln_status* mul_must_not_run(kiln_kernel_context*, void*) {
  return error(KILN_STATUS_INTERNAL,
               "testdev: the priority-0 mul kernel ran instead of priority 3");
}

// out = x * factor, through scratch memory (so scratch allocation is exercised).
kiln_status* scale_f32(kiln_kernel_context* ctx, void*) {
  kiln_kernel_tensor x = blank_tensor(), out = blank_tensor();
  if (kiln_status* s = g_host->ctx_get_input(ctx, 0, &x)) return s;
  if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &out)) return s;
  double factor = 2.0;
  kiln_attr_value attr{};
  attr.struct_size = sizeof attr;
  kiln_status* s = g_host->ctx_get_attr(ctx, "factor", &attr);
  if (s == nullptr) {
    if (attr.kind != KILN_ATTR_FLOAT) {
      return error(KILN_STATUS_INVALID_ARGUMENT,
                   "testdev.scale: attribute 'factor' must be a float");
    }
    factor = attr.f;
  } else {
    g_host->status_destroy(s);  // absent: the default
  }
  void* scratch = nullptr;
  const size_t bytes = static_cast<size_t>(x.num_elements) * sizeof(float);
  if (kiln_status* e = g_host->ctx_allocate_scratch(ctx, bytes, &scratch)) return e;
  float* tmp = static_cast<float*>(scratch);
  const float* in = static_cast<const float*>(x.data);
  const int64_t n = x.num_elements;
  void* dst = out.data;
  const auto f = static_cast<float>(factor);
  ++g_kernel_calls;
  run_or_record(ctx, [=] {
    for (int64_t i = 0; i < n; ++i) tmp[i] = in[i] * f;
    std::memcpy(dst, tmp, bytes);
  });
  return nullptr;
}

// The positive elements of x, in order: a data-dependent output shape.
kiln_status* positive_f32(kiln_kernel_context* ctx, void*) {
  auto* stream = static_cast<Stream*>(g_host->ctx_get_stream(ctx));
  if (stream != nullptr && stream->capturing) {
    stream->broken = true;
    return error(KILN_STATUS_FAILED_PRECONDITION,
                 "testdev.positive reads its input to size its output; it cannot be recorded");
  }
  kiln_kernel_tensor x = blank_tensor(), out = blank_tensor();
  if (kiln_status* s = g_host->ctx_get_input(ctx, 0, &x)) return s;
  const float* in = static_cast<const float*>(x.data);
  int64_t n = 0;
  for (int64_t i = 0; i < x.num_elements; ++i) n += in[i] > 0.0f;
  if (kiln_status* s = g_host->ctx_set_output_shape(ctx, 0, &n, 1)) return s;
  if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &out)) return s;
  float* o = static_cast<float*>(out.data);
  for (int64_t i = 0; i < x.num_elements; ++i)
    if (in[i] > 0.0f) *o++ = in[i];
  return nullptr;
}

// out[0] = the add/mul/scale kernel calls so far (replayed graphs call no kernel).
kiln_status* calls_f32(kiln_kernel_context* ctx, void*) {
  kiln_kernel_tensor out = blank_tensor();
  if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &out)) return s;
  const auto n = static_cast<float>(g_kernel_calls.load());
  float* o = static_cast<float*>(out.data);
  run_or_record(ctx, [=] { *o = n; });
  return nullptr;
}

kiln_status* fail(kiln_kernel_context*, void*) {
  return error(KILN_STATUS_DATA_LOSS, "the test kernel fails on purpose");
}

kiln_status* register_kernel(kiln_registrar* r, const char* op, kiln_kernel_fn fn, int32_t priority,
                             const char* name) {
  static const int32_t kF32[] = {KILN_DTYPE_FLOAT32};
  kiln_kernel_def def{};
  def.struct_size = sizeof def;
  def.op = op;
  def.device_api = "testdev";
  def.dtypes = kF32;
  def.num_dtypes = 1;
  def.dtype_source = 0;
  def.priority = priority;
  def.compute = fn;
  def.name = name;
  return g_host->register_kernel(r, &def);
}

kiln_status* register_op(kiln_registrar* r, const char* name, int32_t inputs) {
  kiln_op_def op{};
  op.struct_size = sizeof op;
  op.name = name;
  op.min_inputs = inputs;
  op.max_inputs = inputs;
  op.min_outputs = 1;
  op.max_outputs = 1;
  op.doc = "a test op";
  return g_host->register_op(r, &op);
}

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* r) {
  g_host = host;
  kiln_device_api api{};
  api.struct_size = sizeof api;
  api.api = "testdev";
  api.label = "gpu";
  api.is_host = 0;
  api.get_count = get_count;
  api.get_properties = get_properties;
  api.allocate = allocate;
  api.deallocate = deallocate;
  api.copy = copy;
  api.memset_zero = memset_zero;
  api.synchronize = synchronize;
  api.get_stats = get_stats;
  api.stream_create = stream_create;
  api.stream_destroy = stream_destroy;
  api.stream_synchronize = stream_synchronize;
  api.graph_begin_capture = graph_begin_capture;
  api.graph_end_capture = graph_end_capture;
  api.graph_launch = graph_launch;
  api.graph_destroy = graph_destroy;
  if (kiln_status* s = host->register_device_api(r, &api)) return s;
  if (kiln_status* s = register_op(r, "testdev.scale", 1)) return s;
  if (kiln_status* s = register_op(r, "testdev.positive", 1)) return s;
  if (kiln_status* s = register_op(r, "testdev.fail", 1)) return s;
  if (kiln_status* s = register_op(r, "testdev.calls", 1)) return s;
  if (kiln_status* s = register_kernel(r, "add", add_f32, 0, "testdev.add.f32")) return s;
  if (kiln_status* s = register_kernel(r, "mul", mul_must_not_run, 0, "testdev.mul.slow")) return s;
  if (kiln_status* s = register_kernel(r, "mul", mul_f32, 3, "testdev.mul.f32")) return s;
  if (kiln_status* s = register_kernel(r, "testdev.scale", scale_f32, 0, "testdev.scale.f32"))
    return s;
  if (kiln_status* s =
          register_kernel(r, "testdev.positive", positive_f32, 0, "testdev.positive.f32"))
    return s;
  if (kiln_status* s = register_kernel(r, "testdev.fail", fail, 0, "testdev.fail")) return s;
  if (kiln_status* s = register_kernel(r, "testdev.calls", calls_f32, 0, "testdev.calls")) return s;
  host->log(KILN_LOG_DEBUG, TESTDEV_NAME, "initialized");
  return nullptr;
}

const kiln_plugin_api kApi = {sizeof(kiln_plugin_api),
                              KILN_PLUGIN_ABI_VERSION,
                              TESTDEV_NAME,
                              "1.2.3",
                              nullptr,
                              initialize,
                              nullptr,
                              nullptr};

}  // namespace

extern "C" {
KILN_PLUGIN_DEFINE_ENTRY(kApi)
}
