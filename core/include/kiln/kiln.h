/* kiln.h: the public C ABI of libkiln, for embedders and other languages.
 *
 * Rules that hold for every function below (stated once, here):
 *  - Errors: a fallible function returns kiln_status* — NULL on success, otherwise a status the
 *    caller owns and frees with kiln_status_destroy(). On failure the out-parameters are left
 *    untouched. No C++ exception crosses this boundary; no input makes the library abort.
 *  - Out-parameters are named out_* and come last.
 *  - Ownership: a handle returned through out_* by a *_create / *_load / *_execute call is owned
 *    by the caller and freed by the matching *_destroy (or *_release for ref-counted tensors).
 *    Handles returned by *_get_* calls are borrowed: they live as long as the object they came
 *    from (a kiln_device* as long as its runtime, a kiln_value* as long as its graph).
 *    Strings returned as const char* are borrowed in the same way. Destroy functions accept NULL.
 *  - Lifetime: objects may be destroyed in any order. A session, model or tensor keeps what it
 *    needs (runtime, plugins, devices) alive internally until it is destroyed itself.
 *  - Input pointers are borrowed for the duration of the call only, and copied if kept, unless
 *    the comment says otherwise.
 *  - Option structs start with struct_size. Initialize them with their *_init() function, which
 *    is inline: it zeroes the struct as the caller's header declares it and sets struct_size to
 *    that size, so it never writes past a struct from an older header. The library reads only
 *    the fields that fit in struct_size, so old callers keep working when fields are appended.
 *    Bindings from other languages do the same: zero the struct, set struct_size, fill fields.
 *  - Threading: a kiln_runtime, kiln_session and kiln_model may be used from many threads at once
 *    (kiln_model_execute is thread safe). A kiln_graph being built is not: build it on one thread.
 *    A kiln_tensor's metadata is immutable; concurrent writes to its data are the caller's race.
 */
#ifndef KILN_KILN_H_
#define KILN_KILN_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kiln/kiln_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef KILN_BUILDING_CORE
#define KILN_API KILN_EXPORT
#else
#define KILN_API
#endif

/* Version of this C ABI. A major bump breaks callers; a minor bump only appends. */
#define KILN_ABI_VERSION_MAJOR 0u
#define KILN_ABI_VERSION_MINOR 1u
#define KILN_ABI_VERSION ((KILN_ABI_VERSION_MAJOR << 16) | KILN_ABI_VERSION_MINOR)

/* Opaque handles. */
typedef struct kiln_runtime kiln_runtime;
typedef struct kiln_device kiln_device;
typedef struct kiln_tensor kiln_tensor;
typedef struct kiln_graph kiln_graph;
typedef struct kiln_value kiln_value;
typedef struct kiln_session kiln_session;
typedef struct kiln_model kiln_model;

/* DLPack (dlpack.h, v1.x). kiln.h does not include it; these are its structs. */
struct DLManagedTensor;
struct DLManagedTensorVersioned;

/* ============================== Library ===================================================== */

/* Semantic version of libkiln, e.g. "0.1.0". Static storage. */
KILN_API const char* kiln_get_version(void);
/* KILN_ABI_VERSION of the loaded library: compare with the header's to detect skew. */
KILN_API uint32_t kiln_get_abi_version(void);
/* Sets the process-wide log level (a kiln_log_level). Also settable by KILN_LOG_LEVEL
 * (trace, debug, info, warn, error, critical, off). Unknown values are ignored. */
KILN_API void kiln_set_log_level(int32_t level);
/* Name of a dtype code ("float32"), or NULL for an unknown code. Static storage. */
KILN_API const char* kiln_dtype_get_name(int32_t dtype);
/* Dtype code for a name ("float32", "bf16" is not accepted), or KILN_DTYPE_INVALID. */
KILN_API int32_t kiln_dtype_from_name(const char* name);

/* ============================== Status ====================================================== */

