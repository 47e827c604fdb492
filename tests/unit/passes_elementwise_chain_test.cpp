// Elementwise chain fusion: chains of float32 elementwise ops become one kiln.fused_elementwise
// node whose results are bitwise those of the unfused graph (the same vector routines, the same
// float operations in the same order); intermediates read elsewhere end a chain; the op's schema
// refuses malformed steps.
#include "ops/op_schema.h"
#include "passes_test_util.h"

namespace kiln {
namespace {

using namespace passes_test;

std::vector<std::string> ops_of(const Model& m) {
  std::vector<std::string> out;
  for (const Step& s : m.steps) out.push_back(s.node->op);
  return out;
}

std::string steps_of(const Model& m) {
  for (const Step& s : m.steps) {
    if (s.node->op == "kiln.fused_elementwise") {
      return std::get<std::string>(find_attr(*s.node, "steps")->value);
    }
  }
  return "";
}

TEST(PassesElementwiseChain, FusedResultsAreBitwiseTheUnfusedOnes) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto on = cpu_session(runtime, true);
  auto off = cpu_session(runtime, false);
  Builder b;
  const ValueId x = b.input("x", {3, 1500});  // several blocks and a ragged tail per thread
  const ValueId y = b.input("y", {3, 1500});
  const ValueId half = b.constant({}, {0.5f});
  ValueId v = b.op("mul", {x, half});
  v = b.op("exp", {v});
  v = b.op("sub", {y, v});  // the chain value on the right: rsub
  AttrMap tanh_mode;
  tanh_mode["approximate"].value = std::string("tanh");
  v = b.op("gelu", {v}, tanh_mode);
  v = b.op("div", {v, y});
  v = b.op("add", {v, x});
  b.outputs({b.op("sigmoid", {v})});
  const std::vector<std::vector<float>> in = {random_floats(4500, 1), random_floats(4500, 2)};
  RunResult fused = run_graph(on, b.graph, in);
  RunResult plain = run_graph(off, b.graph, in);
  ASSERT_TRUE(fused.model && plain.model);
  EXPECT_EQ(ops_of(*fused.model), (std::vector<std::string>{"constant", "kiln.fused_elementwise"}));
  EXPECT_EQ(steps_of(*fused.model), "mul:1,exp,rsub:2,gelu_tanh,div:3,add:4,sigmoid");
  ASSERT_EQ(fused.outputs.size(), 1u);
  EXPECT_EQ(fused.outputs[0], plain.outputs[0]);
}

TEST(PassesElementwiseChain, AnIntermediateReadElsewhereEndsTheChain) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto on = cpu_session(runtime, true);
  Builder b;
  const ValueId x = b.input("x", {64});
  const ValueId e = b.op("exp", {x});
  const ValueId t = b.op("tanh", {e});    // e is read twice: exp stays alone
  const ValueId r = b.op("relu", {t});    // tanh -> relu -> add(e) fuse (e as an operand)
  const ValueId s = b.op("add", {r, e});
  const ValueId n = b.op("negate", {s});  // s is also a graph output: the chain ends before it
  b.outputs({n, s});
  RunResult fused = run_graph(on, b.graph, {random_floats(64, 3)});
  ASSERT_TRUE(fused.model);
  EXPECT_EQ(ops_of(*fused.model),
            (std::vector<std::string>{"exp", "kiln.fused_elementwise", "negate"}));
  EXPECT_EQ(steps_of(*fused.model), "tanh,relu,add:1");
}

TEST(PassesElementwiseChain, BroadcastingOperandsAreNotFused) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto on = cpu_session(runtime, true);
  Builder b;
  const ValueId x = b.input("x", {4, 8});
  const ValueId row = b.input("row", {8});  // neither a scalar nor x's shape
  b.outputs({b.op("relu", {b.op("add", {x, row})})});
  RunResult fused = run_graph(on, b.graph, {random_floats(32, 4), random_floats(8, 5)});
  ASSERT_TRUE(fused.model);
  EXPECT_EQ(ops_of(*fused.model), (std::vector<std::string>{"add", "relu"}));
}

TEST(PassesElementwiseChain, TheSchemaRefusesMalformedSteps) {
  auto node_with = [](const std::string& steps) {
    Node node;
    node.op = "kiln.fused_elementwise";
    node.name = "chain";
    node.inputs = {0, 1};
    node.attrs["steps"].value = steps;
    return node;
  };
  const std::vector<TensorType> inputs = {f32({2, 3}), f32({})};
  EXPECT_TRUE(infer_output_types(node_with("exp,add:1,rdiv:1"), inputs).is_ok());
  for (const char* bad : {"", "exp,,relu", "cosh", "add:2", "add:0", "pow:1", "add:x", "rsub"}) {
    auto result = infer_output_types(node_with(bad), inputs);
    EXPECT_FALSE(result.is_ok()) << bad;
    if (!result.is_ok()) {
      EXPECT_NE(result.status().message().find("attribute 'steps'"), std::string::npos)
          << result.status().message();
    }
  }
  const std::vector<TensorType> wrong_shape = {f32({2, 3}), f32({3})};
  auto result = infer_output_types(node_with("add:1"), wrong_shape);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("scalar or of x's shape"), std::string::npos);
}

}  // namespace
}  // namespace kiln
