// kernels_matmul.cpp: matmul with MAX semantics (1-D operands promoted, batch dims broadcast).
// float32 runs on oneDNN (2-D products through dnnl_sgemm, batched ones through the matmul
// primitive); bfloat16/float16 run natively on oneDNN where this CPU has a kernel for them, else
// through float32 copies; float64, int32 and int64 use the blocked loops below.
// kiln.fused_matmul (the epilogue fusion pass's op) is float32 matmul with the bias add and the
// activation: after dnnl_sgemm one oneDNN pass over the output (binary add with an eltwise
// post-op), or as post-ops of the matmul primitive for batched products.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <dnnl.hpp>
#include <memory>
#include <string>
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
// dnnl_sgemm threads through the library's runtime except under a user threadpool (which needs
// dnnl_threadpool_interop_sgemm); there 2-D products stay on the matmul primitive.
#if DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_THREADPOOL
#define KILN_CPU_DNNL_SGEMM 1
#endif

namespace kiln_cpu {
namespace {

// ---- Shapes -----------------------------------------------------------------------------------

struct MatmulShape {
  int64_t m = 1, n = 1, k = 1;
  int batch_rank = 0;
  int64_t batch[kMaxRank] = {};
  int64_t lhs_batch[kMaxRank] = {};  // aligned to batch_rank, 1 where lhs has no such dim
  int64_t rhs_batch[kMaxRank] = {};
  int64_t batch_count = 1;
  int64_t lhs_batch_count = 1;
  int64_t rhs_batch_count = 1;
};

kiln_status* resolve_shape(const Kernel& kern, const Tensor& lhs, const Tensor& rhs,
                           const Tensor& out, MatmulShape* s) {
  if (lhs.rank < 1 || rhs.rank < 1) {
    return kern.error(KILN_STATUS_INVALID_ARGUMENT, "operands must have rank >= 1 (got %s and %s)",
                      shape_string(lhs).c_str(), shape_string(rhs).c_str());
  }
  const bool lhs_vec = lhs.rank == 1;
  const bool rhs_vec = rhs.rank == 1;
  s->m = lhs_vec ? 1 : lhs.shape[lhs.rank - 2];
  s->k = lhs.shape[lhs.rank - 1];
  const int64_t k2 = rhs_vec ? rhs.shape[0] : rhs.shape[rhs.rank - 2];
  s->n = rhs_vec ? 1 : rhs.shape[rhs.rank - 1];
  if (s->k != k2) {
    return kern.error(KILN_STATUS_INVALID_ARGUMENT, "K mismatch: lhs %s and rhs %s",
                      shape_string(lhs).c_str(), shape_string(rhs).c_str());
  }
  const int lb = lhs_vec ? 0 : lhs.rank - 2;
  const int rb = rhs_vec ? 0 : rhs.rank - 2;
  s->batch_rank = std::max(lb, rb);
  for (int d = 0; d < s->batch_rank; ++d) {
    const int li = d - (s->batch_rank - lb);
    const int ri = d - (s->batch_rank - rb);
    const int64_t l = li >= 0 ? lhs.shape[li] : 1;
    const int64_t r = ri >= 0 ? rhs.shape[ri] : 1;
    if (l != r && l != 1 && r != 1) {
      return kern.error(KILN_STATUS_INVALID_ARGUMENT, "batch dims of %s and %s do not broadcast",
                        shape_string(lhs).c_str(), shape_string(rhs).c_str());
    }
    s->lhs_batch[d] = l;
    s->rhs_batch[d] = r;
    s->batch[d] = l == 1 ? r : l;
    s->batch_count *= s->batch[d];
    s->lhs_batch_count *= l;
    s->rhs_batch_count *= r;
  }
  // Expected output: batch + [m if lhs is a matrix] + [n if rhs is a matrix].
  int64_t expected[kMaxRank + 2];
  int rank = 0;
  for (int d = 0; d < s->batch_rank; ++d) expected[rank++] = s->batch[d];
  if (!lhs_vec) expected[rank++] = s->m;
  if (!rhs_vec) expected[rank++] = s->n;
  bool ok = rank == out.rank;
  for (int d = 0; ok && d < rank; ++d) ok = expected[d] == out.shape[d];
  if (!ok) {
    return kern.error(KILN_STATUS_INVALID_ARGUMENT, "output shape %s, expected %s",
                      shape_string(out).c_str(), shape_string(expected, rank).c_str());
  }
  return nullptr;
}

// Element offsets (in matrices) of batch index b's lhs and rhs matrices under broadcasting.
void batch_offsets(const MatmulShape& s, int64_t b, int64_t* lhs_index, int64_t* rhs_index) {
  int64_t li = 0, ri = 0, lstride = 1, rstride = 1;
  for (int d = s.batch_rank - 1; d >= 0; --d) {
    const int64_t idx = b % s.batch[d];
    b /= s.batch[d];
    if (s.lhs_batch[d] != 1) li += idx * lstride;
    if (s.rhs_batch[d] != 1) ri += idx * rstride;
    lstride *= s.lhs_batch[d];
    rstride *= s.rhs_batch[d];
  }
  *lhs_index = li;
  *rhs_index = ri;
}

kiln_status* aligned_scratch(const Kernel& k, size_t bytes, void** out) {
  void* raw = nullptr;
  KILN_CPU_TRY(k.scratch(bytes + 64, &raw));
  const uintptr_t p = reinterpret_cast<uintptr_t>(raw);
  *out = reinterpret_cast<void*>((p + 63) & ~uintptr_t{63});
  return nullptr;
}

// ---- oneDNN -----------------------------------------------------------------------------------

dnnl::engine& dnnl_engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// The epilogue of a fused matmul: a bias of shape [N] and an elementwise activation.
enum class Activation : int { kNone, kRelu, kGelu, kGeluTanh, kSigmoid, kTanh, kSilu };

// One cached primitive: [B?, M, K] x [B?, K, N] -> [B?, M, N]; batch 0 means plain 2-D, and
// src_broadcast means the lhs batch is 1 (shared by every rhs matrix).
struct PrimitiveKey {
  dnnl::memory::data_type dt;
  int64_t m, n, k, batch;
  bool src_broadcast;
  bool bias = false;
  Activation activation = Activation::kNone;
  bool operator==(const PrimitiveKey& o) const {
    return dt == o.dt && m == o.m && n == o.n && k == o.k && batch == o.batch &&
           src_broadcast == o.src_broadcast && bias == o.bias && activation == o.activation;
  }
};

struct PrimitiveKeyHash {
  size_t operator()(const PrimitiveKey& key) const {
    uint64_t h = static_cast<uint64_t>(key.dt) * 0x9E3779B97F4A7C15ull;
    for (int64_t v : {key.m, key.n, key.k, key.batch, int64_t{key.src_broadcast}, int64_t{key.bias},
                      static_cast<int64_t>(key.activation)}) {
      h ^= static_cast<uint64_t>(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    }
    return static_cast<size_t>(h);
  }
};

struct PrimitiveEntry {
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights, bias, dst, scratchpad;
};

// The oneDNN post-op for an activation; false for kNone.
bool eltwise_of(Activation a, dnnl::algorithm* alg, float* alpha) {
  *alpha = 0.f;
  switch (a) {
    case Activation::kNone:
      return false;
    case Activation::kRelu:
      *alg = dnnl::algorithm::eltwise_relu;
      return true;
    case Activation::kGelu:
      *alg = dnnl::algorithm::eltwise_gelu_erf;
      return true;
    case Activation::kGeluTanh:
      *alg = dnnl::algorithm::eltwise_gelu_tanh;
      return true;
    case Activation::kSigmoid:
      *alg = dnnl::algorithm::eltwise_logistic;
      return true;
    case Activation::kTanh:
      *alg = dnnl::algorithm::eltwise_tanh;
      return true;
    case Activation::kSilu:  // x * sigmoid(alpha * x) with alpha 1
      *alg = dnnl::algorithm::eltwise_swish;
      *alpha = 1.f;
      return true;
  }
  return false;
}

// LRU cache of matmul primitives (lru_cache.h: created outside the lock, first insert wins).
class PrimitiveCache {
 public:
  // Null (with *unimplemented set) when oneDNN has no kernel for this key on this CPU.
  std::shared_ptr<const PrimitiveEntry> get(const PrimitiveKey& key, bool* unimplemented) {
    std::shared_ptr<const PrimitiveEntry> entry = lru_.get(key, [&] { return create(key); });
    *unimplemented = entry == nullptr;
    return entry;
  }

