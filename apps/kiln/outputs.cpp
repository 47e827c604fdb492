// outputs: writing model outputs as .npy files and summarizing them.
#include "outputs.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "float_formats.h"
#include "format.h"
#include "npy.h"

namespace kiln::cli {
namespace {

constexpr size_t kFirstValues = 8;

bool is_integral(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
    case DType::kInt8:
    case DType::kUInt16:
    case DType::kInt16:
    case DType::kUInt32:
    case DType::kInt32:
    case DType::kUInt64:
    case DType::kInt64:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string sanitize_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  if (out.empty() || out[0] == '.') out = "output" + out;
  return out;
}

std::string format_element(DType dtype, double value) {
  if (dtype == DType::kBool) return value != 0 ? "true" : "false";
  return format_number(value, is_integral(dtype) ? 20 : 6);
}

OutputSummary write_output(const std::string& name, const Tensor& tensor, const std::string& dir,
                           std::set<std::string>& used) {
  OutputSummary summary;
  summary.name = name;
  summary.dtype = tensor.dtype();
  summary.shape = tensor.shape();
  summary.count = tensor.num_elements();
  const auto code = static_cast<int32_t>(summary.dtype);
  if (dtype_size(summary.dtype) == 0) {
    throw std::runtime_error("output '" + name + "' has an unknown dtype (code " +
                             std::to_string(code) + ")");
  }
  const std::vector<uint8_t> bytes = tensor.read_bytes();

  double sum = 0;
  int64_t counted = 0;
  for (size_t i = 0; i < static_cast<size_t>(summary.count); ++i) {
    const double value = element_as_double(bytes.data(), code, i);
    if (i < kFirstValues) summary.first.push_back(value);
    if (std::isnan(value)) {
      ++summary.nan_count;
      continue;
    }
    summary.min = counted == 0 ? value : std::min(summary.min, value);
    summary.max = counted == 0 ? value : std::max(summary.max, value);
    sum += value;
    ++counted;
  }
  summary.mean = counted > 0 ? sum / static_cast<double>(counted) : std::nan("");

  npy::Array array;
  array.shape = summary.shape;
  if (needs_float32_widening(code)) {  // lossless: every bfloat16 / float8 value is a float32
    array.dtype = KILN_DTYPE_FLOAT32;
    array.data.resize(static_cast<size_t>(summary.count) * 4);
    for (size_t i = 0; i < static_cast<size_t>(summary.count); ++i) {
      const auto value = static_cast<float>(element_as_double(bytes.data(), code, i));
      std::memcpy(&array.data[i * 4], &value, 4);
    }
  } else {
    array.dtype = code;
    array.data = bytes;
  }
  summary.file_dtype = static_cast<DType>(array.dtype);

  std::string stem = sanitize_file_name(name);
  for (int suffix = 1; used.count(stem) != 0; ++suffix) {
    stem = sanitize_file_name(name) + "_" + std::to_string(suffix);
  }
  used.insert(stem);
  summary.file = (std::filesystem::path(dir) / (stem + ".npy")).string();
  npy::write(summary.file, array);
  return summary;
}

}  // namespace kiln::cli
