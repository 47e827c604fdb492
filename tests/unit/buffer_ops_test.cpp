// Mutable buffers: the schemas of buffer_load, buffer_store and buffer_store_slice, where buffer
// values may appear, what the passes do with buffer nodes (stores are never dropped or moved),
// the slice geometry, serialization, and execution in node order on the caller's tensor.
#include "ops/buffer_ops.h"

#include <cstddef>
#include <cstring>

#include "kiln/kiln.h"
#include "ops/control_flow.h"
#include "ops/op_schema.h"
#include "passes_test_util.h"
#include "serialize/serialize.h"

namespace kiln {
namespace {

using namespace passes_test;

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

TensorType buffer_f32(std::vector<int64_t> shape) {
  TensorType t = f32(std::move(shape));
  t.buffer = true;
  return t;
}

AttrMap slice_attrs(std::vector<int64_t> starts, std::vector<int64_t> stops,
                    std::vector<int64_t> steps, std::vector<int64_t> squeeze = {}) {
  AttrMap attrs;
  attrs["starts"].value = std::move(starts);
  attrs["stops"].value = std::move(stops);
  attrs["steps"].value = std::move(steps);
  if (!squeeze.empty()) attrs["squeeze"].value = std::move(squeeze);
  return attrs;
}

// A graph with a float32 buffer input "buf" and a tensor input "x".
struct BufferGraph {
  BufferGraph(std::vector<int64_t> buffer_shape, std::vector<int64_t> x_shape) : b(&graph) {
    buf = *b.add_input("buf", buffer_f32(std::move(buffer_shape)));
    x = *b.add_input("x", f32(std::move(x_shape)));
  }
  StatusOr<std::vector<ValueId>> add(const std::string& op, std::vector<ValueId> inputs,
                                     AttrMap attrs = {}, std::vector<TensorType> stated = {}) {
    Node node;
    node.op = op;
    node.inputs = std::move(inputs);
    node.attrs = std::move(attrs);
    return b.add_node(std::move(node), stated);
  }
  ValueId load() {
    auto out = add("buffer_load", {buf});
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return out.is_ok() ? out->at(0) : -1;
  }
  void store(ValueId source) {
    auto out = add("buffer_store", {buf, source});
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  }

