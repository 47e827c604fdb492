// The graph C ABI: building, introspection, save/load, and its error paths (NULL arguments,
// struct_size 0, values of another graph, custom ops without types), each leaving the graph
// unchanged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "api/graph_handles.h"
#include "kiln/kiln.h"

namespace {

// Owns a status returned by a call; prints it on failure.
struct StatusHolder {
  kiln_status* s;
  ~StatusHolder() { kiln_status_destroy(s); }
  int32_t code() const { return kiln_status_get_code(s); }
  std::string message() const { return kiln_status_get_message(s); }
};

#define EXPECT_KILN_OK(call)                                   \
  do {                                                         \
    StatusHolder h_{call};                                     \
    EXPECT_EQ(h_.s, nullptr) << #call << ": " << h_.message(); \
  } while (0)

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

class GraphApiTest : public ::testing::Test {
 protected:
  void SetUp() override { EXPECT_KILN_OK(kiln_graph_create("g", &graph_)); }
  void TearDown() override { kiln_graph_destroy(graph_); }

  // An input of float32 with dims given as static sizes or expressions (size < 0 means expr).
  kiln_value* input(const char* name, std::vector<kiln_dim> dims,
                    int32_t dtype = KILN_DTYPE_FLOAT32) {
    kiln_tensor_type t{};
    t.struct_size = sizeof(t);
    t.dtype = dtype;
    t.rank = dims.size();
    t.dims = dims.data();
    kiln_value* v = nullptr;
    EXPECT_KILN_OK(kiln_graph_add_input(graph_, name, &t, &v));
    return v;
  }

  kiln_op_desc desc(const char* op, const std::vector<const kiln_value*>& inputs) {
    inputs_ = inputs;
    kiln_op_desc d{};
    d.struct_size = sizeof(d);
    d.op = op;
    d.inputs = inputs_.data();
    d.num_inputs = inputs_.size();
    return d;
  }

  // Adds an op expected to fail; returns its status and checks the graph did not change.
  StatusHolder add_failing(const kiln_op_desc* d) {
    const size_t nodes = kiln_graph_get_node_count(graph_);
    const size_t values = graph_->graph.values.size();
    kiln_value* out = nullptr;
    size_t count = 99;
    StatusHolder s{kiln_graph_add_op(graph_, d, &out, 1, &count)};
    EXPECT_NE(s.s, nullptr);
    EXPECT_EQ(out, nullptr);
    EXPECT_EQ(count, 99u);
    EXPECT_EQ(kiln_graph_get_node_count(graph_), nodes);
    EXPECT_EQ(graph_->graph.values.size(), values);
    return s;
  }

  kiln_tensor_spec spec(const kiln_value* v) {
    kiln_tensor_spec s{};
    s.struct_size = sizeof(s);
    EXPECT_KILN_OK(kiln_value_get_spec(v, &s));
    return s;
  }

  kiln_graph* graph_ = nullptr;
  std::vector<const kiln_value*> inputs_;
};

TEST_F(GraphApiTest, BuildAndInspect) {
  kiln_value* x = input("x", {{0, "batch"}, {4, nullptr}});
  kiln_value* y = input("y", {{4, nullptr}});
  kiln_op_desc d = desc("add", {x, y});
  kiln_value* sum = nullptr;
  size_t n = 0;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, &sum, 1, &n));
  ASSERT_EQ(n, 1u);
  const kiln_tensor_spec s = spec(sum);
  EXPECT_STREQ(s.name, "add_0");
  EXPECT_EQ(s.dtype, KILN_DTYPE_FLOAT32);
  ASSERT_EQ(s.rank, 2u);
  EXPECT_EQ(s.shape[0], -1);
  EXPECT_EQ(s.shape[1], 4);
  EXPECT_STREQ(s.dim_exprs[0], "batch");
  EXPECT_EQ(s.dim_exprs[1], nullptr);
  EXPECT_STREQ(s.device, "");

  // Concat of batch+batch gives 2*batch; the spec's pointers outlive later additions.
  kiln_op_desc c = desc("concat", {sum, sum});
  kiln_value* cat = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &c, &cat, 1, nullptr));
  const kiln_tensor_spec cs = spec(cat);
  EXPECT_STREQ(cs.dim_exprs[0], "2*batch");
  for (int i = 0; i < 50; ++i) {
    kiln_op_desc r = desc("relu", {cat});
    EXPECT_KILN_OK(kiln_graph_add_op(graph_, &r, nullptr, 0, nullptr));
  }
  EXPECT_STREQ(s.name, "add_0");
  EXPECT_STREQ(cs.dim_exprs[0], "2*batch");

  const kiln_value* outs[] = {cat};
  EXPECT_KILN_OK(kiln_graph_set_outputs(graph_, outs, 1));
  EXPECT_STREQ(kiln_graph_get_name(graph_), "g");
  EXPECT_EQ(kiln_graph_get_input_count(graph_), 2u);
  EXPECT_EQ(kiln_graph_get_output_count(graph_), 1u);
  EXPECT_EQ(kiln_graph_get_node_count(graph_), 52u);
  kiln_value* got = nullptr;
  EXPECT_KILN_OK(kiln_graph_get_input(graph_, 1, &got));
  EXPECT_EQ(got, y);
  EXPECT_KILN_OK(kiln_graph_get_output(graph_, 0, &got));
  EXPECT_EQ(got, cat);
  kiln_node_info info{};
  info.struct_size = sizeof(info);
  EXPECT_KILN_OK(kiln_graph_get_node_info(graph_, 1, &info));
  EXPECT_STREQ(info.op, "concat");
  EXPECT_STREQ(info.name, "concat_0");
  EXPECT_EQ(info.num_inputs, 2u);
  EXPECT_EQ(info.num_outputs, 1u);
  EXPECT_KILN_OK(kiln_graph_get_node_info(graph_, 51, &info));
  EXPECT_STREQ(info.name, "relu_49");
}

