// Deferred deletion: the one way an object outlives its own call stack in this code base (Envoy's
// deferredDelete, scoped to an owner).
//
// An object that may be running one of its own callbacks when its owner decides it must go (a connection
// failing inside its read callback, an upgrade finishing inside its handshake's callback, a peer dropped
// from inside its stream's callback) is unlinked by the owner, silenced (its timers cancelled and its
// handlers cleared, so that nothing of it runs again), and handed to Delete(). It is destroyed after the
// current callback has returned, from the event loop's queue, in the order it was handed over.
//
// Scoped to its owner: whatever is still waiting when the deleter is destroyed is destroyed then. An owner
// declares its deleter after every member the doomed objects still use when they are destroyed, so that the
// deleter goes first; nothing waits in the loop beyond its owner's lifetime.
#ifndef LIBP2P_BASE_DEFERRED_DELETER_H_
#define LIBP2P_BASE_DEFERRED_DELETER_H_

#include <memory>
#include <utility>
#include <vector>

#include "libp2p/base/event_loop.h"

namespace libp2p {

// Used on the loop thread only. The loop is an observer that must outlive the deleter.
class DeferredDeleter {
 public:
  explicit DeferredDeleter(EventLoop* loop) : task_(loop->CreateTask([this] { DeleteAll(); })) {}
  // Destroys what is still waiting, in order.
  ~DeferredDeleter() { DeleteAll(); }
  DeferredDeleter(const DeferredDeleter&) = delete;
  DeferredDeleter& operator=(const DeferredDeleter&) = delete;

  // Destroys `object` after the current callback returns (a null one is ignored).
  template <typename T>
  void Delete(std::unique_ptr<T> object) {
    if (object == nullptr) return;
    doomed_.push_back(std::make_unique<Holder<T>>(std::move(object)));
    task_->Post();
  }

  // Objects waiting to be destroyed.
  size_t pending() const { return doomed_.size(); }

 private:
  class Doomed {
   public:
    virtual ~Doomed() = default;
  };
  template <typename T>
  class Holder final : public Doomed {
   public:
    explicit Holder(std::unique_ptr<T> object) : object_(std::move(object)) {}

   private:
    std::unique_ptr<T> object_;
  };

  // Destroys the waiting objects in order; objects handed over meanwhile (by the destructors) go too.
  void DeleteAll() {
    while (!doomed_.empty()) {
      std::vector<std::unique_ptr<Doomed>> batch;
      batch.swap(doomed_);
      for (auto& d : batch) d.reset();
    }
  }

  std::vector<std::unique_ptr<Doomed>> doomed_;
  std::unique_ptr<Task> task_;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_DEFERRED_DELETER_H_
