/* kiln_types.h: the few types shared by the public C ABI (kiln.h) and the plugin ABI
 * (kiln_plugin.h). Plain C99; includes only C standard headers.
 *
 * Every enum value is explicit and append-only. Enums are passed and stored as int32_t so
 * their size never depends on the compiler. */
#ifndef KILN_KILN_TYPES_H_
#define KILN_KILN_TYPES_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define KILN_EXPORT __declspec(dllexport)
#else
#define KILN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status -------------------------------------------------------------------------------
 * Every fallible call returns a kiln_status*: NULL on success, otherwise an error the caller
 * owns and frees with kiln_status_destroy() (kiln.h) or returns to the host (plugins). A call
 * that fails leaves its out-parameters untouched. Codes are the canonical absl/gRPC set. */
typedef struct kiln_status kiln_status;

typedef enum kiln_status_code {
  KILN_STATUS_OK = 0,
  KILN_STATUS_CANCELLED = 1,
  KILN_STATUS_UNKNOWN = 2,
  KILN_STATUS_INVALID_ARGUMENT = 3, /* the caller passed something malformed */
  KILN_STATUS_DEADLINE_EXCEEDED = 4,
  KILN_STATUS_NOT_FOUND = 5,           /* a file, plugin, device, op, name that does not exist */
  KILN_STATUS_ALREADY_EXISTS = 6,      /* a name that is already taken */
  KILN_STATUS_PERMISSION_DENIED = 7,   /* e.g. a weight path escaping the graph's folder */
  KILN_STATUS_RESOURCE_EXHAUSTED = 8,  /* out of memory, or a size over a stated limit */
  KILN_STATUS_FAILED_PRECONDITION = 9, /* right call, wrong state (e.g. object in use) */
  KILN_STATUS_ABORTED = 10,
  KILN_STATUS_OUT_OF_RANGE = 11, /* an index or offset outside its bounds */
  KILN_STATUS_UNIMPLEMENTED = 12, /* valid request that no loaded code implements */
  KILN_STATUS_INTERNAL = 13,      /* a bug in kiln or a plugin */
  KILN_STATUS_UNAVAILABLE = 14,   /* a device or driver that is not there */
  KILN_STATUS_DATA_LOSS = 15,     /* a truncated or corrupted file */
  KILN_STATUS_UNAUTHENTICATED = 16
} kiln_status_code;

/* ---- Data types: MAX's numeric codes, so files and bindings agree -------------------------- */
typedef enum kiln_dtype {
  KILN_DTYPE_INVALID = 0,
  KILN_DTYPE_BOOL = 1,
  KILN_DTYPE_FLOAT8_E4M3FN = 66,
  KILN_DTYPE_FLOAT8_E4M3FNUZ = 67,
  KILN_DTYPE_FLOAT8_E5M2 = 68,
  KILN_DTYPE_FLOAT8_E5M2FNUZ = 69,
  KILN_DTYPE_FLOAT16 = 70,
  KILN_DTYPE_BFLOAT16 = 71,
  KILN_DTYPE_FLOAT32 = 72,
  KILN_DTYPE_FLOAT64 = 73,
  KILN_DTYPE_UINT8 = 134,
  KILN_DTYPE_INT8 = 135,
  KILN_DTYPE_UINT16 = 136,
  KILN_DTYPE_INT16 = 137,
  KILN_DTYPE_UINT32 = 138,
  KILN_DTYPE_INT32 = 139,
  KILN_DTYPE_UINT64 = 140,
  KILN_DTYPE_INT64 = 141
} kiln_dtype;

/* Size in bytes of one element of `dtype`; 0 for an unknown code. The one place that knows
 * dtype sizes: core and plugins both call this. */
static inline size_t kiln_dtype_size(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_BOOL:
    case KILN_DTYPE_FLOAT8_E4M3FN:
    case KILN_DTYPE_FLOAT8_E4M3FNUZ:
    case KILN_DTYPE_FLOAT8_E5M2:
    case KILN_DTYPE_FLOAT8_E5M2FNUZ:
    case KILN_DTYPE_UINT8:
    case KILN_DTYPE_INT8:
      return 1;
    case KILN_DTYPE_FLOAT16:
    case KILN_DTYPE_BFLOAT16:
    case KILN_DTYPE_UINT16:
    case KILN_DTYPE_INT16:
      return 2;
    case KILN_DTYPE_FLOAT32:
    case KILN_DTYPE_UINT32:
    case KILN_DTYPE_INT32:
      return 4;
    case KILN_DTYPE_FLOAT64:
    case KILN_DTYPE_UINT64:
    case KILN_DTYPE_INT64:
      return 8;
    default:
      return 0;
  }
}

/* ---- Attributes of an op ------------------------------------------------------------------ */
typedef enum kiln_attr_kind {
  KILN_ATTR_INVALID = 0,
  KILN_ATTR_INT = 1,    /* i */
  KILN_ATTR_FLOAT = 2,  /* f */
  KILN_ATTR_STRING = 3, /* s (NUL-terminated) */
  KILN_ATTR_INTS = 4,   /* ints[count] */
  KILN_ATTR_FLOATS = 5, /* floats[count] */
  KILN_ATTR_BOOL = 6,   /* i (0 or 1) */
  KILN_ATTR_DTYPE = 7,  /* i (a kiln_dtype code) */
  KILN_ATTR_TENSOR = 8  /* a tensor value (kiln.h: kiln_attr.tensor) */
} kiln_attr_kind;

/* ---- Logging ------------------------------------------------------------------------------ */
typedef enum kiln_log_level {
  KILN_LOG_TRACE = 0,
  KILN_LOG_DEBUG = 1,
  KILN_LOG_INFO = 2,
  KILN_LOG_WARN = 3,
  KILN_LOG_ERROR = 4,
  KILN_LOG_CRITICAL = 5,
  KILN_LOG_OFF = 6
} kiln_log_level;

/* ---- Device statistics, filled by a device's plugin ---------------------------------------- */
typedef struct kiln_device_stats {
  size_t struct_size;          /* set by the caller to sizeof(kiln_device_stats) */
  uint64_t total_memory;       /* bytes; 0 when unknown */
  uint64_t free_memory;        /* bytes; 0 when unknown */
  uint64_t bytes_in_use;       /* bytes kiln currently holds on the device */
  uint64_t peak_bytes_in_use;  /* high-water mark of bytes_in_use */
  uint64_t num_allocations;    /* live allocations */
} kiln_device_stats;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_KILN_TYPES_H_ */
