#include "libp2p/base/manual_event_loop.h"

#include "libp2p/base/owned_callback.h"

#include <poll.h>

#include <cassert>
#include <utility>

namespace libp2p {

class ManualEventLoop::ManualTimer final : public Timer {
 public:
  ManualTimer(ManualEventLoop* loop, uint64_t id, std::function<void()> callback)
      : loop_(loop), id_(id), callback_(std::move(callback)) {}
  ~ManualTimer() override { Cancel(); }

  void Schedule(Duration delay) override {
    period_ = Duration::zero();
    Arm(loop_->clock_.Now() + (delay < Duration::zero() ? Duration::zero() : delay));
  }
  void ScheduleRepeating(Duration period) override {
    assert(period > Duration::zero());
    if (period <= Duration::zero()) period = Duration(1);
    period_ = period;
    Arm(loop_->clock_.Now() + period);
  }
  void Cancel() override {
    if (!scheduled_) return;
    scheduled_ = false;
    ++generation_;
    loop_->UnregisterTimer(id_);
  }
  bool IsScheduled() const override { return scheduled_; }

  uint64_t generation() const { return generation_; }

  // Called by the loop when this timer's live heap entry reaches the top at its deadline.
  void Fire(MonoTime deadline) {
    if (period_ > Duration::zero()) {
      Arm(deadline + period_);
    } else {
      Cancel();
    }
    callback_.Run();
  }

 private:
  void Arm(MonoTime deadline) {
    ++generation_;
    scheduled_ = true;
    loop_->ScheduleTimer(this, deadline);
  }

  friend class ManualEventLoop;
  ManualEventLoop* const loop_;
  const uint64_t id_;
  OwnedCallback<> callback_;
  Duration period_ = Duration::zero();
  bool scheduled_ = false;
  uint64_t generation_ = 0;
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
  assert(timers_.empty());
  assert(watchers_.empty());
}

void ManualEventLoop::Post(std::function<void()> fn) { run_queue_.Post(std::move(fn)); }

std::unique_ptr<Task> ManualEventLoop::CreateTask(std::function<void()> callback) {
  return run_queue_.CreateTask(std::move(callback));
}


std::unique_ptr<Timer> ManualEventLoop::CreateTimer(std::function<void()> callback) {
  return std::make_unique<ManualTimer>(this, next_id_++, std::move(callback));
}

std::unique_ptr<FdWatcher> ManualEventLoop::WatchFd(int fd, uint32_t interest,
                                                    std::function<void(uint32_t)> callback) {
  const uint64_t id = next_id_++;
  auto watcher = std::make_unique<ManualFdWatcher>(this, id, fd, interest, std::move(callback));
  watchers_.emplace(id, watcher.get());
  return watcher;
}

void ManualEventLoop::ScheduleTimer(ManualTimer* timer, MonoTime deadline) {
  timers_[timer->id_] = timer;
  heap_.push(TimerEntry{deadline, next_sequence_++, timer->id_, timer->generation()});
}

void ManualEventLoop::UnregisterTimer(uint64_t id) { timers_.erase(id); }

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

const ManualEventLoop::TimerEntry* ManualEventLoop::PeekLiveTimer() {
  while (!heap_.empty()) {
    const TimerEntry& top = heap_.top();
    auto it = timers_.find(top.timer_id);
    if (it != timers_.end() && it->second->generation() == top.generation) return &top;
    heap_.pop();
  }
  return nullptr;
}

bool ManualEventLoop::RunDueTimer() {
  const TimerEntry* entry = PeekLiveTimer();
  if (entry == nullptr || entry->deadline > clock_.Now()) return false;
  const TimerEntry due = *entry;
  heap_.pop();
  timers_.at(due.timer_id)->Fire(due.deadline);
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
  const TimerEntry* entry = PeekLiveTimer();
  if (entry == nullptr) return false;
  clock_.AdvanceTo(entry->deadline);
  RunUntilIdle();
  return true;
}

void ManualEventLoop::AdvanceTime(Duration d) {
  const MonoTime end = clock_.Now() + d;
  RunUntilIdle();
  for (;;) {
    const TimerEntry* entry = PeekLiveTimer();
    if (entry == nullptr || entry->deadline > end) break;
    clock_.AdvanceTo(entry->deadline);
    RunUntilIdle();
  }
  clock_.AdvanceTo(end);
  RunUntilIdle();
}

}  // namespace libp2p
