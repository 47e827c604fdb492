// plugin_test.cpp: the CPU plugin as the runtime sees it — discovered, named, its device and
// memory — through the public C ABI.
#include <cstring>
#include <set>
#include <string>

#include "harness.h"
#include "kiln/kiln.h"

namespace kiln_conformance {
namespace {

class CpuPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kiln_status* s = kiln_runtime_create(nullptr, &runtime_);
    ASSERT_EQ(s, nullptr) << kiln_status_get_message(s);
    s = kiln_runtime_find_device(runtime_, "cpu", &cpu_);
    ASSERT_EQ(s, nullptr) << kiln_status_get_message(s);
  }
  void TearDown() override { kiln_runtime_destroy(runtime_); }

  kiln_runtime* runtime_ = nullptr;
  kiln_device* cpu_ = nullptr;
};

TEST_F(CpuPluginTest, IsDiscoveredWithItsNameVersionAndKernels) {
  bool found = false;
  for (size_t i = 0; i < kiln_runtime_get_plugin_count(runtime_); ++i) {
    kiln_plugin_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(kiln_runtime_get_plugin_info(runtime_, i, &info), nullptr);
    if (std::strcmp(info.name, "cpu") != 0) continue;
    found = true;
    EXPECT_STREQ(info.version, "0.1.0");
    EXPECT_NE(std::strstr(info.path, "libkiln_cpu"), nullptr) << info.path;
    EXPECT_EQ(info.num_devices, 1u);
    EXPECT_GT(info.num_kernels, 0u);
  }
  EXPECT_TRUE(found);
}

// Every core op has a CPU kernel, except those the executor carries out itself (a constant is
// materialized at load, transfer_to copies between devices, allgather copies and runs concat).
TEST_F(CpuPluginTest, HasAKernelForEveryCoreOp) {
  std::set<std::string> with_kernel;
  for (size_t i = 0; i < kiln_runtime_get_kernel_count(runtime_); ++i) {
    kiln_kernel_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(kiln_runtime_get_kernel_info(runtime_, i, &info), nullptr);
    if (std::strcmp(info.plugin, "cpu") == 0) with_kernel.insert(info.op);
  }
  const std::set<std::string> executor_ops = {"constant", "transfer_to", "allgather"};
  ASSERT_GT(kiln_get_op_count(), 0u);
  for (size_t i = 0; i < kiln_get_op_count(); ++i) {
    const std::string op = kiln_get_op_name(i);
    if (executor_ops.count(op) != 0) continue;
    EXPECT_EQ(with_kernel.count(op), 1u) << "no CPU kernel for core op '" << op << "'";
  }
}

TEST_F(CpuPluginTest, DeviceIsTheHostWithANameAndMemory) {
  EXPECT_STREQ(kiln_device_get_label(cpu_), "cpu");
  EXPECT_STREQ(kiln_device_get_api(cpu_), "cpu");
  EXPECT_EQ(kiln_device_is_host(cpu_), 1);
  EXPECT_EQ(kiln_device_get_id(cpu_), 0);
  const char* name = kiln_device_get_name(cpu_);
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::strlen(name), 0u);
  kiln_device_stats stats{};
  stats.struct_size = sizeof stats;
  ASSERT_EQ(kiln_device_get_stats(cpu_, &stats), nullptr);
  EXPECT_GT(stats.total_memory, 0u);
  EXPECT_GT(stats.free_memory, 0u);
  EXPECT_LE(stats.free_memory, stats.total_memory);
  EXPECT_EQ(kiln_device_synchronize(cpu_), nullptr);
}

TEST_F(CpuPluginTest, TensorsIncludingEmptyOnesRoundTrip) {
  for (const Shape& shape : std::vector<Shape>{{}, {0}, {3, 0, 2}, {5, 7}}) {
    SCOPED_TRACE(shape_str(shape));
    std::mt19937 rng(1);
    const HostTensor h = random_tensor(KILN_DTYPE_FLOAT32, shape, rng);
    kiln_tensor* t = nullptr;
    static const uint8_t kEmpty[1] = {0};
    ASSERT_EQ(kiln_tensor_create_from_host(cpu_, h.dtype, shape.empty() ? nullptr : shape.data(),
                                           shape.size(), h.bytes.empty() ? kEmpty : h.bytes.data(),
                                           h.bytes.size(), &t),
              nullptr);
    ASSERT_NE(kiln_tensor_get_data(t), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(kiln_tensor_get_data(t)) % 64, 0u);
    std::vector<uint8_t> back(h.bytes.size());
    static uint8_t sink[1];
    ASSERT_EQ(kiln_tensor_read(t, back.empty() ? sink : back.data(), back.size()), nullptr);
    EXPECT_EQ(back, h.bytes);
    kiln_tensor_release(t);
  }
}

}  // namespace
}  // namespace kiln_conformance
