// Helpers of the plugin records: dtype matching, device counts and names for messages.
#include "runtime/plugin_record.h"

#include "runtime/device.h"

namespace kiln {

bool KernelEntry::accepts_dtype(int32_t dtype) const {
  if (dtypes.empty()) return true;
  for (int32_t d : dtypes)
    if (d == dtype) return true;
  return false;
}

size_t LoadedPlugin::num_devices() const {
  size_t n = 0;
  for (const auto& api : device_apis) n += api->devices.size();
  return n;
}

std::string describe_plugin(const LoadedPlugin& plugin) {
  return "plugin '" + plugin.name + "' (" + plugin.path + ")";
}

std::string abi_version_string(uint32_t version) {
  return std::to_string(version >> 16) + "." + std::to_string(version & 0xffffu);
}

}  // namespace kiln
