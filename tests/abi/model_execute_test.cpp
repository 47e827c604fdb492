// Loading and executing models through kiln.h: kernel binding and its errors, input checks,
// symbolic dims, implicit transfers, custom ops (attributes, scratch, data-dependent shapes),
// weights from every source, constants, reshape views, and memory returned after execution.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "abi_test_util.h"

namespace kiln_test {
namespace {

namespace fs = std::filesystem;

class Models : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = make_runtime({plugin_path("testdev")});
    session_ = make_session(runtime_.get(), {"gpu:0", "gpu:1"});
    gpu0_ = find_device(runtime_.get(), "gpu:0");
    gpu1_ = find_device(runtime_.get(), "gpu:1");
  }

  ModelPtr load(kiln_graph* graph, const kiln_load_options* options = nullptr) {
    kiln_model* model = nullptr;
    EXPECT_TRUE(Ok(kiln_session_load(session_.get(), graph, options, &model)));
    return ModelPtr(model);
  }

  // Executes a one-output model.
  std::vector<float> run1(kiln_model* model, std::vector<kiln_tensor*> inputs) {
    kiln_tensor* out = nullptr;
    EXPECT_TRUE(Ok(kiln_model_execute(model, inputs.data(), inputs.size(), &out, 1)));
    TensorPtr owned(out);
    return out ? read_floats(out) : std::vector<float>();
  }

  RuntimePtr runtime_;
  SessionPtr session_;
  kiln_device* gpu0_ = nullptr;
  kiln_device* gpu1_ = nullptr;
};

GraphPtr new_graph() {
  kiln_graph* g = nullptr;
  EXPECT_TRUE(Ok(kiln_graph_create("test", &g)));
  return GraphPtr(g);
}

TEST_F(Models, ExecuteComputesOutputsAndDescribesInputsAndOutputs) {
  GraphPtr graph = add_mul_graph(nullptr);
  ModelPtr model = load(graph.get());
  ASSERT_EQ(kiln_model_get_input_count(model.get()), 2u);
  ASSERT_EQ(kiln_model_get_output_count(model.get()), 2u);
  kiln_tensor_spec spec{};
  spec.struct_size = sizeof spec;
  ASSERT_TRUE(Ok(kiln_model_get_input_spec(model.get(), 1, &spec)));
  EXPECT_STREQ(spec.name, "y");
  EXPECT_EQ(spec.dtype, KILN_DTYPE_FLOAT32);
  ASSERT_EQ(spec.rank, 2u);
  EXPECT_EQ(spec.shape[0], -1);
  EXPECT_EQ(spec.shape[1], 4);
  EXPECT_STREQ(spec.dim_exprs[0], "batch");
  EXPECT_EQ(spec.dim_exprs[1], nullptr);
  EXPECT_STREQ(spec.device, "gpu:0");
  ASSERT_TRUE(Ok(kiln_model_get_output_spec(model.get(), 0, &spec)));
  EXPECT_STREQ(spec.name, "product");
  EXPECT_TRUE(IsError(kiln_model_get_output_spec(model.get(), 2, &spec), KILN_STATUS_OUT_OF_RANGE,
                      {"index 2", "2 outputs"}));
  EXPECT_TRUE(IsError(kiln_model_get_input_spec(model.get(), 0, nullptr),
                      KILN_STATUS_INVALID_ARGUMENT, {"'out_spec'"}));
  kiln_tensor_spec unset{};
  EXPECT_TRUE(IsError(kiln_model_get_input_spec(model.get(), 0, &unset),
                      KILN_STATUS_INVALID_ARGUMENT, {"struct_size"}));

  for (int64_t batch : {1, 3, 0}) {
    std::vector<float> xs(static_cast<size_t>(batch * 4)), ys(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) {
      xs[i] = static_cast<float>(i);
      ys[i] = 0.5f * static_cast<float>(i);
    }
    TensorPtr x = make_tensor(gpu0_, {batch, 4}, xs);
    TensorPtr y = make_tensor(gpu0_, {batch, 4}, ys);
    kiln_tensor* inputs[] = {x.get(), y.get()};
    kiln_tensor* outputs[2] = {};
    ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 2, outputs, 2)));
    TensorPtr product(outputs[0]), sum(outputs[1]);
    EXPECT_EQ(kiln_tensor_get_shape(product.get())[0], batch);
    EXPECT_EQ(kiln_tensor_get_device(product.get()), gpu0_);
    const std::vector<float> p = read_floats(product.get()), s = read_floats(sum.get());
    for (size_t i = 0; i < xs.size(); ++i) {
      EXPECT_EQ(s[i], xs[i] + ys[i]);
      EXPECT_EQ(p[i], (xs[i] + ys[i]) * xs[i]);  // the priority-3 mul kernel ran
    }
  }
}

