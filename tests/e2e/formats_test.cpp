// Unit tests of the CLI's number formats (float16, bfloat16, float8 — checked against ml_dtypes
// when a Python with it is available) and of symbolic dim expressions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dim_expr.h"
#include "float_formats.h"
#include "kiln/kiln_types.h"
#include "subprocess.h"

namespace kiln::cli {
namespace {

TEST(CliFloat16, KnownValues) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::isinf(half_to_float(0xfc00)) && half_to_float(0xfc00) < 0);
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);  // rounds down to the largest half
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie: to even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie: to even
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);             // subnormal tie
  EXPECT_EQ(float_to_half(3 * std::ldexp(1.0f, -25)), 0x0002);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)), 0x0400);  // carries
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
}

TEST(CliFloat16, EveryCodeRoundTrips) {
  for (uint32_t code = 0; code < 0x10000; ++code) {
    const auto h = static_cast<uint16_t>(code);
    const float f = half_to_float(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), h) << "code 0x" << std::hex << code;
  }
}

TEST(CliBFloat16, KnownValuesAndRounding) {
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie: to even
  EXPECT_EQ(float_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie: to even
  EXPECT_EQ(float_to_bfloat16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(std::nanf("")))));
  for (uint32_t code = 0; code < 0x10000; ++code) {
    const float f = bfloat16_to_float(static_cast<uint16_t>(code));
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_bfloat16(f), code) << "code 0x" << std::hex << code;
  }
}

TEST(CliFloat8, KnownValues) {
  EXPECT_EQ(float8_to_float(0x7e, KILN_DTYPE_FLOAT8_E4M3FN), 448.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(0x7f, KILN_DTYPE_FLOAT8_E4M3FN)));
  EXPECT_EQ(float8_to_float(0x01, KILN_DTYPE_FLOAT8_E4M3FN), std::ldexp(1.0f, -9));
  EXPECT_EQ(float8_to_float(0x38, KILN_DTYPE_FLOAT8_E4M3FN), 1.0f);
  EXPECT_EQ(float8_to_float(0x7f, KILN_DTYPE_FLOAT8_E4M3FNUZ), 240.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(0x80, KILN_DTYPE_FLOAT8_E4M3FNUZ)));
  EXPECT_EQ(float8_to_float(0x7b, KILN_DTYPE_FLOAT8_E5M2), 57344.0f);
  EXPECT_TRUE(std::isinf(float8_to_float(0x7c, KILN_DTYPE_FLOAT8_E5M2)));
  EXPECT_TRUE(std::isnan(float8_to_float(0x7d, KILN_DTYPE_FLOAT8_E5M2)));
  EXPECT_EQ(float8_to_float(0x7f, KILN_DTYPE_FLOAT8_E5M2FNUZ), 57344.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(0x80, KILN_DTYPE_FLOAT8_E5M2FNUZ)));
  EXPECT_EQ(float_to_float8(1000.0f, KILN_DTYPE_FLOAT8_E4M3FN), 0x7e);  // saturates
  EXPECT_EQ(float_to_float8(-0.0f, KILN_DTYPE_FLOAT8_E4M3FNUZ), 0x00);  // no negative zero
  EXPECT_EQ(float_to_float8(-0.0f, KILN_DTYPE_FLOAT8_E4M3FN), 0x80);
  EXPECT_EQ(float_to_float8(std::ldexp(1.0f, -12), KILN_DTYPE_FLOAT8_E4M3FN), 0x00);
  EXPECT_EQ(float_to_float8(-std::ldexp(1.0f, -9), KILN_DTYPE_FLOAT8_E4M3FN), 0x81);
}

TEST(CliFloat8, EveryFiniteCodeRoundTrips) {
  for (int32_t dtype : {KILN_DTYPE_FLOAT8_E4M3FN, KILN_DTYPE_FLOAT8_E4M3FNUZ,
                        KILN_DTYPE_FLOAT8_E5M2, KILN_DTYPE_FLOAT8_E5M2FNUZ}) {
    for (int code = 0; code < 256; ++code) {
      const float f = float8_to_float(static_cast<uint8_t>(code), dtype);
      if (!std::isfinite(f)) continue;
      ASSERT_EQ(float_to_float8(f, dtype), code) << "dtype " << dtype << " code " << code;
    }
  }
}

