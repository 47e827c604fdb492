// thread_pool.cpp: persistent workers, jobs claimed chunk by chunk through atomic counters.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln_cpu {

namespace {

// Enough chunks for load balance on many cores, few enough that claiming stays negligible.
constexpr int64_t kMaxChunks = 4096;
// A request for more threads than this is served with this many (runaway num_threads values).
constexpr int kMaxWorkers = 256;

struct Job {
  detail::RangeInvoker invoke = nullptr;
  void* fn = nullptr;
  int64_t n = 0;
  int64_t chunk = 0;
  int64_t num_chunks = 0;
  std::atomic<int64_t> next{0};
  // Guarded by Pool::mutex_.
  int max_helpers = 0;
  int helpers = 0;  // workers that joined
  int active = 0;   // workers still inside run_chunks
  bool queued = false;
  // First exception; later ones are dropped.
  std::atomic<bool> failed{false};
  std::exception_ptr error;

  bool exhausted() const { return next.load(std::memory_order_relaxed) >= num_chunks; }

  void run_chunks() {
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= num_chunks) return;
      const int64_t begin = c * chunk;
      const int64_t end = std::min(n, begin + chunk);
      try {
        invoke(fn, begin, end);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
        next.store(num_chunks, std::memory_order_relaxed);  // skip what nobody started
        return;
      }
    }
  }
};

class Pool {
 public:
  void run(Job& job, int num_threads) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job.max_helpers = std::min(num_threads - 1, kMaxWorkers);
      grow_locked(job.max_helpers);
      job.queued = true;
      jobs_.push_back(&job);
    }
    const int wake = static_cast<int>(std::min<int64_t>(job.max_helpers, job.num_chunks - 1));
    for (int i = 0; i < wake; ++i) work_cv_.notify_one();

    job.run_chunks();  // the caller works too, and takes whatever nobody has claimed

    std::unique_lock<std::mutex> lock(mutex_);
    dequeue_locked(job);  // no worker can join from now on
    done_cv_.wait(lock, [&] { return job.active == 0; });
    lock.unlock();
    if (job.error) std::rethrow_exception(job.error);
  }

  void shutdown() {
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      workers.swap(workers_);
    }
    work_cv_.notify_all();
    for (auto& t : workers) t.join();
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
  }

 private:
  void grow_locked(int wanted) {
    while (static_cast<int>(workers_.size()) < wanted) {
      try {
        workers_.emplace_back([this] { worker_loop(); });
      } catch (...) {
        return;  // no more threads to be had: the caller and existing workers do the work
      }
    }
  }

  void dequeue_locked(Job& job) {
    if (!job.queued) return;
    job.queued = false;
    jobs_.erase(std::find(jobs_.begin(), jobs_.end(), &job));
  }

  // A queued job that still has chunks and room for a helper; drops exhausted jobs on the way.
  Job* find_job_locked() {
    for (size_t i = 0; i < jobs_.size();) {
      Job* job = jobs_[i];
      if (job->exhausted()) {
        job->queued = false;
        jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      if (job->helpers < job->max_helpers) return job;
      ++i;
    }
    return nullptr;
  }

  void worker_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job* job = nullptr;
      work_cv_.wait(lock, [&] { return stop_ || (job = find_job_locked()) != nullptr; });
      if (stop_) return;
      ++job->helpers;
      ++job->active;
      lock.unlock();
      job->run_chunks();
      lock.lock();
      // The caller reads `active` under this mutex, so the job outlives this decrement.
      if (--job->active == 0) done_cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Job*> jobs_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

// Never destroyed: workers may still be parked in it while the process exits.
Pool& pool() {
  static Pool* instance = new Pool;
  return *instance;
}

}  // namespace

int64_t parallel_chunk_size(int64_t n, int64_t grain) {
  if (grain < 1) grain = 1;
  const int64_t spread = (n + kMaxChunks - 1) / kMaxChunks;
  return std::max(grain, spread);
}

int64_t parallel_chunk_count(int64_t n, int64_t grain) {
  if (n <= 0) return 0;
  const int64_t chunk = parallel_chunk_size(n, grain);
  return (n + chunk - 1) / chunk;
}

namespace detail {

void parallel_for_impl(int64_t n, int64_t grain, int num_threads, RangeInvoker invoke, void* fn) {
  Job job;
  job.invoke = invoke;
  job.fn = fn;
  job.n = n;
  job.chunk = parallel_chunk_size(n, grain);
  job.num_chunks = (n + job.chunk - 1) / job.chunk;
  if (job.num_chunks <= 1) {
    invoke(fn, 0, n);
    return;
  }
  pool().run(job, num_threads);
}

}  // namespace detail

void shutdown_thread_pool() { pool().shutdown(); }

}  // namespace kiln_cpu
