// movement.cu: data movement beyond layout.cu — pad (constant), tile, split, stack,
// repeat_interleave, band_part, range, rebind — and the index-addressed ops gather_nd, scatter,
// scatter_nd and masked_scatter, with the CPU plugin's semantics (kernels_layout.cpp,
// kernels_index.cpp). Views reuse layout.cu's strided copy. Index tensors are checked on the
// device before anything is written: a bad index fails the call with OUT_OF_RANGE naming it and
// its position, as gather's does (one stream wait). Ops whose output shape depends on values
// (range, repeat_interleave with counts, rebind) read those few values back to the host.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"
#include "strided_copy.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

// The kernel context of the call running on this thread: split needs the output count and
// data-dependent outputs need ctx_set_output_shape, which Call does not expose.
thread_local kiln_kernel_context* t_context = nullptr;

template <CallBody Body>
kiln_status* movement_entry(kiln_kernel_context* ctx, void* user_data) {
  t_context = ctx;
  return run_call(ctx, user_data, Body);
}

#define KILN_GPU_GRID_STRIDE(i, n)                                                       \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Calls f(T{}) with an unsigned storage type of `bytes`; false for another size.
template <typename F>
bool dispatch_size(size_t bytes, F&& f) {
  switch (bytes) {
    case 1:
      f(uint8_t{});
      return true;
    case 2:
      f(uint16_t{});
      return true;
    case 4:
      f(uint32_t{});
      return true;
    case 8:
      f(uint64_t{});
      return true;
    default:
      return false;
  }
}

// Calls f(I{}) with the index type (int32 or int64, checked before).
template <typename F>
void dispatch_index(int32_t dtype, F&& f) {
  if (dtype == KILN_DTYPE_INT32) {
    f(int32_t{});
  } else {
    f(int64_t{});
  }
}

kiln_status* vendor_failed(const Call& call, const char* what, gpuError_t error) {
  return call_error(call.ordinal(), what, error, call.where()).release();
}

// Copies device bytes to the host and waits for them (begin() must have run).
kiln_status* read_back(const Call& call, void* host_dst, const void* src, size_t bytes) {
  gpuError_t error = gpuMemcpyAsync(host_dst, src, bytes, gpuMemcpyDeviceToHost, call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuMemcpyAsync), error);
  error = gpuStreamSynchronize(call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuStreamSynchronize), error);
  return nullptr;
}

// Copies host bytes to the device and waits, so the host buffer may go right after.
kiln_status* upload(const Call& call, void* dst, const void* host_src, size_t bytes) {
  gpuError_t error = gpuMemcpyAsync(dst, host_src, bytes, gpuMemcpyHostToDevice, call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuMemcpyAsync), error);
  error = gpuStreamSynchronize(call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuStreamSynchronize), error);
  return nullptr;
}

kiln_status* copy_device(Call& call, void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const gpuError_t error = gpuMemcpyAsync(dst, src, bytes, gpuMemcpyDeviceToDevice, call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuMemcpyAsync), error);
  return nullptr;
}

kiln_status* fill_zero(Call& call, void* dst, size_t bytes) {
  if (bytes == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const gpuError_t error = gpuMemsetAsync(dst, 0, bytes, call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuMemsetAsync), error);
  return nullptr;
}

size_t byte_size(const Operand& t) {
  return static_cast<size_t>(t.num_elements) * dtype_size(t.dtype);
}

kiln_status* check_same_dtype(const Call& call, const Operand& x, const Operand& out) {
  if (x.dtype != out.dtype || dtype_size(x.dtype) == 0) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("output dtype ") + dtype_name(out.dtype) +
                          " differs from input " + dtype_name(x.dtype));
  }
  return nullptr;
}

// Output 0 when its shape is known; otherwise (a data-dependent output) it is set to `shape`,
// which allocates it. The caller compares the known shape with what it wanted.
kiln_status* data_dependent_output(Call& call, const int64_t* shape, int rank, Operand* out) {
  kiln_status* known = call.output(0, out);
  if (known == nullptr) return nullptr;
  if (KILN_PLUGIN_HAS_FIELD(kiln_host_api, status_destroy, host().struct_size)) {
    host().status_destroy(known);  // FAILED_PRECONDITION: not allocated yet
  }
  KILN_GPU_CALL_TRY(host().ctx_set_output_shape(t_context, 0, shape, rank));
  return call.output(0, out);
}

// ---- index checks -----------------------------------------------------------------------------

// Entry p of an index tensor indexes axis `first + p % depth` of size dim[p % depth].
struct IndexAxes {
  int depth = 0;
  int64_t dim[kMaxRank] = {};
};

template <typename I>
__device__ inline int64_t wrapped_index(const I* idx, int64_t p, int64_t dim) {
  const int64_t k = static_cast<int64_t>(idx[p]);
  return k < 0 ? k + dim : k;
}

// Records the smallest bad position: the first one in C order, which the CPU plugin names.
template <typename I>
__global__ void __launch_bounds__(kThreads)
    check_indices_kernel(const I* idx, int64_t n, IndexAxes axes, unsigned long long* bad) {
  KILN_GPU_GRID_STRIDE(p, n) {
    const int64_t dim = axes.dim[p % axes.depth];
    const int64_t k = wrapped_index(idx, p, dim);
    if (k < 0 || k >= dim) atomicMin(bad, static_cast<unsigned long long>(p));
  }
}

kiln_status* check_indices_dtype(const Call& call, const Operand& indices) {
  if (indices.dtype == KILN_DTYPE_INT32 || indices.dtype == KILN_DTYPE_INT64) return nullptr;
  return call.error(
      KILN_STATUS_INVALID_ARGUMENT,
      std::string("indices have dtype ") + dtype_name(indices.dtype) + "; int32 or int64 needed");
}

// Checks every entry of `indices` before anything is written (one stream wait); a bad one is
// OUT_OF_RANGE worded as the CPU plugin's.
kiln_status* check_indices(Call& call, const Operand& indices, int first_axis,
                           const IndexAxes& axes) {
  if (indices.num_elements == 0 || axes.depth == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  void* flag = nullptr;
  KILN_GPU_CALL_TRY(call.scratch(sizeof(unsigned long long), &flag));
  auto* bad = static_cast<unsigned long long*>(flag);
  const gpuError_t error = gpuMemsetAsync(bad, 0xFF, sizeof(unsigned long long), call.stream());
  if (error != gpuSuccess) return vendor_failed(call, KILN_GPU_NAME(gpuMemsetAsync), error);
  const unsigned blocks = grid_for(indices.num_elements, kThreads, call.multiprocessors());
  dispatch_index(indices.dtype, [&](auto tag) {
    using I = decltype(tag);
    check_indices_kernel<I><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const I*>(indices.data), indices.num_elements, axes, bad);
  });
  KILN_GPU_CALL_TRY(call.launched("index check kernel"));
  unsigned long long first_bad = 0;
  KILN_GPU_CALL_TRY(read_back(call, &first_bad, bad, sizeof(first_bad)));
  if (first_bad == ~0ull) return nullptr;
  const int64_t p = static_cast<int64_t>(first_bad);
  const size_t isize = dtype_size(indices.dtype);
  int64_t raw = 0;
  KILN_GPU_CALL_TRY(
      read_back(call, &raw, static_cast<const char*>(indices.data) + p * isize, isize));
  if (indices.dtype == KILN_DTYPE_INT32) raw = static_cast<int32_t>(raw);
  const int j = static_cast<int>(p % axes.depth);
  return call.error(KILN_STATUS_OUT_OF_RANGE,
                    "index " + std::to_string(raw) + " (at position " + std::to_string(p) +
                        " of indices) is out of range for axis " + std::to_string(first_axis + j) +
                        " of size " + std::to_string(axes.dim[j]));
}

// ---- rebind -----------------------------------------------------------------------------------

// The output's shape is stated by the graph; symbols of its own are bound here from the input's
// real shape, and a mismatch is the graph's stated message.
kiln_status* rebind_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  std::string message;
  KILN_GPU_CALL_TRY(call.attr_string("message", "", &message));
  KILN_GPU_CALL_TRY(data_dependent_output(call, x.shape, x.rank, &out));
  bool same = out.rank == x.rank;
  for (int d = 0; same && d < x.rank; ++d) same = out.shape[d] == x.shape[d];
  if (!same) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "operand 0 (x) has shape " + shape_string(x) +
                                                        " at run time, not the rebound " +
                                                        shape_string(out) +
                                                        (message.empty() ? "" : ": ") + message);
  }
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  return copy_device(call, out.data, x.data, byte_size(x));
}

// ---- stack / split ----------------------------------------------------------------------------

// Input i fills slot i of the new axis: a copy into the output viewed with that axis at i.
kiln_status* stack_body(Call& call, const void*) {
  Operand out;
  KILN_GPU_CALL_TRY(call.output(0, &out));
  const int n = call.num_inputs();
  int64_t axis_attr = 0;
  KILN_GPU_CALL_TRY(call.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, out.rank, "attribute 'axis'", &axis));
  if (out.shape[axis] != n) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output dim " + std::to_string(axis) + " is " +
                                                        std::to_string(out.shape[axis]) +
                                                        ", not the " + std::to_string(n) +
                                                        " inputs");
  }
  std::vector<Operand> inputs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Operand& t = inputs[static_cast<size_t>(i)];
    KILN_GPU_CALL_TRY(call.input(i, &t));
    bool ok = t.dtype == out.dtype && dtype_size(t.dtype) != 0 && t.rank + 1 == out.rank;
    for (int d = 0; ok && d < t.rank; ++d) ok = t.shape[d] == out.shape[d < axis ? d : d + 1];
    if (!ok) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "input " + std::to_string(i) + " (" + dtype_name(t.dtype) + " " +
                            shape_string(t) + ") does not fit the output (" +
                            dtype_name(out.dtype) + " " + shape_string(out) + ")");
    }
  }
  if (out.num_elements == 0) return nullptr;
  int64_t out_strides[kMaxRank];
  contiguous_strides(out.shape, out.rank, out_strides);
  int64_t slot_shape[kMaxRank];
  std::copy(out.shape, out.shape + out.rank, slot_shape);
  slot_shape[axis] = 1;
  for (int i = 0; i < n; ++i) {
    const Operand& t = inputs[static_cast<size_t>(i)];
    Strided dst;
    dst.rank = out.rank;
    std::copy(slot_shape, slot_shape + out.rank, dst.shape);
    std::copy(out_strides, out_strides + out.rank, dst.stride);
    dst.offset = i * out_strides[axis];
    KILN_GPU_CALL_TRY(launch_copy(call, dtype_size(t.dtype), t.data, out.data, t.num_elements,
                                  contiguous_view(slot_shape, out.rank), dst));
  }
  return nullptr;
}

kiln_status* split_body(Call& call, const void*) {
  Operand x;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot split a scalar");
  int64_t axis_attr = 0;
  KILN_GPU_CALL_TRY(call.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  int64_t in_strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, in_strides);
  const int outputs = host().ctx_get_output_count(t_context);
  int64_t start = 0;
  for (int i = 0; i < outputs; ++i) {
    Operand out;
    KILN_GPU_CALL_TRY(call.output(i, &out));
    KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
    bool ok = out.rank == x.rank && start + out.shape[axis] <= x.shape[axis];
    for (int d = 0; ok && d < x.rank; ++d) ok = d == axis || out.shape[d] == x.shape[d];
    if (!ok) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "output " + std::to_string(i) + " shape " + shape_string(out) +
                            " does not fit input " + shape_string(x) + " from offset " +
                            std::to_string(start) + " on axis " + std::to_string(axis));
    }
    Strided v;
    v.rank = x.rank;
    for (int d = 0; d < x.rank; ++d) {
      v.shape[d] = out.shape[d];
      v.stride[d] = in_strides[d];
    }
    v.offset = start * in_strides[axis];
    KILN_GPU_CALL_TRY(launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                                  contiguous_view(out.shape, out.rank)));
    start += out.shape[axis];
  }
  if (start != x.shape[axis]) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "outputs cover " + std::to_string(start) +
                                                        " of the " + std::to_string(x.shape[axis]) +
                                                        " entries of axis " + std::to_string(axis));
  }
  return nullptr;
}

// ---- tile / repeat_interleave -----------------------------------------------------------------

// Both are strided views with stride-0 dims: tile reads the view [r0, n0, r1, n1, ...] with
// strides [0, s0, 0, s1, ...] (a dim tiled once, or of size 1, needs one view dim, not two);
// repeat_interleave inserts [n, r] with strides [s, 0] at the axis.
kiln_status* tile_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (out.rank != x.rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "cannot tile " + shape_string(x) + " to " + shape_string(out));
  }
  if (out.num_elements == 0) return nullptr;
  int64_t in_strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, in_strides);
  Strided v;
  const auto add = [&](int64_t size, int64_t stride) {
    if (v.rank == kMaxRank) return false;
    v.shape[v.rank] = size;
    v.stride[v.rank] = stride;
    ++v.rank;
    return true;
  };
  for (int d = 0; d < x.rank; ++d) {
    if (x.shape[d] == 0 || out.shape[d] % x.shape[d] != 0) {
      return call.error(
          KILN_STATUS_INVALID_ARGUMENT,
          "output " + shape_string(out) + " is not a tiling of input " + shape_string(x));
    }
    const int64_t repeats = out.shape[d] / x.shape[d];
    bool fits = repeats == 1 || add(repeats, 0);
    fits = fits && (x.shape[d] == 1 || add(x.shape[d], in_strides[d]));
    if (!fits) {
      return call.error(KILN_STATUS_UNIMPLEMENTED,
                        "tiling " + shape_string(x) + " to " + shape_string(out) +
                            " needs a view of rank over " + std::to_string(kMaxRank));
    }
  }
  return launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                     contiguous_view(v.shape, v.rank));
}

// out[o, r, c] = x[o, j, c] for the j whose run [starts[j], starts[j + 1]) holds r.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    repeat_runs_kernel(const T* x, T* out, int64_t n, int64_t inner, int64_t dim, int64_t total,
                       const int64_t* starts) {
  KILN_GPU_GRID_STRIDE(e, n) {
    const int64_t c = e % inner;
    const int64_t r = (e / inner) % total;
    const int64_t o = e / (inner * total);
    int64_t lo = 0, hi = dim;  // starts[lo] <= r < starts[hi]
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (starts[mid] <= r) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    out[e] = x[(o * dim + lo) * inner + c];
  }
}

// Per-element counts from operand 1 (read back to the host): each slice along the axis is copied
// its count times; the output's axis dim (a new symbol, or a static size that must match) is
// their sum.
kiln_status* repeat_interleave_counts(Call& call, const Operand& x, int axis) {
  Operand counts;
  KILN_GPU_CALL_TRY(call.input(1, &counts));
  const int64_t dim = x.shape[axis];
  if ((counts.dtype != KILN_DTYPE_INT32 && counts.dtype != KILN_DTYPE_INT64) || counts.rank != 1 ||
      (counts.shape[0] != 1 && counts.shape[0] != dim)) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "operand 1 (repeats) must be int32 or int64 of shape [1] or [" +
                          std::to_string(dim) + "], got " + dtype_name(counts.dtype) + " " +
                          shape_string(counts));
  }
  KILN_GPU_CALL_TRY(call.begin());
  std::vector<int64_t> given(static_cast<size_t>(counts.num_elements));
  if (counts.num_elements > 0) {
    if (counts.dtype == KILN_DTYPE_INT32) {
      std::vector<int32_t> narrow(given.size());
      KILN_GPU_CALL_TRY(read_back(call, narrow.data(), counts.data, narrow.size() * 4));
      std::copy(narrow.begin(), narrow.end(), given.begin());
    } else {
      KILN_GPU_CALL_TRY(read_back(call, given.data(), counts.data, given.size() * 8));
    }
  }
  std::vector<int64_t> starts(static_cast<size_t>(dim) + 1, 0);
  int64_t total = 0;
  for (int64_t j = 0; j < dim; ++j) {
    const int64_t at = counts.shape[0] == 1 ? 0 : j;
    const int64_t c = given[static_cast<size_t>(at)];
    if (c < 0 || c > (int64_t{1} << 40)) {
      return call.error(
          KILN_STATUS_INVALID_ARGUMENT,
          "operand 1 (repeats) entry " + std::to_string(at) + " is " + std::to_string(c));
    }
    total += c;
    starts[static_cast<size_t>(j) + 1] = total;
  }
  int64_t shape[kMaxRank];
  std::copy(x.shape, x.shape + x.rank, shape);
  shape[axis] = total;
  Operand out;
  KILN_GPU_CALL_TRY(data_dependent_output(call, shape, x.rank, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (out.rank != x.rank || out.shape[axis] != total) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "the repeats add up to " + std::to_string(total) +
                          " but attribute 'out_dim' makes the output " + shape_string(out));
  }
  if (out.num_elements == 0) return nullptr;
  int64_t inner = 1;
  for (int d = axis + 1; d < x.rank; ++d) inner *= x.shape[d];
  void* scratch = nullptr;
  KILN_GPU_CALL_TRY(call.scratch(starts.size() * sizeof(int64_t), &scratch));
  KILN_GPU_CALL_TRY(upload(call, scratch, starts.data(), starts.size() * sizeof(int64_t)));
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    repeat_runs_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const T*>(x.data), static_cast<T*>(out.data), out.num_elements, inner, dim,
        total, static_cast<const int64_t*>(scratch));
  });
  return call.launched("repeat_interleave kernel");
}

kiln_status* repeat_interleave_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  int64_t repeats = 0, axis_attr = 0;
  KILN_GPU_CALL_TRY(call.attr_int("repeats", 1, &repeats));
  KILN_GPU_CALL_TRY(call.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  if (call.num_inputs() == 2) return repeat_interleave_counts(call, x, axis);
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  bool ok = out.rank == x.rank;
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = out.shape[d] == (d == axis ? x.shape[d] * repeats : x.shape[d]);
  }
  if (!ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "output " + shape_string(out) + " does not repeat input " + shape_string(x) +
                          " " + std::to_string(repeats) + " times on axis " + std::to_string(axis));
  }
  if (out.num_elements == 0) return nullptr;
  if (x.rank + 1 > kMaxRank) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, "input " + shape_string(x) + " has rank " +
                                                     std::to_string(x.rank) + "; the GPU view " +
                                                     "needs one more, at most " +
                                                     std::to_string(kMaxRank));
  }
  int64_t in_strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, in_strides);
  Strided v;
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
  return launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                     contiguous_view(v.shape, v.rank));
}

// ---- pad / band_part --------------------------------------------------------------------------

struct PadGeometry {
  int rank = 0;
  int64_t out_shape[kMaxRank] = {};
  int64_t in_shape[kMaxRank] = {};
  int64_t before[kMaxRank] = {};
  int64_t in_stride[kMaxRank] = {};
};

// Each output element shows the input element it lands on, or the padding value.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    pad_kernel(const T* x, const T* value, T* out, int64_t n, PadGeometry g) {
  KILN_GPU_GRID_STRIDE(i, n) {
    int64_t rem = i, off = 0;
    bool inside = true;
    for (int d = g.rank - 1; d >= 0; --d) {
      const int64_t at = rem % g.out_shape[d] - g.before[d];
      rem /= g.out_shape[d];
      inside = inside && at >= 0 && at < g.in_shape[d];
      off += at * g.in_stride[d];
    }
    out[i] = inside ? x[off] : value[0];
  }
}

kiln_status* pad_body(Call& call, const void*) {
  Operand x, value, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &value));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, value, out));
  std::string mode;
  KILN_GPU_CALL_TRY(call.attr_string("mode", "constant", &mode));
  if (mode != "constant") {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      "attribute 'mode' is '" + mode + "'; only 'constant' is supported");
  }
  std::vector<int64_t> pads;
  KILN_GPU_CALL_TRY(call.attr_ints("paddings", &pads, nullptr));
  bool ok = value.num_elements == 1 && out.rank == x.rank &&
            pads.size() == 2 * static_cast<size_t>(x.rank);
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = pads[2 * d] >= 0 && pads[2 * d + 1] >= 0 &&
         out.shape[d] == x.shape[d] + pads[2 * d] + pads[2 * d + 1];
  }
  if (!ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output " + shape_string(out) +
                                                        " is not input " + shape_string(x) +
                                                        " padded by the paddings");
  }
  if (out.num_elements == 0) return nullptr;
  PadGeometry g;
  g.rank = x.rank;
  std::copy(out.shape, out.shape + out.rank, g.out_shape);
  std::copy(x.shape, x.shape + x.rank, g.in_shape);
  contiguous_strides(x.shape, x.rank, g.in_stride);
  for (int d = 0; d < x.rank; ++d) g.before[d] = pads[2 * d];
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    pad_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const T*>(x.data), static_cast<const T*>(value.data), static_cast<T*>(out.data),
        out.num_elements, g);
  });
  return call.launched("pad kernel");
}

// Element (m, n) of each trailing matrix is in the band when (lower < 0 or m - n <= lower) and
// (upper < 0 or n - m <= upper); the others (or, with exclude, the band) become zero bytes.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    band_part_kernel(const T* x, T* out, int64_t n, int64_t rows, int64_t cols, int64_t lower,
                     int64_t upper, bool exclude) {
  KILN_GPU_GRID_STRIDE(i, n) {
    const int64_t col = i % cols;
    const int64_t row = (i / cols) % rows;
    const bool band = (lower < 0 || row - col <= lower) && (upper < 0 || col - row <= upper);
    out[i] = band != exclude ? x[i] : T{};
  }
}

kiln_status* band_part_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (x.rank < 2 || x.num_elements != out.num_elements) {
    return call.error(
        KILN_STATUS_INVALID_ARGUMENT,
        "needs matching inputs of rank >= 2, got " + shape_string(x) + " to " + shape_string(out));
  }
  int64_t lower = -1, upper = -1, exclude = 0;
  KILN_GPU_CALL_TRY(call.attr_int("num_lower", -1, &lower));
  KILN_GPU_CALL_TRY(call.attr_int("num_upper", -1, &upper));
  KILN_GPU_CALL_TRY(call.attr_int("exclude", 0, &exclude));
  if (out.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    band_part_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const T*>(x.data), static_cast<T*>(out.data), out.num_elements,
        x.shape[x.rank - 2], x.shape[x.rank - 1], lower, upper, exclude != 0);
  });
  return call.launched("band_part kernel");
}

// ---- range ------------------------------------------------------------------------------------

// Integers exactly in int64 (wrapping as two's complement); floats as start + i * step in double,
// rounded once to the dtype, as the CPU plugin.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    range_int_kernel(T* out, int64_t n, int64_t a, int64_t s) {
  KILN_GPU_GRID_STRIDE(i, n) {
    const uint64_t v =
        static_cast<uint64_t>(a) + static_cast<uint64_t>(i) * static_cast<uint64_t>(s);
    out[i] = static_cast<T>(static_cast<int64_t>(v));
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    range_float_kernel(T* out, int64_t n, double a, double s) {
  KILN_GPU_GRID_STRIDE(i, n) {
    const double v = a + static_cast<double>(i) * s;
    out[i] = from_float<T>(static_cast<float>(v));
  }
}

// A host copy of a one-element operand as double (floats) or int64 (integers).
template <typename T>
double host_scalar_float(const void* bytes) {
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  return static_cast<double>(to_float(v));
}

kiln_status* range_body(Call& call, const void*) {
  Operand ops[3];
  for (int i = 0; i < 3; ++i) KILN_GPU_CALL_TRY(call.input(i, &ops[i]));
  const int32_t dtype = ops[0].dtype;
  if (ops[0].num_elements != 1 || ops[1].num_elements != 1 || ops[2].num_elements != 1 ||
      ops[1].dtype != dtype || ops[2].dtype != dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "start, stop and step must be scalars of one dtype");
  }
  const bool integral = dtype == KILN_DTYPE_INT32 || dtype == KILN_DTYPE_INT64;
  const bool floating =
      dtype == KILN_DTYPE_FLOAT32 || dtype == KILN_DTYPE_FLOAT16 || dtype == KILN_DTYPE_BFLOAT16;
  if (!integral && !floating) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("dtype ") + dtype_name(dtype) + " is not numeric");
  }
  KILN_GPU_CALL_TRY(call.begin());
  uint64_t raw[3] = {};
  for (int i = 0; i < 3; ++i) {
    KILN_GPU_CALL_TRY(read_back(call, &raw[i], ops[i].data, dtype_size(dtype)));
  }
  int64_t n = 0;
  int64_t ia = 0, is = 0;
  double fa = 0, fs = 0;
  if (integral) {
    int64_t v[3];
    for (int i = 0; i < 3; ++i) {
      v[i] = dtype == KILN_DTYPE_INT32 ? static_cast<int32_t>(static_cast<uint32_t>(raw[i]))
                                       : static_cast<int64_t>(raw[i]);
    }
    const __int128 a = v[0], z = v[1], s = v[2];
    if (s == 0) return call.error(KILN_STATUS_INVALID_ARGUMENT, "operand 2 (step) is 0");
    const __int128 span = z - a;
    if (span != 0 && ((span > 0) != (s > 0))) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "stop - start (" + std::to_string(static_cast<long long>(span)) +
                            ") and step (" + std::to_string(static_cast<long long>(s)) +
                            ") have different signs");
    }
    n = static_cast<int64_t>(s > 0 ? (span + s - 1) / s : (span + s + 1) / s);
    ia = v[0];
    is = v[2];
  } else {
    double v[3];
    for (int i = 0; i < 3; ++i) {
      switch (dtype) {
        case KILN_DTYPE_FLOAT32:
          v[i] = host_scalar_float<float>(&raw[i]);
          break;
        case KILN_DTYPE_FLOAT16:
          v[i] = host_scalar_float<half_t>(&raw[i]);
          break;
        default:
          v[i] = host_scalar_float<bfloat_t>(&raw[i]);
          break;
      }
    }
    const double a = v[0], z = v[1], s = v[2];
    if (!(s != 0) || !std::isfinite(a) || !std::isfinite(z) || !std::isfinite(s)) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "start, stop and step must be finite and step non-zero (got " +
                            std::to_string(a) + ", " + std::to_string(z) + ", " +
                            std::to_string(s) + ")");
    }
    const double count = std::ceil((z - a) / s);
    if (count < 0) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "stop - start (" + std::to_string(z - a) +
                                                          ") and step (" + std::to_string(s) +
                                                          ") have different signs");
    }
    if (count > 9.0e15) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "the range would have " + std::to_string(count) + " elements");
    }
    n = static_cast<int64_t>(count);
    fa = a;
    fs = s;
  }
  Operand out;
  KILN_GPU_CALL_TRY(data_dependent_output(call, &n, 1, &out));
  if (out.rank != 1 || out.shape[0] != n || out.dtype != dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "start, stop and step give " + std::to_string(n) +
                          " elements but attribute 'out_dim' makes the output " +
                          dtype_name(out.dtype) + " " + shape_string(out));
  }
  if (n == 0) return nullptr;
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  switch (dtype) {
    case KILN_DTYPE_INT32:
      range_int_kernel<int32_t>
          <<<blocks, kThreads, 0, call.stream()>>>(static_cast<int32_t*>(out.data), n, ia, is);
      break;
    case KILN_DTYPE_INT64:
      range_int_kernel<int64_t>
          <<<blocks, kThreads, 0, call.stream()>>>(static_cast<int64_t*>(out.data), n, ia, is);
      break;
    default:
      dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        range_float_kernel<T>
            <<<blocks, kThreads, 0, call.stream()>>>(static_cast<T*>(out.data), n, fa, fs);
      });
      break;
  }
  return call.launched("range kernel");
}

// ---- gather_nd --------------------------------------------------------------------------------

// out[t, c] = x[b(t), tuple t, c]: tuple t of `depth` indices addresses a slice of `slice`
// elements in batch entry b(t) = t / per_batch (each `indexed` elements of x).
template <typename T, typename I>
__global__ void __launch_bounds__(kThreads)
    gather_nd_kernel(const T* x, const I* idx, T* out, int64_t n, int64_t slice, int64_t per_batch,
                     int64_t indexed, IndexAxes axes) {
  KILN_GPU_GRID_STRIDE(e, n) {
    const int64_t t = e / slice;
    const int64_t c = e % slice;
    const int64_t b = per_batch == 0 ? 0 : t / per_batch;
    int64_t off = 0;
    bool ok = true;
    for (int j = 0; j < axes.depth; ++j) {
      const int64_t k = wrapped_index(idx, t * axes.depth + j, axes.dim[j]);
      ok = ok && k >= 0 && k < axes.dim[j];
      off = off * axes.dim[j] + k;
    }
    out[e] = ok ? x[b * indexed + off * slice + c] : T{};  // bad tuples were refused before
  }
}

kiln_status* gather_nd_body(Call& call, const void*) {
  Operand x, indices, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &indices));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_indices_dtype(call, indices));
  int64_t batch_attr = 0;
  KILN_GPU_CALL_TRY(call.attr_int("batch_dims", 0, &batch_attr));
  if (indices.rank < 1 || batch_attr < 0 || batch_attr >= indices.rank || out.dtype != x.dtype ||
      dtype_size(x.dtype) == 0) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "indices " + shape_string(indices) +
                                                        " do not fit batch_dims " +
                                                        std::to_string(batch_attr));
  }
  const int batch = static_cast<int>(batch_attr);
  const int64_t depth = indices.shape[indices.rank - 1];
  if (batch + depth > x.rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "index depth " + std::to_string(depth) + " after " + std::to_string(batch) +
                          " batch dims exceeds rank " + std::to_string(x.rank));
  }
  int64_t batches = 1;
  for (int d = 0; d < batch; ++d) {
    if (indices.shape[d] != x.shape[d]) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "batch dim " + std::to_string(d) +
                                                          " differs: input " + shape_string(x) +
                                                          ", indices " + shape_string(indices));
    }
    batches *= x.shape[d];
  }
  IndexAxes axes;
  axes.depth = static_cast<int>(depth);
  for (int j = 0; j < axes.depth; ++j) axes.dim[j] = x.shape[batch + j];
  int64_t slice = 1;  // elements each index tuple picks
  for (int d = batch + axes.depth; d < x.rank; ++d) slice *= x.shape[d];
  int64_t indexed = 1;  // elements of x per batch entry
  for (int d = batch; d < x.rank; ++d) indexed *= x.shape[d];
  int64_t tuples = 1;  // the product of indices.shape[:-1]
  for (int d = 0; d + 1 < indices.rank; ++d) tuples *= indices.shape[d];
  if (tuples * slice != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output " + shape_string(out) +
                                                        " does not match input " + shape_string(x) +
                                                        " with indices " + shape_string(indices));
  }
  KILN_GPU_CALL_TRY(check_indices(call, indices, batch, axes));
  if (out.num_elements == 0) return nullptr;
  const int64_t per_batch = tuples / std::max<int64_t>(batches, 1);
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(indices.dtype, [&](auto itag) {
      using I = decltype(itag);
      gather_nd_kernel<T, I><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(x.data), static_cast<const I*>(indices.data),
          static_cast<T*>(out.data), out.num_elements, slice, per_batch, indexed, axes);
    });
  });
  return call.launched("gather_nd kernel");
}

// ---- scatter / scatter_nd ---------------------------------------------------------------------

// Repeated targets keep the last write in C order, as on the CPU: every writer first claims its
// target with atomicMax(position + 1), then only the winner writes.
struct ScatterGeometry {
  int rank = 0;
  int axis = 0;
  int64_t updates_shape[kMaxRank] = {};
  int64_t x_stride[kMaxRank] = {};
  int64_t dim = 0;  // x.shape[axis]
};

template <typename I>
__device__ inline int64_t scatter_target(const I* idx, int64_t i, const ScatterGeometry& g,
                                         bool* ok) {
  const int64_t k = wrapped_index(idx, i, g.dim);
  *ok = k >= 0 && k < g.dim;
  int64_t rem = i, off = 0;
  for (int d = g.rank - 1; d >= 0; --d) {
    const int64_t coord = rem % g.updates_shape[d];
    rem /= g.updates_shape[d];
    off += (d == g.axis ? k : coord) * g.x_stride[d];
  }
  return off;
}

template <typename I>
__global__ void __launch_bounds__(kThreads)
    scatter_claim_kernel(const I* idx, int64_t n, ScatterGeometry g, unsigned long long* winner) {
  KILN_GPU_GRID_STRIDE(i, n) {
    bool ok = false;
    const int64_t target = scatter_target(idx, i, g, &ok);
    if (ok) atomicMax(winner + target, static_cast<unsigned long long>(i) + 1);
  }
}

template <typename T, typename I>
__global__ void __launch_bounds__(kThreads)
    scatter_write_kernel(const T* updates, const I* idx, T* out, int64_t n, ScatterGeometry g,
                         const unsigned long long* winner) {
  KILN_GPU_GRID_STRIDE(i, n) {
    bool ok = false;
    const int64_t target = scatter_target(idx, i, g, &ok);
    if (ok && winner[target] == static_cast<unsigned long long>(i) + 1) out[target] = updates[i];
  }
}

kiln_status* check_output_like(const Call& call, const Operand& x, const Operand& out) {
  bool ok = x.dtype == out.dtype && dtype_size(x.dtype) != 0 && x.rank == out.rank;
  for (int d = 0; ok && d < x.rank; ++d) ok = x.shape[d] == out.shape[d];
  if (ok) return nullptr;
  return call.error(KILN_STATUS_INVALID_ARGUMENT,
                    std::string("output ") + dtype_name(out.dtype) + " " + shape_string(out) +
                        " differs from operand 0 " + dtype_name(x.dtype) + " " + shape_string(x));
}

// A zeroed claim array of `slots` entries.
kiln_status* claim_array(Call& call, int64_t slots, unsigned long long** out) {
  void* p = nullptr;
  const size_t bytes = static_cast<size_t>(slots) * sizeof(unsigned long long);
  KILN_GPU_CALL_TRY(call.scratch(bytes, &p));
  KILN_GPU_CALL_TRY(fill_zero(call, p, bytes));
  *out = static_cast<unsigned long long*>(p);
  return nullptr;
}

// out = input; then for every position p of updates, out[p with p[axis] = indices[p]] =
// updates[p], a repeated target keeping the last write.
kiln_status* scatter_body(Call& call, const void*) {
  Operand x, updates, indices, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &updates));
  KILN_GPU_CALL_TRY(call.input(2, &indices));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_output_like(call, x, out));
  KILN_GPU_CALL_TRY(check_indices_dtype(call, indices));
  int64_t axis_attr = -1;
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  bool ok = updates.dtype == x.dtype && updates.rank == x.rank && indices.rank == x.rank;
  for (int d = 0; ok && d < x.rank; ++d) {
    ok = indices.shape[d] == updates.shape[d] && (d == axis || updates.shape[d] <= x.shape[d]);
  }
  if (!ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "updates " + shape_string(updates) +
                                                        " and indices " + shape_string(indices) +
                                                        " do not fit input " + shape_string(x));
  }
  IndexAxes axes;
  axes.depth = 1;
  axes.dim[0] = x.shape[axis];
  KILN_GPU_CALL_TRY(check_indices(call, indices, axis, axes));
  KILN_GPU_CALL_TRY(copy_device(call, out.data, x.data, byte_size(x)));
  const int64_t n = updates.num_elements;
  if (n == 0) return nullptr;
  ScatterGeometry g;
  g.rank = x.rank;
  g.axis = axis;
  g.dim = x.shape[axis];
  std::copy(updates.shape, updates.shape + updates.rank, g.updates_shape);
  contiguous_strides(x.shape, x.rank, g.x_stride);
  KILN_GPU_CALL_TRY(call.begin());
  unsigned long long* winner = nullptr;
  KILN_GPU_CALL_TRY(claim_array(call, x.num_elements, &winner));
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  dispatch_index(indices.dtype, [&](auto itag) {
    using I = decltype(itag);
    scatter_claim_kernel<I>
        <<<blocks, kThreads, 0, call.stream()>>>(static_cast<const I*>(indices.data), n, g, winner);
  });
  KILN_GPU_CALL_TRY(call.launched("scatter claim kernel"));
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(indices.dtype, [&](auto itag) {
      using I = decltype(itag);
      scatter_write_kernel<T, I><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(updates.data), static_cast<const I*>(indices.data),
          static_cast<T*>(out.data), n, g, winner);
    });
  });
  return call.launched("scatter kernel");
}

