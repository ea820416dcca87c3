#include "libp2p/pubsub/round_robin_scheduler.h"

#include <algorithm>
#include <utility>

namespace libp2p::pubsub {

void RoundRobinScheduler::Add(const crypto::PeerId& peer, const std::string& id, std::shared_ptr<const pb::RPC> rpc) {
  auto [it, added] = index_.try_emplace(id, messages_.size());
  if (added) messages_.push_back(Message{id, {}});
  messages_[it->second].copies.push_back(Copy{peer, std::move(rpc)});
  ++copies_;
}

std::vector<ScheduledRpc> RoundRobinScheduler::Take() {
  std::vector<ScheduledRpc> out;
  out.reserve(copies_);
  size_t rounds = 0;
  for (const Message& m : messages_) rounds = std::max(rounds, m.copies.size());
  for (size_t k = 0; k < rounds; ++k) {
    for (Message& m : messages_) {
      if (k < m.copies.size()) out.push_back(ScheduledRpc{std::move(m.copies[k].peer), m.id, std::move(m.copies[k].rpc)});
    }
  }
  messages_.clear();
  index_.clear();
  copies_ = 0;
  return out;
}

}  // namespace libp2p::pubsub
