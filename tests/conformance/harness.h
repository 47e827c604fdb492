// harness.h: what the CPU kernel conformance tests share — host tensors, the test's own
// float16/bfloat16 encoding (written independently of the plugin's), random inputs, float64
// reference tensors, per-dtype tolerances, and running one op through the public C ABI.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kiln/kiln_types.h"

namespace kiln_conformance {

using Shape = std::vector<int64_t>;

int64_t num_elements(const Shape& shape);
std::string shape_str(const Shape& shape);
const char* dtype_str(int32_t dtype);

bool is_float(int32_t dtype);
bool is_half(int32_t dtype);

// A tensor in host memory, C order.
struct HostTensor {
  int32_t dtype = KILN_DTYPE_INVALID;
  Shape shape;
  std::vector<uint8_t> bytes;

  HostTensor() = default;
  HostTensor(int32_t dtype, Shape shape);
  int64_t size() const { return num_elements(shape); }
  // Element i as a double (bool: 0/1; int64 beyond 2^53 loses precision).
  double get(int64_t i) const;
  // Sets element i from a double, rounded to nearest even for floats, truncated for integers.
  void set(int64_t i, double v);
  int64_t get_int(int64_t i) const;  // exact for integer dtypes
  void set_int(int64_t i, int64_t v);
};

// The test's own half encodings (frexp/ldexp arithmetic, not bit tricks).
uint16_t encode_f16(double v);
double decode_f16(uint16_t bits);
uint16_t encode_bf16(double v);
double decode_bf16(uint16_t bits);
// v rounded to what `dtype` can hold (the identity for float64; integers truncate).
double round_to_dtype(double v, int32_t dtype);

// Uniform values in [lo, hi] (integers: whole numbers in that range; bool: 0/1).
HostTensor random_tensor(int32_t dtype, const Shape& shape, std::mt19937& rng, double lo = -2.0,
                         double hi = 2.0);
HostTensor from_values(int32_t dtype, const Shape& shape, const std::vector<double>& values);

// A float64 reference result. scale[i] is what the error of element i is measured against
// (|value| for elementwise ops, sum of |terms| for sums and dot products); empty: |value|.
struct Reference {
  int32_t dtype = KILN_DTYPE_INVALID;
  Shape shape;
  std::vector<double> values;
  std::vector<double> scale;
};

struct Tolerance {
  double rtol = 0;
  double atol = 0;
};
// float32 1e-5 relative (+1e-6 of scale absolute), float16 2e-3, bfloat16 1.6e-2 (both about
// four ulps: input and output each rounded once), float64 1e-12, integers and bool exact.
Tolerance default_tolerance(int32_t dtype);

// Compares got with the reference rounded to got's dtype: |got - want| <= atol + rtol * scale.
// NaN must meet NaN, infinities the same infinity.
::testing::AssertionResult matches(const HostTensor& got, const Reference& want, Tolerance tol);
::testing::AssertionResult matches(const HostTensor& got, const Reference& want);
// Bitwise equality.
::testing::AssertionResult identical(const HostTensor& a, const HostTensor& b);

// ---- Running one op ------------------------------------------------------------------------

struct Attr {
  std::string name;
  int32_t kind = KILN_ATTR_INVALID;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;

  static Attr Int(std::string name, int64_t v);
  static Attr Float(std::string name, double v);
  static Attr String(std::string name, std::string v);
  static Attr Ints(std::string name, std::vector<int64_t> v);
  static Attr Dtype(std::string name, int32_t v);
};

enum class Stage { kOk, kBuild, kLoad, kExecute, kSetup };

struct OpResult {
  Stage stage = Stage::kOk;  // where it failed, or kOk
  int32_t code = KILN_STATUS_OK;
  std::string message;
  std::vector<HostTensor> outputs;
  bool ok() const { return stage == Stage::kOk; }
};

// Builds a one-node graph, loads it into a session on "cpu" with num_threads threads, executes it
// on `inputs` and reads the outputs back. (runner.cpp, over kiln.h only.)
OpResult run_op(const std::string& op, const std::vector<HostTensor>& inputs,
                const std::vector<Attr>& attrs = {}, int num_threads = 1);

// A model loaded once and executed many times (threading tests).
class LoadedOp {
 public:
  LoadedOp(const std::string& op, const std::vector<HostTensor>& input_types,
           const std::vector<Attr>& attrs, int num_threads);
  ~LoadedOp();
  LoadedOp(const LoadedOp&) = delete;
  LoadedOp& operator=(const LoadedOp&) = delete;
  const std::string& error() const { return error_; }
  OpResult execute(const std::vector<HostTensor>& inputs) const;

 private:
  struct Impl;
  Impl* impl_ = nullptr;
  std::string error_;
};

// gtest helper: run an op and expect success, returning output 0.
#define KILN_RUN_OK(result_var, ...)                                                     \
  OpResult result_var = run_op(__VA_ARGS__);                                             \
  ASSERT_TRUE(result_var.ok()) << "stage " << static_cast<int>(result_var.stage) << ": " \
                               << result_var.message;                                    \
  ASSERT_FALSE(result_var.outputs.empty())

}  // namespace kiln_conformance
