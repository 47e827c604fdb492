// kiln.hpp: a small header-only C++17 wrapper over the C ABI (kiln.h) — RAII handles, exceptions.
//
// The C ABI never throws; this wrapper turns every failing call's kiln_status* into a kiln::Error
// (code + message) and frees the status. Ownership follows kiln.h:
//   Runtime, Graph, Session, Model  own their handle (move-only).
//   Tensor                          holds one reference (copy = retain, destroy = release).
//   Device, Value                   are borrowed: valid as long as the runtime / graph they came
//                                   from (a Device also as long as a tensor or session using it).
// Strings and arrays read from the C ABI are copied into std::string / std::vector.
#ifndef KILN_KILN_HPP_
#define KILN_KILN_HPP_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/kiln.h"

namespace kiln {
// The inline namespace keeps these classes' linker names apart from libkiln's internal C++ (also
// in namespace kiln), so the two can never collide in one program.
inline namespace cxx {

// ---- Errors --------------------------------------------------------------------------------

class Error : public std::runtime_error {
 public:
  Error(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  // A kiln_status_code (KILN_STATUS_NOT_FOUND, ...).
  int32_t code() const noexcept { return code_; }
  // "NOT_FOUND", ...
  const char* code_name() const noexcept { return kiln_status_code_get_name(code_); }

 private:
  int32_t code_;
};

namespace detail {
// Throws (and frees) a non-NULL status.
inline void check(kiln_status* status) {
  if (status == nullptr) return;
  const int32_t code = kiln_status_get_code(status);
  std::string message = kiln_status_get_message(status);
  kiln_status_destroy(status);
  throw Error(code, message);
}
inline std::string to_string(const char* s) {
  return s != nullptr ? std::string(s) : std::string();
}
inline const char* c_str_or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }
inline std::vector<const char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size());
  for (const std::string& s : strings) out.push_back(s.c_str());
  return out;
}
}  // namespace detail

// ---- Library -------------------------------------------------------------------------------

inline std::string version() { return detail::to_string(kiln_get_version()); }
// The loaded library's C ABI version (major << 16 | minor).
inline uint32_t abi_version() { return kiln_get_abi_version(); }
// A kiln_log_level.
inline void set_log_level(int32_t level) { kiln_set_log_level(level); }

// ---- Data types ----------------------------------------------------------------------------

enum class DType : int32_t {
  kInvalid = KILN_DTYPE_INVALID,
  kBool = KILN_DTYPE_BOOL,
  kFloat8E4M3FN = KILN_DTYPE_FLOAT8_E4M3FN,
  kFloat8E4M3FNUZ = KILN_DTYPE_FLOAT8_E4M3FNUZ,
  kFloat8E5M2 = KILN_DTYPE_FLOAT8_E5M2,
  kFloat8E5M2FNUZ = KILN_DTYPE_FLOAT8_E5M2FNUZ,
  kFloat16 = KILN_DTYPE_FLOAT16,
  kBFloat16 = KILN_DTYPE_BFLOAT16,
  kFloat32 = KILN_DTYPE_FLOAT32,
  kFloat64 = KILN_DTYPE_FLOAT64,
  kUInt8 = KILN_DTYPE_UINT8,
  kInt8 = KILN_DTYPE_INT8,
  kUInt16 = KILN_DTYPE_UINT16,
  kInt16 = KILN_DTYPE_INT16,
  kUInt32 = KILN_DTYPE_UINT32,
  kInt32 = KILN_DTYPE_INT32,
  kUInt64 = KILN_DTYPE_UINT64,
  kInt64 = KILN_DTYPE_INT64,
};

inline size_t dtype_size(DType dtype) { return kiln_dtype_size(static_cast<int32_t>(dtype)); }
// "float32"; "dtype(<code>)" for a code the library does not know.
inline std::string dtype_name(DType dtype) {
  const char* name = kiln_dtype_get_name(static_cast<int32_t>(dtype));
  return name != nullptr ? std::string(name)
                         : "dtype(" + std::to_string(static_cast<int32_t>(dtype)) + ")";
}
// DType::kInvalid for an unknown name.
inline DType dtype_from_name(const std::string& name) {
  return static_cast<DType>(kiln_dtype_from_name(name.c_str()));
}

// The DType of a C++ element type: dtype_of<float>() == DType::kFloat32.
template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>)
    return DType::kBool;
  else if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::kUInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DType::kInt16;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DType::kUInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DType::kUInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DType::kUInt64;
  else
    return DType::kInvalid;
}

// ---- Shapes --------------------------------------------------------------------------------

// One dim of a tensor type: static (a size) or symbolic (an expression: "batch", "2*seq").
// Converts implicitly, so {"batch", 64} is a shape.
struct Dim {
  int64_t size = 0;  // -1 when symbolic
  std::string expr;  // empty when static

