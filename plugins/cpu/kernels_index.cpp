// kernels_index.cpp: ops addressed by index tensors — gather_nd, scatter, scatter_nd — and
// masked_scatter. They move whole elements (or rows of them) by byte size, so every dtype is
// accepted. Every index is checked before anything is written: an out-of-range index is an
// OUT_OF_RANGE status naming it, never a stray read or write.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "host.h"
#include "kernels.h"

namespace kiln_cpu {
namespace {

kiln_status* check_indices_dtype(const Kernel& k, const Tensor& indices, const char* role) {
  if (indices.dtype == KILN_DTYPE_INT32 || indices.dtype == KILN_DTYPE_INT64) return nullptr;
  return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s have dtype %s; int32 or int64 needed", role,
                 dtype_name(indices.dtype));
}

int64_t index_at(const Tensor& indices, int64_t i) {
  return indices.dtype == KILN_DTYPE_INT32 ? indices.as<int32_t>()[i] : indices.as<int64_t>()[i];
}

// Wraps a negative index once; an index still outside [0, dim) is an error naming its position.
kiln_status* wrap_index(const Kernel& k, int64_t raw, int64_t dim, int64_t position, int axis,
                        int64_t* out) {
  const int64_t idx = raw < 0 ? raw + dim : raw;
  if (idx < 0 || idx >= dim) {
    return k.error(KILN_STATUS_OUT_OF_RANGE,
                   "index %lld (at position %lld of indices) is out of range for axis %d of size "
                   "%lld",
                   static_cast<long long>(raw), static_cast<long long>(position), axis,
                   static_cast<long long>(dim));
  }
  *out = idx;
  return nullptr;
}

kiln_status* check_output_like(const Kernel& k, const Tensor& x, const Tensor& out) {
  bool ok = x.dtype == out.dtype && x.rank == out.rank;
  for (int d = 0; ok && d < x.rank; ++d) ok = x.shape[d] == out.shape[d];
  if (ok) return nullptr;
  return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s %s differs from operand 0 %s %s",
                 dtype_name(out.dtype), shape_string(out).c_str(), dtype_name(x.dtype),
                 shape_string(x).c_str());
}

// For an index tensor [..., depth] into the leading `depth` dims after `first` of x: the element
// offset (in units of `slice` elements) each index tuple addresses, all checked.
kiln_status* resolve_tuples(const Kernel& k, const Tensor& x, const Tensor& indices, int first,
                            int depth, int64_t tuples, std::vector<int64_t>* offsets) {
  offsets->assign(static_cast<size_t>(tuples), 0);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int j = 0; j < depth; ++j) {
      const int axis = first + j;
      int64_t idx = 0;
      KILN_CPU_TRY(wrap_index(k, index_at(indices, t * depth + j), x.shape[axis], t * depth + j,
                              axis, &idx));
      off = off * x.shape[axis] + idx;
    }
    (*offsets)[static_cast<size_t>(t)] = off;
  }
  return nullptr;
}

// ---- gather_nd --------------------------------------------------------------------------------

