// quant.cu: GGML block formats (Q4_0, Q8_0, Q4_K, Q6_K) on the GPU — dequantize, and qmatmul,
// which multiplies float32 rows by a packed weight stored one row per output column, as the CPU
// plugin's kernels_quant.cpp. qmatmul decodes weight elements straight into shared-memory tiles
// and accumulates in float32; no dequantized copy of the weight is made.
#include <string>
#include <type_traits>

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

enum class Encoding { kQ4_0, kQ8_0, kQ4_K, kQ6_K };

struct Format {
  const char* name;
  Encoding encoding;
  int64_t elements;  // per block
  int64_t bytes;     // per block
};

constexpr Format kFormats[] = {
    {"q4_0", Encoding::kQ4_0, 32, 18},
    {"q8_0", Encoding::kQ8_0, 32, 34},
    {"q4_k", Encoding::kQ4_K, 256, 144},
    {"q6_k", Encoding::kQ6_K, 256, 210},
};

// A little-endian float16 at any byte address, as GGML stores it.
__device__ inline float half_at(const uint8_t* p) {
  return to_float(half_t{static_cast<uint16_t>(p[0] | (p[1] << 8))});
}

// Element k (0..31) of a Q4_0 block: f16 d, 16 bytes of nibbles (low nibbles are elements 0..15,
// high nibbles 16..31); x = (q - 8) * d.
__device__ inline float decode_q4_0(const uint8_t* block, int k) {
  const uint8_t q = block[2 + (k & 15)];
  const int v = k < 16 ? (q & 0x0F) : (q >> 4);
  return static_cast<float>(v - 8) * half_at(block);
}

// Element k (0..31) of a Q8_0 block: f16 d, 32 int8; x = q * d.
__device__ inline float decode_q8_0(const uint8_t* block, int k) {
  return static_cast<float>(static_cast<int8_t>(block[2 + k])) * half_at(block);
}

// Element k (0..255) of a Q4_K super-block: f16 d, f16 dmin, 12 bytes of eight 6-bit (scale,
// min) pairs, 128 bytes of nibbles; each 32 bytes hold sub-blocks 2p (low nibbles) and 2p + 1
// (high). x = (d * scale_j) * q - dmin * min_j.
__device__ inline float decode_q4_k(const uint8_t* block, int k) {
  const int pair = k >> 6;
  const int high = (k >> 5) & 1;
  const int l = k & 31;
  const int j = 2 * pair + high;
  const uint8_t* s = block + 4;
  int scale, min;
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
  const uint8_t q = block[16 + pair * 32 + l];
  const int v = high ? (q >> 4) : (q & 0x0F);
  const float d = half_at(block) * static_cast<float>(scale);
  const float m = half_at(block + 2) * static_cast<float>(min);
  return d * static_cast<float>(v) - m;
}

// Element k (0..255) of a Q6_K super-block: 128 bytes of low 4 bits, 64 bytes of high 2 bits,
// sixteen int8 scales, f16 d. Each half of 128 elements is four quarters of 32: quarter u takes
// the low or high nibble of ql[l] / ql[l + 32] and bits 2u..2u+1 of qh[l].
// x = (d * scale) * (q - 32).
__device__ inline float decode_q6_k(const uint8_t* block, int k) {
  const int half = k >> 7;
  const int quarter = (k >> 5) & 3;
  const int l = k & 31;
  const uint8_t* ql = block + half * 64;
  const uint8_t* qh = block + 128 + half * 32;
  const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192 + half * 8);
  const uint8_t low = ql[l + (quarter & 1) * 32];
  const int nibble = quarter < 2 ? (low & 0x0F) : (low >> 4);
  const int q = (nibble | (((qh[l] >> (2 * quarter)) & 3) << 4)) - 32;
  const float d = half_at(block + 208);
  return d * static_cast<float>(sc[l / 16 + 2 * quarter]) * static_cast<float>(q);
}

// Element k of a row of blocks.
template <Encoding E>
__device__ inline float decode_at(const uint8_t* row, int64_t k) {
  if constexpr (E == Encoding::kQ4_0) {
    return decode_q4_0(row + (k >> 5) * 18, static_cast<int>(k & 31));
  } else if constexpr (E == Encoding::kQ8_0) {
    return decode_q8_0(row + (k >> 5) * 34, static_cast<int>(k & 31));
  } else if constexpr (E == Encoding::kQ4_K) {
    return decode_q4_k(row + (k >> 8) * 144, static_cast<int>(k & 255));
  } else {
    return decode_q6_k(row + (k >> 8) * 210, static_cast<int>(k & 255));
  }
}

