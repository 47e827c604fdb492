// `kiln plugins --check`: a plugin described for someone deciding whether to trust it. Dependencies
// are read from the file before anything of it runs; then it is loaded like any plugin (its score()
// and initialize() run; no kernel does) and what it registered is compared with the other plugins
// of the runtime.
#include "runtime/plugin_check.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/dtype.h"
#include "ops/op_schema.h"
#include "runtime/plugin_loader.h"
#include "runtime/plugin_registry.h"
#include "runtime/runtime.h"
#include "runtime/shared_object.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxProgramHeaders = 4096;
constexpr uint64_t kMaxDynamicEntries = 65536;
constexpr size_t kMaxNameText = 4096;

bool read_at(std::ifstream& in, uint64_t file_size, uint64_t offset, void* dst, uint64_t bytes) {
  if (offset > file_size || bytes > file_size - offset) return false;
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
  return static_cast<uint64_t>(in.gcount()) == bytes;
}

// JSON text of a string (quotes, backslashes and control characters escaped).
std::string json(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json(bool b) { return b ? "true" : "false"; }
std::string json(int64_t n) { return std::to_string(n); }

// Comma-separated `"key": value` pairs into an object.
std::string object(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += (i ? ", " : "") + json(fields[i].first) + ": " + fields[i].second;
  }
  return out + "}";
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

// Where the dynamic loader would find `name` for the plugin at `plugin_path`, or "" if nowhere:
// the plugin's RUNPATH first ($ORIGIN expanded), then the process's own search (LD_LIBRARY_PATH,
// the ld.so cache, the system folders).
std::string resolve_library(const std::string& name, const std::string& plugin_path) {
  const std::string origin = fs::path(plugin_path).parent_path().string();
  std::string runpath = read_elf_runpath(plugin_path);
  for (size_t start = 0; !runpath.empty() && start <= runpath.size();) {
    size_t colon = runpath.find(':', start);
    if (colon == std::string::npos) colon = runpath.size();
    std::string folder = runpath.substr(start, colon - start);
    for (const char* token : {"$ORIGIN", "${ORIGIN}"}) {
      const size_t at = folder.find(token);
      if (at != std::string::npos) folder.replace(at, std::string(token).size(), origin);
    }
    std::error_code ec;
    if (!folder.empty() && fs::exists(fs::path(folder) / name, ec)) {
      return (fs::path(folder) / name).string();
    }
    start = colon + 1;
  }
  void* handle = dlopen(name.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) return "";
  std::string found = name;
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      *map->l_name != '\0') {
    found = map->l_name;
  }
  dlclose(handle);
  return found;
}

std::string dtype_list(const KernelEntry& k) {
  std::vector<std::string> names;
  for (int32_t d : k.dtypes) names.push_back(json(dtype_name(static_cast<DType>(d))));
  return array(names);
}

bool dtypes_overlap(const KernelEntry& a, const KernelEntry& b) {
  if (a.dtypes.empty() || b.dtypes.empty()) return true;
  for (int32_t d : a.dtypes)
    if (std::find(b.dtypes.begin(), b.dtypes.end(), d) != b.dtypes.end()) return true;
  return false;
}

}  // namespace

