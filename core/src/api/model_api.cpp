// The C ABI of models: input and output metadata, and execution.
#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/executor.h"

namespace {

kiln_status* get_spec(const std::vector<kiln::SpecStorage>& specs, size_t index,
                      kiln_tensor_spec* out_spec, const char* function, const char* what) {
  if (index >= specs.size()) {
    return kiln::make_c_status(kiln::StatusCode::kOutOfRange,
                               std::string(function) + ": index " + std::to_string(index) +
                                   " is out of range (the model has " +
                                   std::to_string(specs.size()) + " " + what + ")");
  }
  kiln::Status s =
      kiln::check_struct_size(out_spec->struct_size, KILN_SIZE_THROUGH(kiln_tensor_spec, device),
                              "kiln_tensor_spec", function);
  if (!s.is_ok()) return kiln::to_c_status(s);
  specs[index].fill(out_spec);
  if (out_spec->struct_size >= KILN_SIZE_THROUGH(kiln_tensor_spec, is_buffer))
    out_spec->is_buffer = specs[index].is_buffer ? 1 : 0;
  return nullptr;
}

}  // namespace

extern "C" {

void kiln_model_destroy(kiln_model* model) { delete model; }

size_t kiln_model_get_input_count(const kiln_model* model) {
  return model ? model->model->input_specs.size() : 0;
}

kiln_status* kiln_model_get_input_spec(const kiln_model* model, size_t index,
                                       kiln_tensor_spec* out_spec) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  KILN_CHECK_ARG(out_spec);
  return get_spec(model->model->input_specs, index, out_spec, __func__, "inputs");
  KILN_API_END
}

size_t kiln_model_get_output_count(const kiln_model* model) {
  return model ? model->model->output_specs.size() : 0;
}

kiln_status* kiln_model_get_output_spec(const kiln_model* model, size_t index,
                                        kiln_tensor_spec* out_spec) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  KILN_CHECK_ARG(out_spec);
  return get_spec(model->model->output_specs, index, out_spec, __func__, "outputs");
  KILN_API_END
}

kiln_status* kiln_model_execute(kiln_model* model, kiln_tensor* const* inputs, size_t num_inputs,
                                kiln_tensor** out_outputs, size_t outputs_capacity) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  if (num_inputs > 0) KILN_CHECK_ARG(inputs);
  if (!model->model->output_specs.empty()) KILN_CHECK_ARG(out_outputs);
  kiln::Status s =
      kiln::execute_model(*model->model, inputs, num_inputs, out_outputs, outputs_capacity);
  if (!s.is_ok()) {
    return kiln::make_c_status(s.code(), std::string(__func__) + ": " + s.message());
  }
  return nullptr;
  KILN_API_END
}

}  // extern "C"
