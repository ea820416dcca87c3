// A batch of our own messages, signed and validated, to be published together (PubSub::AddToBatch,
// PubSub::PublishBatch).
#ifndef LIBP2P_PUBSUB_MESSAGE_BATCH_H_
#define LIBP2P_PUBSUB_MESSAGE_BATCH_H_

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "libp2p/pubsub/router.h"

namespace libp2p::pubsub {

// Messages in the order they were added, each once by message id. A plain value: it holds the messages
// (shared, immutable) and is not tied to a PubSub until it is published; not thread-safe (build it on the
// loop thread, or hand it over).
class MessageBatch {
 public:
  struct Entry {
    SharedMessage msg;  // Never null.
    std::string id;
    uint64_t seqno = 0;
  };

  // Appends `msg` (not null) under `id`; false, leaving the batch as it was, when `id` is in it already.
  bool Add(SharedMessage msg, std::string id, uint64_t seqno);
  bool Contains(const std::string& id) const { return ids_.count(id) > 0; }

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
  std::unordered_set<std::string> ids_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_MESSAGE_BATCH_H_
