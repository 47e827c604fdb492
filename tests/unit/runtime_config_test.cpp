// kiln.yaml parsing: keys, types, relative paths, and errors with file, line and column.
#include "runtime/runtime_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kiln {
namespace {

TEST(RuntimeConfig, ParsesEveryKeyAndResolvesRelativePaths) {
  auto config = parse_runtime_config(
      "plugins:\n  - libs/libone.so\n  - /abs/libtwo.so\n"
      "plugin_paths: extra\n"
      "log_level: DEBUG\n"
      "threads: 6\n"
      "devices: [cpu, \"gpu:1\"]\n",
      "/etc/kiln/kiln.yaml");
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->path, "/etc/kiln/kiln.yaml");
  EXPECT_EQ(config->plugins,
            (std::vector<std::string>{"/etc/kiln/libs/libone.so", "/abs/libtwo.so"}));
  EXPECT_EQ(config->plugin_paths, (std::vector<std::string>{"/etc/kiln/extra"}));
  EXPECT_EQ(config->log_level, KILN_LOG_DEBUG);
  EXPECT_EQ(config->threads, 6);
  EXPECT_EQ(config->devices, (std::vector<std::string>{"cpu", "gpu:1"}));
}

TEST(RuntimeConfig, AnEmptyFileIsAnEmptyConfiguration) {
  auto config = parse_runtime_config("# nothing yet\n", "/x/kiln.yaml");
  ASSERT_TRUE(config.is_ok());
  EXPECT_TRUE(config->plugins.empty());
  EXPECT_FALSE(config->threads.has_value());
}

void expect_error(const std::string& text, const std::string& where, const std::string& reason) {
  auto config = parse_runtime_config(text, "/cfg/kiln.yaml");
  ASSERT_FALSE(config.is_ok()) << text;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = config.status().message();
  EXPECT_NE(message.find("/cfg/kiln.yaml:" + where), std::string::npos) << message;
  EXPECT_NE(message.find(reason), std::string::npos) << message;
}

TEST(RuntimeConfig, ErrorsNameTheLineAndTheReason) {
  expect_error("threads: 2\nplugins: [a.so\n", "3:", "");  // unterminated flow sequence
  expect_error("threads: 2\nplugns: []\n", "2:1", "unknown key 'plugns'");
  expect_error("threads: -1\n", "1:10", "'threads' must be an integer from 0");
  expect_error("threads: 99999999\n", "1:10", "got '99999999'");
  expect_error("log_level: loud\n", "1:12", "'log_level' must be one of");
  expect_error("plugins: {a: b}\n", "1:10", "'plugins' must be a list of strings");
  expect_error("plugins: [[a]]\n", "1:11", "entries must be non-empty strings");
  expect_error("- just\n- a list\n", "1:1", "the top level must be a mapping");
}

TEST(RuntimeConfig, FilesAreCheckedBeforeTheyAreRead) {
  const auto dir = std::filesystem::temp_directory_path() / "kiln_runtime_config_test";
  std::filesystem::create_directories(dir);
  const std::string big = (dir / "big.yaml").string();
  {
    std::ofstream out(big);
    out << "# " << std::string(kMaxConfigBytes, 'x') << "\n";
  }
  auto too_big = load_runtime_config(big);
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_NE(too_big.status().message().find("over the limit"), std::string::npos);
  auto missing = load_runtime_config((dir / "absent.yaml").string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln
