// kernels_layout.cpp: ops that only move elements — reshape (and squeeze, unsqueeze, flatten,
// rebind), transpose, permute, broadcast_to, slice_tensor, split, tile, repeat_interleave (one
// strided-copy engine), concat, stack, gather, pad and band_part; plus range, which generates,
// and fold, which sums. Apart from those two they work on element sizes, so every dtype is
// accepted.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "convert.h"
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

// ---- rebind -----------------------------------------------------------------------------------

// Output 0 when its shape is already known; otherwise (a data-dependent type: a new symbol) it is
// set to `shape`, which binds the symbol. A caller compares the known shape with what it wanted.
kiln_status* data_dependent_output(Kernel& k, const int64_t* shape, int rank, Tensor* out) {
  kiln_status* known = k.output(0, out);
  if (known == nullptr) return nullptr;
  release_status(known);  // FAILED_PRECONDITION: not allocated yet
  KILN_CPU_TRY(g_host->ctx_set_output_shape(k.raw(), 0, shape, rank));
  return k.output(0, out);
}

// The output's shape is stated by the graph; when it has symbols of its own they are bound here
// from the input's real shape, and a mismatch is the graph's stated message.
kiln_status* rebind_kernel(Kernel& k, const void*) {
  Tensor x;
  KILN_CPU_TRY(k.input(0, &x));
  std::string message;
  KILN_CPU_TRY(k.attr_string("message", "", &message));
  Tensor out;
  KILN_CPU_TRY(data_dependent_output(k, x.shape, x.rank, &out));
  bool same = out.rank == x.rank;
  for (int d = 0; same && d < x.rank; ++d) same = out.shape[d] == x.shape[d];
  if (!same) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "operand 0 (x) has shape %s at run time, not the rebound %s%s%s",
                   shape_string(x).c_str(), shape_string(out).c_str(), message.empty() ? "" : ": ",
                   message.c_str());
  }
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (x.data != out.data && x.num_elements > 0) {
    parallel_memcpy(out.data, x.data, x.byte_size(), k.num_threads());
  }
  return nullptr;
}

// ---- stack ------------------------------------------------------------------------------------

// Input i fills slot i of the new axis: per outer index (dims before the axis) each input
// contributes one contiguous block of its trailing elements.
kiln_status* stack_kernel(Kernel& k, const void*) {
  Tensor out;
  KILN_CPU_TRY(k.output(0, &out));
  const int n = k.num_inputs();
  int64_t axis_attr = 0;
  KILN_CPU_TRY(k.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, out.rank, "attribute 'axis'", &axis));
  if (out.shape[axis] != n) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output dim %d is %lld, not the %d inputs", axis,
                   static_cast<long long>(out.shape[axis]), n);
  }
  std::vector<Tensor> inputs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Tensor& t = inputs[static_cast<size_t>(i)];
    KILN_CPU_TRY(k.input(i, &t));
    bool ok = t.dtype == out.dtype && t.rank + 1 == out.rank;
    for (int d = 0; ok && d < t.rank; ++d) ok = t.shape[d] == out.shape[d < axis ? d : d + 1];
    if (!ok) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "input %d (%s %s) does not fit the output (%s %s)", i, dtype_name(t.dtype),
                     shape_string(t).c_str(), dtype_name(out.dtype), shape_string(out).c_str());
    }
  }
  if (out.num_elements == 0) return nullptr;
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out.shape[d];
  const size_t block = static_cast<size_t>(out.num_elements / outer / n) * out.element_size();
  char* dst = static_cast<char*>(out.data);
  const int64_t grain = std::max<int64_t>(1, kCopyGrain * 4 / std::max<int64_t>(block * n, 1));
  parallel_for(outer, grain, k.num_threads(), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      for (int i = 0; i < n; ++i) {
        std::memcpy(dst + (o * n + i) * block,
                    static_cast<const char*>(inputs[static_cast<size_t>(i)].data) + o * block,
                    block);
      }
    }
  });
  return nullptr;
}

// ---- split ------------------------------------------------------------------------------------

kiln_status* split_kernel(Kernel& k, const void*) {
  Tensor x;
  KILN_CPU_TRY(k.input(0, &x));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot split a scalar");
  int64_t axis_attr = 0;
  KILN_CPU_TRY(k.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  int64_t start = 0;
  for (int i = 0; i < k.num_outputs(); ++i) {
    Tensor out;
    KILN_CPU_TRY(k.output(i, &out));
    KILN_CPU_TRY(check_same_dtype(k, x, out));
    bool ok = out.rank == x.rank && start + out.shape[axis] <= x.shape[axis];
    for (int d = 0; ok && d < x.rank; ++d) ok = d == axis || out.shape[d] == x.shape[d];
    if (!ok) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "output %d shape %s does not fit input %s from offset %lld on axis %d", i,
                     shape_string(out).c_str(), shape_string(x).c_str(),
                     static_cast<long long>(start), axis);
    }
    if (out.num_elements > 0) {
      StridedView v;
      v.rank = x.rank;
      for (int d = 0; d < x.rank; ++d) {
        v.shape[d] = out.shape[d];
        v.stride[d] = in_strides[d];
      }
      v.offset = start * in_strides[axis];
      strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
    }
    start += out.shape[axis];
  }
  if (start != x.shape[axis]) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "outputs cover %lld of the %lld entries of axis %d",
                   static_cast<long long>(start), static_cast<long long>(x.shape[axis]), axis);
  }
  return nullptr;
}

// ---- tile / repeat_interleave -----------------------------------------------------------------

// Both are strided views with stride-0 dims: tile reads the view [r0, n0, r1, n1, ...] with
// strides [0, s0, 0, s1, ...]; repeat_interleave inserts [n, r] with strides [s, 0] at the axis.
kiln_status* tile_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (out.rank != x.rank || 2 * x.rank > kMaxRank) {
    return k.error(out.rank != x.rank ? KILN_STATUS_INVALID_ARGUMENT : KILN_STATUS_UNIMPLEMENTED,
                   "cannot tile %s to %s", shape_string(x).c_str(), shape_string(out).c_str());
  }
  if (out.num_elements == 0) return nullptr;
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  StridedView v;
  v.rank = 2 * x.rank;
  for (int d = 0; d < x.rank; ++d) {
    if (x.shape[d] == 0 || out.shape[d] % x.shape[d] != 0) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s is not a tiling of input %s",
                     shape_string(out).c_str(), shape_string(x).c_str());
    }
    v.shape[2 * d] = out.shape[d] / x.shape[d];
    v.stride[2 * d] = 0;
    v.shape[2 * d + 1] = x.shape[d];
    v.stride[2 * d + 1] = in_strides[d];
  }
  strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
  return nullptr;
}

// Per-element counts from operand 1: each slice along the axis is copied its count times; the
// output's axis dim (a new symbol, or a static size that must match) is their sum.
kiln_status* repeat_interleave_counts(Kernel& k, const Tensor& x, int axis) {
  Tensor counts;
  KILN_CPU_TRY(k.input(1, &counts));
  const int64_t dim = x.shape[axis];
  if ((counts.dtype != KILN_DTYPE_INT32 && counts.dtype != KILN_DTYPE_INT64) || counts.rank != 1 ||
      (counts.shape[0] != 1 && counts.shape[0] != dim)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "operand 1 (repeats) must be int32 or int64 of shape [1] or [%lld], got %s %s",
                   static_cast<long long>(dim), dtype_name(counts.dtype),
                   shape_string(counts).c_str());
  }
  std::vector<int64_t> repeat(static_cast<size_t>(dim));
  int64_t total = 0;
  for (int64_t j = 0; j < dim; ++j) {
    const int64_t at = counts.shape[0] == 1 ? 0 : j;
    const int64_t c =
        counts.dtype == KILN_DTYPE_INT32 ? counts.as<int32_t>()[at] : counts.as<int64_t>()[at];
    if (c < 0 || c > (int64_t{1} << 40)) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "operand 1 (repeats) entry %lld is %lld",
                     static_cast<long long>(at), static_cast<long long>(c));
    }
    repeat[static_cast<size_t>(j)] = c;
    total += c;
  }
  int64_t shape[kMaxRank];
  std::copy(x.shape, x.shape + x.rank, shape);
  shape[axis] = total;
  Tensor out;
  KILN_CPU_TRY(data_dependent_output(k, shape, x.rank, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (out.rank != x.rank || out.shape[axis] != total) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "the repeats add up to %lld but attribute 'out_dim' makes the output %s",
                   static_cast<long long>(total), shape_string(out).c_str());
  }
  if (out.num_elements == 0) return nullptr;
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape[d];
  const size_t slice =
      static_cast<size_t>(x.num_elements / std::max<int64_t>(outer * dim, 1)) * x.element_size();
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(out.data);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < dim; ++j) {
      const char* from = src + static_cast<size_t>(o * dim + j) * slice;
      for (int64_t r = 0; r < repeat[static_cast<size_t>(j)]; ++r) {
        std::memcpy(dst, from, slice);
        dst += slice;
      }
    }
  }
  return nullptr;
}

