// layout.cu: ops that only move elements — reshape, transpose, permute, broadcast_to,
// slice_tensor, concat and gather — as one strided copy kernel (by element size) and a gather.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"
#include "strided_copy.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

// dst[dst_view.at(i)] = src[src_view.at(i)] over the iteration shape of src_view.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    strided_copy(const T* src, T* dst, int64_t n, Strided src_view, Strided dst_view) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    dst[dst_view.at(i)] = src[src_view.at(i)];
  }
}

}  // namespace

Strided contiguous_view(const int64_t* shape, int rank) {
  Strided v;
  v.rank = rank;
  std::copy(shape, shape + rank, v.shape);
  contiguous_strides(shape, rank, v.stride);
  return v;
}

kiln_status* launch_copy(Call& call, size_t element_size, const void* src, void* dst, int64_t n,
                         const Strided& src_view, const Strided& dst_view) {
  if (n == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  switch (element_size) {
#define KILN_GPU_COPY(bytes, T)                                                                  \
  case bytes:                                                                                    \
    strided_copy<T><<<blocks, kThreads, 0, call.stream()>>>(static_cast<const T*>(src),          \
                                                            static_cast<T*>(dst), n, src_view,   \
                                                            dst_view);                           \
    break;
    KILN_GPU_COPY(1, uint8_t)
    KILN_GPU_COPY(2, uint16_t)
    KILN_GPU_COPY(4, uint32_t)
    KILN_GPU_COPY(8, uint64_t)
#undef KILN_GPU_COPY
    default:
      return call.error(KILN_STATUS_UNIMPLEMENTED, "no GPU copy for this dtype");
  }
  return call.launched("strided copy kernel");
}

namespace {

kiln_status* check_same_dtype(const Call& call, const Operand& x, const Operand& out) {
  if (x.dtype != out.dtype || dtype_size(x.dtype) == 0) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string("input dtype ") +
                                                        dtype_name(x.dtype) + ", output " +
                                                        dtype_name(out.dtype));
  }
  return nullptr;
}

kiln_status* reshape_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (x.num_elements != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot reshape " + shape_string(x) + " to " +
                                                        shape_string(out));
  }
  if (x.num_elements == 0 || x.data == out.data) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const gpuError_t error =
      gpuMemcpyAsync(out.data, x.data, static_cast<size_t>(x.num_elements) * dtype_size(x.dtype),
                     gpuMemcpyDeviceToDevice, call.stream());
  if (error != gpuSuccess) {
    return call_error(call.ordinal(), KILN_GPU_NAME(gpuMemcpyAsync), error, call.where()).release();
  }
  return nullptr;
}

kiln_status* permute_into(Call& call, const Operand& x, const Operand& out,
                          const std::vector<int>& perm) {
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  int64_t strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, strides);
  Strided v;
  v.rank = x.rank;
  for (int d = 0; d < x.rank; ++d) {
    v.shape[d] = x.shape[perm[d]];
    v.stride[d] = strides[perm[d]];
    if (out.rank != x.rank || v.shape[d] != out.shape[d]) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "output shape " + shape_string(out) +
                                                          " does not match the permuted input " +
                                                          shape_string(x));
    }
  }
  return launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                     contiguous_view(out.shape, out.rank));
}

kiln_status* transpose_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  int64_t a1 = -2, a2 = -1;
  KILN_GPU_CALL_TRY(call.attr_int("axis_1", -2, &a1));
  KILN_GPU_CALL_TRY(call.attr_int("axis_2", -1, &a2));
  std::vector<int> perm(static_cast<size_t>(x.rank));
  for (int i = 0; i < x.rank; ++i) perm[i] = i;
  if (x.rank > 0) {
    int i = 0, j = 0;
    KILN_GPU_CALL_TRY(call.normalize_axis(a1, x.rank, "attribute 'axis_1'", &i));
    KILN_GPU_CALL_TRY(call.normalize_axis(a2, x.rank, "attribute 'axis_2'", &j));
    std::swap(perm[i], perm[j]);
  }
  return permute_into(call, x, out, perm);
}

