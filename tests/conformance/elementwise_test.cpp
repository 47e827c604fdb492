// elementwise_test.cpp: binary arithmetic, comparisons and logic with numpy broadcasting, mod,
// unary math and predicates, gelu, where and cast (float8 included), against float64 references
// computed here.
#include <array>
#include <cmath>
#include <limits>

#include "harness.h"

namespace kiln_conformance {
namespace {

constexpr int32_t kF32 = KILN_DTYPE_FLOAT32;
constexpr int32_t kF16 = KILN_DTYPE_FLOAT16;
constexpr int32_t kBF16 = KILN_DTYPE_BFLOAT16;
constexpr int32_t kF64 = KILN_DTYPE_FLOAT64;
constexpr int32_t kI32 = KILN_DTYPE_INT32;
constexpr int32_t kI64 = KILN_DTYPE_INT64;
constexpr int32_t kBool = KILN_DTYPE_BOOL;
constexpr int32_t kU8 = KILN_DTYPE_UINT8;
constexpr int32_t kI8 = KILN_DTYPE_INT8;

const std::vector<int32_t> kArithmetic = {kF32, kF16, kBF16, kF64, kI32, kI64};
const std::vector<int32_t> kFloats = {kF32, kF16, kBF16, kF64};

// ---- Broadcasting reference --------------------------------------------------------------------

Shape broadcast_shape(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      if (s[i] != 1) o = s[i];
    }
  }
  return out;
}

// Flat index into `in` of output element `flat` under broadcasting.
int64_t broadcast_index(const Shape& out, const Shape& in, int64_t flat) {
  int64_t index = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    const int64_t coord = flat % out[d];
    flat /= out[d];
    const int id = d - static_cast<int>(out.size() - in.size());
    if (id >= 0) {
      if (in[id] != 1) index += coord * stride;
      stride *= in[id];
    }
  }
  return index;
}

// ---- Binary ops -------------------------------------------------------------------------------

int64_t int_pow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e % 2) ? -1 : 1) : 0;
  int64_t r = 1;
  for (int64_t i = 0; i < e; ++i) r *= base;
  return r;
}

double binary_scalar(const std::string& op, double x, double y, bool integer) {
  if (op == "add") return x + y;
  if (op == "sub") return x - y;
  if (op == "mul") return x * y;
  if (op == "div") {
    if (!integer) return x / y;
    return y == 0 ? 0 : std::trunc(x / y);
  }
  if (op == "pow") {
    return integer ? static_cast<double>(int_pow(static_cast<int64_t>(x), static_cast<int64_t>(y)))
                   : std::pow(x, y);
  }
  if (op == "max") return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
  if (op == "min") return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
  if (op == "equal") return x == y;
  if (op == "greater") return x > y;
  ADD_FAILURE() << "unknown op " << op;
  return 0;
}

Reference binary_reference(const std::string& op, const HostTensor& a, const HostTensor& b) {
  Reference r;
  const bool compare = op == "equal" || op == "greater";
  r.dtype = compare ? kBool : a.dtype;
  r.shape = broadcast_shape({a.shape, b.shape});
  const int64_t n = num_elements(r.shape);
  for (int64_t i = 0; i < n; ++i) {
    const double x = a.get(broadcast_index(r.shape, a.shape, i));
    const double y = b.get(broadcast_index(r.shape, b.shape, i));
    r.values.push_back(binary_scalar(op, x, y, !is_float(a.dtype)));
  }
  return r;
}

const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {
    {{}, {}},
    {{5}, {}},
    {{}, {3, 4}},
    {{3, 0, 4}, {4}},
    {{2, 3, 4}, {2, 3, 4}},
    {{4, 1, 5}, {3, 1}},
    {{1}, {7, 5}},
    {{2, 1, 3, 1}, {1, 4, 1, 5}},
    {{257, 131}, {131}},           // above the parallel grain, row broadcast
    {{70001}, {70001}},            // above the grain, same shape
    {{129, 1, 130}, {1, 140, 1}},  // outer-product style broadcast above the grain
};

struct BinaryCase {
  std::string op;
  int32_t dtype;
};

std::string case_name(const std::string& op, int32_t dtype) { return op + "_" + dtype_str(dtype); }

class BinaryTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryTest, MatchesReferenceOnBroadcastShapes) {
  const BinaryCase& c = GetParam();
  std::mt19937 rng(1234);
  const bool integer = !is_float(c.dtype);
  for (const auto& [sa, sb] : kBinaryShapes) {
    SCOPED_TRACE(c.op + " " + shape_str(sa) + " x " + shape_str(sb));
    HostTensor a, b;
    if (c.op == "pow") {
      a = integer ? random_tensor(c.dtype, sa, rng, -4, 4)
                  : random_tensor(c.dtype, sa, rng, 0.5, 2);
      b = integer ? random_tensor(c.dtype, sb, rng, 0, 6) : random_tensor(c.dtype, sb, rng, -3, 3);
    } else if (c.op == "div" && !integer) {
      a = random_tensor(c.dtype, sa, rng, -4, 4);
      b = random_tensor(c.dtype, sb, rng, 0.5, 2);
      for (int64_t i = 0; i < b.size(); i += 2) b.set(i, -b.get(i));
    } else if (integer) {
      a = random_tensor(c.dtype, sa, rng, -50, 50);
      b = random_tensor(c.dtype, sb, rng, -50, 50);  // div: includes 0 (gives 0)
    } else {
      a = random_tensor(c.dtype, sa, rng, -4, 4);
      b = random_tensor(c.dtype, sb, rng, -4, 4);
    }
    if (c.op == "equal" || c.op == "max" || c.op == "min") {
      // Make some elements equal so ties are exercised.
      const int64_t n = std::min(a.size(), b.size());
      for (int64_t i = 0; i < n; i += 3) b.set(i, a.get(i));
    }
    KILN_RUN_OK(result, c.op, {a, b});
    EXPECT_TRUE(matches(result.outputs[0], binary_reference(c.op, a, b)));
  }
}

std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> cases;
  for (const char* op : {"add", "sub", "mul", "div", "pow", "max", "min", "greater"}) {
    for (int32_t dt : kArithmetic) cases.push_back({op, dt});
  }
  for (int32_t dt : kArithmetic) cases.push_back({"equal", dt});
  cases.push_back({"equal", kBool});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Ops, BinaryTest, ::testing::ValuesIn(binary_cases()),
                         [](const auto& info) {
                           return case_name(info.param.op, info.param.dtype);
                         });

TEST(BinarySemantics, IntegerDivisionTruncatesAndDivisionByZeroIsZero) {
  const HostTensor a =
      from_values(kI32, {6}, {7, -7, 7, -7, 5, std::numeric_limits<int32_t>::min()});
  const HostTensor b = from_values(kI32, {6}, {2, 2, -2, -2, 0, -1});
  KILN_RUN_OK(result, "div", {a, b});
  const HostTensor& out = result.outputs[0];
  EXPECT_EQ(out.get_int(0), 3);
  EXPECT_EQ(out.get_int(1), -3);
  EXPECT_EQ(out.get_int(2), -3);
  EXPECT_EQ(out.get_int(3), 3);
  EXPECT_EQ(out.get_int(4), 0);                                    // x / 0 is 0
  EXPECT_EQ(out.get_int(5), std::numeric_limits<int32_t>::min());  // INT_MIN / -1 wraps
}

TEST(BinarySemantics, IntegerPowNegativeExponentsAndOverflowWraps) {
  const HostTensor a = from_values(kI64, {6}, {2, 1, -1, -1, 0, 3});
  const HostTensor b = from_values(kI64, {6}, {-1, -5, -3, -2, -1, 41});
  KILN_RUN_OK(result, "pow", {a, b});
  const HostTensor& out = result.outputs[0];
  EXPECT_EQ(out.get_int(0), 0);
  EXPECT_EQ(out.get_int(1), 1);
  EXPECT_EQ(out.get_int(2), -1);
  EXPECT_EQ(out.get_int(3), 1);
  EXPECT_EQ(out.get_int(4), 0);
  uint64_t wrapped = 1;
  for (int i = 0; i < 41; ++i) wrapped *= 3u;
  EXPECT_EQ(out.get_int(5), static_cast<int64_t>(wrapped));  // 3^41 wraps modulo 2^64
}

