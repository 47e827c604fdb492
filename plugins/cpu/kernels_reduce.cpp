// kernels_reduce.cpp: sum, mean, max, min, argmax and argmin along one axis (kept with size 1),
// and cumsum (a scan: same shape as the input).
//
// Accumulation: floats in double (float16/bfloat16 included), integers in 64-bit wrapping
// arithmetic; an integer mean is that sum divided by the count, truncated toward zero. max/min
// propagate NaN; argmax/argmin return the first index of the maximum/minimum, a NaN counting as
// both (as numpy). cumsum accumulates the same way, in axis order, one running sum per column.
//
// Determinism: every output's summation order depends only on the shape — rows are reduced by
// one thread in a fixed lane pattern, and a long single row is cut into fixed-size chunks whose
// partials are combined in chunk order — so results are bitwise identical for every thread count.
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kGrainElements = 16384;  // input elements per parallel chunk
constexpr int64_t kRowChunk = 32768;       // fixed split of one long row
constexpr int kLanes = 8;                  // interleaved accumulators within a row
constexpr int64_t kColumnBlock = 256;      // outputs reduced together when the axis is not last

template <class T>
struct ComputeType {
  using type = T;
};
template <>
struct ComputeType<f16> {
  using type = float;
};
template <>
struct ComputeType<bf16> {
  using type = float;
};

template <class T>
inline typename ComputeType<T>::type load(const T& v) {
  if constexpr (is_half_type<T>::value) {
    return to_float(v);
  } else {
    return v;
  }
}