TEST_F(GraphApiTest, NamesAndCounts) {
  kiln_value* x = input("", {{2, nullptr}});
  EXPECT_STREQ(spec(x).name, "input_0");
  kiln_op_desc d = desc("relu", {x});
  d.name = "act";
  d.device = "cpu";
  size_t count = 0;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, nullptr, 0, &count));  // count only
  EXPECT_EQ(count, 1u);
  kiln_node_info info{};
  info.struct_size = sizeof(info);
  EXPECT_KILN_OK(kiln_graph_get_node_info(graph_, 0, &info));
  EXPECT_STREQ(info.name, "act");
  EXPECT_STREQ(info.device, "cpu");
  // The same node name again, or a value name taken by an input, is refused.
  StatusHolder again = add_failing(&d);
  EXPECT_EQ(again.code(), KILN_STATUS_ALREADY_EXISTS);
  d.name = "input_0";
  StatusHolder clash = add_failing(&d);
  EXPECT_EQ(clash.code(), KILN_STATUS_ALREADY_EXISTS);
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = KILN_DTYPE_FLOAT32;
  StatusHolder dup{kiln_graph_add_input(graph_, "input_0", &t, nullptr)};
  EXPECT_EQ(dup.code(), KILN_STATUS_ALREADY_EXISTS);
  EXPECT_EQ(kiln_graph_get_input_count(graph_), 1u);
  // A failed op does not use up a generated name.
  kiln_attr bad{};
  bad.name = "axis";
  bad.kind = KILN_ATTR_INT;
  kiln_op_desc failing = desc("relu", {x});
  failing.attrs = &bad;
  failing.num_attrs = 1;
  add_failing(&failing);
  kiln_op_desc ok = desc("relu", {x});
  kiln_value* r = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &ok, &r, 1, nullptr));
  EXPECT_STREQ(spec(r).name, "relu_0");
}