TEST_F(Models, ExecuteChecksItsInputs) {
  GraphPtr graph = add_mul_graph(nullptr);
  ModelPtr model = load(graph.get());
  kiln_model* m = model.get();
  TensorPtr x = make_tensor(gpu0_, {3, 4}, std::vector<float>(12, 1));
  TensorPtr y2 = make_tensor(gpu0_, {2, 4}, std::vector<float>(8, 1));
  TensorPtr wide = make_tensor(gpu0_, {3, 5}, std::vector<float>(15, 1));
  TensorPtr flat = make_tensor(gpu0_, {12}, std::vector<float>(12, 1));
  const int64_t shape[] = {3, 4};
  kiln_tensor* ints = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_create(gpu0_, KILN_DTYPE_INT32, shape, 2, &ints)));
  TensorPtr owned_ints(ints);
  kiln_tensor* outputs[2] = {};

  kiln_tensor* one[] = {x.get()};
  EXPECT_TRUE(IsError(kiln_model_execute(m, one, 1, outputs, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"takes 2 inputs, got 1"}));
  kiln_tensor* bad_dtype[] = {x.get(), ints};
  EXPECT_TRUE(IsError(kiln_model_execute(m, bad_dtype, 2, outputs, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"input 1 'y': expected dtype float32, got int32"}));
  kiln_tensor* bad_rank[] = {flat.get(), x.get()};
  EXPECT_TRUE(IsError(kiln_model_execute(m, bad_rank, 2, outputs, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"input 0 'x': expected rank 2", "got rank 1"}));
  kiln_tensor* bad_dim[] = {x.get(), wide.get()};
  EXPECT_TRUE(IsError(kiln_model_execute(m, bad_dim, 2, outputs, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"input 1 'y': dim 1 must be 4, got 5"}));
  kiln_tensor* inconsistent[] = {x.get(), y2.get()};
  EXPECT_TRUE(IsError(kiln_model_execute(m, inconsistent, 2, outputs, 2),
                      KILN_STATUS_INVALID_ARGUMENT,
                      {"input 1 'y': dim 0 is 'batch' = 3 (from input 0 'x' dim 0), got 2"}));
  kiln_tensor* with_null[] = {x.get(), nullptr};
  EXPECT_TRUE(IsError(kiln_model_execute(m, with_null, 2, outputs, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"input 1 'y' is NULL"}));
  kiln_tensor* good[] = {x.get(), x.get()};
  EXPECT_TRUE(IsError(kiln_model_execute(m, good, 2, outputs, 1), KILN_STATUS_INVALID_ARGUMENT,
                      {"outputs_capacity is 1", "2 outputs"}));
  EXPECT_TRUE(IsError(kiln_model_execute(m, good, 2, nullptr, 2), KILN_STATUS_INVALID_ARGUMENT,
                      {"'out_outputs'"}));
  EXPECT_TRUE(IsError(kiln_model_execute(nullptr, good, 2, outputs, 2),
                      KILN_STATUS_INVALID_ARGUMENT, {"'model'"}));
  EXPECT_EQ(outputs[0], nullptr);
}

TEST_F(Models, InputsElsewhereOrStridedAreCopiedAndValuesMoveBetweenDevices) {
  kiln_graph* g = nullptr;
  GraphPtr graph = new_graph();
  g = graph.get();
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{2, nullptr}, {3, nullptr}}, "gpu:0");
  kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{2, nullptr}, {3, nullptr}}, "gpu:1");
  // Placed on gpu:1, reading x from gpu:0: an implicit transfer.
  kiln_value* sum = add_op(g, "add", {x, y}, {}, "sum", "gpu:1");
  set_outputs(g, {sum});
  ModelPtr model = load(g);
  // x arrives on gpu:1 (copied to its device), y as a transposed view (made contiguous).
  TensorPtr xt = make_tensor(gpu1_, {2, 3}, {1, 2, 3, 4, 5, 6});
  TensorPtr base = make_tensor(gpu1_, {3, 2}, {10, 40, 20, 50, 30, 60});
  const int64_t shape[] = {2, 3};
  const int64_t strides[] = {1, 2};
  kiln_tensor* yt = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_view(base.get(), KILN_DTYPE_FLOAT32, shape, 2, strides, 0, &yt)));
  TensorPtr owned(yt);
  kiln_tensor* out = nullptr;
  kiln_tensor* inputs[] = {xt.get(), yt};
  ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 2, &out, 1)));
  TensorPtr result(out);
  EXPECT_EQ(kiln_tensor_get_device(out), gpu1_);
  EXPECT_EQ(read_floats(out), (std::vector<float>{11, 22, 33, 44, 55, 66}));
}