/* A kiln_status_code. A NULL status is KILN_STATUS_OK. */
KILN_API int32_t kiln_status_get_code(const kiln_status* status);
/* Message of the status ("" for NULL). Lives as long as the status. */
KILN_API const char* kiln_status_get_message(const kiln_status* status);
/* Name of a code ("INVALID_ARGUMENT"). Static storage. */
KILN_API const char* kiln_status_code_get_name(int32_t code);
KILN_API void kiln_status_destroy(kiln_status* status);
/* Frees a buffer that kiln allocated for the caller (kiln_graph_save_to_buffer). */
KILN_API void kiln_buffer_destroy(void* buffer);

/* ============================== Runtime and plugins ========================================= */

typedef struct kiln_runtime_options {
  size_t struct_size;
  /* Plugin shared objects to load explicitly (paths copied). */
  const char* const* plugin_paths;
  size_t num_plugin_paths;
  /* Nonzero (the default): also discover plugins from KILN_PLUGIN_PATH (':'-separated files or
   * folders), from kiln.yaml, and from <libdir>/kiln/plugins beside libkiln.so. */
  int32_t discover_plugins;
  /* kiln.yaml to read; NULL: $KILN_CONFIG if set, else ./kiln.yaml if it exists. */
  const char* config_path;
} kiln_runtime_options;

static inline void kiln_runtime_options_init(kiln_runtime_options* options) {
  if (options == NULL) return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->discover_plugins = 1;
}

/* Creates a runtime: loads plugins and enumerates their devices. A plugin that fails to load is
 * not an error here: it is recorded (kiln_runtime_get_load_error) and logged, and the runtime
 * works without it. `options` may be NULL for the defaults. A malformed kiln.yaml is an error. */
KILN_API kiln_status* kiln_runtime_create(const kiln_runtime_options* options,
                                          kiln_runtime** out_runtime);
KILN_API void kiln_runtime_destroy(kiln_runtime* runtime);

/* Loads one plugin now. Errors name the file and the reason: not a shared object, a missing
 * dependent library, no kiln_plugin_get_api symbol, an incompatible ABI (and which side is
 * newer), a failing initialization, a name or device API already taken. The runtime stays
 * usable after any of them. Loading a plugin already loaded from the same path is a no-op. */
KILN_API kiln_status* kiln_runtime_load_plugin(kiln_runtime* runtime, const char* path);

typedef struct kiln_plugin_info {
  size_t struct_size;
  const char* name;        /* e.g. "cpu" */
  const char* version;     /* the plugin's semver */
  const char* path;        /* the file it was loaded from */
  uint32_t abi_version;    /* plugin ABI (major << 16 | minor) it was built against */
  const char* device_api;  /* device API it registers ("cpu", "cuda", "hip"), or NULL */
  size_t num_devices;      /* devices it provides on this machine */
  const char* device_note; /* why there are no devices (e.g. "no NVIDIA driver"), or "" */
  size_t num_kernels;      /* kernels it registered */
  size_t num_ops;          /* ops (custom op schemas) it registered */
} kiln_plugin_info;

KILN_API size_t kiln_runtime_get_plugin_count(const kiln_runtime* runtime);
/* Strings in *out_info live as long as the runtime. */
KILN_API kiln_status* kiln_runtime_get_plugin_info(const kiln_runtime* runtime, size_t index,
                                                   kiln_plugin_info* out_info);
/* Plugins that failed to load during discovery or kiln_runtime_load_plugin. */
KILN_API size_t kiln_runtime_get_load_error_count(const kiln_runtime* runtime);
/* *out_path and *out_message live as long as the runtime. */
KILN_API kiln_status* kiln_runtime_get_load_error(const kiln_runtime* runtime, size_t index,
                                                  const char** out_path,
                                                  const char** out_message);
/* Checks a plugin before trusting it (`kiln plugins --check`): reads the libraries it needs from
 * the file and whether each resolves, then loads it into the runtime as kiln_runtime_load_plugin
 * does and describes what it registered and what is wrong with it. Writes a NUL-terminated JSON
 * object (fields: docs/plugin-abi.md) to *out_json, freed with kiln_buffer_destroy. A plugin that
 * fails to load is described in the report ("loaded": false, "error"), not returned as an error. */
KILN_API kiln_status* kiln_runtime_check_plugin(kiln_runtime* runtime, const char* path,
                                                char** out_json);

/* ============================== Devices ===================================================== */

KILN_API size_t kiln_runtime_get_device_count(const kiln_runtime* runtime);
/* Devices are ordered host first, then accelerators by plugin load order. Borrowed. */
KILN_API kiln_status* kiln_runtime_get_device(kiln_runtime* runtime, size_t index,
                                              kiln_device** out_device);
/* Finds a device by spec: "cpu", "cpu:0", "gpu" (= "gpu:0"), "gpu:N" (the Nth accelerator of any
 * API), or "<api>:N" ("cuda:0", "hip:1"). NOT_FOUND names the spec and lists what exists. */
KILN_API kiln_status* kiln_runtime_find_device(kiln_runtime* runtime, const char* spec,
                                               kiln_device** out_device);

KILN_API const char* kiln_device_get_label(const kiln_device* device); /* "cpu" or "gpu" */
KILN_API int32_t kiln_device_get_id(const kiln_device* device);       /* ordinal in its label */
KILN_API const char* kiln_device_get_api(const kiln_device* device);  /* "cpu", "cuda", "hip" */
KILN_API const char* kiln_device_get_name(const kiln_device* device); /* e.g. "NVIDIA H100" */
KILN_API int32_t kiln_device_is_host(const kiln_device* device);
/* Caller sets out_stats->struct_size. */
KILN_API kiln_status* kiln_device_get_stats(kiln_device* device, kiln_device_stats* out_stats);
/* Waits for all work queued on the device. */
KILN_API kiln_status* kiln_device_synchronize(kiln_device* device);

/* ============================== Tensors ===================================================== */
/* A kiln_tensor is a reference-counted view (dtype, shape, strides in elements, offset) of a
 * storage on one device. Views share storage; the storage lives until its last view is
 * released. Creation returns one reference. */

/* A zero-filled, contiguous tensor on `device`. A rank-0 tensor is a scalar (shape may be NULL). */
KILN_API kiln_status* kiln_tensor_create(kiln_device* device, int32_t dtype, const int64_t* shape,
                                         size_t rank, kiln_tensor** out_tensor);
/* A contiguous tensor on `device` holding a copy of `data` (host memory, C order).
 * data_size must equal the tensor's byte size. */
KILN_API kiln_status* kiln_tensor_create_from_host(kiln_device* device, int32_t dtype,
                                                   const int64_t* shape, size_t rank,
                                                   const void* data, size_t data_size,
                                                   kiln_tensor** out_tensor);
/* Wraps memory the caller owns on `device` without copying (MAX's borrowed input tensors).
 * strides are in elements (NULL: C-contiguous). `release(release_context)` is called, if not
 * NULL, when the last reference goes; until then the memory must stay valid. */
KILN_API kiln_status* kiln_tensor_create_borrowed(kiln_device* device, int32_t dtype,
                                                  const int64_t* shape, size_t rank,
                                                  const int64_t* strides, void* data,
                                                  void (*release)(void* release_context),
                                                  void* release_context,
                                                  kiln_tensor** out_tensor);
KILN_API void kiln_tensor_retain(kiln_tensor* tensor);
KILN_API void kiln_tensor_release(kiln_tensor* tensor);

