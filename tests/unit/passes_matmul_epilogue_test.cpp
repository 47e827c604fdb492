// Matmul epilogue fusion: matmul + bias add + activation becomes one kiln.fused_matmul node
// (oneDNN post-ops on the CPU) whose results match the unfused graph within float rounding.
#include "passes_test_util.h"

namespace kiln {
namespace {

using namespace passes_test;

struct Case {
  std::string activation_op;  // "" for none
  std::string approximate;    // gelu's attribute
  bool bias = true;
  bool bias_first = false;  // add(bias, product)
  std::string expected;     // the fused node's activation attribute
};

Graph epilogue_graph(const Case& c) {
  Builder b;
  const ValueId x = b.input("x", {3, 5, 16});
  const ValueId w = b.input("w", {16, 24});
  ValueId y = b.op("matmul", {x, w});
  if (c.bias) {
    const ValueId bias = b.input("bias", {24});
    y = c.bias_first ? b.op("add", {bias, y}) : b.op("add", {y, bias});
  }
  if (!c.activation_op.empty()) {
    AttrMap attrs;
    if (!c.approximate.empty()) attrs["approximate"].value = c.approximate;
    y = b.op(c.activation_op, {y}, attrs);
  }
  b.outputs({y});
  return b.graph;
}

std::string fused_activation(const Model& m) {
  for (const Step& s : m.steps) {
    if (s.node->op == "kiln.fused_matmul") {
      const Attribute* a = find_attr(*s.node, "activation");
      return a ? std::get<std::string>(a->value) : "?";
    }
  }
  return "";
}

TEST(PassesMatmulEpilogue, FusedResultsMatchTheUnfusedGraph) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto on = cpu_session(runtime, true);
  auto off = cpu_session(runtime, false);
  const std::vector<Case> cases = {
      {"relu", "", true, false, "relu"},
      {"relu", "", true, true, "relu"},
      {"gelu", "", true, false, "gelu"},
      {"gelu", "none", true, false, "gelu"},
      {"gelu", "tanh", true, false, "gelu_tanh"},
      {"sigmoid", "", true, false, "sigmoid"},
      {"tanh", "", true, false, "tanh"},
      {"silu", "", true, false, "silu"},
      {"", "", true, false, "none"},
      {"relu", "", false, false, "relu"},
  };
  const std::vector<std::vector<float>> inputs = {random_floats(3 * 5 * 16, 1),
                                                  random_floats(16 * 24, 2), random_floats(24, 3)};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.activation_op + "/" + c.approximate + (c.bias ? " bias" : "") +
                 (c.bias_first ? " first" : ""));
    const Graph g = epilogue_graph(c);
    std::vector<std::vector<float>> in(inputs.begin(), inputs.begin() + (c.bias ? 3 : 2));
    RunResult fused = run_graph(on, g, in);
    RunResult plain = run_graph(off, g, in);
    ASSERT_TRUE(fused.model && plain.model);
    EXPECT_EQ(fused.model->steps.size(), 1u);
    EXPECT_EQ(fused_activation(*fused.model), c.expected);
    EXPECT_EQ(fused_activation(*plain.model), "");
    expect_near(fused.outputs.at(0), plain.outputs.at(0), 1e-5f);
  }
}

TEST(PassesMatmulEpilogue, KeepsIntermediatesSomeoneElseReads) {
  Builder b;
  const ValueId x = b.input("x", {4, 8});
  const ValueId w = b.input("w", {8, 8});
  const ValueId bias = b.input("bias", {8});
  const ValueId product = b.op("matmul", {x, w});
  const ValueId biased = b.op("add", {product, bias});
  const ValueId act = b.op("relu", {biased});
  b.outputs({act, biased});  // the bias add is an output: only matmul + add may fuse

  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto session = cpu_session(runtime, true);
  PassContext ctx;
  ctx.session = session.get();
  ctx.device_apis = {"cpu"};
  Graph g = b.graph;
  EXPECT_EQ(fuse_matmul_epilogues(ctx, g), 1u);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, "kiln.fused_matmul");
  EXPECT_EQ(std::get<std::string>(find_attr(g.nodes[0], "activation")->value), "none");
  EXPECT_EQ(g.nodes[1].op, "relu");

  // A bias that does not match the last dim is an ordinary add.
  Builder wide;
  const ValueId p = wide.op("matmul", {wide.input("x", {4, 8}), wide.input("w", {8, 8})});
  const ValueId full = wide.op("add", {p, wide.input("full", {4, 8})});
  wide.outputs({full});
  EXPECT_EQ(fuse_matmul_epilogues(ctx, wide.graph), 0u);

  // No device API with a kernel for the fused op: nothing is fused.
  PassContext elsewhere = ctx;
  elsewhere.device_apis = {"no_such_api"};
  Graph untouched = b.graph;
  EXPECT_EQ(fuse_matmul_epilogues(elsewhere, untouched), 0u);
}

}  // namespace
}  // namespace kiln
