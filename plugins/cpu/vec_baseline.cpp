// vec_baseline.cpp: the portable build of vec_kernels.inc, and the run-time choice of variant.
#define KILN_VEC_NS vec_baseline
#define KILN_VEC_ISA_NAME "baseline"
#include <cstdlib>

#include "vec_kernels.inc"

namespace kiln_cpu {

const VecTable* vec_table_baseline() { return &vec_baseline::kTable; }

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

const VecTable& vec() {
  // KILN_CPU_BASELINE=1 forces the portable loops (to test them on an AVX2 machine).
  static const VecTable* chosen = [] {
    const char* force = std::getenv("KILN_CPU_BASELINE");
    if (force != nullptr && force[0] != '\0' && force[0] != '0') return vec_table_baseline();
    const VecTable* fast = vec_table_avx2();
    return fast != nullptr && cpu_has_avx2_fma() ? fast : vec_table_baseline();
  }();
  return *chosen;
}

}  // namespace kiln_cpu