template <class T, class V>
inline T store(V v) {
  if constexpr (std::is_same_v<T, f16>) {
    return float_to_f16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<T, bf16>) {
    return float_to_bf16(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

// ---- The reducers: state, add one element, merge a later partial, write -----------------------

template <class T>
struct SumReducer {
  using V = typename ComputeType<T>::type;
  using Acc = std::conditional_t<std::is_integral_v<V>, uint64_t, double>;
  struct State {
    Acc sum = 0;
  };
  static void add(State& s, V v, int64_t) { s.sum += static_cast<Acc>(v); }
  static void merge(State& a, const State& b) { a.sum += b.sum; }
  static void write(const State& s, int64_t, T* out) {
    if constexpr (std::is_integral_v<V>) {
      *out = static_cast<T>(static_cast<std::make_unsigned_t<T>>(s.sum));
    } else {
      *out = store<T>(s.sum);
    }
  }
};

template <class T>
struct MeanReducer : SumReducer<T> {
  using Base = SumReducer<T>;
  using V = typename Base::V;
  using State = typename Base::State;
  static void write(const State& s, int64_t count, T* out) {
    if constexpr (std::is_integral_v<V> && std::is_unsigned_v<V>) {
      *out = static_cast<T>(count > 0 ? s.sum / static_cast<uint64_t>(count) : 0);
    } else if constexpr (std::is_integral_v<V>) {
      const int64_t sum = static_cast<int64_t>(s.sum);  // the wrapped 64-bit sum
      *out = static_cast<T>(count > 0 ? sum / count : 0);
    } else {
      *out = store<T>(s.sum / static_cast<double>(count));  // 0 / 0 is NaN for an empty axis
    }
  }
};

template <class T, bool kMax>
struct ExtremumReducer {
  using V = typename ComputeType<T>::type;
  struct State {
    V v = kMax ? (std::is_integral_v<V> ? std::numeric_limits<V>::lowest()
                                        : -std::numeric_limits<V>::infinity())
               : (std::is_integral_v<V> ? std::numeric_limits<V>::max()
                                        : std::numeric_limits<V>::infinity());
  };
  static void add(State& s, V v, int64_t) {
    if constexpr (kMax) {
      s.v = (v > s.v || v != v) ? v : s.v;
    } else {
      s.v = (v < s.v || v != v) ? v : s.v;
    }
  }
  static void merge(State& a, const State& b) { add(a, b.v, 0); }
  static void write(const State& s, int64_t, T* out) { *out = store<T>(s.v); }
};

template <class T, bool kMax>
struct ArgReducer {
  using V = typename ComputeType<T>::type;
  struct State {
    V v = V(0);                                           // unused while index is none
    int64_t index = std::numeric_limits<int64_t>::max();  // none yet
  };
  // Is (v, i) a better extremum than the state? NaN beats numbers; ties go to the lower index.
  static bool better(V v, int64_t i, const State& s) {
    if (s.index == std::numeric_limits<int64_t>::max()) return true;
    const bool vn = v != v;
    const bool sn = s.v != s.v;
    if (vn || sn) return vn && (!sn || i < s.index);
    if constexpr (kMax) {
      return v > s.v || (v == s.v && i < s.index);
    } else {
      return v < s.v || (v == s.v && i < s.index);
    }
  }
  static void add(State& s, V v, int64_t i) {
    if (better(v, i, s)) {
      s.v = v;
      s.index = i;
    }
  }
  static void merge(State& a, const State& b) {
    if (b.index != std::numeric_limits<int64_t>::max()) add(a, b.v, b.index);
  }
};

// ---- Drivers ----------------------------------------------------------------------------------

struct Layout {
  int64_t outer = 1, length = 1, inner = 1;
};

// Reduces x[0 .. n) (contiguous) into a state, with kLanes interleaved partials merged in order.
template <class R, class T>
typename R::State reduce_contiguous(const T* x, int64_t n, int64_t first_index) {
  using State = typename R::State;
  using V = typename R::V;
  State lanes[kLanes];
  int64_t i = 0;
  if constexpr (is_half_type<T>::value) {
    float buffer[kConvertBlock];
    for (; i < n; i += kConvertBlock) {
      const int64_t m = std::min(kConvertBlock, n - i);
      to_float(x + i, buffer, m);
      int64_t j = 0;
      for (; j + kLanes <= m; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) R::add(lanes[l], buffer[j + l], first_index + i + j + l);
      }
      for (; j < m; ++j) R::add(lanes[0], buffer[j], first_index + i + j);
    }
  } else {
    for (; i + kLanes <= n; i += kLanes) {
      for (int l = 0; l < kLanes; ++l)
        R::add(lanes[l], static_cast<V>(x[i + l]), first_index + i + l);
    }
    for (; i < n; ++i) R::add(lanes[0], static_cast<V>(x[i]), first_index + i);
  }
  for (int l = 1; l < kLanes; ++l) R::merge(lanes[0], lanes[l]);
  return lanes[0];
}

template <class R, class T, class Out>
void write_state(const typename R::State& s, int64_t count, Out* out) {
  if constexpr (std::is_same_v<R, ArgReducer<T, true>> || std::is_same_v<R, ArgReducer<T, false>>) {
    *out = static_cast<Out>(s.index == std::numeric_limits<int64_t>::max() ? 0 : s.index);
  } else {
    R::write(s, count, out);
  }
}

template <class R, class T, class Out>
void reduce_layout(const Layout& l, const T* x, Out* out, int threads) {
  using State = typename R::State;
  if (l.inner == 1) {
    const int64_t rows = l.outer;
    const int64_t n = l.length;
    if (rows < 8 && n >= 2 * kRowChunk) {
      // Few long rows: fixed chunks, partials merged in chunk order.
      const int64_t chunks = (n + kRowChunk - 1) / kRowChunk;
      std::vector<State> partial(static_cast<size_t>(rows * chunks));
      parallel_for(rows * chunks, 1, threads, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          const int64_t row = t / chunks;
          const int64_t c0 = (t % chunks) * kRowChunk;
          const int64_t m = std::min(kRowChunk, n - c0);
          partial[static_cast<size_t>(t)] = reduce_contiguous<R>(x + row * n + c0, m, c0);
        }
      });
      for (int64_t row = 0; row < rows; ++row) {
        State s = partial[static_cast<size_t>(row * chunks)];
        for (int64_t c = 1; c < chunks; ++c)
          R::merge(s, partial[static_cast<size_t>(row * chunks + c)]);
        write_state<R, T>(s, n, out + row);
      }
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(n, 1));
    parallel_for(rows, grain, threads, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        write_state<R, T>(reduce_contiguous<R>(x + row * n, n, 0), n, out + row);
      }
    });
    return;
  }
  // The axis is not last: reduce blocks of adjacent outputs together, walking the axis in order.
  const int64_t blocks = (l.inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t tasks = l.outer * blocks;
  const int64_t per_task = std::max<int64_t>(1, l.length * std::min(l.inner, kColumnBlock));
  const int64_t grain = std::max<int64_t>(1, kGrainElements / per_task);
  parallel_for(tasks, grain, threads, [&](int64_t b, int64_t e) {
    State states[kColumnBlock];
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks;
      const int64_t i0 = (t % blocks) * kColumnBlock;
      const int64_t m = std::min(kColumnBlock, l.inner - i0);
      for (int64_t i = 0; i < m; ++i) states[i] = State{};
      const T* base = x + o * l.length * l.inner + i0;
      for (int64_t r = 0; r < l.length; ++r) {
        const T* row = base + r * l.inner;
        for (int64_t i = 0; i < m; ++i) R::add(states[i], load(row[i]), r);
      }
      for (int64_t i = 0; i < m; ++i)
        write_state<R, T>(states[i], l.length, out + o * l.inner + i0 + i);
    }
  });
}

