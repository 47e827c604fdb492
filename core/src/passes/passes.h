// Graph passes run by Session::load between verification and placement: constant folding, dead
// code elimination and matmul epilogue fusion. Each pass rewrites a
// verified graph into an equivalent verified graph; results agree with the unoptimized graph
// within float rounding. A session created with graph passes off skips them all.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

class Session;

// What a pass may ask about the runtime: which fused kernels exist, and how to evaluate a node.
struct PassContext {
  Session* session = nullptr;  // null: constant folding and fusion are skipped (unit tests of DCE)
  // Device APIs of the session's devices ("cpu", "cuda"); a fused op is formed only when every
  // one of them has a kernel for it.
  std::vector<std::string> device_apis;
};

// Removes nodes none of whose outputs reach a graph output. Plugin (custom) ops are kept: they may
// have effects. Returns the number of nodes removed.
size_t eliminate_dead_code(Graph& graph);

// Replaces every single-output core node whose inputs all come from `constant` nodes by a
// `constant` holding its value, computed by the session's own kernels. Returns the count folded.
StatusOr<size_t> fold_constants(const PassContext& ctx, Graph& graph);

// matmul -> add(bias) -> activation becomes one `kiln.fused_matmul` node (oneDNN post-ops on the
// CPU). Returns the number of fused nodes formed.
size_t fuse_matmul_epilogues(const PassContext& ctx, Graph& graph);

// Chains of float32 elementwise ops whose intermediates nothing else reads (unary math, and
// add/sub/mul/div with a scalar or same-shape operand) become one `kiln.fused_elementwise` node:
// one pass over memory instead of one per op. Returns the number of fused nodes formed.
size_t fuse_elementwise_chains(const PassContext& ctx, Graph& graph);

// kiln.fused_elementwise's `steps`: comma-separated, each a unary op (negate abs relu exp log sqrt
// rsqrt sigmoid tanh silu gelu gelu_tanh) or "<op>:<k>" / "r<op>:<k>" for op in add sub mul div,
// k the input index (>= 1, < num_inputs) of the other operand, "r" when it is the left one.
bool valid_elementwise_steps(const std::string& steps, size_t num_inputs, std::string* why);

// True when a kernel for `op` accepting `dtype` exists for every device API in ctx.
bool has_kernel_everywhere(const PassContext& ctx, const std::string& op, DType dtype);

// Activations kiln.fused_matmul accepts: none, relu, gelu (erf), gelu_tanh, sigmoid, tanh, silu.
const std::set<std::string>& fused_matmul_activations();

// Every pass in order; node producers are recomputed at the end.
Status run_graph_passes(Session& session, Graph& graph);

// Value use counts (graph outputs count as a use) and producer indices, for pattern matching.
struct UseInfo {
  std::vector<int32_t> uses;
  std::vector<int32_t> producer;  // node index, or -1
  std::vector<bool> is_output;
};
UseInfo compute_uses(const Graph& graph);

}  // namespace kiln
