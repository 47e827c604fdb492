// Plugin loading through kiln.h: every kind of broken plugin gets an error naming the file and
// the reason, the runtime stays usable, scores choose among builds, and kiln.yaml is honoured.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "abi_test_util.h"
#include "kiln/kiln_plugin.h"

namespace kiln_test {
namespace {

namespace fs = std::filesystem;

std::string load_error_message(kiln_runtime* runtime, const std::string& path_part) {
  for (size_t i = 0; i < kiln_runtime_get_load_error_count(runtime); ++i) {
    const char* path = nullptr;
    const char* message = nullptr;
    EXPECT_TRUE(Ok(kiln_runtime_get_load_error(runtime, i, &path, &message)));
    if (std::string(path).find(path_part) != std::string::npos) return message;
  }
  return "";
}

bool has_plugin(kiln_runtime* runtime, const std::string& name, std::string* path = nullptr) {
  for (size_t i = 0; i < kiln_runtime_get_plugin_count(runtime); ++i) {
    kiln_plugin_info info{};
    info.struct_size = sizeof info;
    EXPECT_TRUE(Ok(kiln_runtime_get_plugin_info(runtime, i, &info)));
    if (name == info.name) {
      if (path) *path = info.path;
      return true;
    }
  }
  return false;
}

// Runs add_mul on testdev in `runtime`: the runtime still works after whatever preceded.
void expect_testdev_executes(kiln_runtime* runtime) {
  SessionPtr session = make_session(runtime, {"testdev:0"});
  ASSERT_NE(session, nullptr);
  GraphPtr graph = add_mul_graph(nullptr);
  kiln_model* model = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session.get(), graph.get(), nullptr, &model)));
  ModelPtr owned(model);
  kiln_device* device = find_device(runtime, "testdev:0");
  TensorPtr x = make_tensor(device, {1, 4}, {1, 2, 3, 4});
  TensorPtr y = make_tensor(device, {1, 4}, {10, 20, 30, 40});
  kiln_tensor* inputs[] = {x.get(), y.get()};
  kiln_tensor* outputs[2] = {};
  ASSERT_TRUE(Ok(kiln_model_execute(model, inputs, 2, outputs, 2)));
  TensorPtr product(outputs[0]), sum(outputs[1]);
  EXPECT_EQ(read_floats(product.get()), (std::vector<float>{11, 44, 99, 176}));
}

TEST(PluginLoading, BrokenPluginsAreReportedAndTheRuntimeStaysUsable) {
  RuntimePtr runtime = make_runtime({});
  kiln_runtime* rt = runtime.get();

  const std::string broken = plugin_path("broken");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(rt, broken.c_str()), KILN_STATUS_INVALID_ARGUMENT,
                      {broken, "not a shared object", "file too short"}));

  const std::string missing = plugin_path("needs_missing");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(rt, missing.c_str()), KILN_STATUS_NOT_FOUND,
                      {missing, "needs libkiln_test_absent.so.1",
                       "not found in LD_LIBRARY_PATH, the plugin's RUNPATH or the system library "
                       "folders"}));

  const std::string no_entry = plugin_path("no_entry");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(rt, no_entry.c_str()), KILN_STATUS_NOT_FOUND,
                      {no_entry, "does not export kiln_plugin_get_api"}));

  const std::string newer = plugin_path("abi_newer");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(rt, newer.c_str()), KILN_STATUS_FAILED_PRECONDITION,
                      {newer, "plugin ABI 99.0 is newer than this kiln's 1.1; upgrade kiln"}));

  const std::string older = plugin_path("abi_older");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(rt, older.c_str()), KILN_STATUS_FAILED_PRECONDITION,
                      {older,
                       "plugin ABI 0.3 is older than the oldest this kiln supports (1.0); "
                       "rebuild the plugin"}));

  const std::string init_fails = plugin_path("init_fails");
  EXPECT_TRUE(IsError(
      kiln_runtime_load_plugin(rt, init_fails.c_str()), KILN_STATUS_UNAVAILABLE,
      {init_fails, "plugin 'init_fails' failed to initialize", "the test device is switched off"}));

  const std::string nowhere = "/nonexistent/folder/libnothing.so";
  EXPECT_TRUE(
      IsError(kiln_runtime_load_plugin(rt, nowhere.c_str()), KILN_STATUS_NOT_FOUND, {nowhere}));

  // Every failure is recorded with its path.
  EXPECT_EQ(kiln_runtime_get_load_error_count(rt), 7u);
  EXPECT_NE(load_error_message(rt, "needs_missing").find("libkiln_test_absent.so.1"),
            std::string::npos);
  EXPECT_EQ(kiln_runtime_get_plugin_count(rt), 0u);

  // The same runtime still loads a good plugin and executes a model.
  const std::string testdev = plugin_path("testdev");
  ASSERT_TRUE(Ok(kiln_runtime_load_plugin(rt, testdev.c_str())));
  expect_testdev_executes(rt);
}

