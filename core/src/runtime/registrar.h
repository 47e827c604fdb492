// The registrar a plugin's initialize() registers through. Registrations collect in a pending
// plugin record that is committed only when initialize() succeeds, so a failing plugin leaves
// nothing behind.
#pragma once

#include <atomic>

#include "kiln/kiln_plugin.h"
#include "runtime/plugin_record.h"

namespace kiln {
class PluginRegistry;
}  // namespace kiln

struct kiln_registrar {
  kiln::LoadedPlugin* pending = nullptr;           // receives the registrations
  const kiln::PluginRegistry* registry = nullptr;  // for conflicts; the loader holds its lock
  std::atomic<bool> open{true};                    // false once initialize() has returned
};

namespace kiln {

// The host_api entries.
kiln_status* registrar_register_device_api(kiln_registrar* registrar, const kiln_device_api* api);
kiln_status* registrar_register_op(kiln_registrar* registrar, const kiln_op_def* op);
kiln_status* registrar_register_kernel(kiln_registrar* registrar, const kiln_kernel_def* kernel);

}  // namespace kiln