  Dim() = default;
  template <typename I,
            std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Dim(I static_size) : size(static_cast<int64_t>(static_size)) {}
  Dim(const char* symbolic) : size(-1), expr(symbolic != nullptr ? symbolic : "") {}
  Dim(std::string symbolic) : size(-1), expr(std::move(symbolic)) {}

  bool is_symbolic() const { return !expr.empty(); }
  std::string to_string() const { return is_symbolic() ? expr : std::to_string(size); }
  friend bool operator==(const Dim& a, const Dim& b) {
    return a.size == b.size && a.expr == b.expr;
  }
  friend bool operator!=(const Dim& a, const Dim& b) { return !(a == b); }
};

// Type and name of a graph value, model input or model output.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kInvalid;
  std::vector<Dim> dims;
  std::string device;  // device ref, "" when unplaced

  size_t rank() const { return dims.size(); }
  bool is_static() const {
    for (const Dim& d : dims)
      if (d.is_symbolic()) return false;
    return true;
  }
  // Sizes, -1 where symbolic.
  std::vector<int64_t> shape() const {
    std::vector<int64_t> out;
    for (const Dim& d : dims) out.push_back(d.is_symbolic() ? -1 : d.size);
    return out;
  }
  // "float32[batch, 64]"
  std::string to_string() const {
    std::string out = dtype_name(dtype) + "[";
    for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + dims[i].to_string();
    return out + "]";
  }

  static TensorSpec from_c(const kiln_tensor_spec& c) {
    TensorSpec spec;
    spec.name = detail::to_string(c.name);
    spec.dtype = static_cast<DType>(c.dtype);
    spec.device = detail::to_string(c.device);
    for (size_t i = 0; i < c.rank; ++i) {
      const char* expr = c.dim_exprs != nullptr ? c.dim_exprs[i] : nullptr;
      if (expr != nullptr && expr[0] != '\0') {
        spec.dims.emplace_back(std::string(expr));
      } else {
        spec.dims.emplace_back(c.shape != nullptr ? c.shape[i] : int64_t{-1});
      }
    }
    return spec;
  }
};

// ---- Devices -------------------------------------------------------------------------------

// A borrowed device handle; valid as long as its runtime.
class Device {
 public:
  Device() = default;
  explicit Device(kiln_device* device) : device_(device) {}

  std::string label() const { return detail::to_string(kiln_device_get_label(device_)); }
  int32_t id() const { return kiln_device_get_id(device_); }
  std::string api() const { return detail::to_string(kiln_device_get_api(device_)); }
  std::string name() const { return detail::to_string(kiln_device_get_name(device_)); }
  bool is_host() const { return kiln_device_is_host(device_) != 0; }
  // "cpu:0", "gpu:1".
  std::string spec() const { return label() + ":" + std::to_string(id()); }
  kiln_device_stats stats() const {
    kiln_device_stats stats{};
    stats.struct_size = sizeof(stats);
    detail::check(kiln_device_get_stats(device_, &stats));
    return stats;
  }
  void synchronize() const { detail::check(kiln_device_synchronize(device_)); }

  kiln_device* get() const { return device_; }
  explicit operator bool() const { return device_ != nullptr; }

 private:
  kiln_device* device_ = nullptr;
};

// ---- Tensors -------------------------------------------------------------------------------

// One reference to a kiln_tensor. Copying retains, destruction releases.
class Tensor {
 public:
  Tensor() = default;
  // Takes over one reference the caller owns.
  static Tensor adopt(kiln_tensor* tensor) {
    Tensor t;
    t.tensor_ = tensor;
    return t;
  }
  // A zero-filled tensor on `device`.
  static Tensor zeros(const Device& device, DType dtype, const std::vector<int64_t>& shape) {
    kiln_tensor* out = nullptr;
    detail::check(kiln_tensor_create(device.get(), static_cast<int32_t>(dtype), shape.data(),
                                     shape.size(), &out));
    return adopt(out);
  }
  // A tensor on `device` holding a copy of `size` bytes of host data in C order.
  static Tensor from_host(const Device& device, DType dtype, const std::vector<int64_t>& shape,
                          const void* data, size_t size) {
    kiln_tensor* out = nullptr;
    detail::check(kiln_tensor_create_from_host(device.get(), static_cast<int32_t>(dtype),
                                               shape.data(), shape.size(), data, size, &out));
    return adopt(out);
  }
  template <typename T>
  static Tensor from_vector(const Device& device, const std::vector<int64_t>& shape,
                            const std::vector<T>& values) {
    static_assert(dtype_of<T>() != DType::kInvalid && !std::is_same_v<T, bool>,
                  "from_vector: use from_host for bool (std::vector<bool> is packed)");
    return from_host(device, dtype_of<T>(), shape, values.data(), values.size() * sizeof(T));
  }

