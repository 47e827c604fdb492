// The C ABI of graphs: building (inputs, ops, weights, outputs, metadata), save/load, and
// introspection. C structs are checked and converted here; GraphBuilder does the rest.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "api/c_status.h"
#include "api/graph_handles.h"
#include "ir/limits.h"
#include "ir/type_checks.h"
#include "serialize/serialize.h"

// Smallest struct_size that holds every field of the first release of a struct. Written as the
// end of its last field, so it stays right when fields are appended.
#define KILN_STRUCT_MIN_SIZE(type, last_field) \
  (offsetof(type, last_field) + sizeof(static_cast<type*>(nullptr)->last_field))

namespace kiln {
namespace {

Status check_struct_size(size_t struct_size, size_t min_size, const char* type, const char* where) {
  if (struct_size >= min_size) return Status::ok();
  return invalid_argument(std::string(where) + ": " + type + ".struct_size is " +
                          std::to_string(struct_size) + "; set it to sizeof(" + type + ") (" +
                          std::to_string(min_size) + " or more)");
}

std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

StatusOr<TensorType> type_from_c(const kiln_tensor_type* t, const std::string& what,
                                 const char* where) {
  if (t == nullptr) return invalid_argument(std::string(where) + ": " + what + " type is NULL");
  KILN_RETURN_IF_ERROR(check_struct_size(
      t->struct_size, KILN_STRUCT_MIN_SIZE(kiln_tensor_type, device), "kiln_tensor_type", where));
  if (t->rank > kMaxRank) {
    return invalid_argument(std::string(where) + ": " + what + " has rank " +
                            std::to_string(t->rank) + ", over the limit of " +
                            std::to_string(kMaxRank));
  }
  if (t->rank > 0 && t->dims == nullptr) {
    return invalid_argument(std::string(where) + ": " + what + " has rank " +
                            std::to_string(t->rank) + " but dims is NULL");
  }
  TensorType out;
  out.dtype = static_cast<DType>(t->dtype);
  for (size_t i = 0; i < t->rank; ++i) {
    if (t->dims[i].expr == nullptr) {
      out.shape.emplace_back(t->dims[i].size);
      continue;
    }
    auto d = Dim::parse(t->dims[i].expr);
    if (!d.is_ok()) {
      return invalid_argument(std::string(where) + ": " + what + " dim " + std::to_string(i) +
                              ": " + d.status().message());
    }
    out.shape.push_back(std::move(d).value());
  }
  out.device = str_or_empty(t->device);
  if (t->struct_size >= KILN_STRUCT_MIN_SIZE(kiln_tensor_type, is_buffer))
    out.buffer = t->is_buffer != 0;
  KILN_RETURN_IF_ERROR(check_tensor_type(out, std::string(where) + ": " + what));
  return out;
}

// A host copy of a tensor's elements, read through the public tensor functions so that any
// device's tensor works.
StatusOr<HostTensor> host_copy(const kiln_tensor* tensor, const std::string& what) {
  HostTensor out;
  out.dtype = static_cast<DType>(kiln_tensor_get_dtype(tensor));
  const size_t rank = kiln_tensor_get_rank(tensor);
  const int64_t* shape = kiln_tensor_get_shape(tensor);
  if (rank > 0 && shape == nullptr) return invalid_argument(what + ": the tensor has no shape");
  out.shape.assign(shape, shape + rank);
  const size_t size = kiln_tensor_get_byte_size(tensor);
  KILN_RETURN_IF_ERROR(check_tensor_data(out.dtype, out.shape, size, what));
  auto bytes = std::make_shared<std::vector<uint8_t>>(size);
  KILN_RETURN_IF_ERROR(from_c_status(kiln_tensor_read(tensor, bytes->data(), size)));
  out.bytes = std::move(bytes);
  return out;
}

StatusOr<Attribute> attr_from_c(const kiln_attr& a, const std::string& what) {
  Attribute out;
  switch (a.kind) {
    case KILN_ATTR_INT:
      out.value = a.i;
      break;
    case KILN_ATTR_FLOAT:
      out.value = a.f;
      break;
    case KILN_ATTR_STRING:
      if (a.s == nullptr) return invalid_argument(what + " is a string attribute with s NULL");
      out.value = std::string(a.s);
      break;
    case KILN_ATTR_INTS:
      if (a.count > 0 && a.ints == nullptr) {
        return invalid_argument(what + " has count " + std::to_string(a.count) +
                                " but ints is NULL");
      }
      out.value = std::vector<int64_t>(a.ints, a.ints + a.count);
      break;
    case KILN_ATTR_FLOATS:
      if (a.count > 0 && a.floats == nullptr) {
        return invalid_argument(what + " has count " + std::to_string(a.count) +
                                " but floats is NULL");
      }
      out.value = std::vector<double>(a.floats, a.floats + a.count);
      break;
    case KILN_ATTR_BOOL:
      if (a.i != 0 && a.i != 1) {
        return invalid_argument(what + " is a bool attribute with i = " + std::to_string(a.i) +
                                " (must be 0 or 1)");
      }
      out.value = a.i != 0;
      break;
    case KILN_ATTR_DTYPE:
      if (a.i < INT32_MIN || a.i > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(a.i))) {
        return invalid_argument(what + " is an unknown dtype code " + std::to_string(a.i));
      }
      out.value = static_cast<DType>(a.i);
      break;
    case KILN_ATTR_TENSOR: {
      if (a.tensor == nullptr) return invalid_argument(what + " is a tensor attribute with NULL");
      KILN_ASSIGN_OR_RETURN(HostTensor t, host_copy(a.tensor, what));
      out.value = std::move(t);
      break;
    }
    default:
      return invalid_argument(what + " has an unknown kind " + std::to_string(a.kind));
  }
  return out;
}

// Checks a value handle passed in by the caller.
Status check_value(const kiln_graph* graph, const kiln_value* value, const std::string& what) {
  if (value == nullptr) return invalid_argument(what + " is NULL");
  if (value->owner != graph) return invalid_argument(what + " belongs to another graph");
  return Status::ok();
}

StatusOr<Node> node_from_desc(const kiln_graph* graph, const kiln_op_desc* desc) {
  const char* where = "kiln_graph_add_op";
  KILN_RETURN_IF_ERROR(check_struct_size(
      desc->struct_size, KILN_STRUCT_MIN_SIZE(kiln_op_desc, device), "kiln_op_desc", where));
  if (desc->op == nullptr || desc->op[0] == '\0') {
    return invalid_argument(std::string(where) + ": desc->op is NULL or empty");
  }
  Node node;
  node.op = desc->op;
  node.name = str_or_empty(desc->name);
  node.device = str_or_empty(desc->device);
  const std::string prefix = std::string(where) + ": " + describe_node(node);
  if (desc->num_inputs > 0 && desc->inputs == nullptr) {
    return invalid_argument(prefix + ": num_inputs is " + std::to_string(desc->num_inputs) +
                            " but inputs is NULL");
  }
  for (size_t i = 0; i < desc->num_inputs; ++i) {
    KILN_RETURN_IF_ERROR(
        check_value(graph, desc->inputs[i], prefix + ": input " + std::to_string(i)));
    node.inputs.push_back(desc->inputs[i]->id);
  }
  if (desc->num_attrs > 0 && desc->attrs == nullptr) {
    return invalid_argument(prefix + ": num_attrs is " + std::to_string(desc->num_attrs) +
                            " but attrs is NULL");
  }
  for (size_t i = 0; i < desc->num_attrs; ++i) {
    const kiln_attr& a = desc->attrs[i];
    if (a.name == nullptr || a.name[0] == '\0') {
      return invalid_argument(prefix + ": attribute " + std::to_string(i) + " has no name");
    }
    const std::string what = prefix + ": attribute '" + a.name + "'";
    KILN_ASSIGN_OR_RETURN(Attribute attr, attr_from_c(a, what));
    if (!node.attrs.emplace(a.name, std::move(attr)).second) {
      return invalid_argument(what + " is given twice");
    }
  }
  return node;
}

}  // namespace
}  // namespace kiln

