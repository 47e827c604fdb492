// gpu_plugin_probe.cpp: loads GPU plugins with dlopen through a minimal host of its own (no
// libkiln) and checks them through the plugin ABI: the device count or the reason there is none,
// and on each device the properties, allocation, copies, memset, streams, stats, the float32 add
// kernel against the host's sum (aligned, unaligned and tail sizes, NULL and created streams),
// the refusal of shapes that do not broadcast and an out-of-memory status.
//
//   kiln_gpu_probe [--expect-devices] PLUGIN.so...
// Exit status: 0 when every check passed; 1 otherwise. Without --expect-devices a plugin that
// loads and reports zero devices with a reason passes.
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiln/kiln_plugin.h"

// ---- A minimal host ------------------------------------------------------------------------

struct kiln_status {
  int32_t code;
  std::string message;
};

struct ProbeTensor {
  void* data = nullptr;
  int32_t dtype = KILN_DTYPE_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t num_elements = 1;
};

struct kiln_kernel_context {
  std::vector<ProbeTensor> inputs;
  std::vector<ProbeTensor> outputs;
  int32_t ordinal = 0;
  void* stream = nullptr;
};

struct kiln_registrar {
  std::vector<kiln_device_api> device_apis;
  std::vector<kiln_kernel_def> kernels;
};

namespace {

kiln_status* status_create(int32_t code, const char* message) {
  return new kiln_status{code, message != nullptr ? message : ""};
}

void host_log(int32_t level, const char* plugin, const char* message) {
  std::fprintf(stdout, "  [%s log %d] %s\n", plugin, level, message);
}

void* host_allocate(size_t bytes, size_t alignment) {
  void* p = nullptr;
  return posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, bytes) == 0
             ? p
             : nullptr;
}

void host_deallocate(void* p) { std::free(p); }

kiln_status* register_device_api(kiln_registrar* r, const kiln_device_api* api) {
  r->device_apis.push_back(*api);
  return nullptr;
}

kiln_status* register_op(kiln_registrar*, const kiln_op_def*) { return nullptr; }

kiln_status* register_kernel(kiln_registrar* r, const kiln_kernel_def* kernel) {
  r->kernels.push_back(*kernel);
  return nullptr;
}

void fill(const ProbeTensor& t, kiln_kernel_tensor* out) {
  out->data = t.data;
  out->dtype = t.dtype;
  out->rank = static_cast<int32_t>(t.shape.size());
  out->shape = t.shape.data();
  out->strides = t.strides.data();
  out->num_elements = t.num_elements;
}

int32_t ctx_get_input_count(const kiln_kernel_context* c) {
  return static_cast<int32_t>(c->inputs.size());
}
int32_t ctx_get_output_count(const kiln_kernel_context* c) {
  return static_cast<int32_t>(c->outputs.size());
}
kiln_status* ctx_get_input(const kiln_kernel_context* c, int32_t i, kiln_kernel_tensor* out) {
  if (i < 0 || i >= ctx_get_input_count(c)) return status_create(KILN_STATUS_OUT_OF_RANGE, "input");
  fill(c->inputs[static_cast<size_t>(i)], out);
  return nullptr;
}
kiln_status* ctx_get_output(kiln_kernel_context* c, int32_t i, kiln_kernel_tensor* out) {
  if (i < 0 || i >= ctx_get_output_count(c)) {
    return status_create(KILN_STATUS_OUT_OF_RANGE, "output");
  }
  fill(c->outputs[static_cast<size_t>(i)], out);
  return nullptr;
}
kiln_status* ctx_set_output_shape(kiln_kernel_context*, int32_t, const int64_t*, int32_t) {
  return status_create(KILN_STATUS_UNIMPLEMENTED, "probe host: no data-dependent shapes");
}
kiln_status* ctx_get_attr(const kiln_kernel_context*, const char*, kiln_attr_value*) {
  return status_create(KILN_STATUS_NOT_FOUND, "probe host: no attributes");
}
int32_t ctx_get_num_threads(const kiln_kernel_context*) { return 1; }
int32_t ctx_get_device_ordinal(const kiln_kernel_context* c) { return c->ordinal; }
void* ctx_get_stream(const kiln_kernel_context* c) { return c->stream; }
kiln_status* ctx_allocate_scratch(kiln_kernel_context*, size_t, void**) {
  return status_create(KILN_STATUS_UNIMPLEMENTED, "probe host: no scratch");
}
const char* ctx_get_node_name(const kiln_kernel_context*) { return "probe_add"; }
const char* ctx_get_op_name(const kiln_kernel_context*) { return "add"; }