// The slice (in units of `slice` elements) tuple t addresses; indices were checked before.
template <typename I>
__device__ inline int64_t tuple_offset(const I* idx, int64_t t, const IndexAxes& axes, bool* ok) {
  int64_t off = 0;
  *ok = true;
  for (int j = 0; j < axes.depth; ++j) {
    const int64_t k = wrapped_index(idx, t * axes.depth + j, axes.dim[j]);
    *ok = *ok && k >= 0 && k < axes.dim[j];
    off = off * axes.dim[j] + k;
  }
  return off;
}

template <typename I>
__global__ void __launch_bounds__(kThreads)
    scatter_nd_claim_kernel(const I* idx, int64_t tuples, IndexAxes axes,
                            unsigned long long* winner) {
  KILN_GPU_GRID_STRIDE(t, tuples) {
    bool ok = false;
    const int64_t off = tuple_offset(idx, t, axes, &ok);
    if (ok) atomicMax(winner + off, static_cast<unsigned long long>(t) + 1);
  }
}

template <typename T, typename I>
__global__ void __launch_bounds__(kThreads)
    scatter_nd_write_kernel(const T* updates, const I* idx, T* out, int64_t n, int64_t slice,
                            IndexAxes axes, const unsigned long long* winner) {
  KILN_GPU_GRID_STRIDE(e, n) {
    const int64_t t = e / slice;
    bool ok = false;
    const int64_t off = tuple_offset(idx, t, axes, &ok);
    if (ok && winner[off] == static_cast<unsigned long long>(t) + 1) {
      out[off * slice + e % slice] = updates[e];
    }
  }
}

kiln_status* scatter_nd_body(Call& call, const void*) {
  Operand x, updates, indices, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &updates));
  KILN_GPU_CALL_TRY(call.input(2, &indices));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_output_like(call, x, out));
  KILN_GPU_CALL_TRY(check_indices_dtype(call, indices));
  const int64_t depth = indices.rank < 1 ? -1 : indices.shape[indices.rank - 1];
  if (depth < 0 || depth > x.rank || updates.dtype != x.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "indices " + shape_string(indices) +
                                                        " do not index input " + shape_string(x));
  }
  IndexAxes axes;
  axes.depth = static_cast<int>(depth);
  int64_t slots = 1;  // slices of x an index tuple can address
  for (int j = 0; j < axes.depth; ++j) {
    axes.dim[j] = x.shape[j];
    slots *= x.shape[j];
  }
  int64_t slice = 1;
  for (int d = axes.depth; d < x.rank; ++d) slice *= x.shape[d];
  int64_t tuples = 1;  // the product of indices.shape[:-1]
  for (int d = 0; d + 1 < indices.rank; ++d) tuples *= indices.shape[d];
  if (tuples * slice != updates.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "updates " + shape_string(updates) + " do not match indices " +
                          shape_string(indices) + " into input " + shape_string(x));
  }
  KILN_GPU_CALL_TRY(check_indices(call, indices, 0, axes));
  KILN_GPU_CALL_TRY(copy_device(call, out.data, x.data, byte_size(x)));
  if (tuples == 0 || slice == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  unsigned long long* winner = nullptr;
  KILN_GPU_CALL_TRY(claim_array(call, slots, &winner));
  dispatch_index(indices.dtype, [&](auto itag) {
    using I = decltype(itag);
    scatter_nd_claim_kernel<I>
        <<<grid_for(tuples, kThreads, call.multiprocessors()), kThreads, 0, call.stream()>>>(
            static_cast<const I*>(indices.data), tuples, axes, winner);
  });
  KILN_GPU_CALL_TRY(call.launched("scatter_nd claim kernel"));
  const int64_t n = updates.num_elements;
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(indices.dtype, [&](auto itag) {
      using I = decltype(itag);
      scatter_nd_write_kernel<T, I><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(updates.data), static_cast<const I*>(indices.data),
          static_cast<T*>(out.data), n, slice, axes, winner);
    });
  });
  return call.launched("scatter_nd kernel");
}

// ---- masked_scatter ---------------------------------------------------------------------------

// The j-th selected element of x (C order) takes updates[j]. Chunks of kScanChunk elements: one
// kernel counts each chunk's selections, the host turns the counts into offsets (and checks that
// updates has enough), and a second kernel scans each chunk again and writes.
constexpr int kScanPerThread = 4;
constexpr int kScanChunk = kThreads * kScanPerThread;

struct MaskGeometry {
  int rank = 0;
  int64_t shape[kMaxRank] = {};        // x's
  int64_t mask_stride[kMaxRank] = {};  // 0 on broadcast dims
};

__device__ inline bool mask_selects(const uint8_t* mask, int64_t i, const MaskGeometry& g) {
  int64_t off = 0;
  for (int d = g.rank - 1; d >= 0; --d) {
    off += (i % g.shape[d]) * g.mask_stride[d];
    i /= g.shape[d];
  }
  return mask[off] != 0;
}

