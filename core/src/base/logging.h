// The one logging call of libkiln (spdlog underneath). Level from kiln_set_log_level,
// KILN_LOG_LEVEL, or the CLI.
#pragma once

#include <string>

#include "kiln/kiln_types.h"

namespace kiln {

void log_message(int32_t level, const std::string& message);
void set_log_level(int32_t level);
int32_t get_log_level();
// Parses "trace|debug|info|warn|error|critical|off" (case-insensitive); -1 when unknown.
int32_t parse_log_level(const std::string& text);

#define KILN_LOG(level, msg) ::kiln::log_message(KILN_LOG_##level, (msg))

}  // namespace kiln