TEST_F(GraphApiTest, NullArguments) {
  kiln_value* x = input("x", {{2, nullptr}});
  StatusHolder a{kiln_graph_create("g", nullptr)};
  EXPECT_EQ(a.code(), KILN_STATUS_INVALID_ARGUMENT);
  EXPECT_CONTAINS(a.message(), "out_graph");
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = KILN_DTYPE_FLOAT32;
  StatusHolder b{kiln_graph_add_input(nullptr, "x", &t, nullptr)};
  EXPECT_EQ(b.code(), KILN_STATUS_INVALID_ARGUMENT);
  StatusHolder c{kiln_graph_add_input(graph_, "z", nullptr, nullptr)};
  EXPECT_EQ(c.code(), KILN_STATUS_INVALID_ARGUMENT);
  StatusHolder d{kiln_graph_add_op(graph_, nullptr, nullptr, 0, nullptr)};
  EXPECT_EQ(d.code(), KILN_STATUS_INVALID_ARGUMENT);
  kiln_op_desc op = desc("relu", {x});
  StatusHolder e{kiln_graph_add_op(graph_, &op, nullptr, 1, nullptr)};
  EXPECT_CONTAINS(e.message(), "outputs_capacity is 1 but out_outputs is NULL");
  StatusHolder f{kiln_value_get_spec(nullptr, nullptr)};
  EXPECT_EQ(f.code(), KILN_STATUS_INVALID_ARGUMENT);
  StatusHolder g{kiln_graph_set_outputs(graph_, nullptr, 2)};
  EXPECT_EQ(g.code(), KILN_STATUS_INVALID_ARGUMENT);
  const kiln_value* null_value[] = {nullptr};
  StatusHolder h{kiln_graph_set_outputs(graph_, null_value, 1)};
  EXPECT_CONTAINS(h.message(), "output 0 is NULL");
  StatusHolder i{kiln_graph_save(graph_, nullptr)};
  EXPECT_EQ(i.code(), KILN_STATUS_INVALID_ARGUMENT);
  StatusHolder j{kiln_graph_load_from_buffer(nullptr, 10, &graph_)};
  EXPECT_EQ(j.code(), KILN_STATUS_INVALID_ARGUMENT);
  StatusHolder k{kiln_graph_set_metadata(graph_, nullptr, "v")};
  EXPECT_EQ(k.code(), KILN_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_graph_get_metadata(nullptr, "k"), nullptr);
  EXPECT_EQ(kiln_graph_get_node_count(nullptr), 0u);
  kiln_graph_destroy(nullptr);
}

TEST_F(GraphApiTest, StructSizes) {
  kiln_value* x = input("x", {{2, nullptr}});
  kiln_op_desc d = desc("relu", {x});
  d.struct_size = 0;
  StatusHolder s = add_failing(&d);
  EXPECT_EQ(s.code(), KILN_STATUS_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.message(), "kiln_op_desc.struct_size is 0; set it to sizeof(kiln_op_desc)");
  kiln_tensor_type t{};
  t.dtype = KILN_DTYPE_FLOAT32;
  StatusHolder in{kiln_graph_add_input(graph_, "y", &t, nullptr)};
  EXPECT_CONTAINS(in.message(), "kiln_tensor_type.struct_size is 0");
  kiln_tensor_spec spec{};
  StatusHolder sp{kiln_value_get_spec(x, &spec)};
  EXPECT_CONTAINS(sp.message(), "kiln_tensor_spec.struct_size is 0");
  kiln_node_info info{};
  StatusHolder ni{kiln_graph_get_node_info(graph_, 0, &info)};
  EXPECT_CONTAINS(ni.message(), "kiln_node_info.struct_size is 0");
  kiln_weight_desc w{};
  StatusHolder wd{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_CONTAINS(wd.message(), "kiln_weight_desc.struct_size is 0");
  // A newer caller's larger struct is fine: only the known fields are read.
  struct Bigger {
    kiln_op_desc desc;
    int64_t future_field;
  } bigger{desc("relu", {x}), 42};
  bigger.desc.struct_size = sizeof(Bigger);
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &bigger.desc, nullptr, 0, nullptr));
}

TEST_F(GraphApiTest, BadOpDescriptions) {
  kiln_value* x = input("x", {{2, nullptr}});
  kiln_op_desc d = desc("relu", {x});
  d.op = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "desc->op is NULL or empty");
  d = desc("add", {x, x});
  d.inputs = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "num_inputs is 2 but inputs is NULL");
  d = desc("add", {x, nullptr});
  EXPECT_CONTAINS(add_failing(&d).message(), "add (unnamed node): input 1 is NULL");

  kiln_graph* other = nullptr;
  EXPECT_KILN_OK(kiln_graph_create("other", &other));
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = KILN_DTYPE_FLOAT32;
  kiln_value* foreign = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_input(other, "f", &t, &foreign));
  d = desc("add", {x, foreign});
  StatusHolder cross = add_failing(&d);
  EXPECT_EQ(cross.code(), KILN_STATUS_INVALID_ARGUMENT);
  EXPECT_CONTAINS(cross.message(), "input 1 belongs to another graph");
  const kiln_value* foreign_out[] = {foreign};
  StatusHolder cross_out{kiln_graph_set_outputs(graph_, foreign_out, 1)};
  EXPECT_CONTAINS(cross_out.message(), "belongs to another graph");
  kiln_graph_destroy(other);

  kiln_value* m = input("m", {{2, nullptr}, {64, nullptr}});
  kiln_value* k = input("k", {{32, nullptr}, {10, nullptr}});
  d = desc("matmul", {m, k});
  d.name = "mm1";
  EXPECT_CONTAINS(add_failing(&d).message(),
                  "matmul 'mm1': operand 1 (rhs) has shape [32, 10] but K of lhs is 64");
  d = desc("nonexistent_op", {x});
  StatusHolder custom = add_failing(&d);
  EXPECT_CONTAINS(custom.message(), "custom op needs its output types stated");
}

