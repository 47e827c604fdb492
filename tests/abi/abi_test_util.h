// Helpers of the ABI tests: owning wrappers of C handles, status assertions, test plugin paths
// and small graphs built through the public C ABI.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "kiln/kiln.h"

namespace kiln_test {

struct Deleter {
  void operator()(kiln_status* s) const { kiln_status_destroy(s); }
  void operator()(kiln_runtime* r) const { kiln_runtime_destroy(r); }
  void operator()(kiln_session* s) const { kiln_session_destroy(s); }
  void operator()(kiln_model* m) const { kiln_model_destroy(m); }
  void operator()(kiln_graph* g) const { kiln_graph_destroy(g); }
  void operator()(kiln_tensor* t) const { kiln_tensor_release(t); }
};
using StatusPtr = std::unique_ptr<kiln_status, Deleter>;
using RuntimePtr = std::unique_ptr<kiln_runtime, Deleter>;
using SessionPtr = std::unique_ptr<kiln_session, Deleter>;
using ModelPtr = std::unique_ptr<kiln_model, Deleter>;
using GraphPtr = std::unique_ptr<kiln_graph, Deleter>;
using TensorPtr = std::unique_ptr<kiln_tensor, Deleter>;

// Success, or a failure showing the status's code and message. Takes the status.
::testing::AssertionResult Ok(kiln_status* status);
// An error of `code` whose message contains every part. Takes the status.
::testing::AssertionResult IsError(kiln_status* status, int32_t code,
                                   std::initializer_list<std::string> parts);

// <build>/tests/abi/plugins/lib<name>.so (conflicts/lib<name>.so for the conflicting ones).
std::string plugin_path(const std::string& name);
std::string conflict_plugin_path(const std::string& name);
// The CPU plugin of this build, or "" when it was not built.
std::string cpu_plugin_path();

// A runtime that loads exactly these plugins (no discovery). Fails the test on error.
RuntimePtr make_runtime(const std::vector<std::string>& plugin_paths);
SessionPtr make_session(kiln_runtime* runtime, const std::vector<std::string>& devices);
kiln_device* find_device(kiln_runtime* runtime, const std::string& spec);

TensorPtr make_tensor(kiln_device* device, const std::vector<int64_t>& shape,
                      const std::vector<float>& data);
std::vector<float> read_floats(const kiln_tensor* tensor);

// Graph building through kiln.h.
struct DimSpec {
  int64_t size;
  const char* expr;  // NULL: static
};
kiln_value* add_input(kiln_graph* graph, const char* name, int32_t dtype, std::vector<DimSpec> dims,
                      const char* device = nullptr);
// One-output op; `output_type` states the type for custom ops.
kiln_value* add_op(kiln_graph* graph, const char* op, std::vector<kiln_value*> inputs,
                   std::vector<kiln_attr> attrs = {}, const char* name = nullptr,
                   const char* device = nullptr, int32_t out_dtype = 0,
                   std::vector<DimSpec> out_dims = {});
void set_outputs(kiln_graph* graph, std::vector<kiln_value*> outputs);

// x, y: float32[batch, 4] on `device`; outputs (x + y) * x and x + y.
GraphPtr add_mul_graph(const char* device);

}  // namespace kiln_test