TEST(PluginLoading, AFailedInitializeRegistersNothingAndIsNotRetried) {
  RuntimePtr runtime = make_runtime({});
  const std::string path = plugin_path("init_fails");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), path.c_str()),
                      KILN_STATUS_UNAVAILABLE, {"the test device is switched off"}));
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), path.c_str()),
                      KILN_STATUS_UNAVAILABLE, {"not retried"}));
  // It registered device API "initfail_api" before failing; none of it was kept.
  kiln_device* device = nullptr;
  EXPECT_TRUE(IsError(kiln_runtime_find_device(runtime.get(), "initfail_api:0", &device),
                      KILN_STATUS_NOT_FOUND, {"no device 'initfail_api:0'"}));
  EXPECT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 0u);
}

TEST(PluginLoading, LoadingTheSameFileTwiceIsANoOp) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  ASSERT_TRUE(Ok(kiln_runtime_load_plugin(runtime.get(), plugin_path("testdev").c_str())));
  EXPECT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 1u);
  EXPECT_EQ(kiln_runtime_get_load_error_count(runtime.get()), 0u);
}

TEST(PluginLoading, ADuplicatePluginNameIsRefused) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  std::string loaded_from;
  ASSERT_TRUE(has_plugin(runtime.get(), "testdev", &loaded_from));
  const std::string copy = conflict_plugin_path("testdev_copy");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), copy.c_str()),
                      KILN_STATUS_ALREADY_EXISTS,
                      {copy, "a plugin named 'testdev' is already loaded from '" + loaded_from}));
  expect_testdev_executes(runtime.get());
}

TEST(PluginLoading, ADeviceApiAlreadyProvidedIsRefusedWithNothingRegistered) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  std::string testdev_path;
  ASSERT_TRUE(has_plugin(runtime.get(), "testdev", &testdev_path));
  const std::string dup = conflict_plugin_path("dup_testdev_api");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), dup.c_str()),
                      KILN_STATUS_ALREADY_EXISTS,
                      {dup, "device API 'testdev' is already provided by plugin 'testdev' (" +
                                testdev_path + ")"}));
  EXPECT_FALSE(has_plugin(runtime.get(), "dup_testdev_api"));
  expect_testdev_executes(runtime.get());
}

// The rule for ops: a custom op name belongs to the first plugin that registers it; a later plugin
// registering it again is refused as a whole (nothing it registered is kept). Kernels are
// different: several plugins may provide kernels for one op, and the highest priority wins.
TEST(PluginLoading, AnOpAlreadyRegisteredByAnotherPluginIsRefused) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  std::string testdev_path;
  ASSERT_TRUE(has_plugin(runtime.get(), "testdev", &testdev_path));
  const std::string dup = conflict_plugin_path("dup_op");
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), dup.c_str()),
                      KILN_STATUS_ALREADY_EXISTS,
                      {dup, "plugin 'dup_op' failed to initialize",
                       "op 'testdev.scale' is already registered by plugin 'testdev' (" +
                           testdev_path + ")"}));
  EXPECT_FALSE(has_plugin(runtime.get(), "dup_op"));
  expect_testdev_executes(runtime.get());
}

