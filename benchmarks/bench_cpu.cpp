// kiln CPU benchmarks. Every kiln number sits beside its ceiling measured in the same process:
//   matmul      kiln's one-node model vs oneDNN's dnnl_sgemm (the library kiln's kernel calls);
//   add/softmax/layer_norm on 16 MiB tensors vs memcpy of the same bytes (bandwidth bound);
//   dispatch    a chain of 1,000 tiny ops: the executor's cost per op.
// Run through scripts/bench_cpu.sh; the plugin comes from the build (KILN_PLUGIN_PATH).
#include <benchmark/benchmark.h>
#include <dnnl.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"

#ifdef KILN_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

namespace {

kiln::Runtime& runtime() {
  static kiln::Runtime* r = new kiln::Runtime();
  return *r;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A model over `graph` on the CPU with `threads` kernel threads, and random inputs for it.
struct Prepared {
  std::unique_ptr<kiln::Session> session;
  std::unique_ptr<kiln::Model> model;
  std::vector<kiln::Tensor> inputs;
};

Prepared prepare(const kiln::Graph& graph, int threads, bool passes = true) {
  Prepared p;
  kiln::SessionOptions options;
  options.devices = {"cpu"};
  options.num_threads = threads;
  options.graph_passes = passes;
  p.session = std::make_unique<kiln::Session>(runtime(), options);
  p.model = std::make_unique<kiln::Model>(p.session->load(graph));
  const kiln::Device cpu = runtime().find_device("cpu");
  uint32_t seed = 1;
  for (const kiln::TensorSpec& spec : p.model->input_specs()) {
    size_t n = 1;
    std::vector<int64_t> shape;
    for (const kiln::Dim& d : spec.dims) {
      shape.push_back(d.size);
      n *= static_cast<size_t>(d.size);
    }
    p.inputs.push_back(kiln::Tensor::from_vector(cpu, shape, random_floats(n, seed++)));
  }
  return p;
}

void run_model(benchmark::State& state, const Prepared& p) {
  for (auto _ : state) {
    std::vector<kiln::Tensor> out = p.model->execute(p.inputs);
    benchmark::DoNotOptimize(out);
  }
}

// ---- matmul: kiln vs dnnl_sgemm --------------------------------------------------------------

void BM_KilnMatmul(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  kiln::Graph g("matmul");
  const kiln::Value a = g.add_input("a", kiln::DType::kFloat32, {n, n});
  const kiln::Value b = g.add_input("b", kiln::DType::kFloat32, {n, n});
  g.set_outputs({g.op("matmul", {a, b})});
  const Prepared p = prepare(g, threads);
  run_model(state, p);
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_DnnlSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
#ifdef KILN_BENCH_HAVE_OPENMP
  omp_set_num_threads(threads);
#else
  if (threads != 1) {
    state.SkipWithError("built without OpenMP: cannot set oneDNN's thread count");
    return;
  }
#endif
  const std::vector<float> a = random_floats(n * n, 1), b = random_floats(n * n, 2);
  std::vector<float> c(n * n);
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {256, 512, 1024, 2048})
    for (int64_t t : {1, 2}) b->Args({n, t});
  b->ArgNames({"n", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_KilnMatmul)->Apply(matmul_args);
BENCHMARK(BM_DnnlSgemm)->Apply(matmul_args);

// ---- bandwidth-bound ops on 16 MiB vs memcpy -------------------------------------------------

constexpr int64_t kRows = 2048, kCols = 2048;  // 4 Mi float32 = 16 MiB
constexpr int64_t kBytes = kRows * kCols * 4;

void BM_Memcpy16MiB(benchmark::State& state) {
  std::vector<float> src = random_floats(kRows * kCols, 3), dst(kRows * kCols);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);  // read + write
}

void BM_KilnAdd16MiB(benchmark::State& state) {
  kiln::Graph g("add");
  const kiln::Value a = g.add_input("a", kiln::DType::kFloat32, {kRows, kCols});
  const kiln::Value b = g.add_input("b", kiln::DType::kFloat32, {kRows, kCols});
  g.set_outputs({g.op("add", {a, b})});
  const Prepared p = prepare(g, static_cast<int>(state.range(0)));
  run_model(state, p);
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);  // two reads + one write
}

void BM_KilnSoftmax16MiB(benchmark::State& state) {
  kiln::Graph g("softmax");
  const kiln::Value a = g.add_input("a", kiln::DType::kFloat32, {kRows, kCols});
  g.set_outputs({g.op("softmax", {a}, kiln::Attrs().i("axis", -1))});
  const Prepared p = prepare(g, static_cast<int>(state.range(0)));
  run_model(state, p);
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

void BM_KilnLayerNorm16MiB(benchmark::State& state) {
  kiln::Graph g("layer_norm");
  const kiln::Value a = g.add_input("a", kiln::DType::kFloat32, {kRows, kCols});
  const kiln::Value gamma = g.add_input("gamma", kiln::DType::kFloat32, {kCols});
  const kiln::Value beta = g.add_input("beta", kiln::DType::kFloat32, {kCols});
  g.set_outputs({g.op("layer_norm", {a, gamma, beta}, kiln::Attrs().f("epsilon", 1e-5))});
  const Prepared p = prepare(g, static_cast<int>(state.range(0)));
  run_model(state, p);
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

BENCHMARK(BM_Memcpy16MiB)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_KilnAdd16MiB)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_KilnSoftmax16MiB)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_KilnLayerNorm16MiB)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---- dispatch: 1,000 tiny ops -----------------------------------------------------------------

void BM_KilnDispatch1000Ops(benchmark::State& state) {
  constexpr int kOps = 1000;
  kiln::Graph g("chain");
  const kiln::Value x = g.add_input("x", kiln::DType::kFloat32, {16});
  const kiln::Value one = g.add_input("one", kiln::DType::kFloat32, {16});
  kiln::Value v = x;
  for (int i = 0; i < kOps; ++i) v = g.op(i % 2 == 0 ? "add" : "mul", {v, one});
  g.set_outputs({v});
  const Prepared p = prepare(g, 1);
  run_model(state, p);
  state.counters["ns/op"] = benchmark::Counter(
      kOps, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert,
      benchmark::Counter::kIs1000);
}
BENCHMARK(BM_KilnDispatch1000Ops)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
