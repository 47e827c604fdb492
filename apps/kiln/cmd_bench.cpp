// kiln bench: time repeated executions of a .kiln graph on random inputs.
#include <algorithm>
#include <chrono>
#include <cmath>
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
};

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
  return {sub, [&global, options] { return run_bench(global, *options); }};
}

}  // namespace kiln::cli
