// Input checks and symbol binding at execute: static dims, lone symbols bound once and checked
// everywhere, expressions checked after binding, overflow, data-dependent dims.
#include <gtest/gtest.h>

#include <limits>
#include <memory>

#include "runtime/input_binding.h"

namespace kiln {
namespace {

Graph graph_with_inputs(const std::vector<std::pair<std::string, Shape>>& inputs) {
  Graph g;
  for (const auto& [name, shape] : inputs) {
    Value v;
    v.name = name;
    v.type.dtype = DType::kFloat32;
    v.type.shape = shape;
    g.inputs.push_back(static_cast<ValueId>(g.values.size()));
    g.values.push_back(v);
  }
  return g;
}

// Only dtype and shape are read by the checks.
std::unique_ptr<kiln_tensor> tensor(std::vector<int64_t> shape) {
  auto t = std::make_unique<kiln_tensor>();
  t->dtype = DType::kFloat32;
  t->shape = std::move(shape);
  return t;
}

Dim parse(const char* text) {
  auto d = Dim::parse(text);
  EXPECT_TRUE(d.is_ok()) << text;
  return *d;
}

TEST(InputBinding, BindsSymbolsAndChecksExpressions) {
  Graph g =
      graph_with_inputs({{"a", {Dim::symbol("b"), 4}}, {"c", {parse("2*b"), Dim::symbol("s")}}});
  auto a = tensor({3, 4}), c = tensor({6, 5});
  const kiln_tensor* inputs[] = {a.get(), c.get()};
  auto bindings = bind_input_symbols(g, inputs);
  ASSERT_TRUE(bindings.is_ok()) << bindings.status().to_string();
  EXPECT_EQ(bindings->at("b"), 3);
  EXPECT_EQ(bindings->at("s"), 5);

  auto wrong = tensor({7, 5});
  const kiln_tensor* bad[] = {a.get(), wrong.get()};
  auto result = bind_input_symbols(g, bad);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("input 1 'c': dim 0 is '2*b' = 6, got 7"),
            std::string::npos)
      << result.status().message();
}

TEST(InputBinding, ASymbolOnlyInsideExpressionsCannotBeBound) {
  Graph g = graph_with_inputs({{"a", {parse("k + 1")}}});
  auto a = tensor({3});
  const kiln_tensor* inputs[] = {a.get()};
  auto result = bind_input_symbols(g, inputs);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("no input dim is the symbol 'k' alone"),
            std::string::npos)
      << result.status().message();
}

TEST(InputBinding, EvaluatesShapesAndReportsOverflow) {
  TensorType t{DType::kFloat32, {Dim::symbol("n"), parse("n*n"), 2}, ""};
  auto shape = evaluate_shape(t, {{"n", 5}}, "value 'v'");
  ASSERT_TRUE(shape.is_ok());
  ASSERT_TRUE(shape->has_value());
  EXPECT_EQ(**shape, (std::vector<int64_t>{5, 25, 2}));
  // Unbound: a data-dependent shape, not an error.
  shape = evaluate_shape(t, {}, "value 'v'");
  ASSERT_TRUE(shape.is_ok());
  EXPECT_FALSE(shape->has_value());
  shape = evaluate_shape(t, {{"n", std::numeric_limits<int64_t>::max() / 2}}, "value 'v'");
  ASSERT_FALSE(shape.is_ok());
  EXPECT_NE(shape.status().message().find("value 'v': dim 1 'n*n' overflows"), std::string::npos)
      << shape.status().message();
}

TEST(InputBinding, OutputSymbolsBindFromAKernelsShape) {
  TensorType t{DType::kFloat32, {Dim::symbol("m"), 3}, ""};
  SymbolBindings b;
  ASSERT_TRUE(bind_output_symbols(t, {7, 3}, &b, "out").is_ok());
  EXPECT_EQ(b.at("m"), 7);
  Status s = bind_output_symbols(t, {8, 3}, &b, "out");
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace kiln
