// vec.h: the compute-bound float32 loops, built twice — for the x86-64-v2 baseline and for
// AVX2+FMA+F16C — with the variant chosen once at run time from the CPU's features.
//
// vec_kernels.inc holds the loops; vec_baseline.cpp and vec_avx2.cpp compile it under different
// flags into different namespaces. Everything else in the plugin calls them through vec().
#pragma once

#include <cstdint>

#include "half.h"

namespace kiln_cpu {

enum class UnaryOp : int32_t {
  kNegate,
  kAbs,
  kRelu,
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kSigmoid,
  kTanh,
  kSilu,
  kGelu,      // 0.5 x (1 + erf(x / sqrt 2))
  kGeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kCount
};

struct VecTable {
  const char* isa;  // "avx2" or "baseline"
  // y[i] = op(x[i]); x and y may be the same array.
  void (*unary_f32)(UnaryOp op, const float* x, float* y, int64_t n);
  // y = softmax(x) over `rows` contiguous rows of n >= 1 elements (x may equal y): the row
  // maximum is subtracted; the exponentials are summed in float lanes over 256 elements, those
  // partial sums in double, in a fixed order.
  void (*softmax_f32)(const float* x, float* y, int64_t rows, int64_t n);
  // y = (x - mean) / sqrt(var + epsilon) * gamma + beta over `rows` contiguous rows of n >= 1
  // elements (x may equal y); mean and biased variance by two passes over the row, float lanes'
  // partial sums added in double in a fixed order.
  void (*layer_norm_f32)(const float* x, const float* gamma, const float* beta, float* y,
                         int64_t rows, int64_t n, double epsilon);
  void (*f16_to_f32)(const f16* x, float* y, int64_t n);
  void (*f32_to_f16)(const float* x, f16* y, int64_t n);
  void (*bf16_to_f32)(const bf16* x, float* y, int64_t n);
  void (*f32_to_bf16)(const float* x, bf16* y, int64_t n);
};

// The variant for this CPU (selected on first call; thread safe). KILN_CPU_BASELINE=1 in the
// environment forces the baseline variant.
const VecTable& vec();
// True when the CPU has AVX2, FMA and F16C (what the fast variant needs).
bool cpu_has_avx2_fma();

// The two variants (vec_baseline.cpp, vec_avx2.cpp). The AVX2 one is null where not built.
const VecTable* vec_table_baseline();
const VecTable* vec_table_avx2();

}  // namespace kiln_cpu
