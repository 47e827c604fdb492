// harness.cpp: host tensors, the test's own half encodings, random inputs and comparisons.
#include "harness.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace kiln_conformance {

int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

const char* dtype_str(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
      return "bool";
    case KILN_DTYPE_FLOAT16:
      return "float16";
    case KILN_DTYPE_BFLOAT16:
      return "bfloat16";
    case KILN_DTYPE_FLOAT32:
      return "float32";
    case KILN_DTYPE_FLOAT64:
      return "float64";
    case KILN_DTYPE_UINT8:
      return "uint8";
    case KILN_DTYPE_INT8:
      return "int8";
    case KILN_DTYPE_INT32:
      return "int32";
    case KILN_DTYPE_INT64:
      return "int64";
    default:
      return "other";
  }
}

bool is_half(int32_t dtype) { return dtype == KILN_DTYPE_FLOAT16 || dtype == KILN_DTYPE_BFLOAT16; }

bool is_float(int32_t dtype) {
  return dtype == KILN_DTYPE_FLOAT32 || dtype == KILN_DTYPE_FLOAT64 || is_half(dtype);
}

// ---- Half encodings: arithmetic on doubles ---------------------------------------------------

namespace {

// Rounds |a| > 0 to a binary format with `mantissa_bits` stored bits, smallest normal exponent
// `min_exp` (value 2^min_exp) and largest finite value `max_finite`; ties to even.
double round_binary(double a, int mantissa_bits, int min_exp, double max_finite) {
  int e = 0;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1): a's exponent is e - 1
  const int quantum_exp = std::max(e - 1 - mantissa_bits, min_exp - mantissa_bits);
  const double q = std::ldexp(1.0, quantum_exp);
  const double r = std::nearbyint(a / q) * q;  // default rounding: to nearest, ties to even
  if (r > max_finite) return std::numeric_limits<double>::infinity();
  return r;
}

uint16_t encode_binary16(double v, int exp_bits, int mantissa_bits) {
  const int bias = (1 << (exp_bits - 1)) - 1;
  const int min_exp = 1 - bias;
  const double max_finite = std::ldexp(2.0 - std::ldexp(1.0, -mantissa_bits), bias);
  const uint16_t sign = std::signbit(v) ? uint16_t(1u << 15) : uint16_t(0);
  const uint16_t exp_all = static_cast<uint16_t>(((1u << exp_bits) - 1u) << mantissa_bits);
  if (std::isnan(v)) return static_cast<uint16_t>(exp_all | (1u << (mantissa_bits - 1)));
  const double a = std::fabs(v);
  if (a == 0) return sign;
  const double r = std::isinf(a) ? a : round_binary(a, mantissa_bits, min_exp, max_finite);
  if (std::isinf(r)) return static_cast<uint16_t>(sign | exp_all);
  if (r == 0) return sign;
  if (r < std::ldexp(1.0, min_exp)) {  // subnormal
    const double m = r / std::ldexp(1.0, min_exp - mantissa_bits);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(m));
  }
  int e = 0;
  const double m = std::frexp(r, &e);  // r = m 2^e, m in [0.5, 1)
  const int biased = e - 1 + bias;
  const double frac = (m * 2.0 - 1.0) * std::ldexp(1.0, mantissa_bits);
  return static_cast<uint16_t>(sign | (biased << mantissa_bits) | static_cast<uint16_t>(frac));
}

double decode_binary16(uint16_t bits, int exp_bits, int mantissa_bits) {
  const int bias = (1 << (exp_bits - 1)) - 1;
  const bool negative = bits & 0x8000u;
  const int exponent = (bits >> mantissa_bits) & ((1 << exp_bits) - 1);
  const int mantissa = bits & ((1 << mantissa_bits) - 1);
  double v;
  if (exponent == (1 << exp_bits) - 1) {
    v = mantissa ? std::numeric_limits<double>::quiet_NaN()
                 : std::numeric_limits<double>::infinity();
  } else if (exponent == 0) {
    v = std::ldexp(static_cast<double>(mantissa), 1 - bias - mantissa_bits);
  } else {
    v = std::ldexp(1.0 + std::ldexp(static_cast<double>(mantissa), -mantissa_bits),
                   exponent - bias);
  }
  return negative ? -v : v;
}

}  // namespace

