// kernels_conv.cpp: conv2d, conv3d, conv2d_transpose, max_pool2d and avg_pool2d on oneDNN, with
// MAX's channels-last layouts. Activations are described to oneDNN as nhwc/ndhwc directly; the
// filter (RSCF, QRSCF, or (kH, kW, out, in) for the transpose) is described by strides and
// reordered into the layout the primitive prefers. Primitives and their reorders are cached by
// shape. float32 runs natively; float16 and bfloat16 go through float32 copies.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <dnnl.hpp>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "lru_cache.h"
#include "thread_pool.h"

#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP && defined(KILN_CPU_HAVE_OPENMP)
#include <omp.h>
#define KILN_CPU_DNNL_OMP 1
#endif

namespace kiln_cpu {
namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

enum class Kind : int64_t { kConv, kDeconv, kMaxPool, kAvgPoolInclude, kAvgPoolExclude };

// Everything that determines a primitive: the kind, then the shape parameters in a fixed order.
using Key = std::vector<int64_t>;

struct KeyHash {
  size_t operator()(const Key& key) const {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int64_t v : key)
      h ^= static_cast<uint64_t>(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

struct Entry {
  dnnl::primitive primitive;
  dnnl::memory::desc src, weights, bias, dst, scratchpad;
  // Convolutions: the user's filter layout and the reorder into `weights` (absent when equal).
  dnnl::memory::desc user_weights;
  std::shared_ptr<dnnl::reorder> weights_reorder;
  dnnl::memory::desc reorder_scratchpad;
};

// The shape of one call, filled from tensors and attributes.
struct Problem {
  Kind kind = Kind::kConv;
  int spatial = 2;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in[3] = {}, out[3] = {}, kernel[3] = {};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1}, pad_l[3] = {}, pad_r[3] = {};
  bool bias = false;

  Key key() const {
    Key k{static_cast<int64_t>(kind), spatial, batch, in_channels, out_channels, groups, bias};
    for (int i = 0; i < spatial; ++i) {
      for (int64_t v : {in[i], out[i], kernel[i], stride[i], dilation[i], pad_l[i], pad_r[i]}) {
        k.push_back(v);
      }
    }
    return k;
  }
};

dims activation_dims(const Problem& p, int64_t channels, const int64_t* sizes) {
  dims d{p.batch, channels};
  for (int i = 0; i < p.spatial; ++i) d.push_back(sizes[i]);
  return d;
}

tag channels_last(int spatial) { return spatial == 3 ? tag::ndhwc : tag::nhwc; }

// The user's filter as oneDNN weights: RSCF/QRSCF for convolution ([G,] O, I, spatial...), and
// (kH, kW, O, I) for the transpose (O, I, kH, kW). Described by strides, no copy.
dnnl::memory::desc user_weights_desc(const Problem& p) {
  dims d, s;
  const int64_t group_in = p.in_channels / p.groups;
  const int64_t group_out = p.out_channels / p.groups;
  dims spatial_strides(p.spatial);
  int64_t inner = group_in * p.out_channels;
  for (int i = p.spatial - 1; i >= 0; --i) {
    spatial_strides[i] = inner;
    inner *= p.kernel[i];
  }
  if (p.kind == Kind::kDeconv) {
    d = {p.out_channels, p.in_channels};
    s = {p.in_channels, 1};
  } else if (p.groups == 1) {
    d = {p.out_channels, p.in_channels};
    s = {1, p.out_channels};
  } else {
    d = {p.groups, group_out, group_in};
    s = {group_out, 1, p.out_channels};
  }
  for (int i = 0; i < p.spatial; ++i) {
    d.push_back(p.kernel[i]);
    s.push_back(spatial_strides[i]);
  }
  return dnnl::memory::desc(d, dt::f32, s);
}

std::shared_ptr<const Entry> create(const Problem& p) {
  auto e = std::make_shared<Entry>();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const tag layout = channels_last(p.spatial);
  e->src = dnnl::memory::desc(activation_dims(p, p.in_channels, p.in), dt::f32, layout);
  e->dst = dnnl::memory::desc(activation_dims(p, p.out_channels, p.out), dt::f32, layout);
  dims strides, dilates, pad_l, pad_r, kernel;
  for (int i = 0; i < p.spatial; ++i) {
    strides.push_back(p.stride[i]);
    dilates.push_back(p.dilation[i] - 1);  // oneDNN counts the gaps
    pad_l.push_back(p.pad_l[i]);
    pad_r.push_back(p.pad_r[i]);
    kernel.push_back(p.kernel[i]);
  }
  const auto fwd = dnnl::prop_kind::forward_inference;
  if (p.kind == Kind::kConv || p.kind == Kind::kDeconv) {
    e->user_weights = user_weights_desc(p);
    const dnnl::memory::desc any_weights(e->user_weights.dims(), dt::f32, tag::any);
    const dnnl::memory::desc bias =
        p.bias ? dnnl::memory::desc({p.out_channels}, dt::f32, tag::a) : dnnl::memory::desc();
    dnnl::memory::desc weights;
    if (p.kind == Kind::kConv) {
      dnnl::convolution_forward::desc desc(fwd, dnnl::algorithm::convolution_direct, e->src,
                                           any_weights, bias, e->dst, strides, dilates, pad_l,
                                           pad_r);
      dnnl::convolution_forward::primitive_desc pd(desc, attr, engine());
      e->primitive = dnnl::convolution_forward(pd);
      weights = pd.weights_desc();
      e->scratchpad = pd.scratchpad_desc();
    } else {
      dnnl::deconvolution_forward::desc desc(fwd, dnnl::algorithm::deconvolution_direct, e->src,
                                             any_weights, bias, e->dst, strides, dilates, pad_l,
                                             pad_r);
      dnnl::deconvolution_forward::primitive_desc pd(desc, attr, engine());
      e->primitive = dnnl::deconvolution_forward(pd);
      weights = pd.weights_desc();
      e->scratchpad = pd.scratchpad_desc();
    }
    e->weights = weights;
    e->bias = bias;
    if (weights != e->user_weights) {
      // A user scratchpad keeps concurrent executions of one cached reorder independent.
      dnnl::reorder::primitive_desc rpd(engine(), e->user_weights, engine(), weights, attr);
      e->weights_reorder = std::make_shared<dnnl::reorder>(rpd);
      e->reorder_scratchpad = rpd.scratchpad_desc();
    }
    return e;
  }
  const auto alg = p.kind == Kind::kMaxPool          ? dnnl::algorithm::pooling_max
                   : p.kind == Kind::kAvgPoolInclude ? dnnl::algorithm::pooling_avg_include_padding
                                                     : dnnl::algorithm::pooling_avg_exclude_padding;
  dnnl::pooling_v2_forward::desc desc(fwd, alg, e->src, e->dst, strides, kernel, dilates, pad_l,
                                      pad_r);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, attr, engine());
  e->primitive = dnnl::pooling_v2_forward(pd);
  e->scratchpad = pd.scratchpad_desc();
  return e;
}

// The primitives of the problems seen, least recently used dropped first.
class Cache {
 public:
  std::shared_ptr<const Entry> get(const Problem& p) {
    return lru_.get(p.key(), [&] { return create(p); });
  }

