#include "libp2p/pubsub/pubsub_peer.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "libp2p/base/log_rate_limiter.h"
#include "libp2p/base/varint.h"

namespace libp2p::pubsub {

PubSubPeer::PubSubPeer(EventLoop* loop, crypto::PeerId id, StreamOpener opener, PubSubPeerOptions options,
                       Callbacks callbacks)
    : loop_(loop), id_(id), opener_(std::move(opener)), options_(options), callbacks_(std::move(callbacks)),
      closing_timer_(loop->CreateTimer([this] { DropClosing(); })),
      expiry_timer_(loop->CreateTimer([this] {
        const bool held = !Idle();
        DropExpired();
        TellIfDrained(held);
      })),
      flush_task_(loop->CreateTask([this] { FlushAndTell(); })),
      // The wait is over: reopen if anything waits (otherwise the next Send() opens at once).
      retry_timer_(loop->CreateTimer([this] {
        if (!Idle()) OpenOutbound();
      })),
      retry_delay_(options_.open_retry_initial),
      deleter_(loop) {
  lanes_[static_cast<size_t>(SendLane::kUrgent)].timeout = options_.urgent_send_timeout;
  lanes_[static_cast<size_t>(SendLane::kControl)].timeout = options_.control_send_timeout;
  lanes_[static_cast<size_t>(SendLane::kPublish)].timeout = options_.publish_send_timeout;
  lanes_[static_cast<size_t>(SendLane::kForward)].timeout = options_.forward_send_timeout;
  if (options_.send_budget != nullptr) ++options_.send_budget->peers_;
}

PubSubPeer::~PubSubPeer() {
  if (opening_ && cancel_open_) cancel_open_();
  if (options_.send_budget != nullptr) {
    options_.send_budget->bytes().Release(queued_bytes());
    --options_.send_budget->peers_;
  }
}

void PubSubPeer::AttachInbound(std::unique_ptr<stream::Stream> stream) {
  DropInbound();
  inbound_ = std::make_unique<Inbound>(Inbound{std::move(stream), FrameReader(options_.limits.max_rpc_size), 0});
  inbound_->stream->SetHandlers(stream::Stream::Handlers{
      [this](ByteSpan data) { OnInboundData(data); },
      [this] { DropInbound(); },  // The peer closed its stream; it may open another.
      [this](const Status&) { DropInbound(); },
      {}});
  if (inbound_paused_) inbound_->stream->PauseReading(true);
}

void PubSubPeer::PauseInbound(bool paused) {
  if (paused == inbound_paused_) return;
  inbound_paused_ = paused;
  if (inbound_ != nullptr) inbound_->stream->PauseReading(paused);
}

void PubSubPeer::StopReading() { DropInbound(); }

void PubSubPeer::DropInbound() {
  if (inbound_ == nullptr) return;
  // Its stream or reader may be running the callback that got us here: silence it, destroy it from the loop.
  inbound_->stream->SetHandlers({});
  deleter_.Delete(std::move(inbound_));
}

void PubSubPeer::OnInboundData(ByteSpan data) {
  // The frame callback captures two pointers, `this` and this read's state, which std::function keeps in
  // its own storage: a third would cost an allocation for every read.
  struct Reading {
    Inbound* const inbound;
    bool stopped = false;
  } reading{inbound_.get()};
  Status s = reading.inbound->reader.Feed(data, [this, &reading](ByteSpan frame) -> Status {
    RpcCounts counts;
    ASSIGN_OR_RETURN(pb::RPC rpc, DecodeRpc(frame, options_.limits, &counts));
    ++stats_.rpcs_received;
    stats_.elements_left_out += counts.left_out;
    // Stop reading if an observer or the callback replaced or dropped the stream (or let the peer go): the
    // rest of these bytes belong to a stream that is gone (the reader itself lives until the loop comes back).
    auto gone = [&] {
      reading.stopped = inbound_.get() != reading.inbound;
      return reading.stopped;
    };
    for (RpcObserver* o : observers_) o->OnReceive(id_, &rpc);
    if (gone()) return CancelledError("peer or stream gone");
    first_rpc_on_stream_ = ++reading.inbound->rpcs == 1;
    if (callbacks_.on_rpc) callbacks_.on_rpc(*this, std::move(rpc));
    first_rpc_on_stream_ = false;
    if (gone()) return CancelledError("peer or stream gone");
    return OkStatus();
  });
  if (reading.stopped || s.ok()) return;
  // An oversized or undecodable frame: reset that stream, keep the peer.
  ++stats_.bad_frames;
  LIBP2P_LOG_LIMITED(options_.log_limiter, AsStringView(id_.bytes()), LogLevel::kWarn, "pubsub",
                     "inbound stream reset: bad frame", {{"peer", id_.ToBase58()}, {"error", s.ToString()}});
  inbound_->stream->Reset();
  DropInbound();
}

void PubSubPeer::AddObserver(RpcObserver* observer) {
  observers_.push_back(observer);
  if (observer->ObservesSends()) send_observers_.push_back(observer);
}

SendResult PubSubPeer::SendInPlace(pb::RPC* rpc, SendLane lane, std::string tag) {
  for (RpcObserver* o : send_observers_) o->OnSend(id_, rpc);
  const size_t size = rpc->ByteSizeLong();
  if (size > options_.limits.max_rpc_size) return SendResult::kTooLarge;
  const size_t frame_size = size + UvarintLength(size);
  if (!Admit(lane, frame_size)) return SendResult::kDroppedFull;
  auto frame = std::make_shared<Bytes>();
  frame->reserve(frame_size);
  AppendUvarint(size, frame.get());
  frame->resize(frame_size);
  rpc->SerializeWithCachedSizesToArray(frame->data() + (frame_size - size));
  Enqueue(std::move(frame), lane, std::move(tag));
  return SendResult::kQueued;
}

SendResult PubSubPeer::SendFrame(std::shared_ptr<const Bytes> frame, size_t rpc_size, SendLane lane,
                                 std::string tag) {
  assert(send_observers_.empty());
  assert(frame->size() == rpc_size + UvarintLength(rpc_size));
  if (rpc_size > options_.limits.max_rpc_size) return SendResult::kTooLarge;
  if (!Admit(lane, frame->size())) return SendResult::kDroppedFull;
  Enqueue(std::move(frame), lane, std::move(tag));
  return SendResult::kQueued;
}

bool PubSubPeer::Admit(SendLane lane, size_t frame_size) {
  const size_t largest_frame = options_.limits.max_rpc_size + UvarintLength(options_.limits.max_rpc_size);
  // Over its own lane's cap or its share of the node's budget: the peer is not keeping up. Within them but
  // with no room left in the budget: other peers hold it, and this drop is not this peer's doing.
  const bool over_own = CappedBytes(lane) + frame_size > Cap(lane) ||
                        (options_.send_budget != nullptr &&
                         queued_bytes() + frame_size > options_.send_budget->share(largest_frame));
  if (over_own || (options_.send_budget != nullptr && !options_.send_budget->bytes().TryReserve(frame_size))) {
    ++stats_.dropped_full;
    if (!over_own) ++stats_.dropped_no_room;
    if (over_own && options_.send_budget != nullptr) ++options_.send_budget->own_drops_;
    return false;
  }
  return true;
}

void PubSubPeer::Enqueue(std::shared_ptr<const Bytes> frame, SendLane lane, std::string tag) {
  Lane& q_lane = lanes_[static_cast<size_t>(lane)];
  Queued q;
  q.frame = std::move(frame);
  q.deadline = loop_->Now() + q_lane.timeout;
  q.order = sends_++;
  if (IsData(lane)) q.tag = std::move(tag);
  q_lane.bytes += q.frame->size();
  q_lane.queue.push_back(std::move(q));
  ExpireBy(q_lane.queue.back().deadline);
  if (outbound_ != nullptr) {
    // The first RPC of a loop turn goes out at once; those that follow it in the same turn wait for its end
    // (or for kBatchBytes of them) and go out together, in one stream write.
    if (!flush_task_->IsPending()) {
      flush_task_->Post();
      Flush();
    } else if (queued_bytes() >= kBatchBytes) {
      Flush();
    }
  } else if (!retry_timer_->IsScheduled()) {
    OpenOutbound();
  }
}

void PubSubPeer::Open() {
  if (outbound_ == nullptr && !retry_timer_->IsScheduled()) OpenOutbound();
}

void PubSubPeer::OpenOutbound() {
  if (opening_ || outbound_ != nullptr) return;
  opening_ = true;
  // Our destructor calls the canceller, so the callback never outlives us.
  cancel_open_ = opener_(
      [this](StatusOr<std::unique_ptr<stream::Stream>> stream) { OnOutboundOpened(std::move(stream)); });
}

void PubSubPeer::OnNewConnection() {
  if (opening_) {
    // The open under way may have picked the old connection: ask again.
    if (cancel_open_) cancel_open_();
    opening_ = false;
    cancel_open_ = nullptr;
  } else if (outbound_ != nullptr) {
    RetireOutbound();
  } else {
    return;  // Idle: the next Send() opens on the newest connection anyway.
  }
  retry_timer_->Cancel();
  OpenOutbound();
}

void PubSubPeer::RetireOutbound() {
  DropClosing();
  outbound_->CloseWrite();
  outbound_->SetHandlers(stream::Stream::Handlers{
      [](ByteSpan) {}, [this] { DropClosing(); }, [this](const Status&) { DropClosing(); }, {}});
  closing_ = std::move(outbound_);
  closing_timer_->Schedule(kClosingTime);
  if (callbacks_.on_outbound_closed) callbacks_.on_outbound_closed(*this);
}

void PubSubPeer::DropClosing() {
  if (closing_ == nullptr) return;
  closing_timer_->Cancel();
  closing_->SetHandlers({});
  deleter_.Delete(std::move(closing_));  // May be inside its own callback.
}

void PubSubPeer::OnOutboundOpened(StatusOr<std::unique_ptr<stream::Stream>> stream) {
  opening_ = false;
  cancel_open_ = nullptr;
  if (!stream.ok()) {
    OnOutboundFailed(/*was_open=*/false);
    return;
  }
  retry_delay_ = options_.open_retry_initial;
  outbound_ = std::move(stream).value();
  outbound_->SetHandlers(stream::Stream::Handlers{
      [](ByteSpan) {},  // Nothing is expected on our outbound stream.
      [] {},
      [this](const Status&) { OnOutboundFailed(/*was_open=*/true); },
      [this] { FlushAndTell(); }});
  if (!WriteHello()) return;
  if (callbacks_.on_ready) callbacks_.on_ready(*this);
  FlushAndTell();
}

bool PubSubPeer::WriteHello() {
  if (!callbacks_.hello) return true;
  std::vector<pb::RPC> rpcs = callbacks_.hello(*this);
  if (rpcs.empty()) return true;
  Bytes frames;
  for (pb::RPC& rpc : rpcs) {
    for (RpcObserver* o : send_observers_) o->OnSend(id_, &rpc);
    const size_t size = rpc.ByteSizeLong();
    AppendUvarint(size, &frames);
    const size_t at = frames.size();
    frames.resize(at + size);
    rpc.SerializeWithCachedSizesToArray(frames.data() + at);
  }
  if (!outbound_->Write(frames).ok()) {
    OnOutboundFailed(/*was_open=*/true);
    return false;
  }
  stats_.rpcs_sent += rpcs.size();
  return true;
}

void PubSubPeer::OnOutboundFailed(bool was_open) {
  ++stats_.stream_failures;
  // The stream may be running the callback that got us here: silence it, destroy it from the loop.
  if (outbound_ != nullptr) outbound_->SetHandlers({});
  deleter_.Delete(std::move(outbound_));
  if (was_open && callbacks_.on_outbound_closed) callbacks_.on_outbound_closed(*this);
  if (was_open) {
    // A stream that worked: its connection went, and the peer may have another. Reopen at once, once; if
    // that fails, the waits begin.
    if (!Idle()) OpenOutbound();
    return;
  }
  // Wait even when nothing is queued, so that a stream of Send()s cannot reopen faster than the backoff.
  retry_timer_->Schedule(std::min(retry_delay_, options_.open_retry_max));
  retry_delay_ = std::min(retry_delay_ * 2, options_.open_retry_max);
}

bool PubSubPeer::Idle() const {
  return std::all_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.queue.empty(); });
}

