// Devices through kiln.h: order, labels and ids, lookup by spec, statistics, synchronization.
#include "abi_test_util.h"

namespace kiln_test {
namespace {

TEST(Devices, AreNumberedPerLabelAndFoundBySpec) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  kiln_runtime* rt = runtime.get();
  ASSERT_EQ(kiln_runtime_get_device_count(rt), 2u);
  for (size_t i = 0; i < 2; ++i) {
    kiln_device* d = nullptr;
    ASSERT_TRUE(Ok(kiln_runtime_get_device(rt, i, &d)));
    EXPECT_STREQ(kiln_device_get_label(d), "gpu");
    EXPECT_EQ(kiln_device_get_id(d), static_cast<int32_t>(i));
    EXPECT_STREQ(kiln_device_get_api(d), "testdev");
    EXPECT_EQ(kiln_device_get_name(d), "Test Device " + std::to_string(i));
    EXPECT_EQ(kiln_device_is_host(d), 0);
  }
  kiln_device* second = nullptr;
  ASSERT_TRUE(Ok(kiln_runtime_get_device(rt, 1, &second)));
  EXPECT_EQ(find_device(rt, "gpu:1"), second);
  EXPECT_EQ(find_device(rt, "testdev:1"), second);
  EXPECT_EQ(find_device(rt, "gpu"), find_device(rt, "gpu:0"));
  EXPECT_EQ(find_device(rt, "testdev"), find_device(rt, "gpu:0"));

  kiln_device* d = nullptr;
  EXPECT_TRUE(IsError(kiln_runtime_find_device(rt, "gpu:2", &d), KILN_STATUS_NOT_FOUND,
                      {"no device 'gpu:2'", "gpu:0 (testdev:0, Test Device 0)",
                       "gpu:1 (testdev:1, Test Device 1)"}));
  EXPECT_TRUE(IsError(kiln_runtime_find_device(rt, "cuda:0", &d), KILN_STATUS_NOT_FOUND,
                      {"no device 'cuda:0'"}));
  for (const char* bad : {"gpu:-1", "gpu:x", ":0", "", "gpu:1:2", "g pu"}) {
    EXPECT_TRUE(IsError(kiln_runtime_find_device(rt, bad, &d), KILN_STATUS_INVALID_ARGUMENT,
                        {"device spec '" + std::string(bad) + "' is malformed"}));
  }
  EXPECT_EQ(d, nullptr);  // failed calls leave out-parameters untouched
  EXPECT_TRUE(IsError(kiln_runtime_get_device(rt, 2, &d), KILN_STATUS_OUT_OF_RANGE,
                      {"index 2", "2 devices"}));
  EXPECT_TRUE(IsError(kiln_runtime_get_device(nullptr, 0, &d), KILN_STATUS_INVALID_ARGUMENT,
                      {"'runtime'"}));
  EXPECT_TRUE(
      IsError(kiln_runtime_find_device(rt, nullptr, &d), KILN_STATUS_INVALID_ARGUMENT, {"'spec'"}));
  EXPECT_TRUE(IsError(kiln_runtime_find_device(rt, "gpu", nullptr), KILN_STATUS_INVALID_ARGUMENT,
                      {"'out_device'"}));
}

TEST(Devices, HostDevicesComeFirst) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev"), plugin_path("frozen10")});
  kiln_device* first = nullptr;
  ASSERT_TRUE(Ok(kiln_runtime_get_device(runtime.get(), 0, &first)));
  EXPECT_EQ(kiln_device_is_host(first), 1);
  EXPECT_STREQ(kiln_device_get_api(first), "frozendev");
  EXPECT_STREQ(kiln_device_get_label(first), "cpu");
  EXPECT_EQ(find_device(runtime.get(), "cpu"), first);
  EXPECT_EQ(find_device(runtime.get(), "cpu:0"), first);
}

TEST(Devices, StatsTrackKilnAllocationsAndThePluginsMemory) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  kiln_device* device = find_device(runtime.get(), "gpu:1");
  kiln_device_stats before{};
  before.struct_size = sizeof before;
  ASSERT_TRUE(Ok(kiln_device_get_stats(device, &before)));
  EXPECT_EQ(before.total_memory, 1ull << 30);

  const int64_t shape[] = {1000};
  kiln_tensor* t = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_create(device, KILN_DTYPE_FLOAT32, shape, 1, &t)));
  kiln_device_stats during{};
  during.struct_size = sizeof during;
  ASSERT_TRUE(Ok(kiln_device_get_stats(device, &during)));
  EXPECT_EQ(during.bytes_in_use, before.bytes_in_use + 4000);
  EXPECT_EQ(during.num_allocations, before.num_allocations + 1);
  EXPECT_GE(during.peak_bytes_in_use, during.bytes_in_use);
  EXPECT_EQ(during.free_memory, before.free_memory - 4000);
  kiln_tensor_release(t);

  kiln_device_stats after{};
  after.struct_size = sizeof after;
  ASSERT_TRUE(Ok(kiln_device_get_stats(device, &after)));
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.num_allocations, before.num_allocations);
  EXPECT_GE(after.peak_bytes_in_use, before.bytes_in_use + 4000);

  // An older caller's smaller struct gets only the fields it has.
  kiln_device_stats small{};
  small.struct_size = offsetof(kiln_device_stats, free_memory);
  small.free_memory = 12345;
  ASSERT_TRUE(Ok(kiln_device_get_stats(device, &small)));
  EXPECT_EQ(small.total_memory, 1ull << 30);
  EXPECT_EQ(small.free_memory, 12345u);

  kiln_device_stats unset{};
  EXPECT_TRUE(IsError(kiln_device_get_stats(device, &unset), KILN_STATUS_INVALID_ARGUMENT,
                      {"struct_size"}));
  EXPECT_TRUE(
      IsError(kiln_device_get_stats(nullptr, &after), KILN_STATUS_INVALID_ARGUMENT, {"'device'"}));
  EXPECT_TRUE(Ok(kiln_device_synchronize(device)));
  EXPECT_TRUE(
      IsError(kiln_device_synchronize(nullptr), KILN_STATUS_INVALID_ARGUMENT, {"'device'"}));
}

}  // namespace
}  // namespace kiln_test
