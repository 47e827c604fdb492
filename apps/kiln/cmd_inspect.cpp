// kiln inspect: what a .kiln file holds — inputs, outputs, ops, weights, metadata.
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

int run_inspect(const GlobalOptions& global, const InspectOptions& options) {
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
  sub->add_option("file", options->file, "The .kiln file")->required()->type_name("FILE");
  sub->add_flag("--json", options->json, "Print JSON");
  return {sub, [&global, options] { return run_inspect(global, *options); }};
}

}  // namespace kiln::cli
