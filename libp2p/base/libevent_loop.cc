#include "libp2p/base/libevent_loop.h"

#include "libp2p/base/owned_callback.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

namespace libp2p {
namespace {

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return tv;
}

}  // namespace

void LibeventLoop::EventDeleter::operator()(event* ev) const {
  if (ev != nullptr) event_free(ev);  // event_free also removes a pending or active event.
}

class LibeventLoop::LibeventTimer final : public Timer {
 public:
  LibeventTimer(event_base* base, std::function<void()> callback) : callback_(std::move(callback)) {
    ev_.reset(event_new(base, -1, 0, &LibeventTimer::OnFire, this));
    assert(ev_ != nullptr);
  }

  void Schedule(Duration delay) override {
    event_del(ev_.get());
    periodic_ = false;
    const timeval tv = ToTimeval(delay);
    event_add(ev_.get(), &tv);
  }
  void ScheduleRepeating(Duration period) override {
    assert(period > Duration::zero());
    if (period <= Duration::zero()) period = Duration(1000);
    event_del(ev_.get());
    periodic_ = true;
    period_ = period;
    const timeval tv = ToTimeval(period);
    event_add(ev_.get(), &tv);
  }
  void Cancel() override {
    // Removes the event whether pending or already active (due, with its callback not yet run).
    event_del(ev_.get());
    periodic_ = false;
  }
  bool IsScheduled() const override {
    return event_pending(ev_.get(), EV_TIMEOUT, nullptr) != 0;
  }

 private:
  static void OnFire(int, short, void* arg) {
    auto* self = static_cast<LibeventTimer*>(arg);
    if (self->periodic_) {
      // Re-armed before the callback, so the callback may cancel or re-schedule it.
      const timeval tv = ToTimeval(self->period_);
      event_add(self->ev_.get(), &tv);
    }
    self->callback_.Run();
  }

  OwnedCallback<> callback_;
  EventPtr ev_;
  bool periodic_ = false;
  Duration period_ = Duration::zero();
};

class LibeventLoop::LibeventFdWatcher final : public FdWatcher {
 public:
  LibeventFdWatcher(event_base* base, int fd, std::function<void(uint32_t)> callback)
      : callback_(std::move(callback)) {
    read_.reset(event_new(base, fd, EV_READ | EV_PERSIST, &LibeventFdWatcher::OnReady, this));
    write_.reset(event_new(base, fd, EV_WRITE | EV_PERSIST, &LibeventFdWatcher::OnReady, this));
    assert(read_ != nullptr && write_ != nullptr);
  }

  void SetInterest(uint32_t events) override {
    events &= (kFdReadable | kFdWritable);
    if ((events & kFdReadable) != (interest_ & kFdReadable)) {
      if (events & kFdReadable) {
        event_add(read_.get(), nullptr);
      } else {
        event_del(read_.get());
      }
    }
    if ((events & kFdWritable) != (interest_ & kFdWritable)) {
      if (events & kFdWritable) {
        event_add(write_.get(), nullptr);
      } else {
        event_del(write_.get());
      }
    }
    interest_ = events;
  }
  uint32_t interest() const override { return interest_; }

 private:
  static void OnReady(int, short what, void* arg) {
    auto* self = static_cast<LibeventFdWatcher*>(arg);
    uint32_t ready = 0;
    if (what & EV_READ) ready |= kFdReadable;
    if (what & EV_WRITE) ready |= kFdWritable;
    ready &= self->interest_;
    if (ready == 0) return;
    self->callback_.Run(ready);
  }

  OwnedCallback<uint32_t> callback_;
  EventPtr read_;
  EventPtr write_;
  uint32_t interest_ = 0;
};

StatusOr<std::unique_ptr<LibeventLoop>> LibeventLoop::Create() {
  // Precise timers (a timerfd under epoll): without, epoll's millisecond timeout makes a 200 us timer fire
  // after 1 ms, and work paced by timers goes out in bursts.
  event_config* config = event_config_new();
  if (config == nullptr) return InternalError("event_config_new failed");
  event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER);
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  if (base == nullptr) return InternalError("event_base_new failed");
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    event_base_free(base);
    return InternalError(std::string("eventfd failed: ") + std::strerror(errno));
  }
  return std::unique_ptr<LibeventLoop>(new LibeventLoop(base, wake_fd));
}

LibeventLoop::LibeventLoop(event_base* base, int wake_fd)
    : base_(base), wake_fd_(wake_fd), run_queue_([this] { Wake(); }) {
  wake_event_.reset(event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &LibeventLoop::OnWake, this));
  event_add(wake_event_.get(), nullptr);
  run_event_.reset(event_new(base_, -1, 0, &LibeventLoop::OnRunQueue, this));
}

LibeventLoop::~LibeventLoop() {
  // Queued closures may own timers, tasks and watchers of this loop: they go while the event base still
  // exists.
  run_queue_.Clear();
  run_event_.reset();
  wake_event_.reset();
  ::close(wake_fd_);
  event_base_free(base_);
}

void LibeventLoop::Post(std::function<void()> fn) { run_queue_.Post(std::move(fn)); }

std::unique_ptr<Task> LibeventLoop::CreateTask(std::function<void()> callback) {
  return run_queue_.CreateTask(std::move(callback));
}

void LibeventLoop::Wake() {
  if (std::this_thread::get_id() == loop_thread_.load(std::memory_order_relaxed)) {
    // A zero timeout rather than event_active(): an entry queued while a batch runs waits for the next loop
    // iteration, after fds and timers, instead of joining the current pass of active callbacks.
    const timeval now{0, 0};
    event_add(run_event_.get(), &now);
    return;
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void LibeventLoop::OnWake(int fd, short, void* arg) {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof(count));
  OnRunQueue(-1, 0, arg);
}

void LibeventLoop::OnRunQueue(int, short, void* arg) {
  auto* self = static_cast<LibeventLoop*>(arg);
  self->run_queue_.RunBatch();
  // Entries queued during the batch found the queue empty and woke the loop again: they run in a later
  // iteration, after timers and fds had their turn.
}

std::unique_ptr<Timer> LibeventLoop::CreateTimer(std::function<void()> callback) {
  return std::make_unique<LibeventTimer>(base_, std::move(callback));
}

std::unique_ptr<FdWatcher> LibeventLoop::WatchFd(int fd, uint32_t interest,
                                                 std::function<void(uint32_t)> callback) {
  auto watcher = std::make_unique<LibeventFdWatcher>(base_, fd, std::move(callback));
  watcher->SetInterest(interest);
  return watcher;
}

void LibeventLoop::Run() {
  // Until now every Post() went through the eventfd (no thread was the loop's), which is safe from any
  // thread; from now on this thread's own posts activate the run event directly.
  loop_thread_.store(std::this_thread::get_id());
  // Anything queued before Run() from a thread that was not the loop thread yet runs first.
  if (!run_queue_.empty()) {
    const timeval now{0, 0};
    event_add(run_event_.get(), &now);
  }
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  loop_thread_.store(std::thread::id());
}

void LibeventLoop::Stop() {
  Post([this] { event_base_loopbreak(base_); });
}

bool LibeventLoop::RunUntil(const std::function<bool()>& done, Duration limit, Duration check) {
  if (done()) return true;
  bool timed_out = false;
  auto checker = CreateTimer([&] {
    if (done()) Stop();
  });
  auto give_up = CreateTimer([&] {
    timed_out = true;
    Stop();
  });
  checker->ScheduleRepeating(check);
  give_up->Schedule(limit);
  Run();
  return !timed_out && done();
}

}  // namespace libp2p
