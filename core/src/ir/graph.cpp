// Graph IR helpers: type printing, value lookup, and attribute accessors whose errors name the
// node and the attribute.
#include "ir/graph.h"

#include <iterator>

#include "ir/checked_math.h"

namespace kiln {

std::string TensorType::to_string() const {
  return (buffer ? "buffer " : "") + dtype_name(dtype) + shape_to_string(shape);
}

std::optional<int64_t> static_num_elements(const std::vector<int64_t>& shape) {
  int64_t total = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    auto next = checked_mul(total, d);
    if (!next) return std::nullopt;
    total = *next;
  }
  return total;
}

int64_t HostTensor::num_elements() const { return static_num_elements(shape).value_or(-1); }

std::optional<ValueId> Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == name) return static_cast<ValueId>(i);
  }
  return std::nullopt;
}

std::string describe_node(const Node& node) {
  if (node.name.empty()) return node.op + " (unnamed node)";
  return node.op + " '" + node.name + "'";
}

const Attribute* find_attr(const Node& node, const std::string& name) {
  auto it = node.attrs.find(name);
  return it == node.attrs.end() ? nullptr : &it->second;
}

const char* attr_kind_name(const Attribute& attr) {
  // Index order of Attribute::value's alternatives.
  static const char* const kNames[] = {"int",    "float", "string", "ints",
                                       "floats", "bool",  "dtype",  "tensor"};
  const size_t index = attr.value.index();
  return index < std::size(kNames) ? kNames[index] : "invalid";
}

namespace {

Status missing(const Node& node, const std::string& name) {
  return invalid_argument(describe_node(node) + ": missing required attribute '" + name + "'");
}

Status wrong_kind(const Node& node, const std::string& name, const char* expected,
                  const Attribute& attr) {
  return invalid_argument(describe_node(node) + ": attribute '" + name + "' must be " + expected +
                          ", got " + attr_kind_name(attr));
}

}  // namespace

StatusOr<int64_t> get_int_attr(const Node& node, const std::string& name,
                               std::optional<int64_t> default_value) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) {
    if (default_value) return *default_value;
    return missing(node, name);
  }
  if (const auto* v = std::get_if<int64_t>(&attr->value)) return *v;
  return wrong_kind(node, name, "an int", *attr);
}

StatusOr<double> get_float_attr(const Node& node, const std::string& name,
                                std::optional<double> default_value) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) {
    if (default_value) return *default_value;
    return missing(node, name);
  }
  if (const auto* v = std::get_if<double>(&attr->value)) return *v;
  // An integer literal where a float is expected (epsilon=0) is what the caller meant.
  if (const auto* v = std::get_if<int64_t>(&attr->value)) return static_cast<double>(*v);
  return wrong_kind(node, name, "a float", *attr);
}

StatusOr<std::string> get_string_attr(const Node& node, const std::string& name,
                                      std::optional<std::string> default_value) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) {
    if (default_value) return *default_value;
    return missing(node, name);
  }
  if (const auto* v = std::get_if<std::string>(&attr->value)) return *v;
  return wrong_kind(node, name, "a string", *attr);
}

StatusOr<std::vector<int64_t>> get_ints_attr(const Node& node, const std::string& name) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) return missing(node, name);
  if (const auto* v = std::get_if<std::vector<int64_t>>(&attr->value)) return *v;
  return wrong_kind(node, name, "a list of ints", *attr);
}

StatusOr<DType> get_dtype_attr(const Node& node, const std::string& name) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) return missing(node, name);
  const auto* v = std::get_if<DType>(&attr->value);
  if (v == nullptr) return wrong_kind(node, name, "a dtype", *attr);
  if (!dtype_is_valid(static_cast<int32_t>(*v))) {
    return invalid_argument(describe_node(node) + ": attribute '" + name +
                            "' is an unknown dtype code " +
                            std::to_string(static_cast<int32_t>(*v)));
  }
  return *v;
}

StatusOr<const HostTensor*> get_tensor_attr(const Node& node, const std::string& name) {
  const Attribute* attr = find_attr(node, name);
  if (attr == nullptr) return missing(node, name);
  if (const auto* v = std::get_if<HostTensor>(&attr->value)) return v;
  return wrong_kind(node, name, "a tensor", *attr);
}

}  // namespace kiln
