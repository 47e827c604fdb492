/* kiln_plugin.h: the plugin ABI — one contract for device backends, kernel libraries and
 * custom-op libraries. Plain C99, includes only kiln_types.h and C standard headers. A plugin
 * links nothing from libkiln: every host service reaches it through kiln_host_api.
 *
 * Life of a plugin:
 *  1. The host dlopens the shared object and looks up the one exported symbol,
 *     kiln_plugin_get_api (pin it with a linker version script; kiln_add_plugin() does).
 *  2. It calls kiln_plugin_get_api(KILN_PLUGIN_ABI_VERSION of the host). The plugin returns its
 *     table if it can serve the host's major version, else NULL. Called with
 *     KILN_PLUGIN_ABI_QUERY it returns the table for inspection only (the host then reads
 *     struct_size, abi_version, name and version, to say which side is newer).
 *     KILN_PLUGIN_DEFINE_ENTRY below implements this correctly.
 *  3. score(), if present, must be cheap and side-effect free. Several plugins with the same
 *     name may be found (ISA variants, GPU architectures); the highest positive score is loaded,
 *     the others are rejected with their reason. A score <= 0 means "cannot run here".
 *  4. initialize() receives the host's services and a registrar through which it registers
 *     device APIs, ops and kernels. The registrar is valid only during initialize().
 *  5. The plugin stays loaded for the life of the process. shutdown() is called at exit, if set.
 *
 * Versioning: the ABI is major.minor. A minor version only appends: new fields at the end of
 * structs (behind struct_size) and new function pointers at the end of tables. Each side reads
 * a field only if the other side's struct_size covers it (KILN_PLUGIN_HAS_FIELD). A major
 * version change is incompatible. See docs/plugin-abi.md.
 *
 * Ownership: strings and arrays the plugin passes in descriptors are copied by the host during
 * the call. Statuses a plugin returns are created with host->status_create and are owned by
 * the host once returned. Pointers the host hands to a kernel live for that kernel call only.
 *
 * Threading: kernels may be called concurrently from several threads (one model executed by many
 * threads, or several models). Device API functions likewise. initialize() runs once.
 */
#ifndef KILN_KILN_PLUGIN_H_
#define KILN_KILN_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#include "kiln/kiln_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_PLUGIN_ABI_MAJOR 1u
#define KILN_PLUGIN_ABI_MINOR 1u
#define KILN_PLUGIN_ABI_VERSION ((KILN_PLUGIN_ABI_MAJOR << 16) | KILN_PLUGIN_ABI_MINOR)
/* Passed to kiln_plugin_get_api by a host that only inspects the plugin. */
#define KILN_PLUGIN_ABI_QUERY 0u
#define KILN_PLUGIN_ENTRY_SYMBOL "kiln_plugin_get_api"

/* True when a struct whose struct_size is `size` contains `field` of `type`. */
#define KILN_PLUGIN_HAS_FIELD(type, field, size) \
  (offsetof(type, field) + sizeof(((type*)0)->field) <= (size))

typedef struct kiln_registrar kiln_registrar;           /* valid during initialize() only */
typedef struct kiln_kernel_context kiln_kernel_context; /* valid during one kernel call only */

/* ---- Devices ------------------------------------------------------------------------------- */

typedef enum kiln_copy_kind {
  KILN_COPY_HOST_TO_DEVICE = 1,
  KILN_COPY_DEVICE_TO_HOST = 2,
  KILN_COPY_DEVICE_TO_DEVICE = 3 /* within one device ordinal */
} kiln_copy_kind;

typedef struct kiln_device_properties {
  size_t struct_size;
  const char* name;        /* e.g. "NVIDIA H100 80GB HBM3"; owned by the plugin */
  uint64_t total_memory;   /* bytes */
  int32_t compute_major;   /* e.g. 9 for sm_90; 0 for CPUs */
  int32_t compute_minor;
} kiln_device_properties;

/* A device API: one family of devices (all CUDA GPUs, the CPU). Every function receives the
 * user_data given here and a device ordinal in [0, get_count()). Optional entries may be NULL.
 * `stream` arguments are NULL for the device's default (synchronous) order. */
