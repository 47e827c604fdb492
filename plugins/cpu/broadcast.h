// broadcast.h: numpy broadcasting of up to three inputs against a contiguous output, collapsed to
// the fewest dims, and a walker that hands kernels contiguous runs of the output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "host.h"

namespace kiln_cpu {

constexpr int kMaxBroadcastInputs = 3;

struct BroadcastPlan {
  int rank = 1;  // >= 1 after collapsing (a scalar output is shape [1])
  int num_inputs = 0;
  int64_t total = 0;  // output elements
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxBroadcastInputs][kMaxRank] = {};  // elements; 0 along broadcast dims
  int64_t inner_stride[kMaxBroadcastInputs] = {};       // strides[k][rank - 1]: 0 or 1
};

// Fills *plan for inputs broadcast to `out`'s shape. On a shape that does not broadcast, returns
// false and says why (the core verifies shapes first; this keeps a bad call from reading past an
// input).
bool make_broadcast_plan(const Tensor& out, const Tensor* const* inputs, int num_inputs,
                         BroadcastPlan* plan, std::string* why);

// Calls fn(out_offset, const int64_t* in_offsets, const int64_t* inner_strides, count) for each
// contiguous run of output elements in [begin, end): element i of the run reads input k at
// in_offsets[k] + i * inner_strides[k].
template <class Fn>
void for_each_run(const BroadcastPlan& p, int64_t begin, int64_t end, Fn&& fn) {
  if (begin >= end) return;
  const int r = p.rank;
  const int64_t inner = p.shape[r - 1];
  int64_t idx[kMaxRank];
  int64_t off[kMaxBroadcastInputs] = {0, 0, 0};
  int64_t row = begin / inner;
  int64_t col = begin % inner;
  for (int d = r - 2; d >= 0; --d) {
    idx[d] = row % p.shape[d];
    row /= p.shape[d];
    for (int k = 0; k < p.num_inputs; ++k) off[k] += idx[d] * p.strides[k][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t n = std::min(inner - col, end - pos);
    int64_t run_off[kMaxBroadcastInputs];
    for (int k = 0; k < p.num_inputs; ++k) run_off[k] = off[k] + col * p.inner_stride[k];
    fn(pos, static_cast<const int64_t*>(run_off), static_cast<const int64_t*>(p.inner_stride), n);
    pos += n;
    col = 0;
    for (int d = r - 2; d >= 0; --d) {
      for (int k = 0; k < p.num_inputs; ++k) off[k] += p.strides[k][d];
      if (++idx[d] < p.shape[d]) break;
      for (int k = 0; k < p.num_inputs; ++k) off[k] -= p.strides[k][d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace kiln_cpu