size_t PubSubPeer::queued_bytes() const {
  size_t total = 0;
  for (const Lane& l : lanes_) total += l.bytes;
  return total;
}

size_t PubSubPeer::CappedBytes(SendLane lane) const {
  if (!IsData(lane)) return lanes_[static_cast<size_t>(lane)].bytes;
  return lanes_[static_cast<size_t>(SendLane::kPublish)].bytes + lanes_[static_cast<size_t>(SendLane::kForward)].bytes;
}

size_t PubSubPeer::Cap(SendLane lane) const {
  switch (lane) {
    case SendLane::kUrgent: return options_.max_urgent_bytes;
    case SendLane::kControl: return options_.max_control_bytes;
    case SendLane::kPublish:
    case SendLane::kForward: return options_.max_data_bytes;
  }
  return 0;
}

PubSubPeer::Lane* PubSubPeer::NextLane() {
  for (SendLane first : {SendLane::kUrgent, SendLane::kControl}) {
    Lane& l = lanes_[static_cast<size_t>(first)];
    if (!l.queue.empty()) return &l;
  }
  // The two data lanes are one queue in Send() order, kept apart only because their timeouts differ.
  Lane& publish = lanes_[static_cast<size_t>(SendLane::kPublish)];
  Lane& forward = lanes_[static_cast<size_t>(SendLane::kForward)];
  if (publish.queue.empty()) return forward.queue.empty() ? nullptr : &forward;
  if (forward.queue.empty()) return &publish;
  return publish.queue.front().order < forward.queue.front().order ? &publish : &forward;
}

