#include "libp2p/base/manual_event_loop.h"

#include <poll.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <utility>

#include "libp2p/base/owned_callback.h"

namespace libp2p {

class ManualEventLoop::ManualTimer final : public Timer {
 public:
  ManualTimer(ManualEventLoop* loop, std::function<void()> callback) : loop_(loop), callback_(std::move(callback)) {}
  ~ManualTimer() override { Cancel(); }

  void Schedule(Duration delay) override {
    period_ = Duration::zero();
    loop_->ScheduleTimer(this, loop_->clock_.Now() + (delay < Duration::zero() ? Duration::zero() : delay));
  }
  void ScheduleRepeating(Duration period) override {
    assert(period > Duration::zero());
    if (period <= Duration::zero()) period = Duration(1);
    period_ = period;
    loop_->ScheduleTimer(this, loop_->clock_.Now() + period);
  }
  void Cancel() override { loop_->UnregisterTimer(this); }
  bool IsScheduled() const override { return heap_index_ != kNotScheduled; }

  // Called by the loop when this timer is due at `deadline`: reschedules a repeating timer (or unschedules a
  // one-shot), then runs the callback.
  void Fire(MonoTime deadline) {
    if (period_ > Duration::zero()) {
      loop_->ScheduleTimer(this, deadline + period_);
    } else {
      Cancel();
    }
    callback_.Run();
  }

 private:
  friend class ManualEventLoop;
  static constexpr size_t kNotScheduled = SIZE_MAX;
  ManualEventLoop* const loop_;
  OwnedCallback<> callback_;
  Duration period_ = Duration::zero();
  size_t heap_index_ = kNotScheduled;  // While scheduled: its entry's place in the loop's heap.
};

class ManualEventLoop::ManualFdWatcher final : public FdWatcher {
 public:
  ManualFdWatcher(ManualEventLoop* loop, uint64_t id, int fd, uint32_t interest,
                  std::function<void(uint32_t)> callback)
      : loop_(loop), id_(id), fd_(fd), interest_(interest), callback_(std::move(callback)) {}
  ~ManualFdWatcher() override { loop_->UnregisterWatcher(id_); }
  void SetInterest(uint32_t events) override { interest_ = events & (kFdReadable | kFdWritable); }
  uint32_t interest() const override { return interest_; }

  int fd() const { return fd_; }
  // Returns false when the callback destroyed the watcher.
  bool Dispatch(uint32_t ready) { return callback_.Run(ready); }

 private:
  ManualEventLoop* const loop_;
  const uint64_t id_;
  const int fd_;
  uint32_t interest_;
  OwnedCallback<uint32_t> callback_;
};

ManualEventLoop::ManualEventLoop() = default;
ManualEventLoop::ManualEventLoop(MonoTime start) : clock_(start) {}

ManualEventLoop::~ManualEventLoop() {
  // Queued closures may own timers and watchers of this loop.
  run_queue_.Clear();
  // Timers and watchers must be destroyed before the loop.
  assert(heap_.empty());
  assert(watchers_.empty());
}

void ManualEventLoop::Post(std::function<void()> fn) { run_queue_.Post(std::move(fn)); }

std::unique_ptr<Task> ManualEventLoop::CreateTask(std::function<void()> callback) {
  return run_queue_.CreateTask(std::move(callback));
}


std::unique_ptr<Timer> ManualEventLoop::CreateTimer(std::function<void()> callback) {
  return std::make_unique<ManualTimer>(this, std::move(callback));
}

std::unique_ptr<FdWatcher> ManualEventLoop::WatchFd(int fd, uint32_t interest,
                                                    std::function<void(uint32_t)> callback) {
  const uint64_t id = next_id_++;
  auto watcher = std::make_unique<ManualFdWatcher>(this, id, fd, interest, std::move(callback));
  watchers_.emplace(id, watcher.get());
  return watcher;
}

void ManualEventLoop::Place(const HeapEntry& entry, size_t index) {
  heap_[index] = entry;
  entry.timer->heap_index_ = index;
}

void ManualEventLoop::SiftUp(size_t index) {
  const HeapEntry entry = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / kHeapArity;
    if (!Before(entry, heap_[parent])) break;
    Place(heap_[parent], index);
    index = parent;
  }
  Place(entry, index);
}

void ManualEventLoop::SiftDown(size_t index) {
  const HeapEntry entry = heap_[index];
  for (;;) {
    const size_t first = kHeapArity * index + 1;
    if (first >= heap_.size()) break;
    size_t child = first;
    const size_t end = std::min(first + kHeapArity, heap_.size());
    for (size_t c = first + 1; c < end; ++c) {
      if (Before(heap_[c], heap_[child])) child = c;
    }
    if (!Before(heap_[child], entry)) break;
    Place(heap_[child], index);
    index = child;
  }
  Place(entry, index);
}

void ManualEventLoop::ScheduleTimer(ManualTimer* timer, MonoTime deadline) {
  const HeapEntry entry{deadline, next_sequence_++, timer};
  if (timer->heap_index_ == ManualTimer::kNotScheduled) {
    heap_.push_back(entry);
    timer->heap_index_ = heap_.size() - 1;
    SiftUp(timer->heap_index_);
  } else {
    // Moved: later in scheduling order, and earlier or later in time.
    heap_[timer->heap_index_] = entry;
    SiftUp(timer->heap_index_);
    SiftDown(timer->heap_index_);
  }
}

void ManualEventLoop::UnregisterTimer(ManualTimer* timer) {
  const size_t index = timer->heap_index_;
  if (index == ManualTimer::kNotScheduled) return;
  timer->heap_index_ = ManualTimer::kNotScheduled;
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;  // It was the last.
  Place(last, index);
  SiftUp(index);
  SiftDown(last.timer->heap_index_);
}

void ManualEventLoop::UnregisterWatcher(uint64_t id) { watchers_.erase(id); }

size_t ManualEventLoop::RunReadyFds() {
  if (watchers_.empty()) return 0;
  std::vector<pollfd> fds;
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : watchers_) {
    if (w->interest() == 0) continue;
    short events = 0;
    if (w->interest() & kFdReadable) events |= POLLIN;
    if (w->interest() & kFdWritable) events |= POLLOUT;
    fds.push_back(pollfd{w->fd(), events, 0});
    ids.push_back(id);
  }
  if (fds.empty() || ::poll(fds.data(), fds.size(), 0) <= 0) return 0;
  size_t ran = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    // A callback earlier in this round may have destroyed or paused this watcher.
    auto it = watchers_.find(ids[i]);
    if (it == watchers_.end()) continue;
    uint32_t ready = 0;
    // Errors and hang-ups are reported as readiness, so the owner's read or write observes them.
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ready |= kFdReadable;
    if (fds[i].revents & (POLLOUT | POLLERR)) ready |= kFdWritable;
    ready &= it->second->interest();
    if (ready == 0) continue;
    it->second->Dispatch(ready);
    ++ran;
  }
  return ran;
}

bool ManualEventLoop::RunDueTimer() {
  const HeapEntry* next = NextTimer();
  if (next == nullptr || next->deadline > clock_.Now()) return false;
  const HeapEntry due = *next;
  due.timer->Fire(due.deadline);
  return true;
}

size_t ManualEventLoop::RunUntilIdle() {
  size_t total = 0;
  for (;;) {
    // One batch of the run queue at a time, so work that re-posts itself cannot starve fds and timers.
    size_t ran = run_queue_.RunBatch();
    ran += RunReadyFds();
    ran += RunDueTimer() ? 1 : 0;
    if (ran == 0) return total;
    total += ran;
  }
}

bool ManualEventLoop::AdvanceToNextTimer() {
  const HeapEntry* next = NextTimer();
  if (next == nullptr) return false;
  clock_.AdvanceTo(next->deadline);
  RunUntilIdle();
  return true;
}

void ManualEventLoop::AdvanceTime(Duration d) {
  const MonoTime end = clock_.Now() + d;
  RunUntilIdle();
  for (;;) {
    const HeapEntry* next = NextTimer();
    if (next == nullptr || next->deadline > end) break;
    clock_.AdvanceTo(next->deadline);
    RunUntilIdle();
  }
  clock_.AdvanceTo(end);
  RunUntilIdle();
}

}  // namespace libp2p