kiln_host_api make_host() {
  kiln_host_api h = {};
  h.struct_size = sizeof(h);
  h.abi_version = KILN_PLUGIN_ABI_VERSION;
  h.status_create = status_create;
  h.log = host_log;
  h.host_allocate = host_allocate;
  h.host_deallocate = host_deallocate;
  h.register_device_api = register_device_api;
  h.register_op = register_op;
  h.register_kernel = register_kernel;
  h.ctx_get_input_count = ctx_get_input_count;
  h.ctx_get_output_count = ctx_get_output_count;
  h.ctx_get_input = ctx_get_input;
  h.ctx_get_output = ctx_get_output;
  h.ctx_set_output_shape = ctx_set_output_shape;
  h.ctx_get_attr = ctx_get_attr;
  h.ctx_get_num_threads = ctx_get_num_threads;
  h.ctx_get_device_ordinal = ctx_get_device_ordinal;
  h.ctx_get_stream = ctx_get_stream;
  h.ctx_allocate_scratch = ctx_allocate_scratch;
  h.ctx_get_node_name = ctx_get_node_name;
  h.ctx_get_op_name = ctx_get_op_name;
  h.status_destroy = [](kiln_status* s) { delete s; };
  return h;
}

// ---- Checks --------------------------------------------------------------------------------

int g_failures = 0;
std::mutex g_report_mutex;

void report(bool ok, const std::string& what, const std::string& detail = {}) {
  std::lock_guard<std::mutex> lock(g_report_mutex);
  std::printf("  %-4s %s%s%s\n", ok ? "ok" : "FAIL", what.c_str(), detail.empty() ? "" : ": ",
              detail.c_str());
  if (!ok) ++g_failures;
}

// True when s is OK; otherwise reports it, frees it and returns false.
bool ok_status(kiln_status* s, const std::string& what) {
  if (s == nullptr) return true;
  report(false, what, "status " + std::to_string(s->code) + ": " + s->message);
  delete s;
  return false;
}

ProbeTensor tensor(void* data, std::vector<int64_t> shape) {
  ProbeTensor t;
  t.data = data;
  t.shape = std::move(shape);
  t.strides.assign(t.shape.size(), 1);
  for (size_t i = t.shape.size(); i-- > 1;) t.strides[i - 1] = t.strides[i] * t.shape[i];
  for (int64_t d : t.shape) t.num_elements *= d;
  return t;
}

const kiln_kernel_def* find_add(const kiln_registrar& r, const char* api) {
  for (const kiln_kernel_def& k : r.kernels) {
    if (std::strcmp(k.op, "add") == 0 && std::strcmp(k.device_api, api) == 0) return &k;
  }
  return nullptr;
}

// a + b on the device for n floats starting `offset` floats into the buffers, on `stream`.
void check_add(const kiln_device_api& api, const kiln_kernel_def& add, int32_t ordinal, int64_t n,
               int64_t offset, void* stream) {
  const std::string what = "add f32 n=" + std::to_string(n) + " offset=" + std::to_string(offset) +
                           (stream ? " on a stream" : " NULL stream");
  const size_t bytes = static_cast<size_t>(n + offset) * sizeof(float);
  std::vector<float> a(static_cast<size_t>(n + offset)), b(a.size()), c(a.size(), -1.0f);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 1000) * 0.25f - 3.0f;
    b[i] = static_cast<float>(i % 7) * 1.5f;
  }
  void* da = nullptr;
  void* db = nullptr;
  void* dc = nullptr;
  if (!ok_status(api.allocate(api.user_data, ordinal, bytes, &da), what + " allocate") ||
      !ok_status(api.allocate(api.user_data, ordinal, bytes, &db), what + " allocate") ||
      !ok_status(api.allocate(api.user_data, ordinal, bytes, &dc), what + " allocate")) {
    return;
  }
  bool ok =
      ok_status(
          api.copy(api.user_data, ordinal, KILN_COPY_HOST_TO_DEVICE, da, a.data(), bytes, stream),
          what + " copy a") &&
      ok_status(
          api.copy(api.user_data, ordinal, KILN_COPY_HOST_TO_DEVICE, db, b.data(), bytes, stream),
          what + " copy b");
  if (ok) {
    kiln_kernel_context ctx;
    ctx.ordinal = ordinal;
    ctx.stream = stream;
    ctx.inputs = {tensor(static_cast<float*>(da) + offset, {n}),
                  tensor(static_cast<float*>(db) + offset, {n})};
    ctx.outputs = {tensor(static_cast<float*>(dc) + offset, {n})};
    ok = ok_status(add.compute(&ctx, add.user_data), what + " kernel") &&
         ok_status(api.copy(api.user_data, ordinal, KILN_COPY_DEVICE_TO_HOST, c.data(), dc, bytes,
                            stream),
                   what + " copy back") &&
         (stream == nullptr ||
          ok_status(api.stream_synchronize(api.user_data, ordinal, stream), what + " sync"));
  }
  if (ok) {
    int64_t bad = 0;
    for (int64_t i = offset; i < n + offset; ++i) {
      if (c[static_cast<size_t>(i)] != a[static_cast<size_t>(i)] + b[static_cast<size_t>(i)]) {
        ++bad;
      }
    }
    report(bad == 0, what, bad == 0 ? "matches the host" : std::to_string(bad) + " mismatches");
  }
  api.deallocate(api.user_data, ordinal, da);
  api.deallocate(api.user_data, ordinal, db);
  api.deallocate(api.user_data, ordinal, dc);
}

