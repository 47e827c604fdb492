// call / cond / while_loop type checking against subgraphs (symbol substitution, errors that
// name the subgraph) and the .kiln round trip of graphs with subgraphs.
#include <gtest/gtest.h>

#include "graph.pb.h"
#include "ir/graph_builder.h"
#include "ops/control_flow.h"
#include "serialize/serialize.h"

namespace kiln {
namespace {

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TensorType T(DType dtype, Shape shape) {
  TensorType t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

Node make_node(const std::string& op, std::vector<ValueId> inputs, AttrMap attrs = {}) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  return n;
}

Attribute str(const std::string& s) { return Attribute{s}; }

// "twice": x[n] -> concat(x, x)[2*n]
Graph twice_subgraph() {
  Graph g;
  g.name = "twice";
  GraphBuilder b(&g);
  ValueId x = b.add_input("x", T(DType::kFloat32, {Dim::symbol("n")})).value();
  auto out = b.add_node(make_node("concat", {x, x}, {{"axis", Attribute{int64_t{0}}}}), {});
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_TRUE(b.set_outputs(*out).is_ok());
  return g;
}

// A no-input subgraph returning a float32 constant of `size` elements.
Graph constant_subgraph(const std::string& name, int64_t size) {
  Graph g;
  g.name = name;
  GraphBuilder b(&g);
  HostTensor t;
  t.dtype = DType::kFloat32;
  t.shape = {size};
  t.bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size) * 4, 0);
  auto out = b.add_node(make_node("constant", {}, {{"value", Attribute{t}}}), {});
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_TRUE(b.set_outputs(*out).is_ok());
  return g;
}

TEST(ControlFlow, CallSubstitutesTheCallersDims) {
  Graph main;
  main.name = "main";
  main.subgraphs.push_back(twice_subgraph());
  GraphBuilder b(&main);
  ValueId x = b.add_input("x", T(DType::kFloat32, {Dim::symbol("batch") + Dim(1)})).value();
  auto out = b.add_node(make_node("call", {x}, {{"callee", str("twice")}}), {});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(main.value((*out)[0]).type.to_string(), "float32[2*batch + 2]");

  ValueId i = b.add_input("i", T(DType::kInt32, {3})).value();
  auto bad = b.add_node(make_node("call", {i}, {{"callee", str("twice")}}), {});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_CONTAINS(bad.status().message(), "input 0 'x' of subgraph 'twice' is float32[n]");

  auto missing = b.add_node(make_node("call", {x}, {{"callee", str("thrice")}}), {});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(missing.status().message(), "subgraph 'thrice', which does not exist "
                                              "(subgraphs: twice)");
}

TEST(ControlFlow, CondChecksBranchesAndPredicate) {
  Graph main;
  main.name = "main";
  main.subgraphs.push_back(constant_subgraph("three", 3));
  main.subgraphs.push_back(constant_subgraph("four", 4));
  main.subgraphs.push_back(constant_subgraph("three_too", 3));
  GraphBuilder b(&main);
  ValueId p = b.add_input("p", T(DType::kBool, {})).value();
  ValueId f = b.add_input("f", T(DType::kFloat32, {})).value();
  auto ok = b.add_node(make_node("cond", {p}, {{"then_branch", str("three")},
                                               {"else_branch", str("three_too")}}),
                       {});
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  auto mismatch = b.add_node(
      make_node("cond", {p}, {{"then_branch", str("three")}, {"else_branch", str("four")}}), {});
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_CONTAINS(mismatch.status().message(),
                  "output 0 of subgraph 'three' is float32[3] but subgraph 'four' gives "
                  "float32[4]");
  auto not_bool = b.add_node(
      make_node("cond", {f}, {{"then_branch", str("three")}, {"else_branch", str("three")}}), {});
  ASSERT_FALSE(not_bool.is_ok());
  EXPECT_CONTAINS(not_bool.status().message(), "operand 0 (pred) must be a bool scalar");
  auto extra = b.add_node(make_node("cond", {p}, {{"then_branch", str("three")},
                                                  {"else_branch", str("four")},
                                                  {"unroll", Attribute{true}}}),
                          {});
  ASSERT_FALSE(extra.is_ok());
  EXPECT_CONTAINS(extra.status().message(), "unknown attribute 'unroll'");
}

