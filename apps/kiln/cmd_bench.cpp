// kiln bench: time repeated executions of a .kiln graph on random inputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>

#include "commands.h"
#include "format.h"
#include "loaded_model.h"

namespace kiln::cli {
namespace {

struct BenchOptions {
  ModelRequest model;
  int warmup = 3;
  int iterations = 20;
  bool json = false;
  bool profile = false;
};

// One node's share of a profiled run: executions are timed node by node (kiln_model_set_profiling).
struct NodeTime {
  ModelNodeInfo node;
  uint64_t count = 0;
  double total_ms = 0;
};

// Runs `iterations` more executions with per-node timing on; nodes by total time, largest first.
std::vector<NodeTime> profile_nodes(const LoadedModel& loaded, int iterations) {
  const Model& model = *loaded.model;
  model.set_profiling(true);
  for (int i = 0; i < iterations; ++i) loaded.model->execute(loaded.inputs);
  model.set_profiling(false);
  const std::vector<ModelNodeInfo> nodes = model.nodes();
  const std::vector<kiln_node_profile> times = model.profile();
  std::vector<NodeTime> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    out.push_back({nodes[i], times[i].count, times[i].total_seconds * 1e3});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const NodeTime& a, const NodeTime& b) { return a.total_ms > b.total_ms; });
  return out;
}

struct LatencyStats {
  double min, median, p90, mean, max, stddev;
};

LatencyStats summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  LatencyStats s{};
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  // Nearest rank: the smallest sample with at least 90% of the samples at or below it.
  s.p90 = samples[static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1];
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  double squares = 0;
  for (double v : samples) squares += (v - s.mean) * (v - s.mean);
  s.stddev = n > 1 ? std::sqrt(squares / static_cast<double>(n - 1)) : 0.0;
  return s;
}

int run_bench(const GlobalOptions& global, BenchOptions options) {
  options.model.inputs.random = true;
  LoadedModel loaded = load_model(global, options.model);
  const Device& device = loaded.device.device;

  for (int i = 0; i < options.warmup; ++i) {
    loaded.model->execute(loaded.inputs);
    device.synchronize();
  }
  std::vector<double> samples;
  for (int i = 0; i < options.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    loaded.model->execute(loaded.inputs);
    device.synchronize();
    samples.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  const LatencyStats s = summarize(samples);
  const double throughput = s.mean > 0 ? 1000.0 / s.mean : 0.0;
  std::vector<NodeTime> profile;
  if (options.profile) profile = profile_nodes(loaded, options.iterations);
  double profiled_ms = 0;
  for (const NodeTime& t : profile) profiled_ms += t.total_ms;

  if (options.json) {
    nlohmann::ordered_json out;
    out["file"] = options.model.file;
    out["graph"] = loaded.graph->name();
    out["device"] = {{"spec", loaded.device.spec},
                     {"name", device.name()},
                     {"api", device.api()},
                     {"default", options.model.device.empty()},
                     {"reason", loaded.device.reason}};
    out["threads"] = options.model.threads;
    out["dims"] = loaded.prepared.dims;
    out["warmup"] = options.warmup;
    out["iterations"] = options.iterations;
    out["latency_ms"] = {{"min", s.min},   {"median", s.median}, {"p90", s.p90},
                         {"mean", s.mean}, {"max", s.max},       {"stddev", s.stddev}};
    out["throughput_per_s"] = throughput;
    if (options.profile) {
      nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
      for (const NodeTime& t : profile) {
        nodes.push_back({{"node", t.node.name},
                         {"op", t.node.op},
                         {"device", t.node.device},
                         {"kernel", t.node.kernel},
                         {"count", t.count},
                         {"total_ms", t.total_ms},
                         {"mean_us", t.count ? t.total_ms * 1e3 / static_cast<double>(t.count) : 0.0},
                         {"share", profiled_ms > 0 ? t.total_ms / profiled_ms : 0.0}});
      }
      out["profile"] = nodes;
    }
    out["notes"] = loaded.prepared.notes;
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }
  std::cout << "model       " << options.model.file << " (graph '" << loaded.graph->name()
            << "')\n";
  std::cout << "device      " << loaded.device.spec << " (" << device.name() << ")";
  if (!loaded.device.reason.empty()) std::cout << " — " << loaded.device.reason;
  std::cout << '\n';
  if (!loaded.prepared.dims.empty()) {
    std::cout << "dims       ";
    for (const auto& [name, value] : loaded.prepared.dims) std::cout << ' ' << name << '=' << value;
    std::cout << '\n';
  }
  std::cout << "iterations  " << options.iterations << " (after " << options.warmup
            << " warm-up)\n";
  std::cout << "latency ms  min " << format_number(s.min, 4) << "  median "
            << format_number(s.median, 4) << "  p90 " << format_number(s.p90, 4) << "  mean "
            << format_number(s.mean, 4) << "  max " << format_number(s.max, 4) << '\n';
  std::cout << "throughput  " << format_number(throughput, 5) << " inferences/s\n";
  if (options.profile) {
    std::cout << "profile     " << options.iterations
              << " more executions, each node timed on its own (the device waits after each)\n";
    std::cout << "  share  mean us     op                   node                 device  kernel\n";
    for (const NodeTime& t : profile) {
      const double mean_us = t.count ? t.total_ms * 1e3 / static_cast<double>(t.count) : 0.0;
      std::printf("  %5.1f%% %-10s  %-20s %-20s %-7s %s\n",
                  profiled_ms > 0 ? 100.0 * t.total_ms / profiled_ms : 0.0,
                  format_number(mean_us, 4).c_str(), t.node.op.c_str(), t.node.name.c_str(),
                  t.node.device.c_str(), t.node.kernel.c_str());
    }
  }
  for (const std::string& note : loaded.prepared.notes) std::cout << "note: " << note << '\n';
  return kExitOk;
}

}  // namespace

Command add_bench_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* sub =
      app.add_subcommand("bench", "Time repeated executions of a .kiln graph on random inputs");
  add_model_options(sub, options->model);
  sub->add_option("--warmup", options->warmup, "Untimed executions first (default 3)")
      ->type_name("N")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--iterations", options->iterations, "Timed executions (default 20)")
      ->type_name("N")
      ->check(CLI::Range(1, 10000000));
  sub->add_flag("--json", options->json, "Print JSON");
  sub->add_flag("--profile", options->profile,
                "Then time each node over --iterations more executions (slower: the device "
                "waits after every node) and list them by total time");
  return {sub, [&global, options] { return run_bench(global, *options); }};
}

}  // namespace kiln::cli
