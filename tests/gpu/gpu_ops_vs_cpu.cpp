// gpu_ops_vs_cpu.cpp: every GPU kernel against the CPU plugin, through the public C ABI only.
// Each case builds a one-op graph, runs it on "cpu" and on the GPU with the same random inputs,
// and compares the outputs (exactly for integers and bools, within a dtype's tolerance for floats).
// Matmul also runs with KILN_GPU_GEMM=own (kiln's tiled GEMM) and =cublaslt, compared with each
// other. Then the error paths: an out-of-range gather index and an impossible allocation fail
// with a clear status, and the session still works afterwards.
//
//   kiln_gpu_ops_check [--bench] [DEVICE_SPEC]     (default "gpu:0")
// Exit status: 0 all passed; 1 a failure; 77 no such device here (skipped, reason printed).
// --bench also times GPU-resident executions: bf16/fp16 matmul 4096 and 8192 (TFLOP/s), and a
// 256 MB float32 add against a 256 MB device-to-device copy (a reshape), in GB/s.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kiln/kiln.h"

namespace {

int g_failures = 0;
int g_passed = 0;

std::string take(kiln_status* s) {
  if (s == nullptr) return "";
  std::string text = std::string(kiln_status_code_get_name(kiln_status_get_code(s))) + ": " +
                     kiln_status_get_message(s);
  kiln_status_destroy(s);
  return text;
}

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
    case KILN_DTYPE_UINT8: return 1;
    case KILN_DTYPE_FLOAT16:
    case KILN_DTYPE_BFLOAT16: return 2;
    case KILN_DTYPE_INT64: return 8;
    default: return 4;
  }
}

const char* dtype_label(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL: return "bool";
    case KILN_DTYPE_FLOAT16: return "f16";
    case KILN_DTYPE_BFLOAT16: return "bf16";
    case KILN_DTYPE_FLOAT32: return "f32";
    case KILN_DTYPE_INT32: return "i32";
    case KILN_DTYPE_INT64: return "i64";
    case KILN_DTYPE_UINT8: return "u8";
    default: return "?";
  }
}

