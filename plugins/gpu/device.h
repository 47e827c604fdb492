// device.h: one GPU as the plugin manages it (properties, internal streams, memory pool,
// allocation accounting, the streams it handed out) and the set of GPUs found at initialize().
//
// Threading: every member function may be called from any thread at once. Each call makes the
// device current on the calling thread first (the runtime's current device is per thread).
//
// Memory: allocations come from a private stream-ordered pool per device, which keeps freed
// memory cached (release threshold = all). The device API has no stream on allocate/deallocate,
// so their semantics are cudaMalloc/cudaFree's — usable on every stream when allocate returns,
// and deallocate may be called while queued work still reads the memory — without their
// device-wide synchronization:
//  - allocate takes memory from the pool on an internal stream and waits for that stream
//    (which holds no other work, so the wait is short and never waits for kernels);
//  - deallocate makes an internal "free" stream wait for everything queued so far on every stream
//    this plugin created and on the NULL-stream order, and frees on it: the memory returns to the
//    pool once that work is done.
// Kernels given the NULL stream are queued on the internal NULL-stream order and not waited for
// (a model's kernels run back to back); copies and memsets on it wait, so data the host reads or
// hands over is complete.
// Without pool support on the device, or with KILN_GPU_MEMORY_POOL=0 in the environment (for
// compute-sanitizer runs, or a runtime whose pools misbehave), plain cudaMalloc/cudaFree are used.
#ifndef KILN_PLUGINS_GPU_DEVICE_H_
#define KILN_PLUGINS_GPU_DEVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpu_status.h"
#include "kiln/kiln_plugin.h"
#include "vendor.h"

namespace kiln::gpu {

struct DeviceInfo {
  std::string name;  // e.g. "NVIDIA H100 80GB HBM3", or "AMD Instinct MI210 (gfx90a:sramecc+)"
  uint64_t total_memory = 0;
  int32_t compute_major = 0;
  int32_t compute_minor = 0;
  int32_t multiprocessors = 0;
};

class Device {
 public:
  explicit Device(int32_t ordinal) : ordinal_(ordinal) {}
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  int32_t ordinal() const { return ordinal_; }

  // Read once; creates no context. *out lives as long as the device.
  Status info(const DeviceInfo** out);

  // Makes the device current on this thread and creates its streams and pool on first use.
  Status activate();

  Status allocate(size_t bytes, void** out_ptr);
  Status deallocate(void* ptr);

  // The stream to enqueue on for a caller's stream argument (NULL: the internal one), and the
  // wait that makes a NULL-stream copy synchronous. Call after activate().
  gpuStream_t stream_for(void* stream) const;
  Status finish(void* stream, const char* what);

  Status stream_create(void** out_stream);
  Status stream_destroy(void* stream);

  Status stats(kiln_device_stats* out);

 private:
  Status set_current() const;
  Status create_resources();
  gpuError_t create_pool(const char** out_failed_call);
  Status pool_allocate(size_t bytes, void** out_ptr);
  void order_free_after_user_streams();  // with streams_mutex_ held

  const int32_t ordinal_;

  std::once_flag info_once_;
  DeviceInfo info_;
  gpuError_t info_error_ = gpuSuccess;

  std::mutex setup_mutex_;
  std::atomic<bool> ready_{false};
  gpuStream_t sync_stream_ = nullptr;   // NULL-stream work (kernels, copies, memsets)
  gpuEvent_t sync_event_ = nullptr;     // orders frees after the NULL-stream work queued so far
  gpuStream_t alloc_stream_ = nullptr;  // pool allocations only (waits on it are short)
  gpuStream_t free_stream_ = nullptr;  // deferred frees, ordered after user streams
  gpuMemPool_t pool_ = nullptr;        // nullptr: plain malloc/free

  std::mutex streams_mutex_;  // guards user_streams_ and the use of free_stream_
  std::unordered_map<gpuStream_t, gpuEvent_t> user_streams_;

  std::mutex allocations_mutex_;
  std::unordered_map<void*, size_t> allocations_;
  uint64_t bytes_in_use_ = 0;
  uint64_t peak_bytes_in_use_ = 0;
};

// The devices found at initialize(), or the reason there are none.
class Backend {
 public:
  // Counts the devices; never fails (a failure is a count of 0 and its reason).
  Backend();

  int32_t count() const { return static_cast<int32_t>(devices_.size()); }
  const std::string& reason() const { return reason_; }
  // INVALID_ARGUMENT when the ordinal is out of range.
  Status lookup(int32_t ordinal, Device** out_device);

  int runtime_version() const { return runtime_version_; }
  int driver_version() const { return driver_version_; }

 private:
  std::vector<std::unique_ptr<Device>> devices_;
  std::string reason_;
  int runtime_version_ = 0;
  int driver_version_ = 0;
};

// "13.0" from 13000; "12.4" from 12040.
std::string version_string(int version);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_DEVICE_H_
