// reduction_test.cpp: sum, mean, max, min, argmax, argmin along an axis; softmax, logsoftmax;
// layer_norm; cumsum, top_k, argsort. Sums are judged against sum |x| (what any summation
// order's error is proportional to).
#include <algorithm>
#include <array>
#include <cmath>

#include "harness.h"

namespace kiln_conformance {
namespace {

struct AxisCase {
  Shape shape;
  int64_t axis;
};

const std::vector<AxisCase> kReduceCases = {
    {{7}, -1},        {{3, 4, 5}, 0},  {{3, 4, 5}, 1},     {{3, 4, 5}, 2},
    {{3, 4, 5}, -1},  {{1, 1}, 0},     {{2, 0, 3}, 0},     {{70000}, -1},
    {{3, 100000}, 1}, {{300, 257}, 0}, {{64, 300, 33}, 1}, {{5, 2000}, -1},
};

size_t normalize(int64_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

// Splits a shape around `axis`: (outer, length, inner).
void split(const Shape& shape, size_t axis, int64_t* outer, int64_t* length, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (size_t d = 0; d < axis; ++d) *outer *= shape[d];
  *length = shape[axis];
  for (size_t d = axis + 1; d < shape.size(); ++d) *inner *= shape[d];
}

Reference reduce_reference(const std::string& op, const HostTensor& x, size_t axis) {
  int64_t outer, length, inner;
  split(x.shape, axis, &outer, &length, &inner);
  Reference r;
  r.dtype = op == "argmax" ? KILN_DTYPE_INT64 : x.dtype;
  r.shape = x.shape;
  r.shape[axis] = 1;
  const bool integer = !is_float(x.dtype);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0, mag = 0, best = 0;
      int64_t best_index = 0;
      for (int64_t k = 0; k < length; ++k) {
        const double v = x.get((o * length + k) * inner + i);
        sum += v;
        mag += std::fabs(v);
        const bool better = op == "min" ? v < best : v > best;
        if (k == 0 || better) {
          best = v;
          best_index = k;
        }
      }
      double value = sum, scale = mag;
      if (op == "mean") {
        value = integer ? std::trunc(sum / static_cast<double>(length))
                        : sum / static_cast<double>(length);
        scale = mag / static_cast<double>(length);
      } else if (op == "max" || op == "min") {
        value = best;
        scale = std::fabs(best);
      } else if (op == "argmax") {
        value = static_cast<double>(best_index);
        scale = 0;
      }
      r.values.push_back(value);
      r.scale.push_back(scale);
    }
  }
  return r;
}

struct ReduceCase {
  std::string op;
  int32_t dtype;
};

class ReduceTest : public ::testing::TestWithParam<ReduceCase> {};

TEST_P(ReduceTest, MatchesReference) {
  const ReduceCase& c = GetParam();
  std::mt19937 rng(3);
  for (const AxisCase& a : kReduceCases) {
    SCOPED_TRACE(c.op + " " + shape_str(a.shape) + " axis " + std::to_string(a.axis));
    HostTensor x = random_tensor(c.dtype, a.shape, rng, -100, 100);
    // Repeat some values so ties (first index wins for argmax) occur.
    for (int64_t i = 5; i < x.size(); i += 7) x.set(i, x.get(i - 5));
    KILN_RUN_OK(result, c.op, {x}, {Attr::Int("axis", a.axis)});
    EXPECT_TRUE(
        matches(result.outputs[0], reduce_reference(c.op, x, normalize(a.axis, a.shape.size()))));
  }
}

std::vector<ReduceCase> reduce_cases() {
  std::vector<ReduceCase> cases;
  for (const char* op : {"sum", "mean", "max", "min", "argmax"}) {
    for (int32_t dt : {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16, KILN_DTYPE_BFLOAT16,
                       KILN_DTYPE_FLOAT64, KILN_DTYPE_INT32, KILN_DTYPE_INT64}) {
      cases.push_back({op, dt});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Ops, ReduceTest, ::testing::ValuesIn(reduce_cases()),
                         [](const auto& info) {
                           return info.param.op + "_" + dtype_str(info.param.dtype);
                         });

TEST(ReduceSemantics, DefaultAxisIsLast) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {2, 3}, {1, 2, 3, 4, 5, 6});
  KILN_RUN_OK(result, "sum", {x});
  EXPECT_EQ(result.outputs[0].shape, (Shape{2, 1}));
  EXPECT_EQ(result.outputs[0].get(0), 6);
  EXPECT_EQ(result.outputs[0].get(1), 15);
}

TEST(ReduceSemantics, IntegerMeanTruncatesTowardZero) {
  const HostTensor x = from_values(KILN_DTYPE_INT32, {2, 3}, {1, 2, 2, -1, -2, -2});
  KILN_RUN_OK(result, "mean", {x});
  EXPECT_EQ(result.outputs[0].get_int(0), 1);   // 5 / 3
  EXPECT_EQ(result.outputs[0].get_int(1), -1);  // -5 / 3
}

TEST(ReduceSemantics, ArgmaxFirstIndexAndNaN) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {3, 4},
                                   {1, 3, 3, 2, /**/ 5, NAN, 9, NAN, /**/ -1, -1, -1, -1});
  KILN_RUN_OK(result, "argmax", {x});
  EXPECT_EQ(result.outputs[0].dtype, KILN_DTYPE_INT64);
  EXPECT_EQ(result.outputs[0].get_int(0), 1);
  EXPECT_EQ(result.outputs[0].get_int(1), 1);  // the first NaN counts as the maximum
  EXPECT_EQ(result.outputs[0].get_int(2), 0);
}

