#include "tools/node/paced_publisher.h"

#include <utility>

namespace libp2p::node {

PacedPublisher::PacedPublisher(EventLoop* loop, pubsub::PubSub* pubsub, std::string topic,
                               PacedPublisherOptions options, std::function<bool()> publish_next)
    : pubsub_(pubsub), topic_(std::move(topic)), options_(options), publish_next_(std::move(publish_next)),
      run_task_(loop->CreateTask([this] { Run(); })) {}

PacedPublisher::~PacedPublisher() {
  if (started_) pubsub_->SetSendRoomCallback(nullptr);
}

void PacedPublisher::Start() {
  if (started_) return;
  started_ = true;
  pubsub_->SetSendRoomCallback([this] {
    // Room may have come: look again (from the loop, so never inside a send).
    if (paused_) run_task_->Post();
  });
  run_task_->Post();
}

bool PacedPublisher::HasRoom() {
  if (pubsub_->queued_send_bytes() >= options_.pause_total_bytes) return false;
  for (const crypto::PeerId& id : pubsub_->Peers()) {
    if (pubsub_->PeerTopics(id).count(topic_) == 0) continue;
    const pubsub::PubSubPeer* peer = pubsub_->FindPeer(id);
    if (peer != nullptr && peer->queued_bytes() >= options_.pause_bytes) return false;
  }
  return true;
}

void PacedPublisher::Run() {
  if (done_) return;
  paused_ = false;
  for (size_t i = 0; i < options_.per_turn; ++i) {
    if (!HasRoom()) {
      // Resumed by the send-room callback: a peer's lanes drained, or a peer went.
      paused_ = true;
      ++pauses_;
      return;
    }
    if (!publish_next_()) {
      done_ = true;
      pubsub_->SetSendRoomCallback(nullptr);
      return;
    }
  }
  run_task_->Post();
}

}  // namespace libp2p::node
