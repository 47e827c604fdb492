// The pass pipeline Session::load runs: fold constants, drop what became dead, fuse.
#include "base/logging.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/plugin_record.h"
#include "runtime/session.h"

namespace kiln {

bool has_kernel_everywhere(const PassContext& ctx, const std::string& op, DType dtype) {
  if (ctx.session == nullptr || ctx.device_apis.empty()) return false;
  const std::vector<LoadedPlugin*> plugins = ctx.session->runtime().plugins();
  for (const std::string& api : ctx.device_apis) {
    bool found = false;
    for (const LoadedPlugin* p : plugins) {
      for (const auto& k : p->kernels) {
        found = found || (k->op == op && k->device_api == api &&
                          k->accepts_dtype(static_cast<int32_t>(dtype)));
      }
    }
    if (!found) return false;
  }
  return true;
}

Status run_graph_passes(Session& session, Graph& graph) {
  PassContext ctx;
  ctx.session = &session;
  for (const kiln_device* d : session.devices()) ctx.device_apis.push_back(d->device->api_name());

  KILN_ASSIGN_OR_RETURN(size_t folded, fold_constants(ctx, graph));
  const size_t dead = eliminate_dead_code(graph);
  const size_t epilogues = fuse_matmul_epilogues(ctx, graph);
  const size_t chains = fuse_elementwise_chains(ctx, graph);
  for (Value& v : graph.values) v.producer = -1;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].outputs) graph.values[id].producer = static_cast<int32_t>(n);
  }
  if (folded + dead + epilogues + chains > 0) {
    log_message(KILN_LOG_DEBUG, "graph '" + graph.name + "': folded " + std::to_string(folded) +
                                    " constants, removed " + std::to_string(dead) +
                                    " dead nodes, fused " + std::to_string(epilogues) +
                                    " matmul epilogues and " + std::to_string(chains) +
                                    " elementwise chains");
  }
  return Status::ok();
}

}  // namespace kiln