kiln_status* repeat_interleave_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  int64_t repeats = 0, axis_attr = 0;
  KILN_CPU_TRY(k.attr_int("repeats", 1, &repeats));
  KILN_CPU_TRY(k.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  if (k.num_inputs() == 2) return repeat_interleave_counts(k, x, axis);
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  bool ok = out.rank == x.rank && x.rank < kMaxRank;
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = out.shape[d] == (d == axis ? x.shape[d] * repeats : x.shape[d]);
  }
  if (!ok) {
    return k.error(
        KILN_STATUS_INVALID_ARGUMENT, "output %s does not repeat input %s %lld times on axis %d",
        shape_string(out).c_str(), shape_string(x).c_str(), static_cast<long long>(repeats), axis);
  }
  if (out.num_elements == 0) return nullptr;
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  StridedView v;
  v.rank = x.rank + 1;
  for (int d = 0, o = 0; d < x.rank; ++d, ++o) {
    v.shape[o] = x.shape[d];
    v.stride[o] = in_strides[d];
    if (d == axis) {
      ++o;
      v.shape[o] = repeats;
      v.stride[o] = 0;
    }
  }
  strided_copy(v, x.element_size(), x.data, out.data, k.num_threads());
  return nullptr;
}

// ---- pad / band_part --------------------------------------------------------------------------

// Fills n elements of `esize` bytes with the element at `value`.
void fill_elements(void* dst, const void* value, size_t esize, int64_t n) {
  if (n <= 0) return;
  std::memcpy(dst, value, esize);
  // Doubling copies: log2(n) memcpy calls of growing size.
  int64_t done = 1;
  while (done < n) {
    const int64_t chunk = std::min(done, n - done);
    std::memcpy(static_cast<char*>(dst) + done * esize, dst, static_cast<size_t>(chunk) * esize);
    done += chunk;
  }
}

kiln_status* pad_kernel(Kernel& k, const void*) {
  Tensor x, value, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &value));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  KILN_CPU_TRY(check_same_dtype(k, value, out));
  std::vector<int64_t> pads;
  KILN_CPU_TRY(k.attr_ints("paddings", &pads, nullptr));
  bool ok = value.num_elements == 1 && out.rank == x.rank &&
            pads.size() == 2 * static_cast<size_t>(x.rank);
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = pads[2 * d] >= 0 && pads[2 * d + 1] >= 0 &&
         out.shape[d] == x.shape[d] + pads[2 * d] + pads[2 * d + 1];
  }
  if (!ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s is not input %s padded by the paddings",
                   shape_string(out).c_str(), shape_string(x).c_str());
  }
  if (out.num_elements == 0) return nullptr;
  const size_t esize = out.element_size();
  if (out.rank == 0) {
    std::memcpy(out.data, x.data, esize);
    return nullptr;
  }
  const int r = out.rank;
  const int64_t row = out.shape[r - 1];
  const int64_t rows = out.num_elements / row;
  const int64_t before = pads[2 * (r - 1)];
  const int64_t inner = x.shape[r - 1];
  int64_t in_strides[kMaxRank];
  contiguous_strides(x, in_strides);
  char* dst = static_cast<char*>(out.data);
  const char* src = static_cast<const char*>(x.data);
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(row, 1));
  parallel_for(rows, grain, k.num_threads(), [&](int64_t b, int64_t e) {
    for (int64_t rr = b; rr < e; ++rr) {
      char* out_row = dst + rr * row * static_cast<int64_t>(esize);
      // The input row this output row shows, if any: every leading index must fall inside.
      int64_t rem = rr, in_off = 0;
      bool inside = inner > 0;
      for (int d = r - 2; d >= 0 && inside; --d) {
        const int64_t i = rem % out.shape[d] - pads[2 * d];
        rem /= out.shape[d];
        inside = i >= 0 && i < x.shape[d];
        in_off += i * in_strides[d];
      }
      if (!inside) {
        fill_elements(out_row, value.data, esize, row);
        continue;
      }
      fill_elements(out_row, value.data, esize, before);
      std::memcpy(out_row + before * static_cast<int64_t>(esize),
                  src + in_off * static_cast<int64_t>(esize), static_cast<size_t>(inner) * esize);
      fill_elements(out_row + (before + inner) * static_cast<int64_t>(esize), value.data, esize,
                    row - before - inner);
    }
  });
  return nullptr;
}

// Element (m, n) of each trailing matrix is in the band when (num_lower < 0 or m - n <=
// num_lower) and (num_upper < 0 or n - m <= num_upper); the others (or, with exclude, the band)
// become zero, which is all-zero bytes in every dtype.
kiln_status* band_part_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  if (x.rank < 2 || x.num_elements != out.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "needs matching inputs of rank >= 2, got %s to %s",
                   shape_string(x).c_str(), shape_string(out).c_str());
  }
  int64_t lower = -1, upper = -1, exclude = 0;
  KILN_CPU_TRY(k.attr_int("num_lower", -1, &lower));
  KILN_CPU_TRY(k.attr_int("num_upper", -1, &upper));
  KILN_CPU_TRY(k.attr_int("exclude", 0, &exclude));
  if (out.num_elements == 0) return nullptr;
  const int64_t rows_per = x.shape[x.rank - 2];
  const int64_t cols = x.shape[x.rank - 1];
  const size_t esize = x.element_size();
  const int64_t rows = x.num_elements / cols;
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(out.data);
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, k.num_threads(), [&](int64_t b, int64_t e) {
    for (int64_t rr = b; rr < e; ++rr) {
      const int64_t m = rr % rows_per;
      // The band of row m is the column range [lo, hi).
      const int64_t lo = lower < 0 ? 0 : std::clamp<int64_t>(m - lower, 0, cols);
      const int64_t hi = upper < 0 ? cols : std::clamp<int64_t>(m + upper + 1, 0, cols);
      const size_t off = static_cast<size_t>(rr * cols) * esize;
      const size_t row_bytes = static_cast<size_t>(cols) * esize;
      if (exclude == 0) {
        std::memset(dst + off, 0, row_bytes);
        if (hi > lo) {
          std::memcpy(dst + off + lo * esize, src + off + lo * esize,
                      static_cast<size_t>(hi - lo) * esize);
        }
      } else {
        if (dst != src) std::memcpy(dst + off, src + off, row_bytes);
        if (hi > lo) std::memset(dst + off + lo * esize, 0, static_cast<size_t>(hi - lo) * esize);
      }
    }
  });
  return nullptr;
}

// ---- range ------------------------------------------------------------------------------------

template <class T>
double scalar_value(const Tensor& t) {
  if constexpr (is_half_type<T>::value) {
    return to_float(*t.as<T>());
  } else {
    return static_cast<double>(*t.as<T>());
  }
}

// Integers are computed exactly in int64; floats as start + i * step in double, as numpy does.
template <class T>
kiln_status* range_typed(Kernel& k, const Tensor& start, const Tensor& stop, const Tensor& step) {
  constexpr bool kIntegral = std::is_integral_v<T>;
  int64_t n = 0;
  if constexpr (kIntegral) {
    const __int128 a = *start.as<T>(), z = *stop.as<T>(), s = *step.as<T>();
    if (s == 0) return k.error(KILN_STATUS_INVALID_ARGUMENT, "operand 2 (step) is 0");
    const __int128 span = z - a;
    if (span != 0 && ((span > 0) != (s > 0))) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "stop - start (%lld) and step (%lld) have different signs",
                     static_cast<long long>(span), static_cast<long long>(s));
    }
    n = static_cast<int64_t>(s > 0 ? (span + s - 1) / s : (span + s + 1) / s);
  } else {
    const double a = scalar_value<T>(start), z = scalar_value<T>(stop), s = scalar_value<T>(step);
    if (!(s != 0) || !std::isfinite(a) || !std::isfinite(z) || !std::isfinite(s)) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "start, stop and step must be finite and step non-zero (got %g, %g, %g)", a, z,
                     s);
    }
    const double count = std::ceil((z - a) / s);
    if (count < 0) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "stop - start (%g) and step (%g) have different signs", z - a, s);
    }
    if (count > 9.0e15) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "the range would have %g elements", count);
    }
    n = static_cast<int64_t>(count);
  }
  Tensor out;
  KILN_CPU_TRY(data_dependent_output(k, &n, 1, &out));
  if (out.rank != 1 || out.shape[0] != n) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "start, stop and step give %lld elements but attribute 'out_dim' makes the "
                   "output %s",
                   static_cast<long long>(n), shape_string(out).c_str());
  }
  T* dst = out.as<T>();
  if constexpr (kIntegral) {
    const int64_t a = static_cast<int64_t>(*start.as<T>()), s = static_cast<int64_t>(*step.as<T>());
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(a + i * s);
  } else {
    const double a = scalar_value<T>(start), s = scalar_value<T>(step);
    for (int64_t i = 0; i < n; ++i) {
      const double v = a + static_cast<double>(i) * s;
      if constexpr (is_half_type<T>::value) {
        const float f = static_cast<float>(v);
        from_float(&f, dst + i, 1);
      } else {
        dst[i] = static_cast<T>(v);
      }
    }
  }
  return nullptr;
}

