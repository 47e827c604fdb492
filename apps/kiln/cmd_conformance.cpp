// kiln conformance --plugin PATH: checks a plugin's kernels for core ops against kiln's CPU plugin,
// without kiln's source tree. For each kernel the plugin registers for a core op, on a device of
// its device API, a one-node graph is built for each dtype it accepts (the first input layout
// the op's schema takes, with its default attributes), run on random inputs on that device with
// the plugin, and again on the CPU by a runtime without the plugin; the outputs must agree within
// a tolerance per dtype. Kernels that cannot be exercised here are listed with the reason; the
// command fails if a check fails, a kernel is passed over for another one, or nothing ran.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "commands.h"
#include "float_formats.h"
#include "format.h"

namespace kiln::cli {
namespace {

struct ConformanceOptions {
  uint64_t seed = 0;
};

// Input layouts tried in order; the first that the op's schema accepts is the case.
const std::vector<std::vector<std::vector<int64_t>>> kLayouts = {
    {{4, 33}},                    // unary: abs, exp, softmax, ...
    {{4, 33}, {4, 33}},           // binary: add, mul, pow, ...
    {{5, 7}, {7, 3}},             // matmul
    {{4, 33}, {33}, {33}},        // layer_norm
    {{4, 33}, {4, 33}, {4, 33}},  // ternary
};

// Ops defined only for positive inputs get inputs in [0.25, 2).
const std::set<std::string> kPositiveOps = {"log", "log1p", "sqrt", "rsqrt", "pow", "div"};

struct Tolerance {
  double rtol, atol;
};

std::optional<Tolerance> tolerance_of(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
      return Tolerance{1e-10, 1e-12};
    case DType::kFloat32:
      return Tolerance{1e-4, 1e-5};
    case DType::kFloat16:
      return Tolerance{1e-2, 1e-3};
    case DType::kBFloat16:
      return Tolerance{2e-2, 1e-2};
    case DType::kInt32:
    case DType::kInt64:
      return Tolerance{0, 0};
    default:
      return std::nullopt;  // dtypes this runner does not generate
  }
}

// Random host bytes for a tensor of `dtype` and `count` elements.
std::vector<uint8_t> random_bytes(DType dtype, size_t count, bool positive, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> real(positive ? 0.25 : -2.0, 2.0);
  std::uniform_int_distribution<int64_t> integer(1, 9);
  std::vector<uint8_t> out;
  auto put = [&](const auto& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
  };
  for (size_t i = 0; i < count; ++i) {
    switch (dtype) {
      case DType::kFloat64:
        put(real(rng));
        break;
      case DType::kFloat32:
        put(static_cast<float>(real(rng)));
        break;
      case DType::kFloat16:
        put(float_to_half(static_cast<float>(real(rng))));
        break;
      case DType::kBFloat16:
        put(float_to_bfloat16(static_cast<float>(real(rng))));
        break;
      case DType::kInt32:
        put(static_cast<int32_t>(integer(rng)));
        break;
      default:
        put(integer(rng));
        break;  // int64
    }
  }
  return out;
}

struct Case {
  Graph graph{"conformance"};
  std::vector<std::vector<int64_t>> shapes;
};

// A one-node graph of `op` on inputs of `dtype`, or nullopt with why none of the layouts fits.
std::optional<Case> build_case(const std::string& op, DType dtype, std::string* why) {
  for (const auto& layout : kLayouts) {
    Case c;
    try {
      std::vector<Value> inputs;
      for (size_t i = 0; i < layout.size(); ++i) {
        std::vector<Dim> dims(layout[i].begin(), layout[i].end());
        inputs.push_back(c.graph.add_input("in" + std::to_string(i), dtype, dims));
      }
      c.graph.set_outputs(c.graph.add_op(op, inputs));
      c.shapes = layout;
      return c;
    } catch (const Error& e) {
      *why = e.what();  // the last layout's reason
    }
  }
  return std::nullopt;
}

std::vector<Tensor> execute(Runtime& runtime, const std::string& device, const Case& c,
                            const std::vector<std::vector<uint8_t>>& data, DType dtype,
                            std::vector<ModelNodeInfo>* nodes) {
  SessionOptions options;
  options.devices = {device};
  options.graph_passes = false;  // the node as built, so its kernel is the one checked
  Session session(runtime, options);
  const Model model = session.load(c.graph);
  if (nodes != nullptr) *nodes = model.nodes();
  const Device cpu = runtime.find_device("cpu");
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < data.size(); ++i) {
    inputs.push_back(Tensor::from_host(cpu, dtype, c.shapes[i], data[i].data(), data[i].size()));
  }
  return model.execute(inputs);
}

