#include "libp2p/base/offload_queue.h"

#include <cassert>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace libp2p {

namespace {

// At most this many results wait at the head for a wake-up of the loop thread while more jobs run.
constexpr size_t kPostEvery = 16;

}  // namespace

struct OffloadQueue::Shared {
  explicit Shared(OffloadQueue* q) : queue(q) {}

  std::mutex mu;
  // Results in submission order: slots[i] belongs to the job numbered head_seq + i. Guarded by mu.
  struct Slot {
    bool done = false;
    Continuation continuation;
  };
  std::deque<Slot> slots;
  uint64_t head_seq = 0;
  bool drain_posted = false;  // A Drain is in the loop's queue. Guarded by mu.
  size_t incomplete = 0;      // Jobs submitted and not finished. Guarded by mu.
  size_t unposted = 0;        // Results ready at the head since the last Drain was posted. Guarded by mu.
  // The queue, while it lives; loop thread only (the destructor clears it there, and only Drain reads it).
  OffloadQueue* queue;
};

OffloadQueue::OffloadQueue(EventLoop* loop, WorkerPool* pool)
    : loop_(loop), pool_(pool), shared_(std::make_shared<Shared>(this)) {
  if (pool_ != nullptr) hand_over_ = loop_->CreateTask([this] { pool_->SubmitAll(&gathered_); });
}

OffloadQueue::~OffloadQueue() { shared_->queue = nullptr; }

void OffloadQueue::Submit(Job job) {
  if (pool_ == nullptr) {
    Continuation c = job();
    if (c) c();
    return;
  }
  const uint64_t seq = next_seq_++;
  ++in_flight_;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->slots.emplace_back();
    ++shared_->incomplete;
  }
  gathered_.push_back([shared = shared_, loop = loop_, pool = pool_, seq, job = std::move(job)] {
    Continuation c = job();
    // Waking the loop thread costs more than a small job: while the pool has more of our jobs to run, the
    // results wait for one of them (or for kPostEvery of them), so that one wake-up serves many.
    const bool pool_idle = pool->queued() == 0;
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      Shared::Slot& slot = shared->slots[seq - shared->head_seq];
      slot.done = true;
      slot.continuation = std::move(c);
      --shared->incomplete;
      // Only results at the head can run; a Drain already queued will see this one. Our last job always
      // posts (nothing of ours would come after it), so no result waits for another queue's jobs.
      if (!shared->drain_posted && shared->slots.front().done &&
          (shared->incomplete == 0 || pool_idle || ++shared->unposted >= kPostEvery)) {
        shared->drain_posted = true;
        shared->unposted = 0;
        post = true;
      }
    }
    if (post) loop->Post([shared] { Drain(shared); });
  });
  hand_over_->Post();
}

void OffloadQueue::Drain(const std::shared_ptr<Shared>& shared) {
  std::vector<Continuation> ready;
  {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->drain_posted = false;
    while (!shared->slots.empty() && shared->slots.front().done) {
      ready.push_back(std::move(shared->slots.front().continuation));
      shared->slots.pop_front();
      ++shared->head_seq;
    }
  }
  for (Continuation& c : ready) {
    OffloadQueue* q = shared->queue;
    if (q == nullptr) return;  // The queue went, maybe inside an earlier continuation.
    --q->in_flight_;
    if (c) c();
  }
}

}  // namespace libp2p