TEST_F(Models, CustomOpsGetAttributesScratchAndDataDependentShapes) {
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{6, nullptr}});
  kiln_attr factor{};
  factor.name = "factor";
  factor.kind = KILN_ATTR_FLOAT;
  factor.f = 3.0;
  kiln_value* tripled = add_op(g, "testdev.scale", {x}, {factor}, "tripled", nullptr,
                               KILN_DTYPE_FLOAT32, {{6, nullptr}});
  kiln_value* positive = add_op(g, "testdev.positive", {tripled}, {}, "positive", nullptr,
                                KILN_DTYPE_FLOAT32, {{0, "n"}});
  // Its shape is known only once "n" is: after the kernel above has run.
  kiln_value* doubled = add_op(g, "testdev.scale", {positive}, {}, "doubled", nullptr,
                               KILN_DTYPE_FLOAT32, {{0, "n"}});
  kiln_value* sum = add_op(g, "add", {doubled, positive}, {}, "sum");
  set_outputs(g, {sum});
  ModelPtr model = load(g);
  kiln_tensor_spec spec{};
  spec.struct_size = sizeof spec;
  ASSERT_TRUE(Ok(kiln_model_get_output_spec(model.get(), 0, &spec)));
  EXPECT_STREQ(spec.dim_exprs[0], "n");
  TensorPtr in = make_tensor(gpu0_, {6}, {1, -2, 3, 0, -5, 2});
  // tripled: 3 -6 9 0 -15 6 -> positive: 3 9 6 -> doubled + positive: 9 27 18
  EXPECT_EQ(run1(model.get(), {in.get()}), (std::vector<float>{9, 27, 18}));
  TensorPtr none = make_tensor(gpu0_, {6}, {-1, -1, -1, -1, -1, -1});
  EXPECT_EQ(run1(model.get(), {none.get()}), std::vector<float>{});
}

TEST_F(Models, AKernelErrorNamesTheKernelOpAndNode) {
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{2, nullptr}});
  set_outputs(g, {add_op(g, "testdev.fail", {x}, {}, "doomed", nullptr, KILN_DTYPE_FLOAT32,
                         {{2, nullptr}})});
  ModelPtr model = load(g);
  TensorPtr in = make_tensor(gpu0_, {2}, {1, 2});
  kiln_tensor* inputs[] = {in.get()};
  kiln_tensor* out = nullptr;
  EXPECT_TRUE(IsError(kiln_model_execute(model.get(), inputs, 1, &out, 1), KILN_STATUS_DATA_LOSS,
                      {"kernel 'testdev.fail' for testdev.fail 'doomed' failed: the test kernel "
                       "fails on purpose"}));
  EXPECT_EQ(out, nullptr);
}

// A plugin kernel that fails leaves the session usable: the same session loads and runs another
// model, and the failing model fails the same way again instead of being left broken.
TEST_F(Models, AFailingKernelLeavesTheSessionUsable) {
  GraphPtr doomed_graph = new_graph();
  kiln_value* x = add_input(doomed_graph.get(), "x", KILN_DTYPE_FLOAT32, {{2, nullptr}});
  set_outputs(doomed_graph.get(), {add_op(doomed_graph.get(), "testdev.fail", {x}, {}, "doomed",
                                          nullptr, KILN_DTYPE_FLOAT32, {{2, nullptr}})});
  ModelPtr doomed = load(doomed_graph.get());
  TensorPtr in = make_tensor(gpu0_, {2}, {1, 2});
  kiln_tensor* inputs[] = {in.get()};
  for (int attempt = 0; attempt < 2; ++attempt) {
    kiln_tensor* out = nullptr;
    EXPECT_TRUE(IsError(kiln_model_execute(doomed.get(), inputs, 1, &out, 1),
                        KILN_STATUS_DATA_LOSS, {"'doomed' failed"}));
    EXPECT_EQ(out, nullptr);
  }
  GraphPtr graph = add_mul_graph(nullptr);
  ModelPtr model = load(graph.get());
  TensorPtr a = make_tensor(gpu0_, {1, 4}, {1, 2, 3, 4});
  TensorPtr b = make_tensor(gpu0_, {1, 4}, {10, 20, 30, 40});
  kiln_tensor* args[] = {a.get(), b.get()};
  kiln_tensor* outputs[2] = {};
  ASSERT_TRUE(Ok(kiln_model_execute(model.get(), args, 2, outputs, 2)));
  TensorPtr product(outputs[0]), sum(outputs[1]);
  EXPECT_EQ(read_floats(product.get()), (std::vector<float>{11, 44, 99, 176}));
}

