// The graph IR: values with tensor types, nodes in topological order, weights, outputs.
// A Graph is a plain value type; building and verification helpers live beside it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"
#include "ir/dim.h"

namespace kiln {

struct TensorType {
  DType dtype = DType::kInvalid;
  Shape shape;
  std::string device;  // device ref ("cpu", "gpu:0"); empty = unplaced
  // A mutable buffer (MAX's BufferType): only graph inputs have this type. Only the buffer ops
  // (buffer_load, buffer_store, buffer_store_slice) and plugin ops (inplace_custom) take it.
  bool buffer = false;

  std::string to_string() const;  // "float32[batch, 128]", "buffer float32[4]"
  friend bool operator==(const TensorType& a, const TensorType& b) {
    // device is placement, not type
    return a.dtype == b.dtype && a.shape == b.shape && a.buffer == b.buffer;
  }
};

// Host-side tensor data (constants, inline weights, tensor attributes). Immutable, shared.
struct HostTensor {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> shape;
  std::shared_ptr<const std::vector<uint8_t>> bytes;  // C order, little-endian

  int64_t num_elements() const;
  size_t byte_size() const { return bytes ? bytes->size() : 0; }
  const uint8_t* data() const { return bytes ? bytes->data() : nullptr; }
};

struct Attribute {
  std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, bool,
               DType, HostTensor>
      value;
};
using AttrMap = std::map<std::string, Attribute>;

using ValueId = int32_t;

struct Value {
  std::string name;
  TensorType type;
  int32_t producer = -1;  // node index; -1 for graph inputs and weights
};

struct Node {
  std::string op;
  std::string name;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  AttrMap attrs;
  std::string device;
};

struct ExternalRef {
  std::string path;  // relative to the graph file's folder
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Weight {
  std::string name;
  ValueId value = -1;
  std::optional<HostTensor> inline_data;
  std::optional<ExternalRef> external;
  // Neither: supplied at load time by name.
};

struct OpRequirement {
  std::string op;
  std::string plugin;
  std::string plugin_version;
};

struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<ValueId> inputs;
  std::vector<Node> nodes;
  std::vector<Weight> weights;
  std::vector<ValueId> outputs;
  std::map<std::string, std::string> metadata;
  std::vector<OpRequirement> requirements;
  // Folder that external weight paths are relative to (set by the loader).
  std::string base_dir;
  // Graphs referenced by name from `call`, `cond` and `while_loop` nodes (Model.subgraphs).
  // Only the main graph's list is used; a subgraph's own list stays empty.
  std::vector<Graph> subgraphs;

  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  std::optional<ValueId> find_value(const std::string& name) const;
};

// Attribute accessors with clear errors ("matmul 'node3': attribute 'axis' ...").
StatusOr<int64_t> get_int_attr(const Node& node, const std::string& name,
                               std::optional<int64_t> default_value = std::nullopt);
StatusOr<double> get_float_attr(const Node& node, const std::string& name,
                                std::optional<double> default_value = std::nullopt);
StatusOr<std::string> get_string_attr(const Node& node, const std::string& name,
                                      std::optional<std::string> default_value = std::nullopt);
StatusOr<std::vector<int64_t>> get_ints_attr(const Node& node, const std::string& name);
StatusOr<DType> get_dtype_attr(const Node& node, const std::string& name);
// The tensor lives as long as the node.
StatusOr<const HostTensor*> get_tensor_attr(const Node& node, const std::string& name);
// nullptr when the node has no such attribute.
const Attribute* find_attr(const Node& node, const std::string& name);
// "int", "float", "string", "ints", "floats", "bool", "dtype", "tensor".
const char* attr_kind_name(const Attribute& attr);
// Element count of a static shape, or nullopt if a dim is negative or the product overflows.
std::optional<int64_t> static_num_elements(const std::vector<int64_t>& shape);
// "op 'name'" for messages.
std::string describe_node(const Node& node);

}  // namespace kiln
