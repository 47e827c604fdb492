// cpu_device.cpp: the "cpu" device API — host memory, 64-byte aligned, with allocation statistics.
#include "cpu_device.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "host.h"

namespace kiln_cpu {

namespace {

constexpr size_t kAlignment = 64;
// Each block starts with a header of one alignment unit recording its size, so deallocate can
// keep bytes_in_use exact without a side table.
constexpr size_t kHeader = kAlignment;

std::atomic<uint64_t> g_bytes_in_use{0};
std::atomic<uint64_t> g_peak_bytes{0};
std::atomic<uint64_t> g_num_allocations{0};

std::string read_cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start == std::string::npos) continue;
    return line.substr(start);
  }
  return "CPU";
}

const std::string& cpu_name() {
  static const std::string name = read_cpu_name();
  return name;
}

uint64_t total_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

// MemAvailable from /proc/meminfo (kB), or 0 when unreadable.
uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024u;
  }
  return 0;
}

// KILN_CPU_DEVICES=N (1 to 64, read when the runtime counts devices) exposes N host devices over
// the same memory, so graphs can place values on "cpu:0".."cpu:N-1" and move them between
// devices (transfer_to, allgather) on a machine without accelerators.
int32_t device_count() {
  const char* env = std::getenv("KILN_CPU_DEVICES");
  if (env == nullptr || *env == '\0') return 1;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  return *end == '\0' && n >= 1 && n <= 64 ? static_cast<int32_t>(n) : 1;
}

int32_t get_count(void*, const char** out_reason) {
  if (out_reason) *out_reason = "";
  return device_count();
}

kiln_status* check_ordinal(int32_t ordinal) {
  if (ordinal < 0 || ordinal >= device_count()) {
    return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: device ordinal %d does not exist",
                       ordinal);
  }
  return nullptr;
}

kiln_status* get_properties(void*, int32_t ordinal, kiln_device_properties* out) {
  KILN_CPU_TRY(check_ordinal(ordinal));
  if (out == nullptr) return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: properties is NULL");
  const size_t size = out->struct_size;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, name, size)) out->name = cpu_name().c_str();
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, total_memory, size)) {
    out->total_memory = total_memory_bytes();
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, compute_major, size)) out->compute_major = 0;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, compute_minor, size)) out->compute_minor = 0;
  return nullptr;
}

kiln_status* allocate(void*, int32_t ordinal, size_t bytes, void** out_ptr) {
  KILN_CPU_TRY(check_ordinal(ordinal));
  if (out_ptr == nullptr) return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: out_ptr is NULL");
  // Zero bytes still get a unique, valid block (one alignment unit past the header).
  const size_t payload = bytes == 0 ? kAlignment : bytes;
  if (payload > SIZE_MAX - kHeader - (kAlignment - 1)) {
    return make_status(KILN_STATUS_RESOURCE_EXHAUSTED, "cpu: cannot allocate %zu bytes", bytes);
  }
  const size_t total = (payload + kHeader + kAlignment - 1) / kAlignment * kAlignment;
  void* base = std::aligned_alloc(kAlignment, total);
  if (base == nullptr) {
    return make_status(KILN_STATUS_RESOURCE_EXHAUSTED,
                       "cpu: out of host memory allocating %zu bytes", bytes);
  }
  uint64_t recorded = bytes;
  std::memcpy(base, &recorded, sizeof recorded);
  const uint64_t now = g_bytes_in_use.fetch_add(bytes) + bytes;
  uint64_t peak = g_peak_bytes.load();
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
  }
  g_num_allocations.fetch_add(1);
  *out_ptr = static_cast<char*>(base) + kHeader;
  return nullptr;
}

void deallocate(void*, int32_t, void* ptr) {
  if (ptr == nullptr) return;
  void* base = static_cast<char*>(ptr) - kHeader;
  uint64_t recorded = 0;
  std::memcpy(&recorded, base, sizeof recorded);
  g_bytes_in_use.fetch_sub(recorded);
  g_num_allocations.fetch_sub(1);
  std::free(base);
}

kiln_status* copy(void*, int32_t ordinal, int32_t kind, void* dst, const void* src, size_t bytes,
                  void*) {
  KILN_CPU_TRY(check_ordinal(ordinal));
  if (kind != KILN_COPY_HOST_TO_DEVICE && kind != KILN_COPY_DEVICE_TO_HOST &&
      kind != KILN_COPY_DEVICE_TO_DEVICE) {
    return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: unknown copy kind %d", kind);
  }
  if (bytes == 0) return nullptr;
  if (dst == nullptr || src == nullptr) {
    return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: copy of %zu bytes with a NULL pointer",
                       bytes);
  }
  std::memmove(dst, src, bytes);  // host memory either way; memmove tolerates overlap
  return nullptr;
}

kiln_status* memset_zero(void*, int32_t ordinal, void* dst, size_t bytes, void*) {
  KILN_CPU_TRY(check_ordinal(ordinal));
  if (bytes == 0) return nullptr;
  if (dst == nullptr) {
    return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: memset of %zu bytes at NULL", bytes);
  }
  std::memset(dst, 0, bytes);
  return nullptr;
}

kiln_status* synchronize(void*, int32_t ordinal) { return check_ordinal(ordinal); }

kiln_status* get_stats(void*, int32_t ordinal, kiln_device_stats* out) {
  KILN_CPU_TRY(check_ordinal(ordinal));
  if (out == nullptr) return make_status(KILN_STATUS_INVALID_ARGUMENT, "cpu: stats is NULL");
  const size_t size = out->struct_size;
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, total_memory, size)) {
    out->total_memory = total_memory_bytes();
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, free_memory, size)) {
    out->free_memory = available_memory_bytes();
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, bytes_in_use, size)) {
    out->bytes_in_use = g_bytes_in_use.load();
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, peak_bytes_in_use, size)) {
    out->peak_bytes_in_use = g_peak_bytes.load();
  }
  if (KILN_PLUGIN_HAS_FIELD(kiln_device_stats, num_allocations, size)) {
    out->num_allocations = g_num_allocations.load();
  }
  return nullptr;
}

}  // namespace

kiln_status* register_cpu_device(kiln_registrar* registrar) {
  (void)cpu_name();  // read /proc/cpuinfo once, at initialization
  kiln_device_api api{};
  api.struct_size = sizeof api;
  api.api = "cpu";
  api.label = "cpu";
  api.is_host = 1;
  api.user_data = nullptr;
  api.get_count = get_count;
  api.get_properties = get_properties;
  api.allocate = allocate;
  api.deallocate = deallocate;
  api.copy = copy;
  api.memset_zero = memset_zero;
  api.synchronize = synchronize;
  api.get_stats = get_stats;
  api.stream_create = nullptr;
  api.stream_destroy = nullptr;
  api.stream_synchronize = nullptr;
  return g_host->register_device_api(registrar, &api);
}

}  // namespace kiln_cpu