bool PubSubPeer::TakeNext(size_t batch_size, Taken* out) {
  while (Lane* next_lane = NextLane()) {
    Lane& lane = *next_lane;
    const Queued& next = lane.queue.front();
    if (batch_size > 0 && batch_size + next.frame->size() > kBatchBytes) return false;  // The next write's.
    if (!next.tag.empty() && callbacks_.wanted && !callbacks_.wanted(next.tag)) {
      PopFront(lane);
      ++stats_.dropped_unwanted;
      continue;
    }
    out->lane = &lane;
    out->queued = std::move(lane.queue.front());
    PopFront(lane, out->queued.frame->size());
    return true;
  }
  return false;
}

void PubSubPeer::Flush() {
  while (outbound_ != nullptr && !outbound_->write_blocked() && !Idle()) {
    // Up to kBatchBytes of frames (in lane order) in one write; a larger frame goes alone. Usually one goes
    // alone, as it is; several are gathered into one buffer for this write only (a peer keeps no buffer
    // between writes: hundreds of peers that once sent a large batch would each hold its size).
    Taken first;
    if (!TakeNext(0, &first)) return;
    size_t batch_size = first.queued.frame->size();
    std::vector<Taken> more;
    for (Taken next; TakeNext(batch_size, &next);) {
      batch_size += next.queued.frame->size();
      more.push_back(std::move(next));
    }
    Bytes batch;
    if (!more.empty()) {
      batch.reserve(batch_size);
      batch.insert(batch.end(), first.queued.frame->begin(), first.queued.frame->end());
      for (const Taken& t : more) batch.insert(batch.end(), t.queued.frame->begin(), t.queued.frame->end());
    }
    // Frames are written whole or not at all, so those the stream refused can go out intact on the next
    // stream: they go back to the heads of their lanes. A frame alone goes as the shared buffer it is (a
    // layer below that queues bytes may keep it rather than a copy).
    const Status written = more.empty() ? outbound_->WriteShared(*first.queued.frame, first.queued.frame)
                                        : outbound_->Write(batch);
    if (!written.ok()) {
      auto put_back = [this](Taken& t) {
        t.lane->bytes += t.queued.frame->size();
        // The bytes PopFront() gave back a moment ago: always room for them.
        if (options_.send_budget != nullptr) (void)options_.send_budget->bytes().TryReserve(t.queued.frame->size());
        t.lane->queue.push_front(std::move(t.queued));
      };
      for (auto it = more.rbegin(); it != more.rend(); ++it) put_back(*it);
      put_back(first);
      OnOutboundFailed(/*was_open=*/true);
      return;
    }
    stats_.rpcs_sent += 1 + more.size();
  }
}

