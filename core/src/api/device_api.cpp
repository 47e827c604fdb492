// The C ABI of devices: enumeration, lookup by spec, properties, statistics, synchronization.
#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/device.h"

extern "C" {

size_t kiln_runtime_get_device_count(const kiln_runtime* runtime) {
  return runtime ? runtime->runtime->device_count() : 0;
}

kiln_status* kiln_runtime_get_device(kiln_runtime* runtime, size_t index,
                                     kiln_device** out_device) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(out_device);
  kiln_device* device = runtime->runtime->device(index);
  if (device == nullptr) {
    return kiln::make_c_status(kiln::StatusCode::kOutOfRange,
                               "kiln_runtime_get_device: index " + std::to_string(index) +
                                   " is out of range (the runtime has " +
                                   std::to_string(runtime->runtime->device_count()) + " devices)");
  }
  *out_device = device;
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_runtime_find_device(kiln_runtime* runtime, const char* spec,
                                      kiln_device** out_device) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(spec);
  KILN_CHECK_ARG(out_device);
  auto device = runtime->runtime->find_device(spec);
  if (!device.is_ok()) return kiln::to_c_status(device.status());
  *out_device = *device;
  return nullptr;
  KILN_API_END
}

const char* kiln_device_get_label(const kiln_device* device) {
  return device ? device->device->label().c_str() : "";
}

int32_t kiln_device_get_id(const kiln_device* device) { return device ? device->id : -1; }

const char* kiln_device_get_api(const kiln_device* device) {
  return device ? device->device->api_name().c_str() : "";
}

const char* kiln_device_get_name(const kiln_device* device) {
  return device ? device->device->name().c_str() : "";
}

int32_t kiln_device_is_host(const kiln_device* device) {
  return device && device->device->is_host() ? 1 : 0;
}

kiln_status* kiln_device_get_stats(kiln_device* device, kiln_device_stats* out_stats) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(device);
  KILN_CHECK_ARG(out_stats);
  return kiln::to_c_status(device->device->get_stats(out_stats));
  KILN_API_END
}

kiln_status* kiln_device_synchronize(kiln_device* device) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(device);
  return kiln::to_c_status(device->device->synchronize());
  KILN_API_END
}

}  // extern "C"
