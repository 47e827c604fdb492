// device_api.cu: the kiln_device_api table of the GPU plugin — thin C callbacks over Device.
#include <string>

#include "device.h"
#include "device_api.h"
#include "gpu_status.h"

namespace kiln::gpu {
namespace {

Backend& backend_of(void* user_data) { return *static_cast<Backend*>(user_data); }

int32_t get_count(void* user_data, const char** out_reason) {
  Backend& backend = backend_of(user_data);
  if (backend.count() == 0 && out_reason != nullptr) {
    *out_reason = backend.reason().c_str();
  }
  return backend.count();
}

kiln_status* get_properties(void* user_data, int32_t ordinal, kiln_device_properties* out) {
  return guarded("get_properties", [&]() -> Status {
    if (out == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "get_properties: out_properties is NULL");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    const DeviceInfo* info = nullptr;
    KILN_GPU_RETURN_IF_ERROR(device->info(&info));
    const size_t size = out->struct_size;  // fill only what the caller's struct holds
    if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, name, size)) out->name = info->name.c_str();
    if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, total_memory, size)) {
      out->total_memory = info->total_memory;
    }
    if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, compute_major, size)) {
      out->compute_major = info->compute_major;
    }
    if (KILN_PLUGIN_HAS_FIELD(kiln_device_properties, compute_minor, size)) {
      out->compute_minor = info->compute_minor;
    }
    return {};
  });
}

kiln_status* allocate(void* user_data, int32_t ordinal, size_t bytes, void** out_ptr) {
  return guarded("allocate", [&]() -> Status {
    if (out_ptr == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "allocate: out_ptr is NULL");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    return device->allocate(bytes, out_ptr);
  });
}

void deallocate(void* user_data, int32_t ordinal, void* ptr) {
  guarded_void("deallocate", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    return device->deallocate(ptr);
  });
}

Status copy_kind(int32_t kind, gpuMemcpyKind* out) {
  switch (kind) {
    case KILN_COPY_HOST_TO_DEVICE:
      *out = gpuMemcpyHostToDevice;
      return {};
    case KILN_COPY_DEVICE_TO_HOST:
      *out = gpuMemcpyDeviceToHost;
      return {};
    case KILN_COPY_DEVICE_TO_DEVICE:
      *out = gpuMemcpyDeviceToDevice;
      return {};
    default:
      return Status(KILN_STATUS_INVALID_ARGUMENT,
                    "copy: unknown copy kind " + std::to_string(kind));
  }
}

kiln_status* copy(void* user_data, int32_t ordinal, int32_t kind, void* dst, const void* src,
                  size_t bytes, void* stream) {
  return guarded("copy", [&]() -> Status {
    gpuMemcpyKind vendor_kind;
    KILN_GPU_RETURN_IF_ERROR(copy_kind(kind, &vendor_kind));
    if (bytes == 0) {
      return {};
    }
    if (dst == nullptr || src == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "copy: NULL source or destination");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuMemcpyAsync, dst, src, bytes, vendor_kind, device->stream_for(stream));
    return device->finish(stream, "a copy");
  });
}

kiln_status* memset_zero(void* user_data, int32_t ordinal, void* dst, size_t bytes, void* stream) {
  return guarded("memset_zero", [&]() -> Status {
    if (bytes == 0) {
      return {};
    }
    if (dst == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "memset_zero: NULL destination");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuMemsetAsync, dst, 0, bytes, device->stream_for(stream));
    return device->finish(stream, "a memset");
  });
}

kiln_status* synchronize(void* user_data, int32_t ordinal) {
  return guarded("synchronize", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuDeviceSynchronize);
    return {};
  });
}

kiln_status* get_stats(void* user_data, int32_t ordinal, kiln_device_stats* out) {
  return guarded("get_stats", [&]() -> Status {
    if (out == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "get_stats: out_stats is NULL");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    return device->stats(out);
  });
}

kiln_status* stream_create(void* user_data, int32_t ordinal, void** out_stream) {
  return guarded("stream_create", [&]() -> Status {
    if (out_stream == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "stream_create: out_stream is NULL");
    }
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    return device->stream_create(out_stream);
  });
}

