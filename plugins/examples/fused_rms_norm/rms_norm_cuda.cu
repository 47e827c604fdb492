// The CUDA kernel of fused_rms_norm: one block per row; the sum of squares is reduced in shared
// memory, then every thread scales its share of the row.
#include <cuda_runtime.h>

#include <cstdint>

namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_rows(const float* x, const float* weight, float* y, int64_t cols,
                              float epsilon) {
  __shared__ float partial[kThreads];
  const float* row = x + blockIdx.x * cols;
  float* out = y + blockIdx.x * cols;
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += row[c] * row[c];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const float scale = rsqrtf(partial[0] / static_cast<float>(cols) + epsilon);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = row[c] * scale * weight[c];
}

}  // namespace

// Called from plugin.cpp with device pointers; returns the launch error as text, or nullptr.
const char* fused_rms_norm_cuda(const float* x, const float* weight, float* y, int64_t rows,
                                int64_t cols, float epsilon, void* stream) {
  if (rows == 0 || cols == 0) return nullptr;
  rms_norm_rows<<<static_cast<unsigned>(rows), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      x, weight, y, cols, epsilon);
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}
