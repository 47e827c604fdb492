// kernels_quant.cpp: GGML block formats (Q4_0, Q8_0, Q4_K, Q6_K) — dequantize, and qmatmul,
// which multiplies float32 rows by a packed weight stored one row per output column. qmatmul
// decodes one weight row at a time into float32 and dots it with every lhs row, in parallel
// over weight rows, so no dequantized copy of the whole weight is ever made.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "half.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"
#include "vec.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln_cpu {
namespace {

float half_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);  // little-endian, as GGML stores it
  f16 h;
  std::memcpy(&h, &bits, 2);
  return f16_to_float(h);
}

// Q4_0: f16 scale d, then 16 bytes of 4-bit values; low nibbles are elements 0..15, high
// nibbles 16..31; x = (q - 8) * d.
void decode_q4_0(const uint8_t* block, float* y) {
  const float d = half_at(block);
  const uint8_t* qs = block + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// Q8_0: f16 scale d, then 32 int8 values; x = q * d.
void decode_q8_0(const uint8_t* block, float* y) {
  const float d = half_at(block);
  const int8_t* qs = reinterpret_cast<const int8_t*>(block + 2);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

// Q4_K super-block of 256: f16 d, f16 dmin, 12 bytes packing eight 6-bit (scale, min) pairs,
// 128 bytes of nibbles. Sub-block j of 32 elements: x = d * scale_j * q - dmin * min_j.
void q4_k_scale_min(int j, const uint8_t* s, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

void decode_q4_k(const uint8_t* block, float* y) {
  const float d = half_at(block);
  const float dmin = half_at(block + 2);
  const uint8_t* scales = block + 4;
  const uint8_t* q = block + 16;
  // Each 32 bytes of nibbles hold two sub-blocks: low nibbles first, then high nibbles.
  for (int pair = 0; pair < 4; ++pair) {
    int sc0, m0, sc1, m1;
    q4_k_scale_min(2 * pair, scales, &sc0, &m0);
    q4_k_scale_min(2 * pair + 1, scales, &sc1, &m1);
    const float d0 = d * static_cast<float>(sc0), min0 = dmin * static_cast<float>(m0);
    const float d1 = d * static_cast<float>(sc1), min1 = dmin * static_cast<float>(m1);
    for (int l = 0; l < 32; ++l) {
      y[l] = d0 * static_cast<float>(q[l] & 0x0F) - min0;
      y[l + 32] = d1 * static_cast<float>(q[l] >> 4) - min1;
    }
    q += 32;
    y += 64;
  }
}

// Q6_K super-block of 256: 128 bytes of low 4 bits, 64 bytes of high 2 bits, sixteen int8
// scales (one per 16 elements), f16 d. x = d * scale * (q - 32), q a 6-bit value.
void decode_q6_k(const uint8_t* block, float* y) {
  const uint8_t* ql = block;
  const uint8_t* qh = block + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192);
  const float d = half_at(block + 208);
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

struct Format {
  const char* name;
  int64_t elements;
  int64_t bytes;
  void (*decode)(const uint8_t* block, float* y);
};

constexpr Format kFormats[] = {
    {"q4_0", 32, 18, decode_q4_0},
    {"q8_0", 32, 34, decode_q8_0},
    {"q4_k", 256, 144, decode_q4_k},
    {"q6_k", 256, 210, decode_q6_k},
};

kiln_status* read_format(const Kernel& k, const Format** out) {
  std::string name;
  KILN_CPU_TRY(k.attr_string("encoding", "", &name));
  for (const Format& f : kFormats) {
    if (name == f.name) {
      *out = &f;
      return nullptr;
    }
  }
  return k.error(KILN_STATUS_INVALID_ARGUMENT, "unsupported encoding '%s'", name.c_str());
}

void decode_row(const Format& f, const uint8_t* row, int64_t blocks, float* y) {
  for (int64_t b = 0; b < blocks; ++b) f.decode(row + b * f.bytes, y + b * f.elements);
}

// Eight independent partial sums: vectorizable without reassociating a single accumulator.
float dot_baseline(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  for (; i < n; ++i) acc[0] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

#if defined(__x86_64__)
// The same with AVX2 FMA on two 8-lane accumulators; used only where vec() chose AVX2.
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
         ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail;
}
#endif

using DotFn = float (*)(const float*, const float*, int64_t);

DotFn select_dot() {
#if defined(__x86_64__)
  if (std::strcmp(vec().isa, "avx2") == 0) return dot_avx2;
#endif
  return dot_baseline;
}

kiln_status* dequantize_kernel(Kernel& k, const void*) {
  const Format* f = nullptr;
  KILN_CPU_TRY(read_format(k, &f));
  Tensor q, y;
  KILN_CPU_TRY(k.input(0, &q));
  KILN_CPU_TRY(k.output(0, &y));
  if (q.dtype != KILN_DTYPE_UINT8 || y.dtype != KILN_DTYPE_FLOAT32 || q.rank < 1 ||
      q.shape[q.rank - 1] % f->bytes != 0 ||
      y.num_elements != q.num_elements / f->bytes * f->elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "packed %s %s does not match output %s %s for %s blocks", dtype_name(q.dtype),
                   shape_string(q).c_str(), dtype_name(y.dtype), shape_string(y).c_str(), f->name);
  }
  const int64_t blocks = q.num_elements / f->bytes;
  const uint8_t* src = q.as<uint8_t>();
  float* dst = y.as<float>();
  parallel_for(blocks, 256, k.num_threads(), [&](int64_t b0, int64_t b1) {
    decode_row(*f, src + b0 * f->bytes, b1 - b0, dst + b0 * f->elements);
  });
  return nullptr;
}

kiln_status* qmatmul_kernel(Kernel& k, const void*) {
  const Format* f = nullptr;
  KILN_CPU_TRY(read_format(k, &f));
  Tensor x, w, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &w));
  KILN_CPU_TRY(k.output(0, &y));
  if (x.dtype != KILN_DTYPE_FLOAT32 || w.dtype != KILN_DTYPE_UINT8 ||
      y.dtype != KILN_DTYPE_FLOAT32 || x.rank < 1 || w.rank != 2 || w.shape[1] % f->bytes != 0) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operands: lhs %s %s, packed rhs %s %s",
                   dtype_name(x.dtype), shape_string(x).c_str(), dtype_name(w.dtype),
                   shape_string(w).c_str());
  }
  const int64_t n = w.shape[0];
  const int64_t blocks = w.shape[1] / f->bytes;
  const int64_t kdim = blocks * f->elements;
  if (x.shape[x.rank - 1] != kdim || y.rank != x.rank || y.shape[y.rank - 1] != n) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "lhs %s, packed rhs %s (K %lld) and output %s do not match",
                   shape_string(x).c_str(), shape_string(w).c_str(), static_cast<long long>(kdim),
                   shape_string(y).c_str());
  }
  if (y.num_elements == 0) return nullptr;
  if (kdim == 0) {  // empty sums
    std::memset(y.data, 0, y.byte_size());
    return nullptr;
  }
  const int64_t m = x.num_elements / kdim;
  const DotFn dot = select_dot();
  const float* a = x.as<float>();
  const uint8_t* packed = w.as<uint8_t>();
  float* c = y.as<float>();
  // A tile of weight rows (about 256 KiB decoded) is decoded once and used by every lhs row;
  // lhs rows go in tiles that stay in cache meanwhile.
  constexpr int64_t kRowTile = 64;
  const int64_t col_tile = std::max<int64_t>(1, (int64_t{1} << 16) / kdim);
  parallel_for(n, col_tile, k.num_threads(), [&](int64_t n0, int64_t n1) {
    std::vector<float> decoded(static_cast<size_t>(std::min(col_tile, n1 - n0) * kdim));
    for (int64_t j0 = n0; j0 < n1; j0 += col_tile) {
      const int64_t j1 = std::min(n1, j0 + col_tile);
      for (int64_t j = j0; j < j1; ++j) {
        decode_row(*f, packed + j * w.shape[1], blocks, decoded.data() + (j - j0) * kdim);
      }
      for (int64_t i0 = 0; i0 < m; i0 += kRowTile) {
        const int64_t i1 = std::min(m, i0 + kRowTile);
        for (int64_t j = j0; j < j1; ++j) {
          const float* wrow = decoded.data() + (j - j0) * kdim;
          for (int64_t i = i0; i < i1; ++i) c[i * n + j] = dot(a + i * kdim, wrow, kdim);
        }
      }
    }
  });
  return nullptr;
}

}  // namespace

kiln_status* register_quant_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(register_kernel(registrar, "dequantize", {KILN_DTYPE_UINT8}, 0,
                               kernel_entry<dequantize_kernel>, nullptr));
  return register_kernel(registrar, "qmatmul", {KILN_DTYPE_FLOAT32}, 0,
                         kernel_entry<qmatmul_kernel>, nullptr);
}

}  // namespace kiln_cpu
