// Publishing back to back under flow control: as fast as the topic's peers take the messages, never faster.
#ifndef TOOLS_NODE_PACED_PUBLISHER_H_
#define TOOLS_NODE_PACED_PUBLISHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "libp2p/base/event_loop.h"
#include "libp2p/pubsub/pubsub.h"

namespace libp2p::node {

struct PacedPublisherOptions {
  // Publishing pauses while any peer subscribed to the topic holds this many bytes or more in its send lanes
  // (PubSubPeer::queued_bytes()), or all peers together hold pause_total_bytes or more
  // (PubSub::queued_send_bytes()). One more message must still fit under the lanes' caps and the node's
  // send budget (PubSubPeerOptions::max_data_bytes, PubSubOptions::max_send_bytes and a peer's share of it,
  // which is never below one largest RPC): these marks leave that room, so no message is dropped for a full
  // lane.
  size_t pause_bytes = 512 * 1024;
  size_t pause_total_bytes = 8 * 1024 * 1024;
  // The most messages published in one loop turn; the rest follow in later turns, so that the loop goes on
  // serving the network (and the peers' queued RPCs go out at each turn's end).
  size_t per_turn = 256;
};

// Calls `publish_next` (which publishes one message and returns whether more are to come) back to back
// while the topic's peers have room (see PacedPublisherOptions), pauses while one has not, and goes on when
// PubSub says a peer's lanes drained or a peer went (PubSub::SetSendRoomCallback, which it holds from Start()
// until it is destroyed). Flow control, not a timer: a topic whose peers read fast gets messages as fast
// as they are published; a slow reader sets the pace of all.
//
// The loop and the pubsub core are observers that must outlive the publisher; used on the loop thread only.
// `publish_next` may not destroy the publisher.
class PacedPublisher {
 public:
  PacedPublisher(EventLoop* loop, pubsub::PubSub* pubsub, std::string topic, PacedPublisherOptions options,
                 std::function<bool()> publish_next);
  ~PacedPublisher();
  PacedPublisher(const PacedPublisher&) = delete;
  PacedPublisher& operator=(const PacedPublisher&) = delete;

  // Starts publishing, from the loop (never inside this call).
  void Start();
  // Whether `publish_next` said there is no more.
  bool done() const { return done_; }
  // Times publishing paused for a peer's queue (for tests and operators).
  uint64_t pauses() const { return pauses_; }

 private:
  void Run();
  bool HasRoom();

  pubsub::PubSub* const pubsub_;
  const std::string topic_;
  const PacedPublisherOptions options_;
  std::function<bool()> publish_next_;
  bool started_ = false;
  bool paused_ = false;
  bool done_ = false;
  uint64_t pauses_ = 0;
  std::unique_ptr<Task> run_task_;
};

}  // namespace libp2p::node

#endif  // TOOLS_NODE_PACED_PUBLISHER_H_
