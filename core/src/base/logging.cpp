// Logging through spdlog to stderr; the level starts from KILN_LOG_LEVEL (default: warn).
#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>  // declares stderr_sink_mt in spdlog 1.10
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace kiln {
namespace {

std::atomic<int32_t> g_level{-1};

int32_t initial_level() {
  const char* env = std::getenv("KILN_LOG_LEVEL");
  int32_t level = env ? parse_log_level(env) : -1;
  return level >= 0 ? level : KILN_LOG_WARN;
}

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("kiln", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("[kiln %l] %v");
    l->set_level(spdlog::level::trace);  // filtering happens in log_message
    return l;
  }();
  return *instance;
}

}  // namespace

int32_t parse_log_level(const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int32_t i = 0; i < 7; ++i)
    if (t == kNames[i]) return i;
  if (t == "warning") return KILN_LOG_WARN;
  return -1;
}

int32_t get_log_level() {
  int32_t level = g_level.load(std::memory_order_relaxed);
  if (level < 0) {
    level = initial_level();
    g_level.store(level, std::memory_order_relaxed);
  }
  return level;
}

void set_log_level(int32_t level) {
  if (level >= KILN_LOG_TRACE && level <= KILN_LOG_OFF) g_level.store(level);
}

void log_message(int32_t level, const std::string& message) {
  if (level < get_log_level() || level >= KILN_LOG_OFF) return;
  logger().log(static_cast<spdlog::level::level_enum>(level), "{}", message);
}

}  // namespace kiln
