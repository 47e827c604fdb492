// kiln_runtime_check_plugin (`kiln plugins --check`): a plugin described before it is trusted.
// The report is JSON; these tests look for the facts in its text.
#include <gtest/gtest.h>

#include <string>

#include "abi_test_util.h"

namespace kiln_test {
namespace {

std::string check(kiln_runtime* runtime, const std::string& path) {
  char* text = nullptr;
  kiln_status* status = kiln_runtime_check_plugin(runtime, path.c_str(), &text);
  EXPECT_EQ(status, nullptr) << kiln_status_get_message(status);
  kiln_status_destroy(status);
  if (text == nullptr) return "";
  std::string report = text;
  kiln_buffer_destroy(text);
  return report;
}

bool has(const std::string& report, const std::string& part) {
  return report.find(part) != std::string::npos;
}

TEST(PluginCheck, DescribesWhatAPluginRegistersAndNeeds) {
  RuntimePtr runtime = make_runtime({});
  const std::string report = check(runtime.get(), plugin_path("testdev"));
  EXPECT_TRUE(has(report, "\"loaded\": true")) << report;
  EXPECT_TRUE(has(report, "\"name\": \"testdev\"")) << report;
  EXPECT_TRUE(has(report, "\"abi\": \"1.")) << report;
  EXPECT_TRUE(has(report, "\"accepted_abi\": \"1.0 to 1.x\"")) << report;
  EXPECT_TRUE(has(report, "\"api\": \"testdev\"")) << report;
  EXPECT_TRUE(has(report, "{\"name\": \"testdev.scale\"")) << report;
  EXPECT_TRUE(has(report, "\"op\": \"testdev.scale\", \"device_api\": \"testdev\"")) << report;
  EXPECT_TRUE(has(report, "{\"name\": \"libc.so.6\", \"found\": true")) << report;
  EXPECT_TRUE(has(report, "\"problems\": []")) << report;
}

TEST(PluginCheck, AMissingLibraryIsNamedBeforeAnythingRuns) {
  RuntimePtr runtime = make_runtime({});
  const std::string report = check(runtime.get(), plugin_path("needs_missing"));
  EXPECT_TRUE(has(report, "{\"name\": \"libkiln_test_absent.so.1\", \"found\": false")) << report;
  EXPECT_TRUE(has(report, "it needs libkiln_test_absent.so.1, which is not found")) << report;
  EXPECT_TRUE(has(report, "\"loaded\": false")) << report;
}

TEST(PluginCheck, AFileThatIsNoPluginIsDescribedNotAnError) {
  RuntimePtr runtime = make_runtime({});
  const std::string broken = plugin_path("broken");
  std::string report = check(runtime.get(), broken);
  EXPECT_TRUE(has(report, "not an ELF file")) << report;
  EXPECT_TRUE(has(report, "\"loaded\": false")) << report;
  report = check(runtime.get(), plugin_path("abi_newer"));
  EXPECT_TRUE(has(report, "is newer than this kiln's")) << report;
  EXPECT_TRUE(has(report, "\"loaded\": false")) << report;
}

TEST(PluginCheck, AConflictingOpIsReported) {
  RuntimePtr runtime = make_runtime({plugin_path("testdev")});
  const std::string report = check(runtime.get(), conflict_plugin_path("dup_op"));
  EXPECT_TRUE(has(report, "\"loaded\": false")) << report;
  EXPECT_TRUE(has(report, "op 'testdev.scale' is already registered by plugin 'testdev'"))
      << report;
}

}  // namespace
}  // namespace kiln_test
