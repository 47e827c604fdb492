// kernels_layout.cpp: ops that only move elements — reshape, transpose, permute, broadcast_to,
// slice_tensor (one strided-copy engine), concat and gather. They work on element sizes, so every
// dtype is accepted.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host.h"
#include "kernels.h"
#include "thread_pool.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kCopyGrain = 32768;  // elements per chunk
constexpr int64_t kTile = 32;          // transpose tile edge

void contiguous_strides(const Tensor& t, int64_t* strides) {
  int64_t s = 1;
  for (int d = t.rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= t.shape[d];
  }
}

// out (contiguous, C order) [i0, i1, ...] = in[offset + sum_d i_d * stride[d]].
struct StridedView {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t stride[kMaxRank] = {};
  int64_t offset = 0;
};

// Drops size-1 dims and merges neighbours the input walks contiguously too.
StridedView collapse(const StridedView& v) {
  StridedView c;
  c.offset = v.offset;
  for (int d = 0; d < v.rank; ++d) {
    if (v.shape[d] == 1) continue;
    if (c.rank > 0 && c.stride[c.rank - 1] == v.stride[d] * v.shape[d]) {
      c.shape[c.rank - 1] *= v.shape[d];
      c.stride[c.rank - 1] = v.stride[d];
      continue;
    }
    c.shape[c.rank] = v.shape[d];
    c.stride[c.rank] = v.stride[d];
    ++c.rank;
  }
  if (c.rank == 0) {
    c.rank = 1;
    c.shape[0] = 1;
    c.stride[0] = 1;
  }
  return c;
}

template <class E>
void copy_row(const E* in, int64_t stride, E* out, int64_t n) {
  if (stride == 1) {
    std::memcpy(out, in, static_cast<size_t>(n) * sizeof(E));
  } else if (stride == 0) {
    std::fill(out, out + n, in[0]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = in[i * stride];
  }
}

// Output rows [row_begin, row_end) of a view whose last dim is the row.
template <class E>
void copy_rows(const StridedView& v, const E* in, E* out, int64_t row_begin, int64_t row_end) {
  const int r = v.rank;
  const int64_t inner = v.shape[r - 1];
  int64_t idx[kMaxRank];
  int64_t off = v.offset;
  int64_t row = row_begin;
  for (int d = r - 2; d >= 0; --d) {
    idx[d] = row % v.shape[d];
    row /= v.shape[d];
    off += idx[d] * v.stride[d];
  }
  for (int64_t rr = row_begin; rr < row_end; ++rr) {
    copy_row(in + off, v.stride[r - 1], out + rr * inner, inner);
    for (int d = r - 2; d >= 0; --d) {
      off += v.stride[d];
      if (++idx[d] < v.shape[d]) break;
      off -= v.stride[d] * v.shape[d];
      idx[d] = 0;
    }
  }
}

// Views whose second-to-last dim is the input's contiguous one (a transpose of the last two dims
// after collapsing): copied in kTile x kTile tiles so both sides stay in cache.
template <class E>
void copy_tiled(const StridedView& v, const E* in, E* out, int64_t task_begin, int64_t task_end) {
  const int r = v.rank;
  const int64_t rows = v.shape[r - 2];
  const int64_t cols = v.shape[r - 1];
  const int64_t col_stride = v.stride[r - 1];
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  for (int64_t task = task_begin; task < task_end; ++task) {
    int64_t outer = task / row_tiles;
    const int64_t r0 = (task % row_tiles) * kTile;
    const int64_t r1 = std::min(rows, r0 + kTile);
    int64_t off = v.offset;
    const int64_t out_base = outer * rows * cols;
    for (int d = r - 3; d >= 0; --d) {
      off += (outer % v.shape[d]) * v.stride[d];
      outer /= v.shape[d];
    }
    // Each tile goes through a local buffer: read along the input's contiguous dim (rows of the
    // output tile), write whole output row segments. Neither side strides through memory inside
    // the inner loop, so power-of-two strides cannot thrash L1 sets.
    E tile[kTile][kTile];
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t j = c0; j < c1; ++j) {
        const E* src = in + off + j * col_stride + r0;  // the row dim has input stride 1
        for (int64_t i = 0; i < r1 - r0; ++i) tile[i][j - c0] = src[i];
      }
      for (int64_t i = r0; i < r1; ++i) {
        std::memcpy(out + out_base + i * cols + c0, tile[i - r0],
                    static_cast<size_t>(c1 - c0) * sizeof(E));
      }
    }
  }
}