TEST(BinarySemantics, Int32AddWrapsOnOverflow) {
  const HostTensor a = from_values(kI32, {2}, {2147483647.0, -2147483648.0});
  const HostTensor b = from_values(kI32, {2}, {1, -1});
  KILN_RUN_OK(result, "add", {a, b});
  EXPECT_EQ(result.outputs[0].get_int(0), -2147483648LL);
  EXPECT_EQ(result.outputs[0].get_int(1), 2147483647LL);
}

TEST(BinarySemantics, FloatMaxMinPropagateNaN) {
  for (int32_t dt : kFloats) {
    SCOPED_TRACE(dtype_str(dt));
    const HostTensor a = from_values(dt, {3}, {NAN, 1, 2});
    const HostTensor b = from_values(dt, {3}, {1, NAN, -3});
    for (const char* op : {"max", "min"}) {
      KILN_RUN_OK(result, op, {a, b});
      EXPECT_TRUE(std::isnan(result.outputs[0].get(0))) << op;
      EXPECT_TRUE(std::isnan(result.outputs[0].get(1))) << op;
      EXPECT_EQ(result.outputs[0].get(2), std::string(op) == "max" ? 2 : -3) << op;
    }
  }
}

// ---- Unary ops --------------------------------------------------------------------------------

double gelu_erf(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double gelu_tanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

double unary_scalar(const std::string& op, double x) {
  if (op == "negate") return -x;
  if (op == "abs") return std::fabs(x);
  if (op == "relu") return x < 0 ? 0 : x;
  if (op == "exp") return std::exp(x);
  if (op == "log") return std::log(x);
  if (op == "sqrt") return std::sqrt(x);
  if (op == "rsqrt") return 1 / std::sqrt(x);
  if (op == "sigmoid") return 1 / (1 + std::exp(-x));
  if (op == "tanh") return std::tanh(x);
  if (op == "silu") return x / (1 + std::exp(-x));
  if (op == "gelu") return gelu_erf(x);
  if (op == "gelu_tanh") return gelu_tanh(x);
  ADD_FAILURE() << "unknown op " << op;
  return 0;
}

struct UnaryCase {
  std::string op;  // "gelu_tanh" is gelu with approximate="tanh"
  int32_t dtype;
};

class UnaryTest : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryTest, MatchesReference) {
  const UnaryCase& c = GetParam();
  std::mt19937 rng(99);
  double lo = -8, hi = 8;
  if (c.op == "log" || c.op == "sqrt" || c.op == "rsqrt") lo = 0.01, hi = 10;
  if (!is_float(c.dtype)) lo = -1000, hi = 1000;
  std::vector<Attr> attrs;
  std::string op = c.op;
  if (c.op == "gelu_tanh") {
    op = "gelu";
    attrs.push_back(Attr::String("approximate", "tanh"));
  } else if (c.op == "gelu") {
    attrs.push_back(Attr::String("approximate", "none"));
  }
  for (const Shape& shape : std::vector<Shape>{{}, {0}, {1}, {17}, {3, 5, 7}, {70003}}) {
    SCOPED_TRACE(c.op + " " + shape_str(shape));
    const HostTensor x = random_tensor(c.dtype, shape, rng, lo, hi);
    KILN_RUN_OK(result, op, {x}, attrs);
    Reference r;
    r.dtype = c.dtype;
    r.shape = shape;
    for (int64_t i = 0; i < x.size(); ++i) r.values.push_back(unary_scalar(c.op, x.get(i)));
    EXPECT_TRUE(matches(result.outputs[0], r));
  }
}

