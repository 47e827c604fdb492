// Loading one plugin file: open it, negotiate the ABI, read its table and score (probe), then
// initialize it and commit what it registered (transactional: all or nothing). Errors name the
// file and the reason.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "kiln/kiln_plugin.h"
#include "runtime/plugin_record.h"

namespace kiln {

// The oldest plugin ABI this kiln loads.
inline constexpr uint32_t kOldestSupportedPluginAbi = KILN_PLUGIN_ABI_MAJOR << 16;

struct ProbedPlugin {
  std::string path;                // canonical
  LoadedPlugin* loaded = nullptr;  // set when this file is already initialized in the process
  const kiln_plugin_api* table = nullptr;
  std::string name;
  std::string version;
  uint32_t abi_version = 0;
  int32_t score = 1;  // a plugin without score() runs anywhere
  std::string score_reason;
};

// Opens and inspects a plugin without initializing it. Cheap and repeatable.
StatusOr<ProbedPlugin> probe_plugin(const std::string& path);
// Initializes a probed plugin (or returns it if the process already has it).
StatusOr<LoadedPlugin*> initialize_plugin(const ProbedPlugin& probe);
// probe_plugin, refusal when its score is <= 0, initialize_plugin.
StatusOr<LoadedPlugin*> load_plugin_file(const std::string& path);

// The message for an ABI mismatch ("plugin ABI 2.0 is newer than this kiln's 1.0; upgrade kiln").
std::string describe_abi_mismatch(uint32_t plugin_abi);

}  // namespace kiln