typedef struct kiln_device_api {
  size_t struct_size;
  const char* api;   /* unique per process: "cpu", "cuda", "hip", … */
  const char* label; /* "cpu" or "gpu" */
  int32_t is_host;   /* memory is directly addressable by the host */
  void* user_data;
  /* Number of devices present. When 0, *out_reason (plugin-owned string) says why. */
  int32_t (*get_count)(void* user_data, const char** out_reason);
  kiln_status* (*get_properties)(void* user_data, int32_t ordinal,
                                 kiln_device_properties* out_properties);
  kiln_status* (*allocate)(void* user_data, int32_t ordinal, size_t bytes, void** out_ptr);
  void (*deallocate)(void* user_data, int32_t ordinal, void* ptr);
  kiln_status* (*copy)(void* user_data, int32_t ordinal, int32_t kind, void* dst,
                       const void* src, size_t bytes, void* stream);
  kiln_status* (*memset_zero)(void* user_data, int32_t ordinal, void* dst, size_t bytes,
                              void* stream);
  kiln_status* (*synchronize)(void* user_data, int32_t ordinal);
  /* Optional. */
  kiln_status* (*get_stats)(void* user_data, int32_t ordinal, kiln_device_stats* out_stats);
  kiln_status* (*stream_create)(void* user_data, int32_t ordinal, void** out_stream);
  void (*stream_destroy)(void* user_data, int32_t ordinal, void* stream);
  kiln_status* (*stream_synchronize)(void* user_data, int32_t ordinal, void* stream);
  /* ABI 1.1, optional (all four or none): graph capture and replay (CUDA/HIP graphs). Between
   * graph_begin_capture and graph_end_capture, work queued on `stream` (a stream from
   * stream_create) is recorded instead of run; other calls of the device API stay allowed
   * meanwhile (a relaxed capture). graph_end_capture always ends the capture; it fails when the
   * capture did (e.g. a kernel waited for the stream) and then sets *out_graph to NULL.
   * graph_launch queues one replay on a stream; graph_destroy frees the graph. */
  kiln_status* (*graph_begin_capture)(void* user_data, int32_t ordinal, void* stream);
  kiln_status* (*graph_end_capture)(void* user_data, int32_t ordinal, void* stream,
                                    void** out_graph);
  kiln_status* (*graph_launch)(void* user_data, int32_t ordinal, void* graph, void* stream);
  void (*graph_destroy)(void* user_data, int32_t ordinal, void* graph);
} kiln_device_api;

/* ---- Ops and kernels ------------------------------------------------------------------------ */

/* A custom op: its name and arity. Output types come from the graph (as MAX's ops.custom).
 * Core op names cannot be registered. */
typedef struct kiln_op_def {
  size_t struct_size;
  const char* name;
  int32_t min_inputs;
  int32_t max_inputs; /* -1: unbounded */
  int32_t min_outputs;
  int32_t max_outputs; /* -1: unbounded */
  const char* doc;     /* one line shown by `kiln plugins --check`; may be NULL */
} kiln_op_def;

/* A kernel returns NULL on success or a status made with host->status_create. */
typedef kiln_status* (*kiln_kernel_fn)(kiln_kernel_context* ctx, void* user_data);

typedef struct kiln_kernel_def {
  size_t struct_size;
  const char* op;         /* core op or registered custom op */
  const char* device_api; /* must match a registered device API ("cpu", "cuda", …) */
  /* Dtypes accepted for the operand chosen by dtype_source; NULL/0: any dtype. */
  const int32_t* dtypes;
  size_t num_dtypes;
  /* Which operand's dtype selects the kernel: an input index >= 0, or -1 for output 0. */
  int32_t dtype_source;
  /* Among kernels for the same op, device and dtype, the highest priority wins (built-in
   * kernels use 0). Equal priority from two plugins: the first registered wins, logged. */
  int32_t priority;
  kiln_kernel_fn compute;
  void* user_data;
  const char* name; /* shown in placement reports, e.g. "cpu.add.f32" */
} kiln_kernel_def;

/* A tensor as a kernel sees it. Strides are in elements. data is a device address for
 * non-host devices. The host always passes contiguous inputs and outputs in this ABI version. */
typedef struct kiln_kernel_tensor {
  size_t struct_size;
  void* data;
  int32_t dtype;
  int32_t rank;
  const int64_t* shape;   /* rank entries */
  const int64_t* strides; /* rank entries */
  int64_t num_elements;
} kiln_kernel_tensor;

/* An attribute as a kernel sees it (see kiln_attr_kind). Pointers live for the kernel call. */
typedef struct kiln_attr_value {
  size_t struct_size;
  int32_t kind;
  int64_t i;
  double f;
  const char* s;
  size_t count;
  const int64_t* ints;
  const double* floats;
} kiln_attr_value;

/* ---- Host services, passed to initialize() --------------------------------------------------- */