kiln_status* permute_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  std::vector<int64_t> dims;
  bool present = false;
  KILN_GPU_CALL_TRY(call.attr_ints("dims", &dims, &present));
  if (!present || static_cast<int>(dims.size()) != x.rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "attribute 'dims' must have " + std::to_string(x.rank) + " entries");
  }
  std::vector<int> perm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int axis = 0;
    KILN_GPU_CALL_TRY(call.normalize_axis(dims[i], x.rank, "attribute 'dims' entry", &axis));
    if (seen[axis]) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "attribute 'dims' is not a permutation");
    }
    seen[axis] = true;
    perm[i] = axis;
  }
  return permute_into(call, x, out, perm);
}

kiln_status* broadcast_to_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (x.rank > out.rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot broadcast " + shape_string(x) +
                                                        " to the lower-rank " + shape_string(out));
  }
  int64_t strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, strides);
  Strided v;
  v.rank = out.rank;
  const int lead = out.rank - x.rank;
  for (int d = 0; d < out.rank; ++d) {
    v.shape[d] = out.shape[d];
    if (d < lead) continue;
    const int64_t dim = x.shape[d - lead];
    if (dim != out.shape[d] && dim != 1) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "cannot broadcast " + shape_string(x) + " to " + shape_string(out));
    }
    v.stride[d] = dim == 1 ? 0 : strides[d - lead];
  }
  return launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                     contiguous_view(out.shape, out.rank));
}

// Python slice semantics on an axis of `length` (start and stop clamp); returns the count.
int64_t resolve_slice(int64_t length, int64_t start, int64_t stop, int64_t step,
                      int64_t* out_start) {
  const __int128 low = step < 0 ? -1 : 0;
  const __int128 high = step < 0 ? __int128(length) - 1 : __int128(length);
  const auto clamp = [&](int64_t index) {
    __int128 i = index;
    if (i < 0) i += length;
    return std::min(std::max(i, low), high);
  };
  const __int128 b = clamp(start);
  const __int128 e = clamp(stop);
  *out_start = static_cast<int64_t>(b);
  const __int128 s = step;
  if (step > 0) return b < e ? static_cast<int64_t>((e - b - 1) / s + 1) : 0;
  return b > e ? static_cast<int64_t>((b - e - 1) / -s + 1) : 0;
}

kiln_status* slice_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  std::vector<int64_t> starts, stops, steps;
  bool has_starts = false, has_stops = false, has_steps = false;
  KILN_GPU_CALL_TRY(call.attr_ints("starts", &starts, &has_starts));
  KILN_GPU_CALL_TRY(call.attr_ints("stops", &stops, &has_stops));
  KILN_GPU_CALL_TRY(call.attr_ints("steps", &steps, &has_steps));
  const size_t rank = static_cast<size_t>(x.rank);
  if (!has_starts) starts.assign(rank, 0);
  if (!has_stops) stops.assign(rank, std::numeric_limits<int64_t>::max());
  if (!has_steps) steps.assign(rank, 1);
  if (starts.size() != rank || stops.size() != rank || steps.size() != rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "attributes 'starts', 'stops' and 'steps' need " + std::to_string(rank) +
                          " entries");
  }
  int64_t strides[kMaxRank];
  contiguous_strides(x.shape, x.rank, strides);
  Strided v;
  v.rank = x.rank;
  int64_t count_product = 1;
  for (int d = 0; d < x.rank; ++d) {
    if (steps[d] == 0) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "step 0 on axis " + std::to_string(d) + " is not allowed");
    }
    int64_t start = 0;
    const int64_t count = resolve_slice(x.shape[d], starts[d], stops[d], steps[d], &start);
    v.shape[d] = count;
    v.stride[d] = strides[d] * steps[d];
    if (count > 0) v.offset += start * strides[d];
    count_product *= count;
  }
  if (count_product != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "the slice of " + shape_string(x) + " has " + std::to_string(count_product) +
                          " elements but the output " + shape_string(out) + " has " +
                          std::to_string(out.num_elements));
  }
  return launch_copy(call, dtype_size(x.dtype), x.data, out.data, out.num_elements, v,
                     contiguous_view(v.shape, v.rank));
}