template <class E>
void strided_copy_typed(const StridedView& v, const void* in, void* out, int threads) {
  const E* src = static_cast<const E*>(in);
  E* dst = static_cast<E*>(out);
  const int r = v.rank;
  if (r >= 2 && v.stride[r - 2] == 1 && v.stride[r - 1] != 1 && v.shape[r - 1] >= 8 &&
      v.shape[r - 2] >= 8) {
    int64_t outer = 1;
    for (int d = 0; d < r - 2; ++d) outer *= v.shape[d];
    const int64_t tasks = outer * ((v.shape[r - 2] + kTile - 1) / kTile);
    const int64_t per_task = kTile * v.shape[r - 1];
    const int64_t grain = std::max<int64_t>(1, kCopyGrain / per_task);
    parallel_for(tasks, grain, threads,
                 [&](int64_t b, int64_t e) { copy_tiled(v, src, dst, b, e); });
    return;
  }
  const int64_t inner = v.shape[r - 1];
  int64_t rows = 1;
  for (int d = 0; d < r - 1; ++d) rows *= v.shape[d];
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(inner, 1));
  parallel_for(rows, grain, threads, [&](int64_t b, int64_t e) { copy_rows(v, src, dst, b, e); });
}

void strided_copy(const StridedView& view, size_t element_size, const void* in, void* out,
                  int threads) {
  const StridedView v = collapse(view);
  switch (element_size) {
    case 1:
      strided_copy_typed<uint8_t>(v, in, out, threads);
      break;
    case 2:
      strided_copy_typed<uint16_t>(v, in, out, threads);
      break;
    case 4:
      strided_copy_typed<uint32_t>(v, in, out, threads);
      break;
    case 8:
      strided_copy_typed<uint64_t>(v, in, out, threads);
      break;
    default:
      break;  // kiln_dtype_size never returns another size for a valid dtype
  }
}

void parallel_memcpy(void* dst, const void* src, size_t bytes, int threads) {
  constexpr int64_t kGrainBytes = 1 << 18;
  parallel_for(static_cast<int64_t>(bytes), kGrainBytes, threads, [&](int64_t b, int64_t e) {
    std::memcpy(static_cast<char*>(dst) + b, static_cast<const char*>(src) + b,
                static_cast<size_t>(e - b));
  });
}

kiln_status* check_same_dtype(const Kernel& k, const Tensor& x, const Tensor& out) {
  if (x.dtype != out.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output dtype %s differs from input %s",
                   dtype_name(out.dtype), dtype_name(x.dtype));
  }
  return nullptr;
}

// ---- reshape ----------------------------------------------------------------------------------

kiln_status* reshape_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (x.num_elements != out.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot reshape %s to %s", shape_string(x).c_str(),
                   shape_string(out).c_str());
  }
  if (x.data != out.data && x.num_elements > 0) {
    parallel_memcpy(out.data, x.data, x.byte_size(), k.num_threads());
  }
  return nullptr;
}

// ---- transpose / permute ----------------------------------------------------------------------

kiln_status* permute_into(const Kernel& k, const Tensor& x, const Tensor& out,
                          const std::vector<int>& perm) {
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (out.rank != x.rank) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output rank %d differs from input rank %d",
                   out.rank, x.rank);
  }
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  StridedView v;
  v.rank = x.rank;
  for (int i = 0; i < x.rank; ++i) {
    v.shape[i] = x.shape[perm[i]];
    v.stride[i] = in_strides[perm[i]];
    if (v.shape[i] != out.shape[i]) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "output shape %s does not match the permuted "
                     "input shape %s",
                     shape_string(out).c_str(), shape_string(x).c_str());
    }
  }
  if (out.num_elements == 0) return nullptr;
  strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
  return nullptr;
}