 private:
  static std::shared_ptr<const PrimitiveEntry> create(const PrimitiveKey& key) {
    using dims = dnnl::memory::dims;
    using tag = dnnl::memory::format_tag;
    dnnl::memory::desc src, wei, bias, dst;
    if (key.batch == 0) {
      src = dnnl::memory::desc(dims{key.m, key.k}, key.dt, tag::ab);
      wei = dnnl::memory::desc(dims{key.k, key.n}, key.dt, tag::ab);
      dst = dnnl::memory::desc(dims{key.m, key.n}, key.dt, tag::ab);
      if (key.bias) bias = dnnl::memory::desc(dims{1, key.n}, key.dt, tag::ab);
    } else {
      src = dnnl::memory::desc(dims{key.src_broadcast ? 1 : key.batch, key.m, key.k}, key.dt,
                               tag::abc);
      wei = dnnl::memory::desc(dims{key.batch, key.k, key.n}, key.dt, tag::abc);
      dst = dnnl::memory::desc(dims{key.batch, key.m, key.n}, key.dt, tag::abc);
      if (key.bias) bias = dnnl::memory::desc(dims{1, 1, key.n}, key.dt, tag::abc);
    }
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::algorithm alg{};
    float alpha = 0.f;
    if (eltwise_of(key.activation, &alg, &alpha)) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, alg, alpha, 0.f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::desc desc =
        key.bias ? dnnl::matmul::desc(src, wei, bias, dst) : dnnl::matmul::desc(src, wei, dst);
    dnnl::matmul::primitive_desc pd(desc, attr, dnnl_engine(), /*allow_empty=*/true);
    if (!pd) return nullptr;
    auto entry = std::make_shared<PrimitiveEntry>();
    entry->primitive = dnnl::matmul(pd);
    entry->src = pd.src_desc();
    entry->weights = pd.weights_desc();
    entry->bias = bias;
    entry->dst = pd.dst_desc();
    entry->scratchpad = pd.scratchpad_desc();
    return entry;
  }