kiln_status* gather_nd_kernel(Kernel& k, const void*) {
  Tensor x, indices, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &indices));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_indices_dtype(k, indices, "indices"));
  int64_t batch_attr = 0;
  KILN_CPU_TRY(k.attr_int("batch_dims", 0, &batch_attr));
  const int batch = static_cast<int>(batch_attr);
  if (indices.rank < 1 || batch < 0 || batch >= indices.rank || out.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "indices %s do not fit batch_dims %d",
                   shape_string(indices).c_str(), batch);
  }
  const int depth = static_cast<int>(indices.shape[indices.rank - 1]);
  if (batch + depth > x.rank) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "index depth %d after %d batch dims exceeds rank %d", depth, batch, x.rank);
  }
  int64_t batches = 1;
  for (int d = 0; d < batch; ++d) {
    if (indices.shape[d] != x.shape[d]) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "batch dim %d differs: input %s, indices %s", d,
                     shape_string(x).c_str(), shape_string(indices).c_str());
    }
    batches *= x.shape[d];
  }
  int64_t slice = 1;  // elements each index tuple picks
  for (int d = batch + depth; d < x.rank; ++d) slice *= x.shape[d];
  int64_t indexed = 1;  // elements of x per batch entry
  for (int d = batch; d < x.rank; ++d) indexed *= x.shape[d];
  int64_t tuples = 1;  // index tuples: the product of indices.shape[:-1]
  for (int d = 0; d + 1 < indices.rank; ++d) tuples *= indices.shape[d];
  if (tuples * slice != out.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "output %s does not match input %s with indices %s", shape_string(out).c_str(),
                   shape_string(x).c_str(), shape_string(indices).c_str());
  }
  std::vector<int64_t> offsets;
  KILN_CPU_TRY(resolve_tuples(k, x, indices, batch, depth, tuples, &offsets));
  if (out.num_elements == 0) return nullptr;
  const int64_t per_batch = tuples / std::max<int64_t>(batches, 1);
  const size_t bytes = static_cast<size_t>(slice) * x.element_size();
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(out.data);
  for (int64_t t = 0; t < tuples; ++t) {
    const int64_t b = per_batch == 0 ? 0 : t / per_batch;
    const int64_t element = b * indexed + offsets[static_cast<size_t>(t)] * slice;
    std::memcpy(dst + static_cast<size_t>(t) * bytes,
                src + static_cast<size_t>(element) * x.element_size(), bytes);
  }
  return nullptr;
}

// ---- scatter ----------------------------------------------------------------------------------

// out = input; then for every position p of updates, out[p with p[axis] = indices[p]] =
// updates[p], in C order (a repeated target keeps the last write).
kiln_status* scatter_kernel(Kernel& k, const void*) {
  Tensor x, updates, indices, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &updates));
  KILN_CPU_TRY(k.input(2, &indices));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_output_like(k, x, out));
  KILN_CPU_TRY(check_indices_dtype(k, indices, "indices"));
  int64_t axis_attr = -1;
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  bool ok = updates.dtype == x.dtype && updates.rank == x.rank && indices.rank == x.rank;
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = indices.shape[d] == updates.shape[d] && (d == axis || updates.shape[d] <= x.shape[d]);
  }
  if (!ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "updates %s and indices %s do not fit input %s",
                   shape_string(updates).c_str(), shape_string(indices).c_str(),
                   shape_string(x).c_str());
  }
  const int64_t n = updates.num_elements;
  std::vector<int64_t> targets(static_cast<size_t>(n));
  std::vector<int64_t> pos(static_cast<size_t>(x.rank), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t idx = 0;
    KILN_CPU_TRY(wrap_index(k, index_at(indices, i), x.shape[axis], i, axis, &idx));
    int64_t off = 0;
    for (int d = 0; d < x.rank; ++d) off = off * x.shape[d] + (d == axis ? idx : pos[d]);
    targets[static_cast<size_t>(i)] = off;
    for (int d = x.rank - 1; d >= 0; --d) {
      if (++pos[d] < updates.shape[d]) break;
      pos[d] = 0;
    }
  }
  const size_t esize = x.element_size();
  if (out.data != x.data && x.num_elements > 0) std::memcpy(out.data, x.data, x.byte_size());
  char* dst = static_cast<char*>(out.data);
  const char* src = static_cast<const char*>(updates.data);
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<size_t>(targets[static_cast<size_t>(i)]) * esize,
                src + static_cast<size_t>(i) * esize, esize);
  }
  return nullptr;
}

// ---- scatter_nd -------------------------------------------------------------------------------

