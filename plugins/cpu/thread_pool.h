// thread_pool.h: the CPU plugin's own worker pool and parallel_for.
//
// One process-wide pool of persistent workers, created on first use and grown on demand. Any
// number of threads may call parallel_for at once (several threads executing one model): each call
// posts a job whose chunks are claimed through an atomic counter, the calling thread claims chunks
// too, and it only ever waits for chunks a worker has already started — so a call finishes even
// when every worker is busy elsewhere, and never deadlocks (nested calls included).
//
// Chunk boundaries depend only on (n, grain), never on the thread count: a kernel that combines
// per-chunk partial results in chunk order is deterministic for every num_threads.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace kiln_cpu {

// Number of chunks parallel_for splits [0, n) into for a given grain (>= 1 when n > 0).
int64_t parallel_chunk_count(int64_t n, int64_t grain);
// Size of each chunk (the last one may be shorter).
int64_t parallel_chunk_size(int64_t n, int64_t grain);

namespace detail {
using RangeInvoker = void (*)(void* fn, int64_t begin, int64_t end);
void parallel_for_impl(int64_t n, int64_t grain, int num_threads, RangeInvoker invoke, void* fn);
}  // namespace detail

// Calls fn(begin, end) over disjoint chunks covering [0, n), on up to num_threads threads (the
// caller included). Runs inline when n <= grain or num_threads <= 1. An exception thrown by fn is
// rethrown in the caller after every started chunk has finished (remaining chunks are skipped).
template <class Fn>
void parallel_for(int64_t n, int64_t grain, int num_threads, Fn&& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (num_threads <= 1 || n <= grain) {
    fn(int64_t{0}, n);
    return;
  }
  using F = std::remove_reference_t<Fn>;
  detail::parallel_for_impl(
      n, grain, num_threads, [](void* f, int64_t b, int64_t e) { (*static_cast<F*>(f))(b, e); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// Joins the workers (plugin shutdown). Later parallel_for calls start new ones.
void shutdown_thread_pool();

}  // namespace kiln_cpu
