// quant_test.cpp: dequantize and qmatmul on hand-built GGML blocks (Q8_0, Q4_0, Q6_K with chosen
// scales and values, decoded here from the format description), and the packed-size errors.
#include <cmath>

#include "harness.h"

namespace kiln_conformance {
namespace {

void put_f16(HostTensor& t, int64_t offset, double v) {
  const uint16_t bits = encode_f16(v);
  t.bytes[static_cast<size_t>(offset)] = static_cast<uint8_t>(bits & 0xFF);
  t.bytes[static_cast<size_t>(offset) + 1] = static_cast<uint8_t>(bits >> 8);
}

// Two Q8_0 blocks per row, `rows` rows: scale 0.25 * (row + 1), value (i * 7 + row) mod 256 - 128.
HostTensor q8_0_rows(int64_t rows, Reference* decoded) {
  HostTensor t(KILN_DTYPE_UINT8, {rows, 68});
  decoded->dtype = KILN_DTYPE_FLOAT32;
  decoded->shape = {rows, 64};
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < 2; ++b) {
      const int64_t base = r * 68 + b * 34;
      const double d = 0.25 * static_cast<double>(r + 1);
      put_f16(t, base, d);
      for (int64_t i = 0; i < 32; ++i) {
        const int q = static_cast<int>((i * 7 + r + b) % 256) - 128;
        t.bytes[static_cast<size_t>(base + 2 + i)] = static_cast<uint8_t>(q);
        decoded->values.push_back(d * q);
      }
    }
  }
  return t;
}

TEST(Dequantize, Q8_0) {
  Reference want;
  const HostTensor q = q8_0_rows(3, &want);
  KILN_RUN_OK(r, "dequantize", {q}, {Attr::String("encoding", "q8_0")});
  EXPECT_TRUE(matches(r.outputs[0], want, {0, 0}));
}

TEST(Dequantize, Q4_0NibbleOrder) {
  // One block: low nibbles are elements 0..15, high nibbles 16..31; value (q - 8) * d.
  HostTensor t(KILN_DTYPE_UINT8, {1, 18});
  put_f16(t, 0, -1.5);
  Reference want;
  want.dtype = KILN_DTYPE_FLOAT32;
  want.shape = {1, 32};
  want.values.assign(32, 0.0);
  for (int i = 0; i < 16; ++i) {
    const int lo = i, hi = 15 - i;
    t.bytes[static_cast<size_t>(2 + i)] = static_cast<uint8_t>(lo | (hi << 4));
    want.values[static_cast<size_t>(i)] = -1.5 * (lo - 8);
    want.values[static_cast<size_t>(i + 16)] = -1.5 * (hi - 8);
  }
  KILN_RUN_OK(r, "dequantize", {t}, {Attr::String("encoding", "q4_0")});
  EXPECT_TRUE(matches(r.outputs[0], want, {0, 0}));
}

TEST(Dequantize, Q6_KLayout) {
  // 256 elements: element e = 128*h + 32*part + l (part 0..3, l 0..31) takes its low 4 bits
  // from ql[64h + l + 32*(part%2)] (low nibble for parts 0-1, high for 2-3), its high 2 bits
  // from qh[32h + l] at bit 2*part, and scale sc[8h + l/16 + 2*part]; x = d * sc * (q - 32).
  HostTensor t(KILN_DTYPE_UINT8, {1, 210});
  for (int i = 0; i < 192; ++i) t.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 37 + 5);
  for (int i = 0; i < 16; ++i) t.bytes[static_cast<size_t>(192 + i)] = static_cast<uint8_t>(i - 8);
  put_f16(t, 208, 0.125);
  Reference want;
  want.dtype = KILN_DTYPE_FLOAT32;
  want.shape = {1, 256};
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, part = (e % 128) / 32, l = e % 32;
    const int ql = t.bytes[static_cast<size_t>(64 * h + l + 32 * (part % 2))];
    const int low = part < 2 ? (ql & 15) : (ql >> 4);
    const int high = (t.bytes[static_cast<size_t>(128 + 32 * h + l)] >> (2 * part)) & 3;
    const int sc =
        static_cast<int8_t>(t.bytes[static_cast<size_t>(192 + 8 * h + l / 16 + 2 * part)]);
    want.values.push_back(0.125 * sc * ((low | (high << 4)) - 32));
  }
  KILN_RUN_OK(r, "dequantize", {t}, {Attr::String("encoding", "q6_k")});
  EXPECT_TRUE(matches(r.outputs[0], want, {1e-7, 0}));
}

TEST(Qmatmul, Q8_0MatchesDequantizedMatmul) {
  Reference weight;
  const HostTensor w = q8_0_rows(5, &weight);  // N = 5, K = 64
  std::mt19937 rng(3);
  const HostTensor x = random_tensor(KILN_DTYPE_FLOAT32, {2, 3, 64}, rng, -1, 1);
  KILN_RUN_OK(r, "qmatmul", {x, w}, {Attr::String("encoding", "q8_0")}, 2);
  Reference want;
  want.dtype = KILN_DTYPE_FLOAT32;
  want.shape = {2, 3, 5};
  for (int64_t m = 0; m < 6; ++m) {
    for (int64_t n = 0; n < 5; ++n) {
      double sum = 0, mag = 0;
      for (int64_t k = 0; k < 64; ++k) {
        const double t = x.get(m * 64 + k) * weight.values[static_cast<size_t>(n * 64 + k)];
        sum += t;
        mag += std::fabs(t);
      }
      want.values.push_back(sum);
      want.scale.push_back(mag);
    }
  }
  EXPECT_TRUE(matches(r.outputs[0], want));
}

TEST(QuantErrors, PackedSizeAndEncoding) {
  OpResult bytes = run_op("dequantize", {HostTensor(KILN_DTYPE_UINT8, {2, 35})},
                          {Attr::String("encoding", "q8_0")});
  EXPECT_EQ(bytes.stage, Stage::kBuild) << bytes.message;
  EXPECT_NE(bytes.message.find("34-byte block"), std::string::npos) << bytes.message;
  OpResult encoding = run_op("dequantize", {HostTensor(KILN_DTYPE_UINT8, {2, 34})},
                             {Attr::String("encoding", "q3_k")});
  EXPECT_EQ(encoding.stage, Stage::kBuild) << encoding.message;
  EXPECT_NE(encoding.message.find("'q3_k'"), std::string::npos) << encoding.message;
  OpResult k = run_op(
      "qmatmul", {HostTensor(KILN_DTYPE_FLOAT32, {2, 32}), HostTensor(KILN_DTYPE_UINT8, {4, 68})},
      {Attr::String("encoding", "q8_0")});
  EXPECT_EQ(k.stage, Stage::kBuild) << k.message;
  EXPECT_NE(k.message.find("K is 64"), std::string::npos) << k.message;
}

}  // namespace
}  // namespace kiln_conformance