using kiln::Status;

void kiln_graph::sync_handles() {
  while (values.size() < graph.values.size()) {
    const auto id = static_cast<kiln::ValueId>(values.size());
    const kiln::Value& v = graph.values[values.size()];
    kiln_value& h = values.emplace_back();
    h.owner = this;
    h.id = id;
    h.name = v.name;
    h.device = v.type.device;
    h.expr_storage.reserve(v.type.shape.size());  // no reallocation: dim_exprs point into it
    for (const kiln::Dim& d : v.type.shape) {
      if (d.is_static()) {
        h.shape.push_back(d.value());
        h.expr_storage.emplace_back();
      } else {
        h.shape.push_back(-1);
        h.expr_storage.push_back(d.to_string());
      }
    }
    for (size_t i = 0; i < v.type.shape.size(); ++i) {
      h.dim_exprs.push_back(v.type.shape[i].is_static() ? nullptr : h.expr_storage[i].c_str());
    }
  }
  while (nodes.size() < graph.nodes.size()) {
    const kiln::Node& n = graph.nodes[nodes.size()];
    nodes.push_back(NodeStrings{n.op, n.name, n.device});
  }
  while (weights.size() < graph.weights.size()) {
    const kiln::Weight& w = graph.weights[weights.size()];
    weights.push_back(WeightStrings{w.name, w.external ? w.external->path : std::string()});
  }
  for (const auto& [key, value] : graph.metadata) {
    if (metadata_view.count(key) != 0) continue;
    metadata_strings.push_back(value);
    metadata_view[key] = metadata_strings.back().c_str();
  }
}

