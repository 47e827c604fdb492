// Writing .kiln files: Graph -> proto::Model, serialized deterministically.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>

#include "runtime/plugin_registry.h"
#include "serialize/proto_convert.h"
#include "serialize/serialize.h"

namespace kiln {
namespace {

// Weights of every graph in the file go into Model.weights once, by name.
using WeightIndex = std::map<std::string, const proto::Weight*>;

const Value* checked_value(const Graph& graph, ValueId id) {
  if (id < 0 || static_cast<size_t>(id) >= graph.values.size()) return nullptr;
  return &graph.values[static_cast<size_t>(id)];
}

Status bad_id(const Graph& graph, const std::string& where) {
  return internal_error("graph '" + graph.name + "': " + where +
                        " refers to a value id that does not exist");
}

Status write_weight(const Graph& graph, const Weight& weight, proto::Model* model,
                    WeightIndex* index) {
  const Value* value = checked_value(graph, weight.value);
  if (value == nullptr) return bad_id(graph, "weight '" + weight.name + "'");
  proto::Weight w;
  w.set_name(weight.name);
  to_proto(value->type, w.mutable_type());
  if (weight.inline_data) {
    const HostTensor& data = *weight.inline_data;
    w.set_inline_data(reinterpret_cast<const char*>(data.data()), data.byte_size());
  } else if (weight.external) {
    proto::ExternalData* ext = w.mutable_external();
    ext->set_path(weight.external->path);
    ext->set_offset(weight.external->offset);
    ext->set_length(weight.external->length);
  }
  auto it = index->find(weight.name);
  if (it != index->end()) {
    // Subgraphs may read a weight of the main graph: the same entry, written once.
    if (it->second->SerializeAsString() != w.SerializeAsString()) {
      return invalid_argument("weight '" + weight.name +
                              "' is defined differently by two graphs of the model");
    }
    return Status::ok();
  }
  proto::Weight* added = model->add_weights();
  *added = std::move(w);
  (*index)[weight.name] = added;
  return Status::ok();
}

Status write_graph(const Graph& graph, proto::Graph* out, proto::Model* model,
                   WeightIndex* weights) {
  out->set_name(graph.name);
  for (ValueId id : graph.inputs) {
    const Value* v = checked_value(graph, id);
    if (v == nullptr) return bad_id(graph, "an input");
    proto::Value* pv = out->add_inputs();
    pv->set_name(v->name);
    to_proto(v->type, pv->mutable_type());
  }
  for (const Weight& weight : graph.weights) {
    KILN_RETURN_IF_ERROR(write_weight(graph, weight, model, weights));
    out->add_weights(weight.name);
  }
  for (const Node& node : graph.nodes) {
    proto::Node* pn = out->add_nodes();
    pn->set_op(node.op);
    pn->set_name(node.name);
    pn->set_device(node.device);
    for (ValueId id : node.inputs) {
      const Value* v = checked_value(graph, id);
      if (v == nullptr) return bad_id(graph, "node '" + node.name + "' input");
      pn->add_inputs(v->name);
    }
    for (ValueId id : node.outputs) {
      const Value* v = checked_value(graph, id);
      if (v == nullptr) return bad_id(graph, "node '" + node.name + "' output");
      proto::Value* pv = pn->add_outputs();
      pv->set_name(v->name);
      to_proto(v->type, pv->mutable_type());
    }
    for (const auto& [name, attr] : node.attrs) to_proto(attr, &(*pn->mutable_attrs())[name]);
  }
  for (ValueId id : graph.outputs) {
    const Value* v = checked_value(graph, id);
    if (v == nullptr) return bad_id(graph, "an output");
    out->add_outputs(v->name);
  }
  return Status::ok();
}

void add_requirements(const Graph& graph, proto::Model* model) {
  for (const OpRequirement& r : graph.requirements) {
    bool known = false;
    for (const auto& existing : model->requirements()) known = known || existing.op() == r.op;
    if (known) continue;
    proto::OpRequirement* pr = model->add_requirements();
    pr->set_op(r.op);
    pr->set_plugin(r.plugin);
    pr->set_plugin_version(r.plugin_version);
    // A graph built in this process: name the loaded plugin that provides the op, if any.
    std::string plugin, version;
    if (r.plugin.empty() && find_op_provider(r.op, &plugin, &version)) {
      pr->set_plugin(plugin);
      pr->set_plugin_version(version);
    }
  }
}

}  // namespace

StatusOr<std::string> serialize_graph(const Graph& graph) {
  proto::Model model;
  model.set_format_version(kFormatVersion);
  model.set_producer(std::string("kiln ") + KILN_VERSION_STRING);
  WeightIndex weights;
  KILN_RETURN_IF_ERROR(write_graph(graph, model.mutable_graph(), &model, &weights));
  for (const Graph& sub : graph.subgraphs) {
    KILN_RETURN_IF_ERROR(write_graph(sub, model.add_subgraphs(), &model, &weights));
  }
  for (const auto& [key, value] : graph.metadata) (*model.mutable_metadata())[key] = value;
  add_requirements(graph, &model);
  for (const Graph& sub : graph.subgraphs) add_requirements(sub, &model);

  const size_t size = model.ByteSizeLong();
  if (size > kMaxGraphFileBytes || size > static_cast<size_t>(INT_MAX)) {
    return resource_exhausted("graph '" + graph.name + "' serializes to " + std::to_string(size) +
                              " bytes, over the .kiln limit of " +
                              std::to_string(kMaxGraphFileBytes) +
                              "; store large weights as external files");
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    // Maps (attributes, metadata) in key order, so one graph always gives the same bytes.
    coded.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&coded)) {
      return internal_error("graph '" + graph.name + "' could not be serialized");
    }
  }
  return bytes;
}

Status save_graph(const Graph& graph, const std::string& path) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, serialize_graph(graph));
  // Written beside the target and renamed over it, so a failed save never leaves half a file.
  const std::string temp = path + ".tmp";
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) {
    return not_found("cannot write '" + path + "': " + std::strerror(errno));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::remove(temp.c_str());
    return unavailable("cannot write '" + path +
                       "': " + std::strerror(written ? errno : write_errno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(temp.c_str());
    return unavailable("cannot write '" + path + "': " + std::strerror(rename_errno));
  }
  return Status::ok();
}

}  // namespace kiln