  Tensor(const Tensor& other) : tensor_(other.tensor_) {
    if (tensor_ != nullptr) kiln_tensor_retain(tensor_);
  }
  Tensor(Tensor&& other) noexcept : tensor_(std::exchange(other.tensor_, nullptr)) {}
  Tensor& operator=(Tensor other) noexcept {
    std::swap(tensor_, other.tensor_);
    return *this;
  }
  ~Tensor() { kiln_tensor_release(tensor_); }

  DType dtype() const { return static_cast<DType>(kiln_tensor_get_dtype(tensor_)); }
  size_t rank() const { return kiln_tensor_get_rank(tensor_); }
  std::vector<int64_t> shape() const {
    const int64_t* dims = kiln_tensor_get_shape(tensor_);
    return dims != nullptr ? std::vector<int64_t>(dims, dims + rank()) : std::vector<int64_t>();
  }
  int64_t num_elements() const { return kiln_tensor_get_num_elements(tensor_); }
  size_t byte_size() const { return kiln_tensor_get_byte_size(tensor_); }
  Device device() const { return Device(kiln_tensor_get_device(tensor_)); }

  // Copies the elements (C order) to host memory of exactly byte_size() bytes.
  void read(void* dst, size_t size) const { detail::check(kiln_tensor_read(tensor_, dst, size)); }
  std::vector<uint8_t> read_bytes() const {
    std::vector<uint8_t> bytes(byte_size());
    read(bytes.data(), bytes.size());
    return bytes;
  }
  // The elements as T; T must match the dtype (uint8_t also reads bool).
  template <typename T>
  std::vector<T> to_vector() const {
    static_assert(!std::is_same_v<T, bool>, "to_vector: read bool tensors as uint8_t");
    const bool matches =
        dtype_of<T>() == dtype() || (std::is_same_v<T, uint8_t> && dtype() == DType::kBool);
    if (!matches) {
      throw Error(KILN_STATUS_INVALID_ARGUMENT, "to_vector: tensor has dtype " +
                                                    dtype_name(dtype()) + ", not " +
                                                    dtype_name(dtype_of<T>()));
    }
    std::vector<T> values(static_cast<size_t>(num_elements()));
    read(values.data(), values.size() * sizeof(T));
    return values;
  }
  void write(const void* src, size_t size) { detail::check(kiln_tensor_write(tensor_, src, size)); }
  Tensor copy_to(const Device& device) const {
    kiln_tensor* out = nullptr;
    detail::check(kiln_tensor_copy_to_device(tensor_, device.get(), &out));
    return adopt(out);
  }

  kiln_tensor* get() const { return tensor_; }
  // Gives up the reference to the caller.
  kiln_tensor* release() { return std::exchange(tensor_, nullptr); }
  explicit operator bool() const { return tensor_ != nullptr; }

 private:
  kiln_tensor* tensor_ = nullptr;
};

// ---- Runtime -------------------------------------------------------------------------------

struct RuntimeOptions {
  std::vector<std::string> plugin_paths;
  bool discover_plugins = true;  // KILN_PLUGIN_PATH, kiln.yaml, <libdir>/kiln/plugins
  std::string config_path;       // kiln.yaml; "" = $KILN_CONFIG or ./kiln.yaml
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::string path;
  uint32_t abi_version = 0;  // major << 16 | minor
  std::string device_api;    // "" when it registers no device API
  size_t num_devices = 0;
  std::string device_note;  // why num_devices is 0
  size_t num_kernels = 0;
  size_t num_ops = 0;
};

struct PluginLoadError {
  std::string path;
  std::string message;
};

struct KernelInfo {
  std::string op;
  std::string name;
  std::string plugin;
  std::string device_api;
  std::vector<DType> dtypes;  // empty: any dtype
  int32_t dtype_source = 0;   // input index, or -1 for output 0
  int32_t priority = 0;
};

// Core op names, sorted.
inline std::vector<std::string> op_names() {
  std::vector<std::string> out;
  for (size_t i = 0, n = kiln_get_op_count(); i < n; ++i) out.push_back(kiln_get_op_name(i));
  return out;
}

// How libkiln carries out an op a graph names (kiln_op_kind).
enum class OpKind : int32_t {
  kUnknown = KILN_OP_KIND_UNKNOWN,
  kKernel = KILN_OP_KIND_KERNEL,
  kExecutor = KILN_OP_KIND_EXECUTOR,
  kControlFlow = KILN_OP_KIND_CONTROL_FLOW,
  kEffect = KILN_OP_KIND_EFFECT,
  kBuffer = KILN_OP_KIND_BUFFER,
};

