// The production EventLoop on libevent. This file and libevent_loop.cc are the only code that drives
// libevent's event loop; a libevent service that runs on the loop (evhttp in //libp2p/metrics:http_server)
// gets the base through native_base() and keeps its libevent calls in its own binding.
#ifndef LIBP2P_BASE_LIBEVENT_LOOP_H_
#define LIBP2P_BASE_LIBEVENT_LOOP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "libp2p/base/clock.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/run_queue.h"
#include "libp2p/base/status.h"

struct event_base;
struct event;

namespace libp2p {

class LibeventLoop final : public EventLoop {
 public:
  // Creates a loop with its own event_base. Fails with kInternal when libevent or eventfd cannot be set up.
  static StatusOr<std::unique_ptr<LibeventLoop>> Create();
  // Destroys the closures still queued first, then the event base.
  ~LibeventLoop() override;

  const Clock& clock() const override { return clock_; }
  void Post(std::function<void()> fn) override;
  std::unique_ptr<Task> CreateTask(std::function<void()> callback) override;
  std::unique_ptr<Timer> CreateTimer(std::function<void()> callback) override;
  std::unique_ptr<FdWatcher> WatchFd(int fd, uint32_t interest,
                                     std::function<void(uint32_t ready)> callback) override;

  // Runs callbacks on the calling thread until Stop() is called, even when nothing is scheduled. That thread
  // is the loop thread while it runs.
  void Run();
  // Makes Run() return after the current callback. Safe to call from any thread and from signal-free contexts.
  void Stop();
  // Runs callbacks until `done()` holds (checked every `check` of wall time) or `limit` has passed; whether
  // `done()` held. For programs and tests that wait for an outcome: a wait that cannot end fails instead of
  // hanging.
  bool RunUntil(const std::function<bool()>& done, Duration limit,
                Duration check = std::chrono::microseconds(100));

  // The loop's event_base, for libevent services that run on this loop, such as evhttp. Owned by the loop
  // and valid for its lifetime: whatever is built on it must be freed before the loop, on the loop thread (or
  // while the loop is not running), like the loop's own timers and watchers.
  event_base* native_base() const { return base_; }

 private:
  struct EventDeleter {
    void operator()(event* ev) const;
  };
  using EventPtr = std::unique_ptr<event, EventDeleter>;
  class LibeventTimer;
  class LibeventFdWatcher;

  LibeventLoop(event_base* base, int wake_fd);
  static void OnWake(int fd, short what, void* arg);
  static void OnRunQueue(int fd, short what, void* arg);
  // Called when the run queue gets its first entry: activates run_event_ directly on the loop thread, or
  // through the eventfd from another thread.
  void Wake();

  RealClock clock_;
  event_base* base_;
  const int wake_fd_;  // An eventfd written by Post() from other threads to wake the loop.
  EventPtr wake_event_;
  EventPtr run_event_;  // Activated to run a batch of the run queue.
  std::atomic<std::thread::id> loop_thread_;  // The thread in Run(); none outside it.
  RunQueue run_queue_;  // Declared last: destroyed first, while the event base still exists.
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_LIBEVENT_LOOP_H_
