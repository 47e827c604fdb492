// strided_copy.h: layout.cu's strided element copy, shared with the other kernel families that
// only move elements (movement.cu).
#ifndef KILN_PLUGINS_GPU_STRIDED_COPY_H_
#define KILN_PLUGINS_GPU_STRIDED_COPY_H_

#include <cstddef>
#include <cstdint>

#include "dtype.cuh"
#include "kernel_call.h"

namespace kiln::gpu {

// A view that walks a contiguous tensor of `shape` in order.
Strided contiguous_view(const int64_t* shape, int rank);

// dst[dst_view.at(i)] = src[src_view.at(i)] for i < n, by element size (1, 2, 4 or 8 bytes);
// enqueued on the call's stream (begin() is called here). n == 0 enqueues nothing.
kiln_status* launch_copy(Call& call, size_t element_size, const void* src, void* dst, int64_t n,
                         const Strided& src_view, const Strided& dst_view);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_STRIDED_COPY_H_
