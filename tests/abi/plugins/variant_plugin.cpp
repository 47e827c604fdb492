// One source for the ABI tests' deliberately unusual plugins; each build picks its behaviour
// with compile definitions (tests/abi/CMakeLists.txt):
//   VARIANT_NAME "x"           the plugin's name (required)
//   VARIANT_ABI v              the ABI version it was "built" for; it serves only that major
//   VARIANT_SCORE n            score() returns n (with VARIANT_SCORE_REASON)
//   VARIANT_INIT_FAILS         initialize() registers a device API, then fails
//   VARIANT_DEVICE_API "api"   registers a host-memory device API of that name ("cpu" label)
//   VARIANT_ADD_KERNEL         with VARIANT_DEVICE_API: an f32 "add" kernel for it
//   VARIANT_ADD_WRONG          with VARIANT_ADD_KERNEL: that kernel gets the last element wrong
//   VARIANT_NO_DEVICES         with VARIANT_DEVICE_API: it finds no device, and says why
//   VARIANT_ORPHAN_KERNELS     kernels for an op and a device API that nobody provides
//   VARIANT_BAD_REGISTRATIONS  checks that malformed registrations are refused
//   VARIANT_NEEDS_DEP          calls into a library that is absent at run time
//   VARIANT_CUSTOM_OP "op"     registers custom op "op" (one input, one output)
#include <cstdlib>
#include <cstring>

#include "kiln/kiln_plugin.h"

#ifndef VARIANT_ABI
#define VARIANT_ABI KILN_PLUGIN_ABI_VERSION
#endif

#ifdef VARIANT_NEEDS_DEP
extern "C" int kiln_test_dep_value(void);
#endif

