// What a loaded plugin registered: its device APIs (with their devices), custom ops and kernels.
// These records are process-wide and immortal: plugins are never unloaded, so every pointer into
// them stays valid for the life of the process and needs no reference counting.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/kiln_plugin.h"

namespace kiln {

class Device;
struct LoadedPlugin;

struct DeviceApiEntry {
  LoadedPlugin* plugin = nullptr;
  std::string api;    // "cpu", "cuda", "hip", ...
  std::string label;  // "cpu" or "gpu"
  bool is_host = false;
  // The plugin's table, copied; only fields covered by its struct_size are non-NULL here.
  kiln_device_api table{};
  std::vector<std::unique_ptr<Device>> devices;
  std::string device_note;  // why there are no devices, when there are none
};

struct OpEntry {
  LoadedPlugin* plugin = nullptr;
  std::string name;
  std::string doc;
  int32_t min_inputs = 0;
  int32_t max_inputs = -1;  // -1: unbounded
  int32_t min_outputs = 0;
  int32_t max_outputs = -1;
};

struct KernelEntry {
  LoadedPlugin* plugin = nullptr;
  std::string op;
  std::string device_api;
  std::string name;
  std::vector<int32_t> dtypes;  // empty: any dtype
  int32_t dtype_source = 0;     // input index, or -1 for output 0
  int32_t priority = 0;
  kiln_kernel_fn compute = nullptr;
  void* user_data = nullptr;

  bool accepts_dtype(int32_t dtype) const;
};

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string path;  // canonical path of the shared object
  uint32_t abi_version = 0;
  const kiln_plugin_api* table = nullptr;
  std::vector<std::unique_ptr<DeviceApiEntry>> device_apis;
  std::vector<std::unique_ptr<OpEntry>> ops;
  std::vector<std::unique_ptr<KernelEntry>> kernels;

  size_t num_devices() const;
};

// "plugin 'cpu' (/path/libkiln_cpu.so)"
std::string describe_plugin(const LoadedPlugin& plugin);
// "2.0" for an ABI version word.
std::string abi_version_string(uint32_t version);

}  // namespace kiln