kiln_status* range_kernel(Kernel& k, const void*) {
  Tensor start, stop, step;
  KILN_CPU_TRY(k.input(0, &start));
  KILN_CPU_TRY(k.input(1, &stop));
  KILN_CPU_TRY(k.input(2, &step));
  if (start.num_elements != 1 || stop.num_elements != 1 || step.num_elements != 1 ||
      start.dtype != stop.dtype || start.dtype != step.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "start, stop and step must be scalars of one dtype");
  }
  switch (start.dtype) {
    case KILN_DTYPE_FLOAT32:
      return range_typed<float>(k, start, stop, step);
    case KILN_DTYPE_FLOAT64:
      return range_typed<double>(k, start, stop, step);
    case KILN_DTYPE_FLOAT16:
      return range_typed<f16>(k, start, stop, step);
    case KILN_DTYPE_BFLOAT16:
      return range_typed<bf16>(k, start, stop, step);
    case KILN_DTYPE_INT8:
      return range_typed<int8_t>(k, start, stop, step);
    case KILN_DTYPE_INT16:
      return range_typed<int16_t>(k, start, stop, step);
    case KILN_DTYPE_INT32:
      return range_typed<int32_t>(k, start, stop, step);
    case KILN_DTYPE_INT64:
      return range_typed<int64_t>(k, start, stop, step);
    case KILN_DTYPE_UINT8:
      return range_typed<uint8_t>(k, start, stop, step);
    case KILN_DTYPE_UINT16:
      return range_typed<uint16_t>(k, start, stop, step);
    case KILN_DTYPE_UINT32:
      return range_typed<uint32_t>(k, start, stop, step);
    case KILN_DTYPE_UINT64:
      return range_typed<uint64_t>(k, start, stop, step);
    default:
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "dtype %s is not numeric",
                     dtype_name(start.dtype));
  }
}

// ---- fold -------------------------------------------------------------------------------------

template <class T>
float load_float(const T* p, int64_t i) {
  if constexpr (is_half_type<T>::value) {
    return to_float(p[i]);
  } else {
    return static_cast<float>(p[i]);
  }
}

