// kiln inspect: what a .kiln file holds — inputs, outputs, ops, weights, metadata; with
// --optimized the graph after the load-time passes, with --placement the kernel each node runs on
// and why the other candidates were passed over, with --kernels every registered kernel.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "format.h"

namespace kiln::cli {
namespace {

struct InspectOptions {
  std::string file;
  bool json = false;
  bool optimized = false;
  bool placement = false;
  bool kernels = false;
  bool no_passes = false;
  std::string device;
};

// The C ABI reads metadata by key only, so inspect shows the keys kiln's tools write and the
// common ones of other producers.
constexpr const char* kMetadataKeys[] = {"description", "producer",   "author",    "version",
                                         "license",     "source",     "framework", "task",
                                         "created",     "created_by", "model",     "url"};

nlohmann::ordered_json shape_json(const TensorSpec& spec) {
  nlohmann::ordered_json dims = nlohmann::ordered_json::array();
  for (const Dim& d : spec.dims) {
    if (d.is_symbolic()) {
      dims.push_back(d.expr);
    } else {
      dims.push_back(d.size);
    }
  }
  return dims;
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// --kernels: every kernel of every loaded plugin, grouped by op.
int run_kernels(const GlobalOptions& global, const InspectOptions& options) {
  Runtime runtime = open_runtime(global);
  std::vector<KernelInfo> kernels = runtime.kernels();
  std::stable_sort(kernels.begin(), kernels.end(), [](const KernelInfo& a, const KernelInfo& b) {
    return a.op != b.op ? a.op < b.op : a.priority > b.priority;
  });
  auto dtypes_of = [](const KernelInfo& k) {
    std::vector<std::string> names;
    for (DType d : k.dtypes) names.push_back(dtype_name(d));
    return names;
  };
  if (options.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const KernelInfo& k : kernels) {
      list.push_back({{"op", k.op},
                      {"kernel", k.name},
                      {"plugin", k.plugin},
                      {"device_api", k.device_api},
                      {"dtypes", dtypes_of(k)},
                      {"dtype_source", k.dtype_source},
                      {"priority", k.priority}});
    }
    std::cout << nlohmann::ordered_json{{"kernels", list}}.dump(2) << '\n';
    return kExitOk;
  }
  std::cout << "kernels (" << kernels.size() << ")\n";
  Table table;
  table.add_row({"op", "kernel", "plugin", "device api", "priority", "dtypes"});
  for (const KernelInfo& k : kernels) {
    const std::string source =
        k.dtype_source == -1 ? "output 0" : "input " + std::to_string(k.dtype_source);
    const std::vector<std::string> dtypes = dtypes_of(k);
    table.add_row({k.op, k.name, k.plugin, k.device_api, std::to_string(k.priority),
                   (dtypes.empty() ? std::string("any") : join(dtypes)) + " (of " + source + ")"});
  }
  table.print(std::cout);
  return kExitOk;
}

// --optimized / --placement: the graph as a session loads it on one device.
int run_loaded(const GlobalOptions& global, const InspectOptions& options) {
  Runtime runtime = open_runtime(global);
  const Graph graph = load_graph_file(options.file);
  const DeviceChoice device = choose_device(runtime, options.device);
  SessionOptions session_options;
  session_options.devices = {device.spec};
  session_options.graph_passes = !options.no_passes;
  Session session(runtime, session_options);
  const Model model = session.load(graph);
  const std::vector<ModelNodeInfo> nodes = model.nodes();
  const size_t written = graph.nodes().size();

  if (options.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const ModelNodeInfo& n : nodes) {
      nlohmann::ordered_json node = {{"op", n.op},
                                     {"name", n.name},
                                     {"inputs", n.inputs},
                                     {"outputs", n.outputs},
                                     {"device", n.device}};
      if (options.placement) {
        node["kernel"] =
            n.kernel.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(n.kernel);
        node["plugin"] =
            n.plugin.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(n.plugin);
        node["passed_over"] = split_lines(n.rejected);
      }
      list.push_back(std::move(node));
    }
    nlohmann::ordered_json out = {{"file", options.file},
                                  {"device", device.spec},
                                  {"graph_passes", !options.no_passes},
                                  {"nodes_as_written", written},
                                  {"nodes", list}};
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }
  std::cout << "file      " << options.file << "\ndevice    " << device.spec;
  if (!device.reason.empty()) std::cout << " (" << device.reason << ")";
  std::cout << "\nnodes     " << nodes.size() << " after graph passes (" << written
            << " as written)" << (options.no_passes ? "; passes off" : "") << '\n';
  Table table;
  if (options.placement) {
    table.add_row({"#", "op", "name", "device", "kernel", "plugin"});
  } else {
    table.add_row({"#", "op", "name", "inputs", "outputs"});
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ModelNodeInfo& n = nodes[i];
    if (!options.placement) {
      table.add_row({std::to_string(i), n.op, n.name, join(n.inputs), join(n.outputs)});
      continue;
    }
    table.add_row({std::to_string(i), n.op, n.name, n.device,
                   n.kernel.empty() ? "(executor)" : n.kernel, n.plugin});
    for (const std::string& line : split_lines(n.rejected)) {
      table.add_row({"", "", "", "", "passed over: " + line, ""});
    }
  }
  table.print(std::cout);
  return kExitOk;
}

int run_inspect(const GlobalOptions& global, const InspectOptions& options) {
  if (options.kernels) return run_kernels(global, options);
  if (options.file.empty())
    throw UsageError("the graph file FILE is required (unless --kernels is given)");
  if (options.optimized || options.placement) return run_loaded(global, options);
  // Plugins matter only for graphs with their custom ops; load them when asked for.
  std::unique_ptr<Runtime> runtime;
  if (!global.plugins.empty()) runtime = std::make_unique<Runtime>(open_runtime(global));
  const Graph graph = load_graph_file(options.file);

  std::vector<TensorSpec> inputs, outputs;
  for (const Value& v : graph.inputs()) inputs.push_back(v.spec());
  for (const Value& v : graph.outputs()) outputs.push_back(v.spec());
  const std::vector<NodeInfo> nodes = graph.nodes();
  std::map<std::string, size_t> op_counts;
  for (const NodeInfo& node : nodes) ++op_counts[node.op];
  std::vector<std::pair<std::string, size_t>> ops(op_counts.begin(), op_counts.end());
  std::stable_sort(ops.begin(), ops.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const std::vector<WeightInfo> weights = graph.weights();
  uint64_t weight_bytes = 0;
  size_t external_weights = 0;
  for (const WeightInfo& w : weights) {
    weight_bytes += w.byte_size;
    external_weights += w.is_inline ? 0 : 1;
  }
  std::vector<std::pair<std::string, std::string>> metadata;
  for (const char* key : kMetadataKeys) {
    if (std::optional<std::string> value = graph.metadata(key)) metadata.emplace_back(key, *value);
  }
  std::error_code size_error;
  const uintmax_t file_size = std::filesystem::file_size(options.file, size_error);

  if (options.json) {
    nlohmann::ordered_json out;
    out["file"] = options.file;
    out["file_bytes"] = size_error ? nlohmann::ordered_json() : nlohmann::ordered_json(file_size);
    out["graph"] = graph.name();
    for (const auto* group : {&inputs, &outputs}) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const TensorSpec& spec : *group) {
        list.push_back({{"name", spec.name},
                        {"dtype", dtype_name(spec.dtype)},
                        {"shape", shape_json(spec)},
                        {"type", spec.to_string()}});
      }
      out[group == &inputs ? "inputs" : "outputs"] = list;
    }
    out["num_nodes"] = nodes.size();
    out["ops"] = nlohmann::ordered_json::object();
    for (const auto& [op, count] : ops) out["ops"][op] = count;
    nlohmann::ordered_json weight_list = nlohmann::ordered_json::array();
    for (const WeightInfo& w : weights) {
      weight_list.push_back({{"name", w.name},
                             {"dtype", dtype_name(w.dtype)},
                             {"shape", w.shape},
                             {"bytes", w.byte_size},
                             {"inline", w.is_inline},
                             {"external_path", w.external_path}});
    }
    out["weights"] = {{"count", weights.size()},
                      {"total_bytes", weight_bytes},
                      {"external", external_weights},
                      {"list", weight_list}};
    out["metadata"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) out["metadata"][key] = value;
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }

  std::cout << "file      " << options.file;
  if (!size_error) std::cout << " (" << format_bytes(file_size) << ")";
  std::cout << "\ngraph     " << graph.name() << '\n';
  for (const auto* group : {&inputs, &outputs}) {
    std::cout << (group == &inputs ? "inputs" : "outputs") << " (" << group->size() << ")\n";
    Table table;
    for (const TensorSpec& spec : *group) {
      table.add_row({spec.name, spec.to_string(), spec.device.empty() ? "" : "on " + spec.device});
    }
    table.print(std::cout);
  }
  std::cout << "nodes     " << nodes.size() << '\n';
  std::cout << "ops (" << ops.size() << " kinds)\n";
  Table op_table;
  op_table.add_row({"op", "count"});
  for (const auto& [op, count] : ops) op_table.add_row({op, std::to_string(count)});
  op_table.print(std::cout);
  std::cout << "weights   " << weights.size() << ", " << format_bytes(weight_bytes) << " ("
            << weight_bytes << " bytes)";
  if (external_weights > 0) std::cout << ", " << external_weights << " external";
  std::cout << '\n';
  if (!metadata.empty()) {
    std::cout << "metadata\n";
    Table table;
    for (const auto& [key, value] : metadata) table.add_row({key, value});
    table.print(std::cout);
  }
  return kExitOk;
}

}  // namespace

Command add_inspect_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand(
      "inspect", "Show a .kiln graph: inputs, outputs, op counts, weights and metadata");
  sub->add_option("file", options->file, "The .kiln file")->type_name("FILE");
  sub->add_flag("--json", options->json, "Print JSON");
  sub->add_flag("--optimized", options->optimized,
                "Show the nodes after the load-time graph passes (folding, dead code, fusion)");
  sub->add_flag("--placement", options->placement,
                "Show the device and kernel of each node, and why other kernels were passed over");
  sub->add_flag("--kernels", options->kernels,
                "List the kernels of the loaded plugins: op, plugin, device API, dtypes, priority");
  sub->add_flag("--no-passes", options->no_passes,
                "With --optimized/--placement: load the graph as written");
  sub->add_option("--device", options->device,
                  "With --optimized/--placement: the device (default: gpu:0 if any, else cpu)")
      ->type_name("DEVICE");
  return {sub, [&global, options] { return run_inspect(global, *options); }};
}

}  // namespace kiln::cli