template <class T>
kiln_status* reduce_typed(const Kernel& k, ReduceOp op, const Layout& l, const Tensor& x,
                          const Tensor& out) {
  const T* in = x.as<T>();
  const int threads = k.num_threads();
  switch (op) {
    case ReduceOp::kSum:
      reduce_layout<SumReducer<T>>(l, in, out.as<T>(), threads);
      break;
    case ReduceOp::kMean:
      reduce_layout<MeanReducer<T>>(l, in, out.as<T>(), threads);
      break;
    case ReduceOp::kMax:
      reduce_layout<ExtremumReducer<T, true>>(l, in, out.as<T>(), threads);
      break;
    case ReduceOp::kMin:
      reduce_layout<ExtremumReducer<T, false>>(l, in, out.as<T>(), threads);
      break;
    case ReduceOp::kArgmax:
      if (out.dtype == KILN_DTYPE_INT32) {
        reduce_layout<ArgReducer<T, true>>(l, in, out.as<int32_t>(), threads);
      } else {
        reduce_layout<ArgReducer<T, true>>(l, in, out.as<int64_t>(), threads);
      }
      break;
    case ReduceOp::kArgmin:
      if (out.dtype == KILN_DTYPE_INT32) {
        reduce_layout<ArgReducer<T, false>>(l, in, out.as<int32_t>(), threads);
      } else {
        reduce_layout<ArgReducer<T, false>>(l, in, out.as<int64_t>(), threads);
      }
      break;
  }
  return nullptr;
}

const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMean:
      return "mean";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kArgmax:
      return "argmax";
    case ReduceOp::kArgmin:
      return "argmin";
  }
  return "?";
}

// An empty reduced axis with a non-empty output: sum is 0, a float mean NaN, an integer mean 0;
// max, min, argmax and argmin have no answer.
kiln_status* reduce_empty_axis(const Kernel& k, ReduceOp op, const Tensor& out) {
  if (op == ReduceOp::kMax || op == ReduceOp::kMin || op == ReduceOp::kArgmax ||
      op == ReduceOp::kArgmin) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s over an empty axis", reduce_name(op));
  }
  const bool float_mean = op == ReduceOp::kMean &&
                          (out.dtype == KILN_DTYPE_FLOAT32 || out.dtype == KILN_DTYPE_FLOAT64 ||
                           out.dtype == KILN_DTYPE_FLOAT16 || out.dtype == KILN_DTYPE_BFLOAT16);
  if (!float_mean) {
    std::memset(out.data, 0, out.byte_size());
    return nullptr;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int64_t i = 0; i < out.num_elements; ++i) {
    switch (out.dtype) {
      case KILN_DTYPE_FLOAT32:
        out.as<float>()[i] = static_cast<float>(nan);
        break;
      case KILN_DTYPE_FLOAT64:
        out.as<double>()[i] = nan;
        break;
      case KILN_DTYPE_FLOAT16:
        out.as<f16>()[i] = float_to_f16(static_cast<float>(nan));
        break;
      default:
        out.as<bf16>()[i] = float_to_bf16(static_cast<float>(nan));
        break;
    }
  }
  return nullptr;
}