// col2im: each column l of input [N, C*kh*kw, L] is one block position; its entries are added
// into the output window they cover. Accumulates in float (double for float64), one (n, c)
// plane per task, so tasks never share output.
template <class T, class Acc>
void fold_typed(const Tensor& x, const Tensor& out, const int64_t* attrs, int threads) {
  const int64_t kh = attrs[0], kw = attrs[1], sh = attrs[2], sw = attrs[3], dh = attrs[4],
                dw = attrs[5], ph = attrs[6], pw = attrs[7];
  const int64_t planes = out.shape[0] * out.shape[1];
  const int64_t height = out.shape[2], width = out.shape[3];
  const int64_t blocks = x.shape[2];
  const int64_t blocks_w = (width + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  const T* src = x.as<T>();
  T* dst = out.as<T>();
  parallel_for(planes, 1, threads, [&](int64_t b, int64_t e) {
    std::vector<Acc> acc(static_cast<size_t>(height * width));
    for (int64_t plane = b; plane < e; ++plane) {
      std::fill(acc.begin(), acc.end(), Acc(0));
      const T* col = src + plane * kh * kw * blocks;
      for (int64_t ki = 0; ki < kh; ++ki) {
        for (int64_t kj = 0; kj < kw; ++kj) {
          const T* row = col + (ki * kw + kj) * blocks;
          for (int64_t l = 0; l < blocks; ++l) {
            const int64_t h = (l / blocks_w) * sh - ph + ki * dh;
            const int64_t w = (l % blocks_w) * sw - pw + kj * dw;
            if (h < 0 || h >= height || w < 0 || w >= width) continue;
            if constexpr (std::is_same_v<T, double>) {
              acc[static_cast<size_t>(h * width + w)] += row[l];
            } else {
              acc[static_cast<size_t>(h * width + w)] += load_float(row, l);
            }
          }
        }
      }
      T* plane_out = dst + plane * height * width;
      for (int64_t i = 0; i < height * width; ++i) {
        if constexpr (is_half_type<T>::value) {
          const float f = static_cast<float>(acc[static_cast<size_t>(i)]);
          from_float(&f, plane_out + i, 1);
        } else {
          plane_out[i] = static_cast<T>(acc[static_cast<size_t>(i)]);
        }
      }
    }
  });
}

kiln_status* fold_kernel(Kernel& k, const void*) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  KILN_CPU_TRY(check_same_dtype(k, x, out));
  int64_t attrs[8] = {0, 0, 1, 1, 1, 1, 0, 0};  // kernel, stride, dilation, padding pairs
  const char* names[4] = {"kernel_size", "stride", "dilation", "padding"};
  for (int i = 0; i < 4; ++i) {
    std::vector<int64_t> pair;
    bool present = false;
    KILN_CPU_TRY(k.attr_ints(names[i], &pair, &present));
    if (!present) continue;
    if (pair.size() != 2) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' must be a pair", names[i]);
    }
    attrs[2 * i] = pair[0];
    attrs[2 * i + 1] = pair[1];
  }
  bool ok = x.rank == 3 && out.rank == 4 && attrs[0] > 0 && attrs[1] > 0 && attrs[2] > 0 &&
            attrs[3] > 0 && attrs[4] > 0 && attrs[5] > 0 && attrs[6] >= 0 && attrs[7] >= 0;
  if (ok) {
    int64_t blocks = 1;
    for (int d = 0; d < 2; ++d) {
      const int64_t span = out.shape[2 + d] + 2 * attrs[6 + d] - attrs[4 + d] * (attrs[d] - 1) - 1;
      ok = ok && span >= 0;
      blocks *= span / attrs[2 + d] + 1;
    }
    ok = ok && x.shape[0] == out.shape[0] && x.shape[1] == out.shape[1] * attrs[0] * attrs[1] &&
         x.shape[2] == blocks;
  }
  if (!ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "input %s does not fold into %s",
                   shape_string(x).c_str(), shape_string(out).c_str());
  }
  if (out.num_elements == 0) return nullptr;
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      fold_typed<float, float>(x, out, attrs, k.num_threads());
      break;
    case KILN_DTYPE_FLOAT64:
      fold_typed<double, double>(x, out, attrs, k.num_threads());
      break;
    case KILN_DTYPE_FLOAT16:
      fold_typed<f16, float>(x, out, attrs, k.num_threads());
      break;
    case KILN_DTYPE_BFLOAT16:
      fold_typed<bf16, float>(x, out, attrs, k.num_threads());
      break;
    default:
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "dtype %s is not a float dtype",
                     dtype_name(x.dtype));
  }
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
  KILN_CPU_TRY(register_kernel(registrar, "gather", {}, 0, kernel_entry<gather_kernel>, nullptr));
  // squeeze, unsqueeze and flatten keep the C-order elements: a reshape.
  for (const char* op : {"squeeze", "unsqueeze", "flatten"}) {
    KILN_CPU_TRY(register_kernel(registrar, op, {}, 0, kernel_entry<reshape_kernel>, nullptr));
  }
  KILN_CPU_TRY(register_kernel(registrar, "rebind", {}, 0, kernel_entry<rebind_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "stack", {}, 0, kernel_entry<stack_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "split", {}, 0, kernel_entry<split_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "tile", {}, 0, kernel_entry<tile_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "repeat_interleave", {}, 0,
                               kernel_entry<repeat_interleave_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "pad", {}, 0, kernel_entry<pad_kernel>, nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "band_part", {}, 0, kernel_entry<band_part_kernel>, nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "fold", kFloatTypes, 0, kernel_entry<fold_kernel>, nullptr));
  return register_kernel(registrar, "range", {}, 0, kernel_entry<range_kernel>, nullptr);
}

}  // namespace kiln_cpu