__global__ void __launch_bounds__(kThreads)
    mask_count_kernel(const uint8_t* mask, int64_t n, MaskGeometry g, int64_t* counts) {
  __shared__ int sums[kThreads];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kScanChunk;
  int c = 0;
  for (int k = threadIdx.x; k < kScanChunk; k += kThreads) {
    const int64_t i = base + k;
    if (i < n && mask_selects(mask, i, g)) ++c;
  }
  sums[threadIdx.x] = c;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) sums[threadIdx.x] += sums[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) counts[blockIdx.x] = sums[0];
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    masked_write_kernel(const uint8_t* mask, int64_t n, MaskGeometry g, const int64_t* offsets,
                        const T* updates, T* out) {
  __shared__ int scan[kThreads];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kScanChunk + threadIdx.x * kScanPerThread;
  bool flags[kScanPerThread];
  int c = 0;
  for (int q = 0; q < kScanPerThread; ++q) {
    const int64_t i = base + q;
    flags[q] = i < n && mask_selects(mask, i, g);
    c += flags[q] ? 1 : 0;
  }
  scan[threadIdx.x] = c;
  __syncthreads();
  for (int step = 1; step < kThreads; step *= 2) {  // inclusive scan of the per-thread counts
    const int add = static_cast<int>(threadIdx.x) >= step ? scan[threadIdx.x - step] : 0;
    __syncthreads();
    scan[threadIdx.x] += add;
    __syncthreads();
  }
  int64_t j = offsets[blockIdx.x] + scan[threadIdx.x] - c;
  for (int q = 0; q < kScanPerThread; ++q) {
    if (flags[q]) out[base + q] = updates[j++];
  }
}

kiln_status* masked_scatter_body(Call& call, const void*) {
  Operand x, mask, updates, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &mask));
  KILN_GPU_CALL_TRY(call.input(2, &updates));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_output_like(call, x, out));
  bool ok = mask.dtype == KILN_DTYPE_BOOL && updates.dtype == x.dtype && mask.rank <= x.rank;
  const int lead = x.rank - mask.rank;
  for (int d = 0; ok && d < mask.rank; ++d) {
    ok = mask.shape[d] == 1 || mask.shape[d] == x.shape[d + lead];
  }
  if (!ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("mask ") + dtype_name(mask.dtype) + " " + shape_string(mask) +
                          " does not broadcast to input " + shape_string(x));
  }
  const int64_t n = x.num_elements;
  if (n == 0) return nullptr;
  MaskGeometry g;
  g.rank = x.rank;
  std::copy(x.shape, x.shape + x.rank, g.shape);
  int64_t s = 1;
  for (int d = mask.rank - 1; d >= 0; --d) {
    g.mask_stride[d + lead] = mask.shape[d] == 1 ? 0 : s;
    s *= mask.shape[d];
  }
  KILN_GPU_CALL_TRY(call.begin());
  const int64_t chunks = (n + kScanChunk - 1) / kScanChunk;
  if (chunks > 0x7FFFFFFF) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, "input " + shape_string(x) + " is too large");
  }
  void* scratch = nullptr;
  KILN_GPU_CALL_TRY(call.scratch(static_cast<size_t>(chunks) * sizeof(int64_t), &scratch));
  auto* counts = static_cast<int64_t*>(scratch);
  const auto* m = static_cast<const uint8_t*>(mask.data);
  mask_count_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, call.stream()>>>(m, n, g, counts);
  KILN_GPU_CALL_TRY(call.launched("masked_scatter count kernel"));
  std::vector<int64_t> offsets(static_cast<size_t>(chunks));
  KILN_GPU_CALL_TRY(read_back(call, offsets.data(), counts, offsets.size() * sizeof(int64_t)));
  int64_t needed = 0;
  for (int64_t& v : offsets) {  // counts to exclusive offsets
    const int64_t count = v;
    v = needed;
    needed += count;
  }
  if (needed > updates.num_elements) {
    return call.error(KILN_STATUS_OUT_OF_RANGE, "the mask selects " + std::to_string(needed) +
                                                    " elements but operand 2 (updates) has only " +
                                                    std::to_string(updates.num_elements));
  }
  KILN_GPU_CALL_TRY(copy_device(call, out.data, x.data, byte_size(x)));
  if (needed == 0) return nullptr;
  KILN_GPU_CALL_TRY(upload(call, counts, offsets.data(), offsets.size() * sizeof(int64_t)));
  dispatch_size(dtype_size(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    masked_write_kernel<T><<<static_cast<unsigned>(chunks), kThreads, 0, call.stream()>>>(
        m, n, g, counts, static_cast<const T*>(updates.data), static_cast<T*>(out.data));
  });
  return call.launched("masked_scatter kernel");
}

}  // namespace

kiln_status* register_movement_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                       Backend* backend) {
  static KernelInfo* info = new KernelInfo{backend, 0};
  struct Entry {
    const char* op;
    kiln_kernel_fn fn;
    const std::vector<int32_t>* dtypes;
  };
  const Entry entries[] = {
      {"pad", movement_entry<pad_body>, &kGpuAllTypes},
      {"tile", movement_entry<tile_body>, &kGpuAllTypes},
      {"split", movement_entry<split_body>, &kGpuAllTypes},
      {"stack", movement_entry<stack_body>, &kGpuAllTypes},
      {"repeat_interleave", movement_entry<repeat_interleave_body>, &kGpuAllTypes},
      {"band_part", movement_entry<band_part_body>, &kGpuAllTypes},
      {"range", movement_entry<range_body>, &kGpuArithmeticTypes},
      {"rebind", movement_entry<rebind_body>, &kGpuAllTypes},
      {"gather_nd", movement_entry<gather_nd_body>, &kGpuAllTypes},
      {"scatter", movement_entry<scatter_body>, &kGpuAllTypes},
      {"scatter_nd", movement_entry<scatter_nd_body>, &kGpuAllTypes},
      {"masked_scatter", movement_entry<masked_scatter_body>, &kGpuAllTypes}};
  for (const Entry& e : entries) {
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op, *e.dtypes, 0, e.fn, info));
  }
  return nullptr;
}

}  // namespace kiln::gpu
