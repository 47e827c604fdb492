// threading_test.cpp: results across thread counts (bitwise identical for the plugin's own
// kernels, which chunk by shape and never by thread count) and many threads executing one model.
#include <cmath>
#include <thread>

#include "harness.h"

namespace kiln_conformance {
namespace {

struct DeterminismCase {
  const char* name;
  std::string op;
  std::vector<Shape> shapes;
  std::vector<Attr> attrs;
};

std::vector<DeterminismCase> determinism_cases() {
  return {
      {"sum_long_rows", "sum", {{3, 200000}}, {Attr::Int("axis", -1)}},
      {"sum_full", "sum", {{1000000}}, {Attr::Int("axis", 0)}},
      {"sum_columns", "sum", {{2000, 300}}, {Attr::Int("axis", 0)}},
      {"mean_rows", "mean", {{4000, 300}}, {Attr::Int("axis", 1)}},
      {"max_rows", "max", {{3, 200000}}, {Attr::Int("axis", 1)}},
      {"argmax_rows", "argmax", {{3, 200000}}, {Attr::Int("axis", 1)}},
      {"softmax", "softmax", {{500, 1000}}, {}},
      {"softmax_axis0", "softmax", {{1000, 300}}, {Attr::Int("axis", 0)}},
      {"layer_norm", "layer_norm", {{500, 1000}, {1000}, {1000}}, {}},
      {"add_broadcast", "add", {{1000, 1000}, {1000}}, {}},
      {"exp", "exp", {{1000000}}, {}},
      {"gelu", "gelu", {{300000}}, {}},
      {"transpose", "transpose", {{700, 900}}, {Attr::Int("axis_1", 0), Attr::Int("axis_2", 1)}},
      {"matmul_f64", "matmul", {{200, 300}, {300, 100}}, {}},
  };
}

class DeterminismTest : public ::testing::TestWithParam<DeterminismCase> {};

TEST_P(DeterminismTest, BitwiseIdenticalForEveryThreadCount) {
  const DeterminismCase& c = GetParam();
  std::mt19937 rng(31);
  std::vector<HostTensor> inputs;
  const int32_t dt = c.op == "matmul" ? KILN_DTYPE_FLOAT64 : KILN_DTYPE_FLOAT32;
  for (const Shape& s : c.shapes) inputs.push_back(random_tensor(dt, s, rng, -3, 3));
  KILN_RUN_OK(one, c.op, inputs, c.attrs, 1);
  for (int threads : {2, 3, 8}) {
    KILN_RUN_OK(many, c.op, inputs, c.attrs, threads);
    EXPECT_TRUE(identical(one.outputs[0], many.outputs[0])) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, DeterminismTest, ::testing::ValuesIn(determinism_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// oneDNN's float32 GEMM may split K differently with more threads, so it is compared within
// tolerance, and whether it was bitwise identical is recorded (see docs/cpu-plugin.md).
TEST(MatmulThreads, Float32CloseAcrossThreadCounts) {
  std::mt19937 rng(37);
  const HostTensor a = random_tensor(KILN_DTYPE_FLOAT32, {256, 512}, rng, -1, 1);
  const HostTensor b = random_tensor(KILN_DTYPE_FLOAT32, {512, 384}, rng, -1, 1);
  KILN_RUN_OK(one, "matmul", {a, b}, {}, 1);
  KILN_RUN_OK(two, "matmul", {a, b}, {}, 2);
  const bool same = one.outputs[0].bytes == two.outputs[0].bytes;
  RecordProperty("bitwise_identical_1_vs_2_threads", same ? "yes" : "no");
  double worst = 0;
  for (int64_t i = 0; i < one.outputs[0].size(); ++i) {
    worst = std::max(worst, std::fabs(one.outputs[0].get(i) - two.outputs[0].get(i)));
  }
  EXPECT_LT(worst, 1e-3);
}

TEST(Concurrency, ManyThreadsExecutingOneModelAgreeWithOne) {
  for (int session_threads : {1, 2}) {
    SCOPED_TRACE("session threads " + std::to_string(session_threads));
    std::mt19937 rng(41);
    struct Model {
      std::string op;
      std::vector<HostTensor> inputs;
      std::vector<Attr> attrs;
    };
    const std::vector<Model> models = {
        {"softmax", {random_tensor(KILN_DTYPE_FLOAT32, {64, 3000}, rng)}, {}},
        {"sum", {random_tensor(KILN_DTYPE_FLOAT32, {2, 100000}, rng)}, {}},
        {"matmul",
         {random_tensor(KILN_DTYPE_FLOAT32, {128, 256}, rng),
          random_tensor(KILN_DTYPE_FLOAT32, {256, 64}, rng)},
         {}},
        {"add",
         {random_tensor(KILN_DTYPE_FLOAT16, {300, 300}, rng),
          random_tensor(KILN_DTYPE_FLOAT16, {300}, rng)},
         {}},
    };
    for (const Model& m : models) {
      SCOPED_TRACE(m.op);
      LoadedOp loaded(m.op, m.inputs, m.attrs, session_threads);
      ASSERT_TRUE(loaded.error().empty()) << loaded.error();
      const OpResult expected = loaded.execute(m.inputs);
      ASSERT_TRUE(expected.ok()) << expected.message;
      constexpr int kThreads = 8;
      constexpr int kRuns = 6;
      std::vector<int> mismatches(kThreads, 0), failures(kThreads, 0);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int r = 0; r < kRuns; ++r) {
            const OpResult got = loaded.execute(m.inputs);
            if (!got.ok()) {
              ++failures[t];
            } else if (got.outputs[0].bytes != expected.outputs[0].bytes) {
              ++mismatches[t];
            }
          }
        });
      }
      for (auto& th : threads) th.join();
      for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(failures[t], 0) << "thread " << t;
        EXPECT_EQ(mismatches[t], 0) << "thread " << t;
      }
    }
  }
}

}  // namespace
}  // namespace kiln_conformance