KILN_API int32_t kiln_tensor_get_dtype(const kiln_tensor* tensor);
KILN_API size_t kiln_tensor_get_rank(const kiln_tensor* tensor);
/* rank entries; lives as long as the tensor. NULL for rank 0. */
KILN_API const int64_t* kiln_tensor_get_shape(const kiln_tensor* tensor);
/* rank entries, in elements; lives as long as the tensor. NULL for rank 0. */
KILN_API const int64_t* kiln_tensor_get_strides(const kiln_tensor* tensor);
KILN_API int64_t kiln_tensor_get_num_elements(const kiln_tensor* tensor);
/* num_elements * dtype size. */
KILN_API size_t kiln_tensor_get_byte_size(const kiln_tensor* tensor);
KILN_API int32_t kiln_tensor_is_contiguous(const kiln_tensor* tensor);
/* Borrowed; the device the storage lives on. */
KILN_API kiln_device* kiln_tensor_get_device(const kiln_tensor* tensor);
/* Address of element 0 (a device address for device tensors). Lives as long as the tensor. */
KILN_API void* kiln_tensor_get_data(const kiln_tensor* tensor);

/* Copies the tensor's elements, in C order, into host memory `dst` of dst_size bytes
 * (must equal the byte size). Works for any device and any strides. */
KILN_API kiln_status* kiln_tensor_read(const kiln_tensor* tensor, void* dst, size_t dst_size);
/* Copies host memory `src` (C order, src_size == byte size) into a contiguous tensor. */
KILN_API kiln_status* kiln_tensor_write(kiln_tensor* tensor, const void* src, size_t src_size);
/* A new contiguous tensor on `device` with the same elements (any pair of devices). */
KILN_API kiln_status* kiln_tensor_copy_to_device(const kiln_tensor* tensor, kiln_device* device,
                                                 kiln_tensor** out_tensor);
/* A view sharing storage: shape/strides (elements; NULL strides = contiguous) and an element
 * offset relative to this tensor's first element. dtype may differ from the tensor's only if its
 * size is the same. Every addressed element must lie inside the storage (OUT_OF_RANGE if not). */
KILN_API kiln_status* kiln_tensor_view(kiln_tensor* tensor, int32_t dtype, const int64_t* shape,
                                       size_t rank, const int64_t* strides, int64_t offset,
                                       kiln_tensor** out_tensor);
/* The tensor itself (a new reference) if contiguous, else a contiguous copy on its device. */
KILN_API kiln_status* kiln_tensor_contiguous(kiln_tensor* tensor, kiln_tensor** out_tensor);

/* DLPack export. The returned managed tensor holds a reference to the tensor; its deleter
 * releases it. The consumer owns *out and calls its deleter exactly once. */
KILN_API kiln_status* kiln_tensor_to_dlpack_versioned(kiln_tensor* tensor,
                                                      struct DLManagedTensorVersioned** out);
KILN_API kiln_status* kiln_tensor_to_dlpack(kiln_tensor* tensor, struct DLManagedTensor** out);
/* DLPack import without copy. On success kiln takes ownership of `managed` and calls its deleter
 * when the last reference is released; on failure ownership stays with the caller. The device is
 * found among the runtime's devices (kDLCPU, kDLCUDA, kDLCUDAHost, kDLROCM). */
KILN_API kiln_status* kiln_tensor_from_dlpack_versioned(kiln_runtime* runtime,
                                                        struct DLManagedTensorVersioned* managed,
                                                        kiln_tensor** out_tensor);
KILN_API kiln_status* kiln_tensor_from_dlpack(kiln_runtime* runtime,
                                              struct DLManagedTensor* managed,
                                              kiln_tensor** out_tensor);

/* ============================== Graphs ====================================================== */

/* One dimension of a tensor type: static when expr is NULL (size >= 0), else symbolic.
 * expr is a name ("batch") or an expression of names and integers with + - * and parentheses
 * ("2*batch", "seq+1"). */
typedef struct kiln_dim {
  int64_t size;
  const char* expr;
} kiln_dim;

typedef struct kiln_tensor_type {
  size_t struct_size;
  int32_t dtype;
  size_t rank;
  const kiln_dim* dims; /* rank entries */
  const char* device;   /* device ref ("cpu", "gpu:0"); NULL: the session's first device */
  /* Appended in ABI 0.1 (read only when struct_size covers it). Nonzero: a mutable buffer (MAX's
   * BufferType), allowed for graph inputs only; read and written by the ops buffer_load,
   * buffer_store, buffer_store_slice and by plugin ops (inplace_custom), in node order. The
   * tensor the caller passes for such an input is updated in place by kiln_model_execute. */
  int32_t is_buffer;
} kiln_tensor_type;