 private:
  LruCache<Key, Entry, KeyHash> lru_{64};
};

Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

kiln_status* aligned_scratch(const Kernel& k, size_t bytes, void** out) {
  void* raw = nullptr;
  KILN_CPU_TRY(k.scratch(bytes + 64, &raw));
  const uintptr_t p = reinterpret_cast<uintptr_t>(raw);
  *out = reinterpret_cast<void*>((p + 63) & ~uintptr_t{63});
  return nullptr;
}

// Runs the problem on float32 buffers.
kiln_status* execute(const Kernel& k, const Problem& p, const float* src, const float* weights,
                     const float* bias, float* dst) {
  const auto e = cache().get(p);
  dnnl::engine& eng = engine();
#ifdef KILN_CPU_DNNL_OMP
  omp_set_num_threads(k.num_threads());  // per calling thread, as in kernels_matmul.cpp
#endif
  dnnl::stream stream(eng);
  void* pad = nullptr;
  if (e->scratchpad.get_size() > 0)
    KILN_CPU_TRY(aligned_scratch(k, e->scratchpad.get_size(), &pad));
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(e->src, eng, const_cast<float*>(src))},
      {DNNL_ARG_DST, dnnl::memory(e->dst, eng, dst)},
      {DNNL_ARG_SCRATCHPAD, dnnl::memory(e->scratchpad, eng, pad)}};
  if (weights != nullptr) {
    dnnl::memory user(e->user_weights, eng, const_cast<float*>(weights));
    if (e->weights_reorder) {
      void* packed = nullptr;
      KILN_CPU_TRY(aligned_scratch(k, e->weights.get_size(), &packed));
      dnnl::memory reordered(e->weights, eng, packed);
      void* reorder_pad = nullptr;
      const size_t reorder_pad_bytes = e->reorder_scratchpad.get_size();
      if (reorder_pad_bytes > 0) KILN_CPU_TRY(aligned_scratch(k, reorder_pad_bytes, &reorder_pad));
      e->weights_reorder->execute(
          stream, {{DNNL_ARG_FROM, user},
                   {DNNL_ARG_TO, reordered},
                   {DNNL_ARG_SCRATCHPAD, dnnl::memory(e->reorder_scratchpad, eng, reorder_pad)}});
      args.emplace(DNNL_ARG_WEIGHTS, reordered);
    } else {
      args.emplace(DNNL_ARG_WEIGHTS, user);
    }
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, dnnl::memory(e->bias, eng, const_cast<float*>(bias)));
    }
  }
  e->primitive.execute(stream, args);
  stream.wait();
  return nullptr;
}