// A plugin is never unloaded: the runtime and session that loaded it may go first, and a model
// that uses its kernels keeps working.
TEST(PluginLoading, AModelKeepsWorkingAfterTheRuntimeThatLoadedItsPluginIsDestroyed) {
  kiln_runtime* runtime = make_runtime({plugin_path("testdev")}).release();
  ASSERT_TRUE(has_plugin(runtime, "testdev"));
  const char* devices[] = {"testdev"};
  kiln_session_options options;
  kiln_session_options_init(&options);
  options.devices = devices;
  options.num_devices = 1;
  kiln_session* session = nullptr;
  ASSERT_TRUE(Ok(kiln_session_create(runtime, &options, &session)));
  GraphPtr graph = add_mul_graph(nullptr);
  kiln_model* model = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session, graph.get(), nullptr, &model)));
  ModelPtr owned_model(model);
  kiln_device* device = find_device(runtime, "testdev:0");
  TensorPtr x = make_tensor(device, {1, 4}, {1, 2, 3, 4});
  TensorPtr y = make_tensor(device, {1, 4}, {10, 20, 30, 40});
  kiln_session_destroy(session);
  kiln_runtime_destroy(runtime);  // the model and tensors hold what they need
  kiln_tensor* inputs[] = {x.get(), y.get()};
  kiln_tensor* outputs[2] = {};
  ASSERT_TRUE(Ok(kiln_model_execute(model, inputs, 2, outputs, 2)));
  TensorPtr product(outputs[0]), sum(outputs[1]);
  EXPECT_EQ(read_floats(product.get()), (std::vector<float>{11, 44, 99, 176}));
}

TEST(PluginLoading, TheCpuDeviceApiCannotBeRegisteredTwice) {
  const std::string cpu = cpu_plugin_path();
  if (cpu.empty()) GTEST_SKIP() << "the CPU plugin is not built";
  RuntimePtr runtime = make_runtime({});
  // Without the CPU plugin loaded first, dup_cpu_api would take "cpu" for the whole process.
  if (!Ok(kiln_runtime_load_plugin(runtime.get(), cpu.c_str()))) {
    GTEST_SKIP() << "the CPU plugin does not load";
  }
  std::string cpu_path;
  ASSERT_TRUE(has_plugin(runtime.get(), "cpu", &cpu_path));
  const std::string dup = conflict_plugin_path("dup_cpu_api");
  EXPECT_TRUE(
      IsError(kiln_runtime_load_plugin(runtime.get(), dup.c_str()), KILN_STATUS_ALREADY_EXISTS,
              {dup, "device API 'cpu' is already provided by plugin 'cpu' (" + cpu_path + ")"}));
}

TEST(PluginLoading, TheHighestPositiveScoreWinsAmongBuildsOfOnePlugin) {
  RuntimePtr runtime =
      make_runtime({plugin_path("scored_5"), plugin_path("scored_9"), plugin_path("scored_0")});
  std::string path;
  ASSERT_TRUE(has_plugin(runtime.get(), "scored", &path));
  EXPECT_NE(path.find("libscored_9.so"), std::string::npos) << path;
  EXPECT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 1u);
  // Losing builds are logged, not errors.
  EXPECT_EQ(kiln_runtime_get_load_error_count(runtime.get()), 0u);
  find_device(runtime.get(), "scoredev9:0");
}