  LruCache<PrimitiveKey, PrimitiveEntry, PrimitiveKeyHash> lru_{128};
};

PrimitiveCache& primitive_cache() {
  static PrimitiveCache* cache = new PrimitiveCache;
  return *cache;
}

void set_dnnl_threads(const Kernel& k) {
#ifdef KILN_CPU_DNNL_OMP
  // OpenMP's thread count is a per-thread setting: this sets it for the calling thread only, so
  // threads executing models concurrently each get their own session's count.
  omp_set_num_threads(k.num_threads());
#else
  (void)k;
#endif
}

// Runs one cached primitive. *unimplemented reports a key oneDNN cannot do here.
kiln_status* run_primitive(const Kernel& k, const PrimitiveKey& key, const void* a, const void* b,
                           void* c, bool* unimplemented, const void* bias = nullptr) {
  const auto entry = primitive_cache().get(key, unimplemented);
  if (!entry) return nullptr;
  dnnl::engine& engine = dnnl_engine();
  void* scratch = nullptr;
  const size_t scratch_bytes = entry->scratchpad.get_size();
  if (scratch_bytes > 0) KILN_CPU_TRY(aligned_scratch(k, scratch_bytes, &scratch));
  dnnl::memory src(entry->src, engine, const_cast<void*>(a));
  dnnl::memory wei(entry->weights, engine, const_cast<void*>(b));
  dnnl::memory dst(entry->dst, engine, c);
  dnnl::memory pad(entry->scratchpad, engine, scratch);
  set_dnnl_threads(k);
  dnnl::stream stream(engine);
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src},
                                                {DNNL_ARG_WEIGHTS, wei},
                                                {DNNL_ARG_DST, dst},
                                                {DNNL_ARG_SCRATCHPAD, pad}};
  if (key.bias) args[DNNL_ARG_BIAS] = dnnl::memory(entry->bias, engine, const_cast<void*>(bias));
  entry->primitive.execute(stream, args);
  stream.wait();
  return nullptr;
}

// ---- float32 2-D products: dnnl_sgemm and an epilogue pass ----------------------------------
//
// For plain row-major 2-D float32 operands, oneDNN 2.6's sgemm is faster than its matmul
// primitive at every shape measured (on a 2-core Xeon with AVX-512, 2 threads: 128x768 @ 768x3072
// 2.2 ms against 4.1 ms, 128x3072 @ 3072x768 2.3 against 2.6, 1024^3 7.1 against 8.2; small and
// GEMV shapes 1.5-4x), and it needs no primitive creation. The fused epilogue then runs as one
// more pass over the output, still in cache: bias add (a oneDNN binary primitive with the
// activation as its post-op) or the activation alone (an eltwise primitive).

struct EpilogueKey {
  int64_t rows, n;
  bool bias;
  Activation activation;
  bool operator==(const EpilogueKey& o) const {
    return rows == o.rows && n == o.n && bias == o.bias && activation == o.activation;
  }
};

struct EpilogueKeyHash {
  size_t operator()(const EpilogueKey& key) const {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int64_t v : {key.rows, key.n, int64_t{key.bias}, static_cast<int64_t>(key.activation)}) {
      h ^= static_cast<uint64_t>(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    }
    return static_cast<size_t>(h);
  }
};

struct EpilogueEntry {
  dnnl::primitive primitive;
  dnnl::memory::desc out, bias, scratchpad;
};

// LRU cache of epilogue primitives over a [rows, n] float32 output, applied in place.
class EpilogueCache {
 public:
  // Null when oneDNN has no such primitive here (the caller then uses matmul post-ops).
  std::shared_ptr<const EpilogueEntry> get(const EpilogueKey& key) {
    return lru_.get(key, [&] { return create(key); });
  }

