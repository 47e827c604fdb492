// Opening a plugin's shared object (Boost.DLL) and explaining why it could not be opened, in
// words a user can act on: not a shared object, which dependent library is missing and where it
// was looked for, an undefined symbol, a newer system library.
#pragma once

#include <string>

#include "base/status.h"
#include "kiln/kiln_plugin.h"

namespace kiln {

// Opens `path` (kept open for the life of the process; opening it again reuses the handle) and
// returns its kiln_plugin_get_api. Errors name the file and the reason.
StatusOr<kiln_plugin_get_api_fn> open_plugin_entry(const std::string& path);

struct DlopenFailure {
  StatusCode code;     // NOT_FOUND for a missing dependency, INVALID_ARGUMENT for a bad file, ...
  std::string reason;  // "not a shared object (invalid ELF header)"
};
// Classifies a dlopen failure of `path` from dlerror()'s text. Pure; exposed for tests.
DlopenFailure describe_dlopen_failure(const std::string& path, const std::string& dlerror_text);

// The DT_RUNPATH (or else DT_RPATH) of an ELF64 shared object, "" if it has none or cannot be
// read. Reads only within the file's real size.
std::string read_elf_runpath(const std::string& path);

}  // namespace kiln