/* Metadata of a value, model input or model output. All pointers live as long as the object
 * they were read from (graph or model). */
typedef struct kiln_tensor_spec {
  size_t struct_size;
  const char* name;
  int32_t dtype;
  size_t rank;
  const int64_t* shape;          /* rank entries; -1 where the dim is symbolic */
  const char* const* dim_exprs;  /* rank entries; NULL where static, else "batch", "2*batch" */
  const char* device;            /* device ref, or "" when unplaced */
  /* Appended in ABI 0.1 (written only when struct_size covers it): nonzero for a mutable buffer
   * input (see kiln_tensor_type.is_buffer). */
  int32_t is_buffer;
} kiln_tensor_spec;

/* An attribute of an op. Set name, kind, and the field(s) the kind uses (kiln_attr_kind). */
typedef struct kiln_attr {
  const char* name;
  int32_t kind;
  int64_t i;
  double f;
  const char* s;
  const int64_t* ints;
  const double* floats;
  size_t count; /* entries in ints / floats */
  const kiln_tensor* tensor; /* KILN_ATTR_TENSOR: copied into the graph (host copy) */
} kiln_attr;

typedef struct kiln_op_desc {
  size_t struct_size;
  const char* op; /* "add", "matmul", … or a plugin's custom op name */
  const kiln_value* const* inputs;
  size_t num_inputs;
  const kiln_attr* attrs;
  size_t num_attrs;
  /* Output types the graph states (required for custom ops, which have no inference;
   * must agree with inference for core ops when given). */
  const kiln_tensor_type* output_types;
  size_t num_output_types;
  const char* name;   /* optional node name; NULL: generated */
  const char* device; /* optional device ref; NULL: inherited from inputs */
} kiln_op_desc;

KILN_API kiln_status* kiln_graph_create(const char* name, kiln_graph** out_graph);
KILN_API void kiln_graph_destroy(kiln_graph* graph);

/* Adds a graph input. Names must be unique within the graph. */
KILN_API kiln_status* kiln_graph_add_input(kiln_graph* graph, const char* name,
                                           const kiln_tensor_type* type, kiln_value** out_value);
/* Adds a node: verifies the inputs and attributes against the op's schema and infers the output
 * types. Writes up to outputs_capacity output values to out_outputs and their count to
 * *out_num_outputs (both may be NULL/0 to ask only for the count). Errors name the op, the
 * operand and the reason. On error the graph is unchanged. */
KILN_API kiln_status* kiln_graph_add_op(kiln_graph* graph, const kiln_op_desc* desc,
                                        kiln_value** out_outputs, size_t outputs_capacity,
                                        size_t* out_num_outputs);

typedef struct kiln_weight_desc {
  size_t struct_size;
  const char* name; /* unique within the graph */
  int32_t dtype;
  size_t rank;
  const int64_t* shape;
  /* Exactly one source, or none (then it must be supplied at load via kiln_load_options):
   * inline data (copied now), or an external file relative to the graph file's folder. */
  const kiln_tensor* data;
  const char* external_path;
  uint64_t external_offset;
  const char* device;
} kiln_weight_desc;

static inline void kiln_weight_desc_init(kiln_weight_desc* desc) {
  if (desc == NULL) return;
  memset(desc, 0, sizeof *desc);
  desc->struct_size = sizeof *desc;
}
KILN_API kiln_status* kiln_graph_add_weight(kiln_graph* graph, const kiln_weight_desc* desc,
                                            kiln_value** out_value);
/* Sets (replaces) the graph's outputs. */
KILN_API kiln_status* kiln_graph_set_outputs(kiln_graph* graph, const kiln_value* const* values,
                                             size_t num_values);
/* Sets a metadata entry (key and value copied). */
KILN_API kiln_status* kiln_graph_set_metadata(kiln_graph* graph, const char* key,
                                              const char* value);