// Host conversions (numpy's rounding: nearest even) for filling inputs and reading outputs.
uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
float bf16_to_f32(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f32_to_f16(float f) {  // inputs are small normal values here
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a < 0x38800000u) return static_cast<uint16_t>(sign);  // below the normal range: zero
  const uint32_t rounded = a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u);
  return static_cast<uint16_t>(sign | (rounded >> 13));
}
float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu;
  const uint32_t m = h & 0x3FFu;
  if (e == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(static_cast<float>(m), -24);
  if (e == 0x1F) return m ? NAN : (sign ? -INFINITY : INFINITY);
  const uint32_t u = sign | ((e + 112) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

double read_element(const std::vector<uint8_t>& bytes, int32_t dtype, size_t i) {
  const uint8_t* p = bytes.data() + i * dtype_size(dtype);
  switch (dtype) {
    case KILN_DTYPE_BOOL: return *p ? 1.0 : 0.0;
    case KILN_DTYPE_FLOAT16: { uint16_t h; std::memcpy(&h, p, 2); return f16_to_f32(h); }
    case KILN_DTYPE_BFLOAT16: { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_f32(h); }
    case KILN_DTYPE_FLOAT32: { float f; std::memcpy(&f, p, 4); return f; }
    case KILN_DTYPE_INT32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case KILN_DTYPE_INT64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    default: return NAN;
  }
}

void write_element(std::vector<uint8_t>& bytes, int32_t dtype, size_t i, double v) {
  uint8_t* p = bytes.data() + i * dtype_size(dtype);
  switch (dtype) {
    case KILN_DTYPE_BOOL: *p = v != 0.0; break;
    case KILN_DTYPE_FLOAT16: { const uint16_t h = f32_to_f16(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case KILN_DTYPE_BFLOAT16: { const uint16_t h = f32_to_bf16(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case KILN_DTYPE_FLOAT32: { const float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
    case KILN_DTYPE_INT32: { const int32_t x = static_cast<int32_t>(v); std::memcpy(p, &x, 4); break; }
    case KILN_DTYPE_INT64: { const int64_t x = static_cast<int64_t>(v); std::memcpy(p, &x, 8); break; }
    case KILN_DTYPE_UINT8: *p = static_cast<uint8_t>(v); break;  // kUniform values in [0, 256)
  }
}

// How to fill an input.
// kUniform: integers in [low, index_bound), as they are (packed uint8 blocks, repeat counts).
enum class Fill { kNormal, kPositive, kAwayFromZero, kSmallInts, kBools, kIndices, kUniform };

struct InputSpec {
  int32_t dtype;
  std::vector<int64_t> shape;
  Fill fill = Fill::kNormal;
  int64_t index_bound = 0;  // kIndices: values in [-bound, bound)
  int64_t low = 0;          // kUniform: values in [low, index_bound)
};

struct AttrSpec {
  std::string name;
  int32_t kind;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
};

AttrSpec attr_int(const char* name, int64_t v) { return {name, KILN_ATTR_INT, v, 0, "", {}}; }
AttrSpec attr_float(const char* name, double v) { return {name, KILN_ATTR_FLOAT, 0, v, "", {}}; }
AttrSpec attr_str(const char* name, const char* v) { return {name, KILN_ATTR_STRING, 0, 0, v, {}}; }
AttrSpec attr_ints(const char* name, std::vector<int64_t> v) {
  return {name, KILN_ATTR_INTS, 0, 0, "", std::move(v)};
}
AttrSpec attr_dtype(const char* name, int32_t v) { return {name, KILN_ATTR_DTYPE, v, 0, "", {}}; }

struct Case {
  std::string op;
  std::vector<InputSpec> inputs;
  std::vector<AttrSpec> attrs;
  double tolerance_scale = 1.0;  // multiplies the dtype's tolerance (long sums)
};

size_t element_count(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

std::vector<uint8_t> make_data(const InputSpec& in, std::mt19937& rng) {
  const size_t n = element_count(in.shape);
  std::vector<uint8_t> bytes(n * dtype_size(in.dtype));
  std::uniform_real_distribution<double> normal(-2.0, 2.0);
  std::uniform_real_distribution<double> positive(0.1, 3.0);
  std::uniform_int_distribution<int> small(-9, 9);
  std::uniform_int_distribution<int> coin(0, 1);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    switch (in.fill) {
      case Fill::kNormal: v = normal(rng); break;
      case Fill::kPositive: v = positive(rng); break;
      case Fill::kAwayFromZero: v = positive(rng) * (coin(rng) ? 1 : -1); break;
      case Fill::kSmallInts: v = small(rng); break;
      case Fill::kBools: v = coin(rng); break;
      case Fill::kIndices:
        v = std::uniform_int_distribution<int64_t>(-in.index_bound, in.index_bound - 1)(rng);
        break;
      case Fill::kUniform:
        v = std::uniform_int_distribution<int64_t>(in.low, in.index_bound - 1)(rng);
        break;
    }
    const bool exact = in.fill == Fill::kIndices || in.fill == Fill::kUniform;
    if ((in.dtype == KILN_DTYPE_INT32 || in.dtype == KILN_DTYPE_INT64) && !exact) {
      v = std::round(v * 3);
    }
    write_element(bytes, in.dtype, i, v);
  }
  return bytes;
}

struct Graph {
  kiln_graph* graph = nullptr;
  ~Graph() { kiln_graph_destroy(graph); }
};

std::string build(const Case& c, Graph* g) {
  std::string error = take(kiln_graph_create(c.op.c_str(), &g->graph));
  if (!error.empty()) return error;
  std::vector<kiln_value*> values(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<kiln_dim> dims;
    for (int64_t d : c.inputs[i].shape) dims.push_back({d, nullptr});
    kiln_tensor_type type = {sizeof(type), c.inputs[i].dtype, dims.size(), dims.data(), nullptr, 0};
    const std::string name = "in" + std::to_string(i);
    error = take(kiln_graph_add_input(g->graph, name.c_str(), &type, &values[i]));
    if (!error.empty()) return error;
  }
  std::vector<kiln_attr> attrs;
  for (const AttrSpec& a : c.attrs) {
    kiln_attr attr = {};
    attr.name = a.name.c_str();
    attr.kind = a.kind;
    attr.i = a.i;
    attr.f = a.f;
    attr.s = a.s.c_str();
    attr.ints = a.ints.data();
    attr.count = a.ints.size();
    attrs.push_back(attr);
  }
  kiln_op_desc desc = {};
  desc.struct_size = sizeof(desc);
  desc.op = c.op.c_str();
  desc.inputs = values.data();
  desc.num_inputs = values.size();
  desc.attrs = attrs.data();
  desc.num_attrs = attrs.size();
  desc.name = "under_test";
  kiln_value* out = nullptr;
  size_t num_outputs = 0;
  error = take(kiln_graph_add_op(g->graph, &desc, &out, 1, &num_outputs));
  if (!error.empty()) return error;
  return take(kiln_graph_set_outputs(g->graph, &out, 1));
}

struct Result {
  std::string error;
  int32_t dtype = 0;
  std::vector<uint8_t> bytes;
  std::string device;
};

Result run_on(kiln_runtime* rt, const char* spec, const Graph& g,
              const std::vector<InputSpec>& specs, const std::vector<std::vector<uint8_t>>& data) {
  Result r;
  kiln_session_options options;
  kiln_session_options_init(&options);
  options.devices = &spec;
  options.num_devices = 1;
  kiln_session* session = nullptr;
  kiln_model* model = nullptr;
  kiln_device* cpu = nullptr;
  std::vector<kiln_tensor*> inputs;
  kiln_tensor* output = nullptr;
  r.error = take(kiln_session_create(rt, &options, &session));
  if (r.error.empty()) r.error = take(kiln_session_load(session, g.graph, nullptr, &model));
  if (r.error.empty()) r.error = take(kiln_runtime_find_device(rt, "cpu", &cpu));
  for (size_t i = 0; r.error.empty() && i < specs.size(); ++i) {
    kiln_tensor* t = nullptr;
    r.error = take(kiln_tensor_create_from_host(cpu, specs[i].dtype, specs[i].shape.data(),
                                                specs[i].shape.size(), data[i].data(),
                                                data[i].size(), &t));
    inputs.push_back(t);
  }
  if (r.error.empty()) {
    r.error = take(kiln_model_execute(model, inputs.data(), inputs.size(), &output, 1));
  }
  if (r.error.empty()) {
    r.dtype = kiln_tensor_get_dtype(output);
    r.bytes.resize(kiln_tensor_get_byte_size(output));
    r.device = std::string(kiln_device_get_api(kiln_tensor_get_device(output))) + ":" +
               std::to_string(kiln_device_get_id(kiln_tensor_get_device(output)));
    r.error = take(kiln_tensor_read(output, r.bytes.data(), r.bytes.size()));
  }
  kiln_tensor_release(output);
  for (kiln_tensor* t : inputs) kiln_tensor_release(t);
  kiln_model_destroy(model);
  kiln_session_destroy(session);
  return r;
}

double tolerance(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32: return 2e-5;
    case KILN_DTYPE_FLOAT16: return 2e-3;
    case KILN_DTYPE_BFLOAT16: return 1.6e-2;
    default: return 0.0;
  }
}

// Counts elements outside |a - b| <= tol * (1 + |b|); NaN must meet NaN.
size_t mismatches(const Result& a, const Result& b, double tol, double* worst) {
  const size_t n = a.bytes.size() / dtype_size(a.dtype);
  size_t bad = 0;
  *worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = read_element(a.bytes, a.dtype, i);
    const double y = read_element(b.bytes, b.dtype, i);
    if (std::isnan(x) || std::isnan(y)) {
      bad += std::isnan(x) != std::isnan(y);
      continue;
    }
    const double err = std::fabs(x - y) / (1.0 + std::fabs(y));
    if (err > *worst) *worst = err;
    if (err > tol) ++bad;
  }
  return bad;
}

void report(bool ok, const std::string& what, const std::string& detail) {
  std::printf("%s %s%s%s\n", ok ? "  ok  " : "  FAIL", what.c_str(), detail.empty() ? "" : ": ",
              detail.c_str());
  if (ok) ++g_passed; else ++g_failures;
}

std::string describe(const Case& c) {
  std::string s = c.op + " " + dtype_label(c.inputs[0].dtype) + " [";
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    s += (i ? "; " : "");
    for (size_t d = 0; d < c.inputs[i].shape.size(); ++d) {
      s += (d ? "x" : "") + std::to_string(c.inputs[i].shape[d]);
    }
  }
  return s + "]";
}

void check_case(kiln_runtime* rt, const char* spec, const Case& c, std::mt19937& rng,
                const char* engine = nullptr) {
  Graph g;
  const std::string what = describe(c) + (engine ? std::string(" (") + engine + ")" : "");
  const std::string error = build(c, &g);
  if (!error.empty()) {
    report(false, what, "graph: " + error);
    return;
  }
  std::vector<std::vector<uint8_t>> data;
  for (const InputSpec& in : c.inputs) data.push_back(make_data(in, rng));
  const Result cpu = run_on(rt, "cpu", g, c.inputs, data);
  if (engine != nullptr) setenv("KILN_GPU_GEMM", engine, 1);
  const Result gpu = run_on(rt, spec, g, c.inputs, data);
  if (engine != nullptr) unsetenv("KILN_GPU_GEMM");
  if (!cpu.error.empty() || !gpu.error.empty()) {
    report(false, what, "cpu: " + (cpu.error.empty() ? "ok" : cpu.error) +
                            "; gpu: " + (gpu.error.empty() ? "ok" : gpu.error));
    return;
  }
  if (gpu.device.rfind("cpu", 0) == 0) {
    report(false, what, "the output came back on " + gpu.device + ", not the GPU");
    return;
  }
  if (cpu.dtype != gpu.dtype || cpu.bytes.size() != gpu.bytes.size()) {
    report(false, what, "output dtype or size differs");
    return;
  }
  double worst = 0;
  const size_t bad = mismatches(gpu, cpu, tolerance(cpu.dtype) * c.tolerance_scale, &worst);
  char detail[128];
  std::snprintf(detail, sizeof(detail), "%zu of %zu differ, worst relative error %.3g", bad,
                cpu.bytes.size() / dtype_size(cpu.dtype), worst);
  report(bad == 0, what, bad ? detail : "");
}

std::vector<Case> cases() {
  const int32_t F32 = KILN_DTYPE_FLOAT32, F16 = KILN_DTYPE_FLOAT16, BF16 = KILN_DTYPE_BFLOAT16;
  const int32_t I32 = KILN_DTYPE_INT32, I64 = KILN_DTYPE_INT64, BOOL = KILN_DTYPE_BOOL;
  const std::vector<int32_t> floats = {F32, F16, BF16};
  const std::vector<int32_t> arithmetic = {F32, F16, BF16, I32, I64};
  std::vector<Case> out;
  for (const char* op : {"add", "sub", "mul", "max", "min"}) {
    for (int32_t t : arithmetic) {
      out.push_back({op, {{t, {67, 129}}, {t, {67, 129}}}, {}});  // same shape, odd tail
      out.push_back({op, {{t, {4, 1, 33}}, {t, {5, 33}}}, {}});   // broadcast both ways
    }
  }
  for (int32_t t : floats) {
    out.push_back({"div", {{t, {3, 1000}}, {t, {1000}, Fill::kAwayFromZero}}, {}});
    out.push_back({"pow", {{t, {2, 500}, Fill::kPositive}, {t, {2, 500}}}, {}});
  }
  out.push_back({"div", {{I32, {700}, Fill::kSmallInts}, {I32, {700}, Fill::kSmallInts}}, {}});
  out.push_back({"pow", {{I64, {300}, Fill::kSmallInts}, {I64, {1}, Fill::kSmallInts}}, {}});
  for (int32_t t : {F32, BF16, I32, I64}) {
    out.push_back({"equal", {{t, {9, 50}, Fill::kSmallInts}, {t, {50}, Fill::kSmallInts}}, {}});
    out.push_back({"greater", {{t, {9, 50}, Fill::kSmallInts}, {t, {9, 50}, Fill::kSmallInts}}, {}});
  }
  out.push_back({"equal", {{BOOL, {300}, Fill::kBools}, {BOOL, {300}, Fill::kBools}}, {}});
  for (const char* op : {"exp", "sigmoid", "tanh", "silu", "gelu", "relu", "negate", "abs"}) {
    for (int32_t t : floats) out.push_back({op, {{t, {3, 1027}}}, {}});
  }
  for (const char* op : {"log", "sqrt", "rsqrt"}) {
    for (int32_t t : floats) out.push_back({op, {{t, {2051}, Fill::kPositive}}, {}});
  }
  for (int32_t t : floats) out.push_back({"gelu", {{t, {1000}}}, {attr_str("approximate", "tanh")}});
  for (const char* op : {"negate", "abs", "relu"}) {
    for (int32_t t : {I32, I64}) out.push_back({op, {{t, {999}, Fill::kSmallInts}}, {}});
  }
  for (int32_t from : {F32, F16, BF16, I32, I64, BOOL}) {
    for (int32_t to : {F32, F16, BF16, I32, I64, BOOL}) {
      if (from == to) continue;
      const Fill fill = from == BOOL ? Fill::kBools : Fill::kSmallInts;
      out.push_back({"cast", {{from, {517}, fill}}, {attr_dtype("dtype", to)}});
    }
  }
  for (int32_t t : {F32, F16, I64, BOOL}) {
    out.push_back({"where",
                   {{BOOL, {8, 1}, Fill::kBools}, {t, {8, 40}, Fill::kSmallInts},
                    {t, {40}, Fill::kSmallInts}},
                   {}});
  }
  for (const char* op : {"sum", "mean", "max", "min", "argmax"}) {
    for (int32_t t : arithmetic) {
      const Fill fill = (t == I32 || t == I64) ? Fill::kSmallInts : Fill::kNormal;
      const double scale = std::string(op) == "sum" ? 20.0 : 4.0;
      out.push_back({op, {{t, {6, 1500}, fill}}, {attr_int("axis", -1)}, scale});
      out.push_back({op, {{t, {5, 77, 9}, fill}}, {attr_int("axis", 1)}, scale});
    }
  }
  for (int32_t t : floats) {
    out.push_back({"softmax", {{t, {7, 1000}}}, {attr_int("axis", -1)}, 4.0});
    out.push_back({"softmax", {{t, {4, 30, 6}}}, {attr_int("axis", 1)}, 4.0});
    out.push_back({"layer_norm", {{t, {9, 768}}, {t, {768}}, {t, {768}}},
                   {attr_float("epsilon", 1e-5)}, 8.0});
  }
  for (int32_t t : {F32, BF16, I64, BOOL}) {
    const Fill fill = t == BOOL ? Fill::kBools : Fill::kSmallInts;
    out.push_back({"reshape", {{t, {6, 10}, fill}}, {attr_ints("shape", {3, 20})}});
    out.push_back({"transpose", {{t, {3, 5, 7}, fill}}, {attr_int("axis_1", 0), attr_int("axis_2", 2)}});
    out.push_back({"permute", {{t, {2, 3, 4, 5}, fill}}, {attr_ints("dims", {3, 1, 0, 2})}});
    out.push_back({"broadcast_to", {{t, {3, 1}, fill}}, {attr_ints("shape", {2, 3, 6})}});
    out.push_back({"slice_tensor", {{t, {10, 12}, fill}},
                   {attr_ints("starts", {1, 11}), attr_ints("stops", {9, 0}),
                    attr_ints("steps", {3, -2})}});
    out.push_back({"concat", {{t, {4, 3}, fill}, {t, {4, 5}, fill}, {t, {4, 1}, fill}},
                   {attr_int("axis", 1)}});
    InputSpec indices{I64, {2, 3}, Fill::kIndices, 7};
    out.push_back({"gather", {{t, {5, 7, 4}, fill}, indices}, {attr_int("axis", 1)}});
    InputSpec indices32{I32, {11}, Fill::kIndices, 5};
    out.push_back({"gather", {{t, {5, 7}, fill}, indices32}, {attr_int("axis", 0)}});
  }
  return out;
}

// Cases of the later kernel families, one file each (kept apart so they grow independently).
#include "cases_math.inc"      // std::vector<Case> math_cases(): unary/logic/scans/sort/top_k
#include "cases_movement.inc"  // std::vector<Case> movement_cases(): data movement, quantized ops

std::vector<Case> matmul_cases() {
  std::vector<Case> out;
  for (int32_t t : {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16, KILN_DTYPE_BFLOAT16}) {
    out.push_back({"matmul", {{t, {100, 300}}, {t, {300, 70}}}, {}, 30.0});
    out.push_back({"matmul", {{t, {3, 65, 128}}, {t, {128, 129}}}, {}, 30.0});   // batch x matrix
    out.push_back({"matmul", {{t, {2, 3, 33, 64}}, {t, {2, 3, 64, 17}}}, {}, 30.0});
    out.push_back({"matmul", {{t, {4, 1, 16, 40}}, {t, {3, 40, 8}}}, {}, 30.0});  // mixed broadcast
    out.push_back({"matmul", {{t, {256}}, {t, {256, 31}}}, {}, 30.0});             // 1-D lhs
  }
  return out;
}

bool gpu_present(kiln_runtime* rt, const char* spec) {
  kiln_device* device = nullptr;
  kiln_status* s = kiln_runtime_find_device(rt, spec, &device);
  if (s != nullptr) {
    std::printf("SKIP: no device %s here: %s\n", spec, kiln_status_get_message(s));
    kiln_status_destroy(s);
    return false;
  }
  std::printf("  %s is %s\n", spec, kiln_device_get_name(device));
  return true;
}

// An out-of-range gather index fails at execute with OUT_OF_RANGE; the same model then runs.
void check_gather_out_of_range(kiln_runtime* rt, const char* spec) {
  Case c{"gather", {{KILN_DTYPE_FLOAT32, {4, 3}}, {KILN_DTYPE_INT64, {2}}}, {attr_int("axis", 0)}};
  Graph g;
  std::string error = build(c, &g);
  std::vector<std::vector<uint8_t>> data(2);
  data[0].assign(4 * 3 * 4, 0);
  data[1].resize(16);
  const int64_t bad[2] = {1, 4};
  std::memcpy(data[1].data(), bad, 16);
  const Result r = run_on(rt, spec, g, c.inputs, data);
  report(r.error.find("OUT_OF_RANGE") != std::string::npos &&
             r.error.find("under_test") != std::string::npos,
         "gather with index 4 on an axis of 4 fails cleanly", r.error);
  const int64_t good[2] = {3, -4};
  std::memcpy(data[1].data(), good, 16);
  const Result again = run_on(rt, spec, g, c.inputs, data);
  report(again.error.empty(), "the next gather runs", again.error);
}

// An impossible allocation names the bytes; a tensor made afterwards works.
void check_out_of_memory(kiln_runtime* rt, const char* spec) {
  kiln_device* device = nullptr;
  (void)take(kiln_runtime_find_device(rt, spec, &device));
  const int64_t shape[2] = {int64_t{1} << 25, int64_t{1} << 23};  // 2^48 floats = 1 PiB
  kiln_tensor* t = nullptr;
  const std::string error =
      take(kiln_tensor_create(device, KILN_DTYPE_FLOAT32, shape, 2, &t));
  report(!error.empty() && error.find("bytes") != std::string::npos,
         "a 1 PiB tensor fails with a status naming the bytes", error);
  kiln_tensor_release(t);
  const float host[4] = {1, 2, 3, 4};
  const int64_t small[1] = {4};
  float back[4] = {};
  std::string after = take(kiln_tensor_create_from_host(device, KILN_DTYPE_FLOAT32, small, 1,
                                                        host, sizeof(host), &t));
  if (after.empty()) after = take(kiln_tensor_read(t, back, sizeof(back)));
  kiln_tensor_release(t);
  report(after.empty() && std::memcmp(host, back, sizeof(host)) == 0,
         "the device still allocates and copies afterwards", after);
}

// ---- Benchmarks ---------------------------------------------------------------------------------

// Seconds per execution of a one-op model on GPU-resident inputs (after warm-up).
double time_model(kiln_runtime* rt, const char* spec, const Case& c, int iterations,
                  std::string* error) {
  Graph g;
  *error = build(c, &g);
  if (!error->empty()) return 0;
  kiln_session_options options;
  kiln_session_options_init(&options);
  options.devices = &spec;
  options.num_devices = 1;
  kiln_session* session = nullptr;
  kiln_model* model = nullptr;
  kiln_device* device = nullptr;
  std::vector<kiln_tensor*> inputs;
  *error = take(kiln_session_create(rt, &options, &session));
  if (error->empty()) *error = take(kiln_session_load(session, g.graph, nullptr, &model));
  if (error->empty()) *error = take(kiln_runtime_find_device(rt, spec, &device));
  for (size_t i = 0; error->empty() && i < c.inputs.size(); ++i) {
    kiln_tensor* t = nullptr;
    *error = take(kiln_tensor_create(device, c.inputs[i].dtype, c.inputs[i].shape.data(),
                                     c.inputs[i].shape.size(), &t));
    inputs.push_back(t);
  }
  double seconds = 0;
  for (int round = 0; error->empty() && round < 2; ++round) {  // round 0 warms up
    const int n = round == 0 ? 3 : iterations;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; error->empty() && i < n; ++i) {
      kiln_tensor* out = nullptr;
      *error = take(kiln_model_execute(model, inputs.data(), inputs.size(), &out, 1));
      kiln_tensor_release(out);
    }
    if (error->empty()) *error = take(kiln_device_synchronize(device));
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / n;
  }
  for (kiln_tensor* t : inputs) kiln_tensor_release(t);
  kiln_model_destroy(model);
  kiln_session_destroy(session);
  return seconds;
}

void bench(kiln_runtime* rt, const char* spec) {
  std::printf("\n== benchmarks on %s (GPU-resident inputs, per execution incl. launch)\n", spec);
  for (int64_t n : {4096, 8192}) {
    for (int32_t t : {KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT16}) {
      for (const char* engine : {"cublaslt", "own"}) {
        Case c{"matmul", {{t, {n, n}}, {t, {n, n}}}, {}};
        setenv("KILN_GPU_GEMM", engine, 1);
        std::string error;
        const double s = time_model(rt, spec, c, n == 4096 ? 50 : 20, &error);
        unsetenv("KILN_GPU_GEMM");
        if (!error.empty()) {
          std::printf("BENCH matmul %s %lld %s: error %s\n", dtype_label(t),
                      static_cast<long long>(n), engine, error.c_str());
          continue;
        }
        std::printf("BENCH matmul %s %lld^3 %s: %.3f ms, %.1f TFLOP/s\n", dtype_label(t),
                    static_cast<long long>(n), engine, s * 1e3,
                    2.0 * n * n * n / s / 1e12);
      }
    }
  }
  const int64_t elements = int64_t{64} << 20;  // 256 MB of float32
  std::string error;
  Case add{"add", {{KILN_DTYPE_FLOAT32, {elements}}, {KILN_DTYPE_FLOAT32, {elements}}}, {}};
  const double s_add = time_model(rt, spec, add, 50, &error);
  if (error.empty()) {
    std::printf("BENCH add f32 256 MB: %.3f ms, %.0f GB/s (3 x 256 MB moved)\n", s_add * 1e3,
                3.0 * 4 * elements / s_add / 1e9);
  } else {
    std::printf("BENCH add: error %s\n", error.c_str());
  }
  Case copy{"reshape", {{KILN_DTYPE_FLOAT32, {elements}}}, {attr_ints("shape", {elements / 2, 2})}};
  const double s_copy = time_model(rt, spec, copy, 50, &error);
  if (error.empty()) {
    std::printf("BENCH device copy 256 MB (reshape = cudaMemcpyAsync D2D): %.3f ms, %.0f GB/s "
                "(2 x 256 MB moved)\n",
                s_copy * 1e3, 2.0 * 4 * elements / s_copy / 1e9);
    if (s_add > 0) {
      std::printf("BENCH add bandwidth / copy bandwidth: %.2f\n",
                  (3.0 / s_add) / (2.0 / s_copy));
    }
  } else {
    std::printf("BENCH copy: error %s\n", error.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool do_bench = false;
  const char* spec = "gpu:0";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bench") == 0) {
      do_bench = true;
    } else {
      spec = argv[i];
    }
  }
  kiln_runtime* rt = nullptr;
  const std::string error = take(kiln_runtime_create(nullptr, &rt));
  if (!error.empty()) {
    std::printf("FAIL kiln_runtime_create: %s\n", error.c_str());
    return 1;
  }
  if (!gpu_present(rt, spec)) {
    kiln_runtime_destroy(rt);
    return 77;
  }
  std::mt19937 rng(20261122);
  for (const Case& c : cases()) check_case(rt, spec, c, rng);
  for (const Case& c : math_cases()) check_case(rt, spec, c, rng);
  for (const Case& c : movement_cases()) check_case(rt, spec, c, rng);
  // cuBLASLt exists only on CUDA; on ROCm kiln's own GEMM is the one engine.
  kiln_device* device = nullptr;
  take(kiln_runtime_find_device(rt, spec, &device));
  const bool cuda = device != nullptr && std::strcmp(kiln_device_get_api(device), "cuda") == 0;
  for (const Case& c : matmul_cases()) {
    check_case(rt, spec, c, rng, "own");
    if (cuda) check_case(rt, spec, c, rng, "cublaslt");
  }
  check_gather_out_of_range(rt, spec);
  check_out_of_memory(rt, spec);
  if (do_bench) bench(rt, spec);
  std::printf("%s: %d checks passed, %d failed on %s\n", g_failures ? "FAIL" : "PASS", g_passed,
              g_failures, spec);
  kiln_runtime_destroy(rt);
  return g_failures ? 1 : 0;
}
