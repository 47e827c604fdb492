// runner.cpp: runs one op through the public C ABI — a one-node graph, a session on "cpu" (the
// runtime discovers lib/kiln/plugins/libkiln_cpu.so beside libkiln.so), execute, read back.
#include <map>
#include <memory>
#include <mutex>

#include "harness.h"
#include "kiln/kiln.h"

namespace kiln_conformance {

namespace {

std::string take_message(kiln_status* status) {
  std::string message = kiln_status_get_message(status);
  kiln_status_destroy(status);
  return message;
}

// One runtime for the whole test binary.
kiln_runtime* runtime(std::string* error) {
  static std::once_flag once;
  static kiln_runtime* rt = nullptr;
  static std::string init_error;
  std::call_once(once, [] {
    kiln_status* s = kiln_runtime_create(nullptr, &rt);
    if (s) {
      init_error = "kiln_runtime_create: " + take_message(s);
      rt = nullptr;
      return;
    }
    kiln_device* cpu = nullptr;
    s = kiln_runtime_find_device(rt, "cpu", &cpu);
    if (s) {
      init_error = "no cpu device: " + take_message(s);
      for (size_t i = 0; i < kiln_runtime_get_load_error_count(rt); ++i) {
        const char* path = nullptr;
        const char* message = nullptr;
        kiln_status* e = kiln_runtime_get_load_error(rt, i, &path, &message);
        if (e) {
          kiln_status_destroy(e);
          continue;
        }
        init_error += std::string("\n  ") + path + ": " + message;
      }
    }
  });
  if (!init_error.empty()) {
    *error = init_error;
    return nullptr;
  }
  return rt;
}

// Sessions by thread count, shared by all tests.
kiln_session* session_for(int num_threads, std::string* error) {
  static std::mutex mutex;
  // Never destroyed, like the runtime: the sessions live as long as the test process.
  static auto& sessions = *new std::map<int, kiln_session*>();
  kiln_runtime* rt = runtime(error);
  if (rt == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = sessions.find(num_threads);
  if (it != sessions.end()) return it->second;
  kiln_session_options options;
  kiln_session_options_init(&options);
  const char* devices[] = {"cpu"};
  options.devices = devices;
  options.num_devices = 1;
  options.num_threads = num_threads;
  kiln_session* session = nullptr;
  kiln_status* s = kiln_session_create(rt, &options, &session);
  if (s) {
    *error = "kiln_session_create: " + take_message(s);
    return nullptr;
  }
  sessions[num_threads] = session;
  return session;
}

struct GraphHolder {
  kiln_graph* graph = nullptr;
  ~GraphHolder() { kiln_graph_destroy(graph); }
};

// Builds the one-node graph. On failure returns the stage and message.
Stage build_graph(const std::string& op, const std::vector<HostTensor>& inputs,
                  const std::vector<Attr>& attrs, GraphHolder* holder, int32_t* code,
                  std::string* message) {
  kiln_status* s = kiln_graph_create("conformance", &holder->graph);
  if (s) {
    *code = kiln_status_get_code(s);  // before take_message frees s
    *message = take_message(s);
    return Stage::kSetup;
  }
  std::vector<kiln_value*> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<kiln_dim> dims;
    for (int64_t d : inputs[i].shape) dims.push_back(kiln_dim{d, nullptr});
    kiln_tensor_type type{};
    type.struct_size = sizeof type;
    type.dtype = inputs[i].dtype;
    type.rank = dims.size();
    type.dims = dims.empty() ? nullptr : dims.data();
    type.device = nullptr;
    kiln_value* v = nullptr;
    const std::string name = "x" + std::to_string(i);
    s = kiln_graph_add_input(holder->graph, name.c_str(), &type, &v);
    if (s) {
      *code = kiln_status_get_code(s);  // before take_message frees s
      *message = take_message(s);
      return Stage::kBuild;
    }
    values.push_back(v);
  }
  std::vector<kiln_attr> c_attrs;
  for (const Attr& a : attrs) {
    kiln_attr c{};
    c.name = a.name.c_str();
    c.kind = a.kind;
    c.i = a.i;
    c.f = a.f;
    c.s = a.s.c_str();
    c.ints = a.ints.data();
    c.count = a.ints.size();
    c_attrs.push_back(c);
  }
  kiln_op_desc desc{};
  desc.struct_size = sizeof desc;
  desc.op = op.c_str();
  desc.inputs = values.data();
  desc.num_inputs = values.size();
  desc.attrs = c_attrs.empty() ? nullptr : c_attrs.data();
  desc.num_attrs = c_attrs.size();
  kiln_value* outs[8] = {};
  size_t num_outs = 0;
  s = kiln_graph_add_op(holder->graph, &desc, outs, 8, &num_outs);
  if (s) {
    *code = kiln_status_get_code(s);  // before take_message frees s
    *message = take_message(s);
    return Stage::kBuild;
  }
  s = kiln_graph_set_outputs(holder->graph, outs, num_outs);
  if (s) {
    *code = kiln_status_get_code(s);  // before take_message frees s
    *message = take_message(s);
    return Stage::kBuild;
  }
  return Stage::kOk;
}

// Takes ownership of `status` (reads its code before freeing it).
OpResult failure_from(Stage stage, kiln_status* status) {
  const int32_t code = kiln_status_get_code(status);
  std::string message = take_message(status);
  OpResult r;
  r.stage = stage;
  r.code = code;
  r.message = std::move(message);
  return r;
}

OpResult failure(Stage stage, int32_t code, std::string message) {
  OpResult r;
  r.stage = stage;
  r.code = code;
  r.message = std::move(message);
  return r;
}

OpResult execute_model(kiln_model* model, const std::vector<HostTensor>& inputs) {
  std::string error;
  kiln_runtime* rt = runtime(&error);
  if (rt == nullptr) return failure(Stage::kSetup, KILN_STATUS_UNAVAILABLE, error);
  kiln_device* cpu = nullptr;
  kiln_status* s = kiln_runtime_find_device(rt, "cpu", &cpu);
  if (s) return failure_from(Stage::kSetup, s);
  std::vector<kiln_tensor*> in;
  auto release_all = [&] {
    for (kiln_tensor* t : in) kiln_tensor_release(t);
  };
  for (const HostTensor& h : inputs) {
    kiln_tensor* t = nullptr;
    static const uint8_t kEmpty[1] = {0};
    const void* data = h.bytes.empty() ? kEmpty : h.bytes.data();
    s = kiln_tensor_create_from_host(cpu, h.dtype, h.shape.empty() ? nullptr : h.shape.data(),
                                     h.shape.size(), data, h.bytes.size(), &t);
    if (s) {
      release_all();
      return failure_from(Stage::kSetup, s);
    }
    in.push_back(t);
  }
  const size_t num_out = kiln_model_get_output_count(model);
  std::vector<kiln_tensor*> out(num_out, nullptr);
  s = kiln_model_execute(model, in.data(), in.size(), out.data(), out.size());
  release_all();
  if (s) return failure_from(Stage::kExecute, s);
  OpResult result;
  for (kiln_tensor* t : out) {
    const size_t rank = kiln_tensor_get_rank(t);
    const int64_t* shape = kiln_tensor_get_shape(t);
    HostTensor h(kiln_tensor_get_dtype(t), Shape(shape, shape + rank));
    static uint8_t sink[1];
    s = kiln_tensor_read(t, h.bytes.empty() ? sink : h.bytes.data(), h.bytes.size());
    kiln_tensor_release(t);
    if (s) {
      result = failure_from(Stage::kExecute, s);
      continue;
    }
    result.outputs.push_back(std::move(h));
  }
  return result;
}

}  // namespace

OpResult run_op(const std::string& op, const std::vector<HostTensor>& inputs,
                const std::vector<Attr>& attrs, int num_threads) {
  GraphHolder graph;
  int32_t code = 0;
  std::string message;
  const Stage stage = build_graph(op, inputs, attrs, &graph, &code, &message);
  if (stage != Stage::kOk) return failure(stage, code, message);
  std::string error;
  kiln_session* session = session_for(num_threads, &error);
  if (session == nullptr) return failure(Stage::kSetup, KILN_STATUS_UNAVAILABLE, error);
  kiln_model* model = nullptr;
  kiln_status* s = kiln_session_load(session, graph.graph, nullptr, &model);
  if (s) return failure_from(Stage::kLoad, s);
  OpResult result = execute_model(model, inputs);
  kiln_model_destroy(model);
  return result;
}

struct LoadedOp::Impl {
  kiln_model* model = nullptr;
};

LoadedOp::LoadedOp(const std::string& op, const std::vector<HostTensor>& input_types,
                   const std::vector<Attr>& attrs, int num_threads) {
  GraphHolder graph;
  int32_t code = 0;
  if (build_graph(op, input_types, attrs, &graph, &code, &error_) != Stage::kOk) return;
  kiln_session* session = session_for(num_threads, &error_);
  if (session == nullptr) return;
  impl_ = new Impl;
  kiln_status* s = kiln_session_load(session, graph.graph, nullptr, &impl_->model);
  if (s) {
    error_ = take_message(s);
    delete impl_;
    impl_ = nullptr;
  }
}

LoadedOp::~LoadedOp() {
  if (impl_) kiln_model_destroy(impl_->model);
  delete impl_;
}

OpResult LoadedOp::execute(const std::vector<HostTensor>& inputs) const {
  if (impl_ == nullptr) return failure(Stage::kLoad, KILN_STATUS_UNKNOWN, error_);
  return execute_model(impl_->model, inputs);
}

}  // namespace kiln_conformance