kiln_status* concat_body(Call& call, const void*) {
  Operand out;
  KILN_GPU_CALL_TRY(call.output(0, &out));
  const int n = call.num_inputs();
  if (n < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "needs at least one input");
  if (out.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot concat scalars");
  int64_t axis_attr = 0;
  KILN_GPU_CALL_TRY(call.attr_int("axis", 0, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, out.rank, "attribute 'axis'", &axis));
  std::vector<Operand> inputs(static_cast<size_t>(n));
  int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    Operand& t = inputs[static_cast<size_t>(i)];
    KILN_GPU_CALL_TRY(call.input(i, &t));
    bool ok = t.dtype == out.dtype && t.rank == out.rank;
    for (int d = 0; ok && d < out.rank; ++d) ok = d == axis || t.shape[d] == out.shape[d];
    if (!ok) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "input " + std::to_string(i) + " (" + dtype_name(t.dtype) + " " +
                            shape_string(t) + ") does not match the output (" +
                            dtype_name(out.dtype) + " " + shape_string(out) + ") off axis " +
                            std::to_string(axis));
    }
    total += t.shape[axis];
  }
  if (total != out.shape[axis]) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "inputs add up to " + std::to_string(total) +
                                                        " along axis " + std::to_string(axis) +
                                                        ", the output has " +
                                                        std::to_string(out.shape[axis]));
  }
  int64_t out_strides[kMaxRank];
  contiguous_strides(out.shape, out.rank, out_strides);
  int64_t position = 0;
  for (const Operand& t : inputs) {
    Strided dst;
    dst.rank = t.rank;
    std::copy(t.shape, t.shape + t.rank, dst.shape);
    std::copy(out_strides, out_strides + t.rank, dst.stride);
    dst.offset = position * out_strides[axis];
    position += t.shape[axis];
    KILN_GPU_CALL_TRY(launch_copy(call, dtype_size(t.dtype), t.data, out.data, t.num_elements,
                                  contiguous_view(t.shape, t.rank), dst));
  }
  return nullptr;
}

// out[o, j, c] = x[o, idx[j], c]; a bad index is recorded (the first position) and its row zeroed.
template <typename T, typename I>
__global__ void __launch_bounds__(kThreads)
    gather_kernel(const T* x, const I* idx, T* out, int64_t n, int64_t count, int64_t inner,
                  int64_t dim, unsigned long long* bad) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t c = i % inner;
    const int64_t j = (i / inner) % count;
    const int64_t o = i / (inner * count);
    int64_t k = static_cast<int64_t>(idx[j]);
    if (k < 0) k += dim;
    if (k < 0 || k >= dim) {
      atomicMin(bad, static_cast<unsigned long long>(j));
      out[i] = T{};
      continue;
    }
    out[i] = x[(o * dim + k) * inner + c];
  }
}