inline OpKind op_kind(const std::string& op) {
  return static_cast<OpKind>(kiln_get_op_kind(op.c_str()));
}

// Every op a graph may name (core ops, control flow, effects, buffer ops), sorted.
inline std::vector<std::string> graph_op_names() {
  std::vector<std::string> out;
  for (size_t i = 0, n = kiln_get_graph_op_count(); i < n; ++i) {
    out.push_back(kiln_get_graph_op_name(i));
  }
  return out;
}

class Runtime {
 public:
  Runtime() : Runtime(RuntimeOptions{}) {}
  explicit Runtime(const RuntimeOptions& options) {
    std::vector<const char*> paths = detail::c_strings(options.plugin_paths);
    kiln_runtime_options c{};
    kiln_runtime_options_init(&c);
    c.plugin_paths = paths.data();
    c.num_plugin_paths = paths.size();
    c.discover_plugins = options.discover_plugins ? 1 : 0;
    c.config_path = detail::c_str_or_null(options.config_path);
    detail::check(kiln_runtime_create(&c, &runtime_));
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  Runtime(Runtime&& other) noexcept : runtime_(std::exchange(other.runtime_, nullptr)) {}
  Runtime& operator=(Runtime&& other) noexcept {
    std::swap(runtime_, other.runtime_);
    return *this;
  }
  ~Runtime() { kiln_runtime_destroy(runtime_); }

  void load_plugin(const std::string& path) {
    detail::check(kiln_runtime_load_plugin(runtime_, path.c_str()));
  }
  std::vector<PluginInfo> plugins() const {
    std::vector<PluginInfo> out;
    const size_t count = kiln_runtime_get_plugin_count(runtime_);
    for (size_t i = 0; i < count; ++i) {
      kiln_plugin_info c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_runtime_get_plugin_info(runtime_, i, &c));
      out.push_back({detail::to_string(c.name), detail::to_string(c.version),
                     detail::to_string(c.path), c.abi_version, detail::to_string(c.device_api),
                     c.num_devices, detail::to_string(c.device_note), c.num_kernels, c.num_ops});
    }
    return out;
  }
  std::vector<KernelInfo> kernels() const {
    std::vector<KernelInfo> out;
    for (size_t i = 0, n = kiln_runtime_get_kernel_count(runtime_); i < n; ++i) {
      kiln_kernel_info c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_runtime_get_kernel_info(runtime_, i, &c));
      KernelInfo k;
      k.op = detail::to_string(c.op);
      k.name = detail::to_string(c.name);
      k.plugin = detail::to_string(c.plugin);
      k.device_api = detail::to_string(c.device_api);
      k.dtype_source = c.dtype_source;
      k.priority = c.priority;
      for (size_t d = 0; d < c.num_dtypes; ++d) k.dtypes.push_back(static_cast<DType>(c.dtypes[d]));
      out.push_back(std::move(k));
    }
    return out;
  }
  std::vector<PluginLoadError> load_errors() const {
    std::vector<PluginLoadError> out;
    const size_t count = kiln_runtime_get_load_error_count(runtime_);
    for (size_t i = 0; i < count; ++i) {
      const char* path = nullptr;
      const char* message = nullptr;
      detail::check(kiln_runtime_get_load_error(runtime_, i, &path, &message));
      out.push_back({detail::to_string(path), detail::to_string(message)});
    }
    return out;
  }
  // Host first, then accelerators.
  std::vector<Device> devices() const {
    std::vector<Device> out;
    const size_t count = kiln_runtime_get_device_count(runtime_);
    for (size_t i = 0; i < count; ++i) {
      kiln_device* device = nullptr;
      detail::check(kiln_runtime_get_device(runtime_, i, &device));
      out.emplace_back(device);
    }
    return out;
  }
  // "cpu", "gpu:0", "cuda:1"; NOT_FOUND lists the devices that exist.
  Device find_device(const std::string& spec) const {
    kiln_device* device = nullptr;
    detail::check(kiln_runtime_find_device(runtime_, spec.c_str(), &device));
    return Device(device);
  }

  kiln_runtime* get() const { return runtime_; }

 private:
  kiln_runtime* runtime_ = nullptr;
};

// ---- Graphs --------------------------------------------------------------------------------

// A borrowed value of a graph; valid as long as the graph.
class Value {
 public:
  Value() = default;
  explicit Value(kiln_value* value) : value_(value) {}

  TensorSpec spec() const {
    kiln_tensor_spec c{};
    c.struct_size = sizeof(c);
    detail::check(kiln_value_get_spec(value_, &c));
    return TensorSpec::from_c(c);
  }
  std::string name() const { return spec().name; }
  kiln_value* get() const { return value_; }