extern "C" {

kiln_status* kiln_graph_create(const char* name, kiln_graph** out_graph) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(out_graph);
  kiln::Graph g;
  g.name = name ? name : "";
  *out_graph = new kiln_graph(std::move(g));
  return nullptr;
  KILN_API_END
}

void kiln_graph_destroy(kiln_graph* graph) { delete graph; }

kiln_status* kiln_graph_add_input(kiln_graph* graph, const char* name, const kiln_tensor_type* type,
                                  kiln_value** out_value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(type);
  std::string input_name = name ? name : "";
  auto t = kiln::type_from_c(type, "input '" + input_name + "'", "kiln_graph_add_input");
  if (!t.is_ok()) return kiln::to_c_status(t.status());
  if (input_name.empty()) input_name = graph->builder.unique_name("input");
  auto id = graph->builder.add_input(input_name, std::move(t).value());
  if (!id.is_ok()) return kiln::to_c_status(id.status().with_context("kiln_graph_add_input"));
  graph->sync_handles();
  if (out_value) *out_value = &graph->values[static_cast<size_t>(*id)];
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_add_op(kiln_graph* graph, const kiln_op_desc* desc,
                               kiln_value** out_outputs, size_t outputs_capacity,
                               size_t* out_num_outputs) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(desc);
  if (out_outputs == nullptr && outputs_capacity > 0) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               "kiln_graph_add_op: outputs_capacity is " +
                                   std::to_string(outputs_capacity) + " but out_outputs is NULL");
  }
  auto node = kiln::node_from_desc(graph, desc);
  if (!node.is_ok()) return kiln::to_c_status(node.status());
  std::vector<kiln::TensorType> stated;
  if (desc->num_output_types > 0 && desc->output_types == nullptr) {
    return kiln::make_c_status(
        kiln::StatusCode::kInvalidArgument,
        "kiln_graph_add_op: " + kiln::describe_node(*node) + ": num_output_types is " +
            std::to_string(desc->num_output_types) + " but output_types is NULL");
  }
  for (size_t i = 0; i < desc->num_output_types; ++i) {
    auto t = kiln::type_from_c(&desc->output_types[i], "output type " + std::to_string(i),
                               "kiln_graph_add_op");
    if (!t.is_ok()) return kiln::to_c_status(t.status());
    stated.push_back(std::move(t).value());
  }
  auto ids = graph->builder.add_node(std::move(node).value(), stated);
  if (!ids.is_ok()) return kiln::to_c_status(ids.status().with_context("kiln_graph_add_op"));
  graph->sync_handles();
  for (size_t i = 0; i < ids->size() && i < outputs_capacity; ++i) {
    out_outputs[i] = &graph->values[static_cast<size_t>((*ids)[i])];
  }
  if (out_num_outputs) *out_num_outputs = ids->size();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_add_weight(kiln_graph* graph, const kiln_weight_desc* desc,
                                   kiln_value** out_value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(desc);
  const char* where = "kiln_graph_add_weight";
  Status s = kiln::check_struct_size(
      desc->struct_size, KILN_STRUCT_MIN_SIZE(kiln_weight_desc, device), "kiln_weight_desc", where);
  if (!s.is_ok()) return kiln::to_c_status(s);
  const std::string what = std::string(where) + ": weight '" + kiln::str_or_empty(desc->name) + "'";
  auto fail = [&](const std::string& m) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument, what + " " + m);
  };
  if (desc->name == nullptr || desc->name[0] == '\0') return fail("has no name");
  if (desc->rank > kiln::kMaxRank) return fail("has rank over " + std::to_string(kiln::kMaxRank));
  if (desc->rank > 0 && desc->shape == nullptr) return fail("has rank > 0 but shape is NULL");
  if (desc->data != nullptr && desc->external_path != nullptr) {
    return fail("has both data and external_path; give at most one");
  }
  kiln::TensorType type;
  type.dtype = static_cast<kiln::DType>(desc->dtype);
  for (size_t i = 0; i < desc->rank; ++i) type.shape.emplace_back(desc->shape[i]);
  type.device = kiln::str_or_empty(desc->device);
  kiln::Weight weight;
  weight.name = desc->name;
  if (desc->data != nullptr) {
    auto data = kiln::host_copy(desc->data, what + " data");
    if (!data.is_ok()) return kiln::to_c_status(data.status());
    weight.inline_data = std::move(data).value();
  } else if (desc->external_path != nullptr) {
    weight.external = kiln::ExternalRef{desc->external_path, desc->external_offset, 0};
  }
  auto id = graph->builder.add_weight(std::move(weight), std::move(type));
  if (!id.is_ok()) return kiln::to_c_status(id.status().with_context(where));
  graph->sync_handles();
  if (out_value) *out_value = &graph->values[static_cast<size_t>(*id)];
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_set_outputs(kiln_graph* graph, const kiln_value* const* values,
                                    size_t num_values) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  if (num_values > 0 && values == nullptr) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               "kiln_graph_set_outputs: num_values is " +
                                   std::to_string(num_values) + " but values is NULL");
  }
  std::vector<kiln::ValueId> ids;
  for (size_t i = 0; i < num_values; ++i) {
    Status s =
        kiln::check_value(graph, values[i], "kiln_graph_set_outputs: output " + std::to_string(i));
    if (!s.is_ok()) return kiln::to_c_status(s);
    ids.push_back(values[i]->id);
  }
  return kiln::to_c_status(graph->builder.set_outputs(ids));
  KILN_API_END
}

