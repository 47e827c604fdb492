// matmul_test.cpp: matmul with MAX semantics (1-D operands, broadcast batch dims) for every
// supported dtype, against a float64 reference; errors are measured against sum |a||b|.
#include <cmath>

#include "harness.h"

namespace kiln_conformance {
namespace {

struct MatmulShapes {
  Shape lhs, rhs;
};

// Output shape and the reference, computed the long way.
Reference matmul_reference(const HostTensor& a, const HostTensor& b) {
  const bool a_vec = a.shape.size() == 1;
  const bool b_vec = b.shape.size() == 1;
  Shape as = a.shape, bs = b.shape;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  const size_t rank = std::max(ab.size(), bb.size());
  Shape batch(rank, 1);
  Shape ab_full(rank, 1), bb_full(rank, 1);
  for (size_t i = 0; i < ab.size(); ++i) ab_full[rank - ab.size() + i] = ab[i];
  for (size_t i = 0; i < bb.size(); ++i) bb_full[rank - bb.size() + i] = bb[i];
  for (size_t i = 0; i < rank; ++i) batch[i] = ab_full[i] == 1 ? bb_full[i] : ab_full[i];
  Reference r;
  r.dtype = a.dtype;
  r.shape = batch;
  if (!a_vec) r.shape.push_back(m);
  if (!b_vec) r.shape.push_back(n);
  const int64_t batches = num_elements(batch);
  for (int64_t bi = 0; bi < batches; ++bi) {
    // Batch coordinates -> flat batch index of each operand (broadcast dims contribute 0).
    int64_t ai = 0, bj = 0, as_stride = 1, bs_stride = 1, rem = bi;
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      const int64_t c = rem % batch[d];
      rem /= batch[d];
      if (ab_full[d] != 1) ai += c * as_stride;
      if (bb_full[d] != 1) bj += c * bs_stride;
      as_stride *= ab_full[d];
      bs_stride *= bb_full[d];
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double x = a.get(ai * m * k + i * k + p);
          const double y = b.get(bj * k * n + p * n + j);
          sum += x * y;
          mag += std::fabs(x * y);
        }
        r.values.push_back(sum);
        r.scale.push_back(mag);
      }
    }
  }
  return r;
}

const std::vector<MatmulShapes> kShapes = {
    {{3, 4}, {4, 5}},
    {{1, 1}, {1, 1}},
    {{4}, {4}},
    {{4}, {4, 3}},
    {{2, 3, 4}, {4}},
    {{2, 3, 4}, {4, 5}},           // one weight matrix: folded into a single GEMM
    {{4, 5}, {2, 5, 3}},           // lhs shared by every rhs batch
    {{2, 3, 4}, {2, 4, 5}},        // matching batches
    {{2, 1, 3, 4}, {1, 5, 4, 2}},  // mixed broadcasting
    {{0, 4}, {4, 5}},
    {{3, 0}, {0, 5}},  // K = 0: zeros
    {{2, 0, 3}, {3, 4}},
    {{64, 96}, {96, 80}},
    {{130, 257}, {257, 129}},
};

class MatmulTest : public ::testing::TestWithParam<int32_t> {};

TEST_P(MatmulTest, MatchesReference) {
  const int32_t dt = GetParam();
  std::mt19937 rng(5);
  const bool integer = !is_float(dt);
  for (const MatmulShapes& s : kShapes) {
    SCOPED_TRACE(shape_str(s.lhs) + " @ " + shape_str(s.rhs));
    const HostTensor a = random_tensor(dt, s.lhs, rng, integer ? -20 : -1, integer ? 20 : 1);
    const HostTensor b = random_tensor(dt, s.rhs, rng, integer ? -20 : -1, integer ? 20 : 1);
    KILN_RUN_OK(result, "matmul", {a, b});
    EXPECT_TRUE(matches(result.outputs[0], matmul_reference(a, b)));
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, MatmulTest,
                         ::testing::Values(KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                           KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64,
                                           KILN_DTYPE_INT32, KILN_DTYPE_INT64),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

TEST(MatmulErrors, KMismatchIsCaughtAtGraphBuild) {
  const HostTensor a(KILN_DTYPE_FLOAT32, {3, 4});
  const HostTensor b(KILN_DTYPE_FLOAT32, {5, 6});
  const OpResult r = run_op("matmul", {a, b});
  EXPECT_EQ(r.stage, Stage::kBuild) << r.message;
  EXPECT_NE(r.message.find("matmul"), std::string::npos) << r.message;
}

TEST(MatmulErrors, Int32OverflowWraps) {
  const HostTensor a = from_values(KILN_DTYPE_INT32, {1, 2}, {65536, 65536});
  const HostTensor b = from_values(KILN_DTYPE_INT32, {2, 1}, {32768, 32768});
  KILN_RUN_OK(result, "matmul", {a, b});
  EXPECT_EQ(result.outputs[0].get_int(0), 0);  // 2^32 wraps to 0
}

// Weights passed by the caller as an ordinary input: one loaded model executed with new rhs
// values each time sees them (nothing of a previous execution's rhs is kept), on the 2-D path
// (dnnl_sgemm) and the batched one (the matmul primitive).
TEST(MatmulInputs, NewRhsValuesEachExecution) {
  std::mt19937 rng(11);
  const std::vector<MatmulShapes> shapes = {{{33, 70}, {70, 190}}, {{2, 17, 40}, {2, 40, 24}}};
  for (const MatmulShapes& s : shapes) {
    SCOPED_TRACE(shape_str(s.lhs) + " @ " + shape_str(s.rhs));
    const HostTensor a = random_tensor(KILN_DTYPE_FLOAT32, s.lhs, rng, -1, 1);
    LoadedOp op("matmul", {a, HostTensor(KILN_DTYPE_FLOAT32, s.rhs)}, {}, 2);
    ASSERT_TRUE(op.error().empty()) << op.error();
    for (int round = 0; round < 3; ++round) {
      const HostTensor b = random_tensor(KILN_DTYPE_FLOAT32, s.rhs, rng, -1, 1);
      const OpResult r = op.execute({a, b});
      ASSERT_TRUE(r.ok()) << r.message;
      EXPECT_TRUE(matches(r.outputs[0], matmul_reference(a, b))) << "round " << round;
    }
  }
}

// The 2-D float32 path's edge shapes (GEMV, one column, K = 1, a tall skinny product) with more
// than one thread.
TEST(MatmulFloat32, EdgeShapesWithTwoThreads) {
  std::mt19937 rng(12);
  const std::vector<MatmulShapes> shapes = {
      {{1, 300}, {300, 500}}, {{300}, {300, 7}}, {{500, 300}, {300}},
      {{40, 1}, {1, 33}},     {{1000, 3}, {3, 5}}, {{3, 2, 64}, {64, 1}}};
  for (const MatmulShapes& s : shapes) {
    SCOPED_TRACE(shape_str(s.lhs) + " @ " + shape_str(s.rhs));
    const HostTensor a = random_tensor(KILN_DTYPE_FLOAT32, s.lhs, rng, -1, 1);
    const HostTensor b = random_tensor(KILN_DTYPE_FLOAT32, s.rhs, rng, -1, 1);
    KILN_RUN_OK(result, "matmul", {a, b}, {}, 2);
    EXPECT_TRUE(matches(result.outputs[0], matmul_reference(a, b)));
  }
}

}  // namespace
}  // namespace kiln_conformance