kiln_status* reduction_kernel(Kernel& k, const void* user_data) {
  return run_reduction(k, *static_cast<const ReduceOp*>(user_data));
}

constexpr ReduceOp kSumOp = ReduceOp::kSum;
constexpr ReduceOp kMeanOp = ReduceOp::kMean;
constexpr ReduceOp kArgmaxOp = ReduceOp::kArgmax;
constexpr ReduceOp kArgminOp = ReduceOp::kArgmin;

// ---- cumsum -----------------------------------------------------------------------------------

template <class T>
void cumsum_layout(const Layout& l, const T* x, T* y, bool exclusive, bool reverse, int threads) {
  using V = typename ComputeType<T>::type;
  using Acc = std::conditional_t<std::is_integral_v<V>, uint64_t, double>;
  const int64_t blocks = (l.inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t per_task = std::max<int64_t>(1, l.length * std::min(l.inner, kColumnBlock));
  const int64_t grain = std::max<int64_t>(1, kGrainElements / per_task);
  parallel_for(l.outer * blocks, grain, threads, [&](int64_t b, int64_t e) {
    Acc acc[kColumnBlock];
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks;
      const int64_t i0 = (t % blocks) * kColumnBlock;
      const int64_t m = std::min(kColumnBlock, l.inner - i0);
      for (int64_t i = 0; i < m; ++i) acc[i] = 0;
      const int64_t base = o * l.length * l.inner + i0;
      for (int64_t step = 0; step < l.length; ++step) {
        const int64_t r = reverse ? l.length - 1 - step : step;
        const T* in = x + base + r * l.inner;
        T* out = y + base + r * l.inner;
        for (int64_t i = 0; i < m; ++i) {
          const Acc before = acc[i];
          acc[i] += static_cast<Acc>(load(in[i]));
          const Acc value = exclusive ? before : acc[i];
          if constexpr (std::is_integral_v<V>) {
            out[i] = static_cast<T>(static_cast<std::make_unsigned_t<T>>(value));
          } else {
            out[i] = store<T>(value);
          }
        }
      }
    }
  });
}