TEST_F(Models, LoadErrorsNameTheNodeAndReason) {
  kiln_model* model = nullptr;
  {
    // No kernel for this dtype: say which dtypes do have one.
    GraphPtr graph = new_graph();
    kiln_graph* g = graph.get();
    kiln_value* a = add_input(g, "a", KILN_DTYPE_INT32, {{2, nullptr}});
    set_outputs(g, {add_op(g, "add", {a, a}, {}, "int_sum")});
    EXPECT_TRUE(IsError(kiln_session_load(session_.get(), g, nullptr, &model),
                        KILN_STATUS_NOT_FOUND,
                        {"no kernel for add 'int_sum' with dtype int32 on device gpu:0 (device "
                         "API 'testdev')",
                         "'testdev.add.f32' accepts float32 (of input 0)"}));
  }
  {
    // No kernel for the op at all.
    GraphPtr graph = new_graph();
    kiln_graph* g = graph.get();
    kiln_value* a = add_input(g, "a", KILN_DTYPE_FLOAT32, {{2, nullptr}});
    set_outputs(g, {add_op(g, "sub", {a, a}, {}, "difference")});
    EXPECT_TRUE(IsError(kiln_session_load(session_.get(), g, nullptr, &model),
                        KILN_STATUS_NOT_FOUND,
                        {"sub 'difference'", "no loaded plugin has a kernel for op 'sub'"}));
  }
  {
    // A device ref the session does not have.
    GraphPtr graph = new_graph();
    kiln_graph* g = graph.get();
    kiln_value* a = add_input(g, "a", KILN_DTYPE_FLOAT32, {{2, nullptr}}, "gpu:5");
    set_outputs(g, {add_op(g, "add", {a, a})});
    EXPECT_TRUE(IsError(kiln_session_load(session_.get(), g, nullptr, &model),
                        KILN_STATUS_NOT_FOUND,
                        {"graph input 'a'", "device ref 'gpu:5'", "gpu:0, gpu:1"}));
  }
  {
    // A custom op no plugin of this runtime registers.
    RuntimePtr bare = make_runtime({plugin_path("frozen10")});
    SessionPtr session = make_session(bare.get(), {"frozendev:0"});
    GraphPtr graph = new_graph();
    kiln_graph* g = graph.get();
    kiln_value* a = add_input(g, "a", KILN_DTYPE_FLOAT32, {{2, nullptr}});
    set_outputs(g, {add_op(g, "testdev.scale", {a}, {}, "scaled", nullptr, KILN_DTYPE_FLOAT32,
                           {{2, nullptr}})});
    EXPECT_TRUE(
        IsError(kiln_session_load(session.get(), g, nullptr, &model), KILN_STATUS_NOT_FOUND,
                {"testdev.scale 'scaled'", "not a core op and no loaded plugin registers it"}));
  }
  GraphPtr graph = add_mul_graph(nullptr);
  EXPECT_TRUE(IsError(kiln_session_load(nullptr, graph.get(), nullptr, &model),
                      KILN_STATUS_INVALID_ARGUMENT, {"'session'"}));
  EXPECT_TRUE(IsError(kiln_session_load(session_.get(), nullptr, nullptr, &model),
                      KILN_STATUS_INVALID_ARGUMENT, {"'graph'"}));
  EXPECT_EQ(model, nullptr);
}

// w (a weight) + x, with the weight inline, supplied at load, or missing.
GraphPtr weight_graph(kiln_tensor* inline_data) {
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{3, nullptr}});
  kiln_weight_desc desc;
  kiln_weight_desc_init(&desc);
  const int64_t shape[] = {3};
  desc.name = "w";
  desc.dtype = KILN_DTYPE_FLOAT32;
  desc.rank = 1;
  desc.shape = shape;
  desc.data = inline_data;
  kiln_value* w = nullptr;
  EXPECT_TRUE(Ok(kiln_graph_add_weight(g, &desc, &w)));
  set_outputs(g, {add_op(g, "add", {x, w})});
  return graph;
}

TEST_F(Models, WeightsComeFromTheGraphOrTheLoadOptions) {
  TensorPtr x = make_tensor(gpu0_, {3}, {1, 2, 3});
  TensorPtr inline_w = make_tensor(gpu0_, {3}, {10, 20, 30});
  GraphPtr with_inline = weight_graph(inline_w.get());
  ModelPtr model = load(with_inline.get());
  EXPECT_EQ(run1(model.get(), {x.get()}), (std::vector<float>{11, 22, 33}));

  // The registry overrides the graph's own data; the tensor may live on another device.
  TensorPtr supplied = make_tensor(gpu1_, {3}, {100, 200, 300});
  const char* names[] = {"w"};
  kiln_tensor* tensors[] = {supplied.get()};
  kiln_load_options options;
  kiln_load_options_init(&options);
  options.weight_names = names;
  options.weights = tensors;
  options.num_weights = 1;
  ModelPtr overridden = load(with_inline.get(), &options);
  EXPECT_EQ(run1(overridden.get(), {x.get()}), (std::vector<float>{101, 202, 303}));

  GraphPtr without = weight_graph(nullptr);
  kiln_model* m = nullptr;
  EXPECT_TRUE(IsError(kiln_session_load(session_.get(), without.get(), nullptr, &m),
                      KILN_STATUS_NOT_FOUND,
                      {"weight 'w'", "no data in the graph", "kiln_load_options"}));
  ModelPtr supplied_model = load(without.get(), &options);
  EXPECT_EQ(run1(supplied_model.get(), {x.get()}), (std::vector<float>{101, 202, 303}));

  const char* unknown[] = {"v"};
  options.weight_names = unknown;
  EXPECT_TRUE(IsError(kiln_session_load(session_.get(), without.get(), &options, &m),
                      KILN_STATUS_INVALID_ARGUMENT, {"weight 'v'", "its weights: w"}));
  TensorPtr wrong = make_tensor(gpu0_, {2}, {1, 2});
  tensors[0] = wrong.get();
  options.weight_names = names;
  EXPECT_TRUE(IsError(kiln_session_load(session_.get(), without.get(), &options, &m),
                      KILN_STATUS_INVALID_ARGUMENT, {"weight 'w'", "float32[2]", "float32[3]"}));
  tensors[0] = nullptr;
  EXPECT_TRUE(IsError(kiln_session_load(session_.get(), without.get(), &options, &m),
                      KILN_STATUS_INVALID_ARGUMENT, {"options->weights[0] ('w') is NULL"}));
  EXPECT_EQ(m, nullptr);
}