TEST_F(GraphApiTest, Attributes) {
  kiln_value* x = input("x", {{2, nullptr}, {3, nullptr}});
  kiln_op_desc d = desc("softmax", {x});
  kiln_attr a{};
  a.name = "axis";
  a.kind = KILN_ATTR_INT;
  a.i = 0;
  d.attrs = &a;
  d.num_attrs = 1;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, nullptr, 0, nullptr));
  a.i = 7;
  EXPECT_CONTAINS(add_failing(&d).message(), "attribute 'axis' is 7 but the rank is 2");
  a.kind = 99;
  EXPECT_CONTAINS(add_failing(&d).message(), "attribute 'axis' has an unknown kind 99");
  a.kind = KILN_ATTR_STRING;
  a.s = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "string attribute with s NULL");
  a.kind = KILN_ATTR_BOOL;
  a.i = 2;
  EXPECT_CONTAINS(add_failing(&d).message(), "bool attribute with i = 2");
  a.kind = KILN_ATTR_TENSOR;
  a.tensor = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "tensor attribute with NULL");
  a.kind = KILN_ATTR_INTS;
  a.count = 3;
  a.ints = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "count 3 but ints is NULL");
  a.name = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "attribute 0 has no name");
  kiln_attr two[2] = {};
  two[0].name = two[1].name = "axis";
  two[0].kind = two[1].kind = KILN_ATTR_INT;
  d.attrs = two;
  d.num_attrs = 2;
  EXPECT_CONTAINS(add_failing(&d).message(), "attribute 'axis' is given twice");
  d.attrs = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "num_attrs is 2 but attrs is NULL");

  kiln_attr cast{};
  cast.name = "dtype";
  cast.kind = KILN_ATTR_DTYPE;
  cast.i = 12345;
  d = desc("cast", {x});
  d.attrs = &cast;
  d.num_attrs = 1;
  EXPECT_CONTAINS(add_failing(&d).message(), "unknown dtype code 12345");
  cast.i = KILN_DTYPE_BFLOAT16;
  kiln_value* out = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, &out, 1, nullptr));
  EXPECT_EQ(spec(out).dtype, KILN_DTYPE_BFLOAT16);

  kiln_attr shape{};
  shape.name = "shape";
  shape.kind = KILN_ATTR_STRING;
  shape.s = "-1";
  d = desc("reshape", {x});
  d.attrs = &shape;
  d.num_attrs = 1;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, &out, 1, nullptr));
  EXPECT_EQ(spec(out).shape[0], 6);
}

TEST_F(GraphApiTest, StatedOutputTypes) {
  kiln_value* x = input("x", {{0, "batch"}, {8, nullptr}});
  kiln_dim dims[] = {{0, "batch"}, {4, nullptr}};
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = KILN_DTYPE_FLOAT32;
  t.rank = 2;
  t.dims = dims;
  kiln_op_desc d = desc("my_plugin_op", {x});
  d.output_types = &t;
  d.num_output_types = 1;
  kiln_value* out = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, &out, 1, nullptr));
  EXPECT_EQ(spec(out).shape[1], 4);
  ASSERT_EQ(graph_->graph.requirements.size(), 1u);
  EXPECT_EQ(graph_->graph.requirements[0].op, "my_plugin_op");
  EXPECT_EQ(graph_->graph.requirements[0].plugin, "");
  // Stated types of a core op must agree with inference.
  d = desc("relu", {x});
  d.output_types = &t;
  d.num_output_types = 1;
  EXPECT_CONTAINS(add_failing(&d).message(),
                  "output 0 is stated as float32[batch, 4] but inference gives float32[batch, 8]");
  d.output_types = nullptr;
  EXPECT_CONTAINS(add_failing(&d).message(), "num_output_types is 1 but output_types is NULL");
  dims[0].expr = "bat ch";
  d.output_types = &t;
  EXPECT_CONTAINS(add_failing(&d).message(), "output type 0 dim 0: bad dim expression 'bat ch'");
}