TEST(PluginLoading, APluginThatCannotRunHereSaysWhy) {
  const std::string path = plugin_path("unrunnable");
  RuntimePtr runtime = make_runtime({path});
  EXPECT_NE(load_error_message(runtime.get(), "unrunnable").find("needs a quantum CPU"),
            std::string::npos);
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), path.c_str()),
                      KILN_STATUS_FAILED_PRECONDITION,
                      {path, "cannot run on this machine (score -1)", "needs a quantum CPU"}));
}

TEST(PluginLoading, APluginWithoutDevicesLoadsAndSaysWhy) {
  RuntimePtr runtime = make_runtime({plugin_path("no_devices")});
  ASSERT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 1u);
  kiln_plugin_info info{};
  info.struct_size = sizeof info;
  ASSERT_TRUE(Ok(kiln_runtime_get_plugin_info(runtime.get(), 0, &info)));
  EXPECT_EQ(info.num_devices, 0u);
  EXPECT_STREQ(info.device_api, "nodev");
  EXPECT_STREQ(info.device_note, "no test accelerator is attached");
  EXPECT_EQ(kiln_runtime_get_device_count(runtime.get()), 0u);
  kiln_device* device = nullptr;
  EXPECT_TRUE(IsError(kiln_runtime_find_device(runtime.get(), "nodev:0", &device),
                      KILN_STATUS_NOT_FOUND,
                      {"devices: none", "device APIs without devices: nodev (no test accelerator "
                                        "is attached)"}));
}

TEST(PluginLoading, KernelsForUnknownOpsOrDeviceApisDoNotFailThePlugin) {
  RuntimePtr runtime = make_runtime({plugin_path("orphan_kernels")});
  kiln_plugin_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 1u);
  ASSERT_TRUE(Ok(kiln_runtime_get_plugin_info(runtime.get(), 0, &info)));
  EXPECT_STREQ(info.name, "orphan_kernels");
  EXPECT_EQ(info.num_kernels, 2u);
}

TEST(PluginLoading, MalformedRegistrationsAreRefused) {
  // The plugin fails its own initialize() if any malformed registration is accepted.
  RuntimePtr runtime = make_runtime({plugin_path("bad_registrations")});
  EXPECT_EQ(kiln_runtime_get_load_error_count(runtime.get()), 0u)
      << load_error_message(runtime.get(), "bad_registrations");
  EXPECT_TRUE(has_plugin(runtime.get(), "bad_registrations"));
}

TEST(PluginLoading, APluginBuiltAgainstTheFirstReleasedHeaderStillRuns) {
  RuntimePtr runtime = make_runtime({plugin_path("frozen10")});
  ASSERT_EQ(kiln_runtime_get_load_error_count(runtime.get()), 0u);
  SessionPtr session = make_session(runtime.get(), {"frozendev:0"});
  // frozen10 has add only: a graph of one add.
  kiln_graph* g = nullptr;
  ASSERT_TRUE(Ok(kiln_graph_create("add", &g)));
  GraphPtr add_graph(g);
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{3, nullptr}});
  kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{3, nullptr}});
  set_outputs(g, {add_op(g, "add", {x, y})});
  kiln_model* model = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session.get(), g, nullptr, &model)));
  ModelPtr owned(model);
  kiln_device* device = find_device(runtime.get(), "frozendev:0");
  TensorPtr a = make_tensor(device, {3}, {1, 2, 3});
  TensorPtr b = make_tensor(device, {3}, {0.5f, 0.25f, 0.125f});
  kiln_tensor* inputs[] = {a.get(), b.get()};
  kiln_tensor* out = nullptr;
  ASSERT_TRUE(Ok(kiln_model_execute(model, inputs, 2, &out, 1)));
  TensorPtr result(out);
  EXPECT_EQ(read_floats(out), (std::vector<float>{1.5f, 2.25f, 3.125f}));
}