kiln_status* transpose_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  int64_t a1 = 0, a2 = 0;
  KILN_CPU_TRY(k.attr_int("axis_1", -2, &a1));
  KILN_CPU_TRY(k.attr_int("axis_2", -1, &a2));
  std::vector<int> perm(static_cast<size_t>(x.rank));
  for (int i = 0; i < x.rank; ++i) perm[i] = i;
  if (x.rank > 0) {
    int i = 0, j = 0;
    KILN_CPU_TRY(k.normalize_axis(a1, x.rank, "attribute 'axis_1'", &i));
    KILN_CPU_TRY(k.normalize_axis(a2, x.rank, "attribute 'axis_2'", &j));
    std::swap(perm[i], perm[j]);
  }
  return permute_into(k, x, out, perm);
}

kiln_status* permute_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  std::vector<int64_t> dims;
  bool present = false;
  KILN_CPU_TRY(k.attr_ints("dims", &dims, &present));
  if (!present || static_cast<int>(dims.size()) != x.rank) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "attribute 'dims' must have %d entries", x.rank);
  }
  std::vector<int> perm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int axis = 0;
    KILN_CPU_TRY(k.normalize_axis(dims[i], x.rank, "attribute 'dims' entry", &axis));
    if (seen[axis]) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "attribute 'dims' is not a permutation");
    }
    seen[axis] = true;
    perm[i] = axis;
  }
  return permute_into(k, x, out, perm);
}

// ---- broadcast_to -----------------------------------------------------------------------------

kiln_status* broadcast_to_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (x.rank > out.rank) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot broadcast %s to the lower-rank %s",
                   shape_string(x).c_str(), shape_string(out).c_str());
  }
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  StridedView v;
  v.rank = out.rank;
  const int offset = out.rank - x.rank;
  for (int d = 0; d < out.rank; ++d) {
    v.shape[d] = out.shape[d];
    if (d < offset) {
      v.stride[d] = 0;
      continue;
    }
    const int64_t dim = x.shape[d - offset];
    if (dim != out.shape[d] && dim != 1) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot broadcast %s to %s",
                     shape_string(x).c_str(), shape_string(out).c_str());
    }
    v.stride[d] = dim == 1 ? 0 : in_strides[d - offset];
  }
  if (out.num_elements == 0) return nullptr;
  strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
  return nullptr;
}

// ---- slice_tensor -----------------------------------------------------------------------------

// Python slice semantics on a dim of `length`: start and stop clamp; INT64_MAX / INT64_MIN reach
// the end / past the start. Returns the element count (128-bit arithmetic: no int64 bound or step
// can overflow it).
int64_t resolve_slice(int64_t length, int64_t start, int64_t stop, int64_t step,
                      int64_t* out_start) {
  const __int128 lower = step < 0 ? -1 : 0;
  const __int128 upper = step < 0 ? __int128(length) - 1 : __int128(length);
  const auto clamp = [&](int64_t index) {
    __int128 i = index;
    if (i < 0) i += length;
    return std::clamp(i, lower, upper);
  };
  const __int128 b = clamp(start), e = clamp(stop), s = step;
  *out_start = static_cast<int64_t>(b);
  if (s > 0) return e > b ? static_cast<int64_t>((e - b - 1) / s + 1) : 0;
  return b > e ? static_cast<int64_t>((b - e - 1) / -s + 1) : 0;
}

