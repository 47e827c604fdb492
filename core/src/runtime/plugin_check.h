// Checking a plugin before trusting it (`kiln plugins --check`): what the file is, which libraries
// it needs and whether each resolves, what it registers, and what is wrong with it.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

class Runtime;

// The DT_NEEDED entries of an ELF64 shared object, in file order. Fails for a file that is not
// one; reads only within the file's real size.
StatusOr<std::vector<std::string>> read_elf_needed(const std::string& path);

// Loads the plugin at `path` into `runtime` (as kiln_runtime_load_plugin) and describes it as a
// JSON object: {path, loaded, error, host_abi, accepted_abi, name, version, abi, score,
// score_reason, needed: [{name, found, path}], device_apis: [{api, label, devices, note}],
// ops: [{name, min_inputs, max_inputs, min_outputs, max_outputs, doc}], kernels: [{name, op,
// device_api, dtypes, priority, usable, note}], problems: [text]}. A plugin that fails to load is
// described, not an error: `loaded` is false and `error` says why.
std::string check_plugin_json(Runtime& runtime, const std::string& path);

}  // namespace kiln