 private:
  kiln_value* value_ = nullptr;
};

// Attributes of an op, built fluently: Attrs().i("axis", -1).f("epsilon", 1e-5).
class Attrs {
 public:
  Attrs& i(const std::string& name, int64_t value) {
    add(name, KILN_ATTR_INT).i = value;
    return *this;
  }
  Attrs& f(const std::string& name, double value) {
    add(name, KILN_ATTR_FLOAT).f = value;
    return *this;
  }
  Attrs& b(const std::string& name, bool value) {
    add(name, KILN_ATTR_BOOL).i = value ? 1 : 0;
    return *this;
  }
  Attrs& s(const std::string& name, const std::string& value) {
    add(name, KILN_ATTR_STRING).s = value;
    return *this;
  }
  Attrs& ints(const std::string& name, const std::vector<int64_t>& values) {
    add(name, KILN_ATTR_INTS).ints = values;
    return *this;
  }
  Attrs& floats(const std::string& name, const std::vector<double>& values) {
    add(name, KILN_ATTR_FLOATS).floats = values;
    return *this;
  }
  Attrs& dtype(const std::string& name, DType value) {
    add(name, KILN_ATTR_DTYPE).i = static_cast<int64_t>(value);
    return *this;
  }
  Attrs& tensor(const std::string& name, const Tensor& value) {
    add(name, KILN_ATTR_TENSOR).tensor = value;
    return *this;
  }

  // C views of the entries; valid while this object is alive and unchanged.
  std::vector<kiln_attr> to_c() const {
    std::vector<kiln_attr> out;
    for (const Entry& e : entries_) {
      kiln_attr a{};
      a.name = e.name.c_str();
      a.kind = e.kind;
      a.i = e.i;
      a.f = e.f;
      a.s = e.s.c_str();
      a.ints = e.ints.data();
      a.floats = e.floats.data();
      a.count = e.kind == KILN_ATTR_FLOATS ? e.floats.size() : e.ints.size();
      a.tensor = e.tensor.get();
      out.push_back(a);
    }
    return out;
  }

 private:
  struct Entry {
    std::string name;
    int32_t kind = KILN_ATTR_INVALID;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    Tensor tensor;
  };
  Entry& add(const std::string& name, int32_t kind) {
    entries_.push_back(Entry{});
    entries_.back().name = name;
    entries_.back().kind = kind;
    return entries_.back();
  }
  std::vector<Entry> entries_;
};

struct NodeInfo {
  std::string op;
  std::string name;
  size_t num_inputs = 0;
  size_t num_outputs = 0;
  std::string device;
};

struct WeightInfo {
  std::string name;
  DType dtype = DType::kInvalid;
  std::vector<int64_t> shape;
  uint64_t byte_size = 0;
  bool is_inline = false;
  std::string external_path;
};

// Optional parts of a node.
struct OpOptions {
  std::string name;    // "" = generated
  std::string device;  // device ref; "" = inherited from the inputs
  // Output types the graph states: required for custom ops (names are ignored).
  std::vector<TensorSpec> output_types;
};

namespace detail {
// C views of dims and types; valid while the arguments are alive.
inline std::vector<kiln_dim> c_dims(const std::vector<Dim>& dims) {
  std::vector<kiln_dim> out;
  for (const Dim& d : dims) out.push_back({d.size, c_str_or_null(d.expr)});
  return out;
}
inline kiln_tensor_type c_type(DType dtype, const std::vector<kiln_dim>& dims,
                               const std::string& device) {
  kiln_tensor_type type{};
  type.struct_size = sizeof(type);
  type.dtype = static_cast<int32_t>(dtype);
  type.rank = dims.size();
  type.dims = dims.data();
  type.device = c_str_or_null(device);
  return type;
}
}  // namespace detail

class Graph {
 public:
  explicit Graph(const std::string& name) {
    detail::check(kiln_graph_create(name.c_str(), &graph_));
  }
  static Graph load(const std::string& path) {
    kiln_graph* graph = nullptr;
    detail::check(kiln_graph_load(path.c_str(), &graph));
    return Graph(graph);
  }
  static Graph load_from_buffer(const void* data, size_t size) {
    kiln_graph* graph = nullptr;
    detail::check(kiln_graph_load_from_buffer(data, size, &graph));
    return Graph(graph);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& other) noexcept : graph_(std::exchange(other.graph_, nullptr)) {}
  Graph& operator=(Graph&& other) noexcept {
    std::swap(graph_, other.graph_);
    return *this;
  }
  ~Graph() { kiln_graph_destroy(graph_); }

