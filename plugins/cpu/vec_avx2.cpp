// vec_avx2.cpp: vec_kernels.inc compiled with -mavx2 -mfma -mf16c (see CMakeLists.txt). Only
// called after vec() has checked the CPU; nothing else in the plugin is built with these flags.
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define KILN_VEC_NS vec_avx2
#define KILN_VEC_ISA_NAME "avx2"
#include "vec_kernels.inc"

namespace kiln_cpu {
const VecTable* vec_table_avx2() { return &vec_avx2::kTable; }
}  // namespace kiln_cpu
#else
#include "vec.h"
namespace kiln_cpu {
const VecTable* vec_table_avx2() { return nullptr; }
}  // namespace kiln_cpu
#endif
