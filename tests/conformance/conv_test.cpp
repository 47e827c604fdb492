// conv_test.cpp: conv2d (groups, stride, dilation, padding, bias), conv2d_transpose and the two
// poolings through the C ABI, against direct float64 loops; and the errors for bad operands.
#include <algorithm>
#include <cmath>
#include <limits>

#include "harness.h"

namespace kiln_conformance {
namespace {

struct ConvCase {
  Shape x, w;  // NHWC, RSCF
  std::vector<int64_t> stride, dilation, padding;
  int64_t groups;
  bool bias;
};

Reference conv2d_reference(const HostTensor& x, const HostTensor& w, const HostTensor* b,
                           const ConvCase& c) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], ch = x.shape[3];
  const int64_t kh = w.shape[0], kw = w.shape[1], cg = w.shape[2], f = w.shape[3];
  const int64_t fg = f / c.groups;
  const int64_t oh =
      (h + c.padding[0] + c.padding[1] - c.dilation[0] * (kh - 1) - 1) / c.stride[0] + 1;
  const int64_t ow =
      (wd + c.padding[2] + c.padding[3] - c.dilation[1] * (kw - 1) - 1) / c.stride[1] + 1;
  Reference r;
  r.dtype = x.dtype;
  r.shape = {n, oh, ow, f};
  for (int64_t b0 = 0; b0 < n; ++b0) {
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        for (int64_t o = 0; o < f; ++o) {
          const int64_t g = o / fg;
          double sum = b ? b->get(o) : 0.0, mag = std::fabs(sum);
          for (int64_t p = 0; p < kh; ++p) {
            for (int64_t q = 0; q < kw; ++q) {
              const int64_t y = i * c.stride[0] - c.padding[0] + p * c.dilation[0];
              const int64_t z = j * c.stride[1] - c.padding[2] + q * c.dilation[1];
              if (y < 0 || y >= h || z < 0 || z >= wd) continue;
              for (int64_t k = 0; k < cg; ++k) {
                const double t = x.get(((b0 * h + y) * wd + z) * ch + g * cg + k) *
                                 w.get(((p * kw + q) * cg + k) * f + o);
                sum += t;
                mag += std::fabs(t);
              }
            }
          }
          r.values.push_back(sum);
          r.scale.push_back(mag);
        }
      }
    }
  }
  return r;
}

