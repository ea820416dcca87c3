#include "libp2p/pubsub/validation.h"

#include <utility>

namespace libp2p::pubsub {

struct Validation::Pending {
  // Shared with the thread-safe validators running on workers, which may outlive the decision.
  std::shared_ptr<pb::Message> msg;
  Done done;
  size_t outstanding = 0;  // Validators yet to answer.
  size_t size = 0;         // The message's encoded bytes, counted in pending_bytes_.
  ValidationResult result = ValidationResult::kAccept;
};

Validation::Validation(EventLoop* loop, OffloadQueue* offload, ValidationLimits limits)
    : loop_(loop), offload_(offload), limits_(limits), timeout_(loop->CreateTimer([this] { TimeOut(); })),
      deleter_(loop) {}

Validation::~Validation() = default;

void Validation::AddEntry(const std::string& topic, Entry entry) {
  std::shared_ptr<const std::vector<Entry>>& list = validators_[topic];
  auto grown = list ? std::make_shared<std::vector<Entry>>(*list) : std::make_shared<std::vector<Entry>>();
  grown->push_back(std::move(entry));
  list = std::move(grown);
}

void Validation::Add(const std::string& topic, Validator validator) {
  AddEntry(topic, Entry{std::move(validator), nullptr});
}

void Validation::AddThreadSafe(const std::string& topic, ThreadSafeValidator validator) {
  AddEntry(topic, Entry{nullptr, std::make_shared<const ThreadSafeValidator>(std::move(validator))});
}

bool Validation::HasValidators(const std::string& topic) const {
  auto it = validators_.find(topic);
  return it != validators_.end() && !it->second->empty();
}

size_t Validation::pending(const std::string& topic) const {
  auto it = per_topic_.find(topic);
  return it == per_topic_.end() ? 0 : it->second;
}

Status Validation::CheckRoom(const std::string& topic, size_t encoded_size) const {
  if (pending_.size() >= limits_.max_pending) {
    return ResourceExhaustedError("validation throttled: " + std::to_string(pending_.size()) + " messages pending");
  }
  if (pending(topic) >= limits_.max_pending_per_topic) {
    return ResourceExhaustedError("validation throttled: " + std::to_string(pending(topic)) +
                                  " messages pending on topic " + topic);
  }
  if (pending_bytes_ + encoded_size > limits_.max_pending_bytes) {
    return ResourceExhaustedError("validation throttled: " + std::to_string(pending_bytes_) + " bytes pending");
  }
  return OkStatus();
}

void Validation::Run(pb::Message msg, Done done, bool offload) {
  // Shared rather than copied: a validator may add validators (to a new list).
  auto found = validators_.find(msg.topic());
  const std::shared_ptr<const std::vector<Entry>> validators =
      found == validators_.end() ? std::make_shared<const std::vector<Entry>>() : found->second;
  const uint64_t vid = next_id_++;
  auto p = std::make_unique<Pending>();
  p->outstanding = validators->size();
  p->size = msg.ByteSizeLong();
  p->msg = std::make_shared<pb::Message>(std::move(msg));
  p->done = std::move(done);
  pending_bytes_ += p->size;
  ++per_topic_[p->msg->topic()];
  deadlines_.push_back(Deadline{loop_->Now() + limits_.timeout, vid});
  if (deadlines_.size() > 2 * limits_.max_pending) DropDecidedDeadlines(/*anywhere=*/true);
  if (!timeout_->IsScheduled()) timeout_->Schedule(limits_.timeout);
  // Stays valid through this loop: a decided validation is destroyed from the loop (see Answer). Only jobs on
  // the workers share it (a reference count above one makes Answer hand over a copy).
  const pb::Message& m = *p->msg;
  Pending* const pending = p.get();
  pending_[vid] = std::move(p);
  const auto answer = [this, vid](ValidationResult r) { Answer(vid, r, /*timed_out=*/false); };
  for (const Entry& v : *validators) {
    if (pending_.count(vid) == 0) break;  // Decided: an earlier validator rejected it.
    if (v.async) {
      v.async(m, answer);
    } else if (offload && offload_->offloads()) {
      std::shared_ptr<const pb::Message> msg = pending->msg;
      offload_->Submit([this, vid, msg = std::move(msg), validator = v.thread_safe]() -> OffloadQueue::Continuation {
        const ValidationResult r = (*validator)(*msg);
        return [this, vid, r] { Answer(vid, r, /*timed_out=*/false); };
      });
    } else {
      Answer(vid, (*v.thread_safe)(m), /*timed_out=*/false);
    }
  }
}

void Validation::Answer(uint64_t vid, ValidationResult r, bool timed_out) {
  auto it = pending_.find(vid);
  if (it == pending_.end()) return;  // Already decided, or timed out.
  Pending& p = *it->second;
  // A reject decides at once and wins over any ignore; an ignore waits for the others, which may reject.
  if (r == ValidationResult::kReject || (r == ValidationResult::kIgnore && p.result == ValidationResult::kAccept)) {
    p.result = r;
  }
  if (!timed_out && p.result != ValidationResult::kReject && --p.outstanding > 0) return;
  pending_bytes_ -= p.size;
  auto t = per_topic_.find(p.msg->topic());
  if (--t->second == 0) per_topic_.erase(t);
  // A validator still running may be the caller, and may still read the message: destroyed from the loop.
  std::unique_ptr<Pending> decided = std::move(it->second);
  pending_.erase(it);
  DropDecidedDeadlines(/*anywhere=*/false);
  Verdict verdict = Verdict::kAccept;
  if (timed_out) {
    verdict = Verdict::kTimedOut;  // Never after a reject, which decides at once.
  } else if (p.result == ValidationResult::kReject) {
    verdict = Verdict::kReject;
  } else if (p.result == ValidationResult::kIgnore) {
    verdict = Verdict::kIgnore;
  }
  // A thread-safe validator may still be reading the message on a worker (after a reject or the timeout):
  // the receiver, which may move it away, gets a copy of its own then, and the original stays as it is.
  deleter_.Delete(std::move(decided));
  if (p.msg.use_count() > 1) {
    pb::Message copy = *p.msg;
    p.done(copy, verdict);
  } else {
    p.done(*p.msg, verdict);
  }
}

void Validation::TimeOut() {
  const MonoTime now = loop_->Now();
  while (!deadlines_.empty() && deadlines_.front().at <= now) {
    const uint64_t vid = deadlines_.front().vid;
    deadlines_.pop_front();
    Answer(vid, ValidationResult::kIgnore, /*timed_out=*/true);  // A no-op for a decided one.
  }
  if (!deadlines_.empty()) timeout_->Schedule(deadlines_.front().at - now);
}

void Validation::DropDecidedDeadlines(bool anywhere) {
  while (!deadlines_.empty() && pending_.count(deadlines_.front().vid) == 0) deadlines_.pop_front();
  if (!anywhere) return;
  Fifo<Deadline> kept;
  for (; !deadlines_.empty(); deadlines_.pop_front()) {
    if (pending_.count(deadlines_.front().vid) > 0) kept.push_back(deadlines_.front());
  }
  deadlines_ = std::move(kept);
}

}  // namespace libp2p::pubsub