TEST_F(Models, OutputsNeverAliasTheModelsWeights) {
  TensorPtr data = make_tensor(gpu0_, {3}, {1, 2, 3});
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_weight_desc desc;
  kiln_weight_desc_init(&desc);
  const int64_t shape[] = {3};
  desc.name = "w";
  desc.dtype = KILN_DTYPE_FLOAT32;
  desc.rank = 1;
  desc.shape = shape;
  desc.data = data.get();
  kiln_value* w = nullptr;
  ASSERT_TRUE(Ok(kiln_graph_add_weight(g, &desc, &w)));
  set_outputs(g, {w});
  ModelPtr model = load(g);
  kiln_tensor* first = nullptr;
  ASSERT_TRUE(Ok(kiln_model_execute(model.get(), nullptr, 0, &first, 1)));
  TensorPtr owned(first);
  const float scribble[3] = {-1, -1, -1};
  ASSERT_TRUE(Ok(kiln_tensor_write(first, scribble, sizeof scribble)));
  EXPECT_EQ(run1(model.get(), {}), (std::vector<float>{1, 2, 3}));
}

TEST_F(Models, ExternalWeightsAreReadRelativeToTheGraphFile) {
  const fs::path dir = fs::temp_directory_path() / ("kiln_abi_ext_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const float w[3] = {0.5f, 1.5f, 2.5f};
  std::ofstream(dir / "w.bin", std::ios::binary).write(reinterpret_cast<const char*>(w), sizeof w);
  {
    GraphPtr graph = new_graph();
    kiln_graph* g = graph.get();
    kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{3, nullptr}});
    kiln_weight_desc desc;
    kiln_weight_desc_init(&desc);
    const int64_t shape[] = {3};
    desc.name = "w";
    desc.dtype = KILN_DTYPE_FLOAT32;
    desc.rank = 1;
    desc.shape = shape;
    desc.external_path = "w.bin";
    kiln_value* wv = nullptr;
    ASSERT_TRUE(Ok(kiln_graph_add_weight(g, &desc, &wv)));
    set_outputs(g, {add_op(g, "add", {x, wv})});
    ASSERT_TRUE(Ok(kiln_graph_save(g, (dir / "model.kiln").c_str())));
  }
  kiln_graph* loaded = nullptr;
  ASSERT_TRUE(Ok(kiln_graph_load((dir / "model.kiln").c_str(), &loaded)));
  GraphPtr graph(loaded);
  ModelPtr model = load(loaded);
  TensorPtr x = make_tensor(gpu0_, {3}, {1, 1, 1});
  EXPECT_EQ(run1(model.get(), {x.get()}), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  fs::remove_all(dir);
}

TEST_F(Models, ConstantsAndReshapesNeedNoKernel) {
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{2, nullptr}, {3, nullptr}});
  TensorPtr value = make_tensor(gpu0_, {3, 2}, {1, 2, 3, 4, 5, 6});
  kiln_attr tensor_attr{};
  tensor_attr.name = "value";
  tensor_attr.kind = KILN_ATTR_TENSOR;
  tensor_attr.tensor = value.get();
  kiln_value* c = add_op(g, "constant", {}, {tensor_attr}, "c");
  const int64_t new_shape[] = {3, 2};
  kiln_attr shape_attr{};
  shape_attr.name = "shape";
  shape_attr.kind = KILN_ATTR_INTS;
  shape_attr.ints = new_shape;
  shape_attr.count = 2;
  kiln_value* reshaped = add_op(g, "reshape", {x}, {shape_attr}, "reshaped");
  set_outputs(g, {add_op(g, "add", {reshaped, c}), reshaped});
  ModelPtr model = load(g);
  TensorPtr in = make_tensor(gpu0_, {2, 3}, {10, 20, 30, 40, 50, 60});
  kiln_tensor* inputs[] = {in.get()};
  kiln_tensor* outputs[2] = {};
  ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 1, outputs, 2)));
  TensorPtr sum(outputs[0]), view(outputs[1]);
  EXPECT_EQ(read_floats(sum.get()), (std::vector<float>{11, 22, 33, 44, 55, 66}));
  // The reshape is a view of the input's memory.
  EXPECT_EQ(kiln_tensor_get_data(view.get()), kiln_tensor_get_data(in.get()));
  EXPECT_EQ(kiln_tensor_get_shape(view.get())[0], 3);
}