TEST(ReduceSemantics, EmptyAxis) {
  const HostTensor x(KILN_DTYPE_FLOAT32, {2, 0});
  KILN_RUN_OK(sum, "sum", {x});
  EXPECT_EQ(sum.outputs[0].get(0), 0);
  KILN_RUN_OK(mean, "mean", {x});
  EXPECT_TRUE(std::isnan(mean.outputs[0].get(0)));
  const OpResult max = run_op("max", {x});
  EXPECT_FALSE(max.ok());
  if (!max.ok()) {
    EXPECT_NE(max.message.find("max"), std::string::npos) << max.message;
  }
}

// ---- softmax ----------------------------------------------------------------------------------

class SoftmaxTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(SoftmaxTest, MatchesReference) {
  const int32_t dt = GetParam();
  std::mt19937 rng(17);
  const std::vector<AxisCase> cases = {{{5}, -1}, {{3, 4, 5}, 1},   {{2, 3}, 0},    {{0, 4}, -1},
                                       {{1}, 0},  {{200, 300}, -1}, {{300, 70}, 0}, {{4, 3000}, 1}};
  for (const AxisCase& a : cases) {
    SCOPED_TRACE(shape_str(a.shape) + " axis " + std::to_string(a.axis));
    const HostTensor x = random_tensor(dt, a.shape, rng, -10, 10);
    KILN_RUN_OK(result, "softmax", {x}, {Attr::Int("axis", a.axis)});
    int64_t outer, length, inner;
    split(a.shape, normalize(a.axis, a.shape.size()), &outer, &length, &inner);
    Reference r;
    r.dtype = dt;
    r.shape = a.shape;
    r.values.assign(static_cast<size_t>(x.size()), 0);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        double m = -INFINITY, sum = 0;
        for (int64_t k = 0; k < length; ++k) m = std::max(m, x.get((o * length + k) * inner + i));
        for (int64_t k = 0; k < length; ++k)
          sum += std::exp(x.get((o * length + k) * inner + i) - m);
        for (int64_t k = 0; k < length; ++k) {
          const int64_t idx = (o * length + k) * inner + i;
          r.values[static_cast<size_t>(idx)] = std::exp(x.get(idx) - m) / sum;
        }
      }
    }
    EXPECT_TRUE(matches(result.outputs[0], r));
  }
}

