// Device: one device of a registered device API (the CPU, CUDA GPU 1, ...). Process-wide and
// immortal like the plugin that provides it. Every allocation goes through here so that kiln can
// report bytes in use, the peak and live allocations for any plugin.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "kiln/kiln_plugin.h"
#include "runtime/plugin_record.h"

namespace kiln {

class Device {
 public:
  Device(const DeviceApiEntry* api, int32_t ordinal, std::string name, uint64_t total_memory);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceApiEntry& api() const { return *api_; }
  const std::string& api_name() const { return api_->api; }
  const std::string& label() const { return api_->label; }
  bool is_host() const { return api_->is_host; }
  int32_t ordinal() const { return ordinal_; }
  const std::string& name() const { return name_; }
  // "cpu:0", "cuda:1": the device API and ordinal, unique in the process.
  std::string api_spec() const;

  // Zero bytes may give nullptr. Errors name the device.
  StatusOr<void*> allocate(size_t bytes);
  void deallocate(void* ptr, size_t bytes);
  Status copy(int32_t kind, void* dst, const void* src, size_t bytes);
  // Queued on `stream` (a stream from acquire_stream; nullptr: synchronous, as copy()).
  Status copy_on(void* stream, int32_t kind, void* dst, const void* src, size_t bytes);
  Status memset_zero(void* dst, size_t bytes);
  Status synchronize();

  // Streams for executions (device APIs with stream_create): an execution takes one per device
  // it runs kernels on and gives it back when done, so concurrent executions never share one
  // and a stream is created only when every existing one is in use. Streams are never
  // destroyed (devices and plugins live as long as the process). nullptr when the device API
  // has no streams: its work is then synchronous.
  StatusOr<void*> acquire_stream();
  void release_stream(void* stream);
  Status stream_synchronize(void* stream);

  // Graph capture and replay (device APIs of ABI 1.1 with the graph_* entries): records the work
  // queued on `stream` between begin and end into a graph that launch replays.
  bool has_graphs() const;
  Status begin_capture(void* stream);
  StatusOr<void*> end_capture(void* stream);
  Status launch_graph(void* graph, void* stream);
  void destroy_graph(void* graph);

  // Core's counters merged with the plugin's get_stats (total and free memory) when it has one.
  Status get_stats(kiln_device_stats* out);

 private:
  // Prefixes a plugin's error with the device ("device cuda:0: allocate: ...").
  Status wrap(kiln_status* status, const char* what) const;

  const DeviceApiEntry* api_;
  int32_t ordinal_;
  std::string name_;
  uint64_t total_memory_;
  std::atomic<uint64_t> bytes_in_use_{0};
  std::atomic<uint64_t> peak_bytes_{0};
  std::atomic<uint64_t> live_allocations_{0};
  std::mutex streams_mu_;
  std::vector<void*> idle_streams_;
};

}  // namespace kiln
