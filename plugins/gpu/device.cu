// device.cu: one GPU — properties, internal streams, the memory pool and its accounting.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "device.h"
#include "gpu_status.h"

namespace kiln::gpu {

Status Device::info(const DeviceInfo** out) {
  std::call_once(info_once_, [this] {
    gpuDeviceProp_t prop;
    std::memset(&prop, 0, sizeof(prop));
    info_error_ = gpuGetDeviceProperties(&prop, ordinal_);
    if (info_error_ != gpuSuccess) {
      return;
    }
    info_.name = prop.name;
#if defined(KILN_GPU_HIP)
    if (prop.gcnArchName[0] != '\0') {
      info_.name += std::string(" (") + prop.gcnArchName + ")";
    }
#endif
    info_.total_memory = prop.totalGlobalMem;
    info_.compute_major = prop.major;
    info_.compute_minor = prop.minor;
    info_.multiprocessors = prop.multiProcessorCount;
  });
  if (info_error_ != gpuSuccess) {
    return call_error(ordinal_, KILN_GPU_NAME(gpuGetDeviceProperties), info_error_);
  }
  *out = &info_;
  return {};
}

// Sets the device only when it is not already current. The previous device is not restored:
// restoring "device 0" on a thread that never chose one would create a context on device 0.
Status Device::set_current() const {
  int current = -1;
  if (gpuGetDevice(&current) == gpuSuccess && current == ordinal_) {
    return {};
  }
  KILN_GPU_TRY(ordinal_, gpuSetDevice, ordinal_);
  return {};
}

Status Device::activate() {
  KILN_GPU_RETURN_IF_ERROR(set_current());
  if (ready_.load(std::memory_order_acquire)) {
    return {};
  }
  std::lock_guard<std::mutex> lock(setup_mutex_);
  if (ready_.load(std::memory_order_relaxed)) {
    return {};
  }
  KILN_GPU_RETURN_IF_ERROR(create_resources());
  ready_.store(true, std::memory_order_release);
  return {};
}

Status Device::create_resources() {
  if (sync_stream_ == nullptr) {
    KILN_GPU_TRY(ordinal_, gpuStreamCreateWithFlags, &sync_stream_, gpuStreamNonBlocking);
  }
  if (free_stream_ == nullptr) {
    KILN_GPU_TRY(ordinal_, gpuStreamCreateWithFlags, &free_stream_, gpuStreamNonBlocking);
  }
  if (alloc_stream_ == nullptr) {
    KILN_GPU_TRY(ordinal_, gpuStreamCreateWithFlags, &alloc_stream_, gpuStreamNonBlocking);
  }
  if (sync_event_ == nullptr) {
    KILN_GPU_TRY(ordinal_, gpuEventCreateWithFlags, &sync_event_, gpuEventDisableTiming);
  }
  const char* pool_setting = std::getenv("KILN_GPU_MEMORY_POOL");
  if (pool_setting != nullptr && std::strcmp(pool_setting, "0") == 0) {
    log(KILN_LOG_INFO,
        device_label(ordinal_) + ": KILN_GPU_MEMORY_POOL=0; using " KILN_GPU_NAME(gpuMalloc));
    return {};
  }
  int pools_supported = 0;
  if (gpuDeviceGetAttribute(&pools_supported, gpuDeviceAttributeMemoryPoolsSupported, ordinal_) !=
          gpuSuccess ||
      pools_supported == 0) {
    (void)gpuGetLastError();
    log(KILN_LOG_INFO, device_label(ordinal_) +
                           ": no stream-ordered memory pools; using " KILN_GPU_NAME(gpuMalloc));
    return {};
  }
  const char* failed_call = nullptr;
  const gpuError_t error = create_pool(&failed_call);
  if (error != gpuSuccess) {
    (void)gpuGetLastError();
    log(KILN_LOG_WARN, device_label(ordinal_) + ": " + failed_call + " failed: " +
                           describe_error(error) + "; using " KILN_GPU_NAME(gpuMalloc));
  }
  return {};
}

// The device's private pool. Keeps freed memory cached, and never lets an allocation wait on
// another stream's work: memory whose free is still pending is left alone until it completes,
// and the pool grows instead.
gpuError_t Device::create_pool(const char** out_failed_call) {
  gpuMemPoolProps props;
  std::memset(&props, 0, sizeof(props));
  props.allocType = gpuMemAllocationTypePinned;
  props.handleTypes = gpuMemHandleTypeNone;
  props.location.type = gpuMemLocationTypeDevice;
  props.location.id = ordinal_;
  gpuMemPool_t pool = nullptr;
  gpuError_t error = gpuMemPoolCreate(&pool, &props);
  if (error != gpuSuccess) {
    *out_failed_call = KILN_GPU_NAME(gpuMemPoolCreate);
    return error;
  }
  uint64_t keep_all = std::numeric_limits<uint64_t>::max();
  int no_internal_dependencies = 0;
  error = gpuMemPoolSetAttribute(pool, gpuMemPoolAttrReleaseThreshold, &keep_all);
  if (error == gpuSuccess) {
    error = gpuMemPoolSetAttribute(pool, gpuMemPoolReuseAllowInternalDependencies,
                                   &no_internal_dependencies);
  }
  if (error != gpuSuccess) {
    *out_failed_call = KILN_GPU_NAME(gpuMemPoolSetAttribute);
    (void)gpuMemPoolDestroy(pool);
    return error;
  }
  pool_ = pool;
  return gpuSuccess;
}

gpuStream_t Device::stream_for(void* stream) const {
  return stream != nullptr ? static_cast<gpuStream_t>(stream) : sync_stream_;
}

Status Device::finish(void* stream, const char* what) {
  if (stream != nullptr) {
    return {};
  }
  const gpuError_t error = gpuStreamSynchronize(sync_stream_);
  if (error != gpuSuccess) {
    return call_error(ordinal_, KILN_GPU_NAME(gpuStreamSynchronize), error,
                      std::string("while waiting for ") + what);
  }
  return {};
}

Status Device::pool_allocate(size_t bytes, void** out_ptr) {
  void* ptr = nullptr;
  gpuError_t error = gpuMallocFromPoolAsync(&ptr, bytes, pool_, alloc_stream_);
  if (error == gpuErrorMemoryAllocation) {
    // Cached blocks may be too fragmented to serve this size: wait for pending frees, hand the
    // cache back to the device, and try once more.
    (void)gpuGetLastError();
    (void)gpuStreamSynchronize(free_stream_);
    (void)gpuMemPoolTrimTo(pool_, 0);
    error = gpuMallocFromPoolAsync(&ptr, bytes, pool_, alloc_stream_);
  }
  if (error != gpuSuccess) {
    return call_error(ordinal_, KILN_GPU_NAME(gpuMallocFromPoolAsync), error,
                      std::to_string(bytes) + " bytes requested");
  }
  error = gpuStreamSynchronize(alloc_stream_);
  if (error != gpuSuccess) {
    (void)gpuFreeAsync(ptr, alloc_stream_);
    return call_error(ordinal_, KILN_GPU_NAME(gpuStreamSynchronize), error,
                      "after allocating " + std::to_string(bytes) + " bytes");
  }
  *out_ptr = ptr;
  return {};
}

Status Device::allocate(size_t bytes, void** out_ptr) {
  KILN_GPU_RETURN_IF_ERROR(activate());
  const size_t request = std::max<size_t>(bytes, 1);  // a zero-byte tensor still gets an address
  void* ptr = nullptr;
  if (pool_ != nullptr) {
    KILN_GPU_RETURN_IF_ERROR(pool_allocate(request, &ptr));
  } else {
    const gpuError_t error = gpuMalloc(&ptr, request);
    if (error != gpuSuccess) {
      return call_error(ordinal_, KILN_GPU_NAME(gpuMalloc), error,
                        std::to_string(bytes) + " bytes requested");
    }
  }
  {
    std::lock_guard<std::mutex> lock(allocations_mutex_);
    allocations_.emplace(ptr, bytes);
    bytes_in_use_ += bytes;
    peak_bytes_in_use_ = std::max(peak_bytes_in_use_, bytes_in_use_);
  }
  *out_ptr = ptr;
  return {};
}

void Device::order_free_after_user_streams() {
  if (gpuEventRecord(sync_event_, sync_stream_) != gpuSuccess ||
      gpuStreamWaitEvent(free_stream_, sync_event_, 0) != gpuSuccess) {
    (void)gpuGetLastError();
    (void)gpuStreamSynchronize(sync_stream_);
  }
  for (const auto& [stream, event] : user_streams_) {
    if (gpuEventRecord(event, stream) != gpuSuccess ||
        gpuStreamWaitEvent(free_stream_, event, 0) != gpuSuccess) {
      (void)gpuGetLastError();
      (void)gpuStreamSynchronize(stream);  // cannot order the free after this stream: wait for it
    }
  }
}

Status Device::deallocate(void* ptr) {
  if (ptr == nullptr || process_exiting()) {
    return {};
  }
  {
    std::lock_guard<std::mutex> lock(allocations_mutex_);
    const auto it = allocations_.find(ptr);
    if (it == allocations_.end()) {
      return Status(KILN_STATUS_INVALID_ARGUMENT,
                    device_label(ordinal_) +
                        ": not an address this device allocated, or already freed; ignored");
    }
    bytes_in_use_ -= it->second;
    allocations_.erase(it);
  }
  KILN_GPU_RETURN_IF_ERROR(activate());
  gpuError_t error = gpuSuccess;
  if (pool_ == nullptr) {
    error = gpuFree(ptr);
  } else {
    std::lock_guard<std::mutex> lock(streams_mutex_);
    order_free_after_user_streams();
    error = gpuFreeAsync(ptr, free_stream_);
  }
  if (error == gpuErrorRuntimeUnloading) {
    (void)gpuGetLastError();
    return {};  // the runtime is shutting down and takes the memory with it
  }
  if (error != gpuSuccess) {
    return call_error(
        ordinal_, pool_ == nullptr ? KILN_GPU_NAME(gpuFree) : KILN_GPU_NAME(gpuFreeAsync), error);
  }
  return {};
}

Status Device::stream_create(void** out_stream) {
  KILN_GPU_RETURN_IF_ERROR(activate());
  gpuStream_t stream = nullptr;
  gpuEvent_t event = nullptr;
  KILN_GPU_TRY(ordinal_, gpuStreamCreateWithFlags, &stream, gpuStreamNonBlocking);
  const gpuError_t error = gpuEventCreateWithFlags(&event, gpuEventDisableTiming);
  if (error != gpuSuccess) {
    (void)gpuStreamDestroy(stream);
    return call_error(ordinal_, KILN_GPU_NAME(gpuEventCreateWithFlags), error);
  }
  {
    std::lock_guard<std::mutex> lock(streams_mutex_);
    user_streams_.emplace(stream, event);
  }
  *out_stream = stream;
  return {};
}

Status Device::stream_destroy(void* stream) {
  if (stream == nullptr || process_exiting()) {
    return {};
  }
  KILN_GPU_RETURN_IF_ERROR(activate());
  const auto handle = static_cast<gpuStream_t>(stream);
  gpuEvent_t event = nullptr;
  {
    std::lock_guard<std::mutex> lock(streams_mutex_);
    const auto it = user_streams_.find(handle);
    if (it == user_streams_.end()) {
      return Status(KILN_STATUS_INVALID_ARGUMENT,
                    device_label(ordinal_) + ": not a stream this device created; ignored");
    }
    event = it->second;
    user_streams_.erase(it);
    // Frees issued later must still wait for the work this stream has queued.
    if (gpuEventRecord(event, handle) != gpuSuccess ||
        gpuStreamWaitEvent(free_stream_, event, 0) != gpuSuccess) {
      (void)gpuGetLastError();
      (void)gpuStreamSynchronize(handle);
    }
  }
  KILN_GPU_TRY(ordinal_, gpuEventDestroy, event);
  KILN_GPU_TRY(ordinal_, gpuStreamDestroy, handle);
  return {};
}

Status Device::stats(kiln_device_stats* out) {
  KILN_GPU_RETURN_IF_ERROR(activate());
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  KILN_GPU_TRY(ordinal_, gpuMemGetInfo, &free_bytes, &total_bytes);
  std::lock_guard<std::mutex> lock(allocations_mutex_);
  const size_t size = out->struct_size;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, total_memory, size)) out->total_memory = total_bytes;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, free_memory, size)) out->free_memory = free_bytes;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, bytes_in_use, size)) {
    out->bytes_in_use = bytes_in_use_;
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, peak_bytes_in_use, size)) {
    out->peak_bytes_in_use = peak_bytes_in_use_;
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, num_allocations, size)) {
    out->num_allocations = allocations_.size();
  }
  return {};
}

}  // namespace kiln::gpu
