// backend.cu: finds the GPUs at initialize(), or says precisely why there are none.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "device.h"
#include "gpu_status.h"

namespace kiln::gpu {
namespace {

// " (CUDA_VISIBLE_DEVICES=...)" for each visibility variable that is set, else "".
std::string visibility_note() {
#if defined(KILN_GPU_HIP)
  const char* variables[] = {"HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"};
#else
  const char* variables[] = {"CUDA_VISIBLE_DEVICES"};
#endif
  std::string note;
  for (const char* variable : variables) {
    if (const char* value = std::getenv(variable)) {
      note += std::string(" (") + variable + "=\"" + value + "\")";
    }
  }
  return note;
}

#if defined(KILN_GPU_HIP)
// The HIP runtime needs the amdkfd kernel driver; without it, say so before asking HIP.
bool kernel_driver_missing(std::string* reason) {
  struct stat st;
  if (stat("/dev/kfd", &st) != 0) {
    *reason = "no /dev/kfd (the AMD GPU kernel driver is not loaded)";
    return true;
  }
  if (access("/dev/kfd", R_OK | W_OK) != 0) {
    *reason =
        "/dev/kfd exists but this user cannot open it for reading and writing (add the user to "
        "the 'render' and 'video' groups)";
    return true;
  }
  return false;
}
#endif

std::string count_failure(gpuError_t error, int runtime_version, int driver_version) {
  const std::string call =
      std::string(KILN_GPU_NAME(gpuGetDeviceCount)) + " returned " + describe_error(error);
#if defined(KILN_GPU_HIP)
  (void)runtime_version;
  (void)driver_version;
  if (error == gpuErrorNoDevice) {
    return "no AMD GPUs: " + call + visibility_note();
  }
  return call;
#else
  if (error == gpuErrorInsufficientDriver) {
    if (driver_version == 0) {
      return "no NVIDIA driver: " + call;
    }
    return "NVIDIA driver too old (it supports CUDA " + version_string(driver_version) +
           ", this plugin's runtime is CUDA " + version_string(runtime_version) + "): " + call;
  }
  if (error == gpuErrorNoDevice) {
    return "no CUDA devices: " + call + visibility_note();
  }
  if (error == cudaErrorStubLibrary) {
    return "the libcuda.so.1 found is the CUDA toolkit's stub, not a driver (take its stubs "
           "folder off the library path): " +
           call;
  }
  return call;
#endif
}

}  // namespace

std::string version_string(int version) {
#if defined(KILN_GPU_HIP)
  // HIP: major * 10^7 + minor * 10^5 + patch.
  return std::to_string(version / 10000000) + "." + std::to_string(version / 100000 % 100);
#else
  // CUDA: major * 1000 + minor * 10.
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
#endif
}

Backend::Backend() {
  (void)gpuRuntimeGetVersion(&runtime_version_);
  (void)gpuDriverGetVersion(&driver_version_);
#if defined(KILN_GPU_HIP)
  if (kernel_driver_missing(&reason_)) {
    return;
  }
#endif
  int count = 0;
  const gpuError_t error = gpuGetDeviceCount(&count);
  if (error != gpuSuccess) {
    (void)gpuGetLastError();
    reason_ = count_failure(error, runtime_version_, driver_version_);
    return;
  }
  if (count <= 0) {
    reason_ = std::string("no ") + KILN_GPU_RUNTIME_NAME + " devices" + visibility_note();
    return;
  }
  devices_.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    devices_.push_back(std::make_unique<Device>(i));
  }
}

Status Backend::lookup(int32_t ordinal, Device** out_device) {
  if (ordinal < 0 || ordinal >= count()) {
    return Status(KILN_STATUS_INVALID_ARGUMENT, device_label(ordinal) + ": no such device (" +
                                                    std::to_string(count()) + " present)");
  }
  *out_device = devices_[static_cast<size_t>(ordinal)].get();
  return {};
}

}  // namespace kiln::gpu