// ml_dtypes (the float8 types NumPy users have) decodes all 256 codes of each format.
TEST(CliFloat8, MatchesMlDtypes) {
#ifdef KILN_E2E_PYTHON
  const std::string python = KILN_E2E_PYTHON;
  if (python.empty() || access(python.c_str(), X_OK) != 0) GTEST_SKIP() << "no Python";
  const e2e::ProcessResult r = e2e::run_process(
      {python, "-c",
       "import numpy as np, ml_dtypes as m\n"
       "for t in [m.float8_e4m3fn, m.float8_e4m3fnuz, m.float8_e5m2, m.float8_e5m2fnuz]:\n"
       "  print(' '.join(repr(float(v)) for v in np.arange(256, dtype=np.uint8).view(t)))\n"});
  if (r.exit_code != 0) GTEST_SKIP() << "no ml_dtypes: " << r.err;
  std::istringstream lines(r.out);
  for (int32_t dtype : {KILN_DTYPE_FLOAT8_E4M3FN, KILN_DTYPE_FLOAT8_E4M3FNUZ,
                        KILN_DTYPE_FLOAT8_E5M2, KILN_DTYPE_FLOAT8_E5M2FNUZ}) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream values(line);
    for (int code = 0; code < 256; ++code) {
      std::string text;
      ASSERT_TRUE(values >> text);
      const float ours = float8_to_float(static_cast<uint8_t>(code), dtype);
      if (text == "nan") {
        EXPECT_TRUE(std::isnan(ours)) << "dtype " << dtype << " code " << code;
      } else {
        EXPECT_EQ(ours, std::stof(text == "inf"    ? "INF"
                                  : text == "-inf" ? "-INF"
                                                   : text))
            << "dtype " << dtype << " code " << code;
      }
    }
  }
#else
  GTEST_SKIP() << "no Python";
#endif
}

TEST(CliElementAsDouble, ReadsEveryDtype) {
  const uint8_t int16_bytes[] = {0xfe, 0xff};  // -2
  EXPECT_EQ(element_as_double(int16_bytes, KILN_DTYPE_INT16, 0), -2.0);
  EXPECT_EQ(element_as_double(int16_bytes, KILN_DTYPE_UINT16, 0), 65534.0);
  const uint8_t half_bytes[] = {0x00, 0x3c, 0x00, 0xc0};  // 1, -2
  EXPECT_EQ(element_as_double(half_bytes, KILN_DTYPE_FLOAT16, 1), -2.0);
  const uint8_t bfloat16_bytes[] = {0x80, 0x3f};  // 1
  EXPECT_EQ(element_as_double(bfloat16_bytes, KILN_DTYPE_BFLOAT16, 0), 1.0);
  const uint8_t bools[] = {0, 1};
  EXPECT_EQ(element_as_double(bools, KILN_DTYPE_BOOL, 1), 1.0);
  EXPECT_TRUE(needs_float32_widening(KILN_DTYPE_BFLOAT16));
  EXPECT_TRUE(needs_float32_widening(KILN_DTYPE_FLOAT8_E5M2));
  EXPECT_FALSE(needs_float32_widening(KILN_DTYPE_FLOAT16));
}

TEST(CliDimExpr, EvaluatesAndFindsSymbols) {
  const std::map<std::string, int64_t> symbols = {{"batch", 3}, {"seq", 5}};
  EXPECT_EQ(evaluate_dim("batch", symbols), 3);
  EXPECT_EQ(evaluate_dim("2*batch+1", symbols), 7);
  EXPECT_EQ(evaluate_dim("batch * (seq - 1)", symbols), 12);
  EXPECT_EQ(evaluate_dim("seq-batch-1", symbols), 1);  // left associative
  EXPECT_EQ(evaluate_dim("64", symbols), 64);
  EXPECT_EQ(evaluate_dim("batch*heads", symbols), std::nullopt);
  EXPECT_THROW(evaluate_dim("2*", symbols), std::runtime_error);
  EXPECT_THROW(evaluate_dim("(batch", symbols), std::runtime_error);
  EXPECT_THROW(evaluate_dim("batch/2", symbols), std::runtime_error);
  EXPECT_THROW(evaluate_dim("9223372036854775807*2", symbols), std::runtime_error);
  EXPECT_EQ(dim_symbols("batch*seq+batch+2"), (std::vector<std::string>{"batch", "seq"}));
  EXPECT_TRUE(is_symbol_name("batch_2"));
  EXPECT_FALSE(is_symbol_name("2*batch"));
  EXPECT_FALSE(is_symbol_name(""));
}

}  // namespace
}  // namespace kiln::cli
