#include "libp2p/pubsub/pubsub_peer.h"

#include <algorithm>
#include <utility>

#include "libp2p/base/varint.h"

namespace libp2p::pubsub {

PubSubPeer::PubSubPeer(EventLoop* loop, crypto::PeerId id, StreamOpener opener, PubSubPeerOptions options,
                       Callbacks callbacks)
    : loop_(loop), id_(id), opener_(std::move(opener)), options_(options), callbacks_(std::move(callbacks)),
      expiry_timer_(loop->CreateTimer([this] { DropExpired(); })),
      // The wait is over: reopen if anything waits (otherwise the next Send() opens at once).
      retry_timer_(loop->CreateTimer([this] {
        if (!control_.empty() || !data_.empty()) OpenOutbound();
      })),
      retry_delay_(options_.open_retry_initial), alive_(std::make_shared<bool>(true)) {}

PubSubPeer::~PubSubPeer() { *alive_ = false; }

void PubSubPeer::AttachInbound(std::unique_ptr<stream::Stream> stream) {
  inbound_ = std::move(stream);
  reader_ = std::make_shared<FrameReader>(options_.limits.max_rpc_size);
  inbound_->SetHandlers(stream::Stream::Handlers{
      [this](ByteSpan data) { OnInboundData(data); },
      [this] { inbound_.reset(); },  // The peer closed its stream; it may open another.
      [this](const Status&) { inbound_.reset(); },
      {}});
}

void PubSubPeer::OnInboundData(ByteSpan data) {
  Liveness::Scope scope(&liveness_);
  const std::shared_ptr<FrameReader> reader = reader_;
  const stream::Stream* const stream = inbound_.get();
  bool stopped = false;
  Status s = reader->Feed(data, [&](ByteSpan frame) -> Status {
    ASSIGN_OR_RETURN(pb::RPC rpc, DecodeRpc(frame, options_.limits));
    ++stats_.rpcs_received;
    for (RpcObserver* o : observers_) o->OnReceive(id_, &rpc);
    if (callbacks_.on_rpc) callbacks_.on_rpc(*this, std::move(rpc));
    // Stop reading if the callback destroyed this peer or replaced its stream: the rest of these bytes
    // belong to a stream that is gone.
    if (!scope.alive() || inbound_.get() != stream) {
      stopped = true;
      return CancelledError("peer or stream gone");
    }
    return OkStatus();
  });
  if (stopped || !scope.alive() || s.ok()) return;
  // An oversized or undecodable frame: reset that stream, keep the peer.
  ++stats_.bad_frames;
  if (inbound_ != nullptr) {
    inbound_->Reset();
    inbound_.reset();
  }
}

SendResult PubSubPeer::Send(pb::RPC rpc, SendLane lane, std::string tag) {
  for (RpcObserver* o : observers_) o->OnSend(id_, &rpc);
  const size_t size = rpc.ByteSizeLong();
  if (size > options_.limits.max_rpc_size) return SendResult::kTooLarge;
  const bool control = lane == SendLane::kControl;
  size_t& lane_bytes = control ? control_bytes_ : data_bytes_;
  const size_t cap = control ? options_.max_control_bytes : options_.max_data_bytes;
  const size_t frame_size = size + UvarintLength(size);
  if (lane_bytes + frame_size > cap) {
    ++stats_.dropped_full;
    return SendResult::kDroppedFull;
  }
  Queued q;
  q.frame.reserve(frame_size);
  AppendUvarint(size, &q.frame);
  q.frame.resize(frame_size);
  rpc.SerializeWithCachedSizesToArray(q.frame.data() + (frame_size - size));
  q.deadline = loop_->Now() + (control ? options_.control_send_timeout : options_.data_send_timeout);
  if (!control) q.tag = std::move(tag);
  lane_bytes += frame_size;
  Lane& q_lane = control ? control_ : data_;
  q_lane.push_back(std::move(q));
  if (!expiry_timer_->IsScheduled()) expiry_timer_->Schedule(std::chrono::seconds(1));
  if (outbound_ != nullptr) {
    Flush();
  } else if (!retry_timer_->IsScheduled()) {
    OpenOutbound();
  }
  return SendResult::kQueued;
}

void PubSubPeer::OpenOutbound() {
  if (opening_ || outbound_ != nullptr) return;
  opening_ = true;
  std::weak_ptr<bool> alive = alive_;
  opener_([this, alive](StatusOr<std::unique_ptr<stream::Stream>> stream) {
    auto a = alive.lock();
    if (!a || !*a) return;  // The peer is gone; the stream (if any) is dropped, which resets it.
    OnOutboundOpened(std::move(stream));
  });
}

void PubSubPeer::OnOutboundOpened(StatusOr<std::unique_ptr<stream::Stream>> stream) {
  opening_ = false;
  if (!stream.ok()) {
    OnOutboundFailed();
    return;
  }
  retry_delay_ = options_.open_retry_initial;
  outbound_ = std::move(stream).value();
  outbound_->SetHandlers(stream::Stream::Handlers{
      [](ByteSpan) {},  // Nothing is expected on our outbound stream.
      [] {},
      [this](const Status&) { OnOutboundFailed(); },
      [this] { Flush(); }});
  Liveness::Scope scope(&liveness_);
  if (callbacks_.on_ready) callbacks_.on_ready(*this);
  if (!scope.alive()) return;
  Flush();
}

void PubSubPeer::OnOutboundFailed() {
  ++stats_.stream_failures;
  outbound_.reset();  // May be inside the stream's own callback, which streams allow.
  // Wait even when nothing is queued, so that a stream of Send()s cannot reopen faster than the backoff.
  retry_timer_->Schedule(std::min(retry_delay_, options_.open_retry_max));
  retry_delay_ = std::min(retry_delay_ * 2, options_.open_retry_max);
}

void PubSubPeer::Flush() {
  while (outbound_ != nullptr && !outbound_->write_blocked() && (!control_.empty() || !data_.empty())) {
    Lane& lane = !control_.empty() ? control_ : data_;
    const Queued& next = lane.front();
    if (!next.tag.empty() && callbacks_.wanted && !callbacks_.wanted(next.tag)) {
      PopFront(lane);
      ++stats_.dropped_unwanted;
      continue;
    }
    // A frame is written whole or not at all, so one the stream refused can go out intact on the next
    // stream: it stays queued until written.
    if (!outbound_->Write(next.frame).ok()) {
      OnOutboundFailed();
      return;
    }
    PopFront(lane);
    ++stats_.rpcs_sent;
  }
}

void PubSubPeer::PopFront(Lane& lane) {
  (&lane == &control_ ? control_bytes_ : data_bytes_) -= lane.front().frame.size();
  lane.pop_front();
}

void PubSubPeer::DropExpired() {
  const MonoTime now = loop_->Now();
  for (auto* lane : {&control_, &data_}) {
    // Each lane is in Send() order with one timeout, so deadlines only grow along it.
    while (!lane->empty() && lane->front().deadline <= now) {
      PopFront(*lane);
      ++stats_.dropped_timeout;
    }
  }
  if (!control_.empty() || !data_.empty()) expiry_timer_->Schedule(std::chrono::seconds(1));
}

}  // namespace libp2p::pubsub
