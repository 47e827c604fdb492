// elementwise.cuh: elementwise kernels over contiguous operands of one shape, written once for
// CUDA and HIP, and their launcher.
#ifndef KILN_PLUGINS_GPU_ELEMENTWISE_CUH_
#define KILN_PLUGINS_GPU_ELEMENTWISE_CUH_

#include <algorithm>
#include <cstdint>

#include "vendor.h"

namespace kiln::gpu {

struct AddOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

constexpr int kElementwiseThreads = 256;

// out[i] = op(a[i], b[i]) for i in [0, n), grid-stride. With kVector4 every pointer is 16-byte
// aligned: the body moves four floats per load and store, and threads 0..2 of the grid finish
// the n % 4 tail. `out` may alias `a` or `b` (in-place), so no __restrict__.
template <typename Op, bool kVector4>
__global__ void __launch_bounds__(kElementwiseThreads)
    binary_f32_kernel(const float* a, const float* b, float* out, int64_t n, Op op) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (kVector4) {
    const int64_t quads = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* out4 = reinterpret_cast<float4*>(out);
    for (int64_t i = first; i < quads; i += stride) {
      const float4 x = a4[i];
      const float4 y = b4[i];
      out4[i] = make_float4(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w));
    }
    const int64_t tail = quads * 4 + first;
    if (tail < n) {
      out[tail] = op(a[tail], b[tail]);
    }
  } else {
    for (int64_t i = first; i < n; i += stride) {
      out[i] = op(a[i], b[i]);
    }
  }
}

inline bool aligned_16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Enqueues out = op(a, b) over n floats on `stream`; returns the launch error, if any. The grid
// is capped at a few waves of blocks per multiprocessor; the kernels stride over the rest.
template <typename Op>
gpuError_t launch_binary_f32(const float* a, const float* b, float* out, int64_t n,
                             int32_t multiprocessors, gpuStream_t stream, Op op) {
  if (n <= 0) {
    return gpuSuccess;
  }
  const bool vector4 = aligned_16(a) && aligned_16(b) && aligned_16(out);
  const int64_t items = vector4 ? std::max<int64_t>(n / 4, 1) : n;
  const int64_t wanted = (items + kElementwiseThreads - 1) / kElementwiseThreads;
  const int64_t cap = static_cast<int64_t>(std::max(multiprocessors, 1)) * 16;
  const unsigned blocks = static_cast<unsigned>(std::min(wanted, cap));
  (void)gpuGetLastError();  // start from a clean slate, so the check below is this launch's
  if (vector4) {
    binary_f32_kernel<Op, true><<<blocks, kElementwiseThreads, 0, stream>>>(a, b, out, n, op);
  } else {
    binary_f32_kernel<Op, false><<<blocks, kElementwiseThreads, 0, stream>>>(a, b, out, n, op);
  }
  return gpuGetLastError();
}

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_ELEMENTWISE_CUH_
