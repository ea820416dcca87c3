// A callback held by the object it notifies about (a timer, a task, an fd watcher), safe against that object
// being destroyed by the callback itself.
//
// Where it earns its place: only inside the event loops (timers, tasks and watchers may be destroyed by their
// own callbacks, which the EventLoop contract allows). Everything else uses a DeferredDeleter
// (deferred_deleter.h).
#ifndef LIBP2P_BASE_OWNED_CALLBACK_H_
#define LIBP2P_BASE_OWNED_CALLBACK_H_

#include <functional>
#include <utility>

namespace libp2p {

// Holds a std::function. Run() moves the function onto its own stack frame for the call and back afterwards,
// so when the holder is destroyed by the call (the callback destroyed its own timer or watcher) the function
// object and its captures stay valid to the end of the call, and are destroyed when Run() returns. Not
// re-entrant: Run() must not be called from within Run().
template <typename... Args>
class OwnedCallback {
 public:
  explicit OwnedCallback(std::function<void(Args...)> fn) : fn_(std::move(fn)) {}
  OwnedCallback(const OwnedCallback&) = delete;
  OwnedCallback& operator=(const OwnedCallback&) = delete;
  ~OwnedCallback() {
    if (destroyed_during_run_ != nullptr) *destroyed_during_run_ = true;
  }

  // Calls the function. Returns false when the holder was destroyed during the call; the caller must then
  // touch neither the holder nor the object that owned it.
  bool Run(Args... args) {
    bool destroyed = false;
    destroyed_during_run_ = &destroyed;
    std::function<void(Args...)> running = std::move(fn_);
    running(args...);
    if (destroyed) return false;
    destroyed_during_run_ = nullptr;
    fn_ = std::move(running);
    return true;
  }

 private:
  std::function<void(Args...)> fn_;  // Empty while Run() holds it.
  bool* destroyed_during_run_ = nullptr;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_OWNED_CALLBACK_H_