TEST(SoftmaxSemantics, LargeInputsDoNotOverflow) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {3}, {1000, 1000, 999});
  KILN_RUN_OK(result, "softmax", {x});
  const double e = std::exp(-1.0);
  EXPECT_NEAR(result.outputs[0].get(0), 1 / (2 + e), 1e-6);
  EXPECT_NEAR(result.outputs[0].get(2), e / (2 + e), 1e-6);
}

// ---- layer_norm -------------------------------------------------------------------------------

TEST_P(SoftmaxTest, LayerNormMatchesReference) {
  const int32_t dt = GetParam();
  std::mt19937 rng(23);
  for (const Shape& shape :
       std::vector<Shape>{{4, 8}, {2, 3, 16}, {1, 1}, {0, 5}, {7}, {300, 256}, {5, 1000}}) {
    for (double epsilon : {1e-5, 1e-2}) {
      SCOPED_TRACE(shape_str(shape) + " eps " + std::to_string(epsilon));
      const int64_t d = shape.back();
      HostTensor x = random_tensor(dt, shape, rng, -3, 5);
      const HostTensor gamma = random_tensor(dt, {d}, rng, 0.5, 2);
      const HostTensor beta = random_tensor(dt, {d}, rng, -1, 1);
      KILN_RUN_OK(result, "layer_norm", {x, gamma, beta}, {Attr::Float("epsilon", epsilon)});
      Reference r;
      r.dtype = dt;
      r.shape = shape;
      for (int64_t row = 0; row < x.size() / std::max<int64_t>(d, 1); ++row) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < d; ++j) mean += x.get(row * d + j);
        mean /= static_cast<double>(d);
        for (int64_t j = 0; j < d; ++j) var += std::pow(x.get(row * d + j) - mean, 2);
        var /= static_cast<double>(d);
        const double rstd = 1 / std::sqrt(var + epsilon);
        for (int64_t j = 0; j < d; ++j) {
          const double v = x.get(row * d + j);
          r.values.push_back((v - mean) * rstd * gamma.get(j) + beta.get(j));
          r.scale.push_back(rstd * std::fabs(gamma.get(j)) * (std::fabs(v) + std::fabs(mean)) +
                            std::fabs(beta.get(j)));
        }
      }
      EXPECT_TRUE(matches(result.outputs[0], r));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, SoftmaxTest,
                         ::testing::Values(KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                           KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

// ---- argmin, cumsum, logsoftmax, top_k, argsort ----------------------------------------------

TEST(ArgminTest, FirstIndexAndNan) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {2, 4}, {3, 1, 1, 2, 2, NAN, -1, NAN});
  KILN_RUN_OK(r, "argmin", {x}, {Attr::Int("axis", 1)});
  ASSERT_EQ(r.outputs[0].dtype, KILN_DTYPE_INT64);
  EXPECT_EQ(r.outputs[0].get_int(0), 1);
  EXPECT_EQ(r.outputs[0].get_int(1), 1);  // NaN counts as the minimum
  const HostTensor i = from_values(KILN_DTYPE_INT8, {3, 2}, {5, -4, -7, 9, 0, -7});
  KILN_RUN_OK(c, "argmin", {i}, {Attr::Int("axis", 0)});
  EXPECT_EQ(c.outputs[0].get_int(0), 1);
  EXPECT_EQ(c.outputs[0].get_int(1), 2);
}