std::vector<UnaryCase> unary_cases() {
  std::vector<UnaryCase> cases;
  for (const char* op : {"negate", "abs", "relu"}) {
    for (int32_t dt : kArithmetic) cases.push_back({op, dt});
  }
  for (const char* op :
       {"exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh", "silu", "gelu", "gelu_tanh"}) {
    for (int32_t dt : kFloats) cases.push_back({op, dt});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryTest, ::testing::ValuesIn(unary_cases()), [](const auto& info) {
  return case_name(info.param.op, info.param.dtype);
});

TEST(UnarySemantics, SpecialValuesFloat32) {
  const HostTensor x = from_values(kF32, {6}, {0.0, -0.0, INFINITY, -INFINITY, NAN, -1e-30});
  struct Expect {
    const char* op;
    std::vector<double> values;  // NaN entries mean "NaN expected"
  };
  const std::vector<Expect> cases = {
      {"exp", {1, 1, INFINITY, 0, NAN, 1}},
      {"log", {-INFINITY, -INFINITY, INFINITY, NAN, NAN, NAN}},
      {"sigmoid", {0.5, 0.5, 1, 0, NAN, 0.5}},
      {"tanh", {0, -0.0, 1, -1, NAN, -1e-30}},
      {"silu", {0, -0.0, INFINITY, -0.0, NAN, -5e-31}},
      {"gelu", {0, -0.0, INFINITY, -0.0, NAN, -5e-31}},
      {"relu", {0, 0, INFINITY, 0, NAN, 0}},
  };
  for (const Expect& e : cases) {
    KILN_RUN_OK(result, e.op, {x});
    for (int i = 0; i < 6; ++i) {
      const double got = result.outputs[0].get(i);
      const double want = e.values[static_cast<size_t>(i)];
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << e.op << " element " << i << " got " << got;
      } else if (std::isinf(want)) {
        EXPECT_EQ(got, want) << e.op << " element " << i;
      } else {
        EXPECT_NEAR(got, want, 1e-6 * std::fabs(want) + 1e-37) << e.op << " element " << i;
      }
    }
  }
}

TEST(UnarySemantics, IntegerNegateAndAbsWrapAtMinimum) {
  const HostTensor x = from_values(kI32, {3}, {-2147483648.0, -5, 7});
  KILN_RUN_OK(neg, "negate", {x});
  EXPECT_EQ(neg.outputs[0].get_int(0), -2147483648LL);
  EXPECT_EQ(neg.outputs[0].get_int(1), 5);
  KILN_RUN_OK(abs, "abs", {x});
  EXPECT_EQ(abs.outputs[0].get_int(0), -2147483648LL);
  EXPECT_EQ(abs.outputs[0].get_int(2), 7);
}

TEST(UnarySemantics, GeluRejectsUnknownApproximation) {
  const HostTensor x = from_values(kF32, {2}, {1, 2});
  const OpResult r = run_op("gelu", {x}, {Attr::String("approximate", "quick_and_wrong")});
  EXPECT_FALSE(r.ok());
}

// ---- where ------------------------------------------------------------------------------------

class WhereTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(WhereTest, SelectsWithBroadcasting) {
  const int32_t dt = GetParam();
  std::mt19937 rng(7);
  const std::vector<std::array<Shape, 3>> shapes = {
      {Shape{}, Shape{}, Shape{}},
      {Shape{3, 1}, Shape{1, 4}, Shape{3, 4}},
      {Shape{5}, Shape{2, 5}, Shape{}},
      {Shape{0, 3}, Shape{3}, Shape{1}},
      {Shape{300, 200}, Shape{200}, Shape{300, 1}},
  };
  for (const auto& s : shapes) {
    SCOPED_TRACE(shape_str(s[0]) + " " + shape_str(s[1]) + " " + shape_str(s[2]));
    const HostTensor c = random_tensor(kBool, s[0], rng);
    const HostTensor x = random_tensor(dt, s[1], rng, -100, 100);
    const HostTensor y = random_tensor(dt, s[2], rng, -100, 100);
    KILN_RUN_OK(result, "where", {c, x, y});
    Reference r;
    r.dtype = dt;
    r.shape = broadcast_shape({s[0], s[1], s[2]});
    for (int64_t i = 0; i < num_elements(r.shape); ++i) {
      const bool pick = c.get_int(broadcast_index(r.shape, s[0], i)) != 0;
      r.values.push_back(pick ? x.get(broadcast_index(r.shape, s[1], i))
                              : y.get(broadcast_index(r.shape, s[2], i)));
    }
    EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));  // selection is exact
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, WhereTest,
                         ::testing::Values(kF32, kF16, kBF16, kF64, kI32, kI64, kBool, kI8),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

// ---- cast -------------------------------------------------------------------------------------

const std::vector<int32_t> kCastTypes = {kF32, kF16, kBF16, kF64, kI32, kI64, kBool, kU8, kI8};