TEST_F(GraphApiTest, InputTypeErrors) {
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = 3;
  StatusHolder dtype{kiln_graph_add_input(graph_, "a", &t, nullptr)};
  EXPECT_CONTAINS(dtype.message(), "input 'a' has an unknown dtype code 3");
  t.dtype = KILN_DTYPE_FLOAT32;
  t.rank = 2;
  StatusHolder dims{kiln_graph_add_input(graph_, "a", &t, nullptr)};
  EXPECT_CONTAINS(dims.message(), "has rank 2 but dims is NULL");
  kiln_dim bad[] = {{-5, nullptr}, {2, nullptr}};
  t.dims = bad;
  StatusHolder negative{kiln_graph_add_input(graph_, "a", &t, nullptr)};
  EXPECT_CONTAINS(negative.message(), "negative dim 0");
  t.rank = 1000;
  StatusHolder rank{kiln_graph_add_input(graph_, "a", &t, nullptr)};
  EXPECT_CONTAINS(rank.message(), "rank 1000, over the limit");
  EXPECT_EQ(kiln_graph_get_input_count(graph_), 0u);
}

TEST_F(GraphApiTest, Weights) {
  kiln_weight_desc w;
  kiln_weight_desc_init(&w);
  EXPECT_EQ(w.struct_size, sizeof(w));
  const int64_t shape[] = {4, 4};
  w.name = "emb";
  w.dtype = KILN_DTYPE_FLOAT16;
  w.rank = 2;
  w.shape = shape;
  w.external_path = "weights/emb.bin";
  w.external_offset = 128;
  kiln_value* v = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_weight(graph_, &w, &v));
  EXPECT_STREQ(spec(v).name, "emb");
  ASSERT_EQ(kiln_graph_get_weight_count(graph_), 1u);
  kiln_weight_info info{};
  info.struct_size = sizeof(info);
  EXPECT_KILN_OK(kiln_graph_get_weight_info(graph_, 0, &info));
  EXPECT_STREQ(info.name, "emb");
  EXPECT_EQ(info.byte_size, 32u);
  EXPECT_EQ(info.is_inline, 0);
  EXPECT_STREQ(info.external_path, "weights/emb.bin");
  EXPECT_EQ(info.shape[1], 4);

  StatusHolder dup{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_EQ(dup.code(), KILN_STATUS_ALREADY_EXISTS);
  w.name = "escape";
  w.external_path = "../../etc/passwd";
  StatusHolder escape{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_EQ(escape.code(), KILN_STATUS_PERMISSION_DENIED);
  w.external_path = "/abs/path.bin";
  StatusHolder absolute{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_EQ(absolute.code(), KILN_STATUS_PERMISSION_DENIED);
  w.external_path = "ok.bin";
  w.data = reinterpret_cast<const kiln_tensor*>(&w);  // never read: refused first
  StatusHolder both{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_CONTAINS(both.message(), "has both data and external_path");
  w.data = nullptr;
  w.external_path = nullptr;
  const int64_t bad_shape[] = {-1, 4};
  w.shape = bad_shape;
  StatusHolder negative{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_CONTAINS(negative.message(), "negative dim");
  w.shape = nullptr;
  StatusHolder no_shape{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_CONTAINS(no_shape.message(), "shape is NULL");
  w.shape = shape;
  w.name = nullptr;
  StatusHolder no_name{kiln_graph_add_weight(graph_, &w, nullptr)};
  EXPECT_CONTAINS(no_name.message(), "has no name");
  EXPECT_EQ(kiln_graph_get_weight_count(graph_), 1u);
  kiln_weight_info out_of_range{};
  out_of_range.struct_size = sizeof(out_of_range);
  StatusHolder oor{kiln_graph_get_weight_info(graph_, 1, &out_of_range)};
  EXPECT_EQ(oor.code(), KILN_STATUS_OUT_OF_RANGE);
}

TEST_F(GraphApiTest, Metadata) {
  EXPECT_EQ(kiln_graph_get_metadata(graph_, "k"), nullptr);
  EXPECT_KILN_OK(kiln_graph_set_metadata(graph_, "k", "first"));
  const char* first = kiln_graph_get_metadata(graph_, "k");
  EXPECT_STREQ(first, "first");
  EXPECT_KILN_OK(kiln_graph_set_metadata(graph_, "k", "second"));
  EXPECT_STREQ(kiln_graph_get_metadata(graph_, "k"), "second");
  EXPECT_STREQ(first, "first");  // the old pointer stays valid
  StatusHolder empty{kiln_graph_set_metadata(graph_, "", "v")};
  EXPECT_EQ(empty.code(), KILN_STATUS_INVALID_ARGUMENT);
}

TEST_F(GraphApiTest, SaveAndLoad) {
  kiln_value* x = input("x", {{0, "batch"}, {4, nullptr}});
  kiln_op_desc d = desc("sigmoid", {x});
  kiln_value* y = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &d, &y, 1, nullptr));
  kiln_dim dims[] = {{0, "batch"}};
  kiln_tensor_type t{};
  t.struct_size = sizeof(t);
  t.dtype = KILN_DTYPE_INT64;
  t.rank = 1;
  t.dims = dims;
  kiln_op_desc c = desc("custom_topk", {y});
  c.output_types = &t;
  c.num_output_types = 1;
  kiln_value* z = nullptr;
  EXPECT_KILN_OK(kiln_graph_add_op(graph_, &c, &z, 1, nullptr));
  const kiln_value* outs[] = {y, z};
  EXPECT_KILN_OK(kiln_graph_set_outputs(graph_, outs, 2));
  EXPECT_KILN_OK(kiln_graph_set_metadata(graph_, "origin", "test"));

  void* data = nullptr;
  size_t size = 0;
  EXPECT_KILN_OK(kiln_graph_save_to_buffer(graph_, &data, &size));
  ASSERT_NE(data, nullptr);
  kiln_graph* loaded = nullptr;
  EXPECT_KILN_OK(kiln_graph_load_from_buffer(data, size, &loaded));
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(kiln_graph_get_node_count(loaded), 2u);
  EXPECT_STREQ(kiln_graph_get_metadata(loaded, "origin"), "test");
  kiln_value* out1 = nullptr;
  EXPECT_KILN_OK(kiln_graph_get_output(loaded, 1, &out1));
  EXPECT_STREQ(spec(out1).name, "custom_topk_0");
  EXPECT_STREQ(spec(out1).dim_exprs[0], "batch");
  EXPECT_EQ(kiln::graph_of(loaded).base_dir, std::filesystem::current_path().string());
  kiln_graph_destroy(loaded);
  // A corrupted buffer is an error, not a crash.
  static_cast<char*>(data)[size / 2] ^= 0x5a;
  static_cast<char*>(data)[size / 3] ^= 0x77;
  kiln_graph* broken = nullptr;
  StatusHolder corrupt{kiln_graph_load_from_buffer(data, size / 2, &broken)};
  EXPECT_NE(corrupt.s, nullptr);
  EXPECT_EQ(broken, nullptr);
  kiln_buffer_destroy(data);

  char tmpl[] = "/tmp/kiln_graph_api_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/g.kiln";
  EXPECT_KILN_OK(kiln_graph_save(graph_, path.c_str()));
  EXPECT_KILN_OK(kiln_graph_load(path.c_str(), &loaded));
  EXPECT_EQ(kiln::graph_of(loaded).base_dir, std::string(tmpl));
  EXPECT_EQ(kiln_graph_get_input_count(loaded), 1u);
  kiln_graph_destroy(loaded);
  StatusHolder missing{kiln_graph_load((std::string(tmpl) + "/none.kiln").c_str(), &loaded)};
  EXPECT_EQ(missing.code(), KILN_STATUS_NOT_FOUND);
  std::filesystem::remove_all(tmpl);
}

TEST_F(GraphApiTest, IndexErrors) {
  kiln_value* v = nullptr;
  StatusHolder in{kiln_graph_get_input(graph_, 0, &v)};
  EXPECT_EQ(in.code(), KILN_STATUS_OUT_OF_RANGE);
  EXPECT_CONTAINS(in.message(), "index 0 is out of range (the graph has 0 inputs)");
  StatusHolder out{kiln_graph_get_output(graph_, 3, &v)};
  EXPECT_EQ(out.code(), KILN_STATUS_OUT_OF_RANGE);
  kiln_node_info info{};
  info.struct_size = sizeof(info);
  StatusHolder node{kiln_graph_get_node_info(graph_, 0, &info)};
  EXPECT_EQ(node.code(), KILN_STATUS_OUT_OF_RANGE);
  EXPECT_EQ(v, nullptr);
}

}  // namespace
