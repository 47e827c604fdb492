// broadcast.cpp: building a collapsed broadcast plan.
#include "broadcast.h"

namespace kiln_cpu {

bool make_broadcast_plan(const Tensor& out, const Tensor* const* inputs, int num_inputs,
                         BroadcastPlan* plan, std::string* why) {
  const int out_rank = out.rank;
  int64_t full_stride[kMaxBroadcastInputs][kMaxRank] = {};
  for (int k = 0; k < num_inputs; ++k) {
    const Tensor& in = *inputs[k];
    if (in.rank > out_rank) {
      *why = "input " + std::to_string(k) + " shape " + shape_string(in) +
             " has a higher rank than the output " + shape_string(out);
      return false;
    }
    const int offset = out_rank - in.rank;
    int64_t stride = 1;
    for (int d = in.rank - 1; d >= 0; --d) {
      const int64_t dim = in.shape[d];
      const int64_t out_dim = out.shape[offset + d];
      if (dim != out_dim && dim != 1) {
        *why = "input " + std::to_string(k) + " shape " + shape_string(in) +
               " does not broadcast to the output shape " + shape_string(out);
        return false;
      }
      full_stride[k][offset + d] = (dim == 1) ? 0 : stride;
      stride *= dim;
    }
  }
  // Drop output dims of size 1, then merge neighbours whose strides line up for every input
  // (runs of broadcast dims merge too: 0 == 0 * n).
  int64_t shape[kMaxRank];
  int64_t strides[kMaxBroadcastInputs][kMaxRank];
  int r = 0;  // collapsed dims, innermost first while building
  for (int d = out_rank - 1; d >= 0; --d) {
    const int64_t dim = out.shape[d];
    if (dim == 1) continue;
    bool merge = r > 0;
    for (int k = 0; merge && k < num_inputs; ++k) {
      merge = full_stride[k][d] == strides[k][r - 1] * shape[r - 1];
    }
    if (merge) {
      shape[r - 1] *= dim;
    } else {
      shape[r] = dim;
      for (int k = 0; k < num_inputs; ++k) strides[k][r] = full_stride[k][d];
      ++r;
    }
  }
  if (r == 0) {
    shape[0] = 1;
    for (int k = 0; k < num_inputs; ++k) strides[k][0] = 0;
    r = 1;
  }
  plan->rank = r;
  plan->num_inputs = num_inputs;
  plan->total = out.num_elements;
  for (int d = 0; d < r; ++d) {  // back to outermost-first order
    plan->shape[d] = shape[r - 1 - d];
    for (int k = 0; k < num_inputs; ++k) plan->strides[k][d] = strides[k][r - 1 - d];
  }
  for (int k = 0; k < num_inputs; ++k) plan->inner_stride[k] = plan->strides[k][r - 1];
  return true;
}

}  // namespace kiln_cpu