// A float32 view of an input: the data itself, or a converted copy for the halves.
kiln_status* as_f32(const Kernel& k, const Tensor& t, const float** out) {
  if (t.dtype == KILN_DTYPE_FLOAT32) {
    *out = t.as<float>();
    return nullptr;
  }
  float* copy = nullptr;
  KILN_CPU_TRY(
      aligned_scratch(k, static_cast<size_t>(t.num_elements) * 4, reinterpret_cast<void**>(&copy)));
  if (t.dtype == KILN_DTYPE_FLOAT16) {
    to_float(t.as<f16>(), copy, t.num_elements);
  } else {
    to_float(t.as<bf16>(), copy, t.num_elements);
  }
  *out = copy;
  return nullptr;
}

// Spatial attribute `name`: one entry replicated or `count` entries; `fallback` when absent.
kiln_status* spatial_attr(const Kernel& k, const char* name, int count, int64_t fallback,
                          int64_t* out) {
  std::vector<int64_t> v;
  bool present = false;
  KILN_CPU_TRY(k.attr_ints(name, &v, &present));
  for (int i = 0; i < count; ++i) out[i] = fallback;
  if (!present) return nullptr;
  if (v.size() != 1 && v.size() != static_cast<size_t>(count)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "attribute '%s' has %zu entries, needs 1 or %d",
                   name, v.size(), count);
  }
  for (int i = 0; i < count; ++i) out[i] = v.size() == 1 ? v[0] : v[static_cast<size_t>(i)];
  return nullptr;
}

kiln_status* check_output(const Kernel& k, const Problem& p, const Tensor& y) {
  bool ok =
      y.rank == p.spatial + 2 && y.shape[0] == p.batch && y.shape[p.spatial + 1] == p.out_channels;
  for (int i = 0; ok && i < p.spatial; ++i) ok = y.shape[1 + i] == p.out[i];
  if (!ok) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output shape %s does not match the problem",
                   shape_string(y).c_str());
  }
  return nullptr;
}

// Runs `p` over tensors of any supported dtype: halves through float32 copies.
kiln_status* run(const Kernel& k, const Problem& p, const Tensor& x, const Tensor* w,
                 const Tensor* b, const Tensor& y) {
  const float* src = nullptr;
  const float* weights = nullptr;
  const float* bias = nullptr;
  KILN_CPU_TRY(as_f32(k, x, &src));
  if (w != nullptr) KILN_CPU_TRY(as_f32(k, *w, &weights));
  if (b != nullptr) KILN_CPU_TRY(as_f32(k, *b, &bias));
  float* dst = y.as<float>();
  if (y.dtype != KILN_DTYPE_FLOAT32) {
    KILN_CPU_TRY(aligned_scratch(k, static_cast<size_t>(y.num_elements) * 4,
                                 reinterpret_cast<void**>(&dst)));
  }
  KILN_CPU_TRY(execute(k, p, src, weights, bias, dst));
  if (y.dtype == KILN_DTYPE_FLOAT16) from_float(dst, y.as<f16>(), y.num_elements);
  if (y.dtype == KILN_DTYPE_BFLOAT16) from_float(dst, y.as<bf16>(), y.num_elements);
  return nullptr;
}

