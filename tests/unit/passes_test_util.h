// Shared by the tests/unit/passes_*_test.cpp files: building small graphs, a session on the CPU
// plugin of this build, and executing a graph with the passes on and off.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/graph_builder.h"
#include "passes/passes.h"
#include "runtime/executor.h"
#include "runtime/model.h"
#include "runtime/runtime.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace kiln::passes_test {

inline TensorType f32(std::vector<int64_t> shape) {
  TensorType t;
  t.dtype = DType::kFloat32;
  for (int64_t d : shape) t.shape.push_back(d);
  return t;
}

inline HostTensor host_f32(const std::vector<int64_t>& shape, const std::vector<float>& data) {
  HostTensor h;
  h.dtype = DType::kFloat32;
  h.shape = shape;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  h.bytes = std::make_shared<const std::vector<uint8_t>>(p, p + data.size() * sizeof(float));
  return h;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A graph under construction; every call must succeed.
class Builder {
 public:
  Builder() : b_(&graph) {}

  ValueId input(const std::string& name, std::vector<int64_t> shape) {
    auto id = b_.add_input(name, f32(std::move(shape)));
    EXPECT_TRUE(id.is_ok()) << id.status().to_string();
    return *id;
  }
  ValueId op(const std::string& op, std::vector<ValueId> inputs, AttrMap attrs = {}) {
    Node node;
    node.op = op;
    node.inputs = std::move(inputs);
    node.attrs = std::move(attrs);
    auto out = b_.add_node(std::move(node), {});
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return out.is_ok() ? out->at(0) : -1;
  }
  ValueId constant(const std::vector<int64_t>& shape, const std::vector<float>& data) {
    AttrMap attrs;
    attrs["value"].value = host_f32(shape, data);
    return op("constant", {}, std::move(attrs));
  }
  void outputs(const std::vector<ValueId>& ids) {
    Status s = b_.set_outputs(ids);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  }

  Graph graph;

 private:
  GraphBuilder b_;
};

inline size_t count_op(const Graph& g, const std::string& op) {
  size_t n = 0;
  for (const Node& node : g.nodes) n += node.op == op ? 1 : 0;
  return n;
}

// A runtime with only this build's CPU plugin (KILN_TEST_BUILD_DIR, set by ctest), or null.
inline std::shared_ptr<Runtime> cpu_runtime() {
  const char* build = std::getenv("KILN_TEST_BUILD_DIR");
  if (build == nullptr) return nullptr;
  RuntimeOptions options;
  options.discover_plugins = false;
  options.plugin_paths = {std::string(build) + "/lib/kiln/plugins/libkiln_cpu.so"};
  auto runtime = Runtime::create(options);
  return runtime.is_ok() ? *runtime : nullptr;
}

inline std::shared_ptr<Session> cpu_session(const std::shared_ptr<Runtime>& runtime, bool passes) {
  SessionOptions options;
  options.devices = {"cpu"};
  options.num_threads = 2;
  options.graph_passes = passes;
  auto session = Session::create(runtime, options);
  EXPECT_TRUE(session.is_ok()) << session.status().to_string();
  return session.is_ok() ? *session : nullptr;
}

struct RunResult {
  std::shared_ptr<Model> model;
  std::vector<std::vector<float>> outputs;
};

// Loads `graph` into `session` and executes it on float32 host inputs.
inline RunResult run_graph(const std::shared_ptr<Session>& session, const Graph& graph,
                           const std::vector<std::vector<float>>& inputs) {
  RunResult r;
  auto model = session->load(graph, LoadOptions());
  EXPECT_TRUE(model.is_ok()) << model.status().to_string();
  if (!model.is_ok()) return r;
  r.model = *model;
  kiln_device* host = session->devices().at(0);
  std::vector<TensorPtr> tensors;
  std::vector<const kiln_tensor*> raw;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& type = graph.value(graph.inputs[i]).type;
    std::vector<int64_t> shape;
    for (const Dim& d : type.shape) shape.push_back(d.value());
    auto t = tensor_create_from_host(host, DType::kFloat32, shape, inputs[i].data(),
                                     inputs[i].size() * sizeof(float));
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    tensors.push_back(std::move(t).value());
    raw.push_back(tensors.back().get());
  }
  std::vector<kiln_tensor*> outs(graph.outputs.size(), nullptr);
  Status s = execute_model(*r.model, raw.data(), raw.size(), outs.data(), outs.size());
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  if (!s.is_ok()) return r;
  for (kiln_tensor* t : outs) {
    TensorPtr owned(t);
    const float* p = static_cast<const float*>(owned->data());
    r.outputs.emplace_back(p, p + owned->num_elements);
  }
  return r;
}

inline void expect_near(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], b[i], tol * (1.f + std::abs(b[i]))) << "element " << i;
  }
}

}  // namespace kiln::passes_test
