// gemm.cu: matmul and kiln.fused_matmul (bias along the last dim, then an activation).
//
// Two engines behind one kernel entry:
//  - cuBLASLt (CUDA only), opened with dlopen at first use so the plugin loads without it. The
//    row-major product C = A·B is issued as the column-major Cᵀ = Bᵀ·Aᵀ; bias, relu and the tanh
//    GELU run as cuBLASLt epilogues, the other activations as one pass over C afterwards.
//  - kiln's own tiled GEMM (64x64 tiles, float32 accumulation, bias and activation applied while
//    the tile is in registers). ROCm always uses it (Debian ships no hipBLAS/rocBLAS); on CUDA it
//    is the fallback, and KILN_GPU_GEMM=own selects it so it can be checked against cuBLASLt.
// KILN_GPU_GEMM=cublaslt makes a missing cuBLASLt an error instead of a fallback; KILN_GPU_TF32=1
// lets float32 products use TF32 tensor cores. Batch dims broadcast as in MAX's matmul; 1-D
// operands are promoted.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#if !defined(KILN_GPU_HIP)
#include <cublasLt.h>
#include <dlfcn.h>
#endif

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

enum Activation : int32_t { kNone, kRelu, kGelu, kGeluTanh, kSigmoid, kTanh, kSilu };

__device__ inline float activate(int32_t act, float x) {
  switch (act) {
    case kRelu: return x > 0.0f ? x : (x != x ? x : 0.0f);
    case kGelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case kGeluTanh:
      return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case kSigmoid: return 1.0f / (1.0f + expf(-x));
    case kTanh: return tanhf(x);
    case kSilu: return x / (1.0f + expf(-x));
    default: return x;
  }
}

// ---- kiln's own GEMM --------------------------------------------------------------------------

constexpr int kTile = 64;    // output tile is kTile x kTile
constexpr int kDepth = 16;   // K step held in shared memory
constexpr int kThreads = 256;
constexpr int kPer = 4;      // each thread computes kPer x kPer outputs, strided by 16

// C[z] = act(A[a_batch(z)] · B[b_batch(z)] + bias); A is M x K, B is K x N, C is M x N, row-major.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    gemm_tiled(const T* a, const T* b, T* c, const T* bias, int64_t m, int64_t n, int64_t k,
               int64_t batches, Strided a_batch, Strided b_batch, int32_t act) {
  __shared__ float as[kDepth][kTile + 1];
  __shared__ float bs[kDepth][kTile + 1];
  const int tid = threadIdx.x;
  const int tx = tid % 16;
  const int ty = tid / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  for (int64_t z = blockIdx.z; z < batches; z += gridDim.z) {
    const T* az = a + a_batch.at(z) * m * k;
    const T* bz = b + b_batch.at(z) * k * n;
    T* cz = c + z * m * n;
    float acc[kPer][kPer] = {};
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      // 1024 elements of each tile, 4 per thread; A is read along K, B along N (coalesced).
      for (int e = tid; e < kTile * kDepth; e += kThreads) {
        const int r = e / kDepth;
        const int kk = e % kDepth;
        const int64_t gr = row0 + r;
        const int64_t gk = k0 + kk;
        as[kk][r] = (gr < m && gk < k) ? to_float(az[gr * k + gk]) : 0.0f;
        const int kb = e / kTile;
        const int cc = e % kTile;
        const int64_t gkb = k0 + kb;
        const int64_t gc = col0 + cc;
        bs[kb][cc] = (gkb < k && gc < n) ? to_float(bz[gkb * n + gc]) : 0.0f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kDepth; ++kk) {
        float av[kPer];
        float bv[kPer];
#pragma unroll
        for (int i = 0; i < kPer; ++i) av[i] = as[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < kPer; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < kPer; ++i) {
#pragma unroll
          for (int j = 0; j < kPer; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int64_t r = row0 + ty + 16 * i;
      if (r >= m) continue;
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int64_t col = col0 + tx + 16 * j;
        if (col >= n) continue;
        float v = acc[i][j];
        if (bias != nullptr) v += to_float(bias[col]);
        cz[r * n + col] = from_float<T>(activate(act, v));
      }
    }
  }
}

// c = act(c + bias) in place over rows of n, for what cuBLASLt's epilogues do not cover.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    bias_activation(T* c, const T* bias, int64_t total, int64_t n, int32_t act) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    float v = to_float(c[i]);
    if (bias != nullptr) v += to_float(bias[i % n]);
    c[i] = from_float<T>(activate(act, v));
  }
}

