// Message validation: the validators registered per topic, the messages waiting for asynchronous ones, and
// the limits on how many may wait (in all, per topic, in bytes) and for how long. The core decides what a
// message must pass before it gets here (seen cache, signature) and what the verdict means for it.
#ifndef LIBP2P_PUBSUB_VALIDATION_H_
#define LIBP2P_PUBSUB_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/fifo.h"
#include "libp2p/base/offload_queue.h"
#include "libp2p/base/status.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

enum class ValidationResult { kAccept, kReject, kIgnore };

// Decides on a message; synchronous validators call `done` before returning, asynchronous ones later (at
// most once; a call after the validation was decided or timed out is ignored). `msg` is valid until `done`
// is called. A validator may keep `done` no longer than the Validation lives.
using Validator = std::function<void(const pb::Message& msg, std::function<void(ValidationResult)> done)>;

// Decides on a message at once, on any thread: run on the validation workers (an OffloadQueue's pool) for
// messages of peers, concurrently with other calls and with the loop thread, so it must be thread-safe and
// must not touch what the loop thread owns. What it captures is destroyed on the loop thread.
using ThreadSafeValidator = std::function<ValidationResult(const pb::Message& msg)>;

// The combined answer of a topic's validators: a reject from any of them wins, then an ignore; a validation
// that is not decided within the timeout ends as kTimedOut.
enum class Verdict { kAccept, kReject, kIgnore, kTimedOut };

struct ValidationLimits {
  // Messages being validated at once, in all and per topic (go's validate throttle and per-topic validator
  // concurrency have the same defaults), and their encoded bytes together.
  size_t max_pending = 8192;
  size_t max_pending_per_topic = 1024;
  size_t max_pending_bytes = 64 * 1024 * 1024;
  Duration timeout = std::chrono::seconds(10);
};

// Runs on the loop thread. Validators and messages are owned here from Run until the verdict is delivered.
class Validation {
 public:
  // Gets the verdict, once per Run, possibly before Run returns (every validator answered at once), with the
  // message, which it may move away (what it leaves is destroyed from the loop, as a validator may still be
  // reading it). It must not destroy this Validation.
  using Done = std::function<void(pb::Message& msg, Verdict verdict)>;

  // `loop` is an observer that must outlive this object; so is `offload`, which runs thread-safe validators,
  // and whose continuations must not run once this object is gone (destroy both together, on the loop
  // thread).
  Validation(EventLoop* loop, OffloadQueue* offload, ValidationLimits limits);
  ~Validation();
  Validation(const Validation&) = delete;
  Validation& operator=(const Validation&) = delete;

  // Adds a validator for `topic`; all of a topic's validators must accept its messages.
  void Add(const std::string& topic, Validator validator);
  // Adds a thread-safe validator for `topic`, run on the offload queue's workers (see ThreadSafeValidator).
  void AddThreadSafe(const std::string& topic, ThreadSafeValidator validator);
  bool HasValidators(const std::string& topic) const;

  // OK when a message of `encoded_size` bytes on `topic` may start validating now; kResourceExhausted naming
  // the limit it would pass otherwise.
  Status CheckRoom(const std::string& topic, size_t encoded_size) const;

  // Runs `msg`'s topic validators on it (the topic must have some, and CheckRoom must have passed).
  // Thread-safe validators run on the offload queue's workers when `offload` (messages of peers), else on
  // the loop thread inside Run (our own messages, whose publish wants the verdict at once).
  void Run(pb::Message msg, Done done, bool offload = false);

  size_t pending() const { return pending_.size(); }
  size_t pending_bytes() const { return pending_bytes_; }
  // Messages of `topic` being validated.
  size_t pending(const std::string& topic) const;
  // Topics with messages being validated (entries of the per-topic counts).
  size_t pending_topics() const { return per_topic_.size(); }
  // Deadlines held: those of the pending validations and of some decided ones, at most 2 * max_pending + 1.
  size_t deadlines_held() const { return deadlines_.size(); }

 private:
  struct Pending;
  // Records one validator's answer; with the last answer, a reject or the timeout, delivers the verdict.
  void Answer(uint64_t vid, ValidationResult r, bool timed_out);
  // Times out the validations whose deadline has come, and sets the timer for the next one.
  void TimeOut();
  // Forgets the deadlines of decided validations, when they are at the front or (every so often) anywhere.
  void DropDecidedDeadlines(bool anywhere);

  // One validator of a topic: exactly one of the two is set.
  struct Entry {
    Validator async;
    std::shared_ptr<const ThreadSafeValidator> thread_safe;
  };
  void AddEntry(const std::string& topic, Entry entry);

  EventLoop* const loop_;
  OffloadQueue* const offload_;
  const ValidationLimits limits_;
  // Each topic's validators. A list is never changed in place (Add makes a new one), so that a validation
  // runs through the list it started with, sharing it, while a validator adds validators.
  std::map<std::string, std::shared_ptr<const std::vector<Entry>>> validators_;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Pending>> pending_;
  std::unordered_map<std::string, size_t> per_topic_;  // No zero entries.
  size_t pending_bytes_ = 0;
  // When each validation times out, in the order they started: the timeout is the same for all, so the
  // deadlines only grow along it, and one timer, for the front, serves them all. A decided validation's entry
  // leaves once it reaches the front, or when they are compacted (at 2 * max_pending entries, so that a slow
  // validation at the front holds at most that many behind it).
  struct Deadline {
    MonoTime at;
    uint64_t vid;
  };
  Fifo<Deadline> deadlines_;
  std::unique_ptr<Timer> timeout_;
  // Decided validations whose validator may still be on the stack. Declared last: destroyed first.
  DeferredDeleter deleter_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_VALIDATION_H_