 private:
  static std::shared_ptr<const EpilogueEntry> create(const EpilogueKey& key) {
    using dims = dnnl::memory::dims;
    using tag = dnnl::memory::format_tag;
    constexpr auto f32 = dnnl::memory::data_type::f32;
    auto entry = std::make_shared<EpilogueEntry>();
    entry->out = dnnl::memory::desc(dims{key.rows, key.n}, f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::algorithm alg{};
    float alpha = 0.f;
    const bool act = eltwise_of(key.activation, &alg, &alpha);
    if (key.bias) {
      entry->bias = dnnl::memory::desc(dims{1, key.n}, f32, tag::ab);
      if (act) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, alg, alpha, 0.f);
        attr.set_post_ops(ops);
      }
      dnnl::binary::primitive_desc pd(
          dnnl::binary::desc(dnnl::algorithm::binary_add, entry->out, entry->bias, entry->out),
          attr, dnnl_engine(), /*allow_empty=*/true);
      if (!pd) return nullptr;
      entry->primitive = dnnl::binary(pd);
      entry->scratchpad = pd.scratchpad_desc();
    } else {
      if (!act) return nullptr;  // nothing to do; callers do not ask
      dnnl::eltwise_forward::primitive_desc pd(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, alg, entry->out, alpha,
                                      0.f),
          attr, dnnl_engine(), /*allow_empty=*/true);
      if (!pd) return nullptr;
      entry->primitive = dnnl::eltwise_forward(pd);
      entry->scratchpad = pd.scratchpad_desc();
    }
    return entry;
  }

  LruCache<EpilogueKey, EpilogueEntry, EpilogueKeyHash> lru_{128};
};

EpilogueCache& epilogue_cache() {
  static EpilogueCache* cache = new EpilogueCache;
  return *cache;
}

// C[m x n] = A[m x k] * B[k x n] (+ bias, activation) for a 2-D float32 key. Returns with
// *handled false (nothing written) when the epilogue has no oneDNN primitive here.
kiln_status* run_sgemm(const Kernel& k, const PrimitiveKey& key, const void* a, const void* b,
                       void* c, const void* bias, bool* handled) {
  *handled = false;
  std::shared_ptr<const EpilogueEntry> epilogue;
  if (key.bias || key.activation != Activation::kNone) {
    epilogue = epilogue_cache().get(EpilogueKey{key.m, key.n, key.bias, key.activation});
    if (!epilogue) return nullptr;
  }
  set_dnnl_threads(k);
  const dnnl_status_t st =
      dnnl_sgemm('N', 'N', key.m, key.n, key.k, 1.f, static_cast<const float*>(a), key.k,
                 static_cast<const float*>(b), key.n, 0.f, static_cast<float*>(c), key.n);
  if (st != dnnl_success) {
    const int32_t code = st == dnnl_out_of_memory ? KILN_STATUS_RESOURCE_EXHAUSTED
                                                  : KILN_STATUS_INTERNAL;
    return k.error(code, "oneDNN: dnnl_sgemm(%lld x %lld x %lld) failed (status %d)",
                   static_cast<long long>(key.m), static_cast<long long>(key.k),
                   static_cast<long long>(key.n), static_cast<int>(st));
  }
  *handled = true;
  if (!epilogue) return nullptr;
  dnnl::engine& engine = dnnl_engine();
  void* scratch = nullptr;
  const size_t scratch_bytes = epilogue->scratchpad.get_size();
  if (scratch_bytes > 0) KILN_CPU_TRY(aligned_scratch(k, scratch_bytes, &scratch));
  dnnl::memory out(epilogue->out, engine, c);
  dnnl::memory pad(epilogue->scratchpad, engine, scratch);
  dnnl::stream stream(engine);
  if (key.bias) {
    dnnl::memory bias_mem(epilogue->bias, engine, const_cast<void*>(bias));
    epilogue->primitive.execute(stream, {{DNNL_ARG_SRC_0, out},
                                         {DNNL_ARG_SRC_1, bias_mem},
                                         {DNNL_ARG_DST, out},
                                         {DNNL_ARG_SCRATCHPAD, pad}});
  } else {
    epilogue->primitive.execute(
        stream, {{DNNL_ARG_SRC, out}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCRATCHPAD, pad}});
  }
  stream.wait();
  return nullptr;
}