typedef struct kiln_host_api {
  size_t struct_size;
  uint32_t abi_version; /* the host's KILN_PLUGIN_ABI_VERSION */

  /* Services. */
  kiln_status* (*status_create)(int32_t code, const char* message);
  void (*log)(int32_t level, const char* plugin_name, const char* message);
  void* (*host_allocate)(size_t bytes, size_t alignment); /* NULL on failure */
  void (*host_deallocate)(void* ptr);

  /* Registration; valid only inside initialize(). */
  kiln_status* (*register_device_api)(kiln_registrar* registrar, const kiln_device_api* api);
  kiln_status* (*register_op)(kiln_registrar* registrar, const kiln_op_def* op);
  kiln_status* (*register_kernel)(kiln_registrar* registrar, const kiln_kernel_def* kernel);

  /* Kernel context. */
  int32_t (*ctx_get_input_count)(const kiln_kernel_context* ctx);
  int32_t (*ctx_get_output_count)(const kiln_kernel_context* ctx);
  kiln_status* (*ctx_get_input)(const kiln_kernel_context* ctx, int32_t index,
                                kiln_kernel_tensor* out_tensor);
  /* FAILED_PRECONDITION if the output's shape is data-dependent and not yet set. */
  kiln_status* (*ctx_get_output)(kiln_kernel_context* ctx, int32_t index,
                                 kiln_kernel_tensor* out_tensor);
  /* Sets the shape of a data-dependent output and allocates it. */
  kiln_status* (*ctx_set_output_shape)(kiln_kernel_context* ctx, int32_t index,
                                       const int64_t* shape, int32_t rank);
  /* NOT_FOUND when the node has no such attribute. */
  kiln_status* (*ctx_get_attr)(const kiln_kernel_context* ctx, const char* name,
                               kiln_attr_value* out_value);
  int32_t (*ctx_get_num_threads)(const kiln_kernel_context* ctx);
  int32_t (*ctx_get_device_ordinal)(const kiln_kernel_context* ctx);
  void* (*ctx_get_stream)(const kiln_kernel_context* ctx);
  /* Device memory freed when the kernel returns. */
  kiln_status* (*ctx_allocate_scratch)(kiln_kernel_context* ctx, size_t bytes, void** out_ptr);
  /* The node's name and op, for messages. */
  const char* (*ctx_get_node_name)(const kiln_kernel_context* ctx);
  const char* (*ctx_get_op_name)(const kiln_kernel_context* ctx);

  /* Frees a status the host returned to the plugin that the plugin does not pass on (e.g. the
   * NOT_FOUND of ctx_get_attr for an attribute left at its default). Accepts NULL. Check with
   * KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, host->struct_size) before use. */
  void (*status_destroy)(kiln_status* status);
} kiln_host_api;

/* ---- The plugin's table ---------------------------------------------------------------------- */

/* Optional capabilities hang off a typed chain; the host ignores types it does not know. */
typedef struct kiln_plugin_extension {
  size_t struct_size;
  int32_t type; /* a kiln_plugin_extension_type; none defined in 1.0 */
  const struct kiln_plugin_extension* next;
} kiln_plugin_extension;

typedef struct kiln_plugin_api {
  size_t struct_size;   /* sizeof(kiln_plugin_api) as the plugin was compiled */
  uint32_t abi_version; /* KILN_PLUGIN_ABI_VERSION as the plugin was compiled */
  const char* name;     /* unique plugin name, e.g. "cpu"; [A-Za-z0-9_.-]+ */
  const char* version;  /* the plugin's own semver */
  /* Optional: > 0 if it can run here (higher is better); <= 0 with *out_reason if not. */
  int32_t (*score)(const char** out_reason);
  kiln_status* (*initialize)(const kiln_host_api* host, kiln_registrar* registrar);
  void (*shutdown)(void); /* optional */
  const kiln_plugin_extension* extensions;
} kiln_plugin_api;

/* Layout checks: the fields of a released minor never move. */
#ifdef __cplusplus
static_assert(offsetof(kiln_plugin_api, extensions) == 7 * sizeof(void*),
              "kiln_plugin_api 1.0 layout changed");
#endif

typedef const kiln_plugin_api* (*kiln_plugin_get_api_fn)(uint32_t host_abi_version);

/* The one symbol a plugin exports (declared here so C++ definitions get C linkage). */
KILN_EXPORT const kiln_plugin_api* kiln_plugin_get_api(uint32_t host_abi_version);

/* True when a plugin built against this header can serve a host of version host_abi_version. */
static inline int kiln_plugin_abi_accepts(uint32_t host_abi_version) {
  return host_abi_version == KILN_PLUGIN_ABI_QUERY ||
         (host_abi_version >> 16) == KILN_PLUGIN_ABI_MAJOR;
}

/* Defines the entry point of a plugin whose table is the static `table`:
 *   static const kiln_plugin_api kTable = {sizeof(kiln_plugin_api), KILN_PLUGIN_ABI_VERSION, …};
 *   KILN_PLUGIN_DEFINE_ENTRY(kTable)                                                          */
#define KILN_PLUGIN_DEFINE_ENTRY(table)                                                    \
  KILN_EXPORT const kiln_plugin_api* kiln_plugin_get_api(uint32_t host_abi_version) {     \
    return kiln_plugin_abi_accepts(host_abi_version) ? &(table) : (const kiln_plugin_api*)0; \
  }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_KILN_PLUGIN_H_ */
