// make_examples: writes the example graphs (mlp.kiln, attention.kiln) into a folder, built with
// kiln.hpp. Weights are deterministic pseudo-random numbers from a fixed seed, so every build
// writes the same files.
//   kiln_make_examples OUTPUT_DIR
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

namespace {

// splitmix64, so the weights do not depend on the standard library's distributions.
class WeightRandom {
 public:
  explicit WeightRandom(uint64_t seed) : state_(seed) {}
  // Uniform in [-limit, limit).
  float uniform(float limit) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (static_cast<float>(z >> 40) * 0x1.0p-23f - 1.0f) * limit;
  }

 private:
  uint64_t state_;
};

constexpr uint64_t kSeed = 20261122;

class Builder {
 public:
  Builder(kiln::Graph& graph, const kiln::Device& host, uint64_t seed)
      : graph_(graph), host_(host), random_(seed) {}

  // A weight of uniform values in [-limit, limit), plus `offset`.
  kiln::Value weight(const std::string& name, const std::vector<int64_t>& shape, float limit,
                     float offset = 0.0f) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::vector<float> values(static_cast<size_t>(count));
    for (float& v : values) v = offset + random_.uniform(limit);
    return graph_.add_weight(name, kiln::Tensor::from_vector(host_, shape, values));
  }
  // x @ w + b with PyTorch's default Linear initialization range, 1/sqrt(fan_in).
  kiln::Value linear(const std::string& name, kiln::Value x, int64_t in, int64_t out) {
    const float limit = 1.0f / std::sqrt(static_cast<float>(in));
    kiln::Value w = weight(name + ".weight", {in, out}, limit);
    kiln::Value b = weight(name + ".bias", {out}, limit);
    return graph_.op("add", {graph_.op("matmul", {x, w}, {}, name + ".matmul"), b}, {}, name);
  }
  kiln::Value scalar(const std::string& name, float value) {
    const kiln::Tensor t = kiln::Tensor::from_vector(host_, {}, std::vector<float>{value});
    return graph_.op("constant", {}, kiln::Attrs().tensor("value", t), name);
  }

 private:
  kiln::Graph& graph_;
  kiln::Device host_;
  WeightRandom random_;
};

// x: float32[batch, 64] -> Linear(64, 128) -> relu -> Linear(128, 10) -> softmax.
void make_mlp(const kiln::Device& host, const std::string& path) {
  kiln::Graph graph("mlp");
  Builder b(graph, host, kSeed);
  kiln::Value x = graph.add_input("x", kiln::DType::kFloat32, {"batch", 64});
  kiln::Value h = graph.op("relu", {b.linear("fc1", x, 64, 128)}, {}, "fc1.relu");
  kiln::Value logits = b.linear("fc2", h, 128, 10);
  kiln::Value probs = graph.op("softmax", {logits}, kiln::Attrs().i("axis", -1), "probs");
  graph.set_outputs({probs});
  graph.set_metadata("description",
                     "Two-layer MLP classifier: Linear(64, 128), relu, Linear(128, 10), softmax. "
                     "Input x is float32[batch, 64]; output probs is float32[batch, 10].");
  graph.set_metadata("producer", "kiln_make_examples " + kiln::version());
  graph.save(path);
}

// A single-head self-attention block with a residual connection and layer norm:
//   q, k, v = x Wq, x Wk, x Wv;  a = softmax(q k^T / sqrt(32)) v;  y = layer_norm(a Wo + x).
void make_attention(const kiln::Device& host, const std::string& path) {
  constexpr int64_t kModel = 32;
  kiln::Graph graph("attention");
  Builder b(graph, host, kSeed + 1);
  const float limit = 1.0f / std::sqrt(static_cast<float>(kModel));
  kiln::Value x = graph.add_input("x", kiln::DType::kFloat32, {1, 16, kModel});
  kiln::Value q = graph.op("matmul", {x, b.weight("wq", {kModel, kModel}, limit)}, {}, "q");
  kiln::Value k = graph.op("matmul", {x, b.weight("wk", {kModel, kModel}, limit)}, {}, "k");
  kiln::Value v = graph.op("matmul", {x, b.weight("wv", {kModel, kModel}, limit)}, {}, "v");
  kiln::Value kt = graph.op("transpose", {k}, kiln::Attrs().i("axis_1", -2).i("axis_2", -1), "kt");
  kiln::Value scores = graph.op("matmul", {q, kt}, {}, "scores");
  kiln::Value scale = b.scalar("scale", 1.0f / std::sqrt(static_cast<float>(kModel)));
  kiln::Value scaled = graph.op("mul", {scores, scale}, {}, "scaled_scores");
  kiln::Value weights = graph.op("softmax", {scaled}, kiln::Attrs().i("axis", -1), "attn");
  kiln::Value context = graph.op("matmul", {weights, v}, {}, "context");
  kiln::Value projected =
      graph.op("matmul", {context, b.weight("wo", {kModel, kModel}, limit)}, {}, "proj");
  kiln::Value residual = graph.op("add", {projected, x}, {}, "residual");
  kiln::Value gamma = b.weight("ln.gamma", {kModel}, 0.1f, 1.0f);
  kiln::Value beta = b.weight("ln.beta", {kModel}, 0.1f);
  kiln::Value y =
      graph.op("layer_norm", {residual, gamma, beta}, kiln::Attrs().f("epsilon", 1e-5), "y");
  graph.set_outputs({y});
  graph.set_metadata("description",
                     "Single-head self-attention block (d_model 32, 16 tokens): q/k/v "
                     "projections, scaled dot-product softmax attention, output projection, "
                     "residual add and layer norm. Input x is float32[1, 16, 32].");
  graph.set_metadata("producer", "kiln_make_examples " + kiln::version());
  graph.save(path);
}

// Tensors need the host device. Graph building needs no plugin, so try without discovery
// first; fall back to discovery when the host device comes from the CPU plugin.
kiln::Runtime open_runtime() {
  kiln::RuntimeOptions options;
  options.discover_plugins = false;
  kiln::Runtime runtime(options);
  for (const kiln::Device& device : runtime.devices()) {
    if (device.is_host()) return runtime;
  }
  return kiln::Runtime();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kiln_make_examples OUTPUT_DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  try {
    std::filesystem::create_directories(dir);
    kiln::Runtime runtime = open_runtime();
    const kiln::Device host = runtime.find_device("cpu");
    make_mlp(host, (dir / "mlp.kiln").string());
    make_attention(host, (dir / "attention.kiln").string());
  } catch (const std::exception& e) {
    std::cerr << "kiln_make_examples: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
