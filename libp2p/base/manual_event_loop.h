// An EventLoop on virtual time: nothing happens until the test (or simulation) runs it, and timers fire when
// the test advances time, in deadline order. Many nodes can share one ManualEventLoop and run
// deterministically in one thread.
#ifndef LIBP2P_BASE_MANUAL_EVENT_LOOP_H_
#define LIBP2P_BASE_MANUAL_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/run_queue.h"

namespace libp2p {

class ManualEventLoop final : public EventLoop {
 public:
  ManualEventLoop();
  explicit ManualEventLoop(MonoTime start);
  // Destroys the closures still queued first; timers, tasks and watchers must be gone then.
  ~ManualEventLoop() override;

  const Clock& clock() const override { return clock_; }
  void Post(std::function<void()> fn) override;
  std::unique_ptr<Task> CreateTask(std::function<void()> callback) override;
  std::unique_ptr<Timer> CreateTimer(std::function<void()> callback) override;
  // Fd readiness is checked with a zero-timeout poll() each time the loop runs, so real sockets (e.g. a
  // socketpair) work; virtual time does not wait for them.
  std::unique_ptr<FdWatcher> WatchFd(int fd, uint32_t interest,
                                     std::function<void(uint32_t ready)> callback) override;
  bool virtual_time() const override { return true; }

  // Runs the run queue (posted closures, tasks), ready fds and timers due at the current time
  // until none is left, without moving time. Returns the number of callbacks run. Work that keeps re-posting itself keeps this running.
  size_t RunUntilIdle();

  // Moves time forward by `d`, stopping at each timer deadline on the way (in deadline order, ties in
  // scheduling order) to fire it and run everything that became ready.
  void AdvanceTime(Duration d);

  // Moves time to the earliest timer deadline and runs to idle there. Returns false, leaving time unchanged,
  // when no timer is scheduled.
  bool AdvanceToNextTimer();

  // Timers currently scheduled.
  size_t scheduled_timers() const { return heap_.size(); }

 private:
  class ManualTimer;
  class ManualFdWatcher;
  // Helpers for the timer and watcher classes.
  void ScheduleTimer(ManualTimer* timer, MonoTime deadline);
  void UnregisterTimer(ManualTimer* timer);
  void UnregisterWatcher(uint64_t id);
  size_t RunReadyFds();
  bool RunDueTimer();
  // A scheduled timer in the heap, with its key inline (comparisons touch the heap only).
  struct HeapEntry {
    MonoTime deadline;
    uint64_t sequence;  // Scheduling order: breaks ties between equal deadlines.
    ManualTimer* timer;
  };
  // The entry of the timer due first (earliest deadline, ties in scheduling order), or nullptr.
  const HeapEntry* NextTimer() const { return heap_.empty() ? nullptr : &heap_.front(); }
  // Heap upkeep: each scheduled timer knows its index in heap_.
  static bool Before(const HeapEntry& a, const HeapEntry& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence;
  }
  void Place(const HeapEntry& entry, size_t index);
  void SiftUp(size_t index);
  void SiftDown(size_t index);

  ManualClock clock_;

  uint64_t next_id_ = 1;
  uint64_t next_sequence_ = 0;
  // The scheduled timers, a 4-ary min-heap on (deadline, scheduling order): half the levels of a binary
  // one, so fewer timers to touch (each moved entry updates its timer's index). A timer leaves it when
  // cancelled or destroyed, so it never holds a stale entry.
  static constexpr size_t kHeapArity = 4;
  std::vector<HeapEntry> heap_;
  std::unordered_map<uint64_t, ManualFdWatcher*> watchers_;
  RunQueue run_queue_{nullptr};  // Declared last: destroyed first.
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_MANUAL_EVENT_LOOP_H_
