// A callback held by the object it notifies about (a timer, a task, an fd watcher), safe against that object
// being destroyed by the callback itself.
//
// Where it earns its place: only inside the event loops (timers, tasks and watchers may be destroyed by their
// own callbacks, which the EventLoop contract allows). Everything else uses a DeferredDeleter
// (deferred_deleter.h).
#ifndef LIBP2P_BASE_OWNED_CALLBACK_H_
#define LIBP2P_BASE_OWNED_CALLBACK_H_

#include <functional>
#include <memory>
#include <utility>

namespace libp2p {

// Holds a std::function on the heap. When the holder is destroyed while Run() is executing the function (the
// callback destroyed its own timer or watcher), the function object is kept alive until it returns, so its
// captures stay valid to the end of the call. Not re-entrant: Run() must not be called from within Run().
template <typename... Args>
class OwnedCallback {
 public:
  explicit OwnedCallback(std::function<void(Args...)> fn)
      : fn_(std::make_unique<std::function<void(Args...)>>(std::move(fn))) {}
  OwnedCallback(const OwnedCallback&) = delete;
  OwnedCallback& operator=(const OwnedCallback&) = delete;
  ~OwnedCallback() {
    if (running_ != nullptr) {
      running_->holder_destroyed = true;
      running_->keep_alive = std::move(fn_);
    }
  }

  // Calls the function. Returns false when the holder was destroyed during the call; the caller must then
  // touch neither the holder nor the object that owned it.
  bool Run(Args... args) {
    Frame frame;
    running_ = &frame;
    (*fn_)(args...);
    if (frame.holder_destroyed) return false;  // frame.keep_alive frees the function on return.
    running_ = nullptr;
    return true;
  }

 private:
  struct Frame {
    bool holder_destroyed = false;
    std::unique_ptr<std::function<void(Args...)>> keep_alive;
  };
  std::unique_ptr<std::function<void(Args...)>> fn_;
  Frame* running_ = nullptr;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_OWNED_CALLBACK_H_
