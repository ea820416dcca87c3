// Runs jobs on a WorkerPool and hands what each leaves for the loop thread back to it, in the order the jobs
// were submitted, whatever order the workers finish them in: the loop thread keeps the order of side effects
// while the CPU-bound part runs on every core.
#ifndef LIBP2P_BASE_OFFLOAD_QUEUE_H_
#define LIBP2P_BASE_OFFLOAD_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/worker_pool.h"

namespace libp2p {

class OffloadQueue {
 public:
  // What a job leaves for the loop thread; may be empty.
  using Continuation = std::function<void()>;
  // Runs on a worker (or on the loop thread, without a pool): it must not touch loop-thread state, and what it
  // and its continuation capture must be safe to destroy on any thread.
  using Job = std::function<Continuation()>;

  // `loop` is an observer that must outlive the queue. `pool` is an observer too, or null: then each job and
  // its continuation run inside Submit, on the caller's stack (deterministic, as on a manual loop). The loop
  // must outlive the pool's jobs: destroy the pool (which joins its workers) before the loop.
  OffloadQueue(EventLoop* loop, WorkerPool* pool);
  // Continuations not yet run never run; jobs still queued or running finish on their worker, unobserved.
  ~OffloadQueue();
  OffloadQueue(const OffloadQueue&) = delete;
  OffloadQueue& operator=(const OffloadQueue&) = delete;

  // Runs `job` on the pool; its continuation runs on the loop thread after those of every job submitted
  // before it. Loop thread only. The jobs of one loop turn go to the pool together as the turn ends (one
  // hand-over and few wake-ups for the many messages of a read).
  void Submit(Job job);

  // Jobs submitted whose continuation has not run yet.
  size_t in_flight() const { return in_flight_; }
  bool offloads() const { return pool_ != nullptr; }

 private:
  struct Shared;
  // Runs, on the loop thread, the continuations ready at the head of the order.
  static void Drain(const std::shared_ptr<Shared>& shared);

  EventLoop* const loop_;
  WorkerPool* const pool_;
  // Shared with the jobs, which may outlive the queue on their workers.
  std::shared_ptr<Shared> shared_;
  // This turn's jobs, handed to the pool by hand_over_ as the turn ends.
  std::vector<std::function<void()>> gathered_;
  std::unique_ptr<Task> hand_over_;
  uint64_t next_seq_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_OFFLOAD_QUEUE_H_