// "" when equal within tolerance, else where and by how much they differ.
std::string compare(const Tensor& got, const Tensor& want, Tolerance tol) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    return "output is " + format_type(got.dtype(), got.shape()) + ", the CPU plugin's is " +
           format_type(want.dtype(), want.shape());
  }
  const std::vector<uint8_t> a = got.read_bytes(), b = want.read_bytes();
  const int32_t code = static_cast<int32_t>(got.dtype());
  for (size_t i = 0, n = static_cast<size_t>(got.num_elements()); i < n; ++i) {
    const double x = element_as_double(a.data(), code, i);
    const double y = element_as_double(b.data(), code, i);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (x == y) continue;
    if (!(std::fabs(x - y) <= tol.atol + tol.rtol * std::fabs(y))) {
      return "element " + std::to_string(i) + " is " + format_number(x) + ", the CPU plugin's " +
             format_number(y) + " (rtol " + format_number(tol.rtol) + ", atol " +
             format_number(tol.atol) + ")";
    }
  }
  return "";
}

int run_conformance(const GlobalOptions& global, const ConformanceOptions& options) {
  if (global.plugins.empty()) {
    throw std::runtime_error("conformance: name the plugin to check with --plugin PATH");
  }
  // The reference: kiln's own plugins, without the ones under test.
  Runtime reference;
  Runtime tested = open_runtime(global);
  std::set<std::string> tested_names;
  for (const PluginInfo& p : tested.plugins()) {
    for (const std::string& path : global.plugins) {
      std::error_code ec;
      if (std::filesystem::equivalent(p.path, path, ec)) tested_names.insert(p.name);
    }
  }
  const std::vector<std::string> core = op_names();
  const std::set<std::string> core_ops(core.begin(), core.end());
  std::mt19937_64 rng(options.seed);

  Table table;
  int passed = 0, failed = 0, skipped = 0;
  auto row = [&](const KernelInfo& k, const std::string& dtype, const std::string& result,
                 const std::string& detail) {
    table.add_row({k.name, k.op, k.device_api, dtype, result, detail});
  };
  for (const KernelInfo& k : tested.kernels()) {
    if (tested_names.count(k.plugin) == 0) continue;
    if (core_ops.count(k.op) == 0) {
      row(k, "-", "skip", "custom op: kiln has no reference kernel for it");
      ++skipped;
      continue;
    }
    std::optional<Device> device;
    for (const Device& d : tested.devices())
      if (d.api() == k.device_api && !device) device = d;
    if (!device) {
      row(k, "-", "skip", "no device of device API '" + k.device_api + "' here");
      ++skipped;
      continue;
    }
    std::vector<DType> dtypes = k.dtypes;
    if (dtypes.empty()) dtypes = {DType::kFloat32};
    for (DType dtype : dtypes) {
      const std::string dname = dtype_name(dtype);
      const std::optional<Tolerance> tol = tolerance_of(dtype);
      if (!tol) {
        row(k, dname, "skip", "this runner generates no " + dname + " inputs");
        ++skipped;
        continue;
      }
      std::string why;
      std::optional<Case> c = build_case(k.op, dtype, &why);
      if (!c) {
        row(k, dname, "skip", "no generated case fits the op: " + why);
        ++skipped;
        continue;
      }
      std::vector<std::vector<uint8_t>> data;
      for (const auto& shape : c->shapes) {
        size_t n = 1;
        for (int64_t d : shape) n *= static_cast<size_t>(d);
        data.push_back(random_bytes(dtype, n, kPositiveOps.count(k.op) > 0, rng));
      }
      try {
        std::vector<ModelNodeInfo> nodes;
        const std::vector<Tensor> got = execute(tested, device->spec(), *c, data, dtype, &nodes);
        const ModelNodeInfo* node = nullptr;
        for (const ModelNodeInfo& n : nodes)
          if (n.op == k.op) node = &n;
        if (node == nullptr || node->kernel != k.name) {
          row(k, dname, "FAIL",
              "not exercised: the node ran kernel '" + (node ? node->kernel : std::string("?")) +
                  "' instead");
          ++failed;
          continue;
        }
        const std::vector<Tensor> want = execute(reference, "cpu", *c, data, dtype, nullptr);
        std::string problem;
        for (size_t i = 0; i < got.size() && problem.empty(); ++i) {
          problem = compare(got[i].copy_to(reference.find_device("cpu")), want[i], *tol);
          if (!problem.empty()) problem = "output " + std::to_string(i) + ": " + problem;
        }
        if (problem.empty()) {
          row(k, dname, "pass", "vs the CPU plugin on " + format_shape(c->shapes[0]) + " inputs");
          ++passed;
        } else {
          row(k, dname, "FAIL", problem);
          ++failed;
        }
      } catch (const Error& e) {
        row(k, dname, "FAIL", e.what());
        ++failed;
      }
    }
  }
  table.print(std::cout);
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  if (passed + failed == 0) {
    std::cout << "nothing was checked: the plugin has no kernel for a core op that can run here\n";
    return kExitFailure;
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace

Command add_conformance_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<ConformanceOptions>();
  CLI::App* sub = app.add_subcommand(
      "conformance",
      "Check the kernels of the plugins given by --plugin against kiln's CPU plugin");
  sub->add_option("--seed", options->seed, "Seed of the random inputs (default 0)");
  return {sub, [&global, options] { return run_conformance(global, *options); }};
}

}  // namespace kiln::cli