// The product's shape after 1-D promotion and batch broadcasting.
struct Problem {
  int64_t m = 0, n = 0, k = 0;
  int64_t batches = 1;
  Strided a_batch;  // batch index -> lhs matrix index
  Strided b_batch;  // batch index -> rhs matrix index
  bool a_uniform = true, b_uniform = true;  // batch index maps to itself or always to 0
  bool a_broadcast = false, b_broadcast = false;
};

kiln_status* plan(const Call& call, const Operand& lhs, const Operand& rhs, const Operand& out,
                  Problem* p) {
  if (lhs.rank < 1 || rhs.rank < 1) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "matmul operands need rank >= 1");
  }
  int64_t ls[kMaxRank + 1], rs[kMaxRank + 1];
  int lr = lhs.rank, rr = rhs.rank;
  std::copy(lhs.shape, lhs.shape + lr, ls);
  std::copy(rhs.shape, rhs.shape + rr, rs);
  if (lr == 1) {
    ls[1] = ls[0];
    ls[0] = 1;
    lr = 2;
  }
  if (rr == 1) {
    rs[1] = 1;
    rr = 2;
  }
  p->m = ls[lr - 2];
  p->k = ls[lr - 1];
  p->n = rs[rr - 1];
  if (rs[rr - 2] != p->k) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "lhs " + shape_string(lhs) + " and rhs " +
                                                        shape_string(rhs) +
                                                        " do not agree on K");
  }
  const int lb = lr - 2, rb = rr - 2;
  const int rank = std::max(lb, rb);
  int64_t a_stride = 1, b_stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    const int la = d - (rank - lb), ra = d - (rank - rb);
    const int64_t da = la >= 0 ? ls[la] : 1;
    const int64_t db = ra >= 0 ? rs[ra] : 1;
    if (da != db && da != 1 && db != 1) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "batch dims of lhs " + shape_string(lhs) +
                                                          " and rhs " + shape_string(rhs) +
                                                          " do not broadcast");
    }
    const int64_t dim = std::max(da, db);
    p->a_batch.shape[d] = p->b_batch.shape[d] = dim;
    p->a_batch.stride[d] = da == 1 ? 0 : a_stride;
    p->b_batch.stride[d] = db == 1 ? 0 : b_stride;
    a_stride *= da;
    b_stride *= db;
    p->batches *= dim;
  }
  p->a_batch.rank = p->b_batch.rank = rank;
  // Uniform: every batch reads its own matrix, or all read matrix 0 (one cuBLASLt stride).
  p->a_broadcast = a_stride == 1;
  p->b_broadcast = b_stride == 1;
  p->a_uniform = p->a_broadcast || a_stride == p->batches;
  p->b_uniform = p->b_broadcast || b_stride == p->batches;
  if (out.num_elements != p->batches * p->m * p->n || out.dtype != lhs.dtype ||
      rhs.dtype != lhs.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "output " + std::string(dtype_name(out.dtype)) + " " + shape_string(out) +
                          " does not match lhs " + dtype_name(lhs.dtype) + " " +
                          shape_string(lhs) + " times rhs " + dtype_name(rhs.dtype) + " " +
                          shape_string(rhs));
  }
  return nullptr;
}

kiln_status* run_own(Call& call, const Problem& p, const Operand& lhs, const Operand& rhs,
                     const Operand& out, const void* bias, int32_t act) {
  const dim3 grid(static_cast<unsigned>((p.n + kTile - 1) / kTile),
                  static_cast<unsigned>((p.m + kTile - 1) / kTile),
                  static_cast<unsigned>(std::min<int64_t>(p.batches, 65535)));
  if (grid.y > 65535) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, "M = " + std::to_string(p.m) +
                                                     " is beyond the own GEMM's grid");
  }
  const bool known = dispatch_float(lhs.dtype, [&](auto tag) {
    using T = decltype(tag);
    gemm_tiled<T><<<grid, kThreads, 0, call.stream()>>>(
        static_cast<const T*>(lhs.data), static_cast<const T*>(rhs.data),
        static_cast<T*>(out.data), static_cast<const T*>(bias), p.m, p.n, p.k, p.batches,
        p.a_batch, p.b_batch, act);
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU matmul for dtype ") + dtype_name(lhs.dtype));
  }
  return call.launched("gemm_tiled");
}

kiln_status* run_bias_activation(Call& call, const Operand& out, int64_t n, const void* bias,
                                 int32_t act) {
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  dispatch_float(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    bias_activation<T><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<T*>(out.data), static_cast<const T*>(bias), out.num_elements, n, act);
  });
  return call.launched("bias_activation");
}