template <typename F>
void dispatch_encoding(Encoding e, F&& f) {
  switch (e) {
    case Encoding::kQ4_0:
      f(std::integral_constant<Encoding, Encoding::kQ4_0>{});
      break;
    case Encoding::kQ8_0:
      f(std::integral_constant<Encoding, Encoding::kQ8_0>{});
      break;
    case Encoding::kQ4_K:
      f(std::integral_constant<Encoding, Encoding::kQ4_K>{});
      break;
    case Encoding::kQ6_K:
      f(std::integral_constant<Encoding, Encoding::kQ6_K>{});
      break;
  }
}

kiln_status* read_format(const Call& call, const Format** out) {
  std::string name;
  KILN_GPU_CALL_TRY(call.attr_string("encoding", "", &name));
  for (const Format& f : kFormats) {
    if (name == f.name) {
      *out = &f;
      return nullptr;
    }
  }
  return call.error(KILN_STATUS_INVALID_ARGUMENT, "unsupported encoding '" + name + "'");
}

// The packed stream is a run of whole blocks (every row holds whole blocks), so element e is
// element e % elements of block e / elements.
template <Encoding E>
__global__ void __launch_bounds__(kThreads)
    dequantize_kernel(const uint8_t* q, float* y, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += stride) {
    y[e] = decode_at<E>(q, e);
  }
}

const char* packed_dtype_name(int32_t dtype) {
  return dtype == KILN_DTYPE_UINT8 ? "uint8" : dtype_name(dtype);
}

kiln_status* dequantize_body(Call& call, const void*) {
  const Format* f = nullptr;
  KILN_GPU_CALL_TRY(read_format(call, &f));
  Operand q, y;
  KILN_GPU_CALL_TRY(call.input(0, &q));
  KILN_GPU_CALL_TRY(call.output(0, &y));
  if (q.dtype != KILN_DTYPE_UINT8 || y.dtype != KILN_DTYPE_FLOAT32 || q.rank < 1 ||
      q.shape[q.rank - 1] % f->bytes != 0 ||
      y.num_elements != q.num_elements / f->bytes * f->elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("packed ") + packed_dtype_name(q.dtype) + " " + shape_string(q) +
                          " does not match output " + dtype_name(y.dtype) + " " + shape_string(y) +
                          " for " + f->name + " blocks");
  }
  if (y.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(y.num_elements, kThreads, call.multiprocessors());
  dispatch_encoding(f->encoding, [&](auto tag) {
    dequantize_kernel<decltype(tag)::value><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const uint8_t*>(q.data), static_cast<float*>(y.data), y.num_elements);
  });
  return call.launched("dequantize kernel");
}

// qmatmul tiles: 64 lhs rows x 64 weight rows per block of 256 threads, each thread 4 x 4
// outputs; K advances 32 elements at a time (a Q4_0/Q8_0 block, an eighth of a K-quant one).
constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 32;
constexpr int kSide = 16;  // threads per tile edge: kSide * kSide == kThreads