TEST(PluginInfo, DescribesAPlugin) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  kiln_plugin_info info{};
  info.struct_size = sizeof info;
  ASSERT_TRUE(Ok(kiln_runtime_get_plugin_info(runtime.get(), 0, &info)));
  EXPECT_STREQ(info.name, "testdev");
  EXPECT_STREQ(info.version, "1.2.3");
  EXPECT_EQ(fs::path(info.path), fs::canonical(plugin_path("testdev")));
  EXPECT_EQ(info.abi_version, KILN_PLUGIN_ABI_VERSION);
  EXPECT_STREQ(info.device_api, "testdev");
  EXPECT_EQ(info.num_devices, 2u);
  EXPECT_STREQ(info.device_note, "");
  EXPECT_EQ(info.num_kernels, 7u);
  EXPECT_EQ(info.num_ops, 4u);

  EXPECT_TRUE(IsError(kiln_runtime_get_plugin_info(runtime.get(), 1, &info),
                      KILN_STATUS_OUT_OF_RANGE, {"index 1", "1 plugins"}));
  EXPECT_TRUE(IsError(kiln_runtime_get_plugin_info(nullptr, 0, &info), KILN_STATUS_INVALID_ARGUMENT,
                      {"'runtime'"}));
  EXPECT_TRUE(IsError(kiln_runtime_get_plugin_info(runtime.get(), 0, nullptr),
                      KILN_STATUS_INVALID_ARGUMENT, {"'out_info'"}));
  const char* path = nullptr;
  const char* message = nullptr;
  EXPECT_TRUE(IsError(kiln_runtime_get_load_error(runtime.get(), 0, &path, &message),
                      KILN_STATUS_OUT_OF_RANGE, {"index 0"}));
  EXPECT_TRUE(IsError(kiln_runtime_get_load_error(runtime.get(), 0, nullptr, &message),
                      KILN_STATUS_INVALID_ARGUMENT, {"'out_path'"}));
  EXPECT_TRUE(IsError(kiln_runtime_load_plugin(runtime.get(), nullptr),
                      KILN_STATUS_INVALID_ARGUMENT, {"'path'"}));
  EXPECT_TRUE(IsError(kiln_runtime_create(nullptr, nullptr), KILN_STATUS_INVALID_ARGUMENT,
                      {"'out_runtime'"}));
  EXPECT_EQ(kiln_runtime_get_plugin_count(nullptr), 0u);
}

TEST(PluginLoading, ARecreatedRuntimeReusesTheLoadedPlugin) {
  std::string first_path;
  {
    RuntimePtr runtime = make_runtime({plugin_path("testdev")});
    ASSERT_TRUE(has_plugin(runtime.get(), "testdev", &first_path));
  }
  RuntimePtr again = make_runtime({plugin_path("testdev")});
  std::string second_path;
  ASSERT_TRUE(has_plugin(again.get(), "testdev", &second_path));
  EXPECT_EQ(first_path, second_path);
  expect_testdev_executes(again.get());
}

// ---- discovery ------------------------------------------------------------------------------

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty())
      unsetenv(name_);
    else
      setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

fs::path make_temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("kiln_abi_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Discovery, KilnPluginPathFoldersAreScannedAndFailuresRecorded) {
  ScopedEnv env("KILN_PLUGIN_PATH", std::string(KILN_ABI_PLUGIN_DIR) + ":/nonexistent/kiln");
  kiln_runtime* runtime = nullptr;
  // Discovery never fails runtime creation, whatever it finds.
  ASSERT_TRUE(Ok(kiln_runtime_create(nullptr, &runtime)));
  RuntimePtr owned(runtime);
  EXPECT_TRUE(has_plugin(runtime, "testdev"));
  std::string scored;
  EXPECT_TRUE(has_plugin(runtime, "scored", &scored));
  EXPECT_NE(scored.find("libscored_9.so"), std::string::npos);
  EXPECT_NE(load_error_message(runtime, "libbroken.so").find("not a shared object"),
            std::string::npos);
  EXPECT_NE(load_error_message(runtime, "libbroken.so").find("KILN_PLUGIN_PATH"),
            std::string::npos);
  EXPECT_NE(load_error_message(runtime, "/nonexistent/kiln").find("does not exist"),
            std::string::npos);
  EXPECT_NE(load_error_message(runtime, "abi_newer").find("upgrade kiln"), std::string::npos);
  expect_testdev_executes(runtime);
}

