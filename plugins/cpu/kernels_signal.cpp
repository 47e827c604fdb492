// kernels_signal.cpp: irfft over one axis of an interleaved-complex tensor ([..., 2]). The
// spectrum is cut or zero-padded to n/2 + 1 bins and the Hermitian-symmetric inverse DFT is
// summed directly in double against a table of twiddles: O(n * bins) per line, no FFT library
// (Debian's oneDNN has none and no FFT package is a dependency yet). resize interpolates H and W
// of an NCHW tensor with PyTorch's conventions (half-pixel centres, align_corners=False; bicubic
// with A = -0.75 and clamped borders; nearest takes floor(dst * in / out)). hann_window computes
// each value in double as sin^2(pi i / d) (= (1 - cos(2 pi i / d)) / 2, without the cancellation
// near 0), d = N when periodic, else N - 1; a window of length 1 is [1] (torch.hann_window).
// as_interleaved_complex keeps the C-order elements: a copy.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"

namespace kiln_cpu {
namespace {

template <class T>
double load(const T* p) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return static_cast<double>(*p);
  } else {
    return static_cast<double>(to_float(*p));
  }
}

template <class T>
void store(double v, T* p) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    *p = static_cast<T>(v);
  } else {
    const float f = static_cast<float>(v);
    from_float(&f, p, 1);
  }
}

template <class T>
void irfft_lines(const T* x, T* y, int64_t outer, int64_t length, int64_t inner, int64_t n,
                 double scale, int threads) {
  const int64_t bins = std::min(length, n / 2 + 1);
  std::vector<double> cos_table(static_cast<size_t>(n)), sin_table(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double angle = 2.0 * M_PI * static_cast<double>(i) / static_cast<double>(n);
    cos_table[i] = std::cos(angle);
    sin_table[i] = std::sin(angle);
  }
  const int64_t lines = outer * inner;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(n * bins, 1));
  parallel_for(lines, grain, threads, [&](int64_t l0, int64_t l1) {
    std::vector<double> re(static_cast<size_t>(bins)), im(static_cast<size_t>(bins));
    for (int64_t line = l0; line < l1; ++line) {
      const int64_t o = line / inner, i = line % inner;
      const T* src = x + (o * length * inner + i) * 2;
      T* dst = y + o * n * inner + i;
      for (int64_t b = 0; b < bins; ++b) {
        re[b] = load(src + b * inner * 2);
        im[b] = load(src + b * inner * 2 + 1);
      }
      for (int64_t t = 0; t < n; ++t) {
        // Bin 0 and (for even n) bin n/2 are their own mirror images: only their real part counts.
        double sum = re[0];
        int64_t index = 0;
        for (int64_t b = 1; b < bins; ++b) {
          index += t;
          if (index >= n) index -= n;
          const bool self_mirror = 2 * b == n;
          const double term = re[b] * cos_table[index] - im[b] * sin_table[index];
          sum += self_mirror ? re[b] * cos_table[index] : 2.0 * term;
        }
        store(sum * scale, dst + t * inner);
      }
    }
  });
}

