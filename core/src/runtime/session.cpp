// Session creation and the mapping of graph device refs onto the session's devices.
#include "runtime/session.h"

#include <thread>

#include "runtime/device.h"

namespace kiln {

StatusOr<std::shared_ptr<Session>> Session::create(std::shared_ptr<Runtime> runtime,
                                                   const SessionOptions& options) {
  for (const std::string& path : options.custom_extensions) {
    Status s = runtime->load_plugin(path);
    if (!s.is_ok()) return s.with_context("custom extension");
  }
  std::shared_ptr<Session> session(new Session);
  session->runtime_ = std::move(runtime);
  const Runtime& rt = *session->runtime_;
  std::vector<std::string> specs = options.devices;
  if (specs.empty()) specs = rt.config().devices;
  if (specs.empty()) specs = {"cpu"};
  for (const std::string& spec : specs) {
    KILN_ASSIGN_OR_RETURN(kiln_device * device, rt.find_device(spec));
    for (const kiln_device* d : session->devices_) {
      if (d == device) {
        return invalid_argument("device '" + spec + "' is listed twice in the session's devices");
      }
    }
    session->devices_.push_back(device);
  }
  int32_t threads = options.num_threads;
  if (threads < 0) {
    return invalid_argument("num_threads is " + std::to_string(threads) +
                            "; use 0 for one per core");
  }
  if (threads == 0 && rt.config().threads) threads = *rt.config().threads;
  if (threads == 0) threads = static_cast<int32_t>(std::thread::hardware_concurrency());
  session->num_threads_ = threads > 0 ? threads : 1;
  session->graph_passes_ = options.graph_passes;
  session->cpu_fallback_ = options.cpu_fallback;
  session->graph_replay_ = options.graph_replay;
  return session;
}

std::string Session::describe() const {
  std::string out;
  for (const kiln_device* d : devices_) out += (out.empty() ? "" : ", ") + d->spec;
  return out;
}

StatusOr<kiln_device*> Session::resolve_device_ref(const std::string& ref) const {
  if (ref.empty()) return devices_.front();
  const size_t colon = ref.find(':');
  const std::string name = ref.substr(0, colon);
  int64_t index = 0;
  if (colon != std::string::npos) {
    const std::string digits = ref.substr(colon + 1);
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return invalid_argument("device ref '" + ref + "' is malformed");
    }
    index = std::stoll(digits);
  }
  if (name == "cpu" || name == "gpu") {
    const bool want_host = name == "cpu";
    int64_t seen = 0;
    for (kiln_device* d : devices_) {
      if (d->device->is_host() == want_host && seen++ == index) return d;
    }
    // The host is always there for "cpu" refs, even in a session listing only accelerators.
    if (want_host && index == 0) {
      if (kiln_device* host = runtime_->host_device()) return host;
    }
  } else {
    for (kiln_device* d : devices_) {
      if (d->device->api_name() == name && d->device->ordinal() == index) return d;
    }
  }
  return not_found("device ref '" + ref +
                   "' names no device of this session (its devices: " + describe() + ")");
}

}  // namespace kiln
