// The C ABI of sessions: creation on devices with custom extensions, and loading graphs.
#include <cstring>

#include "api/c_status.h"
#include "api/graph_handles.h"
#include "api/runtime_handles.h"

namespace {

// Copies `count` strings of a C array argument, naming the argument when one is NULL.
kiln::StatusOr<std::vector<std::string>> strings_arg(const char* const* items, size_t count,
                                                     const std::string& name) {
  std::vector<std::string> out;
  if (count > 0 && items == nullptr) {
    return kiln::invalid_argument(name + " is NULL but its count is " + std::to_string(count));
  }
  for (size_t i = 0; i < count; ++i) {
    if (items[i] == nullptr) {
      return kiln::invalid_argument(name + "[" + std::to_string(i) + "] is NULL");
    }
    out.emplace_back(items[i]);
  }
  return out;
}

kiln_status* fail(const char* function, const kiln::Status& status) {
  return kiln::make_c_status(status.code(), std::string(function) + ": " + status.message());
}

}  // namespace

extern "C" {

kiln_status* kiln_session_create(kiln_runtime* runtime, const kiln_session_options* options,
                                 kiln_session** out_session) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(out_session);
  kiln::SessionOptions opts;
  if (options != nullptr) {
    kiln::Status s = kiln::check_struct_size(options->struct_size,
                                             KILN_SIZE_THROUGH(kiln_session_options, num_devices),
                                             "kiln_session_options", __func__);
    if (!s.is_ok()) return kiln::to_c_status(s);
    const size_t size = options->struct_size;
    auto devices = strings_arg(options->devices, options->num_devices, "options->devices");
    if (!devices.is_ok()) return fail(__func__, devices.status());
    opts.devices = std::move(devices).value();
    if (size >= KILN_SIZE_THROUGH(kiln_session_options, num_threads)) {
      opts.num_threads = options->num_threads;
    }
    if (size >= KILN_SIZE_THROUGH(kiln_session_options, num_custom_extensions)) {
      auto extensions = strings_arg(options->custom_extensions, options->num_custom_extensions,
                                    "options->custom_extensions");
      if (!extensions.is_ok()) return fail(__func__, extensions.status());
      opts.custom_extensions = std::move(extensions).value();
    }
    if (size >= KILN_SIZE_THROUGH(kiln_session_options, disable_graph_passes)) {
      opts.graph_passes = options->disable_graph_passes == 0;
    }
    if (size >= KILN_SIZE_THROUGH(kiln_session_options, disable_cpu_fallback)) {
      opts.cpu_fallback = options->disable_cpu_fallback == 0;
    }
    if (size >= KILN_SIZE_THROUGH(kiln_session_options, enable_graph_replay)) {
      opts.graph_replay = options->enable_graph_replay != 0;
    }
  }
  auto session = kiln::Session::create(runtime->runtime, opts);
  if (!session.is_ok()) return fail(__func__, session.status());
  *out_session = new kiln_session{std::move(session).value()};
  return nullptr;
  KILN_API_END
}

void kiln_session_destroy(kiln_session* session) { delete session; }

kiln_status* kiln_session_load(kiln_session* session, const kiln_graph* graph,
                               const kiln_load_options* options, kiln_model** out_model) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(session);
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_model);
  kiln::LoadOptions opts;
  if (options != nullptr) {
    kiln::Status s = kiln::check_struct_size(options->struct_size,
                                             KILN_SIZE_THROUGH(kiln_load_options, num_weights),
                                             "kiln_load_options", __func__);
    if (!s.is_ok()) return kiln::to_c_status(s);
    auto names = strings_arg(options->weight_names, options->num_weights, "options->weight_names");
    if (!names.is_ok()) return fail(__func__, names.status());
    if (options->num_weights > 0 && options->weights == nullptr) {
      return fail(__func__, kiln::invalid_argument("options->weights is NULL but num_weights is " +
                                                   std::to_string(options->num_weights)));
    }
    for (size_t i = 0; i < options->num_weights; ++i) {
      if (options->weights[i] == nullptr) {
        return fail(__func__, kiln::invalid_argument("options->weights[" + std::to_string(i) +
                                                     "] ('" + (*names)[i] + "') is NULL"));
      }
      opts.weights.emplace_back((*names)[i], options->weights[i]);
    }
  }
  auto model = session->session->load(kiln::graph_of(graph), opts);
  if (!model.is_ok()) return fail(__func__, model.status());
  *out_model = new kiln_model{std::move(model).value()};
  return nullptr;
  KILN_API_END
}

}  // extern "C"