// Frees the inputs while kernels reading them are still queued on a stream, then reuses memory of
// the same size at once: the pool must not hand the inputs' memory out before those kernels end.
void check_free_while_in_use(const kiln_device_api& api, const kiln_kernel_def& add,
                             int32_t ordinal) {
  const int64_t n = int64_t{1} << 26;  // 256 MiB per buffer
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  std::vector<float> a(static_cast<size_t>(n), 1.5f), b(a.size(), 2.25f), c(a.size(), 0.0f);
  void* stream = nullptr;
  void* d[3] = {nullptr, nullptr, nullptr};
  if (!ok_status(api.stream_create(api.user_data, ordinal, &stream), "stream_create")) return;
  bool ok = true;
  for (void*& p : d)
    ok = ok && ok_status(api.allocate(api.user_data, ordinal, bytes, &p), "allocate");
  ok = ok &&
       ok_status(api.copy(api.user_data, ordinal, KILN_COPY_HOST_TO_DEVICE, d[0], a.data(), bytes,
                          nullptr),
                 "copy a") &&
       ok_status(api.copy(api.user_data, ordinal, KILN_COPY_HOST_TO_DEVICE, d[1], b.data(), bytes,
                          nullptr),
                 "copy b");
  kiln_kernel_context ctx;
  ctx.ordinal = ordinal;
  ctx.stream = stream;
  ctx.inputs = {tensor(d[0], {n}), tensor(d[1], {n})};
  ctx.outputs = {tensor(d[2], {n})};
  for (int i = 0; ok && i < 50; ++i) ok = ok_status(add.compute(&ctx, add.user_data), "kernel");
  api.deallocate(api.user_data, ordinal, d[0]);  // 50 kernels still queued read these
  api.deallocate(api.user_data, ordinal, d[1]);
  void* reuse[2] = {nullptr, nullptr};
  for (void*& p : reuse) {
    ok = ok && ok_status(api.allocate(api.user_data, ordinal, bytes, &p), "allocate again") &&
         ok_status(api.memset_zero(api.user_data, ordinal, p, bytes, nullptr), "memset");
  }
  ok = ok &&
       ok_status(api.copy(api.user_data, ordinal, KILN_COPY_DEVICE_TO_HOST, c.data(), d[2], bytes,
                          stream),
                 "copy back") &&
       ok_status(api.stream_synchronize(api.user_data, ordinal, stream), "stream_synchronize");
  if (ok) {
    int64_t bad = 0;
    for (float v : c) bad += v != 3.75f;
    report(bad == 0, "memory freed while queued kernels read it is not reused early",
           bad == 0 ? "all 2^26 sums right" : std::to_string(bad) + " wrong sums");
  }
  for (void* p : reuse) api.deallocate(api.user_data, ordinal, p);
  api.deallocate(api.user_data, ordinal, d[2]);
  api.stream_destroy(api.user_data, ordinal, stream);
}