void PubSubPeer::FlushAndTell() {
  const bool held = !Idle();
  Flush();
  TellIfDrained(held);
}

void PubSubPeer::TellIfDrained(bool held) {
  if (held && Idle() && callbacks_.on_drained) callbacks_.on_drained(*this);
}

void PubSubPeer::PopFront(Lane& lane, size_t size) {
  lane.bytes -= size;
  if (options_.send_budget != nullptr) options_.send_budget->bytes().Release(size);
  lane.queue.pop_front();
}

void PubSubPeer::PopFront(Lane& lane) { PopFront(lane, lane.queue.front().frame->size()); }

void PubSubPeer::ExpireBy(MonoTime deadline) {
  if (expiry_timer_->IsScheduled() && expiry_at_ <= deadline) return;
  expiry_at_ = deadline;
  expiry_timer_->Schedule(deadline - loop_->Now());
}

void PubSubPeer::DropExpired() {
  const MonoTime now = loop_->Now();
  for (size_t i = 0; i < kLanes; ++i) {
    Lane& lane = lanes_[i];
    // Each lane is in Send() order with one timeout, so deadlines only grow along it.
    while (!lane.queue.empty() && lane.queue.front().deadline <= now) {
      PopFront(lane);
      ++stats_.dropped_timeout;
      if (options_.send_budget != nullptr) ++options_.send_budget->own_drops_;
      if (i == static_cast<size_t>(SendLane::kPublish)) ++stats_.dropped_timeout_publish;
      if (i == static_cast<size_t>(SendLane::kForward)) ++stats_.dropped_timeout_forward;
    }
  }
  // The next deadline is at the front of some lane. (The fronts only move later as RPCs are written, so a
  // timer that fires early finds nothing to drop and moves on.)
  for (const Lane& lane : lanes_) {
    if (!lane.queue.empty()) ExpireBy(lane.queue.front().deadline);
  }
}

}  // namespace libp2p::pubsub
