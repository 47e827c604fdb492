// Helpers of the ABI tests.
#include "abi_test_util.h"

#include <sys/stat.h>

namespace kiln_test {

::testing::AssertionResult Ok(kiln_status* status) {
  StatusPtr s(status);
  if (s == nullptr) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << kiln_status_code_get_name(kiln_status_get_code(s.get()))
                                       << ": " << kiln_status_get_message(s.get());
}

::testing::AssertionResult IsError(kiln_status* status, int32_t code,
                                   std::initializer_list<std::string> parts) {
  StatusPtr s(status);
  if (s == nullptr) return ::testing::AssertionFailure() << "succeeded; expected an error";
  const std::string message = kiln_status_get_message(s.get());
  if (kiln_status_get_code(s.get()) != code) {
    return ::testing::AssertionFailure()
           << "code " << kiln_status_code_get_name(kiln_status_get_code(s.get())) << ", expected "
           << kiln_status_code_get_name(code) << "; message: " << message;
  }
  for (const std::string& part : parts) {
    if (message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks \"" << part << "\": " << message;
    }
  }
  return ::testing::AssertionSuccess() << message;
}

std::string plugin_path(const std::string& name) {
  return std::string(KILN_ABI_PLUGIN_DIR) + "/lib" + name + ".so";
}

std::string conflict_plugin_path(const std::string& name) {
  return std::string(KILN_ABI_PLUGIN_DIR) + "/conflicts/lib" + name + ".so";
}

std::string cpu_plugin_path() {
  const std::string path = std::string(KILN_BUILD_DIR) + "/lib/kiln/plugins/libkiln_cpu.so";
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? path : "";
}

RuntimePtr make_runtime(const std::vector<std::string>& plugin_paths) {
  std::vector<const char*> paths;
  for (const std::string& p : plugin_paths) paths.push_back(p.c_str());
  kiln_runtime_options options;
  kiln_runtime_options_init(&options);
  options.plugin_paths = paths.data();
  options.num_plugin_paths = paths.size();
  options.discover_plugins = 0;
  kiln_runtime* runtime = nullptr;
  EXPECT_TRUE(Ok(kiln_runtime_create(&options, &runtime)));
  return RuntimePtr(runtime);
}

SessionPtr make_session(kiln_runtime* runtime, const std::vector<std::string>& devices) {
  std::vector<const char*> specs;
  for (const std::string& d : devices) specs.push_back(d.c_str());
  kiln_session_options options;
  kiln_session_options_init(&options);
  options.devices = specs.data();
  options.num_devices = specs.size();
  kiln_session* session = nullptr;
  EXPECT_TRUE(Ok(kiln_session_create(runtime, &options, &session)));
  return SessionPtr(session);
}

kiln_device* find_device(kiln_runtime* runtime, const std::string& spec) {
  kiln_device* device = nullptr;
  EXPECT_TRUE(Ok(kiln_runtime_find_device(runtime, spec.c_str(), &device))) << spec;
  return device;
}

TensorPtr make_tensor(kiln_device* device, const std::vector<int64_t>& shape,
                      const std::vector<float>& data) {
  kiln_tensor* t = nullptr;
  EXPECT_TRUE(
      Ok(kiln_tensor_create_from_host(device, KILN_DTYPE_FLOAT32, shape.data(), shape.size(),
                                      data.data(), data.size() * sizeof(float), &t)));
  return TensorPtr(t);
}

std::vector<float> read_floats(const kiln_tensor* tensor) {
  std::vector<float> out(static_cast<size_t>(kiln_tensor_get_num_elements(tensor)));
  EXPECT_TRUE(Ok(kiln_tensor_read(tensor, out.data(), out.size() * sizeof(float))));
  return out;
}

kiln_value* add_input(kiln_graph* graph, const char* name, int32_t dtype, std::vector<DimSpec> dims,
                      const char* device) {
  std::vector<kiln_dim> d;
  for (const DimSpec& s : dims) d.push_back({s.size, s.expr});
  kiln_tensor_type type{};
  type.struct_size = sizeof type;
  type.dtype = dtype;
  type.rank = d.size();
  type.dims = d.data();
  type.device = device;
  kiln_value* value = nullptr;
  EXPECT_TRUE(Ok(kiln_graph_add_input(graph, name, &type, &value))) << name;
  return value;
}

kiln_value* add_op(kiln_graph* graph, const char* op, std::vector<kiln_value*> inputs,
                   std::vector<kiln_attr> attrs, const char* name, const char* device,
                   int32_t out_dtype, std::vector<DimSpec> out_dims) {
  std::vector<kiln_dim> d;
  for (const DimSpec& s : out_dims) d.push_back({s.size, s.expr});
  kiln_tensor_type out_type{};
  out_type.struct_size = sizeof out_type;
  out_type.dtype = out_dtype;
  out_type.rank = d.size();
  out_type.dims = d.data();
  std::vector<const kiln_value*> in(inputs.begin(), inputs.end());
  kiln_op_desc desc{};
  desc.struct_size = sizeof desc;
  desc.op = op;
  desc.inputs = in.data();
  desc.num_inputs = in.size();
  desc.attrs = attrs.data();
  desc.num_attrs = attrs.size();
  desc.output_types = out_dtype != 0 ? &out_type : nullptr;
  desc.num_output_types = out_dtype != 0 ? 1 : 0;
  desc.name = name;
  desc.device = device;
  kiln_value* out = nullptr;
  size_t count = 0;
  EXPECT_TRUE(Ok(kiln_graph_add_op(graph, &desc, &out, 1, &count))) << op;
  return out;
}

void set_outputs(kiln_graph* graph, std::vector<kiln_value*> outputs) {
  std::vector<const kiln_value*> values(outputs.begin(), outputs.end());
  EXPECT_TRUE(Ok(kiln_graph_set_outputs(graph, values.data(), values.size())));
}

GraphPtr add_mul_graph(const char* device) {
  kiln_graph* g = nullptr;
  EXPECT_TRUE(Ok(kiln_graph_create("add_mul", &g)));
  kiln_value* x = add_input(g, "x", KILN_DTYPE_FLOAT32, {{0, "batch"}, {4, nullptr}}, device);
  kiln_value* y = add_input(g, "y", KILN_DTYPE_FLOAT32, {{0, "batch"}, {4, nullptr}}, device);
  kiln_value* sum = add_op(g, "add", {x, y}, {}, "sum");
  kiln_value* product = add_op(g, "mul", {sum, x}, {}, "product");
  set_outputs(g, {product, sum});
  return GraphPtr(g);
}

}  // namespace kiln_test