// Several threads at once, each with its own stream, and one on the NULL stream.
void check_threads(const kiln_device_api& api, const kiln_kernel_def& add, int32_t ordinal) {
  const int before = g_failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&api, &add, ordinal, t] {
      void* stream = nullptr;
      if (t > 0 && !ok_status(api.stream_create(api.user_data, ordinal, &stream), "stream")) return;
      for (int i = 0; i < 3; ++i) check_add(api, add, ordinal, (1 << 20) + t * 5 + i, 0, stream);
      if (stream != nullptr) api.stream_destroy(api.user_data, ordinal, stream);
    });
  }
  for (std::thread& t : threads) t.join();
  report(g_failures == before, "4 threads at once (3 on streams, 1 on NULL)");
}

void check_bad_broadcast_refused(const kiln_kernel_def& add, int32_t ordinal) {
  kiln_kernel_context ctx;
  ctx.ordinal = ordinal;
  float dummy[4];  // never dereferenced: the kernel refuses before launching
  ctx.inputs = {tensor(dummy, {4, 3}), tensor(dummy, {5})};
  ctx.outputs = {tensor(dummy, {4, 3})};
  kiln_status* s = add.compute(&ctx, add.user_data);
  report(s != nullptr && s->code == KILN_STATUS_INVALID_ARGUMENT,
         "shapes that do not broadcast are refused", s ? s->message : "kernel returned OK");
  delete s;
}

void check_memset_and_stats(const kiln_device_api& api, int32_t ordinal) {
  const size_t n = 1000;
  void* d = nullptr;
  if (!ok_status(api.allocate(api.user_data, ordinal, n * sizeof(float), &d), "allocate")) return;
  std::vector<float> host(n, 1.0f);
  bool ok = ok_status(api.copy(api.user_data, ordinal, KILN_COPY_HOST_TO_DEVICE, d, host.data(),
                               n * sizeof(float), nullptr),
                      "copy") &&
            ok_status(api.memset_zero(api.user_data, ordinal, d, n * sizeof(float), nullptr),
                      "memset_zero") &&
            ok_status(api.copy(api.user_data, ordinal, KILN_COPY_DEVICE_TO_HOST, host.data(), d,
                               n * sizeof(float), nullptr),
                      "copy back");
  if (ok) {
    bool zero = true;
    for (float v : host) zero = zero && v == 0.0f;
    report(zero, "memset_zero", zero ? "all zero" : "nonzero values remain");
  }
  kiln_device_stats stats = {};
  stats.struct_size = sizeof(stats);
  if (ok_status(api.get_stats(api.user_data, ordinal, &stats), "get_stats")) {
    report(stats.num_allocations >= 1 && stats.bytes_in_use >= n * sizeof(float), "get_stats",
           "total " + std::to_string(stats.total_memory >> 20) + " MiB, free " +
               std::to_string(stats.free_memory >> 20) + " MiB, in use " +
               std::to_string(stats.bytes_in_use) + " B in " +
               std::to_string(stats.num_allocations) + " allocation(s), peak " +
               std::to_string(stats.peak_bytes_in_use) + " B");
  }
  api.deallocate(api.user_data, ordinal, d);
  ok_status(api.synchronize(api.user_data, ordinal), "synchronize");
}

void check_out_of_memory(const kiln_device_api& api, int32_t ordinal) {
  void* d = nullptr;
  kiln_status* s = api.allocate(api.user_data, ordinal, size_t{1} << 50, &d);  // 1 PiB
  report(s != nullptr && s->code == KILN_STATUS_RESOURCE_EXHAUSTED,
         "a 1 PiB allocation fails cleanly", s ? s->message : "it succeeded?");
  delete s;
}

// Memory still held when main() returns, freed by a static destructor: that runs after the vendor
// runtime's own exit teardown, as a host's static objects may. The plugin must neither crash nor
// hang there; the exit status of this program shows it.
struct FreedAtExit {
  kiln_device_api api = {};  // a copy: its function pointers and user_data live in the plugin
  int32_t ordinal = 0;
  void* ptr = nullptr;
  ~FreedAtExit() {
    if (ptr != nullptr) api.deallocate(api.user_data, ordinal, ptr);
  }
} g_freed_at_exit;