StatusOr<std::vector<std::string>> read_elf_needed(const std::string& path) {
  auto bad = [&](const std::string& why) { return invalid_argument("'" + path + "': " + why); };
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return not_found("'" + path + "' cannot be opened");
  const std::streamoff end = in.tellg();
  if (end <= 0) return bad("the file is empty");
  const uint64_t file_size = static_cast<uint64_t>(end);
  Elf64_Ehdr header;
  if (!read_at(in, file_size, 0, &header, sizeof header) || header.e_ident[EI_MAG0] != ELFMAG0 ||
      header.e_ident[EI_MAG1] != ELFMAG1 || header.e_ident[EI_MAG2] != ELFMAG2 ||
      header.e_ident[EI_MAG3] != ELFMAG3) {
    return bad("not an ELF file");
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
    return bad("not a 64-bit little-endian ELF file");
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > kMaxProgramHeaders) {
    return bad("malformed ELF program headers");
  }
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  if (!read_at(in, file_size, header.e_phoff, segments.data(),
               segments.size() * sizeof(Elf64_Phdr))) {
    return bad("truncated ELF program headers");
  }
  const Elf64_Phdr* dynamic = nullptr;
  for (const Elf64_Phdr& s : segments)
    if (s.p_type == PT_DYNAMIC) dynamic = &s;
  if (dynamic == nullptr) return bad("no dynamic section: not a shared object");
  const uint64_t count = dynamic->p_filesz / sizeof(Elf64_Dyn);
  if (count > kMaxDynamicEntries) return bad("malformed dynamic section");
  std::vector<Elf64_Dyn> entries(count);
  if (!read_at(in, file_size, dynamic->p_offset, entries.data(), count * sizeof(Elf64_Dyn))) {
    return bad("truncated dynamic section");
  }
  uint64_t strtab_address = 0, strtab_size = 0;
  std::vector<uint64_t> needed;
  for (const Elf64_Dyn& e : entries) {
    if (e.d_tag == DT_NULL) break;
    if (e.d_tag == DT_STRTAB) strtab_address = e.d_un.d_ptr;
    if (e.d_tag == DT_STRSZ) strtab_size = e.d_un.d_val;
    if (e.d_tag == DT_NEEDED) needed.push_back(e.d_un.d_val);
  }
  // DT_STRTAB is an address; the loadable segment containing it gives its place in the file.
  uint64_t strtab_offset = UINT64_MAX;
  for (const Elf64_Phdr& s : segments) {
    if (s.p_type == PT_LOAD && strtab_address >= s.p_vaddr &&
        strtab_address - s.p_vaddr < s.p_filesz) {
      strtab_offset = strtab_address - s.p_vaddr + s.p_offset;
    }
  }
  std::vector<std::string> names;
  for (uint64_t offset : needed) {
    if (strtab_offset == UINT64_MAX || offset >= strtab_size) return bad("malformed DT_NEEDED");
    const uint64_t start = strtab_offset + offset;
    if (start >= file_size) return bad("malformed DT_NEEDED");
    const uint64_t length =
        std::min<uint64_t>({strtab_size - offset, file_size - start, kMaxNameText});
    std::string text(length, '\0');
    if (!read_at(in, file_size, start, text.data(), length)) return bad("truncated string table");
    const size_t nul = text.find('\0');
    if (nul != std::string::npos) text.resize(nul);
    names.push_back(std::move(text));
  }
  return names;
}

