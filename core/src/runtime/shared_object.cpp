// Opening plugin shared objects with Boost.DLL; handles are kept for the life of the process.
#include "runtime/shared_object.h"

#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

namespace kiln {
namespace {

// Never unloaded: code from a plugin may run until the process exits, and unloading a library
// whose initializers ran (even without initialize()) is not safe in general.
std::mutex g_open_mutex;
std::map<std::string, boost::dll::shared_library>* g_open =
    new std::map<std::string, boost::dll::shared_library>;

// Boost.DLL's what() is "...load() failed (dlerror system message: <text>): Bad file
// descriptor"; the dlerror text is the part worth showing.
std::string dlerror_text_of(const std::string& what) {
  const std::string marker = "(dlerror system message: ";
  const size_t start = what.find(marker);
  if (start == std::string::npos) return what;
  const size_t begin = start + marker.size();
  const size_t end = what.rfind(')');
  if (end == std::string::npos || end < begin) return what.substr(begin);
  return what.substr(begin, end - begin);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string search_places(const std::string& plugin_path) {
  const char* ld = std::getenv("LD_LIBRARY_PATH");
  const std::string runpath = read_elf_runpath(plugin_path);
  return std::string(" (LD_LIBRARY_PATH ") +
         (ld && *ld ? std::string("is '") + ld + "'" : std::string("is not set")) + "; RUNPATH " +
         (runpath.empty() ? std::string("is not set") : "is '" + runpath + "'") + ")";
}

}  // namespace

DlopenFailure describe_dlopen_failure(const std::string& path, const std::string& text) {
  // glibc's texts are "<object>: <reason>"; the object is the plugin or one of its dependencies.
  const size_t colon = text.find(": ");
  const std::string object = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string reason = colon == std::string::npos ? text : text.substr(colon + 2);
  const bool about_plugin =
      object.empty() || object == path || base_name(object) == base_name(path);

  if (starts_with(reason, "invalid ELF header") || starts_with(reason, "file too short") ||
      starts_with(reason, "only ET_DYN and ET_EXEC can be loaded")) {
    return {StatusCode::kInvalidArgument, "not a shared object (" + reason + ")"};
  }
  if (starts_with(reason, "wrong ELF class") || reason.find("ELF file OS ABI invalid") == 0 ||
      reason.find("ELF file data encoding not") == 0) {
    return {StatusCode::kInvalidArgument, "built for another kind of machine (" + reason + ")"};
  }
  if (starts_with(reason, "cannot open shared object file") && !about_plugin) {
    return {StatusCode::kNotFound,
            "it needs " + object +
                ", which was not found in LD_LIBRARY_PATH, the plugin's RUNPATH or the system "
                "library folders" +
                search_places(path) + " (dlopen: " + text + ")"};
  }
  if (starts_with(reason, "cannot open shared object file")) {
    return {StatusCode::kNotFound, "cannot open the file (" + reason + ")"};
  }
  if (starts_with(reason, "undefined symbol: ")) {
    return {StatusCode::kFailedPrecondition,
            "symbol '" + reason.substr(18) + "' is undefined" +
                (about_plugin ? "" : " in " + object) +
                ": no library it links provides it (built against other versions of its "
                "libraries?)"};
  }
  if (reason.find("not found (required by") != std::string::npos) {
    return {StatusCode::kFailedPrecondition,
            "it needs a newer " + object + " than this system has (" + reason + ")"};
  }
  return {StatusCode::kInvalidArgument, "dlopen failed: " + text};
}

StatusOr<kiln_plugin_get_api_fn> open_plugin_entry(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_open_mutex);
  auto it = g_open->find(path);
  if (it == g_open->end()) {
    boost::dll::shared_library lib;
    try {
      // rtld_now: an unresolved symbol is reported here, not as a crash at its first call.
      lib.load(boost::dll::fs::path(path),
               boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
      // The throwing overload: its what() carries dlerror()'s text; the error_code one does not.
      const DlopenFailure failure = describe_dlopen_failure(path, dlerror_text_of(e.what()));
      return Status(failure.code, "cannot load plugin '" + path + "': " + failure.reason);
    }
    it = g_open->emplace(path, std::move(lib)).first;
  }
  boost::dll::shared_library& lib = it->second;
  if (!lib.has(KILN_PLUGIN_ENTRY_SYMBOL)) {
    return not_found("cannot load plugin '" + path + "': it does not export " +
                     KILN_PLUGIN_ENTRY_SYMBOL +
                     " (not a kiln plugin, or built without kiln_add_plugin()'s version script)");
  }
  return lib.get<const kiln_plugin_api*(uint32_t)>(KILN_PLUGIN_ENTRY_SYMBOL);
}

}  // namespace kiln