uint16_t encode_f16(double v) { return encode_binary16(v, 5, 10); }
double decode_f16(uint16_t bits) { return decode_binary16(bits, 5, 10); }
uint16_t encode_bf16(double v) { return encode_binary16(v, 8, 7); }
double decode_bf16(uint16_t bits) { return decode_binary16(bits, 8, 7); }

double round_to_dtype(double v, int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
      return static_cast<double>(static_cast<float>(v));
    case KILN_DTYPE_FLOAT16:
      return decode_f16(encode_f16(v));
    case KILN_DTYPE_BFLOAT16:
      return decode_bf16(encode_bf16(v));
    case KILN_DTYPE_BOOL:
      return v != 0 ? 1 : 0;
    case KILN_DTYPE_FLOAT64:
      return v;
    default:
      return std::trunc(v);
  }
}

// ---- HostTensor --------------------------------------------------------------------------------

HostTensor::HostTensor(int32_t dt, Shape s) : dtype(dt), shape(std::move(s)) {
  bytes.assign(static_cast<size_t>(size()) * kiln_dtype_size(dtype), 0);
}

template <class T>
static T load_as(const std::vector<uint8_t>& bytes, int64_t i) {
  T v;
  std::memcpy(&v, bytes.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}

template <class T>
static void store_as(std::vector<uint8_t>& bytes, int64_t i, T v) {
  std::memcpy(bytes.data() + i * static_cast<int64_t>(sizeof(T)), &v, sizeof(T));
}

double HostTensor::get(int64_t i) const {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
      return load_as<float>(bytes, i);
    case KILN_DTYPE_FLOAT64:
      return load_as<double>(bytes, i);
    case KILN_DTYPE_FLOAT16:
      return decode_f16(load_as<uint16_t>(bytes, i));
    case KILN_DTYPE_BFLOAT16:
      return decode_bf16(load_as<uint16_t>(bytes, i));
    default:
      return static_cast<double>(get_int(i));
  }
}

int64_t HostTensor::get_int(int64_t i) const {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
      return load_as<uint8_t>(bytes, i) != 0;
    case KILN_DTYPE_UINT8:
      return load_as<uint8_t>(bytes, i);
    case KILN_DTYPE_INT8:
      return load_as<int8_t>(bytes, i);
    case KILN_DTYPE_INT32:
      return load_as<int32_t>(bytes, i);
    case KILN_DTYPE_INT64:
      return load_as<int64_t>(bytes, i);
    default:
      return static_cast<int64_t>(get(i));
  }
}

void HostTensor::set(int64_t i, double v) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
      store_as<float>(bytes, i, static_cast<float>(v));
      return;
    case KILN_DTYPE_FLOAT64:
      store_as<double>(bytes, i, v);
      return;
    case KILN_DTYPE_FLOAT16:
      store_as<uint16_t>(bytes, i, encode_f16(v));
      return;
    case KILN_DTYPE_BFLOAT16:
      store_as<uint16_t>(bytes, i, encode_bf16(v));
      return;
    case KILN_DTYPE_BOOL:
      store_as<uint8_t>(bytes, i, v != 0 ? 1 : 0);
      return;
    default:
      set_int(i, static_cast<int64_t>(v));
      return;
  }
}

void HostTensor::set_int(int64_t i, int64_t v) {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
      store_as<uint8_t>(bytes, i, v != 0 ? 1 : 0);
      return;
    case KILN_DTYPE_UINT8:
      store_as<uint8_t>(bytes, i, static_cast<uint8_t>(v));
      return;
    case KILN_DTYPE_INT8:
      store_as<int8_t>(bytes, i, static_cast<int8_t>(v));
      return;
    case KILN_DTYPE_INT32:
      store_as<int32_t>(bytes, i, static_cast<int32_t>(v));
      return;
    case KILN_DTYPE_INT64:
      store_as<int64_t>(bytes, i, v);
      return;
    default:
      set(i, static_cast<double>(v));
      return;
  }
}

HostTensor random_tensor(int32_t dtype, const Shape& shape, std::mt19937& rng, double lo,
                         double hi) {
  HostTensor t(dtype, shape);
  const int64_t n = t.size();
  if (dtype == KILN_DTYPE_BOOL) {
    std::bernoulli_distribution coin(0.5);
    for (int64_t i = 0; i < n; ++i) t.set_int(i, coin(rng));
  } else if (!is_float(dtype)) {
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(std::ceil(lo)),
                                                static_cast<int64_t>(std::floor(hi)));
    for (int64_t i = 0; i < n; ++i) t.set_int(i, dist(rng));
  } else {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (int64_t i = 0; i < n; ++i) t.set(i, dist(rng));
  }
  return t;
}

