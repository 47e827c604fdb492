// elementwise.cuh: the host-side broadcasting helpers elementwise.cu defines and the other
// elementwise families (math.cu) share.
#ifndef KILN_PLUGINS_GPU_ELEMENTWISE_CUH_
#define KILN_PLUGINS_GPU_ELEMENTWISE_CUH_

#include "dtype.cuh"
#include "kernel_call.h"

namespace kiln::gpu {

// The view that reads `in` broadcast to `out`'s shape (numpy rules), or an error naming the
// operand as `what`.
kiln_status* broadcast_view(const Call& call, const Operand& in, const Operand& out,
                            const char* what, Strided* view);
bool same_shape(const Operand& a, const Operand& b);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_ELEMENTWISE_CUH_