// c[i, j] = sum_k a[i, k] * w_j[k], w_j the decoded row j of the packed weight.
template <Encoding E>
__global__ void __launch_bounds__(kThreads)
    qmatmul_kernel(const float* a, const uint8_t* w, float* c, int64_t m, int64_t n, int64_t k,
                   int64_t row_bytes) {
  __shared__ float a_tile[kTileK][kTileM + 1];  // [k][row]; +1 keeps the stores conflict-free
  __shared__ float w_tile[kTileK][kTileN + 1];  // [k][column]
  const int tx = static_cast<int>(threadIdx.x) % kSide;
  const int ty = static_cast<int>(threadIdx.x) / kSide;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.y) * kTileN;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kTileK) {
    // 32 consecutive threads load one row's 32 consecutive K elements (coalesced lhs reads).
    for (int e = static_cast<int>(threadIdx.x); e < kTileM * kTileK; e += kThreads) {
      const int i = e / kTileK;
      const int kk = e % kTileK;
      const int64_t row = row0 + i;
      a_tile[kk][i] = row < m ? a[row * k + k0 + kk] : 0.0f;
      const int64_t col = col0 + i;
      w_tile[kk][i] = col < n ? decode_at<E>(w + col * row_bytes, k0 + kk) : 0.0f;
    }
    __syncthreads();
#pragma unroll 4
    for (int kk = 0; kk < kTileK; ++kk) {
      float av[4], wv[4];
      for (int r = 0; r < 4; ++r) av[r] = a_tile[kk][ty + kSide * r];
      for (int s = 0; s < 4; ++s) wv[s] = w_tile[kk][tx + kSide * s];
      for (int r = 0; r < 4; ++r) {
        for (int s = 0; s < 4; ++s) acc[r][s] += av[r] * wv[s];
      }
    }
    __syncthreads();
  }
  for (int r = 0; r < 4; ++r) {
    const int64_t row = row0 + ty + kSide * r;
    if (row >= m) continue;
    for (int s = 0; s < 4; ++s) {
      const int64_t col = col0 + tx + kSide * s;
      if (col < n) c[row * n + col] = acc[r][s];
    }
  }
}

kiln_status* qmatmul_body(Call& call, const void*) {
  const Format* f = nullptr;
  KILN_GPU_CALL_TRY(read_format(call, &f));
  Operand x, w, y;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &w));
  KILN_GPU_CALL_TRY(call.output(0, &y));
  if (x.dtype != KILN_DTYPE_FLOAT32 || w.dtype != KILN_DTYPE_UINT8 ||
      y.dtype != KILN_DTYPE_FLOAT32 || x.rank < 1 || w.rank != 2 || w.shape[1] % f->bytes != 0) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("bad operands: lhs ") + dtype_name(x.dtype) + " " +
                          shape_string(x) + ", packed rhs " + packed_dtype_name(w.dtype) + " " +
                          shape_string(w));
  }
  const int64_t n = w.shape[0];
  const int64_t kdim = w.shape[1] / f->bytes * f->elements;
  const int64_t m = kdim == 0 ? 0 : x.num_elements / kdim;
  if (x.shape[x.rank - 1] != kdim || y.rank != x.rank || y.shape[y.rank - 1] != n ||
      (kdim != 0 && y.num_elements != m * n)) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "lhs " + shape_string(x) + ", packed rhs " +
                                                        shape_string(w) + " (K " +
                                                        std::to_string(kdim) + ") and output " +
                                                        shape_string(y) + " do not match");
  }
  if (y.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  if (kdim == 0) {  // empty sums
    const gpuError_t error = gpuMemsetAsync(
        y.data, 0, static_cast<size_t>(y.num_elements) * sizeof(float), call.stream());
    if (error != gpuSuccess) {
      return call_error(call.ordinal(), KILN_GPU_NAME(gpuMemsetAsync), error, call.where())
          .release();
    }
    return nullptr;
  }
  const int64_t row_tiles = (m + kTileM - 1) / kTileM;
  const int64_t col_tiles = (n + kTileN - 1) / kTileN;
  if (row_tiles > 0x7FFFFFFF || col_tiles > 65535) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, "lhs " + shape_string(x) + " with packed rhs " +
                                                     shape_string(w) +
                                                     " exceeds the GPU grid of qmatmul");
  }
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles));
  dispatch_encoding(f->encoding, [&](auto tag) {
    qmatmul_kernel<decltype(tag)::value><<<grid, kThreads, 0, call.stream()>>>(
        static_cast<const float*>(x.data), static_cast<const uint8_t*>(w.data),
        static_cast<float*>(y.data), m, n, kdim, w.shape[1]);
  });
  return call.launched("qmatmul kernel");
}

}  // namespace

kiln_status* register_quant_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                    Backend* backend) {
  static KernelInfo* info = new KernelInfo{backend, 0};
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "dequantize", {KILN_DTYPE_UINT8}, 0,
                                        call_entry<dequantize_body>, info));
  return register_gpu_kernel(host, registrar, "qmatmul", {KILN_DTYPE_FLOAT32}, 0,
                             call_entry<qmatmul_body>, info);
}

}  // namespace kiln::gpu
