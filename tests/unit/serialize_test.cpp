// .kiln serialization: round trips, every validation error on load, and corrupted input
// (every truncation of a small model, random byte mutations, hostile nesting and sizes).
#include "serialize/serialize.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "graph.pb.h"
#include "ir/graph_builder.h"
#include "ops/op_schema.h"

namespace kiln {
namespace {

constexpr DType F32 = DType::kFloat32;

TensorType T(DType dtype, Shape shape) {
  TensorType t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

HostTensor float_tensor(std::vector<int64_t> shape, float start) {
  HostTensor t;
  t.dtype = F32;
  t.shape = std::move(shape);
  std::vector<float> values(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<float>(i);
  auto bytes = std::make_shared<std::vector<uint8_t>>(values.size() * sizeof(float));
  std::memcpy(bytes->data(), values.data(), bytes->size());
  t.bytes = std::move(bytes);
  return t;
}

Node make_node(const std::string& op, const std::string& name, std::vector<ValueId> inputs,
               AttrMap attrs = {}) {
  Node n;
  n.op = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  return n;
}

// x[batch, 4] @ w[4, 3] + bias -> relu -> softmax; plus a custom op, an external weight, a
// weight supplied at load, metadata and a subgraph.
Graph small_model() {
  Graph g;
  g.name = "small";
  GraphBuilder b(&g);
  const ValueId x = b.add_input("x", T(F32, {Dim::symbol("batch"), 4})).value();
  Weight w;
  w.name = "w";
  w.inline_data = float_tensor({4, 3}, 1.0f);
  const ValueId wv = b.add_weight(w, T(F32, {4, 3})).value();
  Weight ext;
  ext.name = "ext";
  ext.external = ExternalRef{"weights/ext.bin", 16, 0};
  b.add_weight(ext, T(DType::kFloat16, {8})).value();
  Weight later;
  later.name = "later";
  b.add_weight(later, T(DType::kInt64, {2})).value();
  const ValueId mm = b.add_node(make_node("matmul", "mm", {x, wv}), {}).value()[0];
  const ValueId bias =
      b.add_node(make_node("constant", "bias", {}, {{"value", Attribute{float_tensor({3}, 0.5f)}}}),
                 {})
          .value()[0];
  const ValueId sum = b.add_node(make_node("add", "add", {mm, bias}), {}).value()[0];
  const ValueId relu = b.add_node(make_node("relu", "relu", {sum}), {}).value()[0];
  const ValueId sm =
      b.add_node(make_node("softmax", "sm", {relu}, {{"axis", Attribute{int64_t{-1}}}}), {})
          .value()[0];
  const ValueId cast =
      b.add_node(make_node("cast", "cast", {sm}, {{"dtype", Attribute{DType::kFloat16}}}), {})
          .value()[0];
  Node custom = make_node("my_op", "custom", {relu},
                          {{"flag", Attribute{true}},
                           {"scales", Attribute{std::vector<double>{0.5, 2.0}}},
                           {"mode", Attribute{std::string("fast")}}});
  const ValueId c = b.add_node(custom, {T(F32, {Dim::symbol("batch"), 3})}).value()[0];
  EXPECT_TRUE(b.set_outputs({cast, c}).is_ok());
  g.metadata["author"] = "tests";
  g.metadata["task"] = "serialize";

  Graph sub;
  sub.name = "body";
  GraphBuilder sb(&sub);
  const ValueId y = sb.add_input("y", T(F32, {2})).value();
  const ValueId r = sb.add_node(make_node("exp", "e", {y}), {}).value()[0];
  EXPECT_TRUE(sb.set_outputs({r}).is_ok());
  g.subgraphs.push_back(std::move(sub));
  return g;
}

std::string bytes_of(const Graph& g) {
  auto bytes = serialize_graph(g);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  return bytes.is_ok() ? bytes.value() : std::string();
}

proto::Model model_of(const Graph& g) {
  proto::Model m;
  EXPECT_TRUE(m.ParseFromString(bytes_of(g)));
  return m;
}

StatusOr<Graph> parse_model(const proto::Model& m) {
  const std::string bytes = m.SerializeAsString();
  return parse_graph(bytes.data(), bytes.size(), "x.kiln", "/tmp");
}

// The load error for a model; fails the test if it loaded.
Status load_error(const proto::Model& m) {
  auto g = parse_model(m);
  EXPECT_FALSE(g.is_ok()) << "loaded a model that should have been refused";
  return g.is_ok() ? Status::ok() : g.status();
}

proto::Node* node_named(proto::Model* m, const std::string& name) {
  for (auto& n : *m->mutable_graph()->mutable_nodes()) {
    if (n.name() == name) return &n;
  }
  ADD_FAILURE() << "no node " << name;
  return m->mutable_graph()->mutable_nodes(0);
}

proto::Weight* weight_named(proto::Model* m, const std::string& name) {
  for (auto& w : *m->mutable_weights()) {
    if (w.name() == name) return &w;
  }
  ADD_FAILURE() << "no weight " << name;
  return m->mutable_weights(0);
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

TEST(SerializeTest, RoundTripKeepsEverything) {
  const Graph g = small_model();
  const std::string bytes = bytes_of(g);
  auto loaded = parse_graph(bytes.data(), bytes.size(), "small.kiln", "/models");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  const Graph& h = loaded.value();
  EXPECT_EQ(h.name, "small");
  EXPECT_EQ(h.base_dir, "/models");
  ASSERT_EQ(h.inputs.size(), 1u);
  EXPECT_EQ(h.value(h.inputs[0]).name, "x");
  EXPECT_EQ(h.value(h.inputs[0]).type, T(F32, {Dim::symbol("batch"), 4}));
  ASSERT_EQ(h.nodes.size(), g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    EXPECT_EQ(h.nodes[i].op, g.nodes[i].op);
    EXPECT_EQ(h.nodes[i].name, g.nodes[i].name);
    EXPECT_EQ(h.nodes[i].attrs.size(), g.nodes[i].attrs.size());
  }
  ASSERT_EQ(h.weights.size(), 3u);
  ASSERT_TRUE(h.weights[0].inline_data.has_value());
  EXPECT_EQ(*h.weights[0].inline_data->bytes, *g.weights[0].inline_data->bytes);
  ASSERT_TRUE(h.weights[1].external.has_value());
  EXPECT_EQ(h.weights[1].external->path, "weights/ext.bin");
  EXPECT_EQ(h.weights[1].external->offset, 16u);
  EXPECT_EQ(h.weights[1].external->length, 16u);  // 8 float16
  EXPECT_FALSE(h.weights[2].inline_data || h.weights[2].external);
  EXPECT_EQ(h.metadata, g.metadata);
  ASSERT_EQ(h.requirements.size(), 1u);
  EXPECT_EQ(h.requirements[0].op, "my_op");
  ASSERT_EQ(h.outputs.size(), 2u);
  EXPECT_EQ(h.value(h.outputs[0]).type, T(DType::kFloat16, {Dim::symbol("batch"), 3}));
  EXPECT_EQ(h.value(h.outputs[1]).name, "custom");
  const auto& custom_attrs = h.nodes.back().attrs;
  EXPECT_EQ(std::get<bool>(custom_attrs.at("flag").value), true);
  EXPECT_EQ(std::get<std::vector<double>>(custom_attrs.at("scales").value),
            (std::vector<double>{0.5, 2.0}));
  const auto& bias = std::get<HostTensor>(h.nodes[1].attrs.at("value").value);
  EXPECT_EQ(*bias.bytes, *std::get<HostTensor>(g.nodes[1].attrs.at("value").value).bytes);
  ASSERT_EQ(h.subgraphs.size(), 1u);
  EXPECT_EQ(h.subgraphs[0].name, "body");
  EXPECT_EQ(h.subgraphs[0].nodes[0].op, "exp");
  // Deterministic: the reloaded graph writes the same bytes.
  EXPECT_EQ(bytes_of(h), bytes);
  EXPECT_EQ(bytes_of(g), bytes);
}

TEST(SerializeTest, SaveAndLoadFile) {
  char tmpl[] = "/tmp/kiln_serialize_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/model.kiln";
  ASSERT_TRUE(save_graph(small_model(), path).is_ok());
  auto g = load_graph(path);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->base_dir, dir);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  auto missing = load_graph(dir + "/nope.kiln");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(missing.status().message(), "nope.kiln");
  auto folder = load_graph(dir);
  ASSERT_FALSE(folder.is_ok());
  EXPECT_CONTAINS(folder.status().message(), "not a regular file");
  auto unwritable = save_graph(small_model(), dir + "/no/such/dir/model.kiln");
  EXPECT_FALSE(unwritable.is_ok());
  std::filesystem::remove_all(dir);
}

TEST(SerializeLoadTest, NewerAndMissingFormatVersion) {
  proto::Model m = model_of(small_model());
  m.set_format_version(kFormatVersion + 1);
  Status newer = load_error(m);
  EXPECT_EQ(newer.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(newer.message(),
            "x.kiln was written by a newer kiln (format version 2); this kiln reads up to "
            "version 1");
  m.set_format_version(0);
  EXPECT_CONTAINS(load_error(m).message(), "has no format version");
  m.set_format_version(1);
  EXPECT_TRUE(parse_model(m).is_ok());
}

TEST(SerializeLoadTest, DanglingValues) {
  proto::Model m = model_of(small_model());
  node_named(&m, "add")->set_inputs(1, "nope");
  EXPECT_CONTAINS(load_error(m).message(),
                  "x.kiln: node 'add' (add) input 1 refers to 'nope', which is not defined "
                  "before it");
  // A value used before the node that defines it.
  m = model_of(small_model());
  m.mutable_graph()->mutable_nodes()->SwapElements(2, 3);
  EXPECT_CONTAINS(load_error(m).message(), "refers to 'add', which is not defined before it");
  m = model_of(small_model());
  m.mutable_graph()->set_outputs(0, "ghost");
  EXPECT_CONTAINS(load_error(m).message(), "graph output 'ghost' is not a value of the graph");
}

TEST(SerializeLoadTest, UnknownOps) {
  proto::Model m = model_of(small_model());
  node_named(&m, "relu")->set_op("foo");
  Status s = load_error(m);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(s.message(), "unknown op 'foo' in node 'relu'");
  // A custom op is allowed only while the model lists it as a requirement.
  m = model_of(small_model());
  m.clear_requirements();
  EXPECT_CONTAINS(load_error(m).message(), "unknown op 'my_op' in node 'custom'");
}

TEST(SerializeLoadTest, StatedTypesMustMatchInference) {
  proto::Model m = model_of(small_model());
  node_named(&m, "relu")->mutable_outputs(0)->mutable_type()->mutable_dims(1)->set_static_size(4);
  EXPECT_CONTAINS(load_error(m).message(),
                  "relu 'relu': output 0 is stated as float32[batch, 4] but inference gives "
                  "float32[batch, 3]");
  m = model_of(small_model());
  node_named(&m, "relu")->mutable_outputs(0)->mutable_type()->set_dtype(KILN_DTYPE_FLOAT16);
  EXPECT_CONTAINS(load_error(m).message(), "stated as float16[batch, 3]");
  m = model_of(small_model());
  node_named(&m, "relu")->clear_outputs();
  EXPECT_CONTAINS(load_error(m).message(), "node 'relu' (relu) has no outputs");
  m = model_of(small_model());
  node_named(&m, "sm")->mutable_attrs()->at("axis").set_i(5);
  EXPECT_CONTAINS(load_error(m).message(), "softmax 'sm': attribute 'axis' is 5");
}

TEST(SerializeLoadTest, BadTypesAndNames) {
  proto::Model m = model_of(small_model());
  m.mutable_graph()->mutable_inputs(0)->mutable_type()->set_dtype(99);
  EXPECT_CONTAINS(load_error(m).message(), "input 0 'x' has an unknown dtype code 99");
  m = model_of(small_model());
  m.mutable_graph()->mutable_inputs(0)->mutable_type()->mutable_dims(1)->set_static_size(-3);
  EXPECT_CONTAINS(load_error(m).message(), "input 0 'x' has a negative dim 1");
  m = model_of(small_model());
  m.mutable_graph()->mutable_inputs(0)->mutable_type()->mutable_dims(0)->set_expr("ba$ch");
  EXPECT_CONTAINS(load_error(m).message(), "input 0 'x' dim 0: bad dim expression 'ba$ch'");
  m = model_of(small_model());
  m.mutable_graph()->mutable_inputs(0)->mutable_type()->mutable_dims(0)->clear_kind();
  EXPECT_CONTAINS(load_error(m).message(), "dim 0 has neither a size nor an expression");
  m = model_of(small_model());
  node_named(&m, "relu")->mutable_outputs(0)->set_name("x");
  Status dup = load_error(m);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_CONTAINS(dup.message(), "the name 'x' is already taken");
  m = model_of(small_model());
  node_named(&m, "relu")->mutable_outputs(0)->set_name("");
  EXPECT_CONTAINS(load_error(m).message(), "empty name");
  m = model_of(small_model());
  node_named(&m, "relu")->set_name("");
  EXPECT_CONTAINS(load_error(m).message(), "node 3 (relu) has no name");
  m = model_of(small_model());
  node_named(&m, "relu")->set_name("add");
  EXPECT_CONTAINS(load_error(m).message(), "relu 'add': a node with this name already exists");
  m = model_of(small_model());
  (*node_named(&m, "sm")->mutable_attrs())["axis"].Clear();
  EXPECT_CONTAINS(load_error(m).message(), "node 'sm' attribute 'axis' has no value");
  m = model_of(small_model());
  m.mutable_graph()->mutable_inputs(0)->set_name("");
  EXPECT_CONTAINS(load_error(m).message(), "input 0 has no name");
}

TEST(SerializeLoadTest, WeightSizes) {
  proto::Model m = model_of(small_model());
  weight_named(&m, "w")->mutable_inline_data()->resize(44);
  EXPECT_CONTAINS(load_error(m).message(),
                  "weight 'w' has 44 bytes of inline data but its type float32[4, 3] needs 48");
  m = model_of(small_model());
  weight_named(&m, "w")->mutable_type()->mutable_dims(0)->set_expr("n");
  EXPECT_CONTAINS(load_error(m).message(), "must have static dims only");
  m = model_of(small_model());
  weight_named(&m, "ext")->mutable_external()->set_length(3);
  EXPECT_CONTAINS(
      load_error(m).message(),
      "weight 'ext' has an external length of 3 bytes but its type float16[8] needs 16");
  m = model_of(small_model());
  weight_named(&m, "ext")->mutable_external()->set_offset(UINT64_MAX - 4);
  EXPECT_CONTAINS(load_error(m).message(), "overflows");
  m = model_of(small_model());
  *m.add_weights() = *weight_named(&m, "w");
  EXPECT_CONTAINS(load_error(m).message(), "weight name 'w' appears twice");
  m = model_of(small_model());
  m.mutable_graph()->add_weights("ghost");
  EXPECT_CONTAINS(load_error(m).message(), "weight 'ghost' is listed by the graph but not");
}

TEST(SerializeLoadTest, AbsurdSizesAreRefusedBeforeAllocation) {
  // 2^62 float32 elements with a 12-byte payload: refused by arithmetic, nothing allocated.
  proto::Model m = model_of(small_model());
  proto::TensorData* value = node_named(&m, "bias")->mutable_attrs()->at("value").mutable_tensor();
  value->clear_shape();
  value->add_shape(int64_t(1) << 62);
  Status s = load_error(m);
  EXPECT_CONTAINS(s.message(), "node 'bias' attribute 'value'");
  EXPECT_CONTAINS(s.message(), "overflows int64");
  value->set_shape(0, int64_t(1) << 40);
  EXPECT_CONTAINS(load_error(m).message(), "holds 12 bytes but its type float32[1099511627776]");
  // A weight declaring 2^93 elements.
  m = model_of(small_model());
  auto* dims = weight_named(&m, "w")->mutable_type()->mutable_dims();
  dims->Clear();
  for (int i = 0; i < 3; ++i) dims->Add()->set_static_size(int64_t(1) << 31);
  EXPECT_CONTAINS(load_error(m).message(), "byte size overflows int64");
  // An input with more dims than any tensor has.
  m = model_of(small_model());
  auto* in = m.mutable_graph()->mutable_inputs(0)->mutable_type();
  for (int i = 0; i < 100; ++i) in->add_dims()->set_static_size(1);
  EXPECT_CONTAINS(load_error(m).message(), "over the limit of 64");
  // A file size over the limit is refused before the data is looked at.
  const char byte = 0;
  auto big = parse_graph(&byte, kMaxGraphFileBytes + 1, "huge.kiln", "");
  ASSERT_FALSE(big.is_ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_CONTAINS(big.status().message(), "huge.kiln is 2097152001 bytes, over the .kiln limit");
}

TEST(SerializeLoadTest, ExternalPathsAreChecked) {
  for (const char* path : {"/etc/passwd", "../secret.bin", "a/../../b", "weights/..", "..\\x"}) {
    proto::Model m = model_of(small_model());
    weight_named(&m, "ext")->mutable_external()->set_path(path);
    Status s = load_error(m);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << path << ": " << s.to_string();
    EXPECT_CONTAINS(s.message(), "weight 'ext'");
  }
  proto::Model m = model_of(small_model());
  weight_named(&m, "ext")->mutable_external()->set_path("");
  EXPECT_CONTAINS(load_error(m).message(), "weight 'ext' has an empty external path");
  m = model_of(small_model());
  weight_named(&m, "ext")->mutable_external()->set_path("a..b/..c/d..");  // no ".." component
  EXPECT_TRUE(parse_model(m).is_ok());
}

TEST(SerializeLoadTest, SubgraphsAreValidated) {
  proto::Model m = model_of(small_model());
  m.mutable_subgraphs(0)->mutable_nodes(0)->set_inputs(0, "nope");
  EXPECT_CONTAINS(load_error(m).message(),
                  "x.kiln: subgraph 0 'body': node 'e' (exp) input 0 refers to 'nope'");
  m = model_of(small_model());
  *m.add_subgraphs() = m.subgraphs(0);
  EXPECT_CONTAINS(load_error(m).message(), "subgraph name 'body' appears twice");
  m = model_of(small_model());
  m.mutable_subgraphs(0)->mutable_nodes(0)->set_op("mystery");
  EXPECT_CONTAINS(load_error(m).message(), "unknown op 'mystery' in node 'e'");
}

TEST(SerializeLoadTest, NotAKilnFile) {
  const std::string garbage = "this is not a protobuf \xff\xff\xff\xff";
  auto g = parse_graph(garbage.data(), garbage.size(), "junk.kiln", "");
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_CONTAINS(g.status().message(), "junk.kiln is not a valid .kiln file");
  auto empty = parse_graph(nullptr, 0, "empty.kiln", "");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_CONTAINS(empty.status().message(), "has no format version");
  // Deeply nested unknown groups must hit the recursion limit, not the stack.
  const std::string nested(200000, '\x7b');  // field 15, start-group
  auto deep = parse_graph(nested.data(), nested.size(), "deep.kiln", "");
  EXPECT_FALSE(deep.is_ok());
}

TEST(SerializeRobustnessTest, EveryTruncationFailsCleanly) {
  const std::string bytes = bytes_of(small_model());
  size_t refused = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto g = parse_graph(bytes.data(), len, "cut.kiln", "");
    if (!g.is_ok()) {
      ++refused;
      EXPECT_FALSE(g.status().message().empty());
    } else {
      // A cut at a field boundary may leave a smaller valid model; it must still be whole.
      EXPECT_TRUE(serialize_graph(g.value()).is_ok());
    }
  }
  // The graph is field 3 and comes before the weights, so nearly every cut loses a required part.
  EXPECT_GT(refused, bytes.size() * 9 / 10);
}

TEST(SerializeRobustnessTest, RandomMutationsNeverCrash) {
  const std::string bytes = bytes_of(small_model());
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<size_t> pos(0, bytes.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> count(1, 4);
  size_t loaded = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string mutated = bytes;
    const int n = count(rng);
    for (int k = 0; k < n; ++k) mutated[pos(rng)] = static_cast<char>(byte(rng));
    auto g = parse_graph(mutated.data(), mutated.size(), "mutated.kiln", "");
    if (!g.is_ok()) {
      EXPECT_FALSE(g.status().message().empty());
      continue;
    }
    ++loaded;
    // Whatever loads is a valid graph: it serializes and loads again to the same bytes.
    auto again = serialize_graph(g.value());
    ASSERT_TRUE(again.is_ok()) << again.status().to_string();
    auto reloaded = parse_graph(again->data(), again->size(), "again.kiln", "");
    ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().to_string();
    EXPECT_EQ(serialize_graph(reloaded.value()).value(), again.value());
  }
  // Mutating weight bytes or names leaves valid models; mutating structure does not.
  EXPECT_GT(loaded, 0u);
  EXPECT_LT(loaded, 2000u);
}

TEST(SerializeTest, WriterRefusesBrokenGraphs) {
  Graph g = small_model();
  g.outputs.push_back(12345);
  auto s = serialize_graph(g);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
  Graph clash = small_model();
  clash.subgraphs[0].weights.push_back(clash.weights[0]);
  clash.subgraphs[0].weights.back().value = 0;  // same name, different type (y: float32[2])
  clash.subgraphs[0].weights.back().inline_data = float_tensor({2}, 0.0f);
  auto c = serialize_graph(clash);
  ASSERT_FALSE(c.is_ok());
  EXPECT_CONTAINS(c.status().message(), "weight 'w' is defined differently by two graphs");
}

}  // namespace
}  // namespace kiln
