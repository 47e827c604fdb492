// kernels_sort.cpp: top_k (the k largest along an axis, values and int64 indices, largest first)
// and argsort (int64 indices that sort along the first axis).
//
// Order: NaN counts as larger than every number (numpy's sort puts it last); equal values keep
// their index order (lower index first) in both directions, so results are deterministic and
// match a stable sort. Halves compare as float32.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kGrainElements = 8192;

template <class T>
using Key = std::conditional_t<is_half_type<T>::value, float, T>;

template <class T>
Key<T> key_of(const T& v) {
  if constexpr (is_half_type<T>::value) {
    return to_float(v);
  } else {
    return v;
  }
}

// Strict orders on (value, index); NaN is the largest value.
template <class V>
bool before_ascending(V a, int64_t ia, V b, int64_t ib) {
  const bool an = a != a, bn = b != b;
  if (an || bn) return (an == bn) ? ia < ib : bn;
  return a < b || (a == b && ia < ib);
}

template <class V>
bool before_descending(V a, int64_t ia, V b, int64_t ib) {
  const bool an = a != a, bn = b != b;
  if (an || bn) return (an == bn) ? ia < ib : an;
  return a > b || (a == b && ia < ib);
}

struct Lines {
  int64_t outer = 1, length = 1, inner = 1;
};

Lines lines_of(const Tensor& x, int axis) {
  Lines l;
  for (int d = 0; d < axis; ++d) l.outer *= x.shape[d];
  l.length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l.inner *= x.shape[d];
  return l;
}

// For each line along the axis: sorts the line's indices and calls emit(line_base, out_inner,
// sorted keys and indices) with the first `keep` of them.
template <class T, class Emit>
void sort_lines(const T* x, const Lines& l, int64_t keep, bool descending, int threads,
                Emit&& emit) {
  const int64_t lines = l.outer * l.inner;
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(l.length, 1));
  parallel_for(lines, grain, threads, [&](int64_t b, int64_t e) {
    using V = Key<T>;
    std::vector<V> keys(static_cast<size_t>(l.length));
    std::vector<int64_t> order(static_cast<size_t>(l.length));
    for (int64_t line = b; line < e; ++line) {
      const int64_t o = line / l.inner;
      const int64_t i = line % l.inner;
      const T* src = x + o * l.length * l.inner + i;
      for (int64_t j = 0; j < l.length; ++j) {
        keys[static_cast<size_t>(j)] = key_of(src[j * l.inner]);
        order[static_cast<size_t>(j)] = j;
      }
      auto less = [&](int64_t a, int64_t c) {
        const V ka = keys[static_cast<size_t>(a)], kc = keys[static_cast<size_t>(c)];
        return descending ? before_descending(ka, a, kc, c) : before_ascending(ka, a, kc, c);
      };
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), less);
      emit(o, i, order.data());
    }
  });
}

template <class T>
void top_k_typed(const Tensor& x, const Lines& l, int64_t k, Tensor& values, Tensor& indices,
                 int threads) {
  const T* in = x.as<T>();
  T* out_values = values.as<T>();
  int64_t* out_indices = indices.as<int64_t>();
  sort_lines(in, l, k, true, threads, [&](int64_t o, int64_t i, const int64_t* order) {
    const T* src = in + o * l.length * l.inner + i;
    const int64_t base = o * k * l.inner + i;
    for (int64_t j = 0; j < k; ++j) {
      out_values[base + j * l.inner] = src[order[j] * l.inner];
      out_indices[base + j * l.inner] = order[j];
    }
  });
}

template <class T>
void argsort_typed(const Tensor& x, const Lines& l, bool descending, Tensor& indices, int threads) {
  const T* in = x.as<T>();
  int64_t* out = indices.as<int64_t>();
  sort_lines(in, l, l.length, descending, threads, [&](int64_t o, int64_t i, const int64_t* order) {
    const int64_t base = o * l.length * l.inner + i;
    for (int64_t j = 0; j < l.length; ++j) out[base + j * l.inner] = order[j];
  });
}

// Calls fn(T{}) with the storage type of `dtype`; false if it is not a sortable dtype.
template <class Fn>
bool with_sort_type(int32_t dtype, Fn&& fn) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
      fn(float{});
      return true;
    case KILN_DTYPE_FLOAT64:
      fn(double{});
      return true;
    case KILN_DTYPE_FLOAT16:
      fn(f16{});
      return true;
    case KILN_DTYPE_BFLOAT16:
      fn(bf16{});
      return true;
    default:
      return visit_integer(dtype, fn);
  }
}

kiln_status* top_k_kernel(Kernel& k, const void*) {
  Tensor x, values, indices;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &values));
  KILN_CPU_TRY(k.output(1, &indices));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  int64_t k_attr = 0, axis_attr = -1;
  KILN_CPU_TRY(k.attr_int("k", 0, &k_attr));
  KILN_CPU_TRY(k.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_CPU_TRY(k.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  // The axis may be symbolic at build time, so k is checked against the actual dim here.
  if (k_attr < 0 || k_attr > x.shape[axis]) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "attribute 'k' is %lld but axis %d of input %s has %lld elements",
                   static_cast<long long>(k_attr), axis, shape_string(x).c_str(),
                   static_cast<long long>(x.shape[axis]));
  }
  bool shape_ok = values.rank == x.rank && indices.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) {
    const int64_t want = d == axis ? k_attr : x.shape[d];
    shape_ok = values.shape[d] == want && indices.shape[d] == want;
  }
  if (!shape_ok || values.dtype != x.dtype || indices.dtype != KILN_DTYPE_INT64) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "outputs %s %s and %s %s do not match input %s %s with k = %lld",
                   dtype_name(values.dtype), shape_string(values).c_str(),
                   dtype_name(indices.dtype), shape_string(indices).c_str(), dtype_name(x.dtype),
                   shape_string(x).c_str(), static_cast<long long>(k_attr));
  }
  if (values.num_elements == 0) return nullptr;
  const Lines l = lines_of(x, axis);
  const int threads = k.num_threads();
  if (with_sort_type(x.dtype, [&](auto tag) {
        top_k_typed<decltype(tag)>(x, l, k_attr, values, indices, threads);
      })) {
    return nullptr;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

kiln_status* argsort_kernel(Kernel& k, const void*) {
  Tensor x, indices;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &indices));
  if (x.rank < 1) return k.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  int64_t ascending = 1;
  KILN_CPU_TRY(k.attr_int("ascending", 1, &ascending));
  bool shape_ok = indices.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) shape_ok = indices.shape[d] == x.shape[d];
  if (!shape_ok || indices.dtype != KILN_DTYPE_INT64) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s %s does not match int64 %s",
                   dtype_name(indices.dtype), shape_string(indices).c_str(),
                   shape_string(x).c_str());
  }
  if (x.num_elements == 0) return nullptr;
  const Lines l = lines_of(x, 0);
  const int threads = k.num_threads();
  if (with_sort_type(x.dtype, [&](auto tag) {
        argsort_typed<decltype(tag)>(x, l, ascending == 0, indices, threads);
      })) {
    return nullptr;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

}  // namespace

kiln_status* register_sort_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(
      register_kernel(registrar, "top_k", kNumericTypes, 0, kernel_entry<top_k_kernel>, nullptr));
  return register_kernel(registrar, "argsort", kNumericTypes, 0, kernel_entry<argsort_kernel>,
                         nullptr);
}

}  // namespace kiln_cpu