TEST_F(Models, ExecutionReturnsEveryBufferItDoesNotHandBack) {
  GraphPtr graph = new_graph();
  kiln_graph* g = graph.get();
  kiln_value* v = add_input(g, "x", KILN_DTYPE_FLOAT32, {{0, "n"}});
  kiln_value* x = v;
  for (int i = 0; i < 10; ++i) v = add_op(g, "add", {v, x});  // x * 11 in the end
  set_outputs(g, {v});
  ModelPtr model = load(g);
  TensorPtr in = make_tensor(gpu0_, {1000}, std::vector<float>(1000, 1.0f));
  kiln_device_stats before{};
  before.struct_size = sizeof before;
  ASSERT_TRUE(Ok(kiln_device_get_stats(gpu0_, &before)));
  EXPECT_EQ(run1(model.get(), {in.get()}), std::vector<float>(1000, 11.0f));
  kiln_device_stats after{};
  after.struct_size = sizeof after;
  ASSERT_TRUE(Ok(kiln_device_get_stats(gpu0_, &after)));
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.num_allocations, before.num_allocations);
  // Buffers were reused: ten adds never needed more than two intermediates at once.
  EXPECT_LE(after.peak_bytes_in_use,
            std::max(before.peak_bytes_in_use, before.bytes_in_use + 3 * 4000));
}

// Per-node timing: off by default; while on, each execution counts once per node and adds time;
// switching it on again starts from zero; a bad index is OUT_OF_RANGE.
TEST_F(Models, ProfilingCountsEachNodePerExecution) {
  GraphPtr graph = add_mul_graph(nullptr);
  ModelPtr model = load(graph.get());
  const size_t nodes = kiln_model_get_node_count(model.get());
  ASSERT_EQ(nodes, 2u);
  TensorPtr x = make_tensor(gpu0_, {2, 4}, std::vector<float>(8, 1.0f));
  TensorPtr y = make_tensor(gpu0_, {2, 4}, std::vector<float>(8, 2.0f));
  auto execute = [&] {
    kiln_tensor* inputs[] = {x.get(), y.get()};
    kiln_tensor* outputs[2] = {nullptr, nullptr};
    ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 2, outputs, 2)));
    TensorPtr a(outputs[0]), b(outputs[1]);
    EXPECT_EQ(read_floats(a.get()), std::vector<float>(8, 3.0f));  // (x + y) * x
  };
  auto profile = [&](size_t i) {
    kiln_node_profile p{};
    p.struct_size = sizeof p;
    EXPECT_TRUE(Ok(kiln_model_get_node_profile(model.get(), i, &p)));
    return p;
  };
  execute();
  EXPECT_EQ(profile(0).count, 0u);  // off by default

  ASSERT_TRUE(Ok(kiln_model_set_profiling(model.get(), 1)));
  execute();
  execute();
  for (size_t i = 0; i < nodes; ++i) {
    EXPECT_EQ(profile(i).count, 2u) << "node " << i;
    EXPECT_GT(profile(i).total_seconds, 0.0) << "node " << i;
  }
  ASSERT_TRUE(Ok(kiln_model_set_profiling(model.get(), 0)));
  execute();
  EXPECT_EQ(profile(1).count, 2u);  // off: no longer counted
  ASSERT_TRUE(Ok(kiln_model_set_profiling(model.get(), 1)));
  EXPECT_EQ(profile(1).count, 0u);  // on again: reset
  EXPECT_EQ(profile(1).total_seconds, 0.0);

  kiln_node_profile p{};
  p.struct_size = sizeof p;
  EXPECT_TRUE(IsError(kiln_model_get_node_profile(model.get(), 2, &p), KILN_STATUS_OUT_OF_RANGE,
                      {"index 2"}));
  EXPECT_TRUE(IsError(kiln_model_set_profiling(nullptr, 1), KILN_STATUS_INVALID_ARGUMENT,
                      {"model"}));
}

// Graph replay (enable_graph_replay): the first execution for each input shape is recorded as a
// device graph (testdev records its kernels on a capturing stream) and later ones replay it,
// calling no kernel; results stay right, outputs are the caller's own, and a model whose capture
// fails (testdev.positive cannot be recorded) runs node by node.
class GraphReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = make_runtime({plugin_path("testdev")});
    kiln_session_options options;
    kiln_session_options_init(&options);
    const char* specs[] = {"gpu:0"};
    options.devices = specs;
    options.num_devices = 1;
    options.enable_graph_replay = 1;
    kiln_session* session = nullptr;
    ASSERT_TRUE(Ok(kiln_session_create(runtime_.get(), &options, &session)));
    session_.reset(session);
    plain_ = make_session(runtime_.get(), {"gpu:0"});
    gpu_ = find_device(runtime_.get(), "gpu:0");
    // A model (never replayed) that reads testdev's count of kernel calls.
    kiln_graph* g = nullptr;
    ASSERT_TRUE(Ok(kiln_graph_create("calls", &g)));
    calls_graph_.reset(g);
    kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{1, nullptr}}, "gpu:0");
    set_outputs(g, {add_op(g, "testdev.calls", {x}, {}, "calls", nullptr, KILN_DTYPE_FLOAT32,
                           {{1, nullptr}})});
    kiln_model* m = nullptr;
    ASSERT_TRUE(Ok(kiln_session_load(plain_.get(), g, nullptr, &m)));
    calls_model_.reset(m);
  }

  float kernel_calls() {
    TensorPtr x = make_tensor(gpu_, {1}, {0});
    kiln_tensor* in[] = {x.get()};
    kiln_tensor* out = nullptr;
    EXPECT_TRUE(Ok(kiln_model_execute(calls_model_.get(), in, 1, &out, 1)));
    TensorPtr owned(out);
    return out ? read_floats(out)[0] : -1.0f;
  }

  RuntimePtr runtime_;
  SessionPtr session_, plain_;
  kiln_device* gpu_ = nullptr;
  GraphPtr calls_graph_;
  ModelPtr calls_model_;
};