kiln_status* scatter_nd_kernel(Kernel& k, const void*) {
  Tensor x, updates, indices, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &updates));
  KILN_CPU_TRY(k.input(2, &indices));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_output_like(k, x, out));
  KILN_CPU_TRY(check_indices_dtype(k, indices, "indices"));
  const int depth = indices.rank < 1 ? -1 : static_cast<int>(indices.shape[indices.rank - 1]);
  if (depth < 0 || depth > x.rank || updates.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "indices %s do not index input %s",
                   shape_string(indices).c_str(), shape_string(x).c_str());
  }
  int64_t slice = 1;
  for (int d = depth; d < x.rank; ++d) slice *= x.shape[d];
  int64_t tuples = 1;  // index tuples: the product of indices.shape[:-1]
  for (int d = 0; d + 1 < indices.rank; ++d) tuples *= indices.shape[d];
  if (tuples * slice != updates.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "updates %s do not match indices %s into input %s",
                   shape_string(updates).c_str(), shape_string(indices).c_str(),
                   shape_string(x).c_str());
  }
  std::vector<int64_t> offsets;
  KILN_CPU_TRY(resolve_tuples(k, x, indices, 0, depth, tuples, &offsets));
  if (out.data != x.data && x.num_elements > 0) std::memcpy(out.data, x.data, x.byte_size());
  const size_t bytes = static_cast<size_t>(slice) * x.element_size();
  char* dst = static_cast<char*>(out.data);
  const char* src = static_cast<const char*>(updates.data);
  for (int64_t t = 0; t < tuples && bytes > 0; ++t) {
    std::memcpy(dst + static_cast<size_t>(offsets[static_cast<size_t>(t)]) * bytes,
                src + static_cast<size_t>(t) * bytes, bytes);
  }
  return nullptr;
}

// ---- masked_scatter ---------------------------------------------------------------------------

kiln_status* masked_scatter_kernel(Kernel& k, const void*) {
  Tensor x, mask, updates, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &mask));
  KILN_CPU_TRY(k.input(2, &updates));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_output_like(k, x, out));
  bool ok = mask.dtype == KILN_DTYPE_BOOL && updates.dtype == x.dtype && mask.rank <= x.rank;
  const int offset = x.rank - mask.rank;
  for (int d = 0; ok && d < mask.rank; ++d) {
    ok = mask.shape[d] == 1 || mask.shape[d] == x.shape[d + offset];
  }
  if (!ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "mask %s %s does not broadcast to input %s",
                   dtype_name(mask.dtype), shape_string(mask).c_str(), shape_string(x).c_str());
  }
  // The mask's element for each input element, through broadcasting.
  int64_t mask_strides[kMaxRank] = {};
  int64_t s = 1;
  for (int d = mask.rank - 1; d >= 0; --d) {
    mask_strides[d + offset] = mask.shape[d] == 1 ? 0 : s;
    s *= mask.shape[d];
  }
  const uint8_t* m = mask.as<uint8_t>();
  std::vector<int64_t> pos(static_cast<size_t>(x.rank), 0);
  int64_t needed = 0;
  std::vector<int64_t> selected;
  for (int64_t i = 0; i < x.num_elements; ++i) {
    int64_t moff = 0;
    for (int d = 0; d < x.rank; ++d) moff += pos[d] * mask_strides[d];
    if (m[moff] != 0) {
      selected.push_back(i);
      ++needed;
    }
    for (int d = x.rank - 1; d >= 0; --d) {
      if (++pos[d] < x.shape[d]) break;
      pos[d] = 0;
    }
  }
  if (needed > updates.num_elements) {
    return k.error(KILN_STATUS_OUT_OF_RANGE,
                   "the mask selects %lld elements but operand 2 (updates) has only %lld",
                   static_cast<long long>(needed), static_cast<long long>(updates.num_elements));
  }
  const size_t esize = x.element_size();
  if (out.data != x.data && x.num_elements > 0) std::memcpy(out.data, x.data, x.byte_size());
  char* dst = static_cast<char*>(out.data);
  const char* src = static_cast<const char*>(updates.data);
  for (size_t j = 0; j < selected.size(); ++j) {
    std::memcpy(dst + static_cast<size_t>(selected[j]) * esize, src + j * esize, esize);
  }
  return nullptr;
}

}  // namespace

kiln_status* register_index_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(
      register_kernel(registrar, "gather_nd", {}, 0, kernel_entry<gather_nd_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "scatter", {}, 0, kernel_entry<scatter_kernel>, nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "scatter_nd", {}, 0, kernel_entry<scatter_nd_kernel>, nullptr));
  return register_kernel(registrar, "masked_scatter", {}, 0, kernel_entry<masked_scatter_kernel>,
                         nullptr);
}

}  // namespace kiln_cpu