kiln_status* kiln_graph_set_metadata(kiln_graph* graph, const char* key, const char* value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(key);
  KILN_CHECK_ARG(value);
  if (key[0] == '\0') {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               "kiln_graph_set_metadata: the key is empty");
  }
  graph->metadata_strings.emplace_back(value);
  graph->metadata_view[key] = graph->metadata_strings.back().c_str();
  graph->graph.metadata[key] = value;
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_save(const kiln_graph* graph, const char* path) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(path);
  return kiln::to_c_status(kiln::save_graph(graph->graph, path));
  KILN_API_END
}

kiln_status* kiln_graph_save_to_buffer(const kiln_graph* graph, void** out_data, size_t* out_size) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_data);
  KILN_CHECK_ARG(out_size);
  auto bytes = kiln::serialize_graph(graph->graph);
  if (!bytes.is_ok()) return kiln::to_c_status(bytes.status());
  // malloc, because kiln_buffer_destroy frees with free().
  void* data = std::malloc(bytes->empty() ? 1 : bytes->size());
  if (data == nullptr) {
    return kiln::make_c_status(
        kiln::StatusCode::kResourceExhausted,
        "kiln_graph_save_to_buffer: out of memory for " + std::to_string(bytes->size()) + " bytes");
  }
  std::memcpy(data, bytes->data(), bytes->size());
  *out_data = data;
  *out_size = bytes->size();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_load(const char* path, kiln_graph** out_graph) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(path);
  KILN_CHECK_ARG(out_graph);
  auto g = kiln::load_graph(path);
  if (!g.is_ok()) return kiln::to_c_status(g.status());
  *out_graph = new kiln_graph(std::move(g).value());
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_load_from_buffer(const void* data, size_t size, kiln_graph** out_graph) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(out_graph);
  if (data == nullptr && size > 0) {
    return kiln::make_c_status(
        kiln::StatusCode::kInvalidArgument,
        "kiln_graph_load_from_buffer: data is NULL but size is " + std::to_string(size));
  }
  // Captured now, so a later chdir does not change where external weights resolve.
  std::error_code ec;
  const std::string base_dir = std::filesystem::current_path(ec).string();
  auto g = kiln::parse_graph(data, size, "<buffer>", base_dir);
  if (!g.is_ok()) return kiln::to_c_status(g.status());
  *out_graph = new kiln_graph(std::move(g).value());
  return nullptr;
  KILN_API_END
}

