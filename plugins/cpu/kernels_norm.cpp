// kernels_norm.cpp: softmax and logsoftmax along an axis (max subtracted first) and layer_norm over
// the last dim (two passes for the statistics). float32 rows run in the vector loops (vec.h);
// halves are converted to float32 rows and go through the same loops.
#include <cmath>
#include <cstdint>
#include <vector>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"
#include "vec.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kGrainElements = 8192;

void softmax_row_f64(const double* x, double* y, int64_t n) {
  double m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - m);
    sum += y[i];
  }
  for (int64_t i = 0; i < n; ++i) y[i] /= sum;
}

// y = x - max - log(sum(exp(x - max))) over a contiguous row (x may equal y); the sum of
// exponentials is taken in double, so the log of it keeps every bit float rows need.
template <class V>
void logsoftmax_row(const V* x, V* y, int64_t n) {
  V m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - m);
  const double shift = static_cast<double>(m) + std::log(sum);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<V>(static_cast<double>(x[i]) - shift);
}

// Softmax (or logsoftmax) of rows (o, i) of a (outer, length, inner) tensor; rows with inner > 1
// are gathered into a contiguous buffer first.
template <class T>
void softmax_rows(const T* x, T* y, int64_t outer, int64_t length, int64_t inner, bool log,
                  int threads) {
  const int64_t rows = outer * inner;
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(length, 1));
  parallel_for(rows, grain, threads, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1 && !log) {  // contiguous rows: the vector loops take the whole range
        vec().softmax_f32(x + b * length, y + b * length, e - b, length);
        return;
      }
    }
    using Buffer = std::conditional_t<std::is_same_v<T, double>, double, float>;
    std::vector<Buffer> buffer;
    const bool direct = inner == 1 && (std::is_same_v<T, float> || std::is_same_v<T, double>);
    if (!direct) buffer.resize(static_cast<size_t>(length));
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / inner;
      const int64_t i = r % inner;
      const T* src = x + o * length * inner + i;
      T* dst = y + o * length * inner + i;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        if (direct) {  // float32 softmax rows took the early return above
          if (log) {
            logsoftmax_row(src, dst, length);
          } else if constexpr (std::is_same_v<T, double>) {
            softmax_row_f64(src, dst, length);
          }
          continue;
        }
        for (int64_t j = 0; j < length; ++j) buffer[j] = src[j * inner];
      } else {
        if (inner == 1) {
          to_float(src, buffer.data(), length);
        } else {
          for (int64_t j = 0; j < length; ++j) buffer[j] = to_float(src[j * inner]);
        }
      }
      if (log) {
        logsoftmax_row(buffer.data(), buffer.data(), length);
      } else if constexpr (std::is_same_v<Buffer, double>) {
        softmax_row_f64(buffer.data(), buffer.data(), length);
      } else {
        vec().softmax_f32(buffer.data(), buffer.data(), 1, length);
      }
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        for (int64_t j = 0; j < length; ++j) dst[j * inner] = buffer[j];
      } else if (inner == 1) {
        from_float(buffer.data(), dst, length);
      } else {
        for (int64_t j = 0; j < length; ++j) {
          T h;
          from_float(&buffer[j], &h, 1);
          dst[j * inner] = h;
        }
      }
    }
  });
}

