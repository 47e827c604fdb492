// Plugin discovery: the files a runtime considers, in order (explicit paths, KILN_PLUGIN_PATH,
// kiln.yaml, <folder of libkiln.so>/kiln/plugins), and the choice among builds of one plugin by
// score().
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace kiln {

struct PluginCandidate {
  std::string path;
  std::string
      origin;  // "explicit", "KILN_PLUGIN_PATH", "kiln.yaml '<file>'", "<libdir>/kiln/plugins"
};

// Files in discovery order. Sources that name something missing (a KILN_PLUGIN_PATH entry, a
// plugin_paths folder) are reported in `problems` and skipped.
std::vector<PluginCandidate> collect_plugin_candidates(const RuntimeOptions& options,
                                                       const RuntimeConfig& config,
                                                       std::vector<LoadError>* problems);

// <folder of the library holding this code>/kiln/plugins ("" if it cannot be found).
std::string default_plugin_folder();

// Probes every candidate, keeps per plugin name the highest positive score (ties: the first
// found), logs each rejection with its reason, initializes the winners and adds them to
// `runtime`. Failures are recorded on the runtime; nothing here fails.
void load_discovered_plugins(Runtime& runtime, const std::vector<PluginCandidate>& candidates);

}  // namespace kiln
