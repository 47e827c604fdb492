// Sessions through kiln.h: devices, threads, custom extensions, option validation, and handles
// destroyed in any order.
#include "abi_test_util.h"

namespace kiln_test {
namespace {

TEST(Sessions, CreationValidatesDevicesAndOptions) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  kiln_runtime* rt = runtime.get();
  kiln_session* s = nullptr;
  // The default device is "cpu", which this runtime does not have.
  EXPECT_TRUE(IsError(kiln_session_create(rt, nullptr, &s), KILN_STATUS_NOT_FOUND,
                      {"kiln_session_create", "no device 'cpu'", "gpu:0 (testdev:0"}));
  kiln_session_options options;
  kiln_session_options_init(&options);
  const char* devices[] = {"gpu:1", "gpu:7"};
  options.devices = devices;
  options.num_devices = 2;
  EXPECT_TRUE(
      IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_NOT_FOUND, {"no device 'gpu:7'"}));
  const char* twice[] = {"gpu:1", "testdev:1"};
  options.devices = twice;
  EXPECT_TRUE(IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"listed twice"}));
  options.devices = nullptr;
  EXPECT_TRUE(IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"options->devices is NULL"}));
  const char* with_null[] = {"gpu:0", nullptr};
  options.devices = with_null;
  EXPECT_TRUE(IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"options->devices[1] is NULL"}));
  options.devices = devices;
  options.num_devices = 1;
  options.num_threads = -2;
  EXPECT_TRUE(IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"num_threads is -2"}));
  options.num_threads = 0;
  options.struct_size = 4;
  EXPECT_TRUE(IsError(kiln_session_create(rt, &options, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"kiln_session_options.struct_size is 4"}));
  EXPECT_TRUE(IsError(kiln_session_create(nullptr, nullptr, &s), KILN_STATUS_INVALID_ARGUMENT,
                      {"'runtime'"}));
  EXPECT_EQ(s, nullptr);
  options.struct_size = sizeof options;
  ASSERT_TRUE(Ok(kiln_session_create(rt, &options, &s)));
  kiln_session_destroy(s);
  kiln_session_destroy(nullptr);
}

TEST(Sessions, CustomExtensionsAreLoadedIntoTheRuntime) {
  RuntimePtr runtime = make_runtime({});
  kiln_session_options options;
  kiln_session_options_init(&options);
  const std::string broken = plugin_path("broken");
  const char* bad[] = {broken.c_str()};
  options.custom_extensions = bad;
  options.num_custom_extensions = 1;
  kiln_session* s = nullptr;
  EXPECT_TRUE(IsError(kiln_session_create(runtime.get(), &options, &s),
                      KILN_STATUS_INVALID_ARGUMENT,
                      {"custom extension", broken, "not a shared object"}));
  const std::string testdev = plugin_path("testdev");
  const char* good[] = {testdev.c_str()};
  const char* devices[] = {"gpu:0"};
  options.custom_extensions = good;
  options.devices = devices;
  options.num_devices = 1;
  ASSERT_TRUE(Ok(kiln_session_create(runtime.get(), &options, &s)));
  SessionPtr session(s);
  EXPECT_EQ(kiln_runtime_get_plugin_count(runtime.get()), 1u);
}

TEST(Sessions, HandlesMayBeDestroyedInAnyOrder) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  SessionPtr session = make_session(runtime.get(), {"gpu:0"});
  GraphPtr graph = add_mul_graph(nullptr);
  kiln_model* model = nullptr;
  ASSERT_TRUE(Ok(kiln_session_load(session.get(), graph.get(), nullptr, &model)));
  ModelPtr owned(model);
  TensorPtr x = make_tensor(find_device(runtime.get(), "gpu:0"), {1, 4}, {1, 2, 3, 4});
  // The graph, the session and the runtime go first; the model and tensors keep working.
  graph.reset();
  session.reset();
  runtime.reset();
  kiln_tensor* inputs[] = {x.get(), x.get()};
  kiln_tensor* outputs[2] = {};
  ASSERT_TRUE(Ok(kiln_model_execute(model, inputs, 2, outputs, 2)));
  TensorPtr product(outputs[0]), sum(outputs[1]);
  EXPECT_EQ(read_floats(sum.get()), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_STREQ(kiln_device_get_api(kiln_tensor_get_device(sum.get())), "testdev");
  owned.reset();
  x.reset();
  EXPECT_EQ(read_floats(product.get()), (std::vector<float>{2, 8, 18, 32}));
}

}  // namespace
}  // namespace kiln_test