// ---- cuBLASLt ---------------------------------------------------------------------------------

#if !defined(KILN_GPU_HIP)

// The cuBLASLt entry points, resolved from the toolkit's shared library at first use.
struct Lt {
  decltype(&cublasLtCreate) create;
  decltype(&cublasLtMatmulDescCreate) desc_create;
  decltype(&cublasLtMatmulDescDestroy) desc_destroy;
  decltype(&cublasLtMatmulDescSetAttribute) desc_set;
  decltype(&cublasLtMatrixLayoutCreate) layout_create;
  decltype(&cublasLtMatrixLayoutDestroy) layout_destroy;
  decltype(&cublasLtMatrixLayoutSetAttribute) layout_set;
  decltype(&cublasLtMatmulPreferenceCreate) pref_create;
  decltype(&cublasLtMatmulPreferenceDestroy) pref_destroy;
  decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic;
  decltype(&cublasLtMatmul) matmul;
  cublasLtHandle_t handle = nullptr;
  std::string error;  // why cuBLASLt is unusable; empty when loaded

  std::mutex cache_mutex;
  std::unordered_map<std::string, cublasLtMatmulAlgo_t> algos;
};

Lt& lt() {
  static Lt* const instance = [] {
    auto* l = new Lt();
    const char* names[] = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
    void* lib = nullptr;
    for (const char* name : names) {
      if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
    if (lib == nullptr) {
      const char* why = dlerror();
      l->error = std::string("cannot open libcublasLt (") + (why ? why : "not found") + ")";
      return l;
    }
    bool ok = true;
    const auto bind = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (fn == nullptr) {
        ok = false;
        l->error = std::string("libcublasLt lacks ") + symbol;
      }
    };
    bind(l->create, "cublasLtCreate");
    bind(l->desc_create, "cublasLtMatmulDescCreate");
    bind(l->desc_destroy, "cublasLtMatmulDescDestroy");
    bind(l->desc_set, "cublasLtMatmulDescSetAttribute");
    bind(l->layout_create, "cublasLtMatrixLayoutCreate");
    bind(l->layout_destroy, "cublasLtMatrixLayoutDestroy");
    bind(l->layout_set, "cublasLtMatrixLayoutSetAttribute");
    bind(l->pref_create, "cublasLtMatmulPreferenceCreate");
    bind(l->pref_destroy, "cublasLtMatmulPreferenceDestroy");
    bind(l->pref_set, "cublasLtMatmulPreferenceSetAttribute");
    bind(l->heuristic, "cublasLtMatmulAlgoGetHeuristic");
    bind(l->matmul, "cublasLtMatmul");
    if (ok) {
      const cublasStatus_t status = l->create(&l->handle);
      if (status != CUBLAS_STATUS_SUCCESS) {
        l->error = "cublasLtCreate failed with status " + std::to_string(status);
      }
    }
    return l;
  }();
  return *instance;
}

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// RAII for the descriptors of one call.
struct LtCall {
  Lt& l;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtCall() {
    if (pref) l.pref_destroy(pref);
    if (la) l.layout_destroy(la);
    if (lb) l.layout_destroy(lb);
    if (lc) l.layout_destroy(lc);
    if (desc) l.desc_destroy(desc);
  }
};

kiln_status* lt_failed(const Call& call, const char* what, cublasStatus_t status) {
  return call.error(status == CUBLAS_STATUS_ALLOC_FAILED ? KILN_STATUS_RESOURCE_EXHAUSTED
                                                         : KILN_STATUS_INTERNAL,
                    std::string(what) + " failed with cuBLAS status " + std::to_string(status));
}

#define KILN_LT_TRY(what, expr)                                 \
  do {                                                          \
    const cublasStatus_t kiln_lt_status_ = (expr);              \
    if (kiln_lt_status_ != CUBLAS_STATUS_SUCCESS) {             \
      return lt_failed(call, what, kiln_lt_status_);            \
    }                                                           \
  } while (0)

