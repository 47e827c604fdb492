// outputs: a model output read back to the host, written as DIR/<name>.npy, and summarized.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

namespace kiln::cli {

struct OutputSummary {
  std::string name;
  DType dtype = DType::kInvalid;
  std::vector<int64_t> shape;
  std::string file;                    // the .npy written
  DType file_dtype = DType::kInvalid;  // float32 where .npy cannot hold `dtype`
  int64_t count = 0;
  int64_t nan_count = 0;
  double min = 0, max = 0, mean = 0;  // over the non-NaN elements
  std::vector<double> first;          // the first few elements
};

// A file name made of [A-Za-z0-9._-] ("logits:0" -> "logits_0"), never empty or hidden.
std::string sanitize_file_name(const std::string& name);

// Reads `tensor`, writes it as <dir>/<sanitized name>.npy (names already in `used` get a
// suffix), and returns its summary. Throws with the file named when writing fails.
OutputSummary write_output(const std::string& name, const Tensor& tensor, const std::string& dir,
                           std::set<std::string>& used);

// An element for humans: integers exactly, floats with 6 digits, bools as true/false.
std::string format_element(DType dtype, double value);

}  // namespace kiln::cli