/* Serialization (.kiln files: protobuf, proto/kiln/graph.proto). Loading validates every field
 * and names the node and the reason; it never trusts a size in the file. */
KILN_API kiln_status* kiln_graph_save(const kiln_graph* graph, const char* path);
/* *out_data is freed with kiln_buffer_destroy. */
KILN_API kiln_status* kiln_graph_save_to_buffer(const kiln_graph* graph, void** out_data,
                                                size_t* out_size);
KILN_API kiln_status* kiln_graph_load(const char* path, kiln_graph** out_graph);
/* External weights of a graph loaded from a buffer resolve relative to the current folder. */
KILN_API kiln_status* kiln_graph_load_from_buffer(const void* data, size_t size,
                                                  kiln_graph** out_graph);

/* Introspection. */
KILN_API const char* kiln_graph_get_name(const kiln_graph* graph);
KILN_API size_t kiln_graph_get_input_count(const kiln_graph* graph);
KILN_API kiln_status* kiln_graph_get_input(const kiln_graph* graph, size_t index,
                                           kiln_value** out_value);
KILN_API size_t kiln_graph_get_output_count(const kiln_graph* graph);
KILN_API kiln_status* kiln_graph_get_output(const kiln_graph* graph, size_t index,
                                            kiln_value** out_value);

typedef struct kiln_node_info {
  size_t struct_size;
  const char* op;
  const char* name;
  size_t num_inputs;
  size_t num_outputs;
  const char* device; /* "" when unplaced */
} kiln_node_info;

KILN_API size_t kiln_graph_get_node_count(const kiln_graph* graph);
/* Strings live as long as the graph. */
KILN_API kiln_status* kiln_graph_get_node_info(const kiln_graph* graph, size_t index,
                                               kiln_node_info* out_info);

typedef struct kiln_weight_info {
  size_t struct_size;
  const char* name;
  int32_t dtype;
  size_t rank;
  const int64_t* shape;
  uint64_t byte_size;
  int32_t is_inline;          /* data stored in the graph */
  const char* external_path;  /* "" unless external */
} kiln_weight_info;

KILN_API size_t kiln_graph_get_weight_count(const kiln_graph* graph);
KILN_API kiln_status* kiln_graph_get_weight_info(const kiln_graph* graph, size_t index,
                                                 kiln_weight_info* out_info);
/* Metadata value for key, or NULL. Lives as long as the graph. */
KILN_API const char* kiln_graph_get_metadata(const kiln_graph* graph, const char* key);

/* Type of a value. */
KILN_API kiln_status* kiln_value_get_spec(const kiln_value* value, kiln_tensor_spec* out_spec);

/* Subgraphs, run by the ops `call` (attribute "callee"), `cond` ("then_branch", "else_branch")
 * and `while_loop` ("predicate", "body"), which name them. A main graph keeps one flat list of
 * named subgraphs. kiln_graph_create_subgraph starts an empty graph whose nodes may name the
 * subgraphs already in `graph`'s list (`graph` may itself be such a subgraph: the list is its
 * main graph's); `graph` must outlive it, and it is destroyed with kiln_graph_destroy. Once built,
 * kiln_graph_add_subgraph copies it into the list (a graph built with kiln_graph_create brings its
 * own subgraphs along); later changes to it are not seen. Names must be unique in the list. */
KILN_API kiln_status* kiln_graph_create_subgraph(kiln_graph* graph, const char* name,
                                                 kiln_graph** out_subgraph);
KILN_API kiln_status* kiln_graph_add_subgraph(kiln_graph* graph, const kiln_graph* subgraph);
KILN_API size_t kiln_graph_get_subgraph_count(const kiln_graph* graph);

/* ============================== Sessions and models ========================================= */