// One product of `key`: float32 2-D through dnnl_sgemm where it can, else the primitive.
kiln_status* run_gemm(const Kernel& k, const PrimitiveKey& key, const void* a, const void* b,
                      void* c, bool* unimplemented, const void* bias) {
#ifdef KILN_CPU_DNNL_SGEMM
  if (key.batch == 0 && key.dt == dnnl::memory::data_type::f32) {
    bool handled = false;
    KILN_CPU_TRY(run_sgemm(k, key, a, b, c, bias, &handled));
    if (handled) {
      *unimplemented = false;
      return nullptr;
    }
  }
#endif
  return run_primitive(k, key, a, b, c, unimplemented, bias);
}

// All batches of one dtype through oneDNN, using the fewest primitive calls the broadcast allows.
// The epilogue (a bias of n elements, an activation) applies to every output row.
struct Epilogue {
  const void* bias = nullptr;
  Activation activation = Activation::kNone;
};

kiln_status* dnnl_matmul(const Kernel& k, const MatmulShape& s, dnnl::memory::data_type dt,
                         size_t esize, const void* a, const void* b, void* c, bool* unimplemented,
                         const Epilogue& epilogue = Epilogue()) {
  *unimplemented = false;
  const bool has_bias = epilogue.bias != nullptr;
  const void* bias = epilogue.bias;
  if (s.rhs_batch_count == 1) {
    // One weight matrix: fold every lhs batch into M for a single large GEMM.
    const PrimitiveKey key{dt,       s.batch_count * s.m, s.n, s.k, 0, false,
                           has_bias, epilogue.activation};
    return run_gemm(k, key, a, b, c, unimplemented, bias);
  }
  bool same_batch = true;
  for (int d = 0; d < s.batch_rank; ++d) same_batch &= s.lhs_batch[d] == s.rhs_batch[d];
  if (same_batch || s.lhs_batch_count == 1) {
    const PrimitiveKey key{
        dt, s.m, s.n, s.k, s.batch_count, !same_batch, has_bias, epilogue.activation};
    KILN_CPU_TRY(run_primitive(k, key, a, b, c, unimplemented, bias));
    if (!*unimplemented) return nullptr;
  }
  // Mixed broadcasting: one 2-D GEMM per output batch (oneDNN parallelizes each).
  const PrimitiveKey key{dt, s.m, s.n, s.k, 0, false, has_bias, epilogue.activation};
  const char* pa = static_cast<const char*>(a);
  const char* pb = static_cast<const char*>(b);
  char* pc = static_cast<char*>(c);
  for (int64_t bi = 0; bi < s.batch_count; ++bi) {
    int64_t li = 0, ri = 0;
    batch_offsets(s, bi, &li, &ri);
    KILN_CPU_TRY(run_gemm(k, key, pa + li * s.m * s.k * static_cast<int64_t>(esize),
                          pb + ri * s.k * s.n * static_cast<int64_t>(esize),
                          pc + bi * s.m * s.n * static_cast<int64_t>(esize), unimplemented,
                          bias));
    if (*unimplemented) return nullptr;
  }
  return nullptr;
}

