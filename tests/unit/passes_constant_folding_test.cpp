// Constant folding: nodes fed only by constants become constants computed by the CPU plugin's own
// kernels; the model computes the same values with the pass on and off.
#include <cmath>

#include "passes_test_util.h"

namespace kiln {
namespace {

using namespace passes_test;

TEST(PassesConstantFolding, FoldsConstantSubgraphsWithTheSessionsKernels) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  Builder b;
  const ValueId x = b.input("x", {4});
  const std::vector<float> av = {0.5f, -1.f, 2.f, 0.25f}, bv = {1.f, 1.5f, -0.5f, 0.f};
  const ValueId sum = b.op("add", {b.constant({4}, av), b.constant({4}, bv)});
  const ValueId e = b.op("exp", {sum});
  const ValueId out = b.op("mul", {x, e});
  b.outputs({out});

  Graph g = b.graph;
  PassContext ctx;
  auto session = cpu_session(runtime, true);
  ctx.session = session.get();
  auto folded = fold_constants(ctx, g);
  ASSERT_TRUE(folded.is_ok()) << folded.status().to_string();
  EXPECT_EQ(*folded, 2u);                 // add, then exp of the folded add
  EXPECT_EQ(eliminate_dead_code(g), 3u);  // the two source constants and the folded add
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, "constant");
  EXPECT_EQ(g.nodes[1].op, "mul");
  auto value = get_tensor_attr(g.nodes[0], "value");
  ASSERT_TRUE(value.is_ok());
  ASSERT_EQ((*value)->shape, std::vector<int64_t>{4});
  const float* folded_values = reinterpret_cast<const float*>((*value)->data());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(folded_values[i], std::exp(av[i] + bv[i]), 1e-5f * std::exp(av[i] + bv[i]));
  }

  const std::vector<float> in = random_floats(4, 7);
  RunResult on = run_graph(session, b.graph, {in});
  RunResult off = run_graph(cpu_session(runtime, false), b.graph, {in});
  ASSERT_TRUE(on.model && off.model);
  EXPECT_EQ(on.model->steps.size(), 2u);
  EXPECT_EQ(off.model->steps.size(), 5u);
  EXPECT_EQ(on.outputs[0], off.outputs[0]);
}

TEST(PassesConstantFolding, LeavesNodesThatReadInputsOrCannotBeEvaluated) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto session = cpu_session(runtime, true);
  Builder b;
  const ValueId x = b.input("x", {2});
  const ValueId c = b.constant({2}, {1.f, 2.f});
  const ValueId y = b.op("add", {x, c});
  b.outputs({y});
  PassContext ctx;
  ctx.session = session.get();
  auto folded = fold_constants(ctx, b.graph);
  ASSERT_TRUE(folded.is_ok());
  EXPECT_EQ(*folded, 0u);
  EXPECT_EQ(count_op(b.graph, "add"), 1u);

  // Without a session nothing can be evaluated, and nothing changes.
  Builder only_constants;
  const ValueId n = only_constants.op("negate", {only_constants.constant({1}, {3.f})});
  only_constants.outputs({n});
  auto none = fold_constants(PassContext(), only_constants.graph);
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(count_op(only_constants.graph, "negate"), 1u);
}

TEST(PassesConstantFolding, FoldsANodeWithoutOperands) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  Builder b;
  const ValueId x = b.input("x", {5});
  AttrMap attrs;
  attrs["window_length"].value = int64_t{5};
  attrs["periodic"].value = false;
  const ValueId w = b.op("hann_window", {}, std::move(attrs));
  b.outputs({b.op("mul", {x, w})});

  Graph g = b.graph;
  PassContext ctx;
  auto session = cpu_session(runtime, true);
  ctx.session = session.get();
  auto folded = fold_constants(ctx, g);
  ASSERT_TRUE(folded.is_ok()) << folded.status().to_string();
  EXPECT_EQ(*folded, 1u);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, "constant");
  EXPECT_TRUE(g.nodes[0].inputs.empty());
  auto value = get_tensor_attr(g.nodes[0], "value");
  ASSERT_TRUE(value.is_ok());
  ASSERT_EQ((*value)->shape, std::vector<int64_t>{5});
  const float* window = reinterpret_cast<const float*>((*value)->data());
  const float expected[] = {0.f, 0.5f, 1.f, 0.5f, 0.f};  // np.hanning(5)
  for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(window[i], expected[i], 1e-7f) << i;

  const std::vector<float> in = random_floats(5, 3);
  RunResult on = run_graph(session, b.graph, {in});
  RunResult off = run_graph(cpu_session(runtime, false), b.graph, {in});
  ASSERT_TRUE(on.model && off.model);
  EXPECT_EQ(on.outputs[0], off.outputs[0]);
}

}  // namespace
}  // namespace kiln