  Value add_input(const std::string& name, DType dtype, const std::vector<Dim>& dims,
                  const std::string& device = "") {
    const std::vector<kiln_dim> c_dims = detail::c_dims(dims);
    const kiln_tensor_type type = detail::c_type(dtype, c_dims, device);
    kiln_value* value = nullptr;
    detail::check(kiln_graph_add_input(graph_, name.c_str(), &type, &value));
    return Value(value);
  }

  // Adds a node (op by name) and returns all its outputs.
  std::vector<Value> add_op(const std::string& op, const std::vector<Value>& inputs,
                            const Attrs& attrs = Attrs(), const OpOptions& options = OpOptions()) {
    std::vector<const kiln_value*> c_inputs;
    for (const Value& v : inputs) c_inputs.push_back(v.get());
    const std::vector<kiln_attr> c_attrs = attrs.to_c();
    // Stated output types (custom ops): dims arrays first, so the types can point into them.
    std::vector<std::vector<kiln_dim>> c_dims;
    for (const TensorSpec& t : options.output_types) c_dims.push_back(detail::c_dims(t.dims));
    std::vector<kiln_tensor_type> c_types;
    for (size_t i = 0; i < options.output_types.size(); ++i) {
      const TensorSpec& t = options.output_types[i];
      c_types.push_back(detail::c_type(t.dtype, c_dims[i], t.device));
    }
    kiln_op_desc desc{};
    desc.struct_size = sizeof(desc);
    desc.op = op.c_str();
    desc.inputs = c_inputs.data();
    desc.num_inputs = c_inputs.size();
    desc.attrs = c_attrs.data();
    desc.num_attrs = c_attrs.size();
    desc.output_types = c_types.data();
    desc.num_output_types = c_types.size();
    desc.name = detail::c_str_or_null(options.name);
    desc.device = detail::c_str_or_null(options.device);
    std::vector<kiln_value*> outputs(kMaxOpOutputs);
    size_t count = 0;
    detail::check(kiln_graph_add_op(graph_, &desc, outputs.data(), outputs.size(), &count));
    if (count > outputs.size()) {
      throw Error(KILN_STATUS_UNIMPLEMENTED, "op '" + op + "' has " + std::to_string(count) +
                                                 " outputs; kiln.hpp reads at most " +
                                                 std::to_string(kMaxOpOutputs));
    }
    std::vector<Value> values;
    for (size_t i = 0; i < count; ++i) values.emplace_back(outputs[i]);
    return values;
  }
  // add_op for an op with exactly one output.
  Value op(const std::string& op, const std::vector<Value>& inputs, const Attrs& attrs = Attrs(),
           const std::string& name = "") {
    OpOptions options;
    options.name = name;
    std::vector<Value> outputs = add_op(op, inputs, attrs, options);
    if (outputs.size() != 1) {
      throw Error(KILN_STATUS_INVALID_ARGUMENT,
                  "op '" + op + "' has " + std::to_string(outputs.size()) + " outputs; use add_op");
    }
    return outputs[0];
  }

  // A weight whose data is stored in the graph (copied now).
  Value add_weight(const std::string& name, const Tensor& data, const std::string& device = "") {
    const std::vector<int64_t> shape = data.shape();
    kiln_weight_desc desc{};
    kiln_weight_desc_init(&desc);
    desc.name = name.c_str();
    desc.dtype = static_cast<int32_t>(data.dtype());
    desc.rank = shape.size();
    desc.shape = shape.data();
    desc.data = data.get();
    desc.device = detail::c_str_or_null(device);
    kiln_value* value = nullptr;
    detail::check(kiln_graph_add_weight(graph_, &desc, &value));
    return Value(value);
  }
  // A weight read from a file relative to the graph file's folder.
  Value add_external_weight(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                            const std::string& path, uint64_t offset) {
    kiln_weight_desc desc{};
    kiln_weight_desc_init(&desc);
    desc.name = name.c_str();
    desc.dtype = static_cast<int32_t>(dtype);
    desc.rank = shape.size();
    desc.shape = shape.data();
    desc.external_path = path.c_str();
    desc.external_offset = offset;
    kiln_value* value = nullptr;
    detail::check(kiln_graph_add_weight(graph_, &desc, &value));
    return Value(value);
  }

  void set_outputs(const std::vector<Value>& outputs) {
    std::vector<const kiln_value*> c;
    for (const Value& v : outputs) c.push_back(v.get());
    detail::check(kiln_graph_set_outputs(graph_, c.data(), c.size()));
  }
  void set_metadata(const std::string& key, const std::string& value) {
    detail::check(kiln_graph_set_metadata(graph_, key.c_str(), value.c_str()));
  }

