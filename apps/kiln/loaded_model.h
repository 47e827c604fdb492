// loaded_model: the part `kiln run` and `kiln bench` share — load the graph file, open the
// runtime, pick the device, prepare the inputs, and compile the model for that device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common.h"
#include "inputs.h"
#include "kiln/kiln.hpp"

namespace kiln::cli {

struct ModelRequest {
  std::string file;
  std::string device;  // "" = the default device
  int32_t threads = 0;
  bool graph_replay = false;
  InputRequest inputs;
};

struct LoadedModel {
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Graph> graph;
  DeviceChoice device;
  PreparedInputs prepared;
  std::unique_ptr<Session> session;
  std::unique_ptr<Model> model;
  std::vector<Tensor> inputs;  // in the model's input order
};

// The options `run` and `bench` share: FILE, --device, --threads, --seed, --dim.
void add_model_options(CLI::App* sub, ModelRequest& model);

LoadedModel load_model(const GlobalOptions& global, const ModelRequest& request);

}  // namespace kiln::cli
