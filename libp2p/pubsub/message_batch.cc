#include "libp2p/pubsub/message_batch.h"

#include <cassert>
#include <utility>

namespace libp2p::pubsub {

bool MessageBatch::Add(SharedMessage msg, std::string id, uint64_t seqno) {
  assert(msg != nullptr);
  if (!ids_.insert(id).second) return false;
  entries_.push_back(Entry{std::move(msg), std::move(id), seqno});
  return true;
}

}  // namespace libp2p::pubsub