std::string check_plugin_json(Runtime& runtime, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> problems;
  out.emplace_back("path", json(path));
  out.emplace_back("host_abi", json(abi_version_string(KILN_PLUGIN_ABI_VERSION)));
  out.emplace_back("accepted_abi", json(abi_version_string(kOldestSupportedPluginAbi) + " to " +
                                        std::to_string(KILN_PLUGIN_ABI_MAJOR) + ".x"));

  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  const std::string file = ec ? path : canonical.string();

  // Dependencies, from the file itself: nothing of the plugin has run yet.
  std::vector<std::string> needed;
  auto names = read_elf_needed(file);
  if (names.is_ok()) {
    for (const std::string& name : *names) {
      const std::string where = resolve_library(name, file);
      needed.push_back(
          object({{"name", json(name)}, {"found", json(!where.empty())}, {"path", json(where)}}));
      if (where.empty()) {
        problems.push_back("it needs " + name + ", which is not found (searched: its RUNPATH '" +
                           read_elf_runpath(file) +
                           "', LD_LIBRARY_PATH, the ld.so cache and the system folders)");
      }
    }
  } else {
    problems.push_back(names.status().message());
  }
  out.emplace_back("needed", array(needed));

  auto finish = [&](bool loaded, const std::string& error) {
    out.emplace_back("loaded", json(loaded));
    out.emplace_back("error", json(error));
    std::vector<std::string> texts;
    for (const std::string& p : problems) texts.push_back(json(p));
    out.emplace_back("problems", array(texts));
    return object(out);
  };

  auto probe = probe_plugin(file);
  if (!probe.is_ok()) {
    problems.push_back(probe.status().message());
    return finish(false, probe.status().message());
  }
  out.emplace_back("name", json(probe->name));
  out.emplace_back("version", json(probe->version));
  out.emplace_back("abi", json(abi_version_string(probe->abi_version)));
  out.emplace_back("score", json(static_cast<int64_t>(probe->score)));
  out.emplace_back("score_reason", json(probe->score_reason));
  if ((probe->abi_version & 0xffffu) > KILN_PLUGIN_ABI_MINOR) {
    problems.push_back("it was built against plugin ABI " + abi_version_string(probe->abi_version) +
                       ", newer than this kiln's " + abi_version_string(KILN_PLUGIN_ABI_VERSION) +
                       ": it loads, but may look for features this kiln does not have");
  }

  const Status loaded = runtime.load_plugin(file);
  if (!loaded.is_ok()) {
    problems.push_back(loaded.message());
    return finish(false, loaded.message());
  }
  const LoadedPlugin* plugin = nullptr;
  {
    PluginRegistry& registry = PluginRegistry::instance();
    std::lock_guard<std::mutex> lock(registry.mutex());
    plugin = registry.find_by_path(probe->path);
  }
  if (plugin == nullptr) return finish(false, "the plugin loaded but is not registered");

  std::vector<std::string> apis;
  for (const auto& api : plugin->device_apis) {
    apis.push_back(object({{"api", json(api->api)},
                           {"label", json(api->label)},
                           {"devices", json(static_cast<int64_t>(api->devices.size()))},
                           {"note", json(api->device_note)}}));
  }
  out.emplace_back("device_apis", array(apis));
  std::vector<std::string> ops;
  for (const auto& op : plugin->ops) {
    ops.push_back(object({{"name", json(op->name)},
                          {"min_inputs", json(static_cast<int64_t>(op->min_inputs))},
                          {"max_inputs", json(static_cast<int64_t>(op->max_inputs))},
                          {"min_outputs", json(static_cast<int64_t>(op->min_outputs))},
                          {"max_outputs", json(static_cast<int64_t>(op->max_outputs))},
                          {"doc", json(op->doc)}}));
  }
  out.emplace_back("ops", array(ops));

  // Each kernel against the runtime's other plugins: can it be used here, and what does it
  // replace or lose to (the highest priority wins; at equal priority the first loaded).
  const std::vector<LoadedPlugin*> others = runtime.plugins();
  std::vector<std::string> kernels;
  for (const auto& k : plugin->kernels) {
    bool op_known = is_core_op(k->op), api_known = false;
    std::string note;
    for (const LoadedPlugin* p : others) {
      for (const auto& op : p->ops) op_known = op_known || op->name == k->op;
      for (const auto& api : p->device_apis) api_known = api_known || api->api == k->device_api;
      if (p == plugin) continue;
      for (const auto& other : p->kernels) {
        if (other->op != k->op || other->device_api != k->device_api ||
            !dtypes_overlap(*k, *other)) {
          continue;
        }
        const std::string them = "'" + other->name + "' of plugin '" + p->name + "' (priority " +
                                 std::to_string(other->priority) + ")";
        if (k->priority > other->priority) {
          note += (note.empty() ? "" : "; ") + std::string("replaces ") + them;
        } else if (k->priority < other->priority) {
          note += (note.empty() ? "" : "; ") + std::string("loses to ") + them;
        } else {
          note += (note.empty() ? "" : "; ") + std::string("same priority as ") + them +
                  ": the plugin loaded first wins";
          problems.push_back("kernel '" + k->name + "' has the same priority as " + them +
                             ", so which one runs depends on the load order");
        }
      }
    }
    std::string unusable;
    if (!op_known) {
      unusable = "op '" + k->op + "' is neither a core op nor registered by a loaded plugin";
    } else if (!api_known) {
      unusable = "no loaded plugin provides device API '" + k->device_api + "'";
    }
    if (!unusable.empty()) note = "unused here: " + unusable + (note.empty() ? "" : "; " + note);
    kernels.push_back(object({{"name", json(k->name)},
                              {"op", json(k->op)},
                              {"device_api", json(k->device_api)},
                              {"dtypes", dtype_list(*k)},
                              {"priority", json(static_cast<int64_t>(k->priority))},
                              {"usable", json(unusable.empty())},
                              {"note", json(note)}}));
  }
  out.emplace_back("kernels", array(kernels));
  if (plugin->device_apis.empty() && plugin->ops.empty() && plugin->kernels.empty()) {
    problems.push_back("it registers no device API, op or kernel");
  }
  return finish(true, "");
}

}  // namespace kiln
