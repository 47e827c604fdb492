// End-to-end tests of the `kiln` command line tool: the built bin/kiln runs as a subprocess on the
// example graphs; exit codes, messages and the .npy files it writes are checked, the latter
// against the same graph executed in-process through kiln.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "kiln/kiln.hpp"
#include "npy.h"
#include "subprocess.h"

namespace kiln::e2e {
namespace {

namespace fs = std::filesystem;

std::string build_dir() {
  const char* env = std::getenv("KILN_TEST_BUILD_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return KILN_E2E_BUILD_DIR;
}

// Under ASan, LeakSanitizer's exit-time scan of GCC 12 / glibc 2.36 crashes ("Tracer caught signal
// 11", a garbage DTLS range) in processes whose dlopen'ed libraries use dynamic TLS, as the CPU
// plugin's oneDNN does. Not intercepting __tls_get_addr avoids the crash and still finds leaks.
// ASAN_OPTIONS is read at start-up, so this reaches only the kiln processes the tests start.
void avoid_lsan_dynamic_tls_crash() {
  const char* current = std::getenv("ASAN_OPTIONS");
  std::string options = current != nullptr ? current : "";
  if (options.find("intercept_tls_get_addr") != std::string::npos) return;
  options += std::string(options.empty() ? "" : ":") + "intercept_tls_get_addr=0";
  setenv("ASAN_OPTIONS", options.c_str(), 1);
}

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { avoid_lsan_dynamic_tls_crash(); }
  void SetUp() override {
    kiln_ = build_dir() + "/bin/kiln";
    mlp_ = build_dir() + "/examples/mlp.kiln";
    attention_ = build_dir() + "/examples/attention.kiln";
    ASSERT_TRUE(fs::exists(kiln_)) << kiln_ << " is not built";
    ASSERT_TRUE(fs::exists(mlp_)) << mlp_ << " is not generated";
    char pattern[] = "/tmp/kiln-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    tmp_ = pattern;
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  ProcessResult kiln(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kiln_};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_process(argv);
    EXPECT_FALSE(r.timed_out) << "kiln timed out";
    EXPECT_EQ(r.signal, 0) << "kiln died of signal " << r.signal << "\nstderr:\n" << r.err;
    return r;
  }
  // Runs kiln with --json and parses stdout; fails the test on a non-zero exit.
  nlohmann::json kiln_json(std::vector<std::string> args) {
    args.push_back("--json");
    const ProcessResult r = kiln(args);
    EXPECT_EQ(r.exit_code, 0) << "stderr:\n" << r.err;
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << r.out;
      return nlohmann::json();
    }
  }
  std::string write_npy(const std::string& name, int32_t dtype, std::vector<int64_t> shape,
                        std::vector<uint8_t> data) {
    npy::Array array;
    array.dtype = dtype;
    array.shape = std::move(shape);
    array.data = std::move(data);
    const std::string path = tmp_ + "/" + name;
    npy::write(path, array);
    return path;
  }
  std::string write_floats(const std::string& name, std::vector<int64_t> shape,
                           const std::vector<float>& values) {
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return write_npy(name, KILN_DTYPE_FLOAT32, std::move(shape), std::move(bytes));
  }
  std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = tmp_ + "/" + name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  std::string kiln_, mlp_, attention_, tmp_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
#define EXPECT_CONTAINS(text, part) \
  EXPECT_TRUE(contains(text, part)) << "expected \"" << (part) << "\" in:\n" << (text)

std::vector<float> pattern(size_t count, float phase) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = std::sin(0.37f * static_cast<float>(i) + phase);
  return values;
}

std::vector<float> floats_of(const npy::Array& array) {
  std::vector<float> out(array.data.size() / 4);
  std::memcpy(out.data(), array.data.data(), array.data.size());
  return out;
}

// ---- Version, help, usage errors --------------------------------------------------------------

TEST_F(Cli, VersionNamesLibraryAndAbis) {
  const ProcessResult r = kiln({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("kiln " + kiln::version() + " (C ABI ", 0), 0u) << r.out;
  EXPECT_CONTAINS(r.out, ", plugin ABI ");
}

TEST_F(Cli, HelpOfEachSubcommand) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"plugins", {"--json"}},
      {"inspect", {"FILE", "--json", "--optimized", "--placement", "--kernels", "--device"}},
      {"ops", {"--json"}},
      {"run",
       {"FILE", "--device", "--input", "--random-inputs", "--seed", "--dim", "--output-dir",
        "--threads", "--json"}},
      {"bench", {"FILE", "--device", "--warmup", "--iterations", "--threads", "--dim", "--json"}},
  };
  for (const auto& [command, flags] : expected) {
    SCOPED_TRACE(command);
    const ProcessResult r = kiln({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_CONTAINS(r.out, command);
    for (const std::string& flag : flags) EXPECT_CONTAINS(r.out, flag);
  }
  const ProcessResult top = kiln({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"plugins", "inspect", "run", "bench", "--log-level", "--plugin"}) {
    EXPECT_CONTAINS(top.out, command);
  }
}

TEST_F(Cli, UsageErrorsExitWith2AndSayWhy) {
  ProcessResult r = kiln({"run", mlp_, "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--frobnicate");

  r = kiln({"--frobnicate", "plugins"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--frobnicate");

  r = kiln({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "subcommand");

  r = kiln({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "frobnicate");

  r = kiln({"inspect"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "file");

  r = kiln({"--log-level", "loud", "plugins"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "loud");

  r = kiln({"bench", mlp_, "--iterations", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--iterations");

  r = kiln({"run", mlp_, "--threads", "many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "--threads");
}

// ---- plugins ----------------------------------------------------------------------------------

TEST_F(Cli, PluginsListsTheCpuPluginAndDevice) {
  const ProcessResult r = kiln({"plugins"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "cpu");
  EXPECT_CONTAINS(r.out, "cpu:0");

  const nlohmann::json j = kiln_json({"plugins"});
  bool cpu_plugin = false;
  for (const auto& p : j["plugins"]) {
    if (p["name"] == "cpu") {
      cpu_plugin = true;
      EXPECT_GE(p["num_devices"].get<int>(), 1);
      EXPECT_TRUE(fs::exists(p["path"].get<std::string>()));
      EXPECT_GT(p["num_kernels"].get<int>(), 0);
    }
    if (p["num_devices"] == 0) {
      EXPECT_NE(p["device_note"], "") << "a plugin without devices must say why: " << p.dump();
    }
  }
  EXPECT_TRUE(cpu_plugin) << j.dump(2);
  ASSERT_GE(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["spec"], "cpu:0");
  EXPECT_EQ(j["devices"][0]["is_host"], true);
  EXPECT_TRUE(j["load_errors"].is_array());
}

// The GPU plugins built into this tree are listed; one without a device says why on its own line.
TEST_F(Cli, PluginsListsEachBuiltGpuPluginWithItsDevicesOrTheReason) {
  const nlohmann::json j = kiln_json({"plugins"});
  const ProcessResult text = kiln({"plugins"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  int checked = 0;
  for (const char* name : {"cuda", "rocm"}) {
    const std::string so = build_dir() + "/lib/kiln/plugins/libkiln_" + name + ".so";
    if (!fs::exists(so)) continue;
    ++checked;
    const nlohmann::json* found = nullptr;
    for (const auto& p : j["plugins"]) {
      if (p["name"] == name) found = &p;
    }
    ASSERT_NE(found, nullptr) << name << " is built (" << so << ") but not listed: " << j.dump(2);
    EXPECT_EQ((*found)["path"], fs::canonical(so).string());
    if ((*found)["num_devices"] == 0) {
      const std::string reason = (*found)["device_note"];
      EXPECT_FALSE(reason.empty());
      EXPECT_CONTAINS(text.out, std::string("  ") + name + ": no devices: " + reason);
    }
  }
  if (checked == 0) GTEST_SKIP() << "no GPU plugin in this build (KILN_BUILD_CUDA/ROCM off)";
}

TEST_F(Cli, ExplicitPluginThatFailsIsReported) {
  const std::string not_elf = write_file("libnot_a_plugin.so", {'h', 'e', 'l', 'l', 'o'});
  ProcessResult r = kiln({"--plugin", not_elf, "plugins"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, not_elf);
  EXPECT_CONTAINS(r.out, not_elf);  // listed among the load errors too

  r = kiln({"run", mlp_, "--random-inputs", "--plugin", tmp_ + "/missing.so"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, tmp_ + "/missing.so");
}

// ---- inspect ----------------------------------------------------------------------------------

TEST_F(Cli, InspectShowsTypesOpsWeightsAndMetadata) {
  const ProcessResult r = kiln({"inspect", mlp_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "float32[batch, 64]");
  EXPECT_CONTAINS(r.out, "float32[batch, 10]");
  EXPECT_CONTAINS(r.out, "matmul");
  EXPECT_CONTAINS(r.out, "softmax");
  // 64*128 + 128 + 128*10 + 10 float32 values.
  EXPECT_CONTAINS(r.out, "38440 bytes");
  EXPECT_CONTAINS(r.out, "37.5 KiB");
  EXPECT_CONTAINS(r.out, "MLP");

  const nlohmann::json j = kiln_json({"inspect", mlp_});
  EXPECT_EQ(j["graph"], "mlp");
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["type"], "float32[batch, 64]");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse(R"(["batch", 64])"));
  EXPECT_EQ(j["ops"]["matmul"], 2);
  EXPECT_EQ(j["ops"]["add"], 2);
  EXPECT_EQ(j["ops"]["relu"], 1);
  EXPECT_EQ(j["ops"]["softmax"], 1);
  EXPECT_EQ(j["num_nodes"], 6);
  EXPECT_EQ(j["weights"]["count"], 4);
  EXPECT_EQ(j["weights"]["total_bytes"], 38440);
  EXPECT_TRUE(j["metadata"].contains("description"));

  const nlohmann::json a = kiln_json({"inspect", attention_});
  EXPECT_EQ(a["inputs"][0]["type"], "float32[1, 16, 32]");
  EXPECT_EQ(a["outputs"][0]["type"], "float32[1, 16, 32]");
  EXPECT_EQ(a["ops"]["matmul"], 6);
  EXPECT_EQ(a["ops"]["layer_norm"], 1);
  EXPECT_EQ(a["ops"]["softmax"], 1);
  EXPECT_EQ(a["weights"]["count"], 6);
}

// ---- run --------------------------------------------------------------------------------------

TEST_F(Cli, RunWithRandomInputsWritesNpyOutputs) {
  const std::string out = tmp_ + "/out";
  const nlohmann::json j = kiln_json(
      {"run", mlp_, "--random-inputs", "--dim", "batch=3", "--device", "cpu", "--output-dir", out});
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["device"]["spec"], "cpu:0");
  EXPECT_EQ(j["dims"]["batch"], 3);
  EXPECT_EQ(j["inputs"][0]["source"], "random");
  EXPECT_GT(j["latency_ms"].get<double>(), 0.0);
  const std::string file = j["outputs"][0]["file"];
  EXPECT_EQ(fs::path(file).parent_path(), fs::path(out));
  const npy::Array probs = npy::read(file);
  ASSERT_EQ(probs.shape, (std::vector<int64_t>{3, 10}));
  const std::vector<float> values = floats_of(probs);
  for (int row = 0; row < 3; ++row) {
    float sum = 0;
    for (int c = 0; c < 10; ++c) {
      EXPECT_GT(values[row * 10 + c], 0.0f);
      sum += values[row * 10 + c];
    }
    EXPECT_NEAR(sum, 1.0f, 1e-5f) << "softmax row " << row;
  }
  EXPECT_NEAR(j["outputs"][0]["mean"].get<double>(), 0.1, 1e-6);
}

TEST_F(Cli, RunDefaultsAreStated) {
  const std::string out = tmp_ + "/defaults";
  const ProcessResult r = kiln({"run", mlp_, "--random-inputs", "--output-dir", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "default");        // which device, and why
  EXPECT_CONTAINS(r.out, "batch=1");        // the symbolic dim's default
  EXPECT_CONTAINS(r.out, "--dim batch=N");  // and how to set it
  EXPECT_CONTAINS(r.out, "latency");
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);
}

TEST_F(Cli, RandomInputsFollowTheSeed) {
  auto run_with_seed = [&](const std::string& seed, const std::string& dir) {
    const ProcessResult r =
        kiln({"run", attention_, "--random-inputs", "--seed", seed, "--output-dir", dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<npy::Array> arrays;
    for (const auto& entry : fs::directory_iterator(dir)) arrays.push_back(npy::read(entry.path()));
    return arrays;
  };
  const auto a = run_with_seed("7", tmp_ + "/a");
  const auto b = run_with_seed("7", tmp_ + "/b");
  const auto c = run_with_seed("8", tmp_ + "/c");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(a[0].data, b[0].data);
  EXPECT_NE(a[0].data, c[0].data);
}

// The CLI's outputs for given .npy inputs equal the same graph executed in-process.
TEST_F(Cli, RunOutputsEqualInProcessExecution) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {mlp_, {5, 64}}, {attention_, {1, 16, 32}}};
  kiln::Runtime runtime;
  const kiln::Device host = runtime.find_device("cpu");
  kiln::Session session(runtime, kiln::SessionOptions{{"cpu"}, 1, {}});
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto& [graph_path, shape] = cases[c];
    SCOPED_TRACE(graph_path);
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    const std::vector<float> x = pattern(static_cast<size_t>(count), 0.25f);
    const std::string input = write_floats("x" + std::to_string(c) + ".npy", shape, x);
    const std::string out_dir = tmp_ + "/out" + std::to_string(c);
    const nlohmann::json j = kiln_json({"run", graph_path, "--input", "x=" + input, "--device",
                                        "cpu", "--threads", "1", "--output-dir", out_dir});
    ASSERT_TRUE(j.contains("outputs")) << j.dump();
    EXPECT_EQ(j["inputs"][0]["source"], input);

    const kiln::Model model = session.load(kiln::Graph::load(graph_path));
    const std::vector<kiln::Tensor> expected =
        model.execute({kiln::Tensor::from_vector(host, shape, x)});
    const std::vector<kiln::TensorSpec> specs = model.output_specs();
    ASSERT_EQ(j["outputs"].size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(j["outputs"][i]["name"], specs[i].name);
      const npy::Array got = npy::read(j["outputs"][i]["file"].get<std::string>());
      EXPECT_EQ(got.shape, expected[i].shape());
      const std::vector<float> want = expected[i].to_vector<float>();
      const std::vector<float> have = floats_of(got);
      ASSERT_EQ(have.size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_NEAR(have[k], want[k], 1e-6f * (1.0f + std::fabs(want[k]))) << "element " << k;
      }
    }
  }
}

// A graph with integer, bool and bfloat16 values: bfloat16 inputs accept float32 .npy data
// (rounded), bfloat16 outputs are written widened to float32, file names are sanitized.
TEST_F(Cli, RunHandlesIntegerBoolAndBfloat16Values) {
  const std::string graph_path = tmp_ + "/mixed.kiln";
  {
    kiln::Runtime runtime;
    kiln::Graph graph("mixed");
    const kiln::Value a = graph.add_input("a", kiln::DType::kFloat32, {"n"});
    const kiln::Value idx = graph.add_input("idx", kiln::DType::kInt32, {"n"});
    const kiln::Value bf = graph.add_input("bf", kiln::DType::kBFloat16, {"n"});
    graph.set_outputs(
        {graph.op("cast", {a}, kiln::Attrs().dtype("dtype", kiln::DType::kBFloat16), "a:as bf16"),
         graph.op("cast", {idx}, kiln::Attrs().dtype("dtype", kiln::DType::kBool), "idx_bool"),
         graph.op("cast", {bf}, kiln::Attrs().dtype("dtype", kiln::DType::kFloat32), "bf_f32")});
    graph.save(graph_path);
  }
  const std::vector<float> a = {1.0f, 2.5f, 1.0f / 3.0f};
  const std::vector<int32_t> idx = {0, 3, 0};
  std::vector<uint8_t> idx_bytes(12);
  std::memcpy(idx_bytes.data(), idx.data(), 12);
  const std::string out = tmp_ + "/mixed-out";
  const nlohmann::json j =
      kiln_json({"run", graph_path, "--input", "a=" + write_floats("a.npy", {3}, a), "--input",
                 "idx=" + write_npy("idx.npy", KILN_DTYPE_INT32, {3}, idx_bytes), "--input",
                 "bf=" + write_floats("bf.npy", {3}, a), "--output-dir", out});
  ASSERT_EQ(j["outputs"].size(), 3u) << j.dump(2);
  EXPECT_EQ(j["dims"]["n"], 3);

  // 1/3 in bfloat16 is 0x3eab = 0.333984375.
  const std::vector<float> rounded = {1.0f, 2.5f, 0.333984375f};
  EXPECT_EQ(j["outputs"][0]["dtype"], "bfloat16");
  EXPECT_EQ(j["outputs"][0]["file_dtype"], "float32");
  EXPECT_EQ(fs::path(j["outputs"][0]["file"].get<std::string>()).filename(), "a_as_bf16.npy");
  const npy::Array widened = npy::read(out + "/a_as_bf16.npy");
  EXPECT_EQ(widened.dtype, KILN_DTYPE_FLOAT32);
  EXPECT_EQ(floats_of(widened), rounded);

  const npy::Array bools = npy::read(out + "/idx_bool.npy");
  EXPECT_EQ(bools.dtype, KILN_DTYPE_BOOL);
  EXPECT_EQ(bools.data, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(j["outputs"][1]["first"], nlohmann::json::parse("[false, true, false]"));

  EXPECT_EQ(floats_of(npy::read(out + "/bf_f32.npy")), rounded);
  const std::string notes = j["notes"].dump();
  EXPECT_CONTAINS(notes, "rounded to bfloat16");
  EXPECT_CONTAINS(notes, "widened to float32");

  // Random values for every dtype: integers in [0, 10), bfloat16 in [-1, 1).
  const nlohmann::json r = kiln_json({"run", graph_path, "--random-inputs", "--dim", "n=64",
                                      "--output-dir", tmp_ + "/mixed-random"});
  ASSERT_EQ(r["outputs"].size(), 3u) << r.dump(2);
  EXPECT_GE(r["outputs"][0]["min"].get<double>(), -1.0);
  EXPECT_LT(r["outputs"][0]["max"].get<double>(), 1.0);
  EXPECT_GT(r["outputs"][1]["mean"].get<double>(), 0.5);  // P(idx != 0) = 0.9
  EXPECT_LT(r["outputs"][1]["mean"].get<double>(), 1.0);
}

// ---- bench ------------------------------------------------------------------------------------

TEST_F(Cli, BenchJsonHasLatencyStatistics) {
  const nlohmann::json j = kiln_json(
      {"bench", mlp_, "--device", "cpu", "--warmup", "1", "--iterations", "5", "--dim", "batch=4"});
  EXPECT_EQ(j["iterations"], 5);
  EXPECT_EQ(j["warmup"], 1);
  EXPECT_EQ(j["dims"]["batch"], 4);
  const nlohmann::json& l = j["latency_ms"];
  ASSERT_TRUE(l.contains("median")) << j.dump(2);
  EXPECT_GT(l["min"].get<double>(), 0.0);
  EXPECT_LE(l["min"].get<double>(), l["median"].get<double>());
  EXPECT_LE(l["median"].get<double>(), l["p90"].get<double>());
  EXPECT_LE(l["p90"].get<double>(), l["max"].get<double>());
  EXPECT_NEAR(j["throughput_per_s"].get<double>(), 1000.0 / l["mean"].get<double>(), 1e-6);

  const ProcessResult r = kiln({"bench", attention_, "--iterations", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "median");
  EXPECT_CONTAINS(r.out, "inferences/s");
}

// ---- Errors -----------------------------------------------------------------------------------

TEST_F(Cli, MissingGraphFile) {
  for (const char* command : {"inspect", "run", "bench"}) {
    const ProcessResult r = kiln({command, tmp_ + "/nope.kiln"});
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_CONTAINS(r.err, tmp_ + "/nope.kiln");
    EXPECT_CONTAINS(r.err, "No such file");
  }
}

TEST_F(Cli, CorruptGraphFile) {
  std::vector<uint8_t> noise(4096);
  uint32_t state = 12345;
  for (uint8_t& b : noise) b = static_cast<uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  const std::string path = write_file("noise.kiln", noise);
  ProcessResult r = kiln({"inspect", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, path);
  r = kiln({"run", path, "--random-inputs"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, path);

  // A real graph cut in half.
  std::ifstream in(mlp_, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);
  const std::string half = write_file("half.kiln", bytes);
  const ProcessResult h = kiln({"inspect", half});
  EXPECT_EQ(h.exit_code, 1);
  EXPECT_CONTAINS(h.err, half);
}

TEST_F(Cli, BadNpyInputs) {
  const std::string good = write_floats("good.npy", {2, 64}, pattern(128, 0));
  std::ifstream in(good, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());

  const std::string truncated =
      write_file("truncated.npy", std::vector<uint8_t>(bytes.begin(), bytes.end() - 10));
  ProcessResult r = kiln({"run", mlp_, "--input", "x=" + truncated});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, truncated);
  EXPECT_CONTAINS(r.err, "truncated");

  std::vector<uint8_t> magic = bytes;
  magic[0] = 'X';
  const std::string bad_magic = write_file("magic.npy", magic);
  r = kiln({"run", mlp_, "--input", "x=" + bad_magic});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, bad_magic);
  EXPECT_CONTAINS(r.err, "bad magic");

  const std::string ints =
      write_npy("ints.npy", KILN_DTYPE_INT32, {2, 64}, std::vector<uint8_t>(2 * 64 * 4, 0));
  r = kiln({"run", mlp_, "--input", "x=" + ints});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "'x'");
  EXPECT_CONTAINS(r.err, "int32");
  EXPECT_CONTAINS(r.err, "float32[batch, 64]");

  const std::string narrow = write_floats("narrow.npy", {2, 63}, pattern(126, 0));
  r = kiln({"run", mlp_, "--input", "x=" + narrow});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "'x'");
  EXPECT_CONTAINS(r.err, "(2, 63)");
  EXPECT_CONTAINS(r.err, "expected 64");

  const std::string flat = write_floats("flat.npy", {128}, pattern(128, 0));
  r = kiln({"run", mlp_, "--input", "x=" + flat});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "rank 1 vs 2");

  // --dim contradicting the file.
  r = kiln({"run", mlp_, "--input", "x=" + good, "--dim", "batch=3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "'batch' is 2, but --dim set batch=3");

  r = kiln({"run", mlp_, "--input", "x=" + tmp_ + "/absent.npy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, tmp_ + "/absent.npy");
}

TEST_F(Cli, BadInputFlags) {
  const std::string good = write_floats("good.npy", {2, 64}, pattern(128, 0));
  ProcessResult r = kiln({"run", mlp_, "--input", "y=" + good});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "'y'");
  EXPECT_CONTAINS(r.err, "inputs: x");

  r = kiln({"run", mlp_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "model input 'x' is not given");
  EXPECT_CONTAINS(r.err, "--random-inputs");

  r = kiln({"run", mlp_, "--input", good});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "NAME=VALUE");

  r = kiln({"run", mlp_, "--random-inputs", "--dim", "bach=2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "'bach'");
  EXPECT_CONTAINS(r.err, "batch");

  r = kiln({"run", mlp_, "--random-inputs", "--dim", "batch=-2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "non-negative integer");
}

TEST_F(Cli, UnknownDevice) {
  ProcessResult r = kiln({"run", mlp_, "--random-inputs", "--device", "gpu:7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "gpu:7");
  r = kiln({"bench", mlp_, "--device", "gpu:7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "gpu:7");
  r = kiln({"run", mlp_, "--random-inputs", "--device", "tpu"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "tpu");
}

TEST_F(Cli, OutputDirThatIsAFile) {
  const std::string file = write_file("occupied", {'x'});
  const ProcessResult r = kiln({"run", mlp_, "--random-inputs", "--output-dir", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, file);
}

// ---- kiln ops, kiln inspect --kernels / --optimized / --placement ---------------------------

// custom and inplace_custom name no op of their own: `kiln ops` lists the ops loaded plugins add,
// which a custom node may name.
TEST_F(Cli, OpsListsThePluginOpsCustomNodesMayName) {
  const nlohmann::json bare = kiln_json({"ops"});
  EXPECT_EQ(bare["custom"]["dispatch_ops"], (nlohmann::json::array({"custom", "inplace_custom"})));
  for (const auto& op : bare["custom"]["plugin_ops"]) {
    EXPECT_EQ(kiln::op_kind(op["name"].get<std::string>()), kiln::OpKind::kUnknown) << op;
  }
  const std::string testdev = build_dir() + "/tests/abi/plugins/libtestdev.so";
  if (!fs::exists(testdev)) GTEST_SKIP() << testdev << " is not built";
  const nlohmann::json j = kiln_json({"--plugin", testdev, "ops"});
  std::map<std::string, nlohmann::json> ops;
  for (const auto& op : j["custom"]["plugin_ops"]) ops[op["name"].get<std::string>()] = op;
  ASSERT_EQ(ops.count("testdev.scale"), 1u) << j["custom"].dump();
  ASSERT_EQ(ops["testdev.scale"]["kernels"].size(), 1u);
  EXPECT_EQ(ops["testdev.scale"]["kernels"][0]["plugin"], "testdev");
  EXPECT_EQ(ops.count("add"), 0u);  // core ops are not plugin ops
  const ProcessResult text = kiln({"--plugin", testdev, "ops"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "custom, inplace_custom: a node named by an op a plugin registers");
  EXPECT_CONTAINS(text.out, "testdev.scale");
}

TEST_F(Cli, OpsListsEveryOpAGraphMayUse) {
  const nlohmann::json j = kiln_json({"ops"});
  std::vector<std::string> listed;
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& op : j["ops"]) {
    listed.push_back(op["name"].get<std::string>());
    by_name[listed.back()] = op;
  }
  EXPECT_EQ(j["count"].get<size_t>(), listed.size());
  EXPECT_EQ(listed, kiln::graph_op_names());  // the C ABI enumeration, in process
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  // The count is the sum of the groups, and every op is in the group of its kind.
  size_t sum = 0;
  std::map<std::string, size_t> per_kind;
  for (const auto& op : j["ops"]) ++per_kind[op["kind"].get<std::string>()];
  for (const auto& [group, count] : j["groups"].items()) {
    sum += count.get<size_t>();
    EXPECT_EQ(per_kind[group], count.get<size_t>()) << group;
  }
  EXPECT_EQ(sum, listed.size());
  EXPECT_EQ(per_kind.count("unknown"), 0u);
  // Every core op is listed, and so are the ops outside the schema table.
  for (const std::string& core : kiln::op_names()) EXPECT_EQ(by_name.count(core), 1u) << core;
  EXPECT_GT(listed.size(), kiln::op_names().size());
  const std::map<std::string, std::string> kinds = {{"add", "kernel"},
                                                    {"matmul", "kernel"},
                                                    {"kiln.fused_matmul", "kernel"},
                                                    {"hann_window", "kernel"},
                                                    {"as_interleaved_complex", "kernel"},
                                                    {"constant", "executor"},
                                                    {"transfer_to", "executor"},
                                                    {"allgather", "executor"},
                                                    {"reshape", "executor"},
                                                    {"call", "control_flow"},
                                                    {"cond", "control_flow"},
                                                    {"while_loop", "control_flow"},
                                                    {"print", "effect"}};
  for (const auto& [name, kind] : kinds) {
    ASSERT_EQ(by_name.count(name), 1u) << name;
    EXPECT_EQ(by_name[name]["kind"], kind) << name;
    EXPECT_EQ(by_name[name]["executor"].get<bool>(), kind != "kernel") << name;
    EXPECT_EQ(static_cast<int>(kiln::op_kind(name)),
              static_cast<int>(kiln_get_op_kind(name.c_str())));
  }
  EXPECT_EQ(kiln::op_kind("while_loop"), kiln::OpKind::kControlFlow);
  EXPECT_EQ(kiln::op_kind("constant"), kiln::OpKind::kExecutor);
  EXPECT_EQ(kiln::op_kind("my_custom_op"), kiln::OpKind::kUnknown);
  EXPECT_EQ(kiln_get_op_kind(nullptr), KILN_OP_KIND_UNKNOWN);
  EXPECT_EQ(kiln_get_graph_op_name(kiln_get_graph_op_count()), nullptr);
  // Kernels come from the runtime's kernel list: the CPU plugin's for kernel ops, none for the
  // executor's own (constant), the ones no executor step uses for reshape.
  const nlohmann::json kernels = kiln_json({"inspect", "--kernels"});
  std::set<std::string> with_kernel;
  for (const auto& k : kernels["kernels"]) with_kernel.insert(k["op"].get<std::string>());
  for (const char* op : {"matmul", "hann_window", "as_interleaved_complex"}) {
    bool cpu = false;
    for (const auto& k : by_name[op]["kernels"]) {
      cpu = cpu || (k["plugin"] == "cpu" && k["device_api"] == "cpu");
    }
    EXPECT_TRUE(cpu) << op;
  }
  EXPECT_TRUE(by_name["constant"]["kernels"].empty());
  EXPECT_TRUE(by_name["while_loop"]["kernels"].empty());
  for (const auto& [name, op] : by_name) {
    EXPECT_EQ(!op["kernels"].empty(), with_kernel.count(name) == 1) << name;
  }
  // The Python package's composed ops are apart: not graph ops, and not counted.
  std::set<std::string> composed;
  for (const auto& op : j["python_composed"]) {
    composed.insert(op["name"].get<std::string>());
    EXPECT_FALSE(op["emits"].get<std::string>().empty());
    EXPECT_EQ(by_name.count(op["name"].get<std::string>()), 0u);
  }
  EXPECT_EQ(composed, (std::set<std::string>{"chunk", "outer", "shape_to_tensor"}));

  // Every op of MAX's list that some loaded kernel implements is a graph op (the list grows as
  // ops are added, so no count is fixed here).
  const fs::path reference =
      fs::path(build_dir()).parent_path().parent_path() / "shared/reference/max-ops.txt";
  if (fs::exists(reference)) {
    std::ifstream in(reference);
    size_t checked = 0;
    for (std::string name; std::getline(in, name);) {
      if (name.empty() || with_kernel.count(name) == 0) continue;
      ++checked;
      EXPECT_EQ(by_name.count(name), 1u) << name;
    }
    EXPECT_GT(checked, 10u);
  }

  const ProcessResult text = kiln({"ops"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "graph ops (" + std::to_string(listed.size()) + ")");
  EXPECT_CONTAINS(text.out,
                  "core ops run by plugin kernels (" + std::to_string(per_kind["kernel"]) + ")");
  EXPECT_CONTAINS(text.out, "control flow: the executor runs their subgraphs (");
  EXPECT_CONTAINS(text.out, "composed by the Python package");
  // One line per op: the name, then where it runs.
  auto line_of = [&](const std::string& op) {
    const size_t at = text.out.find("\n  " + op + " ");
    if (at == std::string::npos) return std::string();
    return text.out.substr(at + 1, text.out.find('\n', at + 1) - at - 1);
  };
  EXPECT_CONTAINS(line_of("constant"), "executor");
  EXPECT_CONTAINS(line_of("while_loop"), "executor");
  EXPECT_CONTAINS(line_of("hann_window"), "cpu (api cpu)");
  EXPECT_CONTAINS(line_of("chunk"), "python: split");
}

TEST_F(Cli, InspectKernelsListsPluginApiDtypesAndPriority) {
  const nlohmann::json j = kiln_json({"inspect", "--kernels"});
  bool found_matmul = false;
  for (const auto& k : j["kernels"]) {
    EXPECT_FALSE(k["kernel"].get<std::string>().empty());
    if (k["op"] == "matmul" && k["plugin"] == "cpu") {
      found_matmul = true;
      EXPECT_EQ(k["device_api"], "cpu");
      const auto dtypes = k["dtypes"].get<std::vector<std::string>>();
      EXPECT_NE(std::find(dtypes.begin(), dtypes.end(), "float32"), dtypes.end());
      EXPECT_TRUE(k["priority"].is_number_integer());
    }
  }
  EXPECT_TRUE(found_matmul);
  const ProcessResult text = kiln({"inspect", "--kernels"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "kiln.fused_matmul");
  const ProcessResult no_file = kiln({"inspect"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_CONTAINS(no_file.err, "FILE");
}

TEST_F(Cli, InspectOptimizedShowsTheFusedGraph) {
  const nlohmann::json on = kiln_json({"inspect", "--optimized", mlp_, "--device", "cpu"});
  const nlohmann::json off =
      kiln_json({"inspect", "--optimized", mlp_, "--device", "cpu", "--no-passes"});
  const size_t written = on["nodes_as_written"].get<size_t>();
  EXPECT_EQ(off["nodes"].size(), written);
  EXPECT_LT(on["nodes"].size(), written);  // matmul + add (+ relu) fused
  size_t fused = 0;
  for (const auto& n : on["nodes"]) fused += n["op"] == "kiln.fused_matmul" ? 1 : 0;
  EXPECT_GE(fused, 1u);
  for (const auto& n : off["nodes"]) EXPECT_NE(n["op"], "kiln.fused_matmul");
  // The optimized model computes what the graph as written computes: `kiln run` uses the passes.
  const ProcessResult text = kiln({"inspect", "--optimized", mlp_, "--device", "cpu"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "after graph passes (" + std::to_string(written) + " as written)");
}

TEST_F(Cli, InspectPlacementNamesKernelsAndWhyOthersWereNot) {
  const nlohmann::json j = kiln_json({"inspect", "--placement", mlp_, "--device", "cpu"});
  ASSERT_FALSE(j["nodes"].empty());
  for (const auto& n : j["nodes"]) {
    EXPECT_EQ(n["device"], "cpu:0");
    if (n["op"] == "constant" || n["op"] == "reshape") {
      EXPECT_TRUE(n["kernel"].is_null());
    } else {
      EXPECT_FALSE(n["kernel"].get<std::string>().empty()) << n.dump();
      EXPECT_EQ(n["plugin"], "cpu");
    }
    EXPECT_TRUE(n["passed_over"].is_array());
  }
  // A GPU plugin built here registers kernels for the same ops: they are passed over by device.
  bool any_gpu_build = false;
  const nlohmann::json plugins = kiln_json({"plugins"});  // kept: the loop borrows from it
  for (const auto& p : plugins["plugins"]) any_gpu_build |= p["name"] != "cpu";
  if (any_gpu_build) {
    bool said_device_api = false;
    for (const auto& n : j["nodes"])
      for (const auto& line : n["passed_over"])
        said_device_api |= line.get<std::string>().find("device API") != std::string::npos;
    EXPECT_TRUE(said_device_api) << j.dump(2);
  }
  const ProcessResult text = kiln({"inspect", "--placement", mlp_, "--device", "cpu"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "kernel");
  const ProcessResult bad = kiln({"inspect", "--placement", mlp_, "--device", "gpu:7"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_CONTAINS(bad.err, "gpu:7");
}

}  // namespace
}  // namespace kiln::e2e