kiln_status* slice_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  std::vector<int64_t> starts, stops, steps;
  bool has_starts = false, has_stops = false, has_steps = false;
  KILN_CPU_TRY(k.attr_ints("starts", &starts, &has_starts));
  KILN_CPU_TRY(k.attr_ints("stops", &stops, &has_stops));
  KILN_CPU_TRY(k.attr_ints("steps", &steps, &has_steps));
  const size_t rank = static_cast<size_t>(x.rank);
  if (!has_starts) starts.assign(rank, 0);
  if (!has_stops) stops.assign(rank, std::numeric_limits<int64_t>::max());
  if (!has_steps) steps.assign(rank, 1);
  if (starts.size() != rank || stops.size() != rank || steps.size() != rank) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "attributes 'starts', 'stops' and 'steps' need %zu entries (got %zu, %zu, %zu)",
                   rank, starts.size(), stops.size(), steps.size());
  }
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  StridedView v;
  v.rank = x.rank;
  int64_t count_product = 1;
  for (int d = 0; d < x.rank; ++d) {
    const int64_t step = steps[d];
    if (step == 0) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "step %lld on axis %d is not allowed",
                     static_cast<long long>(step), d);
    }
    int64_t start = 0;
    const int64_t count = resolve_slice(x.shape[d], starts[d], stops[d], step, &start);
    v.shape[d] = count;
    // With two or more elements |step| < length, so the product cannot overflow; with one the
    // stride is never used.
    v.stride[d] = count > 1 ? in_strides[d] * step : 0;
    if (count > 0) v.offset += start * in_strides[d];
    count_product *= count;
  }
  // Squeezed axes (attribute 'squeeze') have count 1 and vanish from the output shape; the element
  // order is the same, so the element count is what must agree.
  std::vector<int64_t> squeeze;
  KILN_CPU_TRY(k.attr_ints("squeeze", &squeeze, nullptr));
  for (int64_t axis : squeeze) {
    int a = 0;
    KILN_CPU_TRY(k.normalize_axis(axis, x.rank, "attribute 'squeeze' entry", &a));
    if (v.shape[a] != 1) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "axis %d is squeezed but its slice has %lld elements", a,
                     static_cast<long long>(v.shape[a]));
    }
  }
  if (count_product != out.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "the slice of %s has %lld elements but the output %s has %lld",
                   shape_string(x).c_str(), static_cast<long long>(count_product),
                   shape_string(out).c_str(), static_cast<long long>(out.num_elements));
  }
  if (out.num_elements == 0) return nullptr;
  strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
  return nullptr;
}

// ---- concat -----------------------------------------------------------------------------------

kiln_status* concat_kernel(Kernel& k, const void*) {
  Tensor out;
  KILN_CPU_TRY(k.output(0, &out));
  const int n = k.num_inputs();
  if (n < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "needs at least one input");
  if (out.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot concat rank-0 tensors");
  int64_t axis_attr = 0;
  KILN_CPU_TRY(k.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, out.rank, "attribute 'axis'", &axis));
  std::vector<Tensor> inputs(static_cast<size_t>(n));
  int64_t axis_total = 0;
  for (int i = 0; i < n; ++i) {
    Tensor& t = inputs[static_cast<size_t>(i)];
    KILN_CPU_TRY(k.input(i, &t));
    if (t.dtype != out.dtype || t.rank != out.rank) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "input %d (%s %s) does not match the output "
                     "(%s %s)",
                     i, dtype_name(t.dtype), shape_string(t).c_str(), dtype_name(out.dtype),
                     shape_string(out).c_str());
    }
    for (int d = 0; d < out.rank; ++d) {
      if (d != axis && t.shape[d] != out.shape[d]) {
        return k.error(KILN_STATUS_INVALID_ARGUMENT,
                       "input %d shape %s does not match the output "
                       "%s off axis %d",
                       i, shape_string(t).c_str(), shape_string(out).c_str(), axis);
      }
    }
    axis_total += t.shape[axis];
  }
  if (axis_total != out.shape[axis]) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "inputs add up to %lld along axis %d, output has "
                   "%lld",
                   static_cast<long long>(axis_total), axis,
                   static_cast<long long>(out.shape[axis]));
  }
  if (out.num_elements == 0) return nullptr;
  const size_t esize = out.element_size();
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out.shape[d];
  int64_t inner = 1;
  for (int d = axis + 1; d < out.rank; ++d) inner *= out.shape[d];
  const int64_t out_row = out.shape[axis] * inner;      // elements per outer index in the output
  std::vector<int64_t> column(static_cast<size_t>(n));  // where input i starts in an output row
  int64_t c = 0;
  for (int i = 0; i < n; ++i) {
    column[static_cast<size_t>(i)] = c;
    c += inputs[static_cast<size_t>(i)].shape[axis] * inner;
  }
  const int threads = k.num_threads();
  char* dst = static_cast<char*>(out.data);
  if (outer == 1) {  // one slab per input: split the big copies instead
    for (int i = 0; i < n; ++i) {
      const Tensor& t = inputs[static_cast<size_t>(i)];
      if (t.num_elements == 0) continue;
      parallel_memcpy(dst + column[static_cast<size_t>(i)] * static_cast<int64_t>(esize), t.data,
                      t.byte_size(), threads);
    }
    return nullptr;
  }
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(out_row, 1));
  parallel_for(outer, grain, threads, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      for (int i = 0; i < n; ++i) {
        const Tensor& t = inputs[static_cast<size_t>(i)];
        const int64_t row = t.shape[axis] * inner;
        if (row == 0) continue;
        std::memcpy(dst + (o * out_row + column[static_cast<size_t>(i)]) * esize,
                    static_cast<const char*>(t.data) + o * row * static_cast<int64_t>(esize),
                    static_cast<size_t>(row) * esize);
      }
    }
  });
  return nullptr;
}

