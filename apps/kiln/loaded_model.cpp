// loaded_model: graph file + runtime + device + inputs -> a compiled model ready to execute.
#include "loaded_model.h"

#include <stdexcept>

namespace kiln::cli {

void add_model_options(CLI::App* sub, ModelRequest& model) {
  sub->add_option("file", model.file, "The .kiln file")->required()->type_name("FILE");
  sub->add_option("--device", model.device,
                  "Device: cpu, gpu:N, cuda:N, hip:N (default: gpu:0 if there is one, else cpu)")
      ->type_name("DEVICE");
  sub->add_flag("--graph-replay", model.graph_replay,
                "Record the first execution on an accelerator as a device graph (CUDA/HIP graphs) "
                "and replay it for the next ones (docs/runtime.md)");
  sub->add_option("--threads", model.threads, "CPU threads (default: one per core)")
      ->type_name("N")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--seed", model.inputs.seed, "Seed of the random inputs (default 0)")
      ->type_name("N");
  sub->add_option("--dim", model.inputs.dims,
                  "Value of a symbolic dim for random inputs (repeatable; default 1)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
}

LoadedModel load_model(const GlobalOptions& global, const ModelRequest& request) {
  LoadedModel loaded;
  loaded.graph = std::make_unique<Graph>(load_graph_file(request.file));
  loaded.runtime = std::make_unique<Runtime>(open_runtime(global));
  loaded.device = choose_device(*loaded.runtime, request.device);
  const Device host = loaded.runtime->find_device("cpu");

  // Inputs are checked against the graph before compiling, so a wrong file fails fast.
  std::vector<TensorSpec> specs;
  for (const Value& input : loaded.graph->inputs()) specs.push_back(input.spec());
  loaded.prepared = prepare_inputs(specs, request.inputs, host);

  SessionOptions options;
  options.devices = {loaded.device.spec};
  options.num_threads = request.threads;
  options.graph_replay = request.graph_replay;
  try {
    loaded.session = std::make_unique<Session>(*loaded.runtime, options);
    loaded.model = std::make_unique<Model>(loaded.session->load(*loaded.graph));
  } catch (const Error& e) {
    throw std::runtime_error("cannot compile '" + request.file + "' for " + loaded.device.spec +
                             ": " + e.what());
  }

  for (const TensorSpec& spec : loaded.model->input_specs()) {
    const PreparedInput* match = nullptr;
    for (const PreparedInput& input : loaded.prepared.inputs) {
      if (input.spec.name == spec.name) match = &input;
    }
    if (match == nullptr) {
      throw std::runtime_error("the compiled model has an input '" + spec.name +
                               "' that the graph file does not declare");
    }
    loaded.inputs.push_back(match->tensor);
  }
  return loaded;
}

}  // namespace kiln::cli