typedef struct kiln_session_options {
  size_t struct_size;
  /* Device specs (see kiln_runtime_find_device); none: "cpu". Graph device refs map onto them:
   * "cpu" refs to the host device, "gpu:N" refs to the Nth accelerator listed here. */
  const char* const* devices;
  size_t num_devices;
  /* CPU threads for kernels; 0 = one per available core. */
  int32_t num_threads;
  /* Plugin paths loaded into the runtime for this session (MAX's custom_extensions). */
  const char* const* custom_extensions;
  size_t num_custom_extensions;
  /* Nonzero: load graphs as written, skipping the optimization passes (constant folding, dead
   * code elimination, fusion). For tests and debugging; results agree either way. */
  int32_t disable_graph_passes;
  /* Nonzero: a node placed on an accelerator whose plugins have no kernel for it fails the load.
   * By default such a node runs on the host device instead (its operands are copied there and its
   * results back where they are used); the placement report says which nodes fell back and why. */
  int32_t disable_cpu_fallback;
  /* Nonzero: a model whose nodes all run on one accelerator with graph support (CUDA/HIP graphs)
   * records its first execution for each set of input shapes as a graph and replays it for the
   * next executions with the same shapes: one launch instead of one per node. Inputs are copied
   * into the graph's buffers and outputs out of them, and one replay of a graph runs at a time.
   * A model that does not qualify, or whose capture fails (a kernel that waits for the device,
   * a data-dependent shape), runs as usual; see docs/runtime.md. */
  int32_t enable_graph_replay;
} kiln_session_options;

static inline void kiln_session_options_init(kiln_session_options* options) {
  if (options == NULL) return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
}
/* Fails if a device spec does not exist or a custom extension fails to load. */
KILN_API kiln_status* kiln_session_create(kiln_runtime* runtime,
                                          const kiln_session_options* options,
                                          kiln_session** out_session);
KILN_API void kiln_session_destroy(kiln_session* session);

typedef struct kiln_load_options {
  size_t struct_size;
  /* Weights supplied by name (MAX's weights_registry); override sources in the graph.
   * Tensors are retained by the model. */
  const char* const* weight_names;
  kiln_tensor* const* weights;
  size_t num_weights;
} kiln_load_options;

static inline void kiln_load_options_init(kiln_load_options* options) {
  if (options == NULL) return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
}
/* Verifies, infers types, places every node on a session device, binds kernels and uploads
 * weights. Fails with the node, op and reason (unknown op, no kernel for a dtype on a device,
 * missing weight, unknown device ref). The graph may be destroyed afterwards. */
KILN_API kiln_status* kiln_session_load(kiln_session* session, const kiln_graph* graph,
                                        const kiln_load_options* options,
                                        kiln_model** out_model);
KILN_API void kiln_model_destroy(kiln_model* model);

KILN_API size_t kiln_model_get_input_count(const kiln_model* model);
KILN_API kiln_status* kiln_model_get_input_spec(const kiln_model* model, size_t index,
                                                kiln_tensor_spec* out_spec);
KILN_API size_t kiln_model_get_output_count(const kiln_model* model);
KILN_API kiln_status* kiln_model_get_output_spec(const kiln_model* model, size_t index,
                                                 kiln_tensor_spec* out_spec);

/* Executes the model. inputs[i] matches input i (dtype, rank, static dims, and symbolic dims
 * consistent across inputs); an input on another device is copied to the input's device.
 * Writes num_outputs new tensor references to out_outputs (outputs_capacity must be at least
 * kiln_model_get_output_count); the caller releases them. Thread safe. */
KILN_API kiln_status* kiln_model_execute(kiln_model* model, kiln_tensor* const* inputs,
                                         size_t num_inputs, kiln_tensor** out_outputs,
                                         size_t outputs_capacity);

/* ============================== Introspection =============================================== */

/* Core ops (schemas built into libkiln), sorted by name. Names live for the process. */
KILN_API size_t kiln_get_op_count(void);
/* NULL when index is out of range. */
KILN_API const char* kiln_get_op_name(size_t index);

