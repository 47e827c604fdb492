// Dead code elimination: nodes that reach no graph output go, everything else stays in order.
#include "passes_test_util.h"

namespace kiln {
namespace {

using namespace passes_test;

TEST(PassesDeadCode, RemovesNodesThatReachNoOutput) {
  Builder b;
  const ValueId x = b.input("x", {4});
  const ValueId used = b.op("exp", {x});
  const ValueId dead = b.op("relu", {x});
  b.op("negate", {dead});  // dead through a chain
  const ValueId out = b.op("abs", {used});
  b.outputs({out});
  ASSERT_EQ(b.graph.nodes.size(), 4u);

  EXPECT_EQ(eliminate_dead_code(b.graph), 2u);
  ASSERT_EQ(b.graph.nodes.size(), 2u);
  EXPECT_EQ(b.graph.nodes[0].op, "exp");
  EXPECT_EQ(b.graph.nodes[1].op, "abs");
  EXPECT_EQ(eliminate_dead_code(b.graph), 0u);  // a fixed point
}

TEST(PassesDeadCode, KeepsOutputsAndPluginOps) {
  Builder b;
  const ValueId x = b.input("x", {4});
  const ValueId y = b.op("exp", {x});
  b.outputs({x, y});
  Node custom;
  custom.op = "someone.side_effect";
  custom.name = "custom";
  custom.inputs = {x};
  b.graph.nodes.push_back(custom);  // a plugin op with no outputs: it may have effects
  EXPECT_EQ(eliminate_dead_code(b.graph), 0u);
  EXPECT_EQ(b.graph.nodes.size(), 2u);
}

TEST(PassesDeadCode, SessionResultsAgreeWithAndWithoutPasses) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  Builder b;
  const ValueId x = b.input("x", {8});
  b.op("sqrt", {b.op("abs", {x})});  // dead
  const ValueId y = b.op("tanh", {b.op("exp", {x})});
  b.outputs({y});
  const std::vector<float> in = random_floats(8, 1);
  RunResult on = run_graph(cpu_session(runtime, true), b.graph, {in});
  RunResult off = run_graph(cpu_session(runtime, false), b.graph, {in});
  ASSERT_TRUE(on.model && off.model);
  // The dead pair goes; the live exp -> tanh is then fused into one kiln.fused_elementwise.
  EXPECT_EQ(on.model->steps.size(), 1u);
  EXPECT_EQ(off.model->steps.size(), 4u);
  ASSERT_EQ(on.outputs.size(), 1u);
  EXPECT_EQ(on.outputs[0], off.outputs[0]);  // the same kernels on the same data
}

}  // namespace
}  // namespace kiln