  Graph graph;
  GraphBuilder b;
  ValueId buf = -1, x = -1;
};

TEST(BufferOps, RegisteredAsStructuralOpsWithStoresAsEffects) {
  for (const char* op : {"buffer_load", "buffer_store", "buffer_store_slice"}) {
    EXPECT_TRUE(is_buffer_op(op)) << op;
    EXPECT_TRUE(is_structural_op(op)) << op;
    EXPECT_FALSE(is_core_op(op)) << op;
  }
  EXPECT_FALSE(is_effect_op("buffer_load"));
  EXPECT_TRUE(is_effect_op("buffer_store"));
  EXPECT_TRUE(is_effect_op("buffer_store_slice"));
  EXPECT_FALSE(is_buffer_op("print"));
}

TEST(BufferOps, LoadGivesATensorOfTheBuffersTypeAndStoresHaveNoOutputs) {
  BufferGraph g({2, 3}, {2, 3});
  const ValueId loaded = g.load();
  const TensorType& t = g.graph.value(loaded).type;
  EXPECT_FALSE(t.buffer);
  EXPECT_EQ(t, f32({2, 3}));
  EXPECT_EQ(g.graph.value(g.buf).type.to_string(), "buffer float32[2, 3]");
  auto stored = g.add("buffer_store", {g.buf, g.x});
  ASSERT_TRUE(stored.is_ok()) << stored.status().to_string();
  EXPECT_TRUE(stored->empty());
}

TEST(BufferOps, StoreChecksTheSourceAgainstTheBuffer) {
  BufferGraph g({2, 3}, {3, 2});
  auto shape = g.add("buffer_store", {g.buf, g.x});
  ASSERT_FALSE(shape.is_ok());
  EXPECT_CONTAINS(shape.status().message(), "buffer_store");
  EXPECT_CONTAINS(shape.status().message(), "operand 1 (source) is float32[3, 2]");
  EXPECT_CONTAINS(shape.status().message(), "float32[2, 3]");

  Graph graph;
  GraphBuilder b(&graph);
  const ValueId buf = *b.add_input("buf", buffer_f32({4}));
  TensorType i32;
  i32.dtype = DType::kInt32;
  i32.shape = {Dim(4)};
  const ValueId n = *b.add_input("n", i32);
  Node node;
  node.op = "buffer_store";
  node.inputs = {buf, n};
  auto dtype = b.add_node(node, {});
  ASSERT_FALSE(dtype.is_ok());
  EXPECT_CONTAINS(dtype.status().message(), "operand 1 (source) is int32[4]");

  node.inputs = {n, buf};  // operands swapped: operand 0 is no buffer
  auto swapped = b.add_node(node, {});
  ASSERT_FALSE(swapped.is_ok());
  EXPECT_CONTAINS(swapped.status().message(), "operand 0 (buffer) is the tensor int32[4]");

  node.inputs = {buf};
  auto count = b.add_node(node, {});
  ASSERT_FALSE(count.is_ok());
  EXPECT_CONTAINS(count.status().message(), "takes 2 operands (buffer, source), got 1");
}

TEST(BufferOps, StoreSliceInfersTheSliceLikeSliceTensor) {
  // buf[1:, ::-2] of a [3, 5] buffer is [2, 3]; buf[-1] is [5].
  BufferGraph g({3, 5}, {2, 3});
  EXPECT_TRUE(g.add("buffer_store_slice", {g.buf, g.x},
                    slice_attrs({1, INT64_MAX}, {INT64_MAX, INT64_MIN}, {1, -2}))
                  .is_ok());
  auto wrong = g.add("buffer_store_slice", {g.buf, g.x},
                     slice_attrs({0, 0}, {INT64_MAX, INT64_MAX}, {1, 2}));
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_CONTAINS(wrong.status().message(), "buffer_store_slice");
  EXPECT_CONTAINS(wrong.status().message(), "operand 1 (source) is float32[2, 3] but the slice");
  EXPECT_CONTAINS(wrong.status().message(), "float32[3, 3]");

  BufferGraph row({3, 5}, {5});
  EXPECT_TRUE(row.add("buffer_store_slice", {row.buf, row.x},
                      slice_attrs({-1, 0}, {INT64_MAX, INT64_MAX}, {1, 1}, {0}))
                  .is_ok());
  auto zero_step =
      row.add("buffer_store_slice", {row.buf, row.x}, slice_attrs({0, 0}, {1, 5}, {1, 0}, {0}));
  ASSERT_FALSE(zero_step.is_ok());
  EXPECT_CONTAINS(zero_step.status().message(), "buffer_store_slice");
  EXPECT_CONTAINS(zero_step.status().message(), "indices:");
  EXPECT_CONTAINS(zero_step.status().message(), "step must not be 0");
  auto unknown = row.add("buffer_store_slice", {row.buf, row.x}, {{"axis", Attribute{int64_t{0}}}});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_CONTAINS(unknown.status().message(), "unknown attribute 'axis'");
}

TEST(BufferOps, BuffersAreOnlyInputsAndOnlyBufferOrPluginOpsTakeThem) {
  BufferGraph g({4}, {4});
  auto add = g.add("add", {g.buf, g.x});
  ASSERT_FALSE(add.is_ok());
  EXPECT_CONTAINS(add.status().message(), "add");
  EXPECT_CONTAINS(add.status().message(), "operand 0 (lhs) is a mutable buffer");
  EXPECT_CONTAINS(add.status().message(), "buffer_load");
  AttrMap label;
  label["label"].value = std::string("b");
  auto print = g.add("print", {g.buf}, label);
  ASSERT_FALSE(print.is_ok());
  EXPECT_CONTAINS(print.status().message(), "operand 0 is a mutable buffer");

  Status out = g.b.set_outputs({g.buf});
  ASSERT_FALSE(out.is_ok());
  EXPECT_CONTAINS(out.message(), "graph output 0 is the mutable buffer 'buf'");

  // A plugin op with a buffer operand writes it in place and may have no outputs ...
  auto in_place = g.add("test.accumulate", {g.buf, g.x});
  ASSERT_TRUE(in_place.is_ok()) << in_place.status().to_string();
  EXPECT_TRUE(in_place->empty());
  // ... one without a buffer operand still needs its outputs stated ...
  auto plain = g.add("test.accumulate", {g.x, g.x});
  ASSERT_FALSE(plain.is_ok());
  EXPECT_CONTAINS(plain.status().message(), "needs its output types stated");
  // ... and no output is a buffer.
  auto buffer_out = g.add("test.accumulate", {g.buf, g.x}, {}, {buffer_f32({4})});
  ASSERT_FALSE(buffer_out.is_ok());
  EXPECT_CONTAINS(buffer_out.status().message(), "only graph inputs can be buffers");

  Weight w;
  w.name = "w";
  w.inline_data = host_f32({4}, {1, 2, 3, 4});
  auto weight = g.b.add_weight(w, buffer_f32({4}));
  ASSERT_FALSE(weight.is_ok());
  EXPECT_CONTAINS(weight.status().message(), "a weight cannot be a mutable buffer");
}

TEST(BufferOps, DeadCodeKeepsStoresInOrderAndDropsUnusedLoads) {
  BufferGraph g({4}, {4});
  const ValueId before = g.load();
  g.load();  // unused: may go
  g.store(g.x);
  auto sliced = g.add("buffer_store_slice", {g.buf, g.x}, slice_attrs({0}, {INT64_MAX}, {1}));
  ASSERT_TRUE(sliced.is_ok());
  const ValueId after = g.load();
  ASSERT_TRUE(g.b.set_outputs({before, after}).is_ok());
  ASSERT_EQ(g.graph.nodes.size(), 5u);
  EXPECT_EQ(eliminate_dead_code(g.graph), 1u);
  ASSERT_EQ(g.graph.nodes.size(), 4u);
  EXPECT_EQ(g.graph.nodes[0].op, "buffer_load");
  EXPECT_EQ(g.graph.nodes[0].outputs[0], before);
  EXPECT_EQ(g.graph.nodes[1].op, "buffer_store");
  EXPECT_EQ(g.graph.nodes[2].op, "buffer_store_slice");
  EXPECT_EQ(g.graph.nodes[3].op, "buffer_load");

  // Stores whose source nothing else reads, in a graph with no outputs, stay too.
  BufferGraph only({4}, {4});
  only.store(only.x);
  EXPECT_EQ(eliminate_dead_code(only.graph), 0u);
  EXPECT_EQ(only.graph.nodes.size(), 1u);
}

TEST(BufferOps, ConstantFoldingLeavesAStoreOfAConstantInPlace) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  auto session = cpu_session(runtime, true);
  BufferGraph g({2}, {2});
  const ValueId before = g.load();
  AttrMap attrs;
  attrs["value"].value = host_f32({2}, {1.f, 2.f});
  const ValueId c = g.add("constant", {}, attrs)->at(0);
  const ValueId doubled = g.add("add", {c, c})->at(0);  // folds to a constant
  g.store(doubled);
  const ValueId after = g.load();
  ASSERT_TRUE(g.b.set_outputs({before, after}).is_ok());
  PassContext ctx;
  ctx.session = session.get();
  auto folded = fold_constants(ctx, g.graph);
  ASSERT_TRUE(folded.is_ok()) << folded.status().to_string();
  EXPECT_EQ(*folded, 1u);
  eliminate_dead_code(g.graph);
  std::vector<std::string> ops;
  for (const Node& n : g.graph.nodes) ops.push_back(n.op);
  EXPECT_EQ(ops,
            (std::vector<std::string>{"buffer_load", "constant", "buffer_store", "buffer_load"}));
}

TEST(BufferOps, SliceGeometryFollowsPythonSlices) {
  Node node;
  node.op = "buffer_store_slice";
  node.name = "s";
  // [3, 5] buffer, [1:, ::-2]: rows 1..2, columns 4, 2, 0.
  node.attrs = slice_attrs({1, INT64_MAX}, {INT64_MAX, INT64_MIN}, {1, -2});
  auto s = buffer_slice(node, {3, 5});
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(s->strides, (std::vector<int64_t>{5, -2}));
  EXPECT_EQ(s->offset, 1 * 5 + 4);
  // [-1] squeezed, then -4:-1 of 5 columns: columns 1..3 of the last row.
  node.attrs = slice_attrs({-1, -4}, {INT64_MAX, -1}, {1, 1}, {0});
  s = buffer_slice(node, {3, 5});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(s->strides, (std::vector<int64_t>{1}));
  EXPECT_EQ(s->offset, 2 * 5 + 1);
  // Out-of-range bounds clamp; an empty slice has length 0.
  node.attrs = slice_attrs({7, -100}, {9, 100}, {1, 3});
  s = buffer_slice(node, {3, 5});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->shape, (std::vector<int64_t>{0, 2}));
}

