// Reading .kiln files: bounded protobuf parsing, version check, then every graph rebuilt through
// GraphBuilder so that names, types, op schemas and weights are validated as when building.
#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "ir/graph_builder.h"
#include "ir/type_checks.h"
#include "ops/control_flow.h"
#include "ops/op_schema.h"
#include "serialize/proto_convert.h"
#include "serialize/serialize.h"

namespace kiln {
namespace {

// Nesting of graph.proto is at most five messages deep (Model > Graph > Node > Attribute >
// TensorData); anything deeper is not a .kiln file.
constexpr int kRecursionLimit = 32;

struct ModelIndex {
  std::unordered_map<std::string, const proto::Weight*> weights;
  std::set<std::string> required_ops;
};

Status read_weight(const proto::Weight& pw, GraphBuilder* builder) {
  const std::string what = "weight '" + pw.name() + "'";
  KILN_ASSIGN_OR_RETURN(TensorType type, from_proto(pw.type(), what));
  Weight weight;
  weight.name = pw.name();
  switch (pw.source_case()) {
    case proto::Weight::kInlineData: {
      KILN_ASSIGN_OR_RETURN(uint64_t bytes, static_byte_size(type, what));
      if (pw.inline_data().size() != bytes) {
        return invalid_argument(what + " has " + std::to_string(pw.inline_data().size()) +
                                " bytes of inline data but its type " + type.to_string() +
                                " needs " + std::to_string(bytes));
      }
      HostTensor data;
      data.dtype = type.dtype;
      for (const Dim& d : type.shape) data.shape.push_back(d.value());
      data.bytes = std::make_shared<const std::vector<uint8_t>>(pw.inline_data().begin(),
                                                                pw.inline_data().end());
      weight.inline_data = std::move(data);
      break;
    }
    case proto::Weight::kExternal:
      weight.external =
          ExternalRef{pw.external().path(), pw.external().offset(), pw.external().length()};
      break;
    default:
      break;  // supplied by name at load time
  }
  return builder->add_weight(std::move(weight), std::move(type)).status();
}

Status read_node(const proto::Node& pn, int index, const ModelIndex& model, GraphBuilder* builder) {
  const std::string label =
      pn.name().empty() ? "node " + std::to_string(index) : "node '" + pn.name() + "'";
  if (pn.name().empty()) return invalid_argument(label + " (" + pn.op() + ") has no name");
  if (pn.op().empty()) return invalid_argument(label + " has no op");
  if (!is_core_op(pn.op()) && !is_structural_op(pn.op()) &&
      model.required_ops.count(pn.op()) == 0) {
    return not_found("unknown op '" + pn.op() + "' in " + label +
                     " (neither a core op nor listed in the model's requirements)");
  }
  Node node;
  node.op = pn.op();
  node.name = pn.name();
  node.device = pn.device();
  for (int i = 0; i < pn.inputs_size(); ++i) {
    auto id = builder->find_value(pn.inputs(i));
    if (!id) {
      return invalid_argument(label + " (" + pn.op() + ") input " + std::to_string(i) +
                              " refers to '" + pn.inputs(i) + "', which is not defined before it");
    }
    node.inputs.push_back(*id);
  }
  for (const auto& [name, pa] : pn.attrs()) {
    if (name.empty()) return invalid_argument(label + " has an attribute with an empty name");
    KILN_ASSIGN_OR_RETURN(Attribute attr, from_proto(pa, label + " attribute '" + name + "'"));
    node.attrs.emplace(name, std::move(attr));
  }
  // Effect ops have no outputs; a custom op may have none when it writes buffers in place
  // (its output types are checked when the node is added).
  const bool custom = !is_core_op(pn.op()) && !is_structural_op(pn.op());
  if (pn.outputs_size() == 0 && !is_effect_op(pn.op()) && !custom)
    return invalid_argument(label + " (" + pn.op() + ") has no outputs");
  std::vector<TensorType> stated;
  std::vector<std::string> names;
  for (int i = 0; i < pn.outputs_size(); ++i) {
    const proto::Value& pv = pn.outputs(i);
    KILN_ASSIGN_OR_RETURN(TensorType t,
                          from_proto(pv.type(), label + " output " + std::to_string(i)));
    stated.push_back(std::move(t));
    names.push_back(pv.name());
  }
  return builder->add_node(std::move(node), stated, names).status();
}

// `callables`: the subgraphs its control-flow nodes may name (those read before it).
StatusOr<Graph> read_graph(const proto::Graph& pg, const ModelIndex& model,
                           const std::vector<Graph>* callables) {
  Graph graph;
  graph.name = pg.name();
  GraphBuilder builder(&graph);
  builder.set_callable_subgraphs(callables);
  for (int i = 0; i < pg.inputs_size(); ++i) {
    const proto::Value& pv = pg.inputs(i);
    const std::string what = "input " + std::to_string(i) + " '" + pv.name() + "'";
    if (pv.name().empty()) return invalid_argument("input " + std::to_string(i) + " has no name");
    KILN_ASSIGN_OR_RETURN(TensorType type, from_proto(pv.type(), what));
    KILN_RETURN_IF_ERROR(builder.add_input(pv.name(), std::move(type)).status());
  }
  for (const std::string& name : pg.weights()) {
    auto it = model.weights.find(name);
    if (it == model.weights.end()) {
      return invalid_argument("weight '" + name +
                              "' is listed by the graph but not in the "
                              "model's weights");
    }
    KILN_RETURN_IF_ERROR(read_weight(*it->second, &builder));
  }
  for (int i = 0; i < pg.nodes_size(); ++i) {
    KILN_RETURN_IF_ERROR(read_node(pg.nodes(i), i, model, &builder));
  }
  std::vector<ValueId> outputs;
  for (const std::string& name : pg.outputs()) {
    auto id = builder.find_value(name);
    if (!id) return invalid_argument("graph output '" + name + "' is not a value of the graph");
    outputs.push_back(*id);
  }
  KILN_RETURN_IF_ERROR(builder.set_outputs(outputs));
  // The builder records custom ops as requirements; the model's list is authoritative.
  graph.requirements.clear();
  return graph;
}

StatusOr<Graph> read_model(const proto::Model& pm, const std::string& base_dir) {
  ModelIndex index;
  for (const proto::Weight& w : pm.weights()) {
    if (w.name().empty()) return invalid_argument("a weight of the model has no name");
    if (!index.weights.emplace(w.name(), &w).second) {
      return invalid_argument("weight name '" + w.name() + "' appears twice in the model");
    }
  }
  std::vector<OpRequirement> requirements;
  for (const proto::OpRequirement& r : pm.requirements()) {
    if (r.op().empty()) return invalid_argument("a requirement of the model names no op");
    index.required_ops.insert(r.op());
    requirements.push_back(OpRequirement{r.op(), r.plugin(), r.plugin_version()});
  }
  if (!pm.has_graph()) return invalid_argument("the model has no graph");
  // Subgraphs first, each checked against those before it (so calls never form a cycle); the
  // main graph then sees them all.
  std::vector<Graph> subgraphs;
  std::set<std::string> subgraph_names;
  for (int i = 0; i < pm.subgraphs_size(); ++i) {
    const proto::Graph& ps = pm.subgraphs(i);
    const std::string label = "subgraph " + std::to_string(i) + " '" + ps.name() + "'";
    if (ps.name().empty())
      return invalid_argument("subgraph " + std::to_string(i) + " has no name");
    if (!subgraph_names.insert(ps.name()).second) {
      return invalid_argument("subgraph name '" + ps.name() + "' appears twice");
    }
    auto sub = read_graph(ps, index, &subgraphs);
    if (!sub.is_ok()) return sub.status().with_context(label);
    sub->base_dir = base_dir;
    subgraphs.push_back(std::move(sub).value());
  }
  KILN_ASSIGN_OR_RETURN(Graph graph, read_graph(pm.graph(), index, &subgraphs));
  graph.subgraphs = std::move(subgraphs);
  for (const auto& [key, value] : pm.metadata()) graph.metadata.emplace(key, value);
  graph.requirements = std::move(requirements);
  graph.base_dir = base_dir;
  return graph;
}

}  // namespace

StatusOr<Graph> parse_graph(const void* data, size_t size, const std::string& origin,
                            const std::string& base_dir) {
  if (size > kMaxGraphFileBytes) {
    return resource_exhausted(origin + " is " + std::to_string(size) +
                              " bytes, over the .kiln limit of " +
                              std::to_string(kMaxGraphFileBytes));
  }
  if (data == nullptr && size > 0) return invalid_argument(origin + ": no data");
  proto::Model model;
  {
    // Bad input is reported by our status; protobuf's own log lines (e.g. about invalid UTF-8 in
    // a corrupted string field) would only write noise to the embedder's stderr.
    google::protobuf::LogSilencer silence_protobuf_logs;
    google::protobuf::io::ArrayInputStream stream(data, static_cast<int>(size));
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(static_cast<int>(size));
    coded.SetRecursionLimit(kRecursionLimit);
    if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
      return data_loss(origin + " is not a valid .kiln file (truncated or corrupted protobuf, " +
                       std::to_string(size) + " bytes)");
    }
  }
  if (model.format_version() == 0) {
    return data_loss(origin + " has no format version: it is not a .kiln file");
  }
  if (model.format_version() > kFormatVersion) {
    return unimplemented(origin + " was written by a newer kiln (format version " +
                         std::to_string(model.format_version()) +
                         "); this kiln reads up to version " + std::to_string(kFormatVersion));
  }
  auto graph = read_model(model, base_dir);
  if (!graph.is_ok()) return graph.status().with_context(origin);
  return graph;
}

StatusOr<Graph> load_graph(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    const std::string message = "cannot open '" + path + "': " + std::strerror(err);
    return err == ENOENT ? not_found(message) : invalid_argument(message);
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return invalid_argument("cannot load '" + path + "': not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxGraphFileBytes) {
    return resource_exhausted(path + " is " + std::to_string(size) +
                              " bytes, over the .kiln limit of " +
                              std::to_string(kMaxGraphFileBytes));
  }
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return data_loss("cannot read '" + path + "': " +
                       (n == 0 ? std::string("file shrank while reading") : std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  const std::string base_dir = ec ? std::string() : absolute.parent_path().string();
  return parse_graph(bytes.data(), bytes.size(), path, base_dir);
}

}  // namespace kiln