kiln_status* irfft_kernel(Kernel& k, const void*) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  int64_t n = 0, axis_attr = -1;
  std::string norm;
  KILN_CPU_TRY(k.attr_int("n", 0, &n));
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  KILN_CPU_TRY(k.attr_string("normalization", "backward", &norm));
  if (x.rank < 2 || x.shape[x.rank - 1] != 2 || y.rank != x.rank - 1 || y.dtype != x.dtype ||
      n < 1) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operands: input %s, output %s, n %lld",
                   shape_string(x).c_str(), shape_string(y).c_str(), static_cast<long long>(n));
  }
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank - 1, "attribute 'axis'", &axis));
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape[d];
  for (int d = axis + 1; d < x.rank - 1; ++d) inner *= x.shape[d];
  if (y.shape[axis] != n) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s has no axis of size n=%lld",
                   shape_string(y).c_str(), static_cast<long long>(n));
  }
  if (y.num_elements == 0) return nullptr;
  const int64_t length = x.shape[axis];
  const double scale = norm == "forward" ? 1.0
                       : norm == "ortho" ? 1.0 / std::sqrt(static_cast<double>(n))
                                         : 1.0 / static_cast<double>(n);
  if (length == 0) {
    std::memset(y.data, 0, y.byte_size());
    return nullptr;
  }
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      irfft_lines(x.as<float>(), y.as<float>(), outer, length, inner, n, scale, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      irfft_lines(x.as<double>(), y.as<double>(), outer, length, inner, n, scale, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      irfft_lines(x.as<f16>(), y.as<f16>(), outer, length, inner, n, scale, threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      irfft_lines(x.as<bf16>(), y.as<bf16>(), outer, length, inner, n, scale, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

// The taps of one output index along one dim: up to four (source index, weight) pairs.
struct Taps {
  int count = 0;
  int64_t index[4] = {};
  double weight[4] = {};
};

double cubic_near(double t, double a) { return ((a + 2) * t - (a + 3)) * t * t + 1; }
double cubic_far(double t, double a) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; }

std::vector<Taps> make_taps(int64_t in, int64_t out, const std::string& mode) {
  std::vector<Taps> taps(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  auto clamp = [&](int64_t i) { return std::min<int64_t>(std::max<int64_t>(i, 0), in - 1); };
  for (int64_t o = 0; o < out; ++o) {
    Taps& t = taps[static_cast<size_t>(o)];
    if (mode == "nearest") {
      t.count = 1;
      t.index[0] = clamp(static_cast<int64_t>(std::floor(static_cast<double>(o) * scale)));
      t.weight[0] = 1;
    } else if (mode == "bilinear") {
      const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * scale - 0.5);
      const int64_t i0 = std::min<int64_t>(static_cast<int64_t>(src), in - 1);
      const double frac = src - static_cast<double>(i0);
      t.count = 2;
      t.index[0] = i0;
      t.index[1] = clamp(i0 + 1);
      t.weight[0] = 1 - frac;
      t.weight[1] = frac;
    } else {
      constexpr double kA = -0.75;
      const double src = (static_cast<double>(o) + 0.5) * scale - 0.5;
      const double floor_src = std::floor(src);
      const double f = src - floor_src;
      const int64_t i0 = static_cast<int64_t>(floor_src);
      t.count = 4;
      const double w[4] = {cubic_far(f + 1, kA), cubic_near(f, kA), cubic_near(1 - f, kA),
                           cubic_far(2 - f, kA)};
      for (int k = 0; k < 4; ++k) {
        t.index[k] = clamp(i0 - 1 + k);
        t.weight[k] = w[k];
      }
    }
  }
  return taps;
}

template <class T>
void resize_planes(const T* x, T* y, int64_t planes, int64_t ih, int64_t iw, int64_t oh, int64_t ow,
                   const std::vector<Taps>& th, const std::vector<Taps>& tw, int threads) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(ow, 1));
  parallel_for(planes * oh, grain, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t plane = r / oh, i = r % oh;
      const T* src = x + plane * ih * iw;
      T* dst = y + plane * oh * ow + i * ow;
      const Taps& a = th[static_cast<size_t>(i)];
      for (int64_t j = 0; j < ow; ++j) {
        const Taps& b = tw[static_cast<size_t>(j)];
        double sum = 0;
        for (int p = 0; p < a.count; ++p) {
          const T* row = src + a.index[p] * iw;
          double inner = 0;
          for (int q = 0; q < b.count; ++q) inner += b.weight[q] * load(row + b.index[q]);
          sum += a.weight[p] * inner;
        }
        store(sum, dst + j);
      }
    }
  });
}