TEST(ControlFlow, WhileLoopBodyMustKeepTheLoopTypes) {
  Graph main;
  main.name = "main";
  main.subgraphs.push_back(twice_subgraph());  // changes the loop value's size: not a body
  {
    Graph pred;
    pred.name = "pred";
    GraphBuilder b(&pred);
    ValueId x = b.add_input("x", T(DType::kFloat32, {Dim::symbol("n")})).value();
    auto s = b.add_node(make_node("greater", {x, x}), {});
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    ASSERT_TRUE(b.set_outputs(*s).is_ok());
    main.subgraphs.push_back(pred);
  }
  GraphBuilder b(&main);
  ValueId x = b.add_input("x", T(DType::kFloat32, {5})).value();
  auto bad = b.add_node(make_node("while_loop", {x}, {{"predicate", str("twice")},
                                                      {"body", str("twice")}}),
                        {});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_CONTAINS(bad.status().message(), "subgraph 'twice' must be a bool scalar");
  auto body = b.add_node(make_node("while_loop", {x}, {{"predicate", str("pred")},
                                                       {"body", str("twice")}}),
                         {});
  ASSERT_FALSE(body.is_ok());
  // "pred" returns bool[5], not a scalar: reported before the body is looked at.
  EXPECT_CONTAINS(body.status().message(), "subgraph 'pred' must be a bool scalar");
}

TEST(ControlFlow, SubgraphsRoundTripAndMustBeListedBeforeTheirCallers) {
  Graph main;
  main.name = "main";
  main.subgraphs.push_back(twice_subgraph());
  {
    // "outer" calls "twice", which is listed before it.
    Graph outer;
    outer.name = "outer";
    GraphBuilder b(&outer);
    b.set_callable_subgraphs(&main.subgraphs);
    ValueId x = b.add_input("x", T(DType::kFloat32, {Dim::symbol("m")})).value();
    auto out = b.add_node(make_node("call", {x}, {{"callee", str("twice")}}), {});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    ASSERT_TRUE(b.set_outputs(*out).is_ok());
    main.subgraphs.push_back(outer);
  }
  GraphBuilder b(&main);
  ValueId x = b.add_input("x", T(DType::kFloat32, {4})).value();
  auto out = b.add_node(make_node("call", {x}, {{"callee", str("outer")}}), {});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  ASSERT_TRUE(b.set_outputs(*out).is_ok());
  EXPECT_EQ(main.value((*out)[0]).type.to_string(), "float32[8]");

  auto bytes = serialize_graph(main);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  auto back = parse_graph(bytes->data(), bytes->size(), "x.kiln", ".");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->subgraphs.size(), 2u);
  EXPECT_EQ(back->subgraphs[1].nodes[0].op, "call");
  EXPECT_EQ(back->value(back->outputs[0]).type.to_string(), "float32[8]");

  // Swapped, "outer" would call a subgraph listed after it: refused, naming both.
  proto::Model m;
  ASSERT_TRUE(m.ParseFromString(*bytes));
  m.mutable_subgraphs()->SwapElements(0, 1);
  std::string swapped;
  ASSERT_TRUE(m.SerializeToString(&swapped));
  auto refused = parse_graph(swapped.data(), swapped.size(), "x.kiln", ".");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_CONTAINS(refused.status().message(), "subgraph 0 'outer'");
  EXPECT_CONTAINS(refused.status().message(), "subgraph 'twice', which does not exist");
}

}  // namespace
}  // namespace kiln