int64_t int_min(int32_t dt) {
  switch (dt) {
    case kU8:
      return 0;
    case kI8:
      return -128;
    case kI32:
      return std::numeric_limits<int32_t>::min();
    default:
      return std::numeric_limits<int64_t>::min();
  }
}
int64_t int_max(int32_t dt) {
  switch (dt) {
    case kU8:
      return 255;
    case kI8:
      return 127;
    case kI32:
      return std::numeric_limits<int32_t>::max();
    default:
      return std::numeric_limits<int64_t>::max();
  }
}

// The documented cast rules, computed on the source value.
double cast_scalar(const HostTensor& x, int64_t i, int32_t to) {
  if (to == kBool)
    return is_float(x.dtype) ? (x.get(i) != 0 || std::isnan(x.get(i))) : x.get_int(i) != 0;
  if (is_float(to)) {
    return is_float(x.dtype) ? x.get(i)
                             : static_cast<double>(x.get_int(i));  // rounded by matches()
  }
  if (is_float(x.dtype)) {  // truncate, NaN -> 0, saturate
    const double v = x.get(i);
    if (std::isnan(v)) return 0;
    const double t = std::trunc(v);
    if (t <= static_cast<double>(int_min(to))) return static_cast<double>(int_min(to));
    if (t >= static_cast<double>(int_max(to))) return static_cast<double>(int_max(to));
    return t;
  }
  // integer -> integer wraps modulo 2^bits
  const int64_t v = x.get_int(i);
  switch (to) {
    case kU8:
      return static_cast<uint8_t>(v);
    case kI8:
      return static_cast<int8_t>(static_cast<uint8_t>(v));
    case kI32:
      return static_cast<int32_t>(static_cast<uint32_t>(v));
    default:
      return static_cast<double>(v);
  }
}

HostTensor cast_input(int32_t dt, std::mt19937& rng, const Shape& shape) {
  if (dt == kBool) return random_tensor(dt, shape, rng);
  HostTensor x = is_float(dt) ? random_tensor(dt, shape, rng, -300, 300)
                              : random_tensor(dt, shape, rng, int_min(dt) == 0 ? 0 : -300, 300);
  std::vector<double> specials;
  if (is_float(dt)) {
    specials = {NAN,     INFINITY, -INFINITY, 0.5,           -0.5,        1.5,  2.5,
                -2.5,    255.7,    -129.5,    1e10,          -1e10,       1e19, -1e19,
                65519.0, 65520.0,  3.0e38,    1.00048828125, 1.0009765625};
  } else if (dt == kI64) {
    specials = {9007199254740991.0, -9007199254740991.0, 16777217.0, 4294967297.0, 65536.0};
  } else if (dt == kI32) {
    specials = {2147483647.0, -2147483648.0, 16777217.0, 33554435.0, 300.0, -129.0};
  } else if (dt == kI8) {
    specials = {-128, 127, -1};
  } else if (dt == kU8) {
    specials = {255, 128, 0};
  }
  for (size_t i = 0; i < specials.size() && static_cast<int64_t>(i) < x.size(); ++i) {
    x.set(static_cast<int64_t>(i), specials[i]);
  }
  return x;
}

struct CastCase {
  int32_t from, to;
};

class CastTest : public ::testing::TestWithParam<CastCase> {};

TEST_P(CastTest, FollowsTheDocumentedRules) {
  const CastCase c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.from * 1000 + c.to));
  for (const Shape& shape : std::vector<Shape>{{}, {0, 2}, {40}, {3, 70001}}) {
    SCOPED_TRACE(shape_str(shape));
    const HostTensor x = cast_input(c.from, rng, shape);
    KILN_RUN_OK(result, "cast", {x}, {Attr::Dtype("dtype", c.to)});
    Reference r;
    r.dtype = c.to;
    r.shape = shape;
    for (int64_t i = 0; i < x.size(); ++i) r.values.push_back(cast_scalar(x, i, c.to));
    // Float results must be the correctly rounded value: no tolerance.
    EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
  }
}