kiln_status* gather_body(Call& call, const void*) {
  Operand x, indices, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &indices));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  KILN_GPU_CALL_TRY(check_same_dtype(call, x, out));
  if (indices.dtype != KILN_DTYPE_INT32 && indices.dtype != KILN_DTYPE_INT64) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string("indices have dtype ") +
                                                        dtype_name(indices.dtype) +
                                                        "; int32 or int64 needed");
  }
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot gather from a scalar");
  int64_t axis_attr = -1;
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  bool shape_ok = out.rank == x.rank - 1 + indices.rank;
  for (int d = 0; shape_ok && d < out.rank; ++d) {
    const int64_t want = d < axis                   ? x.shape[d]
                         : d < axis + indices.rank ? indices.shape[d - axis]
                                                   : x.shape[d - indices.rank + 1];
    shape_ok = out.shape[d] == want;
  }
  if (!shape_ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "output shape " + shape_string(out) + " does not match input " +
                          shape_string(x) + " with indices " + shape_string(indices) +
                          " on axis " + std::to_string(axis));
  }
  if (out.num_elements == 0) return nullptr;
  int64_t inner = 1;
  for (int d = axis + 1; d < x.rank; ++d) inner *= x.shape[d];
  const int64_t dim = x.shape[axis];
  KILN_GPU_CALL_TRY(call.begin());
  void* flag = nullptr;
  KILN_GPU_CALL_TRY(call.scratch(sizeof(unsigned long long), &flag));
  auto* bad = static_cast<unsigned long long*>(flag);
  gpuError_t error = gpuMemsetAsync(bad, 0xFF, sizeof(unsigned long long), call.stream());
  if (error != gpuSuccess) {
    return call_error(call.ordinal(), KILN_GPU_NAME(gpuMemsetAsync), error, call.where()).release();
  }
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  const bool idx32 = indices.dtype == KILN_DTYPE_INT32;
  switch (dtype_size(x.dtype)) {
#define KILN_GPU_GATHER(bytes, T)                                                              \
  case bytes:                                                                                  \
    if (idx32) {                                                                               \
      gather_kernel<T, int32_t><<<blocks, kThreads, 0, call.stream()>>>(                       \
          static_cast<const T*>(x.data), static_cast<const int32_t*>(indices.data),            \
          static_cast<T*>(out.data), out.num_elements, indices.num_elements, inner, dim, bad); \
    } else {                                                                                   \
      gather_kernel<T, int64_t><<<blocks, kThreads, 0, call.stream()>>>(                       \
          static_cast<const T*>(x.data), static_cast<const int64_t*>(indices.data),            \
          static_cast<T*>(out.data), out.num_elements, indices.num_elements, inner, dim, bad); \
    }                                                                                          \
    break;
    KILN_GPU_GATHER(1, uint8_t)
    KILN_GPU_GATHER(2, uint16_t)
    KILN_GPU_GATHER(4, uint32_t)
    KILN_GPU_GATHER(8, uint64_t)
#undef KILN_GPU_GATHER
    default:
      return call.error(KILN_STATUS_UNIMPLEMENTED, "no GPU gather for this dtype");
  }
  KILN_GPU_CALL_TRY(call.launched("gather kernel"));
  // The one host wait of the op set: an out-of-range index must fail the call, not read memory.
  unsigned long long first_bad = 0;
  error = gpuMemcpyAsync(&first_bad, bad, sizeof(first_bad), gpuMemcpyDeviceToHost, call.stream());
  if (error == gpuSuccess) error = gpuStreamSynchronize(call.stream());
  if (error != gpuSuccess) {
    return call_error(call.ordinal(), KILN_GPU_NAME(gpuStreamSynchronize), error, call.where())
        .release();
  }
  if (first_bad != ~0ull) {
    const int64_t j = static_cast<int64_t>(first_bad);
    int64_t raw = 0;
    const size_t isize = dtype_size(indices.dtype);
    (void)gpuMemcpy(&raw, static_cast<const char*>(indices.data) + j * isize, isize,
                    gpuMemcpyDeviceToHost);
    if (idx32) raw = static_cast<int32_t>(raw);
    return call.error(KILN_STATUS_OUT_OF_RANGE,
                      "index " + std::to_string(raw) + " (at position " + std::to_string(j) +
                          " of indices) is out of range for axis " + std::to_string(axis) +
                          " of size " + std::to_string(dim));
  }
  return nullptr;
}

}  // namespace

kiln_status* register_layout_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                     Backend* backend) {
  static KernelInfo* info = new KernelInfo{backend, 0};
  struct Entry {
    const char* op;
    kiln_kernel_fn fn;
  };
  const Entry entries[] = {
      {"reshape", call_entry<reshape_body>},           {"transpose", call_entry<transpose_body>},
      {"permute", call_entry<permute_body>},           {"broadcast_to", call_entry<broadcast_to_body>},
      {"slice_tensor", call_entry<slice_body>},        {"concat", call_entry<concat_body>},
      {"gather", call_entry<gather_body>}};
  for (const Entry& e : entries) {
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op, kGpuAllTypes, 0, e.fn, info));
  }
  return nullptr;
}

}  // namespace kiln::gpu
