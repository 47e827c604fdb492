// kernels.h: registration of the GPU plugin's kernel families, one call per source file. Every
// kernel is written once (plugins/gpu/*.cu) and compiled by nvcc for CUDA or hipcc for ROCm.
#ifndef KILN_PLUGINS_GPU_KERNELS_H_
#define KILN_PLUGINS_GPU_KERNELS_H_

#include "kiln/kiln_plugin.h"

namespace kiln::gpu {

class Backend;
class Call;

// add sub mul div pow max min equal greater, the unary math ops, gelu, cast, where.
kiln_status* register_elementwise_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                          Backend* backend);
// sum mean max min argmax argmin (one axis, kept), softmax, layer_norm.
kiln_status* register_reduction_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                        Backend* backend);
// reshape transpose permute broadcast_to slice_tensor concat gather.
kiln_status* register_layout_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                     Backend* backend);
// matmul: cuBLASLt where it loads (CUDA), else kiln's own tiled GEMM.
kiln_status* register_matmul_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                     Backend* backend);

// Elementwise math and logic beyond register_elementwise_kernels, scans (cumsum), logsoftmax
// (math.cu).
kiln_status* register_math_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                   Backend* backend);
// top_k, argsort (sort.cu).
kiln_status* register_sort_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                   Backend* backend);
// Data movement beyond register_layout_kernels: pad tile split stack repeat_interleave band_part
// range gather_nd scatter scatter_nd ... (movement.cu).
kiln_status* register_movement_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                       Backend* backend);
// dequantize and qmatmul for GGML's Q4_0, Q4_K, Q6_K and Q8_0 blocks (quant.cu).
kiln_status* register_quant_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                    Backend* backend);

// max/min with a single input are reductions; the elementwise kernel hands them over.
enum class ReduceCode { kSum, kMean, kMax, kMin, kArgmax, kArgmin };
kiln_status* run_reduction(Call& call, ReduceCode code);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_KERNELS_H_