// user_data: null for softmax, non-null for logsoftmax.
kiln_status* softmax_kernel(Kernel& k, const void* user_data) {
  const bool log = user_data != nullptr;
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  KILN_CPU_TRY(k.check_output_like_input(x, y));
  if (x.num_elements == 0) return nullptr;
  int64_t axis_attr = -1;
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  int64_t outer = 1, length = 1, inner = 1;  // a rank-0 tensor is one row of one element
  if (x.rank > 0) {
    int axis = 0;
    KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
    for (int d = 0; d < axis; ++d) outer *= x.shape[d];
    length = x.shape[axis];
    for (int d = axis + 1; d < x.rank; ++d) inner *= x.shape[d];
  }
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      softmax_rows(x.as<float>(), y.as<float>(), outer, length, inner, log, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      softmax_rows(x.as<double>(), y.as<double>(), outer, length, inner, log, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      softmax_rows(x.as<f16>(), y.as<f16>(), outer, length, inner, log, threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      softmax_rows(x.as<bf16>(), y.as<bf16>(), outer, length, inner, log, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

// ---- layer_norm -------------------------------------------------------------------------------

// Mean and 1 / sqrt(var + eps) of a float64 row, two passes.
void row_stats_f64(const double* x, int64_t n, double epsilon, double* mean, double* rstd) {
  double acc[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) acc[j] += x[i + j];
  }
  for (; i < n; ++i) acc[0] += x[i];
  const double m = ((acc[0] + acc[1]) + (acc[2] + acc[3])) / static_cast<double>(n);
  double sq[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const double d = x[i + j] - m;
      sq[j] += d * d;
    }
  }
  for (; i < n; ++i) {
    const double d = x[i] - m;
    sq[0] += d * d;
  }
  const double var = ((sq[0] + sq[1]) + (sq[2] + sq[3])) / static_cast<double>(n);
  *mean = m;
  *rstd = 1.0 / std::sqrt(var + epsilon);
}

template <class T>
void layer_norm_rows(const T* x, const T* gamma, const T* beta, T* y, int64_t rows, int64_t d,
                     double epsilon, int threads) {
  // Halves: gamma and beta once in float.
  std::vector<float> g_f, b_f;
  if constexpr (is_half_type<T>::value) {
    g_f.resize(static_cast<size_t>(d));
    b_f.resize(static_cast<size_t>(d));
    to_float(gamma, g_f.data(), d);
    to_float(beta, b_f.data(), d);
  }
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(d, 1));
  parallel_for(rows, grain, threads, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) {
      vec().layer_norm_f32(x + b * d, gamma, beta, y + b * d, e - b, d, epsilon);
    } else if constexpr (std::is_same_v<T, double>) {
      for (int64_t r = b; r < e; ++r) {
        const double* row = x + r * d;
        double* out = y + r * d;
        double mean = 0, rstd = 0;
        row_stats_f64(row, d, epsilon, &mean, &rstd);
        for (int64_t j = 0; j < d; ++j) out[j] = (row[j] - mean) * rstd * gamma[j] + beta[j];
      }
    } else {
      std::vector<float> buffer(static_cast<size_t>(d));
      for (int64_t r = b; r < e; ++r) {
        to_float(x + r * d, buffer.data(), d);
        vec().layer_norm_f32(buffer.data(), g_f.data(), b_f.data(), buffer.data(), 1, d, epsilon);
        from_float(buffer.data(), y + r * d, d);
      }
    }
  });
}

kiln_status* layer_norm_kernel(Kernel& k, const void*) {
  if (k.num_inputs() != 3) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "expects input, gamma and beta; got %d inputs",
                   k.num_inputs());
  }
  Tensor x, gamma, beta, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &gamma));
  KILN_CPU_TRY(k.input(2, &beta));
  KILN_CPU_TRY(k.output(0, &y));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  if (gamma.dtype != x.dtype || beta.dtype != x.dtype || y.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "dtypes differ: input %s, gamma %s, beta %s, "
                   "output %s",
                   dtype_name(x.dtype), dtype_name(gamma.dtype), dtype_name(beta.dtype),
                   dtype_name(y.dtype));
  }
  const int64_t d = x.shape[x.rank - 1];
  if (gamma.num_elements != d || beta.num_elements != d || y.num_elements != x.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "gamma %s and beta %s must have the last dim "
                   "(%lld) of input %s",
                   shape_string(gamma).c_str(), shape_string(beta).c_str(),
                   static_cast<long long>(d), shape_string(x).c_str());
  }
  double epsilon = 1e-5;
  KILN_CPU_TRY(k.attr_float("epsilon", 1e-5, &epsilon));
  if (x.num_elements == 0) return nullptr;
  const int64_t rows = x.num_elements / d;
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      layer_norm_rows(x.as<float>(), gamma.as<float>(), beta.as<float>(), y.as<float>(), rows, d,
                      epsilon, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      layer_norm_rows(x.as<double>(), gamma.as<double>(), beta.as<double>(), y.as<double>(), rows,
                      d, epsilon, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      layer_norm_rows(x.as<f16>(), gamma.as<f16>(), beta.as<f16>(), y.as<f16>(), rows, d, epsilon,
                      threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      layer_norm_rows(x.as<bf16>(), gamma.as<bf16>(), beta.as<bf16>(), y.as<bf16>(), rows, d,
                      epsilon, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

}  // namespace

kiln_status* register_normalization_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(
      register_kernel(registrar, "softmax", kFloatTypes, 0, kernel_entry<softmax_kernel>, nullptr));
  static const bool kLog = true;
  KILN_CPU_TRY(register_kernel(registrar, "logsoftmax", kFloatTypes, 0,
                               kernel_entry<softmax_kernel>, &kLog));
  return register_kernel(registrar, "layer_norm", kFloatTypes, 0, kernel_entry<layer_norm_kernel>,
                         nullptr);
}

}  // namespace kiln_cpu
