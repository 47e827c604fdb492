// kiln run: execute a .kiln graph once on given or random inputs and write its outputs as .npy.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "format.h"
#include "loaded_model.h"
#include "outputs.h"

namespace kiln::cli {
namespace {

struct RunOptions {
  ModelRequest model;
  std::string output_dir = "kiln-outputs";
  bool json = false;
};

nlohmann::ordered_json element_json(DType dtype, double value) {
  if (dtype == DType::kBool) return value != 0;
  if (std::isnan(value) || std::isinf(value)) return format_number(value);  // JSON has no NaN
  return value;
}

void create_output_dir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir)) {
    throw std::runtime_error("cannot create output directory '" + dir +
                             "': " + (error ? error.message() : "a file of that name exists"));
  }
}

int run_run(const GlobalOptions& global, const RunOptions& options) {
  LoadedModel loaded = load_model(global, options.model);

  const auto start = std::chrono::steady_clock::now();
  const std::vector<Tensor> results = loaded.model->execute(loaded.inputs);
  loaded.device.device.synchronize();
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  create_output_dir(options.output_dir);
  const std::vector<TensorSpec> output_specs = loaded.model->output_specs();
  std::vector<OutputSummary> outputs;
  std::set<std::string> used_names;
  std::vector<std::string> notes = loaded.prepared.notes;
  for (size_t i = 0; i < results.size(); ++i) {
    std::string name = i < output_specs.size() ? output_specs[i].name : "";
    if (name.empty()) name = "output_" + std::to_string(i);
    outputs.push_back(write_output(name, results[i], options.output_dir, used_names));
    const OutputSummary& o = outputs.back();
    if (o.file_dtype != o.dtype) {
      notes.push_back("output '" + o.name + "' is " + dtype_name(o.dtype) + "; " + o.file +
                      " holds it widened to " + dtype_name(o.file_dtype) + " (lossless)");
    }
  }

  const Device& device = loaded.device.device;
  if (options.json) {
    nlohmann::ordered_json out;
    out["file"] = options.model.file;
    out["graph"] = loaded.graph->name();
    out["device"] = {{"spec", loaded.device.spec},
                     {"name", device.name()},
                     {"api", device.api()},
                     {"default", options.model.device.empty()},
                     {"reason", loaded.device.reason}};
    out["dims"] = loaded.prepared.dims;
    out["inputs"] = nlohmann::ordered_json::array();
    for (const PreparedInput& input : loaded.prepared.inputs) {
      out["inputs"].push_back({{"name", input.spec.name},
                               {"dtype", dtype_name(input.tensor.dtype())},
                               {"shape", input.tensor.shape()},
                               {"source", input.source}});
    }
    out["seed"] = options.model.inputs.seed;
    out["latency_ms"] = latency_ms;
    out["output_dir"] = options.output_dir;
    out["outputs"] = nlohmann::ordered_json::array();
    for (const OutputSummary& o : outputs) {
      nlohmann::ordered_json first = nlohmann::ordered_json::array();
      for (double v : o.first) first.push_back(element_json(o.dtype, v));
      out["outputs"].push_back({{"name", o.name},
                                {"dtype", dtype_name(o.dtype)},
                                {"shape", o.shape},
                                {"file", o.file},
                                {"file_dtype", dtype_name(o.file_dtype)},
                                {"min", element_json(o.dtype, o.min)},
                                {"max", element_json(o.dtype, o.max)},
                                {"mean", element_json(DType::kFloat64, o.mean)},
                                {"nan_count", o.nan_count},
                                {"first", first}});
    }
    out["notes"] = notes;
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }

  std::cout << "model     " << options.model.file << " (graph '" << loaded.graph->name() << "')\n";
  std::cout << "device    " << loaded.device.spec << " (" << device.name() << ")";
  if (!loaded.device.reason.empty()) std::cout << " — " << loaded.device.reason;
  std::cout << '\n';
  if (!loaded.prepared.dims.empty()) {
    std::cout << "dims     ";
    for (const auto& [name, value] : loaded.prepared.dims) std::cout << ' ' << name << '=' << value;
    std::cout << '\n';
  }
  std::cout << "inputs\n";
  Table input_table;
  for (const PreparedInput& input : loaded.prepared.inputs) {
    input_table.add_row({input.spec.name, format_type(input.tensor.dtype(), input.tensor.shape()),
                         input.source == "random"
                             ? "random (seed " + std::to_string(options.model.inputs.seed) + ")"
                             : input.source});
  }
  input_table.print(std::cout);
  std::cout << "latency   " << format_number(latency_ms, 4)
            << " ms (first execution, one-time kernel set-up included; see kiln bench)\n";
  std::cout << "outputs (written to " << options.output_dir << "/)\n";
  for (const OutputSummary& o : outputs) {
    std::cout << "  " << o.name << "  " << format_type(o.dtype, o.shape) << "  -> " << o.file
              << '\n';
    if (o.count > 0) {
      std::cout << "    min " << format_element(o.dtype, o.min) << "  max "
                << format_element(o.dtype, o.max) << "  mean " << format_number(o.mean);
      if (o.nan_count > 0) std::cout << "  nan " << o.nan_count;
      std::cout << '\n';
      std::cout << "    [";
      for (size_t i = 0; i < o.first.size(); ++i) {
        std::cout << (i ? ", " : "") << format_element(o.dtype, o.first[i]);
      }
      std::cout << (o.count > static_cast<int64_t>(o.first.size()) ? ", ...]" : "]") << '\n';
    }
  }
  for (const std::string& note : notes) std::cout << "note: " << note << '\n';
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* sub =
      app.add_subcommand("run", "Execute a .kiln graph once and write its outputs as .npy files");
  add_model_options(sub, options->model);
  sub->add_option("--input", options->model.inputs.files,
                  "A model input from a .npy file (repeatable)")
      ->type_name("NAME=PATH.npy")
      ->allow_extra_args(false);
  sub->add_flag("--random-inputs", options->model.inputs.random,
                "Fill the inputs not given by --input with random values");
  sub->add_option("--output-dir", options->output_dir,
                  "Folder for the outputs, created if needed (default kiln-outputs)")
      ->type_name("DIR");
  sub->add_flag("--json", options->json, "Print JSON");
  return {sub, [&global, options] { return run_run(global, *options); }};
}

}  // namespace kiln::cli