HostTensor from_values(int32_t dtype, const Shape& shape, const std::vector<double>& values) {
  HostTensor t(dtype, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, values[static_cast<size_t>(i)]);
  return t;
}

// ---- Comparison -------------------------------------------------------------------------------

Tolerance default_tolerance(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
      return {1e-5, 1e-6};
    case KILN_DTYPE_FLOAT16:
      return {2e-3, 1e-5};
    case KILN_DTYPE_BFLOAT16:
      return {1.6e-2, 1e-5};
    case KILN_DTYPE_FLOAT64:
      return {1e-12, 1e-14};
    default:
      return {0, 0};
  }
}

::testing::AssertionResult matches(const HostTensor& got, const Reference& want) {
  return matches(got, want, default_tolerance(want.dtype));
}

::testing::AssertionResult matches(const HostTensor& got, const Reference& want, Tolerance tol) {
  if (got.dtype != want.dtype) {
    return ::testing::AssertionFailure()
           << "dtype " << dtype_str(got.dtype) << ", expected " << dtype_str(want.dtype);
  }
  if (got.shape != want.shape) {
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape) << ", expected " << shape_str(want.shape);
  }
  const int64_t n = got.size();
  int failures = 0;
  std::ostringstream report;
  for (int64_t i = 0; i < n; ++i) {
    const double expect = round_to_dtype(want.values[static_cast<size_t>(i)], got.dtype);
    bool ok;
    double g;
    if (!is_float(got.dtype)) {
      const int64_t gi = got.get_int(i);
      g = static_cast<double>(gi);
      ok = g == expect;
    } else {
      g = got.get(i);
      if (std::isnan(expect) || std::isnan(g)) {
        ok = std::isnan(expect) && std::isnan(g);
      } else if (std::isinf(expect) || std::isinf(g)) {
        ok = expect == g;
      } else {
        const double scale =
            want.scale.empty() ? std::fabs(expect) : want.scale[static_cast<size_t>(i)];
        ok = std::fabs(g - expect) <= tol.atol + tol.rtol * scale;
      }
    }
    if (!ok && failures++ < 5) {
      report << "\n  element " << i << ": got " << g << ", expected " << expect;
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures << " of " << n << " elements differ ("
                                       << dtype_str(got.dtype) << shape_str(got.shape) << ", rtol "
                                       << tol.rtol << ", atol " << tol.atol << ")" << report.str();
}

::testing::AssertionResult identical(const HostTensor& a, const HostTensor& b) {
  if (a.dtype != b.dtype || a.shape != b.shape) {
    return ::testing::AssertionFailure()
           << "different types: " << dtype_str(a.dtype) << shape_str(a.shape) << " vs "
           << dtype_str(b.dtype) << shape_str(b.shape);
  }
  if (a.bytes != b.bytes) {
    size_t i = 0;
    while (a.bytes[i] == b.bytes[i]) ++i;
    return ::testing::AssertionFailure() << "bytes differ, first at byte " << i << " (element "
                                         << i / kiln_dtype_size(a.dtype) << ")";
  }
  return ::testing::AssertionSuccess();
}

// ---- Attributes -------------------------------------------------------------------------------

Attr Attr::Int(std::string name, int64_t v) {
  Attr a;
  a.name = std::move(name);
  a.kind = KILN_ATTR_INT;
  a.i = v;
  return a;
}
Attr Attr::Float(std::string name, double v) {
  Attr a;
  a.name = std::move(name);
  a.kind = KILN_ATTR_FLOAT;
  a.f = v;
  return a;
}
Attr Attr::String(std::string name, std::string v) {
  Attr a;
  a.name = std::move(name);
  a.kind = KILN_ATTR_STRING;
  a.s = std::move(v);
  return a;
}
Attr Attr::Ints(std::string name, std::vector<int64_t> v) {
  Attr a;
  a.name = std::move(name);
  a.kind = KILN_ATTR_INTS;
  a.ints = std::move(v);
  return a;
}
Attr Attr::Dtype(std::string name, int32_t v) {
  Attr a;
  a.name = std::move(name);
  a.kind = KILN_ATTR_DTYPE;
  a.i = v;
  return a;
}

}  // namespace kiln_conformance
