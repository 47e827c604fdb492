// inputs: the model inputs of `kiln run` and `kiln bench` — from .npy files (--input), or random
// (--random-inputs), with symbolic dims bound from the files and --dim, checked against the
// model's input types before anything is compiled.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

namespace kiln::cli {

struct InputRequest {
  std::vector<std::string> files;  // --input NAME=PATH.npy
  std::vector<std::string> dims;   // --dim NAME=VALUE
  bool random = false;             // --random-inputs: fill what --input does not give
  uint64_t seed = 0;               // --seed
};

struct PreparedInput {
  TensorSpec spec;
  Tensor tensor;       // on the host device
  std::string source;  // the .npy path, or "random"
};

struct PreparedInputs {
  std::vector<PreparedInput> inputs;    // in the order of `specs`
  std::map<std::string, int64_t> dims;  // the value of every symbolic dim
  std::vector<std::string> notes;       // defaults taken, conversions made
};

// Throws UsageError for bad flags (unknown input or dim name, missing input, malformed value) and
// std::runtime_error / npy::Error for bad files (unreadable, wrong dtype or shape).
PreparedInputs prepare_inputs(const std::vector<TensorSpec>& specs, const InputRequest& request,
                              const Device& host);

}  // namespace kiln::cli