kiln_status* conv_body(Kernel& k, bool transpose) {
  Tensor x, w, b, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.input(1, &w));
  const bool has_bias = k.num_inputs() == 3;
  if (has_bias) KILN_CPU_TRY(k.input(2, &b));
  KILN_CPU_TRY(k.output(0, &y));
  Problem p;
  p.kind = transpose ? Kind::kDeconv : Kind::kConv;
  p.spatial = x.rank - 2;
  if ((p.spatial != 2 && p.spatial != 3) || w.rank != x.rank || w.dtype != x.dtype ||
      y.dtype != x.dtype || (has_bias && (b.dtype != x.dtype || b.rank != 1))) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operands: input %s %s, filter %s %s",
                   dtype_name(x.dtype), shape_string(x).c_str(), dtype_name(w.dtype),
                   shape_string(w).c_str());
  }
  const int s = p.spatial;
  p.batch = x.shape[0];
  p.in_channels = x.shape[s + 1];
  p.bias = has_bias;
  if (!transpose) KILN_CPU_TRY(k.attr_int("groups", 1, &p.groups));
  p.out_channels = transpose ? w.shape[s] : w.shape[s + 1];
  const int64_t filter_in = transpose ? w.shape[s + 1] : w.shape[s] * p.groups;
  if (p.groups < 1 || filter_in != p.in_channels || p.out_channels % p.groups != 0 ||
      (has_bias && b.shape[0] != p.out_channels)) {
    return k.error(
        KILN_STATUS_INVALID_ARGUMENT, "channels do not match: input %s, filter %s, groups %lld",
        shape_string(x).c_str(), shape_string(w).c_str(), static_cast<long long>(p.groups));
  }
  int64_t padding[6];
  KILN_CPU_TRY(spatial_attr(k, "stride", s, 1, p.stride));
  KILN_CPU_TRY(spatial_attr(k, "dilation", s, 1, p.dilation));
  KILN_CPU_TRY(spatial_attr(k, "padding", 2 * s, 0, padding));
  for (int i = 0; i < s; ++i) {
    p.in[i] = x.shape[1 + i];
    p.out[i] = y.shape[1 + i];
    p.kernel[i] = w.shape[i];
    p.pad_l[i] = padding[2 * i];
    p.pad_r[i] = padding[2 * i + 1];
  }
  KILN_CPU_TRY(check_output(k, p, y));
  if (y.num_elements == 0) return nullptr;
  if (x.num_elements == 0) {  // no input channels: every output row is the bias (or zeros)
    std::memset(y.data, 0, y.byte_size());
    const size_t row = static_cast<size_t>(p.out_channels) * y.element_size();
    for (int64_t r = 0; has_bias && r < y.num_elements / p.out_channels; ++r) {
      std::memcpy(static_cast<char*>(y.data) + static_cast<size_t>(r) * row, b.data, row);
    }
    return nullptr;
  }
  return run(k, p, x, &w, has_bias ? &b : nullptr, y);
}

// Number of taps of a window (start, kernel, dilation) that land in [lo, hi).
int64_t taps_within(int64_t start, int64_t kernel, int64_t dilation, int64_t lo, int64_t hi) {
  int64_t n = 0;
  for (int64_t t = 0; t < kernel; ++t) {
    const int64_t pos = start + t * dilation;
    n += pos >= lo && pos < hi;
  }
  return n;
}

