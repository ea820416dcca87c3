// Lets code that calls out (to a user callback) learn whether its object was destroyed during the call.
//
// Where it earns its place: objects whose public contract lets their user destroy them from inside their
// own callbacks: streams (stream.h: "callbacks may destroy the stream"; StreamBase and the layers built on
// it) and listeners. Objects that the library owns itself (connections, upgrades, pubsub peers) are never
// destroyed inline: their owners hand them to a DeferredDeleter (deferred_deleter.h), which needs no
// Liveness.
#ifndef LIBP2P_BASE_LIVENESS_H_
#define LIBP2P_BASE_LIVENESS_H_

namespace libp2p {

// Embed a Liveness in an object; before calling out, open a Liveness::Scope on the stack and check alive()
// afterwards. Scopes nest (a callback may call back in); destroying the object marks every open scope dead.
//
//   Liveness::Scope scope(&liveness_);
//   on_data(bytes);
//   if (!scope.alive()) return;  // `this` is gone: touch nothing.
class Liveness {
 public:
  Liveness() = default;
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;
  ~Liveness() {
    for (Scope* s = top_; s != nullptr; s = s->prev_) s->dead_ = true;
  }

  class Scope {
   public:
    explicit Scope(Liveness* owner) : owner_(owner), prev_(owner->top_) { owner->top_ = this; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() {
      if (!dead_) owner_->top_ = prev_;
    }
    bool alive() const { return !dead_; }

   private:
    friend class Liveness;
    Liveness* owner_;
    Scope* prev_;
    bool dead_ = false;
  };

 private:
  Scope* top_ = nullptr;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_LIVENESS_H_
