// sort.cu: top_k (the k largest along an axis: values and int64 indices, largest first) and
// argsort (int64 indices sorting along the first axis, `ascending` or not).
//
// Order, as the CPU plugin: NaN is larger than every number, -0 equals +0, and equal values keep
// their index order (lower index first) in both directions. Each element becomes an unsigned key
// that orders like its value under these rules (inverted for largest-first), so sorting the pairs
// (key, index) is a sort by a strict total order and every correct sort gives the CPU's answer.
// A line of up to kSharedLength elements is sorted by one block with a bitonic network in shared
// memory; longer lines by the same network in scratch memory, one launch per network step.
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxSortThreads = 512;
// Lines up to this long sort in shared memory: 12 bytes an element, 48 KiB at most, the
// dynamic shared memory every CUDA and HIP device gives a block without opting in.
constexpr int64_t kSharedLength = 4096;
constexpr uint64_t kPadKey = ~uint64_t{0};

// A key whose unsigned order is the value's order (NaN largest, all NaNs equal, -0 == +0).
template <typename T>
__device__ inline uint64_t sort_key(T v) {
  if constexpr (std::is_same_v<T, int32_t>) {
    return static_cast<uint32_t>(v) ^ 0x80000000u;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  } else {
    float f = to_float(v);
    if (f != f) return 0xFFFFFFFFu;
    if (f == 0.0f) f = 0.0f;
    const uint32_t u = float_to_bits(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  }
}

// The key of element j of a line (largest first: inverted), or the padding key past its end.
// Padding sorts after every element: its key is the largest and its index above the line's.
template <typename T>
__device__ inline uint64_t line_key(const T* src, int64_t j, int64_t length, int64_t inner,
                                    bool descending) {
  if (j >= length) return kPadKey;
  const uint64_t key = sort_key(src[j * inner]);
  return descending ? ~key : key;
}

template <typename I>
__device__ inline void compare_exchange(uint64_t* keys, I* index, int64_t lo, int64_t hi, bool up) {
  const uint64_t a = keys[lo];
  const uint64_t b = keys[hi];
  const I ia = index[lo];
  const I ib = index[hi];
  const bool hi_first = b < a || (b == a && ib < ia);
  if (hi_first == up) {  // up: (lo, hi) must end ascending; else descending
    keys[lo] = b;
    keys[hi] = a;
    index[lo] = ib;
    index[hi] = ia;
  }
}

// The lower position of compare-exchange pair p in a network step of distance `stride`.
__device__ inline int64_t pair_low(int64_t p, int64_t stride) {
  return (p / stride) * stride * 2 + p % stride;
}

// Writes the first `keep` positions of a sorted line: indices, and for top_k the values.
template <typename T, typename I>
__device__ inline void write_sorted(const T* src, const I* index, int64_t j, int64_t inner,
                                    int64_t out_base, T* values, int64_t* indices) {
  const int64_t at = static_cast<int64_t>(index[j]);
  indices[out_base + j * inner] = at;
  if (values != nullptr) values[out_base + j * inner] = src[at * inner];
}

// One block per line (grid-stride), `padded` (a power of two >= length) entries in shared memory.
template <typename T>
__global__ void __launch_bounds__(kMaxSortThreads)
    sort_lines_shared(const T* x, T* values, int64_t* indices, int64_t lines, int64_t length,
                      int64_t inner, int64_t keep, int64_t padded, bool descending) {
  extern __shared__ uint64_t shared_keys[];
  uint64_t* keys = shared_keys;
  uint32_t* index = reinterpret_cast<uint32_t*>(shared_keys + padded);
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const int64_t o = line / inner;
    const int64_t i = line % inner;
    const T* src = x + o * length * inner + i;
    for (int64_t j = threadIdx.x; j < padded; j += blockDim.x) {
      keys[j] = line_key(src, j, length, inner, descending);
      index[j] = static_cast<uint32_t>(j);
    }
    __syncthreads();
    for (int64_t size = 2; size <= padded; size *= 2) {
      for (int64_t stride = size / 2; stride > 0; stride /= 2) {
        for (int64_t p = threadIdx.x; p < padded / 2; p += blockDim.x) {
          const int64_t lo = pair_low(p, stride);
          compare_exchange(keys, index, lo, lo + stride, (lo & size) == 0);
        }
        __syncthreads();
      }
    }
    const int64_t out_base = o * keep * inner + i;
    for (int64_t j = threadIdx.x; j < keep; j += blockDim.x) {
      write_sorted(src, index, j, inner, out_base, values, indices);
    }
    __syncthreads();  // the shared arrays are refilled by the next line
  }
}

