// kernels.h: kernel registration — one call per op family, each in its own kernels_*.cpp.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "kiln/kiln_plugin.h"

namespace kiln_cpu {

// Dtype lists shared by the families.
extern const std::initializer_list<int32_t> kFloatTypes;       // f32 f16 bf16 f64
extern const std::initializer_list<int32_t> kArithmeticTypes;  // floats + i32 i64
extern const std::initializer_list<int32_t> kCastTypes;        // all but the fnuz float8s
extern const std::initializer_list<int32_t> kIntegerTypes;     // i8..i64, u8..u64
extern const std::initializer_list<int32_t> kNumericTypes;     // floats + kIntegerTypes
extern const std::initializer_list<int32_t> kNumericOrBoolTypes;  // kNumericTypes + bool

// Registers kernel "cpu.<op>" for `op` on the "cpu" device. An empty dtype list means any dtype.
kiln_status* register_kernel(kiln_registrar* registrar, const char* op,
                             std::initializer_list<int32_t> dtypes, int32_t dtype_source,
                             kiln_kernel_fn fn, const void* user_data);

kiln_status* register_elementwise_kernels(kiln_registrar* registrar);  // binary, unary, where
kiln_status* register_cast_kernels(kiln_registrar* registrar);
kiln_status* register_matmul_kernels(kiln_registrar* registrar);
kiln_status* register_layout_kernels(
    kiln_registrar* registrar);  // reshape .. slice, concat, gather
kiln_status* register_index_kernels(kiln_registrar* registrar);  // gather_nd scatter*
kiln_status* register_reduction_kernels(kiln_registrar* registrar);      // sum mean max min argmax
kiln_status* register_normalization_kernels(kiln_registrar* registrar);  // (log)softmax, layer_norm
kiln_status* register_conv_kernels(kiln_registrar* registrar);    // conv2d/3d, transpose, pools
kiln_status* register_signal_kernels(kiln_registrar* registrar);  // irfft, resize, hann_window, ...
kiln_status* register_quant_kernels(kiln_registrar* registrar);   // dequantize, qmatmul
kiln_status* register_sort_kernels(kiln_registrar* registrar);           // top_k, argsort
kiln_status* register_misc_kernels(kiln_registrar* registrar);  // nonzero

class Kernel;

// The reductions (kernels_reduce.cpp); max and min with one input come here from the elementwise
// kernel, which owns the op names.
enum class ReduceOp { kSum, kMean, kMax, kMin, kArgmax, kArgmin };
kiln_status* run_reduction(Kernel& kernel, ReduceOp op);

// Number of kernels registered so far (for the initialization log line).
int registered_kernel_count();

}  // namespace kiln_cpu