// bf16/f16 through float32 copies (when oneDNN has no native kernel on this CPU).
template <class H>
kiln_status* half_via_f32(const Kernel& k, const MatmulShape& s, const H* a, const H* b, H* c) {
  const int64_t a_count = s.lhs_batch_count * s.m * s.k;
  const int64_t b_count = s.rhs_batch_count * s.k * s.n;
  const int64_t c_count = s.batch_count * s.m * s.n;
  float* fa = nullptr;
  float* fb = nullptr;
  float* fc = nullptr;
  KILN_CPU_TRY(aligned_scratch(k, static_cast<size_t>(a_count) * 4, reinterpret_cast<void**>(&fa)));
  KILN_CPU_TRY(aligned_scratch(k, static_cast<size_t>(b_count) * 4, reinterpret_cast<void**>(&fb)));
  KILN_CPU_TRY(aligned_scratch(k, static_cast<size_t>(c_count) * 4, reinterpret_cast<void**>(&fc)));
  const int threads = k.num_threads();
  constexpr int64_t kGrain = 32768;
  parallel_for(a_count, kGrain, threads,
               [&](int64_t x, int64_t y) { to_float(a + x, fa + x, y - x); });
  parallel_for(b_count, kGrain, threads,
               [&](int64_t x, int64_t y) { to_float(b + x, fb + x, y - x); });
  bool unimplemented = false;
  KILN_CPU_TRY(dnnl_matmul(k, s, dnnl::memory::data_type::f32, 4, fa, fb, fc, &unimplemented));
  if (unimplemented) {
    return k.error(KILN_STATUS_UNIMPLEMENTED, "oneDNN has no float32 matmul on this CPU");
  }
  parallel_for(c_count, kGrain, threads,
               [&](int64_t x, int64_t y) { from_float(fc + x, c + x, y - x); });
  return nullptr;
}

// ---- Own loops: float64, int32, int64 ---------------------------------------------------------

// C[rows x n] = A[rows x k] * B[k x n] (row-major, leading dims k, n, n). Integers accumulate in
// the unsigned type (two's complement wrap, no undefined overflow). Each C element sums over k in
// order, whatever the thread split, so results do not depend on the thread count.
template <class T, bool = std::is_integral_v<T>>
struct Accumulator {
  using type = T;
};
template <class T>
struct Accumulator<T, true> {
  using type = std::make_unsigned_t<T>;
};

template <class T>
void gemm_rows(const T* a, const T* b, T* c, int64_t rows, int64_t n, int64_t k) {
  using Acc = typename Accumulator<T>::type;
  constexpr int64_t kColBlock = 256;
  constexpr int64_t kDepthBlock = 128;
  Acc* cc = reinterpret_cast<Acc*>(c);
  std::fill(cc, cc + rows * n, Acc(0));
  for (int64_t j0 = 0; j0 < n; j0 += kColBlock) {
    const int64_t j1 = std::min(n, j0 + kColBlock);
    for (int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
      const int64_t p1 = std::min(k, p0 + kDepthBlock);
      int64_t i = 0;
      for (; i + 4 <= rows; i += 4) {  // four rows share each load of B
        Acc* c0 = cc + i * n;
        Acc* c1 = c0 + n;
        Acc* c2 = c1 + n;
        Acc* c3 = c2 + n;
        for (int64_t p = p0; p < p1; ++p) {
          const Acc a0 = static_cast<Acc>(a[i * k + p]);
          const Acc a1 = static_cast<Acc>(a[(i + 1) * k + p]);
          const Acc a2 = static_cast<Acc>(a[(i + 2) * k + p]);
          const Acc a3 = static_cast<Acc>(a[(i + 3) * k + p]);
          const T* brow = b + p * n;
          for (int64_t j = j0; j < j1; ++j) {
            const Acc bv = static_cast<Acc>(brow[j]);
            c0[j] += a0 * bv;
            c1[j] += a1 * bv;
            c2[j] += a2 * bv;
            c3[j] += a3 * bv;
          }
        }
      }
      for (; i < rows; ++i) {
        Acc* c0 = cc + i * n;
        for (int64_t p = p0; p < p1; ++p) {
          const Acc a0 = static_cast<Acc>(a[i * k + p]);
          const T* brow = b + p * n;
          for (int64_t j = j0; j < j1; ++j) c0[j] += a0 * static_cast<Acc>(brow[j]);
        }
      }
    }
  }
}