std::vector<CastCase> cast_cases() {
  std::vector<CastCase> cases;
  for (int32_t from : kCastTypes) {
    for (int32_t to : kCastTypes) cases.push_back({from, to});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Pairs, CastTest, ::testing::ValuesIn(cast_cases()), [](const auto& info) {
  return std::string(dtype_str(info.param.from)) + "_to_" + dtype_str(info.param.to);
});

// ---- mod, logic, predicates, rounding ---------------------------------------------------------

TEST(ModSemantics, SignOfDivisorAndZeroDivisor) {
  const HostTensor a = from_values(kI32, {6}, {7, -7, 7, -7, 5, -2147483648.0});
  const HostTensor b = from_values(kI32, {6}, {3, 3, -3, -3, 0, -1});
  KILN_RUN_OK(r, "mod", {a, b});
  const std::array<int64_t, 6> want = {1, 2, -2, -1, 0, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.outputs[0].get_int(i), want[i]) << i;
  const HostTensor fa = from_values(kF64, {4}, {7.5, -7.5, 7.5, 1.0});
  const HostTensor fb = from_values(kF64, {4}, {2.0, 2.0, -2.0, 0.0});
  KILN_RUN_OK(f, "mod", {fa, fb});
  EXPECT_EQ(f.outputs[0].get(0), 1.5);
  EXPECT_EQ(f.outputs[0].get(1), 0.5);
  EXPECT_EQ(f.outputs[0].get(2), -0.5);
  EXPECT_TRUE(std::isnan(f.outputs[0].get(3)));
}

TEST(LogicalOps, TruthTablesWithBroadcasting) {
  const HostTensor a = from_values(kBool, {2, 1}, {0, 1});
  const HostTensor b = from_values(kBool, {2}, {0, 1});
  const std::vector<std::pair<const char*, std::array<int, 4>>> cases = {
      {"logical_and", {0, 0, 0, 1}},
      {"logical_or", {0, 1, 1, 1}},
      {"logical_xor", {0, 1, 1, 0}},
      {"not_equal", {0, 1, 1, 0}},
  };
  for (const auto& [op, want] : cases) {
    KILN_RUN_OK(r, op, {a, b});
    ASSERT_EQ(r.outputs[0].dtype, kBool);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.outputs[0].get_int(i), want[i]) << op << " " << i;
  }
  KILN_RUN_OK(n, "logical_not", {b});
  EXPECT_EQ(n.outputs[0].get_int(0), 1);
  EXPECT_EQ(n.outputs[0].get_int(1), 0);
  const OpResult bad = run_op("logical_and", {from_values(kF32, {2}, {0, 1}), b});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message.find("needs bool operands"), std::string::npos) << bad.message;
}

class PredicateTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(PredicateTest, IsInfIsNanRounding) {
  const int32_t dt = GetParam();
  const double inf = std::numeric_limits<double>::infinity();
  const HostTensor x = from_values(dt, {7}, {inf, -inf, NAN, 2.5, -0.5, 1.5, -3.75});
  KILN_RUN_OK(i, "is_inf", {x});
  KILN_RUN_OK(n, "is_nan", {x});
  for (int64_t k = 0; k < 7; ++k) {
    EXPECT_EQ(i.outputs[0].get_int(k), std::isinf(x.get(k)) ? 1 : 0) << k;
    EXPECT_EQ(n.outputs[0].get_int(k), std::isnan(x.get(k)) ? 1 : 0) << k;
  }
  KILN_RUN_OK(r, "round", {x});
  KILN_RUN_OK(f, "floor", {x});
  KILN_RUN_OK(t, "trunc", {x});
  for (int64_t k = 3; k < 7; ++k) {
    EXPECT_EQ(r.outputs[0].get(k), std::nearbyint(x.get(k))) << k;  // ties to even
    EXPECT_EQ(f.outputs[0].get(k), std::floor(x.get(k))) << k;
    EXPECT_EQ(t.outputs[0].get(k), std::trunc(x.get(k))) << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, PredicateTest, ::testing::ValuesIn(kFloats),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

class LibmUnaryTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(LibmUnaryTest, MatchesDoubleReference) {
  const int32_t dt = GetParam();
  std::mt19937 rng(3);
  const HostTensor x = random_tensor(dt, {4, 33}, rng, -0.9, 0.9);
  const std::vector<std::pair<const char*, double (*)(double)>> ops = {
      {"atanh", [](double v) { return std::atanh(v); }},
      {"cos", [](double v) { return std::cos(v); }},
      {"sin", [](double v) { return std::sin(v); }},
      {"erf", [](double v) { return std::erf(v); }},
      {"log1p", [](double v) { return std::log1p(v); }},
  };
  for (const auto& [op, fn] : ops) {
    KILN_RUN_OK(r, op, {x});
    Reference ref{dt, x.shape, {}, {}};
    for (int64_t i = 0; i < x.size(); ++i) ref.values.push_back(fn(x.get(i)));
    Tolerance tol = default_tolerance(dt);
    if (dt == kF32) tol = {2e-5, 2e-6};
    EXPECT_TRUE(matches(r.outputs[0], ref, tol)) << op;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LibmUnaryTest, ::testing::ValuesIn(kFloats),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

// ---- float8 casts -----------------------------------------------------------------------------

// Decodes a float8 code from its fields, written independently of the plugin.
double decode_f8(uint8_t code, bool e4m3) {
  const int mbits = e4m3 ? 3 : 2;
  const int bias = e4m3 ? 7 : 15;
  const int e = (code & 0x7F) >> mbits;
  const int m = code & ((1 << mbits) - 1);
  const double sign = (code & 0x80) ? -1.0 : 1.0;
  if (e4m3 && (code & 0x7F) == 0x7F) return NAN;
  if (!e4m3 && e == 31) return m == 0 ? sign * std::numeric_limits<double>::infinity() : NAN;
  if (e == 0) return sign * std::ldexp(m, 1 - bias - mbits);
  return sign * std::ldexp((1 << mbits) + m, e - bias - mbits);
}

TEST(Float8Cast, EveryCodeRoundTripsThroughFloat32) {
  for (const bool e4m3 : {true, false}) {
    const int32_t f8 = e4m3 ? KILN_DTYPE_FLOAT8_E4M3FN : KILN_DTYPE_FLOAT8_E5M2;
    HostTensor codes(f8, {256});
    for (int i = 0; i < 256; ++i) codes.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
    KILN_RUN_OK(wide, "cast", {codes}, {Attr::Dtype("dtype", kF32)});
    for (int i = 0; i < 256; ++i) {
      const double want = decode_f8(static_cast<uint8_t>(i), e4m3);
      const double got = wide.outputs[0].get(i);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << i;
      } else {
        EXPECT_EQ(got, want) << i;
      }
    }
    KILN_RUN_OK(back, "cast", {wide.outputs[0]}, {Attr::Dtype("dtype", f8)});
    for (int i = 0; i < 256; ++i) {
      if (std::isnan(decode_f8(static_cast<uint8_t>(i), e4m3))) continue;
      EXPECT_EQ(back.outputs[0].bytes[static_cast<size_t>(i)], i)
          << (e4m3 ? "e4m3 " : "e5m2 ") << i;
    }
  }
}

TEST(Float8Cast, RoundsToNearestEvenAndOverflows) {
  const HostTensor x = from_values(kF32, {6}, {460, 464, 465, 1.0625, 61439, 61440});
  KILN_RUN_OK(a, "cast", {x}, {Attr::Dtype("dtype", KILN_DTYPE_FLOAT8_E4M3FN)});
  HostTensor e4 = a.outputs[0];
  EXPECT_EQ(decode_f8(e4.bytes[0], true), 448);
  EXPECT_EQ(decode_f8(e4.bytes[1], true), 448);           // the tie goes to the even code
  EXPECT_TRUE(std::isnan(decode_f8(e4.bytes[2], true)));  // past 464: no inf in e4m3fn
  EXPECT_EQ(decode_f8(e4.bytes[3], true), 1.0);           // 1 + 1/16 ties to even (1.0)
  KILN_RUN_OK(b, "cast", {x}, {Attr::Dtype("dtype", KILN_DTYPE_FLOAT8_E5M2)});
  EXPECT_EQ(decode_f8(b.outputs[0].bytes[4], false), 57344);
  EXPECT_TRUE(std::isinf(decode_f8(b.outputs[0].bytes[5], false)));
}

}  // namespace
}  // namespace kiln_conformance