void probe_device(const kiln_device_api& api, const kiln_registrar& reg, int32_t ordinal) {
  kiln_device_properties props = {};
  props.struct_size = sizeof(props);
  if (ok_status(api.get_properties(api.user_data, ordinal, &props), "get_properties")) {
    std::printf("  device %s:%d: %s, %llu MiB, compute %d.%d\n", api.api, ordinal, props.name,
                static_cast<unsigned long long>(props.total_memory >> 20), props.compute_major,
                props.compute_minor);
  }
  check_memset_and_stats(api, ordinal);
  const kiln_kernel_def* add = find_add(reg, api.api);
  report(add != nullptr, "an add kernel is registered for " + std::string(api.api));
  if (add != nullptr) {
    check_add(api, *add, ordinal, (1 << 20) + 3, 0, nullptr);  // vectorized body and tail
    check_add(api, *add, ordinal, 1001, 1, nullptr);           // unaligned: scalar path
    check_add(api, *add, ordinal, 3, 0, nullptr);              // tail only
    void* stream = nullptr;
    if (ok_status(api.stream_create(api.user_data, ordinal, &stream), "stream_create")) {
      check_add(api, *add, ordinal, 1 << 22, 0, stream);
      api.stream_destroy(api.user_data, ordinal, stream);
    }
    check_free_while_in_use(api, *add, ordinal);
    check_threads(api, *add, ordinal);
    check_bad_broadcast_refused(*add, ordinal);
  }
  check_out_of_memory(api, ordinal);
  if (g_freed_at_exit.ptr == nullptr &&
      ok_status(api.allocate(api.user_data, ordinal, 1 << 20, &g_freed_at_exit.ptr), "allocate")) {
    g_freed_at_exit.api = api;
    g_freed_at_exit.ordinal = ordinal;
  }
}

void probe(const char* path, bool expect_devices) {
  std::printf("== %s\n", path);
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    report(false, "dlopen", dlerror());
    return;
  }
  auto get_api = reinterpret_cast<kiln_plugin_get_api_fn>(dlsym(handle, KILN_PLUGIN_ENTRY_SYMBOL));
  if (get_api == nullptr) {
    report(false, "entry symbol", "no " KILN_PLUGIN_ENTRY_SYMBOL);
    return;
  }
  const kiln_plugin_api* plugin = get_api(KILN_PLUGIN_ABI_VERSION);
  if (plugin == nullptr) {
    report(false, "ABI", "the plugin refused host ABI " + std::to_string(KILN_PLUGIN_ABI_VERSION));
    return;
  }
  const char* why = "";
  const int32_t score = plugin->score ? plugin->score(&why) : 1;
  std::printf("  plugin %s %s, ABI %u.%u, score %d%s%s\n", plugin->name, plugin->version,
              plugin->abi_version >> 16, plugin->abi_version & 0xffffu, score,
              score > 0 ? "" : ": ", score > 0 ? "" : why);
  static const kiln_host_api host = make_host();
  static kiln_registrar registrar;  // plugins keep pointers into host objects for the process
  registrar = {};
  if (!ok_status(plugin->initialize(&host, &registrar), "initialize")) return;
  report(!registrar.device_apis.empty(), "a device API is registered");
  for (const kiln_device_api& api : registrar.device_apis) {
    const char* reason = "";
    const int32_t count = api.get_count(api.user_data, &reason);
    std::printf("  device API \"%s\" (label %s): %d device(s)%s%s\n", api.api, api.label, count,
                count > 0 ? "" : "; reason: ", count > 0 ? "" : reason);
    if (count == 0) {
      report(!expect_devices && reason != nullptr && reason[0] != '\0',
             "zero devices come with a reason", reason ? reason : "(none)");
    }
    for (int32_t i = 0; i < count; ++i) probe_device(api, registrar, i);
  }
  std::printf("  kernels registered: %zu\n", registrar.kernels.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep our lines in order with the plugin's log
  bool expect_devices = false;
  std::vector<const char*> plugins;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--expect-devices") == 0) {
      expect_devices = true;
    } else {
      plugins.push_back(argv[i]);
    }
  }
  if (plugins.empty()) {
    std::fprintf(stderr, "usage: %s [--expect-devices] PLUGIN.so...\n", argv[0]);
    return 2;
  }
  for (const char* p : plugins) probe(p, expect_devices);
  std::printf("%s: %d failure(s)\n", g_failures == 0 ? "PASS" : "FAIL", g_failures);
  return g_failures == 0 ? 0 : 1;
}