template <class T>
void loop_matmul(const MatmulShape& s, const T* a, const T* b, T* c, int threads) {
  constexpr int64_t kRowBlock = 16;
  const int64_t row_blocks = (s.m + kRowBlock - 1) / kRowBlock;
  const int64_t tasks = s.batch_count * row_blocks;
  const int64_t work_per_task = std::max<int64_t>(1, kRowBlock * s.n * s.k);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / work_per_task);
  parallel_for(tasks, grain, threads, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bi = t / row_blocks;
      const int64_t r0 = (t % row_blocks) * kRowBlock;
      const int64_t rows = std::min(kRowBlock, s.m - r0);
      int64_t li = 0, ri = 0;
      batch_offsets(s, bi, &li, &ri);
      gemm_rows(a + li * s.m * s.k + r0 * s.k, b + ri * s.k * s.n, c + bi * s.m * s.n + r0 * s.n,
                rows, s.n, s.k);
    }
  });
}

// ---- The kernel -------------------------------------------------------------------------------

std::atomic<bool> g_native_bf16_missing{false};
std::atomic<bool> g_native_f16_missing{false};

kiln_status* matmul_body(Kernel& k) {
  Tensor lhs, rhs, out;
  KILN_CPU_TRY(k.input(0, &lhs));
  KILN_CPU_TRY(k.input(1, &rhs));
  KILN_CPU_TRY(k.output(0, &out));
  if (lhs.dtype != rhs.dtype || out.dtype != lhs.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "dtypes differ: lhs %s, rhs %s, output %s",
                   dtype_name(lhs.dtype), dtype_name(rhs.dtype), dtype_name(out.dtype));
  }
  MatmulShape s;
  KILN_CPU_TRY(resolve_shape(k, lhs, rhs, out, &s));
  if (out.num_elements == 0) return nullptr;
  if (s.k == 0) {  // empty sums
    std::memset(out.data, 0, out.byte_size());
    return nullptr;
  }
  const int threads = k.num_threads();
  bool unimplemented = false;
  switch (lhs.dtype) {
    case KILN_DTYPE_FLOAT32:
      KILN_CPU_TRY(dnnl_matmul(k, s, dnnl::memory::data_type::f32, 4, lhs.data, rhs.data, out.data,
                               &unimplemented));
      if (unimplemented) {
        return k.error(KILN_STATUS_UNIMPLEMENTED, "oneDNN has no float32 matmul on this CPU");
      }
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
    case KILN_DTYPE_FLOAT16: {
      const bool bf = lhs.dtype == KILN_DTYPE_BFLOAT16;
      std::atomic<bool>& missing = bf ? g_native_bf16_missing : g_native_f16_missing;
      if (!missing.load(std::memory_order_relaxed)) {
        const auto dt = bf ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f16;
        KILN_CPU_TRY(dnnl_matmul(k, s, dt, 2, lhs.data, rhs.data, out.data, &unimplemented));
        if (!unimplemented) return nullptr;
        missing.store(true, std::memory_order_relaxed);
      }
      if (bf) return half_via_f32(k, s, lhs.as<bf16>(), rhs.as<bf16>(), out.as<bf16>());
      return half_via_f32(k, s, lhs.as<f16>(), rhs.as<f16>(), out.as<f16>());
    }
    case KILN_DTYPE_FLOAT64:
      loop_matmul(s, lhs.as<double>(), rhs.as<double>(), out.as<double>(), threads);
      return nullptr;
    case KILN_DTYPE_INT32:
      loop_matmul(s, lhs.as<int32_t>(), rhs.as<int32_t>(), out.as<int32_t>(), threads);
      return nullptr;
    case KILN_DTYPE_INT64:
      loop_matmul(s, lhs.as<int64_t>(), rhs.as<int64_t>(), out.as<int64_t>(), threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(lhs.dtype));
}

kiln_status* matmul_kernel(Kernel& k, const void*) {
  try {
    return matmul_body(k);
  } catch (const dnnl::error& e) {
    const int32_t code = e.status == dnnl_out_of_memory   ? KILN_STATUS_RESOURCE_EXHAUSTED
                         : e.status == dnnl_unimplemented ? KILN_STATUS_UNIMPLEMENTED
                                                          : KILN_STATUS_INTERNAL;
    return k.error(code, "oneDNN: %s (status %d)", e.what(), static_cast<int>(e.status));
  }
}

