// A fixed set of worker threads that run jobs first in first out: where CPU-bound work that needs no protocol
// state (signature checks, thread-safe validators) leaves the loop thread. Results go back to the loop through
// OffloadQueue (offload_queue.h), which keeps their order.
#ifndef LIBP2P_BASE_WORKER_POOL_H_
#define LIBP2P_BASE_WORKER_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace libp2p {

class WorkerPool {
 public:
  // Starts `threads` workers (at least one; asserted).
  explicit WorkerPool(size_t threads);
  // Jobs still queued are destroyed without running (on the destroying thread); the destructor waits for
  // those running to return, then joins the workers. Must not be called from a job.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`, which runs on one of the workers. Safe to call from any thread. A job must not wait for
  // another job of the same pool (with every worker waiting, nothing would run).
  void Submit(std::function<void()> job);
  // Queues every job of `jobs` (left empty) at once, in order: one lock and as few wake-ups as there are
  // workers to wake, for callers that gather their jobs.
  void SubmitAll(std::vector<std::function<void()>>* jobs);

  size_t threads() const { return workers_.size(); }
  // Jobs queued and not yet started (a moment's reading, from any thread).
  size_t queued() const;

  // One worker per hardware thread, at least one.
  static size_t HardwareThreads();

 private:
  void Work();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  bool stopping_ = false;                   // Guarded by mu_.
  std::vector<std::thread> workers_;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_WORKER_POOL_H_