TEST(CumsumTest, ExclusiveAndReverseAlongEachAxis) {
  std::mt19937 rng(5);
  for (const int32_t dt : {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT64, KILN_DTYPE_FLOAT16,
                           KILN_DTYPE_INT32, KILN_DTYPE_INT8}) {
    const HostTensor x = random_tensor(dt, {3, 4, 5}, rng, -5, 5);
    for (int64_t axis : {0, 1, 2}) {
      for (int flags = 0; flags < 4; ++flags) {
        const bool exclusive = flags & 1, reverse = flags & 2;
        KILN_RUN_OK(r, "cumsum", {x},
                    {Attr::Int("axis", axis), Attr::Int("exclusive", exclusive),
                     Attr::Int("reverse", reverse)});
        const Shape& s = x.shape;
        const int64_t len = s[axis];
        int64_t inner = 1;
        for (size_t d = static_cast<size_t>(axis) + 1; d < s.size(); ++d) inner *= s[d];
        Reference ref{dt, s, std::vector<double>(static_cast<size_t>(x.size())), {}};
        ref.scale.assign(static_cast<size_t>(x.size()), 0);
        for (int64_t flat = 0; flat < x.size(); ++flat) {
          const int64_t pos = (flat / inner) % len;
          const int64_t line = flat - pos * inner;
          double sum = 0, scale = 0;
          for (int64_t j = 0; j < len; ++j) {
            const bool in =
                reverse ? (exclusive ? j > pos : j >= pos) : (exclusive ? j < pos : j <= pos);
            if (!in) continue;
            sum += x.get(line + j * inner);
            scale += std::fabs(x.get(line + j * inner));
          }
          ref.values[static_cast<size_t>(flat)] = sum;
          ref.scale[static_cast<size_t>(flat)] = scale;
        }
        EXPECT_TRUE(matches(r.outputs[0], ref))
            << dtype_str(dt) << " axis " << axis << " flags " << flags;
      }
    }
  }
}

TEST(LogSoftmaxTest, MatchesReferenceAndStaysFinite) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {2, 3}, {1000, 0, -1000, 1, 2, 3});
  KILN_RUN_OK(r, "logsoftmax", {x});
  Reference ref{KILN_DTYPE_FLOAT32, {2, 3}, {}, {}};
  for (int row = 0; row < 2; ++row) {
    double m = -INFINITY, s = 0;
    for (int j = 0; j < 3; ++j) m = std::max(m, x.get(row * 3 + j));
    for (int j = 0; j < 3; ++j) s += std::exp(x.get(row * 3 + j) - m);
    for (int j = 0; j < 3; ++j) ref.values.push_back(x.get(row * 3 + j) - m - std::log(s));
  }
  EXPECT_TRUE(matches(r.outputs[0], ref));
}

TEST(TopKTest, ValuesIndicesTiesAndErrors) {
  const HostTensor x = from_values(KILN_DTYPE_FLOAT32, {2, 5}, {1, 3, 3, NAN, 2, 5, 4, 5, 1, 0});
  KILN_RUN_OK(r, "top_k", {x}, {Attr::Int("k", 3), Attr::Int("axis", 1)});
  ASSERT_EQ(r.outputs.size(), 2u);
  const std::array<int64_t, 6> idx = {3, 1, 2, 0, 2, 1};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.outputs[1].get_int(i), idx[i]) << i;
  EXPECT_TRUE(std::isnan(r.outputs[0].get(0)));
  EXPECT_EQ(r.outputs[0].get(3), 5);
  EXPECT_EQ(r.outputs[0].get(5), 4);
  const OpResult bad = run_op("top_k", {x}, {Attr::Int("k", 6)});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message.find("attribute 'k' is 6"), std::string::npos) << bad.message;
}

TEST(ArgsortTest, AlongFirstAxisBothDirections) {
  const HostTensor x = from_values(KILN_DTYPE_INT32, {4, 2}, {3, 0, 1, 0, 3, 2, -1, 1});
  KILN_RUN_OK(up, "argsort", {x});
  const std::array<int64_t, 8> asc = {3, 0, 1, 1, 0, 3, 2, 2};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(up.outputs[0].get_int(i), asc[i]) << i;
  KILN_RUN_OK(down, "argsort", {x}, {Attr::Int("ascending", 0)});
  const std::array<int64_t, 8> desc = {0, 2, 2, 3, 1, 0, 3, 1};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(down.outputs[0].get_int(i), desc[i]) << i;
}

}  // namespace
}  // namespace kiln_conformance