class Conv2dTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(Conv2dTest, MatchesReference) {
  const int32_t dtype = GetParam();
  const ConvCase cases[] = {
      {{1, 5, 5, 3}, {3, 3, 3, 4}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1, false},
      {{2, 7, 6, 4}, {3, 2, 2, 6}, {2, 1}, {1, 2}, {1, 0, 2, 1}, 2, true},
      {{1, 6, 6, 4}, {3, 3, 1, 4}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 4, true},
  };
  std::mt19937 rng(7);
  for (const ConvCase& c : cases) {
    HostTensor x = random_tensor(dtype, c.x, rng, -1, 1);
    HostTensor w = random_tensor(dtype, c.w, rng, -1, 1);
    HostTensor b = random_tensor(dtype, {c.w[3]}, rng, -1, 1);
    std::vector<HostTensor> inputs{x, w};
    if (c.bias) inputs.push_back(b);
    KILN_RUN_OK(r, "conv2d", inputs,
                {Attr::Ints("stride", c.stride), Attr::Ints("dilation", c.dilation),
                 Attr::Ints("padding", c.padding), Attr::Int("groups", c.groups)},
                2);
    Tolerance tol = default_tolerance(dtype);
    if (dtype == KILN_DTYPE_FLOAT32) tol = {1e-5, 1e-5};
    EXPECT_TRUE(matches(r.outputs[0], conv2d_reference(x, w, c.bias ? &b : nullptr, c), tol))
        << shape_str(c.x) << " * " << shape_str(c.w);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, Conv2dTest,
                         ::testing::Values(KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                           KILN_DTYPE_BFLOAT16),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

TEST(Conv2dTranspose, MatchesScatterReference) {
  std::mt19937 rng(11);
  const HostTensor x = random_tensor(KILN_DTYPE_FLOAT32, {1, 3, 4, 2}, rng, -1, 1);
  const HostTensor w = random_tensor(KILN_DTYPE_FLOAT32, {3, 2, 5, 2}, rng, -1, 1);  // kH kW F C
  const int64_t s = 2, pad_top = 1, pad_left = 0;
  KILN_RUN_OK(r, "conv2d_transpose", {x, w},
              {Attr::Ints("stride", {s, s}), Attr::Ints("padding", {pad_top, 0, pad_left, 1})});
  const int64_t full_h = (3 - 1) * s + 3, full_w = (4 - 1) * s + 2;
  const int64_t oh = full_h - pad_top, ow = full_w - pad_left - 1;
  std::vector<double> full(static_cast<size_t>(full_h * full_w * 5), 0.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t p = 0; p < 3; ++p)
        for (int64_t q = 0; q < 2; ++q)
          for (int64_t o = 0; o < 5; ++o)
            for (int64_t c = 0; c < 2; ++c)
              full[((i * s + p) * full_w + j * s + q) * 5 + o] +=
                  x.get((i * 4 + j) * 2 + c) * w.get(((p * 2 + q) * 5 + o) * 2 + c);
  Reference ref;
  ref.dtype = KILN_DTYPE_FLOAT32;
  ref.shape = {1, oh, ow, 5};
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j)
      for (int64_t o = 0; o < 5; ++o) {
        ref.values.push_back(full[((i + pad_top) * full_w + j + pad_left) * 5 + o]);
        ref.scale.push_back(1.0);
      }
  EXPECT_TRUE(matches(r.outputs[0], ref, {1e-5, 1e-5}));
}

TEST(Pool2d, MaxAndAverage) {
  std::mt19937 rng(13);
  const HostTensor x = random_tensor(KILN_DTYPE_FLOAT32, {2, 5, 6, 3}, rng, -1, 1);
  const std::vector<Attr> attrs{Attr::Ints("kernel_size", {3, 2}), Attr::Ints("stride", {2, 2}),
                                Attr::Ints("padding", {1, 1})};
  KILN_RUN_OK(mx, "max_pool2d", {x}, attrs);
  KILN_RUN_OK(avg, "avg_pool2d", {x}, attrs);
  // Output 3x4; windows start at -1 in both dims.
  Reference rmax, ravg;
  rmax.dtype = ravg.dtype = KILN_DTYPE_FLOAT32;
  rmax.shape = ravg.shape = {2, 3, 4, 3};
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        for (int64_t c = 0; c < 3; ++c) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          for (int64_t p = 0; p < 3; ++p)
            for (int64_t q = 0; q < 2; ++q) {
              const int64_t y = i * 2 - 1 + p, z = j * 2 - 1 + q;
              if (y < 0 || y >= 5 || z < 0 || z >= 6) continue;
              const double v = x.get(((n * 5 + y) * 6 + z) * 3 + c);
              best = std::max(best, v);
              sum += v;
            }
          rmax.values.push_back(best);
          ravg.values.push_back(sum / 6.0);  // padding counts (count_boundary defaults to 1)
        }
  EXPECT_TRUE(matches(mx.outputs[0], rmax));
  EXPECT_TRUE(matches(avg.outputs[0], ravg));
}

TEST(ConvErrors, BadOperandsAreBuildErrors) {
  const HostTensor x(KILN_DTYPE_FLOAT32, {1, 5, 5, 3});
  OpResult rank = run_op("conv2d", {HostTensor(KILN_DTYPE_FLOAT32, {5, 5, 3}),
                                    HostTensor(KILN_DTYPE_FLOAT32, {3, 3, 3, 4})});
  EXPECT_EQ(rank.stage, Stage::kBuild) << rank.message;
  EXPECT_NE(rank.message.find("rank 3"), std::string::npos) << rank.message;
  OpResult channels = run_op("conv2d", {x, HostTensor(KILN_DTYPE_FLOAT32, {3, 3, 2, 4})});
  EXPECT_EQ(channels.stage, Stage::kBuild) << channels.message;
  EXPECT_NE(channels.message.find("channels"), std::string::npos) << channels.message;
  OpResult groups =
      run_op("conv2d", {x, HostTensor(KILN_DTYPE_FLOAT32, {3, 3, 1, 4})}, {Attr::Int("groups", 3)});
  EXPECT_EQ(groups.stage, Stage::kBuild) << groups.message;
  EXPECT_NE(groups.message.find("not divisible by groups"), std::string::npos) << groups.message;
  OpResult pool = run_op("max_pool2d", {x});
  EXPECT_EQ(pool.stage, Stage::kBuild) << pool.message;
  EXPECT_NE(pool.message.find("kernel_size"), std::string::npos) << pool.message;
}

}  // namespace
}  // namespace kiln_conformance