kiln_status* cumsum_kernel(Kernel& k, const void*) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  KILN_CPU_TRY(k.check_output_like_input(x, y));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot scan a rank-0 tensor");
  int64_t axis_attr = -1, exclusive = 0, reverse = 0;
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  KILN_CPU_TRY(k.attr_int("exclusive", 0, &exclusive));
  KILN_CPU_TRY(k.attr_int("reverse", 0, &reverse));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  if (x.num_elements == 0) return nullptr;
  Layout l;
  for (int d = 0; d < axis; ++d) l.outer *= x.shape[d];
  l.length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l.inner *= x.shape[d];
  const bool ex = exclusive != 0, rev = reverse != 0;
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      cumsum_layout(l, x.as<float>(), y.as<float>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      cumsum_layout(l, x.as<double>(), y.as<double>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      cumsum_layout(l, x.as<f16>(), y.as<f16>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      cumsum_layout(l, x.as<bf16>(), y.as<bf16>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_INT8:
      cumsum_layout(l, x.as<int8_t>(), y.as<int8_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_INT16:
      cumsum_layout(l, x.as<int16_t>(), y.as<int16_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_INT32:
      cumsum_layout(l, x.as<int32_t>(), y.as<int32_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_INT64:
      cumsum_layout(l, x.as<int64_t>(), y.as<int64_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_UINT8:
      cumsum_layout(l, x.as<uint8_t>(), y.as<uint8_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_UINT16:
      cumsum_layout(l, x.as<uint16_t>(), y.as<uint16_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_UINT32:
      cumsum_layout(l, x.as<uint32_t>(), y.as<uint32_t>(), ex, rev, threads);
      return nullptr;
    case KILN_DTYPE_UINT64:
      cumsum_layout(l, x.as<uint64_t>(), y.as<uint64_t>(), ex, rev, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

}  // namespace

kiln_status* run_reduction(Kernel& k, ReduceOp op) {
  Tensor x, out;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &out));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "cannot reduce a rank-0 tensor");
  int64_t axis_attr = -1;
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  bool shape_ok = out.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) {
    shape_ok = out.shape[d] == (d == axis ? 1 : x.shape[d]);
  }
  if (!shape_ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "output shape %s does not match input %s reduced "
                   "on axis %d",
                   shape_string(out).c_str(), shape_string(x).c_str(), axis);
  }
  if (op == ReduceOp::kArgmax || op == ReduceOp::kArgmin) {
    if (out.dtype != KILN_DTYPE_INT64 && out.dtype != KILN_DTYPE_INT32) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "output dtype %s; %s writes int64",
                     dtype_name(out.dtype), reduce_name(op));
    }
  } else if (out.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output dtype %s differs from input %s",
                   dtype_name(out.dtype), dtype_name(x.dtype));
  }
  Layout l;
  for (int d = 0; d < axis; ++d) l.outer *= x.shape[d];
  l.length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l.inner *= x.shape[d];
  if (out.num_elements == 0) return nullptr;
  if (l.length == 0) return reduce_empty_axis(k, op, out);
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      return reduce_typed<float>(k, op, l, x, out);
    case KILN_DTYPE_FLOAT64:
      return reduce_typed<double>(k, op, l, x, out);
    case KILN_DTYPE_FLOAT16:
      return reduce_typed<f16>(k, op, l, x, out);
    case KILN_DTYPE_BFLOAT16:
      return reduce_typed<bf16>(k, op, l, x, out);
    case KILN_DTYPE_INT8:
      return reduce_typed<int8_t>(k, op, l, x, out);
    case KILN_DTYPE_INT16:
      return reduce_typed<int16_t>(k, op, l, x, out);
    case KILN_DTYPE_INT32:
      return reduce_typed<int32_t>(k, op, l, x, out);
    case KILN_DTYPE_INT64:
      return reduce_typed<int64_t>(k, op, l, x, out);
    case KILN_DTYPE_UINT8:
      return reduce_typed<uint8_t>(k, op, l, x, out);
    case KILN_DTYPE_UINT16:
      return reduce_typed<uint16_t>(k, op, l, x, out);
    case KILN_DTYPE_UINT32:
      return reduce_typed<uint32_t>(k, op, l, x, out);
    case KILN_DTYPE_UINT64:
      return reduce_typed<uint64_t>(k, op, l, x, out);
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

kiln_status* register_reduction_kernels(kiln_registrar* registrar) {
  // max and min are registered by the elementwise family (one op name, two arities).
  KILN_CPU_TRY(
      register_kernel(registrar, "sum", kNumericTypes, 0, kernel_entry<reduction_kernel>, &kSumOp));
  KILN_CPU_TRY(register_kernel(registrar, "mean", kNumericTypes, 0, kernel_entry<reduction_kernel>,
                               &kMeanOp));
  KILN_CPU_TRY(register_kernel(registrar, "argmax", kNumericTypes, 0,
                               kernel_entry<reduction_kernel>, &kArgmaxOp));
  KILN_CPU_TRY(register_kernel(registrar, "argmin", kNumericTypes, 0,
                               kernel_entry<reduction_kernel>, &kArgminOp));
  return register_kernel(registrar, "cumsum", kNumericTypes, 0, kernel_entry<cumsum_kernel>,
                         nullptr);
}

}  // namespace kiln_cpu