// ---- gather -----------------------------------------------------------------------------------

kiln_status* gather_kernel(Kernel& k, const void*) {
  Tensor x, indices, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &indices));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (indices.dtype != KILN_DTYPE_INT32 && indices.dtype != KILN_DTYPE_INT64) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "indices have dtype %s; int32 or int64 needed",
                   dtype_name(indices.dtype));
  }
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot gather from a scalar");
  int64_t axis_attr = -1;
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  // out shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]
  const int expected_rank = x.rank - 1 + indices.rank;
  bool shape_ok = out.rank == expected_rank;
  for (int d = 0; shape_ok && d < out.rank; ++d) {
    int64_t want;
    if (d < axis) {
      want = x.shape[d];
    } else if (d < axis + indices.rank) {
      want = indices.shape[d - axis];
    } else {
      want = x.shape[d - indices.rank + 1];
    }
    shape_ok = out.shape[d] == want;
  }
  if (!shape_ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "output shape %s does not match input %s with "
                   "indices %s on axis %d",
                   shape_string(out).c_str(), shape_string(x).c_str(),
                   shape_string(indices).c_str(), axis);
  }
  const int64_t dim = x.shape[axis];
  const int64_t count = indices.num_elements;
  // Validate and wrap every index before writing anything.
  std::vector<int64_t> wrapped(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) {
    const int64_t raw =
        indices.dtype == KILN_DTYPE_INT32 ? indices.as<int32_t>()[j] : indices.as<int64_t>()[j];
    const int64_t idx = raw < 0 ? raw + dim : raw;
    if (idx < 0 || idx >= dim) {
      return k.error(KILN_STATUS_OUT_OF_RANGE,
                     "index %lld (at position %lld of indices) is out of range for axis %d of "
                     "size %lld",
                     static_cast<long long>(raw), static_cast<long long>(j), axis,
                     static_cast<long long>(dim));
    }
    wrapped[static_cast<size_t>(j)] = idx;
  }
  if (out.num_elements == 0) return nullptr;
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape[d];
  int64_t inner = 1;
  for (int d = axis + 1; d < x.rank; ++d) inner *= x.shape[d];
  const size_t row_bytes = static_cast<size_t>(inner) * x.element_size();
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(out.data);
  const int64_t rows = outer * count;
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(inner, 1));
  parallel_for(rows, grain, k.num_threads(), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / count;
      const int64_t j = r % count;
      std::memcpy(dst + static_cast<size_t>(r) * row_bytes,
                  src + static_cast<size_t>(o * dim + wrapped[static_cast<size_t>(j)]) * row_bytes,
                  row_bytes);
    }
  });
  return nullptr;
}

}  // namespace

kiln_status* register_layout_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(register_kernel(registrar, "reshape", {}, 0, kernel_entry<reshape_kernel>, nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "transpose", {}, 0, kernel_entry<transpose_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "permute", {}, 0, kernel_entry<permute_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "broadcast_to", {}, 0, kernel_entry<broadcast_to_kernel>,
                               nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "slice_tensor", {}, 0, kernel_entry<slice_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "concat", {}, 0, kernel_entry<concat_kernel>, nullptr));
  return register_kernel(registrar, "gather", {}, 0, kernel_entry<gather_kernel>, nullptr);
}

}  // namespace kiln_cpu