const char* kiln_graph_get_name(const kiln_graph* graph) {
  return graph ? graph->graph.name.c_str() : "";
}

size_t kiln_graph_get_input_count(const kiln_graph* graph) {
  return graph ? graph->graph.inputs.size() : 0;
}

size_t kiln_graph_get_output_count(const kiln_graph* graph) {
  return graph ? graph->graph.outputs.size() : 0;
}

size_t kiln_graph_get_node_count(const kiln_graph* graph) {
  return graph ? graph->nodes.size() : 0;
}

size_t kiln_graph_get_weight_count(const kiln_graph* graph) {
  return graph ? graph->weights.size() : 0;
}

}  // extern "C"

namespace kiln {
namespace {

Status index_error(const char* where, size_t index, size_t count, const char* what) {
  return out_of_range(std::string(where) + ": index " + std::to_string(index) +
                      " is out of range (the graph has " + std::to_string(count) + " " + what +
                      ")");
}

// Value handles are owned by the graph; a const graph still hands out mutable handles, as the
// ABI's getters do.
kiln_value* value_handle(const kiln_graph* graph, ValueId id) {
  return const_cast<kiln_value*>(&graph->values[static_cast<size_t>(id)]);
}

}  // namespace
}  // namespace kiln

extern "C" {

kiln_status* kiln_graph_get_input(const kiln_graph* graph, size_t index, kiln_value** out_value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_value);
  const auto& inputs = graph->graph.inputs;
  if (index >= inputs.size()) {
    return kiln::to_c_status(
        kiln::index_error("kiln_graph_get_input", index, inputs.size(), "inputs"));
  }
  *out_value = kiln::value_handle(graph, inputs[index]);
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_get_output(const kiln_graph* graph, size_t index, kiln_value** out_value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_value);
  const auto& outputs = graph->graph.outputs;
  if (index >= outputs.size()) {
    return kiln::to_c_status(
        kiln::index_error("kiln_graph_get_output", index, outputs.size(), "outputs"));
  }
  *out_value = kiln::value_handle(graph, outputs[index]);
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_get_node_info(const kiln_graph* graph, size_t index,
                                      kiln_node_info* out_info) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_info);
  Status s =
      kiln::check_struct_size(out_info->struct_size, KILN_STRUCT_MIN_SIZE(kiln_node_info, device),
                              "kiln_node_info", "kiln_graph_get_node_info");
  if (!s.is_ok()) return kiln::to_c_status(s);
  if (index >= graph->nodes.size()) {
    return kiln::to_c_status(
        kiln::index_error("kiln_graph_get_node_info", index, graph->nodes.size(), "nodes"));
  }
  const kiln::Node& node = graph->graph.nodes[index];
  const auto& strings = graph->nodes[index];
  out_info->op = strings.op.c_str();
  out_info->name = strings.name.c_str();
  out_info->num_inputs = node.inputs.size();
  out_info->num_outputs = node.outputs.size();
  out_info->device = strings.device.c_str();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_get_weight_info(const kiln_graph* graph, size_t index,
                                        kiln_weight_info* out_info) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_info);
  Status s = kiln::check_struct_size(out_info->struct_size,
                                     KILN_STRUCT_MIN_SIZE(kiln_weight_info, external_path),
                                     "kiln_weight_info", "kiln_graph_get_weight_info");
  if (!s.is_ok()) return kiln::to_c_status(s);
  if (index >= graph->weights.size()) {
    return kiln::to_c_status(
        kiln::index_error("kiln_graph_get_weight_info", index, graph->weights.size(), "weights"));
  }
  const kiln::Weight& weight = graph->graph.weights[index];
  const kiln_value& value = graph->values[static_cast<size_t>(weight.value)];
  const kiln::TensorType& type = graph->graph.value(weight.value).type;
  // Weights have static dims (checked when added), so this cannot fail.
  auto bytes = kiln::static_byte_size(type, "weight");
  out_info->name = graph->weights[index].name.c_str();
  out_info->dtype = static_cast<int32_t>(type.dtype);
  out_info->rank = value.shape.size();
  out_info->shape = value.shape.data();
  out_info->byte_size = bytes.is_ok() ? *bytes : 0;
  out_info->is_inline = weight.inline_data.has_value() ? 1 : 0;
  out_info->external_path = graph->weights[index].external_path.c_str();
  return nullptr;
  KILN_API_END
}