kiln_status* resize_kernel(Kernel& k, const void*) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  std::string mode;
  KILN_CPU_TRY(k.attr_string("interpolation", "bilinear", &mode));
  if (x.rank != 4 || y.rank != 4 || y.dtype != x.dtype || y.shape[0] != x.shape[0] ||
      y.shape[1] != x.shape[1] || (mode != "bicubic" && mode != "bilinear" && mode != "nearest")) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operands: input %s, output %s, mode '%s'",
                   shape_string(x).c_str(), shape_string(y).c_str(), mode.c_str());
  }
  if (y.num_elements == 0) return nullptr;
  const int64_t planes = x.shape[0] * x.shape[1];
  const int64_t ih = x.shape[2], iw = x.shape[3], oh = y.shape[2], ow = y.shape[3];
  if (ih == 0 || iw == 0) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot resize the empty input %s to %s",
                   shape_string(x).c_str(), shape_string(y).c_str());
  }
  const auto th = make_taps(ih, oh, mode);
  const auto tw = make_taps(iw, ow, mode);
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      resize_planes(x.as<float>(), y.as<float>(), planes, ih, iw, oh, ow, th, tw, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      resize_planes(x.as<double>(), y.as<double>(), planes, ih, iw, oh, ow, th, tw, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      resize_planes(x.as<f16>(), y.as<f16>(), planes, ih, iw, oh, ow, th, tw, threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      resize_planes(x.as<bf16>(), y.as<bf16>(), planes, ih, iw, oh, ow, th, tw, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

template <class T>
void hann_values(T* y, int64_t length, bool periodic, int threads) {
  if (length == 1) {
    store(1.0, y);
    return;
  }
  const double denominator = static_cast<double>(periodic ? length : length - 1);
  parallel_for(length, 4096, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const double s = std::sin(M_PI * static_cast<double>(i) / denominator);
      store(s * s, y + i);
    }
  });
}

kiln_status* hann_window_kernel(Kernel& k, const void*) {
  Tensor y;
  KILN_CPU_TRY(k.output(0, &y));
  int64_t length = 0, periodic = 1;
  KILN_CPU_TRY(k.attr_int("window_length", 0, &length));
  KILN_CPU_TRY(k.attr_int("periodic", 1, &periodic));
  if (y.rank != 1 || y.shape[0] != length) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "output %s is not a window of window_length=%lld values",
                   shape_string(y).c_str(), static_cast<long long>(length));
  }
  if (length == 0) return nullptr;
  const int threads = k.num_threads();
  switch (y.dtype) {
    case KILN_DTYPE_FLOAT32:
      hann_values(y.as<float>(), length, periodic != 0, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      hann_values(y.as<double>(), length, periodic != 0, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      hann_values(y.as<f16>(), length, periodic != 0, threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      hann_values(y.as<bf16>(), length, periodic != 0, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(y.dtype));
}

kiln_status* as_interleaved_complex_kernel(Kernel& k, const void*) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  if (x.rank < 1 || y.rank != x.rank + 1 || y.dtype != x.dtype ||
      y.num_elements != x.num_elements || y.shape[y.rank - 1] != 2) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operands: input %s, output %s",
                   shape_string(x).c_str(), shape_string(y).c_str());
  }
  if (x.data != y.data && x.num_elements > 0) std::memcpy(y.data, x.data, x.byte_size());
  return nullptr;
}

}  // namespace

kiln_status* register_signal_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(
      register_kernel(registrar, "irfft", kFloatTypes, 0, kernel_entry<irfft_kernel>, nullptr));
  KILN_CPU_TRY(
      register_kernel(registrar, "resize", kFloatTypes, 0, kernel_entry<resize_kernel>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "as_interleaved_complex", kFloatTypes, 0,
                               kernel_entry<as_interleaved_complex_kernel>, nullptr));
  return register_kernel(registrar, "hann_window", kFloatTypes, -1,
                         kernel_entry<hann_window_kernel>, nullptr);
}

}  // namespace kiln_cpu
