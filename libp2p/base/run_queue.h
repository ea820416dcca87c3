// The run queue both EventLoop implementations share: one first-in first-out queue of posted closures and
// task runs (see event_loop.h). Internal to the loops.
#ifndef LIBP2P_BASE_RUN_QUEUE_H_
#define LIBP2P_BASE_RUN_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "libp2p/base/event_loop.h"

namespace libp2p {

class RunQueue {
 public:
  // `wake` is called (outside the queue's lock, on the posting thread) whenever an entry is added to an empty
  // queue, so that the loop comes round to RunBatch(). It may be empty.
  explicit RunQueue(std::function<void()> wake);
  // Destroys what is still queued, without running it (Clear()). Every task must be gone by then.
  ~RunQueue();
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Thread-safe.
  void Post(std::function<void()> fn);
  // Loop thread only, as are the tasks' methods.
  std::unique_ptr<Task> CreateTask(std::function<void()> callback);

  // Runs the entries queued before this call, in order; entries queued meanwhile wait for the next batch, so
  // that work re-posting itself cannot starve timers and fds. Returns how many ran (cancelled task runs are
  // not counted).
  size_t RunBatch();
  // Destroys every queued closure without running it; closures destroyed this way may queue more, which are
  // destroyed too.
  void Clear();
  bool empty() const;

 private:
  class QueuedTask;
  struct Entry {
    std::function<void()> fn;  // A posted closure, or
    uint32_t slot = 0;         // a task run, valid while its slot's
    uint32_t generation = 0;   // generation still matches.
  };
  // A task's place in the table; a queued run names its slot and the generation it was queued under.
  // Cancelling or destroying the task moves the generation on, which voids the run.
  struct Slot {
    QueuedTask* task = nullptr;
    uint32_t generation = 0;
  };

  void Push(Entry entry);

  std::function<void()> wake_;
  mutable std::mutex mutex_;
  std::vector<Entry> queue_;  // Guarded by mutex_.
  // The vector the last batch ran from, emptied, for the next one to run from (loop thread only). One that
  // grew past kKeptBatchCapacity entries is freed instead.
  static constexpr size_t kKeptBatchCapacity = 1024;
  std::vector<Entry> spare_;
  std::vector<Slot> slots_;  // Loop thread only.
  std::vector<uint32_t> free_slots_;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_RUN_QUEUE_H_