TEST(BufferOps, BufferInputsSurviveSerialization) {
  BufferGraph g({2, 2}, {2, 2});
  const ValueId before = g.load();
  g.store(g.x);
  auto in_place = g.add("test.accumulate", {g.buf, g.x});  // a custom op with no outputs
  ASSERT_TRUE(in_place.is_ok()) << in_place.status().to_string();
  ASSERT_TRUE(g.b.set_outputs({before}).is_ok());
  auto bytes = serialize_graph(g.graph);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  auto back = parse_graph(bytes->data(), bytes->size(), "<buffer>", ".");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(back->value(back->inputs[0]).type.buffer);
  EXPECT_FALSE(back->value(back->inputs[1]).type.buffer);
  ASSERT_EQ(back->nodes.size(), 3u);
  EXPECT_EQ(back->nodes[1].op, "buffer_store");
  EXPECT_TRUE(back->nodes[1].outputs.empty());
  EXPECT_EQ(back->nodes[2].op, "test.accumulate");
  EXPECT_TRUE(back->nodes[2].outputs.empty());
}

// kiln_tensor_type.is_buffer and kiln_tensor_spec.is_buffer were appended: a caller whose
// struct_size ends before them neither sets nor gets them.
TEST(BufferOps, CAbiReadsAndWritesIsBufferOnlyWithinStructSize) {
  kiln_graph* graph = nullptr;
  ASSERT_EQ(kiln_graph_create("g", &graph), nullptr);
  const kiln_dim dim{4, nullptr};
  kiln_tensor_type type{};
  type.struct_size = sizeof type;
  type.dtype = KILN_DTYPE_FLOAT32;
  type.rank = 1;
  type.dims = &dim;
  type.is_buffer = 1;
  kiln_value* buffer = nullptr;
  kiln_value* old_caller = nullptr;
  ASSERT_EQ(kiln_graph_add_input(graph, "buf", &type, &buffer), nullptr);
  type.struct_size = offsetof(kiln_tensor_type, is_buffer);  // a caller of the first release
  ASSERT_EQ(kiln_graph_add_input(graph, "old", &type, &old_caller), nullptr);

  kiln_tensor_spec spec{};
  spec.struct_size = sizeof spec;
  ASSERT_EQ(kiln_value_get_spec(buffer, &spec), nullptr);
  EXPECT_EQ(spec.is_buffer, 1);
  ASSERT_EQ(kiln_value_get_spec(old_caller, &spec), nullptr);
  EXPECT_EQ(spec.is_buffer, 0);
  spec.struct_size = offsetof(kiln_tensor_spec, is_buffer);
  spec.is_buffer = 7;  // beyond struct_size: left alone
  ASSERT_EQ(kiln_value_get_spec(buffer, &spec), nullptr);
  EXPECT_EQ(spec.is_buffer, 7);

  // A buffer cannot be a graph output.
  const kiln_value* outputs[] = {buffer};
  kiln_status* status = kiln_graph_set_outputs(graph, outputs, 1);
  ASSERT_NE(status, nullptr);
  EXPECT_CONTAINS(kiln_status_get_message(status), "mutable buffer 'buf'");
  kiln_status_destroy(status);
  kiln_graph_destroy(graph);
}