TEST_F(GraphReplay, ReplaysTheRecordedGraphForEachInputShape) {
  // x, y: [batch, 4]; outputs scale((x + y) * x, 0.5) and x + y.
  kiln_graph* g = nullptr;
  ASSERT_TRUE(Ok(kiln_graph_create("replayed", &g)));
  GraphPtr graph(g);
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{0, "batch"}, {4, nullptr}}, "gpu:0");
  kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{0, "batch"}, {4, nullptr}}, "gpu:0");
  kiln_value* sum = add_op(g, "add", {x, y}, {}, "sum");
  kiln_value* product = add_op(g, "mul", {sum, x}, {}, "product");
  kiln_attr half{};
  half.name = "factor";
  half.kind = KILN_ATTR_FLOAT;
  half.f = 0.5;
  kiln_value* scaled = add_op(g, "testdev.scale", {product}, {half}, "scaled", nullptr,
                              KILN_DTYPE_FLOAT32, {{0, "batch"}, {4, nullptr}});
  set_outputs(g, {scaled, sum});
  kiln_model* raw = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session_.get(), g, nullptr, &raw)));
  ModelPtr model(raw);

  auto run = [&](int64_t batch, float base) {
    std::vector<float> xs(static_cast<size_t>(batch * 4)), ys(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) {
      xs[i] = base + static_cast<float>(i);
      ys[i] = 2.0f * base - static_cast<float>(i);
    }
    TensorPtr tx = make_tensor(gpu_, {batch, 4}, xs);
    TensorPtr ty = make_tensor(gpu_, {batch, 4}, ys);
    kiln_tensor* in[] = {tx.get(), ty.get()};
    kiln_tensor* out[2] = {nullptr, nullptr};
    EXPECT_TRUE(Ok(kiln_model_execute(model.get(), in, 2, out, 2)));
    TensorPtr scaled_out(out[0]), sum_out(out[1]);
    std::vector<float> want_scaled, want_sum;
    for (size_t i = 0; i < xs.size(); ++i) {
      want_sum.push_back(xs[i] + ys[i]);
      want_scaled.push_back((xs[i] + ys[i]) * xs[i] * 0.5f);
    }
    EXPECT_EQ(read_floats(scaled_out.get()), want_scaled) << "batch " << batch << " base " << base;
    EXPECT_EQ(read_floats(sum_out.get()), want_sum) << "batch " << batch << " base " << base;
    return scaled_out;
  };

  const float start = kernel_calls();
  TensorPtr first = run(2, 1.0f);  // recorded: the three kernels are called once
  EXPECT_EQ(kernel_calls(), start + 3);
  TensorPtr second = run(2, 7.0f);  // replayed: no kernel call, new values
  run(2, -3.0f);
  EXPECT_EQ(kernel_calls(), start + 3);
  // Each execution's outputs are its own: the replays did not write into the first's.
  EXPECT_EQ(read_floats(first.get())[0], (1.0f + 2.0f) * 1.0f * 0.5f);
  run(5, 2.0f);  // a new shape: recorded once more
  EXPECT_EQ(kernel_calls(), start + 6);
  run(5, 4.0f);
  run(2, 0.5f);  // both graphs are kept
  EXPECT_EQ(kernel_calls(), start + 6);

  // Bad inputs still get the usual errors.
  TensorPtr bad = make_tensor(gpu_, {2, 3}, std::vector<float>(6, 1.0f));
  TensorPtr ok = make_tensor(gpu_, {2, 4}, std::vector<float>(8, 1.0f));
  kiln_tensor* in[] = {bad.get(), ok.get()};
  kiln_tensor* out[2] = {nullptr, nullptr};
  EXPECT_TRUE(IsError(kiln_model_execute(model.get(), in, 2, out, 2),
                      KILN_STATUS_INVALID_ARGUMENT, {"input 0 'x'"}));
}