  // A new, empty subgraph whose nodes may call the subgraphs already in this graph's list. This
  // graph must outlive it. Build it, then add_subgraph() it; call/cond/while_loop nodes name it.
  Graph create_subgraph(const std::string& name) {
    kiln_graph* graph = nullptr;
    detail::check(kiln_graph_create_subgraph(graph_, name.c_str(), &graph));
    return Graph(graph);
  }
  // Copies a finished subgraph into the main graph's list (see kiln_graph_add_subgraph).
  void add_subgraph(const Graph& subgraph) {
    detail::check(kiln_graph_add_subgraph(graph_, subgraph.graph_));
  }
  size_t subgraph_count() const { return kiln_graph_get_subgraph_count(graph_); }
  std::optional<std::string> metadata(const std::string& key) const {
    const char* value = kiln_graph_get_metadata(graph_, key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }

  void save(const std::string& path) const { detail::check(kiln_graph_save(graph_, path.c_str())); }
  std::vector<uint8_t> save_to_buffer() const {
    void* data = nullptr;
    size_t size = 0;
    detail::check(kiln_graph_save_to_buffer(graph_, &data, &size));
    const auto* bytes = static_cast<const uint8_t*>(data);
    std::vector<uint8_t> out(bytes, bytes + size);
    kiln_buffer_destroy(data);
    return out;
  }

  std::string name() const { return detail::to_string(kiln_graph_get_name(graph_)); }
  std::vector<Value> inputs() const {
    std::vector<Value> out;
    for (size_t i = 0, n = kiln_graph_get_input_count(graph_); i < n; ++i) {
      kiln_value* v = nullptr;
      detail::check(kiln_graph_get_input(graph_, i, &v));
      out.emplace_back(v);
    }
    return out;
  }
  std::vector<Value> outputs() const {
    std::vector<Value> out;
    for (size_t i = 0, n = kiln_graph_get_output_count(graph_); i < n; ++i) {
      kiln_value* v = nullptr;
      detail::check(kiln_graph_get_output(graph_, i, &v));
      out.emplace_back(v);
    }
    return out;
  }
  std::vector<NodeInfo> nodes() const {
    std::vector<NodeInfo> out;
    for (size_t i = 0, n = kiln_graph_get_node_count(graph_); i < n; ++i) {
      kiln_node_info c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_graph_get_node_info(graph_, i, &c));
      out.push_back({detail::to_string(c.op), detail::to_string(c.name), c.num_inputs,
                     c.num_outputs, detail::to_string(c.device)});
    }
    return out;
  }
  std::vector<WeightInfo> weights() const {
    std::vector<WeightInfo> out;
    for (size_t i = 0, n = kiln_graph_get_weight_count(graph_); i < n; ++i) {
      kiln_weight_info c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_graph_get_weight_info(graph_, i, &c));
      WeightInfo w;
      w.name = detail::to_string(c.name);
      w.dtype = static_cast<DType>(c.dtype);
      if (c.shape != nullptr) w.shape.assign(c.shape, c.shape + c.rank);
      w.byte_size = c.byte_size;
      w.is_inline = c.is_inline != 0;
      w.external_path = detail::to_string(c.external_path);
      out.push_back(std::move(w));
    }
    return out;
  }

  kiln_graph* get() const { return graph_; }

 private:
  static constexpr size_t kMaxOpOutputs = 256;
  explicit Graph(kiln_graph* graph) : graph_(graph) {}
  kiln_graph* graph_ = nullptr;
};

// ---- Sessions and models -------------------------------------------------------------------

struct SessionOptions {
  std::vector<std::string> devices;            // device specs; none: "cpu"
  int32_t num_threads = 0;                     // 0: one per core
  std::vector<std::string> custom_extensions;  // plugin paths
  bool graph_passes = true;                    // constant folding, dead code, fusion at load
  bool cpu_fallback = true;   // nodes an accelerator has no kernel for run on the CPU
  bool graph_replay = false;  // record executions on an accelerator as graphs and replay them
};

// A node of a loaded model (after the graph passes) and the kernel it runs on.
struct ModelNodeInfo {
  std::string op;
  std::string name;
  std::string device;
  std::string kernel;  // "" when the executor handles it
  std::string plugin;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string rejected;  // why other candidate kernels were passed over, one per line
};