// ---- Long lines: the network in scratch memory ------------------------------------------------

template <typename T>
__global__ void __launch_bounds__(kThreads)
    fill_keys(const T* x, uint64_t* keys, int64_t* index, int64_t lines, int64_t length,
              int64_t inner, int64_t padded, bool descending) {
  const int64_t total = lines * padded;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t line = e / padded;
    const int64_t j = e % padded;
    const T* src = x + (line / inner) * length * inner + line % inner;
    keys[e] = line_key(src, j, length, inner, descending);
    index[e] = j;
  }
}

__global__ void __launch_bounds__(kThreads)
    bitonic_step(uint64_t* keys, int64_t* index, int64_t lines, int64_t padded, int64_t size,
                 int64_t distance) {
  const int64_t half = padded / 2;
  const int64_t total = lines * half;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t lo = pair_low(e % half, distance);
    const int64_t base = (e / half) * padded;
    compare_exchange(keys + base, index + base, lo, lo + distance, (lo & size) == 0);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    write_lines(const T* x, const int64_t* index, T* values, int64_t* indices, int64_t lines,
                int64_t length, int64_t inner, int64_t keep, int64_t padded) {
  const int64_t total = lines * keep;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t line = e / keep;
    const int64_t j = e % keep;
    const int64_t o = line / inner;
    const int64_t i = line % inner;
    write_sorted(x + o * length * inner + i, index + line * padded, j, inner, o * keep * inner + i,
                 values, indices);
  }
}

struct Lines {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};

Lines lines_of(const Operand& x, int axis) {
  Lines l;
  for (int d = 0; d < axis; ++d) l.outer *= x.shape[d];
  l.length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l.inner *= x.shape[d];
  return l;
}

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// Sorts every line of x (length >= 1) and writes the first `keep` of each: indices, and values
// when `values` is not null. Largest first when `descending`.
template <typename T>
kiln_status* sort_lines(Call& call, const T* x, const Lines& l, int64_t keep, bool descending,
                        T* values, int64_t* indices) {
  const int64_t lines = l.outer * l.inner;
  const int64_t padded = next_power_of_two(l.length);
  if (padded <= kSharedLength) {
    const int threads = static_cast<int>(std::clamp<int64_t>(padded / 2, 64, kMaxSortThreads));
    const unsigned blocks =
        static_cast<unsigned>(std::min<int64_t>(lines, int64_t{call.multiprocessors()} * 32));
    const size_t shared = static_cast<size_t>(padded) * (sizeof(uint64_t) + sizeof(uint32_t));
    sort_lines_shared<T><<<blocks, threads, shared, call.stream()>>>(
        x, values, indices, lines, l.length, l.inner, keep, padded, descending);
    return call.launched("sort kernel (shared memory)");
  }
  const int64_t entries = lines * padded;
  void* scratch = nullptr;
  const size_t bytes = static_cast<size_t>(entries) * (sizeof(uint64_t) + sizeof(int64_t));
  KILN_GPU_CALL_TRY(call.scratch(bytes, &scratch));
  auto* keys = static_cast<uint64_t*>(scratch);
  auto* index = reinterpret_cast<int64_t*>(keys + entries);
  const int32_t sms = call.multiprocessors();
  fill_keys<T><<<grid_for(entries, kThreads, sms), kThreads, 0, call.stream()>>>(
      x, keys, index, lines, l.length, l.inner, padded, descending);
  KILN_GPU_CALL_TRY(call.launched("sort kernel (keys)"));
  const unsigned step_blocks = grid_for(entries / 2, kThreads, sms);
  for (int64_t size = 2; size <= padded; size *= 2) {
    for (int64_t distance = size / 2; distance > 0; distance /= 2) {
      bitonic_step<<<step_blocks, kThreads, 0, call.stream()>>>(keys, index, lines, padded, size,
                                                                distance);
    }
    KILN_GPU_CALL_TRY(call.launched("sort kernel (bitonic step)"));
  }
  write_lines<T><<<grid_for(lines * keep, kThreads, sms), kThreads, 0, call.stream()>>>(
      x, index, values, indices, lines, l.length, l.inner, keep, padded);
  return call.launched("sort kernel (write)");
}