TEST_F(GraphReplay, AModelWhoseCaptureFailsRunsNodeByNode) {
  kiln_graph* g = nullptr;
  ASSERT_TRUE(Ok(kiln_graph_create("unrecordable", &g)));
  GraphPtr graph(g);
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{6, nullptr}}, "gpu:0");
  kiln_value* positive = add_op(g, "testdev.positive", {x}, {}, "positive", nullptr,
                                KILN_DTYPE_FLOAT32, {{0, "n"}});
  set_outputs(g, {add_op(g, "add", {positive, positive}, {}, "twice")});
  kiln_model* raw = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session_.get(), g, nullptr, &raw)));
  ModelPtr model(raw);
  const float start = kernel_calls();
  for (int i = 0; i < 3; ++i) {
    TensorPtr in = make_tensor(gpu_, {6}, {1, -2, 3, 0, -5, static_cast<float>(i)});
    kiln_tensor* ins[] = {in.get()};
    kiln_tensor* out = nullptr;
    ASSERT_TRUE(Ok(kiln_model_execute(model.get(), ins, 1, &out, 1)));
    TensorPtr owned(out);
    std::vector<float> want = {2, 6};
    if (i > 0) want.push_back(2.0f * static_cast<float>(i));
    EXPECT_EQ(read_floats(out), want) << "execution " << i;
  }
  EXPECT_EQ(kernel_calls(), start + 3);  // the add ran every time: no graph
}

// A node whose accelerator has no kernel runs on the host: testdev has add and mul but no sub,
// so in add -> sub -> mul on gpu:0 the sub falls back to the CPU plugin, its operands are copied
// over and its result copied back for the mul. The placement report says so, and a session with
// disable_cpu_fallback refuses the graph naming the node.
TEST(CpuFallback, NodeWithoutAcceleratorKernelRunsOnTheHost) {
  const std::string cpu = cpu_plugin_path();
  if (cpu.empty()) GTEST_SKIP() << "the CPU plugin is not built";
  RuntimePtr runtime = make_runtime({plugin_path("testdev"), cpu});
  GraphPtr graph;
  {
    kiln_graph* g = nullptr;
    ASSERT_TRUE(Ok(kiln_graph_create("fallback", &g)));
    graph.reset(g);
    kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{3, nullptr}}, "gpu:0");
    kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{3, nullptr}}, "gpu:0");
    kiln_value* sum = add_op(g, "add", {x, y}, {}, "sum");
    kiln_value* diff = add_op(g, "sub", {sum, y}, {}, "diff");
    kiln_value* product = add_op(g, "mul", {diff, x}, {}, "product");
    set_outputs(g, {product});
  }
  SessionPtr session = make_session(runtime.get(), {"gpu:0"});
  kiln_model* raw = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session.get(), graph.get(), nullptr, &raw)));
  ModelPtr model(raw);

  ASSERT_EQ(kiln_model_get_node_count(model.get()), 3u);
  std::vector<std::string> devices, plugins;
  std::string sub_rejected;
  for (size_t i = 0; i < 3; ++i) {
    kiln_model_node_info info{};
    info.struct_size = sizeof info;
    ASSERT_TRUE(Ok(kiln_model_get_node_info(model.get(), i, &info)));
    devices.push_back(info.device);
    plugins.push_back(info.plugin);
    if (std::string(info.op) == "sub") sub_rejected = info.rejected;
  }
  EXPECT_EQ(devices, (std::vector<std::string>{"gpu:0", "cpu:0", "gpu:0"}));
  EXPECT_EQ(plugins, (std::vector<std::string>{"testdev", "cpu", "testdev"}));
  EXPECT_NE(sub_rejected.find("CPU fallback to cpu:0"), std::string::npos) << sub_rejected;
  EXPECT_NE(sub_rejected.find("no kernel for sub 'diff'"), std::string::npos) << sub_rejected;

  kiln_device* gpu = find_device(runtime.get(), "gpu:0");
  TensorPtr x = make_tensor(gpu, {3}, {1, 2, 3});
  TensorPtr y = make_tensor(gpu, {3}, {10, 20, 30});
  kiln_tensor* inputs[] = {x.get(), y.get()};
  kiln_tensor* out = nullptr;
  ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 2, &out, 1)));
  TensorPtr owned(out);
  EXPECT_EQ(kiln_tensor_get_device(out), gpu);
  EXPECT_EQ(read_floats(out), (std::vector<float>{1, 4, 9}));  // ((x + y) - y) * x

  kiln_session_options options;
  kiln_session_options_init(&options);
  const char* specs[] = {"gpu:0"};
  options.devices = specs;
  options.num_devices = 1;
  options.disable_cpu_fallback = 1;
  kiln_session* strict = nullptr;
  ASSERT_TRUE(Ok(kiln_session_create(runtime.get(), &options, &strict)));
  SessionPtr strict_owned(strict);
  kiln_model* refused = nullptr;
  EXPECT_TRUE(IsError(kiln_session_load(strict, graph.get(), nullptr, &refused),
                      KILN_STATUS_NOT_FOUND, {"no kernel for sub 'diff'", "gpu:0"}));
  EXPECT_EQ(refused, nullptr);
}

}  // namespace
}  // namespace kiln_test
