// Tests of kiln.hpp, the C++ wrapper the CLI and the example generator are written with: errors
// become kiln::Error with the C status code, tensors are shared by reference counting, and a
// graph built, saved, loaded and executed through it gives the expected numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

namespace {

TEST(KilnHpp, FailingCallsThrowErrorWithCodeAndMessage) {
  try {
    kiln::Graph::load("/nonexistent/graph.kiln");
    FAIL() << "no exception";
  } catch (const kiln::Error& e) {
    EXPECT_NE(e.code(), KILN_STATUS_OK);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/graph.kiln"), std::string::npos) << e.what();
    EXPECT_STRNE(e.code_name(), "");
  }
  kiln::Runtime runtime;
  EXPECT_THROW(runtime.find_device("gpu:99"), kiln::Error);
  kiln::Graph graph("g");
  const kiln::Value x = graph.add_input("x", kiln::DType::kFloat32, {"n", 4});
  try {
    graph.op("no_such_op", {x});
    FAIL() << "no exception";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_op"), std::string::npos) << e.what();
  }
  EXPECT_THROW(graph.add_input("x", kiln::DType::kFloat32, {1}), kiln::Error);  // taken name
}

TEST(KilnHpp, TensorsAreSharedByReference) {
  kiln::Runtime runtime;
  const kiln::Device cpu = runtime.find_device("cpu");
  EXPECT_TRUE(cpu.is_host());
  EXPECT_EQ(cpu.spec(), "cpu:0");
  kiln::Tensor copy;
  {
    const kiln::Tensor t = kiln::Tensor::from_vector(cpu, {2, 2}, std::vector<int32_t>{1, 2, 3, 4});
    copy = t;  // retains
  }            // t released; copy keeps the storage alive
  EXPECT_EQ(copy.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(copy.dtype(), kiln::DType::kInt32);
  EXPECT_EQ(copy.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_THROW(copy.to_vector<float>(), kiln::Error);  // wrong element type
  kiln::Tensor moved = std::move(copy);
  EXPECT_FALSE(copy);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(moved.num_elements(), 4);
  EXPECT_THROW(kiln::Tensor::from_host(cpu, kiln::DType::kFloat32, {3}, "ab", 2), kiln::Error);
}

TEST(KilnHpp, BuildSaveLoadExecute) {
  kiln::Runtime runtime;
  const kiln::Device cpu = runtime.find_device("cpu");
  const std::string path = testing::TempDir() + "/kiln_hpp_test.kiln";
  {
    kiln::Graph graph("affine");
    const kiln::Value x = graph.add_input("x", kiln::DType::kFloat32, {"batch", 2});
    const kiln::Value w = graph.add_weight(
        "w", kiln::Tensor::from_vector(cpu, {2, 2}, std::vector<float>{1, 2, 3, 4}));
    const kiln::Value y = graph.op("softmax", {graph.op("matmul", {x, w}, {}, "xw")},
                                   kiln::Attrs().i("axis", -1), "y");
    EXPECT_EQ(y.spec().to_string(), "float32[batch, 2]");
    graph.set_outputs({y});
    graph.set_metadata("description", "test");
    graph.save(path);
  }
  const kiln::Graph graph = kiln::Graph::load(path);
  std::remove(path.c_str());
  EXPECT_EQ(graph.name(), "affine");
  EXPECT_EQ(graph.metadata("description"), "test");
  EXPECT_EQ(graph.metadata("missing"), std::nullopt);
  ASSERT_EQ(graph.nodes().size(), 2u);
  EXPECT_EQ(graph.nodes()[0].op, "matmul");
  ASSERT_EQ(graph.weights().size(), 1u);
  EXPECT_EQ(graph.weights()[0].byte_size, 16u);

  kiln::Session session(runtime, kiln::SessionOptions{{"cpu"}, 1, {}});
  const kiln::Model model = session.load(graph);
  ASSERT_EQ(model.input_specs().size(), 1u);
  EXPECT_EQ(model.input_specs()[0].dims[0].expr, "batch");
  // x = [[1, 0], [0, 1]]: xw = w; softmax of rows [1, 2] and [3, 4].
  const std::vector<kiln::Tensor> out =
      model.execute({kiln::Tensor::from_vector(cpu, {2, 2}, std::vector<float>{1, 0, 0, 1})});
  ASSERT_EQ(out.size(), 1u);
  const std::vector<float> y = out[0].to_vector<float>();
  const float low = 1.0f / (1.0f + std::exp(1.0f));
  ASSERT_EQ(y.size(), 4u);
  EXPECT_NEAR(y[0], low, 1e-6f);
  EXPECT_NEAR(y[1], 1.0f - low, 1e-6f);
  EXPECT_NEAR(y[2], low, 1e-6f);
  EXPECT_NEAR(y[3], 1.0f - low, 1e-6f);
}

}  // namespace
