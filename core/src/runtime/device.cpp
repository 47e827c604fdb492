// Device: allocation accounting around a plugin's device API, and its copies and statistics.
#include "runtime/device.h"

#include <cstring>

#include "api/c_status.h"

namespace kiln {

Device::Device(const DeviceApiEntry* api, int32_t ordinal, std::string name, uint64_t total_memory)
    : api_(api), ordinal_(ordinal), name_(std::move(name)), total_memory_(total_memory) {}

std::string Device::api_spec() const { return api_->api + ":" + std::to_string(ordinal_); }

Status Device::wrap(kiln_status* status, const char* what) const {
  Status s = from_c_status(status);
  if (s.is_ok()) return s;
  return s.with_context("device " + api_spec() + " (plugin '" + api_->plugin->name + "'): " + what);
}

StatusOr<void*> Device::allocate(size_t bytes) {
  void* ptr = nullptr;
  KILN_RETURN_IF_ERROR(
      wrap(api_->table.allocate(api_->table.user_data, ordinal_, bytes, &ptr), "allocate"));
  if (ptr == nullptr && bytes != 0) {
    return internal_error("device " + api_spec() + ": allocate of " + std::to_string(bytes) +
                          " bytes returned NULL without an error");
  }
  const uint64_t now = bytes_in_use_.fetch_add(bytes) + bytes;
  uint64_t peak = peak_bytes_.load();
  while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
  }
  live_allocations_.fetch_add(1);
  return ptr;
}

void Device::deallocate(void* ptr, size_t bytes) {
  // A zero-byte allocation may have given NULL; it still counted as one allocation.
  if (ptr != nullptr) api_->table.deallocate(api_->table.user_data, ordinal_, ptr);
  bytes_in_use_.fetch_sub(bytes);
  live_allocations_.fetch_sub(1);
}

Status Device::copy(int32_t kind, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::ok();
  return wrap(api_->table.copy(api_->table.user_data, ordinal_, kind, dst, src, bytes, nullptr),
              "copy");
}

Status Device::copy_on(void* stream, int32_t kind, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::ok();
  return wrap(api_->table.copy(api_->table.user_data, ordinal_, kind, dst, src, bytes, stream),
              "copy");
}

bool Device::has_graphs() const {
  const kiln_device_api& t = api_->table;
  return t.stream_create != nullptr && t.stream_synchronize != nullptr &&
         t.graph_begin_capture != nullptr && t.graph_end_capture != nullptr &&
         t.graph_launch != nullptr && t.graph_destroy != nullptr;
}

Status Device::begin_capture(void* stream) {
  return wrap(api_->table.graph_begin_capture(api_->table.user_data, ordinal_, stream),
              "graph_begin_capture");
}

StatusOr<void*> Device::end_capture(void* stream) {
  void* graph = nullptr;
  KILN_RETURN_IF_ERROR(wrap(
      api_->table.graph_end_capture(api_->table.user_data, ordinal_, stream, &graph),
      "graph_end_capture"));
  if (graph == nullptr) {
    return internal_error("device " + api_spec() + ": graph_end_capture gave no graph");
  }
  return graph;
}

Status Device::launch_graph(void* graph, void* stream) {
  return wrap(api_->table.graph_launch(api_->table.user_data, ordinal_, graph, stream),
              "graph_launch");
}

void Device::destroy_graph(void* graph) {
  if (graph != nullptr) api_->table.graph_destroy(api_->table.user_data, ordinal_, graph);
}

Status Device::memset_zero(void* dst, size_t bytes) {
  if (bytes == 0) return Status::ok();
  return wrap(api_->table.memset_zero(api_->table.user_data, ordinal_, dst, bytes, nullptr),
              "memset_zero");
}

Status Device::synchronize() {
  return wrap(api_->table.synchronize(api_->table.user_data, ordinal_), "synchronize");
}

StatusOr<void*> Device::acquire_stream() {
  const kiln_device_api& t = api_->table;
  if (t.stream_create == nullptr || t.stream_synchronize == nullptr) return nullptr;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    if (!idle_streams_.empty()) {
      void* stream = idle_streams_.back();
      idle_streams_.pop_back();
      return stream;
    }
  }
  void* stream = nullptr;
  KILN_RETURN_IF_ERROR(wrap(t.stream_create(t.user_data, ordinal_, &stream), "stream_create"));
  return stream;
}

void Device::release_stream(void* stream) {
  if (stream == nullptr) return;
  std::lock_guard<std::mutex> lock(streams_mu_);
  idle_streams_.push_back(stream);
}

Status Device::stream_synchronize(void* stream) {
  if (stream == nullptr) return Status::ok();
  return wrap(api_->table.stream_synchronize(api_->table.user_data, ordinal_, stream),
              "stream_synchronize");
}

Status Device::get_stats(kiln_device_stats* out) {
  if (out->struct_size < sizeof(size_t)) {
    return invalid_argument("kiln_device_stats.struct_size is " + std::to_string(out->struct_size) +
                            "; set it to sizeof(kiln_device_stats)");
  }
  kiln_device_stats stats{};
  stats.struct_size = sizeof stats;
  stats.total_memory = total_memory_;
  if (api_->table.get_stats != nullptr) {
    kiln_device_stats from_plugin{};
    from_plugin.struct_size = sizeof from_plugin;
    KILN_RETURN_IF_ERROR(
        wrap(api_->table.get_stats(api_->table.user_data, ordinal_, &from_plugin), "get_stats"));
    // The plugin knows the device's memory; kiln knows what kiln holds on it.
    if (from_plugin.total_memory != 0) stats.total_memory = from_plugin.total_memory;
    stats.free_memory = from_plugin.free_memory;
  }
  stats.bytes_in_use = bytes_in_use_.load();
  stats.peak_bytes_in_use = peak_bytes_.load();
  stats.num_allocations = live_allocations_.load();
  // Copy only what the caller's struct holds (it may be from an older header).
  const size_t size = out->struct_size < sizeof stats ? out->struct_size : sizeof stats;
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(size_t),
              reinterpret_cast<const char*>(&stats) + sizeof(size_t), size - sizeof(size_t));
  return Status::ok();
}

}  // namespace kiln
