// Many threads executing one model at once get exactly the results of one thread.
#include <cmath>
#include <thread>

#include "abi_test_util.h"

namespace kiln_test {
namespace {

// A chain of adds and muls over [n, 1024] float32 with inputs x and y.
GraphPtr chain_graph() {
  kiln_graph* g = nullptr;
  EXPECT_TRUE(Ok(kiln_graph_create("chain", &g)));
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{0, "n"}, {1024, nullptr}});
  kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{0, "n"}, {1024, nullptr}});
  kiln_value* v = x;
  for (int i = 0; i < 12; ++i) v = add_op(g, i % 3 == 2 ? "mul" : "add", {v, i % 2 ? x : y});
  set_outputs(g, {v});
  return GraphPtr(g);
}

void check_concurrent_results(kiln_runtime* runtime, const std::string& device_spec) {
  SessionPtr session = make_session(runtime, {device_spec});
  GraphPtr graph = chain_graph();
  kiln_model* raw = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session.get(), graph.get(), nullptr, &raw)));
  ModelPtr model(raw);
  kiln_device* device = find_device(runtime, device_spec);

  // Different inputs per thread (n varies too), so a mix-up between executions would show.
  constexpr int kThreads = 8;
  constexpr int kRuns = 40;
  std::vector<TensorPtr> xs, ys;
  std::vector<std::vector<float>> expected;
  for (int t = 0; t < kThreads; ++t) {
    const int64_t n = 1 + t % 3;
    std::vector<float> xv(static_cast<size_t>(n * 1024)), yv(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) {
      xv[i] = std::sin(0.1f * static_cast<float>(i + 7 * t));
      yv[i] = std::cos(0.3f * static_cast<float>(i + 3 * t));
    }
    xs.push_back(make_tensor(device, {n, 1024}, xv));
    ys.push_back(make_tensor(device, {n, 1024}, yv));
    kiln_tensor* inputs[] = {xs.back().get(), ys.back().get()};
    kiln_tensor* out = nullptr;
    ASSERT_TRUE(Ok(kiln_model_execute(model.get(), inputs, 2, &out, 1)));
    TensorPtr owned(out);
    expected.push_back(read_floats(out));
  }

  std::vector<int> mismatches(kThreads, 0), failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      kiln_tensor* inputs[] = {xs[t].get(), ys[t].get()};
      for (int r = 0; r < kRuns; ++r) {
        kiln_tensor* out = nullptr;
        kiln_status* s = kiln_model_execute(model.get(), inputs, 2, &out, 1);
        if (s != nullptr) {
          kiln_status_destroy(s);
          failures[t]++;
          continue;
        }
        std::vector<float> got(expected[t].size());
        kiln_status* r2 = kiln_tensor_read(out, got.data(), got.size() * sizeof(float));
        if (r2 != nullptr || got != expected[t]) mismatches[t]++;
        kiln_status_destroy(r2);
        kiln_tensor_release(out);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  }
}

TEST(Concurrency, EightThreadsOnTestdevMatchOneThread) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  check_concurrent_results(runtime.get(), "gpu:0");
}

TEST(Concurrency, EightThreadsOnTheCpuPluginMatchOneThread) {
  const std::string cpu = cpu_plugin_path();
  if (cpu.empty()) GTEST_SKIP() << "the CPU plugin is not built";
  RuntimePtr runtime = make_runtime({cpu});
  if (kiln_runtime_get_plugin_count(runtime.get()) == 0) {
    GTEST_SKIP() << "the CPU plugin does not load";
  }
  check_concurrent_results(runtime.get(), "cpu");
}

}  // namespace
}  // namespace kiln_test