namespace {

const kiln_host_api* g_host = nullptr;

#ifdef VARIANT_SCORE
int32_t score(const char** out_reason) {
  *out_reason = VARIANT_SCORE_REASON;
  return VARIANT_SCORE;
}
#define VARIANT_SCORE_FN score
#else
#define VARIANT_SCORE_FN nullptr
#endif

int32_t get_count(void*, const char** out_reason) {
#ifdef VARIANT_NO_DEVICES
  *out_reason = "no test accelerator is attached";
  return 0;
#else
  *out_reason = "";
  return 1;
#endif
}
kiln_status* get_properties(void*, int32_t, kiln_device_properties* out) {
  out->name = VARIANT_NAME " device";
  return nullptr;
}
kiln_status* allocate(void*, int32_t, size_t bytes, void** out_ptr) {
  *out_ptr = std::malloc(bytes == 0 ? 1 : bytes);
  return *out_ptr ? nullptr : g_host->status_create(KILN_STATUS_RESOURCE_EXHAUSTED, "oom");
}
void deallocate(void*, int32_t, void* ptr) { std::free(ptr); }
kiln_status* copy(void*, int32_t, int32_t, void* dst, const void* src, size_t bytes, void*) {
  std::memmove(dst, src, bytes);
  return nullptr;
}
kiln_status* memset_zero(void*, int32_t, void* dst, size_t bytes, void*) {
  std::memset(dst, 0, bytes);
  return nullptr;
}
kiln_status* synchronize(void*, int32_t) { return nullptr; }

[[maybe_unused]] kiln_device_api make_device_api(const char* name) {
  kiln_device_api api{};
  api.struct_size = sizeof api;
  api.api = name;
  api.label = "cpu";
  api.is_host = 1;
  api.get_count = get_count;
  api.get_properties = get_properties;
  api.allocate = allocate;
  api.deallocate = deallocate;
  api.copy = copy;
  api.memset_zero = memset_zero;
  api.synchronize = synchronize;
  return api;
}

[[maybe_unused]] kiln_status* add_f32(kiln_kernel_context* ctx, void*) {
  kiln_kernel_tensor a{}, b{}, out{};
  a.struct_size = b.struct_size = out.struct_size = sizeof(kiln_kernel_tensor);
  if (kiln_status* s = g_host->ctx_get_input(ctx, 0, &a)) return s;
  if (kiln_status* s = g_host->ctx_get_input(ctx, 1, &b)) return s;
  if (kiln_status* s = g_host->ctx_get_output(ctx, 0, &out)) return s;
  for (int64_t i = 0; i < out.num_elements; ++i) {
    static_cast<float*>(out.data)[i] =
        static_cast<const float*>(a.data)[i] + static_cast<const float*>(b.data)[i];
  }
#ifdef VARIANT_ADD_WRONG
  // A wrong kernel, for the conformance runner to catch: the last element is off by one.
  if (out.num_elements > 0) static_cast<float*>(out.data)[out.num_elements - 1] += 1.0f;
#endif
  return nullptr;
}

kiln_status* noop(kiln_kernel_context*, void*) { return nullptr; }

[[maybe_unused]] kiln_kernel_def kernel(const char* op, const char* device_api) {
  kiln_kernel_def def{};
  def.struct_size = sizeof def;
  def.op = op;
  def.device_api = device_api;
  def.compute = noop;
  def.name = VARIANT_NAME ".kernel";
  return def;
}

#ifdef VARIANT_BAD_REGISTRATIONS
// NULL when the registration was refused. A plugin cannot read a status's code; the unit tests
// (tests/unit/runtime_registrar_test.cpp) check the codes and messages of the same checks.
kiln_status* expect_refused(kiln_status* s, const char* what) {
  if (s != nullptr) {
    g_host->status_destroy(s);  // a refused registration's status is the plugin's to free
    return nullptr;
  }
  return g_host->status_create(KILN_STATUS_INTERNAL, what);
}

kiln_status* bad_registrations(kiln_registrar* r) {
  kiln_device_api api = make_device_api("badreg_api");
  api.allocate = nullptr;
  if (auto* e = expect_refused(g_host->register_device_api(r, &api),
                               "a device API without allocate was accepted"))
    return e;
  api = make_device_api("bad:name");
  if (auto* e = expect_refused(g_host->register_device_api(r, &api),
                               "a device API named 'bad:name' was accepted"))
    return e;
  api = make_device_api("badreg_api");
  api.label = "tpu";
  if (auto* e = expect_refused(g_host->register_device_api(r, &api), "label 'tpu' was accepted"))
    return e;
  api = make_device_api("badreg_api");
  api.struct_size = 8;
  if (auto* e = expect_refused(g_host->register_device_api(r, &api),
                               "a device API of struct_size 8 was accepted"))
    return e;
  if (auto* e =
          expect_refused(g_host->register_device_api(r, nullptr), "a NULL device API was accepted"))
    return e;

  kiln_op_def op{};
  op.struct_size = sizeof op;
  op.name = "add";
  op.min_outputs = op.max_outputs = 1;
  if (auto* e =
          expect_refused(g_host->register_op(r, &op), "core op 'add' was accepted as a custom op"))
    return e;
  op.name = "badreg.op";
  op.min_inputs = 3;
  op.max_inputs = 1;
  if (auto* e = expect_refused(g_host->register_op(r, &op), "inputs [3, 1] were accepted"))
    return e;

  kiln_kernel_def k = kernel("add", "cpu");
  k.compute = nullptr;
  if (auto* e =
          expect_refused(g_host->register_kernel(r, &k), "a kernel without compute was accepted"))
    return e;
  k = kernel("add", "cpu");
  const int32_t bad_dtypes[] = {KILN_DTYPE_FLOAT32, 999};
  k.dtypes = bad_dtypes;
  k.num_dtypes = 2;
  if (auto* e = expect_refused(g_host->register_kernel(r, &k), "dtype 999 was accepted")) return e;
  k = kernel("add", "cpu");
  k.dtype_source = -2;
  if (auto* e = expect_refused(g_host->register_kernel(r, &k), "dtype_source -2 was accepted"))
    return e;
  k = kernel(nullptr, "cpu");
  if (auto* e =
          expect_refused(g_host->register_kernel(r, &k), "a kernel without an op was accepted"))
    return e;
  return nullptr;
}
#endif

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* r) {
  g_host = host;
#ifdef VARIANT_NEEDS_DEP
  if (kiln_test_dep_value() != 42) return host->status_create(KILN_STATUS_INTERNAL, "dep");
#endif
#ifdef VARIANT_INIT_FAILS
  kiln_device_api api = make_device_api("initfail_api");
  if (kiln_status* s = host->register_device_api(r, &api)) return s;
  return host->status_create(KILN_STATUS_UNAVAILABLE, "the test device is switched off");
#endif
#ifdef VARIANT_DEVICE_API
  kiln_device_api device_api = make_device_api(VARIANT_DEVICE_API);
  if (kiln_status* s = host->register_device_api(r, &device_api)) return s;
#ifdef VARIANT_ADD_KERNEL
  static const int32_t kF32[] = {KILN_DTYPE_FLOAT32};
  kiln_kernel_def add = kernel("add", VARIANT_DEVICE_API);
  add.compute = add_f32;
  add.dtypes = kF32;
  add.num_dtypes = 1;
  if (kiln_status* s = host->register_kernel(r, &add)) return s;
#endif
#endif
#ifdef VARIANT_ORPHAN_KERNELS
  kiln_kernel_def orphan_op = kernel("no.such.op", "testdev");
  if (kiln_status* s = host->register_kernel(r, &orphan_op)) return s;
  kiln_kernel_def orphan_api = kernel("add", "nosuchdev");
  if (kiln_status* s = host->register_kernel(r, &orphan_api)) return s;
#endif
#ifdef VARIANT_BAD_REGISTRATIONS
  if (kiln_status* s = bad_registrations(r)) return s;
#endif
#ifdef VARIANT_CUSTOM_OP
  kiln_op_def custom{};
  custom.struct_size = sizeof custom;
  custom.name = VARIANT_CUSTOM_OP;
  custom.min_inputs = custom.max_inputs = 1;
  custom.min_outputs = custom.max_outputs = 1;
  if (kiln_status* s = host->register_op(r, &custom)) return s;
#endif
  (void)r;
  return nullptr;
}

const kiln_plugin_api kApi = {sizeof(kiln_plugin_api), VARIANT_ABI, VARIANT_NAME, "0.0.1",
                              VARIANT_SCORE_FN,        initialize,  nullptr,      nullptr};

}  // namespace

extern "C" KILN_EXPORT const kiln_plugin_api* kiln_plugin_get_api(uint32_t host_abi_version) {
  // Serves only the major it was built for (or the query), as a real plugin of that ABI would.
  if (host_abi_version == KILN_PLUGIN_ABI_QUERY ||
      (host_abi_version >> 16) == (VARIANT_ABI >> 16)) {
    return &kApi;
  }
  return nullptr;
}