kiln_status* top_k_body(Call& call, const void*) {
  Operand x, values, indices;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &values));
  KILN_GPU_CALL_TRY(call.output(1, &indices));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  int64_t k = 0, axis_attr = -1;
  KILN_GPU_CALL_TRY(call.attr_int("k", 0, &k));
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  // The axis may be symbolic at build time, so k is checked against the actual dim here.
  if (k < 0 || k > x.shape[axis]) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "attribute 'k' is " + std::to_string(k) + " but axis " +
                          std::to_string(axis) + " of input " + shape_string(x) + " has " +
                          std::to_string(x.shape[axis]) + " elements");
  }
  bool shape_ok = values.rank == x.rank && indices.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) {
    const int64_t want = d == axis ? k : x.shape[d];
    shape_ok = values.shape[d] == want && indices.shape[d] == want;
  }
  if (!shape_ok || values.dtype != x.dtype || indices.dtype != KILN_DTYPE_INT64) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("outputs ") + dtype_name(values.dtype) + " " +
                          shape_string(values) + " and " + dtype_name(indices.dtype) + " " +
                          shape_string(indices) + " do not match input " + dtype_name(x.dtype) +
                          " " + shape_string(x) + " with k = " + std::to_string(k));
  }
  if (values.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const Lines l = lines_of(x, axis);
  kiln_status* status = nullptr;
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    status = sort_lines<T>(call, static_cast<const T*>(x.data), l, k, true,
                           static_cast<T*>(values.data), static_cast<int64_t*>(indices.data));
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return status;
}

kiln_status* argsort_body(Call& call, const void*) {
  Operand x, indices;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &indices));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  int64_t ascending = 1;
  KILN_GPU_CALL_TRY(call.attr_int("ascending", 1, &ascending));
  bool shape_ok = indices.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) shape_ok = indices.shape[d] == x.shape[d];
  if (!shape_ok || indices.dtype != KILN_DTYPE_INT64) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("output ") + dtype_name(indices.dtype) + " " +
                          shape_string(indices) + " does not match int64 " + shape_string(x));
  }
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const Lines l = lines_of(x, 0);  // argsort sorts along the first axis
  kiln_status* status = nullptr;
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    status = sort_lines<T>(call, static_cast<const T*>(x.data), l, l.length, ascending == 0,
                           nullptr, static_cast<int64_t*>(indices.data));
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return status;
}

}  // namespace

kiln_status* register_sort_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                   Backend* backend) {
  // Lives for the process: the host keeps the user_data pointer.
  const KernelInfo* info = new KernelInfo{backend, 0};
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "top_k", kGpuArithmeticTypes, 0,
                                        call_entry<top_k_body>, info));
  return register_gpu_kernel(host, registrar, "argsort", kGpuArithmeticTypes, 0,
                             call_entry<argsort_body>, info);
}

}  // namespace kiln::gpu