/* How libkiln carries out an op a graph names (kiln_get_op_kind). Appended in ABI 0.1. */
typedef enum kiln_op_kind {
  KILN_OP_KIND_UNKNOWN = 0,      /* not an op of libkiln: a plugin's custom op, or no op at all */
  KILN_OP_KIND_KERNEL = 1,       /* a core op run by a plugin's kernel */
  KILN_OP_KIND_EXECUTOR = 2,     /* a core op the executor carries out itself, with no kernel
                                  * (constant, reshape: a view, transfer_to, ...) */
  KILN_OP_KIND_CONTROL_FLOW = 3, /* runs subgraphs (call, cond, while_loop); no schema */
  KILN_OP_KIND_EFFECT = 4,       /* an effect of the executor with no outputs (print); no schema */
  KILN_OP_KIND_BUFFER = 5        /* reads or writes a mutable buffer input (buffer_load,
                                  * buffer_store, buffer_store_slice); run by the executor */
} kiln_op_kind;

/* Every op a graph may name, sorted: the core ops and the ops the executor handles through
 * subgraphs, effects or buffers (kinds KERNEL .. BUFFER). Names live for the process. Appended
 * in ABI 0.1. */
KILN_API size_t kiln_get_graph_op_count(void);
/* NULL when index is out of range. */
KILN_API const char* kiln_get_graph_op_name(size_t index);
/* The kiln_op_kind of `op` (KILN_OP_KIND_UNKNOWN for NULL or a name libkiln does not know). */
KILN_API int32_t kiln_get_op_kind(const char* op);

/* A kernel registered by a loaded plugin. Strings and dtypes live as long as the runtime. */
typedef struct kiln_kernel_info {
  size_t struct_size;
  const char* op;
  const char* name;
  const char* plugin;
  const char* device_api;
  const int32_t* dtypes; /* dtype codes it accepts; num_dtypes == 0: any dtype */
  size_t num_dtypes;
  int32_t dtype_source; /* the input index its dtype is read from, or -1 for output 0 */
  int32_t priority;     /* the highest priority among the candidates wins */
} kiln_kernel_info;

KILN_API size_t kiln_runtime_get_kernel_count(const kiln_runtime* runtime);
KILN_API kiln_status* kiln_runtime_get_kernel_info(const kiln_runtime* runtime, size_t index,
                                                   kiln_kernel_info* out_info);

/* A node of a loaded model, after the optimization passes, with its placement. Strings live as
 * long as the model. */
typedef struct kiln_model_node_info {
  size_t struct_size;
  const char* op;
  const char* name;
  const char* device;                /* the session device it runs on ("cpu:0") */
  const char* kernel;                /* "" when the executor handles it (constant, reshape) */
  const char* plugin;                /* the kernel's plugin, or "" */
  const char* const* input_names;    /* num_inputs value names */
  size_t num_inputs;
  const char* const* output_names;   /* num_outputs value names */
  size_t num_outputs;
  /* Why each other candidate kernel was passed over, one per line ("" when there was none). */
  const char* rejected;
} kiln_model_node_info;

KILN_API size_t kiln_model_get_node_count(const kiln_model* model);
KILN_API kiln_status* kiln_model_get_node_info(const kiln_model* model, size_t index,
                                               kiln_model_node_info* out_info);

/* Per-node timing (`kiln bench --profile`). While profiling is on, every execution of the model
 * waits for each node to finish (on an accelerator: its stream is synchronized after the node)
 * and adds the node's wall time to its totals, so executions are slower and nodes are timed
 * one by one; off (the default) it costs nothing. Enabling it resets the totals. Thread safe. */
KILN_API kiln_status* kiln_model_set_profiling(kiln_model* model, int32_t enabled);

typedef struct kiln_node_profile {
  size_t struct_size;
  uint64_t count;       /* executions of the node since profiling was enabled */
  double total_seconds; /* their summed wall time */
} kiln_node_profile;

/* The totals of node `index` (as kiln_model_get_node_info numbers them). */
KILN_API kiln_status* kiln_model_get_node_profile(const kiln_model* model, size_t index,
                                                  kiln_node_profile* out_profile);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_KILN_H_ */