// Runs C = act(A·B + bias) through cuBLASLt; *handled false when the problem is not one strided
// batch (the caller falls back to the own GEMM).
kiln_status* run_lt(Call& call, Lt& l, const Problem& p, const Operand& lhs, const Operand& rhs,
                    const Operand& out, const void* bias, int32_t act, bool* handled) {
  *handled = false;
  if (!p.a_uniform || !p.b_uniform) return nullptr;
  cudaDataType_t type;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  switch (lhs.dtype) {
    case KILN_DTYPE_FLOAT32: {
      type = CUDA_R_32F;
      const char* tf32 = std::getenv("KILN_GPU_TF32");
      if (tf32 != nullptr && std::strcmp(tf32, "1") == 0) compute = CUBLAS_COMPUTE_32F_FAST_TF32;
      break;
    }
    case KILN_DTYPE_FLOAT16: type = CUDA_R_16F; break;
    case KILN_DTYPE_BFLOAT16: type = CUDA_R_16BF; break;
    default: return nullptr;
  }
  // A batch of lhs against one rhs is one tall product: fold the batch into M.
  int64_t m = p.m;
  int64_t batches = p.batches;
  if (p.b_broadcast && !p.a_broadcast) {
    m *= p.batches;
    batches = 1;
  }
  const int64_t stride_a = p.a_broadcast ? 0 : p.m * p.k;
  const int64_t stride_b = p.b_broadcast ? 0 : p.k * p.n;
  const int64_t stride_c = m * p.n;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  int32_t after = act;  // what still runs after the product
  const bool fuse_bias = bias != nullptr && batches == 1;
  if (act == kRelu) {
    epilogue = fuse_bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    after = kNone;
  } else if (act == kGeluTanh) {
    epilogue = fuse_bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    after = kNone;
  } else if (fuse_bias) {
    epilogue = CUBLASLT_EPILOGUE_BIAS;
  }
  if (bias != nullptr && !fuse_bias) {  // bias must precede the activation: do both after
    epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    after = act;
  }
  void* workspace = nullptr;
  KILN_GPU_CALL_TRY(call.scratch(kWorkspaceBytes, &workspace));

  LtCall c{l};
  KILN_LT_TRY("cublasLtMatmulDescCreate", l.desc_create(&c.desc, compute, CUDA_R_32F));
  KILN_LT_TRY("cublasLtMatmulDescSetAttribute",
              l.desc_set(c.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  if (epilogue == CUBLASLT_EPILOGUE_BIAS || epilogue == CUBLASLT_EPILOGUE_RELU_BIAS ||
      epilogue == CUBLASLT_EPILOGUE_GELU_BIAS) {
    KILN_LT_TRY("cublasLtMatmulDescSetAttribute",
                l.desc_set(c.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    KILN_LT_TRY("cublasLtMatmulDescSetAttribute",
                l.desc_set(c.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &type, sizeof(type)));
  }
  // Column-major view: Cᵀ (n x m) = Bᵀ (n x k) · Aᵀ (k x m).
  KILN_LT_TRY("cublasLtMatrixLayoutCreate",
              l.layout_create(&c.la, type, static_cast<uint64_t>(p.n), static_cast<uint64_t>(p.k),
                              p.n));
  KILN_LT_TRY("cublasLtMatrixLayoutCreate",
              l.layout_create(&c.lb, type, static_cast<uint64_t>(p.k), static_cast<uint64_t>(m),
                              p.k));
  KILN_LT_TRY("cublasLtMatrixLayoutCreate",
              l.layout_create(&c.lc, type, static_cast<uint64_t>(p.n), static_cast<uint64_t>(m),
                              p.n));
  if (batches > 1) {
    const int32_t count = static_cast<int32_t>(batches);
    const cublasLtMatrixLayout_t layouts[] = {c.la, c.lb, c.lc};
    const int64_t strides[] = {stride_b, stride_a, stride_c};
    for (int i = 0; i < 3; ++i) {
      KILN_LT_TRY("cublasLtMatrixLayoutSetAttribute",
                  l.layout_set(layouts[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                               sizeof(count)));
      KILN_LT_TRY("cublasLtMatrixLayoutSetAttribute",
                  l.layout_set(layouts[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                               &strides[i], sizeof(strides[i])));
    }
  }
  const std::string key = std::to_string(lhs.dtype) + ":" + std::to_string(compute) + ":" +
                          std::to_string(m) + "x" + std::to_string(p.n) + "x" +
                          std::to_string(p.k) + ":" + std::to_string(batches) + ":" +
                          std::to_string(stride_a) + ":" + std::to_string(stride_b) + ":" +
                          std::to_string(epilogue) + ":" + std::to_string(call.ordinal());
  cublasLtMatmulAlgo_t algo;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(l.cache_mutex);
    const auto it = l.algos.find(key);
    if (it != l.algos.end()) {
      algo = it->second;
      cached = true;
    }
  }
  if (!cached) {
    KILN_LT_TRY("cublasLtMatmulPreferenceCreate", l.pref_create(&c.pref));
    const uint64_t workspace_bytes = kWorkspaceBytes;
    KILN_LT_TRY("cublasLtMatmulPreferenceSetAttribute",
                l.pref_set(c.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                           sizeof(workspace_bytes)));
    cublasLtMatmulHeuristicResult_t result = {};
    int found = 0;
    KILN_LT_TRY("cublasLtMatmulAlgoGetHeuristic",
                l.heuristic(l.handle, c.desc, c.la, c.lb, c.lc, c.lc, c.pref, 1, &result, &found));
    if (found == 0) return nullptr;  // no cuBLASLt algorithm: the own GEMM serves it
    algo = result.algo;
    std::lock_guard<std::mutex> lock(l.cache_mutex);
    l.algos.emplace(key, algo);
  }
  const float alpha = 1.0f;
  const float beta = 0.0f;
  KILN_LT_TRY("cublasLtMatmul",
              l.matmul(l.handle, c.desc, &alpha, rhs.data, c.la, lhs.data, c.lb, &beta, out.data,
                       c.lc, out.data, c.lc, &algo, workspace, kWorkspaceBytes, call.stream()));
  *handled = true;
  if (after != kNone || (bias != nullptr && !fuse_bias)) {
    return run_bias_activation(call, out, p.n, fuse_bias ? nullptr : bias, after);
  }
  return nullptr;
}

#endif  // !KILN_GPU_HIP

kiln_status* matmul_common(Call& call, bool fused) {
  Operand lhs, rhs, out, bias;
  KILN_GPU_CALL_TRY(call.input(0, &lhs));
  KILN_GPU_CALL_TRY(call.input(1, &rhs));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  Problem p;
  KILN_GPU_CALL_TRY(plan(call, lhs, rhs, out, &p));
  const void* bias_data = nullptr;
  int32_t act = kNone;
  if (fused) {
    if (call.num_inputs() == 3) {
      KILN_GPU_CALL_TRY(call.input(2, &bias));
      if (bias.dtype != lhs.dtype || bias.num_elements != p.n) {
        return call.error(KILN_STATUS_INVALID_ARGUMENT, "bias " + shape_string(bias) +
                                                            " must be one dim of N = " +
                                                            std::to_string(p.n));
      }
      bias_data = bias.data;
    }
    std::string name;
    KILN_GPU_CALL_TRY(call.attr_string("activation", "none", &name));
    const char* names[] = {"none", "relu", "gelu", "gelu_tanh", "sigmoid", "tanh", "silu"};
    act = -1;
    for (int i = 0; i < 7; ++i) {
      if (name == names[i]) act = i;
    }
    if (act < 0) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT, "unknown activation '" + name + "'");
    }
  }
  if (out.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  if (p.k == 0) {  // an empty sum: C = act(bias) or 0
    const gpuError_t error = gpuMemsetAsync(out.data, 0, static_cast<size_t>(out.num_elements) *
                                                             dtype_size(out.dtype),
                                            call.stream());
    if (error != gpuSuccess) {
      return call_error(call.ordinal(), KILN_GPU_NAME(gpuMemsetAsync), error, call.where())
          .release();
    }
    return fused ? run_bias_activation(call, out, p.n, bias_data, act) : nullptr;
  }
  const char* engine = std::getenv("KILN_GPU_GEMM");
  const bool want_own = engine != nullptr && std::strcmp(engine, "own") == 0;
#if !defined(KILN_GPU_HIP)
  const bool need_lt = engine != nullptr && std::strcmp(engine, "cublaslt") == 0;
  if (!want_own) {
    Lt& l = lt();
    if (!l.error.empty()) {
      if (need_lt) {
        return call.error(KILN_STATUS_UNAVAILABLE, "KILN_GPU_GEMM=cublaslt, but " + l.error);
      }
    } else {
      bool handled = false;
      KILN_GPU_CALL_TRY(run_lt(call, l, p, lhs, rhs, out, bias_data, act, &handled));
      if (handled) return nullptr;
    }
  }
#else
  (void)want_own;
#endif
  return run_own(call, p, lhs, rhs, out, bias_data, act);
}

kiln_status* matmul_body(Call& call, const void*) { return matmul_common(call, false); }
kiln_status* fused_matmul_body(Call& call, const void*) { return matmul_common(call, true); }

}  // namespace

kiln_status* register_matmul_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                     Backend* backend) {
  static KernelInfo* info = new KernelInfo{backend, 0};
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "matmul", kGpuFloatTypes, 0,
                                        call_entry<matmul_body>, info));
  return register_gpu_kernel(host, registrar, "kiln.fused_matmul", kGpuFloatTypes, 0,
                             call_entry<fused_matmul_body>, info);
}

}  // namespace kiln::gpu