TEST(Discovery, KilnYamlListsPluginsRelativeToItsFolderAndSetsSessionDefaults) {
  fs::path dir = make_temp_dir("yaml");
  fs::create_directories(dir / "sub");
  fs::create_symlink(plugin_path("testdev"), dir / "sub" / "libtestdev.so");
  std::ofstream(dir / "kiln.yaml") << "# test configuration\n"
                                      "plugins:\n  - sub/libtestdev.so\n"
                                      "plugin_paths: [missing_folder]\n"
                                      "threads: 3\n"
                                      "log_level: warn\n"
                                      "devices: [\"testdev:1\"]\n";
  kiln_runtime_options options;
  kiln_runtime_options_init(&options);
  const std::string config = (dir / "kiln.yaml").string();
  options.config_path = config.c_str();
  kiln_runtime* runtime = nullptr;
  ASSERT_TRUE(Ok(kiln_runtime_create(&options, &runtime)));
  RuntimePtr owned(runtime);
  EXPECT_TRUE(has_plugin(runtime, "testdev"));
  EXPECT_NE(load_error_message(runtime, "missing_folder").find("not an existing folder"),
            std::string::npos);
  // The session's default devices come from the file: testdev:1 is gpu:1.
  kiln_session* session = nullptr;
  ASSERT_TRUE(Ok(kiln_session_create(runtime, nullptr, &session)));
  SessionPtr owned_session(session);
  GraphPtr graph = add_mul_graph(nullptr);
  kiln_model* model = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session, graph.get(), nullptr, &model)));
  ModelPtr owned_model(model);
  kiln_tensor_spec spec{};
  spec.struct_size = sizeof spec;
  ASSERT_TRUE(Ok(kiln_model_get_input_spec(model, 0, &spec)));
  EXPECT_STREQ(spec.device, "gpu:1");
  fs::remove_all(dir);
}

TEST(Discovery, AMalformedKilnYamlIsAnErrorWithFileAndLine) {
  fs::path dir = make_temp_dir("bad_yaml");
  const std::string config = (dir / "kiln.yaml").string();
  kiln_runtime_options options;
  kiln_runtime_options_init(&options);
  options.config_path = config.c_str();
  kiln_runtime* runtime = nullptr;

  std::ofstream(config) << "plugins:\n  - a.so\n threads: [1, 2\n";
  EXPECT_TRUE(IsError(kiln_runtime_create(&options, &runtime), KILN_STATUS_INVALID_ARGUMENT,
                      {config + ":3:"}));
  std::ofstream(config) << "plugins: []\nplugin: x.so\n";
  EXPECT_TRUE(IsError(kiln_runtime_create(&options, &runtime), KILN_STATUS_INVALID_ARGUMENT,
                      {config + ":2:1", "unknown key 'plugin'"}));
  std::ofstream(config) << "threads: many\n";
  EXPECT_TRUE(IsError(kiln_runtime_create(&options, &runtime), KILN_STATUS_INVALID_ARGUMENT,
                      {config + ":1:", "'threads' must be an integer", "many"}));
  const std::string absent = (dir / "absent.yaml").string();
  options.config_path = absent.c_str();
  EXPECT_TRUE(IsError(kiln_runtime_create(&options, &runtime), KILN_STATUS_NOT_FOUND, {absent}));
  EXPECT_EQ(runtime, nullptr);
  {
    ScopedEnv env("KILN_CONFIG", absent);
    EXPECT_TRUE(IsError(kiln_runtime_create(nullptr, &runtime), KILN_STATUS_NOT_FOUND,
                        {"$KILN_CONFIG", absent}));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln_test
