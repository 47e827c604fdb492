// format: the text helpers of the kiln CLI's human-readable output.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

namespace kiln::cli {

// "33.3 KiB", "512 B".
std::string format_bytes(uint64_t bytes);
// A number with %.*g, "nan"/"inf" spelled out.
std::string format_number(double value, int precision = 6);
// "[2, 64]"
std::string format_shape(const std::vector<int64_t>& shape);
// "float32[2, 64]"
std::string format_type(DType dtype, const std::vector<int64_t>& shape);
// "1.0" from (major << 16 | minor).
std::string format_abi(uint32_t version);

// Rows of cells printed with aligned columns.
class Table {
 public:
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out, const std::string& indent = "  ") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kiln::cli