class Model {
 public:
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&& other) noexcept : model_(std::exchange(other.model_, nullptr)) {}
  Model& operator=(Model&& other) noexcept {
    std::swap(model_, other.model_);
    return *this;
  }
  ~Model() { kiln_model_destroy(model_); }

  std::vector<TensorSpec> input_specs() const {
    std::vector<TensorSpec> out;
    for (size_t i = 0, n = kiln_model_get_input_count(model_); i < n; ++i) {
      kiln_tensor_spec c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_model_get_input_spec(model_, i, &c));
      out.push_back(TensorSpec::from_c(c));
    }
    return out;
  }
  std::vector<TensorSpec> output_specs() const {
    std::vector<TensorSpec> out;
    for (size_t i = 0, n = kiln_model_get_output_count(model_); i < n; ++i) {
      kiln_tensor_spec c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_model_get_output_spec(model_, i, &c));
      out.push_back(TensorSpec::from_c(c));
    }
    return out;
  }
  // inputs[i] matches input i. Thread safe.
  std::vector<Tensor> execute(const std::vector<Tensor>& inputs) const {
    std::vector<kiln_tensor*> c_inputs;
    for (const Tensor& t : inputs) c_inputs.push_back(t.get());
    std::vector<kiln_tensor*> c_outputs(kiln_model_get_output_count(model_), nullptr);
    detail::check(kiln_model_execute(model_, c_inputs.data(), c_inputs.size(), c_outputs.data(),
                                     c_outputs.size()));
    std::vector<Tensor> outputs;
    for (kiln_tensor* t : c_outputs) outputs.push_back(Tensor::adopt(t));
    return outputs;
  }

  std::vector<ModelNodeInfo> nodes() const {
    std::vector<ModelNodeInfo> out;
    for (size_t i = 0, n = kiln_model_get_node_count(model_); i < n; ++i) {
      kiln_model_node_info c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_model_get_node_info(model_, i, &c));
      ModelNodeInfo info;
      info.op = detail::to_string(c.op);
      info.name = detail::to_string(c.name);
      info.device = detail::to_string(c.device);
      info.kernel = detail::to_string(c.kernel);
      info.plugin = detail::to_string(c.plugin);
      info.rejected = detail::to_string(c.rejected);
      for (size_t k = 0; k < c.num_inputs; ++k) info.inputs.push_back(c.input_names[k]);
      for (size_t k = 0; k < c.num_outputs; ++k) info.outputs.push_back(c.output_names[k]);
      out.push_back(std::move(info));
    }
    return out;
  }

  // Per-node timing (see kiln_model_set_profiling); profile()[i] belongs to nodes()[i].
  void set_profiling(bool enabled) const { detail::check(kiln_model_set_profiling(model_, enabled)); }
  std::vector<kiln_node_profile> profile() const {
    std::vector<kiln_node_profile> out;
    for (size_t i = 0, n = kiln_model_get_node_count(model_); i < n; ++i) {
      kiln_node_profile c{};
      c.struct_size = sizeof(c);
      detail::check(kiln_model_get_node_profile(model_, i, &c));
      out.push_back(c);
    }
    return out;
  }

  kiln_model* get() const { return model_; }

 private:
  friend class Session;
  explicit Model(kiln_model* model) : model_(model) {}
  kiln_model* model_ = nullptr;
};

class Session {
 public:
  explicit Session(Runtime& runtime, const SessionOptions& options = SessionOptions()) {
    std::vector<const char*> devices = detail::c_strings(options.devices);
    std::vector<const char*> extensions = detail::c_strings(options.custom_extensions);
    kiln_session_options c{};
    kiln_session_options_init(&c);
    c.devices = devices.data();
    c.num_devices = devices.size();
    c.num_threads = options.num_threads;
    c.custom_extensions = extensions.data();
    c.num_custom_extensions = extensions.size();
    c.disable_graph_passes = options.graph_passes ? 0 : 1;
    c.disable_cpu_fallback = options.cpu_fallback ? 0 : 1;
    c.enable_graph_replay = options.graph_replay ? 1 : 0;
    detail::check(kiln_session_create(runtime.get(), &c, &session_));
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&& other) noexcept : session_(std::exchange(other.session_, nullptr)) {}
  Session& operator=(Session&& other) noexcept {
    std::swap(session_, other.session_);
    return *this;
  }
  ~Session() { kiln_session_destroy(session_); }

  // Compiles `graph` for this session's devices. `weights` supplies or overrides weights by name.
  Model load(const Graph& graph, const std::map<std::string, Tensor>& weights = {}) {
    std::vector<const char*> names;
    std::vector<kiln_tensor*> tensors;
    for (const auto& [name, tensor] : weights) {
      names.push_back(name.c_str());
      tensors.push_back(tensor.get());
    }
    kiln_load_options c{};
    kiln_load_options_init(&c);
    c.weight_names = names.data();
    c.weights = tensors.data();
    c.num_weights = names.size();
    kiln_model* model = nullptr;
    detail::check(kiln_session_load(session_, graph.get(), &c, &model));
    return Model(model);
  }

  kiln_session* get() const { return session_; }

 private:
  kiln_session* session_ = nullptr;
};

}  // namespace cxx
}  // namespace kiln

#endif  // KILN_KILN_HPP_
