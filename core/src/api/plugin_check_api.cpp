// kiln_runtime_check_plugin: the C face of runtime/plugin_check.h.
#include <cstdlib>
#include <cstring>

#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/plugin_check.h"
#include "runtime/runtime.h"

kiln_status* kiln_runtime_check_plugin(kiln_runtime* runtime, const char* path, char** out_json) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(path);
  KILN_CHECK_ARG(out_json);
  const std::string report = kiln::check_plugin_json(*runtime->runtime, path);
  // malloc, because kiln_buffer_destroy frees with free().
  char* text = static_cast<char*>(std::malloc(report.size() + 1));
  if (text == nullptr) {
    return kiln::make_c_status(kiln::StatusCode::kResourceExhausted,
                               "kiln_runtime_check_plugin: out of memory for the report");
  }
  std::memcpy(text, report.c_str(), report.size() + 1);
  *out_json = text;
  return nullptr;
  KILN_API_END
}
