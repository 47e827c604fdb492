// nonzero: the one kernel whose output size is known only after reading its input; it sets the
// output shape through the host (ctx_set_output_shape) before writing the indices.
#include <cstring>

#include "host.h"
#include "kernels.h"

namespace kiln_cpu {
namespace {

// Nonzero test on the raw element: floats ignore the sign bit (-0.0 is zero; NaN is not), other
// dtypes are nonzero when any byte is.
bool element_is_nonzero(const uint8_t* p, int32_t dtype, size_t size) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT16:
    case KILN_DTYPE_BFLOAT16: {
      uint16_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return (bits & 0x7FFFu) != 0;
    }
    case KILN_DTYPE_FLOAT32: {
      uint32_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return (bits & 0x7FFFFFFFu) != 0;
    }
    case KILN_DTYPE_FLOAT64: {
      uint64_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return (bits & 0x7FFFFFFFFFFFFFFFull) != 0;
    }
    default:
      for (size_t i = 0; i < size; ++i)
        if (p[i] != 0) return true;
      return false;
  }
}

kiln_status* nonzero_kernel(Kernel& k, const void*) {
  Tensor x;
  KILN_CPU_TRY(k.input(0, &x));
  const size_t size = x.element_size();
  const auto* bytes = x.as<const uint8_t>();
  int64_t count = 0;
  for (int64_t i = 0; i < x.num_elements; ++i)
    if (element_is_nonzero(bytes + static_cast<size_t>(i) * size, x.dtype, size)) ++count;
  const int64_t shape[2] = {count, x.rank};
  kiln_status* set = g_host->ctx_set_output_shape(k.raw(), 0, shape, 2);
  if (set != nullptr) {
    release_status(set);
    return k.error(KILN_STATUS_INVALID_ARGUMENT,
                   "the input has %lld nonzero elements, which does not match attribute "
                   "'out_dim'",
                   static_cast<long long>(count));
  }
  Tensor out;
  KILN_CPU_TRY(k.output(0, &out));
  int64_t* dst = out.as<int64_t>();
  int64_t index[kMaxRank] = {};  // the multi-index of element i, advanced in row-major order
  for (int64_t i = 0; i < x.num_elements; ++i) {
    if (element_is_nonzero(bytes + static_cast<size_t>(i) * size, x.dtype, size)) {
      for (int d = 0; d < x.rank; ++d) *dst++ = index[d];
    }
    for (int d = x.rank - 1; d >= 0; --d) {
      if (++index[d] < x.shape[d]) break;
      index[d] = 0;
    }
  }
  return nullptr;
}

}  // namespace

kiln_status* register_misc_kernels(kiln_registrar* registrar) {
  return register_kernel(registrar, "nonzero", kNumericOrBoolTypes, 0, kernel_entry<nonzero_kernel>,
                         nullptr);
}

}  // namespace kiln_cpu