void stream_destroy(void* user_data, int32_t ordinal, void* stream) {
  guarded_void("stream_destroy", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    return device->stream_destroy(stream);
  });
}

kiln_status* stream_synchronize(void* user_data, int32_t ordinal, void* stream) {
  return guarded("stream_synchronize", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuStreamSynchronize, device->stream_for(stream));
    return {};
  });
}

// Graph capture on a stream the plugin created (relaxed: allocation, which waits on an internal
// stream, stays allowed while a model's kernels are recorded).
kiln_status* graph_begin_capture(void* user_data, int32_t ordinal, void* stream) {
  return guarded("graph_begin_capture", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    if (stream == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT,
                    "graph_begin_capture: capture needs a stream from stream_create, not NULL");
    }
    KILN_GPU_TRY(ordinal, gpuStreamBeginCapture, static_cast<gpuStream_t>(stream),
                 gpuStreamCaptureModeRelaxed);
    return {};
  });
}

kiln_status* graph_end_capture(void* user_data, int32_t ordinal, void* stream, void** out_graph) {
  return guarded("graph_end_capture", [&]() -> Status {
    if (out_graph == nullptr) {
      return Status(KILN_STATUS_INVALID_ARGUMENT, "graph_end_capture: out_graph is NULL");
    }
    *out_graph = nullptr;
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    gpuGraph_t graph = nullptr;
    // Ends the capture even when it was invalidated (then the error says why and graph is NULL).
    const gpuError_t ended = gpuStreamEndCapture(static_cast<gpuStream_t>(stream), &graph);
    if (ended != gpuSuccess) {
      if (graph != nullptr) (void)gpuGraphDestroy(graph);
      (void)gpuGetLastError();
      return call_error(ordinal, KILN_GPU_NAME(gpuStreamEndCapture), ended);
    }
    gpuGraphExec_t exec = nullptr;
    const gpuError_t made = gpuGraphInstantiateWithFlags(&exec, graph, 0);
    (void)gpuGraphDestroy(graph);
    if (made != gpuSuccess) {
      (void)gpuGetLastError();
      return call_error(ordinal, KILN_GPU_NAME(gpuGraphInstantiateWithFlags), made);
    }
    *out_graph = exec;
    return {};
  });
}

kiln_status* graph_launch(void* user_data, int32_t ordinal, void* graph, void* stream) {
  return guarded("graph_launch", [&]() -> Status {
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuGraphLaunch, static_cast<gpuGraphExec_t>(graph),
                 device->stream_for(stream));
    return {};
  });
}

void graph_destroy(void* user_data, int32_t ordinal, void* graph) {
  guarded_void("graph_destroy", [&]() -> Status {
    if (graph == nullptr || process_exiting()) return {};
    Device* device = nullptr;
    KILN_GPU_RETURN_IF_ERROR(backend_of(user_data).lookup(ordinal, &device));
    KILN_GPU_RETURN_IF_ERROR(device->activate());
    KILN_GPU_TRY(ordinal, gpuGraphExecDestroy, static_cast<gpuGraphExec_t>(graph));
    return {};
  });
}

}  // namespace

kiln_device_api make_device_api(Backend* backend) {
  kiln_device_api api = {};
  api.struct_size = sizeof(kiln_device_api);
  api.api = KILN_GPU_DEVICE_API;
  api.label = "gpu";
  api.is_host = 0;
  api.user_data = backend;
  api.get_count = get_count;
  api.get_properties = get_properties;
  api.allocate = allocate;
  api.deallocate = deallocate;
  api.copy = copy;
  api.memset_zero = memset_zero;
  api.synchronize = synchronize;
  api.get_stats = get_stats;
  api.stream_create = stream_create;
  api.stream_destroy = stream_destroy;
  api.stream_synchronize = stream_synchronize;
  api.graph_begin_capture = graph_begin_capture;
  api.graph_end_capture = graph_end_capture;
  api.graph_launch = graph_launch;
  api.graph_destroy = graph_destroy;
  return api;
}

}  // namespace kiln::gpu