TEST(BufferOps, ExecutionRunsLoadsAndStoresInOrderOnTheCallersTensor) {
  auto runtime = cpu_runtime();
  if (!runtime) GTEST_SKIP() << "KILN_TEST_BUILD_DIR is not set (run through ctest)";
  for (bool passes : {true, false}) {
    auto session = cpu_session(runtime, passes);
    BufferGraph g({2, 3}, {3});
    const ValueId old_values = g.load();
    auto doubled = g.add("add", {old_values, old_values});
    ASSERT_TRUE(doubled.is_ok());
    g.store(doubled->at(0));
    // buf[-1, ::-1] = x
    ASSERT_TRUE(g.add("buffer_store_slice", {g.buf, g.x},
                      slice_attrs({-1, INT64_MAX}, {INT64_MAX, INT64_MIN}, {1, -1}, {0}))
                    .is_ok());
    const ValueId new_values = g.load();
    ASSERT_TRUE(g.b.set_outputs({old_values, new_values}).is_ok());
    auto model = session->load(g.graph, LoadOptions());
    ASSERT_TRUE(model.is_ok()) << model.status().to_string();
    kiln_device* host = session->devices().at(0);
    const std::vector<float> start = {1, 2, 3, 4, 5, 6}, x = {10, 20, 30};
    auto buf = tensor_create_from_host(host, DType::kFloat32, {2, 3}, start.data(), 24);
    auto xt = tensor_create_from_host(host, DType::kFloat32, {3}, x.data(), 12);
    ASSERT_TRUE(buf.is_ok() && xt.is_ok());
    const kiln_tensor* inputs[] = {buf->get(), xt->get()};
    kiln_tensor* outputs[2] = {nullptr, nullptr};
    Status s = execute_model(**model, inputs, 2, outputs, 2);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    TensorPtr first(outputs[0]), second(outputs[1]);
    const std::vector<float> expected = {2, 4, 6, 30, 20, 10};
    auto values = [](const kiln_tensor* t) {
      const float* p = static_cast<const float*>(t->data());
      return std::vector<float>(p, p + t->num_elements);
    };
    EXPECT_EQ(values(first.get()), start) << "passes " << passes;
    EXPECT_EQ(values(second.get()), expected) << "passes " << passes;
    EXPECT_EQ(values(buf->get()), expected) << "the caller's tensor, passes " << passes;
  }
}

}  // namespace
}  // namespace kiln