kiln_status* pool_body(Kernel& k, bool average) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  if (x.rank != 4 || y.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad operand: input %s %s (needs NHWC)",
                   dtype_name(x.dtype), shape_string(x).c_str());
  }
  Problem p;
  p.spatial = 2;
  p.batch = x.shape[0];
  p.in_channels = p.out_channels = x.shape[3];
  int64_t padding[2];
  KILN_CPU_TRY(spatial_attr(k, "kernel_size", 2, 1, p.kernel));
  KILN_CPU_TRY(spatial_attr(k, "stride", 2, 1, p.stride));
  KILN_CPU_TRY(spatial_attr(k, "dilation", 2, 1, p.dilation));
  KILN_CPU_TRY(spatial_attr(k, "padding", 2, 0, padding));
  int64_t ceil_mode = 0, count_boundary = 1;
  KILN_CPU_TRY(k.attr_int("ceil_mode", 0, &ceil_mode));
  if (average) KILN_CPU_TRY(k.attr_int("count_boundary", 1, &count_boundary));
  bool extended = false;  // ceil mode added windows reaching past the right padding
  for (int i = 0; i < 2; ++i) {
    p.in[i] = x.shape[1 + i];
    p.out[i] = y.shape[1 + i];
    p.pad_l[i] = padding[i];
    const int64_t span = p.dilation[i] * (p.kernel[i] - 1) + 1;
    // oneDNN wants (in + pad_l + pad_r - span) / stride + 1 == out exactly.
    p.pad_r[i] = std::max(padding[i], (p.out[i] - 1) * p.stride[i] + span - p.in[i] - padding[i]);
    extended |= p.pad_r[i] > padding[i];
  }
  KILN_CPU_TRY(check_output(k, p, y));
  if (y.num_elements == 0) return nullptr;
  // Counting the boundary means counting the given padding but not the extra right padding of
  // ceil mode: average over the real taps, then rescale where the two differ.
  const bool rescale = average && count_boundary && extended;
  p.kind = !average                        ? Kind::kMaxPool
           : (count_boundary && !extended) ? Kind::kAvgPoolInclude
                                           : Kind::kAvgPoolExclude;
  KILN_CPU_TRY(run(k, p, x, nullptr, nullptr, y));
  if (!rescale) return nullptr;
  std::vector<float> factor_h(static_cast<size_t>(p.out[0])),
      factor_w(static_cast<size_t>(p.out[1]));
  for (int i = 0; i < 2; ++i) {
    float* f = i == 0 ? factor_h.data() : factor_w.data();
    for (int64_t o = 0; o < p.out[i]; ++o) {
      const int64_t start = o * p.stride[i] - p.pad_l[i];
      const int64_t real = taps_within(start, p.kernel[i], p.dilation[i], 0, p.in[i]);
      const int64_t padded =
          taps_within(start, p.kernel[i], p.dilation[i], -p.pad_l[i], p.in[i] + p.pad_l[i]);
      f[o] = padded > 0 ? static_cast<float>(real) / static_cast<float>(padded) : 0.0f;
    }
  }
  const int64_t rows = p.batch * p.out[0] * p.out[1];
  const int64_t c = p.out_channels;
  auto scale_rows = [&](auto* data) {
    parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1)), k.num_threads(),
                 [&](int64_t r0, int64_t r1) {
                   std::vector<float> buf(static_cast<size_t>(c));
                   for (int64_t r = r0; r < r1; ++r) {
                     const float f = factor_h[(r / p.out[1]) % p.out[0]] * factor_w[r % p.out[1]];
                     auto* row = data + r * c;
                     if constexpr (std::is_same_v<std::remove_pointer_t<decltype(row)>, float>) {
                       for (int64_t j = 0; j < c; ++j) row[j] *= f;
                     } else {
                       to_float(row, buf.data(), c);
                       for (int64_t j = 0; j < c; ++j) buf[j] *= f;
                       from_float(buf.data(), row, c);
                     }
                   }
                 });
  };
  if (y.dtype == KILN_DTYPE_FLOAT32) scale_rows(y.as<float>());
  if (y.dtype == KILN_DTYPE_FLOAT16) scale_rows(y.as<f16>());
  if (y.dtype == KILN_DTYPE_BFLOAT16) scale_rows(y.as<bf16>());
  return nullptr;
}

template <kiln_status* (*Body)(Kernel&, bool), bool Flag>
kiln_status* guarded(Kernel& k, const void*) {
  try {
    return Body(k, Flag);
  } catch (const dnnl::error& e) {
    const int32_t code = e.status == dnnl_out_of_memory   ? KILN_STATUS_RESOURCE_EXHAUSTED
                         : e.status == dnnl_unimplemented ? KILN_STATUS_UNIMPLEMENTED
                                                          : KILN_STATUS_INTERNAL;
    return k.error(code, "oneDNN: %s (status %d)", e.what(), static_cast<int>(e.status));
  }
}

const std::initializer_list<int32_t> kConvTypes = {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                                   KILN_DTYPE_BFLOAT16};

}  // namespace

kiln_status* register_conv_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(register_kernel(registrar, "conv2d", kConvTypes, 0,
                               kernel_entry<guarded<conv_body, false>>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "conv3d", kConvTypes, 0,
                               kernel_entry<guarded<conv_body, false>>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "conv2d_transpose", kConvTypes, 0,
                               kernel_entry<guarded<conv_body, true>>, nullptr));
  KILN_CPU_TRY(register_kernel(registrar, "max_pool2d", kConvTypes, 0,
                               kernel_entry<guarded<pool_body, false>>, nullptr));
  return register_kernel(registrar, "avg_pool2d", kConvTypes, 0,
                         kernel_entry<guarded<pool_body, true>>, nullptr);
}

}  // namespace kiln_cpu