kiln_status* fused_matmul_body(Kernel& k) {
  Tensor lhs, rhs, bias, out;
  KILN_CPU_TRY(k.input(0, &lhs));
  KILN_CPU_TRY(k.input(1, &rhs));
  KILN_CPU_TRY(k.output(0, &out));
  const bool has_bias = k.num_inputs() == 3;
  if (has_bias) KILN_CPU_TRY(k.input(2, &bias));
  if (lhs.dtype != KILN_DTYPE_FLOAT32 || rhs.dtype != KILN_DTYPE_FLOAT32 ||
      out.dtype != KILN_DTYPE_FLOAT32 || (has_bias && bias.dtype != KILN_DTYPE_FLOAT32)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "needs float32 operands (lhs %s, rhs %s)",
                   dtype_name(lhs.dtype), dtype_name(rhs.dtype));
  }
  std::string name;
  KILN_CPU_TRY(k.attr_string("activation", "none", &name));
  static const std::pair<const char*, Activation> kActivations[] = {
      {"none", Activation::kNone},       {"relu", Activation::kRelu},
      {"gelu", Activation::kGelu},       {"gelu_tanh", Activation::kGeluTanh},
      {"sigmoid", Activation::kSigmoid}, {"tanh", Activation::kTanh},
      {"silu", Activation::kSilu}};
  Epilogue epilogue;
  bool known = false;
  for (const auto& [n, a] : kActivations) {
    if (name == n) {
      epilogue.activation = a;
      known = true;
    }
  }
  if (!known) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "unknown activation '%s'", name.c_str());
  }
  MatmulShape s;
  KILN_CPU_TRY(resolve_shape(k, lhs, rhs, out, &s));
  if (has_bias && (bias.rank != 1 || bias.shape[0] != s.n)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "bias %s must have shape [%lld]",
                   shape_string(bias).c_str(), static_cast<long long>(s.n));
  }
  if (out.num_elements == 0) return nullptr;
  epilogue.bias = has_bias ? bias.data : nullptr;
  bool unimplemented = false;
  if (s.k > 0) {
    KILN_CPU_TRY(dnnl_matmul(k, s, dnnl::memory::data_type::f32, 4, lhs.data, rhs.data, out.data,
                             &unimplemented, epilogue));
    if (unimplemented) {
      return k.error(KILN_STATUS_UNIMPLEMENTED,
                     "oneDNN has no float32 matmul with this epilogue on this CPU");
    }
    return nullptr;
  }
  // K == 0: the sums are empty, so each row is activation(bias) (oneDNN is not asked).
  const float* b = has_bias ? bias.as<float>() : nullptr;
  float* o = out.as<float>();
  for (int64_t i = 0; i < out.num_elements; ++i) {
    const float x = b ? b[i % s.n] : 0.f;
    float y = x;
    switch (epilogue.activation) {
      case Activation::kNone:
        break;
      case Activation::kRelu:
        y = x > 0.f ? x : 0.f;
        break;
      case Activation::kGelu:
        y = 0.5f * x * (1.f + std::erf(x * 0.70710678f));
        break;
      case Activation::kGeluTanh:
        y = 0.5f * x * (1.f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
        break;
      case Activation::kSigmoid:
        y = 1.f / (1.f + std::exp(-x));
        break;
      case Activation::kTanh:
        y = std::tanh(x);
        break;
      case Activation::kSilu:
        y = x / (1.f + std::exp(-x));
        break;
    }
    o[i] = y;
  }
  return nullptr;
}

kiln_status* fused_matmul_kernel(Kernel& k, const void*) {
  try {
    return fused_matmul_body(k);
  } catch (const dnnl::error& e) {
    const int32_t code = e.status == dnnl_out_of_memory   ? KILN_STATUS_RESOURCE_EXHAUSTED
                         : e.status == dnnl_unimplemented ? KILN_STATUS_UNIMPLEMENTED
                                                          : KILN_STATUS_INTERNAL;
    return k.error(code, "oneDNN: %s (status %d)", e.what(), static_cast<int>(e.status));
  }
}

}  // namespace

kiln_status* register_matmul_kernels(kiln_registrar* registrar) {
  KILN_CPU_TRY(register_kernel(registrar, "matmul", kArithmeticTypes, 0,
                               kernel_entry<matmul_kernel>, nullptr));
  return register_kernel(registrar, "kiln.fused_matmul", {KILN_DTYPE_FLOAT32}, 0,
                         kernel_entry<fused_matmul_kernel>, nullptr);
}

}  // namespace kiln_cpu