const char* kiln_graph_get_metadata(const kiln_graph* graph, const char* key) {
  if (graph == nullptr || key == nullptr) return nullptr;
  auto it = graph->metadata_view.find(key);
  return it == graph->metadata_view.end() ? nullptr : it->second;
}

kiln_status* kiln_value_get_spec(const kiln_value* value, kiln_tensor_spec* out_spec) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(value);
  KILN_CHECK_ARG(out_spec);
  Status s =
      kiln::check_struct_size(out_spec->struct_size, KILN_STRUCT_MIN_SIZE(kiln_tensor_spec, device),
                              "kiln_tensor_spec", "kiln_value_get_spec");
  if (!s.is_ok()) return kiln::to_c_status(s);
  const kiln::TensorType& type = value->owner->graph.value(value->id).type;
  out_spec->name = value->name.c_str();
  out_spec->dtype = static_cast<int32_t>(type.dtype);
  out_spec->rank = value->shape.size();
  out_spec->shape = value->shape.data();
  out_spec->dim_exprs = value->dim_exprs.data();
  out_spec->device = value->device.c_str();
  if (out_spec->struct_size >= KILN_STRUCT_MIN_SIZE(kiln_tensor_spec, is_buffer))
    out_spec->is_buffer = type.buffer ? 1 : 0;
  return nullptr;
  KILN_API_END
}

}  // extern "C"
