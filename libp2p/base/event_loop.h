// The event-loop interface every protocol object runs on: posted closures, timers and fd readiness, all
// delivered on the one thread that runs the loop. Implementations: LibeventLoop (production) and
// ManualEventLoop (virtual time, for deterministic tests and simulations).
#ifndef LIBP2P_BASE_EVENT_LOOP_H_
#define LIBP2P_BASE_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "libp2p/base/clock.h"

namespace libp2p {

// A one-shot or repeating timer, owned by the object it serves. Cancel-safe: after Cancel() (or destruction)
// returns, the callback never runs, even if its deadline had already passed. The callback may cancel,
// re-schedule or destroy its own timer (its captures stay alive until it returns).
class Timer {
 public:
  virtual ~Timer() = default;
  // Fires once after `delay` (a negative delay counts as zero), replacing any earlier schedule.
  virtual void Schedule(Duration delay) = 0;
  // Fires every `period` (which must be positive; asserted), the first time one period from now, replacing
  // any earlier schedule.
  virtual void ScheduleRepeating(Duration period) = 0;
  // Stops the timer; a no-op when it is not scheduled.
  virtual void Cancel() = 0;
  virtual bool IsScheduled() const = 0;
};

// Work the loop runs soon: after the current callback returns, in one first-in first-out queue with the
// closures given to EventLoop::Post(), the same order in every EventLoop implementation. Use it instead of a zero-delay Timer, whose order against other zero-delay timers
// libevent does not define. Owned by the object it serves and used on the loop thread only. Cancel-safe:
// after Cancel() (or destruction) returns, the callback does not run for the earlier Post(). The callback may
// post, cancel or destroy its own task (its captures stay alive until it returns).
class Task {
 public:
  virtual ~Task() = default;
  // Queues one run at the tail of the loop's queue; a no-op while a run is already queued (it keeps its place).
  virtual void Post() = 0;
  // Removes the queued run, if any.
  virtual void Cancel() = 0;
  // True from Post() until the callback starts or Cancel() is called.
  virtual bool IsPending() const = 0;
};

// Readiness events of a file descriptor.
enum FdEvent : uint32_t {
  kFdReadable = 1u << 0,
  kFdWritable = 1u << 1,
};

// Watches one file descriptor, level-triggered: while the fd is ready for an event of interest, the callback
// keeps being called. Destroying the watcher stops the callbacks; it never closes the fd. The callback may
// destroy its own watcher (its captures stay alive until it returns).
class FdWatcher {
 public:
  virtual ~FdWatcher() = default;
  // Selects the events reported (a mask of FdEvent); 0 pauses the watcher.
  virtual void SetInterest(uint32_t events) = 0;
  virtual uint32_t interest() const = 0;
};

// An event loop. All callbacks run on the thread that runs the loop, one at a time. Objects created through
// the loop (timers, tasks, watchers) must be destroyed before it, on the loop thread.
//
// Lifetimes: an object that may have to die while its own code is on the stack is never destroyed inline by
// its owner; the owner hands it to its DeferredDeleter (deferred_deleter.h), built on a task of the loop.
class EventLoop {
 public:
  virtual ~EventLoop() = default;

  // The clock whose time the loop's timers follow. Owned by the loop.
  virtual const Clock& clock() const = 0;

  // Runs `fn` on the loop thread after the current callback returns, in posting order (one queue with
  // tasks). Safe to call from any thread. Closures still pending when the loop is destroyed are
  // destroyed without running, before anything else of the loop is torn down.
  virtual void Post(std::function<void()> fn) = 0;

  // A new task that calls `callback` each time a Post() of it comes up in the queue. The caller owns it.
  virtual std::unique_ptr<Task> CreateTask(std::function<void()> callback) = 0;

  // A new, unscheduled timer that calls `callback` when it fires. The caller owns it.
  virtual std::unique_ptr<Timer> CreateTimer(std::function<void()> callback) = 0;

  // Watches `fd` (which the caller keeps open for the watcher's lifetime) for the events in `interest`,
  // calling `callback` with the mask of ready events. The caller owns the watcher.
  virtual std::unique_ptr<FdWatcher> WatchFd(int fd, uint32_t interest,
                                             std::function<void(uint32_t ready)> callback) = 0;

  MonoTime Now() const { return clock().Now(); }

  // True for a loop whose time only moves when its owner advances it (ManualEventLoop: tests, simulations).
  // Work such a loop's users would otherwise hand to other threads runs on the loop thread instead, so that
  // a run stays deterministic.
  virtual bool virtual_time() const { return false; }
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_EVENT_LOOP_H_
