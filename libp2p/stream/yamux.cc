#include "libp2p/stream/yamux.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "libp2p/base/fifo.h"
#include "libp2p/base/liveness.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {

void YamuxHeader::EncodeTo(uint8_t out[kYamuxHeaderSize]) const {
  out[0] = 0;
  out[1] = static_cast<uint8_t>(type);
  out[2] = static_cast<uint8_t>(flags >> 8);
  out[3] = static_cast<uint8_t>(flags);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(stream_id >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
}

StatusOr<YamuxHeader> YamuxHeader::Decode(ByteSpan b) {
  if (b.size() < kYamuxHeaderSize) return InvalidArgumentError("yamux header needs 12 bytes");
  if (b[0] != 0) return InvalidArgumentError("yamux version " + std::to_string(b[0]) + " is not 0");
  if (b[1] > 3) return InvalidArgumentError("unknown yamux frame type " + std::to_string(b[1]));
  YamuxHeader h;
  h.type = static_cast<YamuxType>(b[1]);
  h.flags = static_cast<uint16_t>(b[2] << 8 | b[3]);
  h.stream_id = static_cast<uint32_t>(b[4]) << 24 | static_cast<uint32_t>(b[5]) << 16 |
                static_cast<uint32_t>(b[6]) << 8 | b[7];
  h.length = static_cast<uint32_t>(b[8]) << 24 | static_cast<uint32_t>(b[9]) << 16 |
             static_cast<uint32_t>(b[10]) << 8 | b[11];
  return h;
}

namespace {

enum GoAwayCode : uint32_t { kGoAwayNormal = 0, kGoAwayProtocolError = 1, kGoAwayInternalError = 2 };

// Frames queued for the secure connection are batched up to this size per write.
constexpr size_t kBatchSize = 256 * 1024;
// Ids the remote skipped (it opened a higher one first) that it may still open, at most.
constexpr size_t kMaxSkippedIds = 64;
// A window used up within this many round-trip times of the previous update grows (go-yamux's factor).
constexpr int kWindowGrowthRtts = 4;

class YamuxConnection;

// One stream: its outbox and read side. The connection keeps its flow-control state in the public fields.
class YamuxStream final : public StreamBase {
 public:
  YamuxStream(EventLoop* loop, YamuxConnection* conn, uint32_t id, bool outbound, WriteLimits limits)
      : StreamBase(loop),
        window_epoch(loop->Now()),
        conn_(conn),
        id_(id),
        outbound_(outbound),
        limits_(limits),
        error_task_(loop->CreateTask([this] { DeliverError(detach_error_); })),
        writable_task_(loop->CreateTask([this] { NotifyWritable(); })) {}
  ~YamuxStream() override;

  Status Write(ByteSpan data) override { return Send(data, nullptr); }
  // What goes straight to the secure connection keeps `owner` shared there; what waits in the outbox is a copy.
  Status WriteShared(ByteSpan data, const std::shared_ptr<const Bytes>& owner) override { return Send(data, &owner); }
  size_t buffered_bytes() const override { return outbox_size_; }
  bool write_blocked() const override { return blocked_; }
  void CloseWrite() override;
  void Reset() override;

  // --- Used by the connection. ---
  uint32_t id() const { return id_; }
  bool outbound() const { return outbound_; }
  // The connection lets go of the stream: it no longer refers back, and its outbox (which can no longer be
  // sent) is dropped.
  void Unlink() {
    conn_ = nullptr;
    outbox_.clear();
    front_offset_ = 0;
    outbox_size_ = 0;
  }
  // The connection ended with `error` (after Unlink()): the reader hears it from the loop, after the remote's
  // data and end-of-stream when the remote's FIN had arrived; not at all when the stream had finished.
  void Detach(const Status& error) {
    if (dead() || finished()) return;
    detach_error_ = error;
    if (remote_fin && !read_closed()) {
      error_after_eof_ = true;
      return;
    }
    error_task_->Post();
  }
  bool has_pending_output() const { return outbox_size_ > 0 || (fin_requested && !fin_sent); }
  bool outbox_has_data() const { return outbox_size_ > 0; }
  // Moves up to `max` bytes of the outbox to the end of `out` (after a header the caller writes).
  size_t TakeOutput(size_t max, Bytes* out);
  void AfterOutputTaken() {
    if (blocked_ && outbox_size_ < limits_.low_water) {
      blocked_ = false;
      writable_task_->Post();
    }
  }
  bool OnRemoteData(ByteSpan data) { return DeliverData(data); }
  bool OnRemoteFin() {
    remote_fin = true;
    return DeliverEof();
  }
  // The remote reset the stream, or broke the rules on it.
  bool OnRemoteReset(const Status& error) { return DeliverError(error); }
  bool finished() const { return remote_fin && fin_sent; }

  // Flow control.
  uint64_t send_window = kYamuxInitialWindow;        // What the remote lets us send.
  uint32_t recv_window = kYamuxInitialWindow;        // What we let the remote send, not yet used.
  uint32_t recv_window_size = kYamuxInitialWindow;   // The window we grant (grows with auto-tuning).
  size_t window_reserved = 0;                        // Of recv_window_size, reserved from the budget.
  size_t outbox_reserved = 0;                        // Of the outbox, reserved from the budget.
  int64_t unreturned = 0;                            // Consumed bytes not yet returned to the remote.
  MonoTime window_epoch;                             // When we last sent a window update (or began).
  // Stream state.
  bool syn_needed = false;  // Outbound: our first frame carries SYN.
  bool ack_needed = false;  // Inbound: our first frame carries ACK.
  bool acked = false;       // Outbound: the remote's ACK arrived.
  bool queued = false;      // In the connection's send queue.
  bool fin_requested = false;
  bool fin_sent = false;
  bool remote_fin = false;

 protected:
  void OnBytesConsumed(int64_t n) override;
  void OnReadPauseChanged() override {
    if (error_after_eof_ && read_closed()) {
      error_after_eof_ = false;
      error_task_->Post();
    }
  }

 private:
  // Write() and WriteShared() (with the shared buffer `owner`, else null).
  Status Send(ByteSpan data, const std::shared_ptr<const Bytes>* owner);

  YamuxConnection* conn_;  // Null once the stream left the connection.
  const uint32_t id_;
  const bool outbound_;
  const WriteLimits limits_;
  Fifo<Bytes> outbox_;
  size_t front_offset_ = 0;
  size_t outbox_size_ = 0;
  bool blocked_ = false;
  bool reset_ = false;
  Status detach_error_;
  bool error_after_eof_ = false;  // detach_error_ waits until the reader has had the end-of-stream.
  std::unique_ptr<Task> error_task_;
  std::unique_ptr<Task> writable_task_;
};

class YamuxConnection final : public MuxedConnection {
 public:
  YamuxConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure, bool initiator, Handlers handlers,
                  YamuxOptions options)
      : loop_(loop), secure_(std::move(secure)), handlers_(std::move(handlers)), options_(options),
        budget_(options.limits.budget),
        max_window_(std::max(options.max_stream_window, kYamuxInitialWindow)),
        initial_window_(static_cast<uint32_t>(
            std::clamp<size_t>(options.limits.stream_receive_window, kYamuxInitialWindow, max_window_))),
        next_id_(initiator ? 1 : 2), remote_parity_(initiator ? 0 : 1), next_remote_id_(initiator ? 2 : 1),
        flush_task_(loop->CreateTask([this] { Flush(); })),
        closed_task_(loop->CreateTask([this] { RunOnClosed(); })),
        keepalive_timer_(loop->CreateTimer([this] { OnKeepalive(); })) {
    secure_->SetHandlers(Stream::Handlers{
        [this](ByteSpan data) { OnData(data); },
        [this] { Fail(UnavailableError("yamux: connection closed by the remote"), /*send_go_away=*/false); },
        [this](const Status& e) { Fail(UnavailableError("yamux: connection failed: " + e.message()), false); },
        [this] { Flush(); }});
    if (options_.keepalive_interval > Duration::zero()) {
      keepalive_timer_->ScheduleRepeating(options_.keepalive_interval);
    }
    // The round-trip time that window auto-tuning needs, measured at once as go-yamux does.
    SendPing();
    ScheduleFlush();
  }

  ~YamuxConnection() override { DetachAll(UnavailableError("yamux connection closed")); }

  std::string_view protocol() const override { return kYamuxProtocolId; }
  size_t stream_count() const override { return streams_.size(); }
  bool accepts_new_streams() const override { return !closed_ && !go_away_received_; }
  const Multiaddr& local_addr() const override { return local_addr_; }
  const Multiaddr& remote_addr() const override { return remote_addr_; }

  StatusOr<std::unique_ptr<Stream>> OpenStream() override {
    if (closed_) return UnavailableError("yamux connection is closed");
    if (go_away_received_) return UnavailableError("yamux: the remote sent GoAway");
    if (outbound_count_ >= options_.limits.max_outbound_streams) {
      return ResourceExhaustedError("yamux: too many outbound streams");
    }
    if (unacked_outbound_ >= kYamuxMaxAckBacklog) {
      return ResourceExhaustedError("yamux: " + std::to_string(kYamuxMaxAckBacklog) +
                                    " streams wait for the remote's acknowledgement");
    }
    if (next_id_ > UINT32_MAX - 2) return ResourceExhaustedError("yamux: stream ids exhausted");
    const uint32_t id = next_id_;
    next_id_ += 2;
    auto stream = std::make_unique<YamuxStream>(loop_, this, id, /*outbound=*/true,
                                                options_.limits.stream_write_limits);
    YamuxStream* s = stream.get();
    s->syn_needed = true;
    streams_[id] = s;
    ++outbound_count_;
    ++unacked_outbound_;
    // Announce the stream at once: a window update with SYN, carrying any window beyond the spec's.
    SendWindowUpdate(s, GrowWindow(s, initial_window_));
    ScheduleFlush();
    return std::unique_ptr<Stream>(std::move(stream));
  }

  void Close() override {
    if (closed_) return;
    Flush(/*closing=*/true);  // A failed write fails the connection here; on_closed is cancelled below.
    if (!closed_) {
      closed_ = true;
      keepalive_timer_->Cancel();
      QueueControl(YamuxHeader{YamuxType::kGoAway, 0, 0, kGoAwayNormal});
      WriteOut();
      DetachAll(UnavailableError("yamux connection closed"));
      secure_->CloseWrite();
    }
    flush_task_->Cancel();
    closed_task_->Cancel();  // No on_closed for a Close() of our own.
  }

  // --- Used by streams. ---
  // Reserves what the stream's outbox holds beyond its reservation from the budget; false when it refuses.
  bool ReserveOutbox(YamuxStream* s) {
    const size_t more = s->buffered_bytes() - s->outbox_reserved;
    if (budget_ == nullptr || more == 0) return true;
    if (!budget_->TryReserve(more)) return false;
    s->outbox_reserved += more;
    return true;
  }
  // Sends what it can of `data` (a write on `s`, whose outbox is empty) straight to the secure connection, in
  // data frames within the send window, while the secure connection takes more; returns how much went. This
  // skips the outbox and out_ copies (the secure connection copies or seals the caller's bytes itself, and
  // coalesces them with the rest of the turn's frames; with an `owner`, data lies in it and goes down by
  // WriteShared()). Only when nothing else waits to be sent, so that the order on the wire is the one the
  // outbox path would give. A refused write fails the connection.
  size_t WriteDirect(YamuxStream* s, ByteSpan data, const std::shared_ptr<const Bytes>* owner) {
    if (closed_ || s->queued || !send_queue_.empty() || s->send_window == 0 || secure_->write_blocked()) return 0;
    if (!out_.empty() && !WriteOut()) return 0;  // Control frames queued earlier go first.
    if (const uint64_t total = std::min<uint64_t>(data.size(), s->send_window); total > kYamuxMaxDataFrame) {
      secure_->ExpectWrites(total + (total / kYamuxMaxDataFrame + 1) * kYamuxHeaderSize, owner != nullptr);
    }
    size_t sent = 0;
    while (!data.empty() && s->send_window > 0) {
      const size_t n = std::min<uint64_t>({data.size(), s->send_window, kYamuxMaxDataFrame});
      uint8_t header[kYamuxHeaderSize];
      YamuxHeader{YamuxType::kData, FirstFrameFlags(s), s->id(), static_cast<uint32_t>(n)}.EncodeTo(header);
      Status written = secure_->Write(ByteSpan(header, kYamuxHeaderSize));
      if (written.ok()) {
        written = owner != nullptr ? secure_->WriteShared(data.first(n), *owner) : secure_->Write(data.first(n));
      }
      if (!written.ok()) {
        Fail(UnavailableError("yamux: writing to the secure connection failed: " + written.message()),
             /*send_go_away=*/false);
        return sent;
      }
      s->send_window -= n;
      sent += n;
      data = data.subspan(n);
      if (secure_->write_blocked()) break;
    }
    return sent;
  }
  void OnStreamWrite(YamuxStream* s) {
    Enqueue(s);
    Flush();
  }
  // CloseWrite() on `s`. With its outbox empty, the FIN is queued now, behind the data already taken, even
  // while the secure connection is write-blocked: a stream its owner drops right after has nothing left to
  // send. Otherwise the FIN follows the outbox's last bytes.
  void OnStreamCloseWrite(YamuxStream* s) {
    if (s->outbox_has_data()) return OnStreamWrite(s);
    SendFin(s);
    if (s->finished()) Forget(s);
    Flush();
  }
  // The stream was reset or destroyed before it finished both ways: tell the remote.
  void OnStreamReset(YamuxStream* s) {
    QueueControl(YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, s->id(), 0});
    Forget(s);
    ScheduleFlush();
  }
  void Credit(YamuxStream* s, int64_t n) {
    s->unreturned += n;
    // Return credit once the reader consumed half the window, in one update (as go and rust do).
    if (s->remote_fin || s->unreturned < static_cast<int64_t>(s->recv_window_size / 2)) return;
    uint32_t delta = static_cast<uint32_t>(s->unreturned);
    s->unreturned = 0;
    // Used up within a few round trips: the sender waits on the window, not on our reader. Grow it.
    if (rtt_known_ && loop_->Now() - s->window_epoch < kWindowGrowthRtts * rtt_) {
      const uint64_t doubled = 2 * uint64_t{s->recv_window_size};
      delta += GrowWindow(s, static_cast<uint32_t>(std::min<uint64_t>(doubled, max_window_)));
    }
    SendWindowUpdate(s, delta);
    ScheduleFlush();
  }

 private:
  // The stream leaves the connection: its reservations go back to the budget and it no longer refers back.
  void Forget(YamuxStream* s) {
    auto it = streams_.find(s->id());
    if (it == streams_.end() || it->second != s) return;
    streams_.erase(it);
    if (body_target_ == s) body_target_ = nullptr;
    if (last_found_ == s) last_found_ = nullptr;
    Unlink(s);
    if (!s->outbound()) {
      --inbound_count_;
    } else {
      --outbound_count_;
      if (!s->acked) --unacked_outbound_;
    }
  }

  void Unlink(YamuxStream* s) {
    s->Unlink();
    if (budget_ != nullptr) budget_->Release(s->outbox_reserved + s->window_reserved);
    s->outbox_reserved = s->window_reserved = 0;
  }

  void DetachAll(const Status& error) {
    for (auto& [id, s] : streams_) {
      Unlink(s);
      s->Detach(error);
    }
    streams_.clear();
    body_target_ = nullptr;
    last_found_ = nullptr;
    send_queue_.clear();
    inbound_count_ = outbound_count_ = unacked_outbound_ = 0;
  }

  void Enqueue(YamuxStream* s) {
    if (s->queued) return;
    s->queued = true;
    send_queue_.push_back(s->id());
  }

  uint16_t FirstFrameFlags(YamuxStream* s) {
    uint16_t flags = 0;
    if (s->syn_needed) flags |= kYamuxSyn;
    if (s->ack_needed) flags |= kYamuxAck;
    s->syn_needed = s->ack_needed = false;
    return flags;
  }

  // Grows the stream's receive window to `target` if the budget grants the growth; returns the growth.
  uint32_t GrowWindow(YamuxStream* s, uint32_t target) {
    if (target <= s->recv_window_size) return 0;
    const uint32_t growth = target - s->recv_window_size;
    if (budget_ != nullptr && !budget_->TryReserve(growth)) return 0;
    s->window_reserved += growth;
    s->recv_window_size = target;
    return growth;
  }

  void SendWindowUpdate(YamuxStream* s, uint32_t delta) {
    s->recv_window += delta;
    s->window_epoch = loop_->Now();
    QueueControl(YamuxHeader{YamuxType::kWindowUpdate, FirstFrameFlags(s), s->id(), delta});
  }

  void SendPing() {
    ++ping_value_;
    ping_sent_at_ = loop_->Now();
    ping_outstanding_ = true;
    QueueControl(YamuxHeader{YamuxType::kPing, kYamuxSyn, 0, ping_value_});
  }

  // Control frames go into out_ at once, so that they precede the data of the next flush.
  void QueueControl(const YamuxHeader& h) {
    const size_t at = out_.size();
    out_.resize(at + kYamuxHeaderSize);
    h.EncodeTo(out_.data() + at);
  }

  void ScheduleFlush() { flush_task_->Post(); }

  // Writes the queued control frames, then stream data round-robin within the send windows, while the
  // secure connection takes more: until it is write-blocked, or when `closing` until it buffers
  // kYamuxCloseFlushLimit.
  void Flush(bool closing = false) {
    for (;;) {
      const bool room =
          closing ? secure_->buffered_bytes() < kYamuxCloseFlushLimit : !secure_->write_blocked();
      if (room) AppendStreamData();
      if (out_.empty() || !WriteOut()) return;
      if (!room || send_queue_.empty()) return;
    }
  }

  // Hands out_ to the secure connection. A write it refuses (it failed, or its hard limit reset it) fails
  // this connection; returns false then.
  bool WriteOut() {
    const Status written = secure_->Write(out_);
    out_.clear();
    if (out_.capacity() > 2 * kBatchSize) Bytes().swap(out_);
    if (written.ok()) return true;
    Fail(UnavailableError("yamux: writing to the secure connection failed: " + written.message()),
         /*send_go_away=*/false);
    return false;
  }

  // One round-robin pass over the send queue, up to kBatchSize.
  void AppendStreamData() {
    size_t rounds = send_queue_.size();
    while (rounds-- > 0 && out_.size() < kBatchSize) {
      const uint32_t id = send_queue_.front();
      send_queue_.pop_front();
      auto it = streams_.find(id);
      if (it == streams_.end()) continue;
      YamuxStream* s = it->second;
      s->queued = false;
      AppendStreamFrames(s);
      s->AfterOutputTaken();
      if (s->finished()) {
        Forget(s);
      } else if (s->has_pending_output() && s->send_window > 0) {
        Enqueue(s);
      }
    }
  }

  void AppendStreamFrames(YamuxStream* s) {
    while (s->outbox_has_data() && s->send_window > 0 && out_.size() < kBatchSize) {
      const size_t n = std::min<uint64_t>(s->send_window, kYamuxMaxDataFrame);
      const size_t header_at = out_.size();
      out_.resize(header_at + kYamuxHeaderSize);
      const size_t taken = s->TakeOutput(n, &out_);
      const size_t freed = std::min(taken, s->outbox_reserved);  // The oldest bytes go first.
      s->outbox_reserved -= freed;
      if (budget_ != nullptr) budget_->Release(freed);
      s->send_window -= taken;
      const YamuxHeader h{YamuxType::kData, FirstFrameFlags(s), s->id(), static_cast<uint32_t>(taken)};
      h.EncodeTo(out_.data() + header_at);
    }
    if (!s->outbox_has_data() && s->fin_requested) SendFin(s);
  }

  // Queues the stream's FIN, once. It goes in a frame of its own, never on data, as go-yamux and rust-yamux
  // send it: js-yamux 8 applies a frame's FIN before its body, and drops the body when its reader had caught
  // up.
  void SendFin(YamuxStream* s) {
    if (s->fin_sent) return;
    s->fin_sent = true;
    const uint16_t flags = FirstFrameFlags(s) | kYamuxFin;
    QueueControl(YamuxHeader{YamuxType::kData, flags, s->id(), 0});
  }

  void OnData(ByteSpan data) {
    Liveness::Scope scope(&liveness_);
    while (!data.empty() && !closed_) {
      if (body_remaining_ > 0) {
        const size_t n = std::min<size_t>(body_remaining_, data.size());
        const ByteSpan piece = data.first(n);
        data = data.subspan(n);
        body_remaining_ -= static_cast<uint32_t>(n);
        if (body_target_ != nullptr) {
          body_target_->OnRemoteData(piece);
          if (!scope.alive()) return;
        }
        if (body_remaining_ == 0) FinishFrame();
        if (!scope.alive()) return;
        continue;
      }
      const size_t take = std::min(kYamuxHeaderSize - header_size_, data.size());
      std::copy(data.begin(), data.begin() + take, header_ + header_size_);
      header_size_ += take;
      data = data.subspan(take);
      if (header_size_ < kYamuxHeaderSize) break;
      header_size_ = 0;
      StatusOr<YamuxHeader> h = YamuxHeader::Decode(ByteSpan(header_, kYamuxHeaderSize));
      if (!h.ok()) return ProtocolError(h.status().message());
      current_ = *h;
      if (!OnHeader() || !scope.alive()) return;
      if (current_.type == YamuxType::kData && current_.length > 0) {
        body_remaining_ = current_.length;  // For body_target_, which OnHeader found.
      } else {
        FinishFrame();
      }
      if (!scope.alive()) return;
    }
    Flush();
  }

  // Handles a frame header. Returns false when the connection ended or was destroyed.
  bool OnHeader() {
    const YamuxHeader& h = current_;
    body_target_ = nullptr;
    if (h.type == YamuxType::kPing) {
      OnPing(h);
      return true;
    }
    if (h.type == YamuxType::kGoAway) {
      go_away_received_ = true;
      return true;
    }
    if (h.stream_id == 0) {
      ProtocolError("yamux data or window update on stream 0");
      return false;
    }
    YamuxStream* s = nullptr;
    std::unique_ptr<YamuxStream> opened;  // A stream the remote opens with this frame.
    if (h.flags & kYamuxSyn) {
      if ((h.stream_id & 1) != remote_parity_ || streams_.count(h.stream_id) != 0 ||
          !TakeRemoteId(h.stream_id)) {
        ProtocolError("yamux SYN for stream " + std::to_string(h.stream_id) +
                      ", which is not a new stream of the remote's");
        return false;
      }
      if (closed_ || inbound_count_ >= options_.limits.max_inbound_streams) {
        QueueControl(YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, h.stream_id, 0});
        return true;  // Refused; its data, if any, is discarded.
      }
      opened = std::make_unique<YamuxStream>(loop_, this, h.stream_id, /*outbound=*/false,
                                             options_.limits.stream_write_limits);
      opened->ack_needed = true;
      s = opened.get();
      streams_[h.stream_id] = s;
      ++inbound_count_;
    } else {
      s = FindStream(h.stream_id);
      if (s == nullptr) return true;  // A late frame for a stream already gone.
    }
    // A data frame's body goes to s, unless s leaves first (Forget clears this).
    if (h.type == YamuxType::kData) body_target_ = s;
    if ((h.flags & kYamuxAck) && s->outbound() && !s->acked) {
      s->acked = true;
      --unacked_outbound_;
    }
    if (h.type == YamuxType::kWindowUpdate) {
      // Also the window a SYN or an ACK carries.
      if (s->send_window + h.length > UINT32_MAX) {
        ProtocolError("yamux window update overflows the send window");
        return false;
      }
      s->send_window += h.length;
      if (s->has_pending_output()) Enqueue(s);
    } else {
      if (h.length > s->recv_window) {
        ProtocolError("yamux: " + std::to_string(h.length) + " bytes exceed the receive window of stream " +
                      std::to_string(h.stream_id));
        return false;
      }
      s->recv_window -= h.length;
      if (h.length > 0 && s->remote_fin) return ResetAfterFin(s);
    }
    return opened == nullptr || Accept(std::move(opened));
  }

  // The stream `id` names in streams_, or null. Frames for one stream often follow each other: the last one
  // found is checked first.
  YamuxStream* FindStream(uint32_t id) {
    if (last_found_ != nullptr && last_found_->id() == id) return last_found_;
    auto it = streams_.find(id);
    if (it == streams_.end()) return nullptr;
    last_found_ = it->second;
    return last_found_;
  }

  // Whether `id` (of the remote's parity) is new: above every id the remote opened so far, or one it
  // skipped lately. Go-yamux can send the SYNs of streams opened concurrently out of order.
  bool TakeRemoteId(uint32_t id) {
    if (id >= next_remote_id_) {
      uint64_t skipped = next_remote_id_;
      if (id - skipped > 2 * kMaxSkippedIds) skipped = id - 2 * kMaxSkippedIds;
      for (; skipped < id; skipped += 2) skipped_remote_ids_.push_back(static_cast<uint32_t>(skipped));
      if (skipped_remote_ids_.size() > kMaxSkippedIds) {
        skipped_remote_ids_.erase(skipped_remote_ids_.begin(),
                                  skipped_remote_ids_.end() - static_cast<std::ptrdiff_t>(kMaxSkippedIds));
      }
      next_remote_id_ = uint64_t{id} + 2;
      return true;
    }
    auto it = std::find(skipped_remote_ids_.begin(), skipped_remote_ids_.end(), id);
    if (it == skipped_remote_ids_.end()) return false;
    skipped_remote_ids_.erase(it);
    return true;
  }

  // Hands a stream the remote opened to on_stream (nobody there: it is dropped, which resets it). Its ACK
  // waits for our first frame on it; a window beyond the spec's is announced now that the application has
  // it. Returns false when the callback destroyed the connection.
  bool Accept(std::unique_ptr<YamuxStream> stream) {
    YamuxStream* s = stream.get();
    const uint32_t id = s->id();
    if (handlers_.on_stream) {
      Liveness::Scope scope(&liveness_);
      handlers_.on_stream(std::move(stream));
      if (!scope.alive()) return false;
    } else {
      stream.reset();
    }
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second != s) return true;  // Dropped in the callback.
    if (const uint32_t growth = GrowWindow(s, initial_window_); growth > 0) {
      SendWindowUpdate(s, growth);
      ScheduleFlush();
    }
    return true;
  }

  // Data after the remote's FIN: that stream is reset, the connection carries on (see yamux.h).
  bool ResetAfterFin(YamuxStream* s) {
    const uint32_t id = s->id();
    OnStreamReset(s);
    Liveness::Scope scope(&liveness_);
    s->OnRemoteReset(
        InvalidArgumentError("yamux: the remote sent data after its FIN on stream " + std::to_string(id)));
    return scope.alive();
  }

  void OnPing(const YamuxHeader& h) {
    if (h.flags & kYamuxSyn) QueueControl(YamuxHeader{YamuxType::kPing, kYamuxAck, 0, h.length});
    if (!(h.flags & kYamuxAck)) return;
    pings_unanswered_ = 0;
    if (!ping_outstanding_ || h.length != ping_value_) return;
    ping_outstanding_ = false;
    const Duration sample = loop_->Now() - ping_sent_at_;
    rtt_ = rtt_known_ ? (rtt_ + sample) / 2 : sample;
    rtt_known_ = true;
  }

  // Applies a frame's FIN and RST once its body has been delivered. A callback may destroy the connection.
  void FinishFrame() {
    const YamuxHeader h = current_;
    if (h.type != YamuxType::kData && h.type != YamuxType::kWindowUpdate) return;
    if (!(h.flags & (kYamuxFin | kYamuxRst))) return;
    YamuxStream* s = FindStream(h.stream_id);
    if (s == nullptr) return;
    if (h.flags & kYamuxRst) {
      Forget(s);
      s->OnRemoteReset(UnavailableError("yamux stream reset by the remote"));
      return;
    }
    if (s->remote_fin) return;
    if (s->fin_sent) Forget(s);
    s->OnRemoteFin();
  }

  void OnKeepalive() {
    if (pings_unanswered_ >= 2) {
      return Fail(DeadlineExceededError("yamux: keep-alive pings unanswered"), /*send_go_away=*/true);
    }
    ++pings_unanswered_;
    SendPing();
    Flush();
  }

  void ProtocolError(const std::string& what) { Fail(InvalidArgumentError(what), /*send_go_away=*/true); }

  // Ends the connection: every stream fails with `error`, and on_closed hears it from the loop.
  void Fail(Status error, bool send_go_away) {
    if (closed_) return;
    closed_ = true;
    keepalive_timer_->Cancel();
    flush_task_->Cancel();
    if (send_go_away) {
      QueueControl(YamuxHeader{YamuxType::kGoAway, 0, 0,
                               error.code() == StatusCode::kInvalidArgument ? kGoAwayProtocolError
                                                                            : kGoAwayInternalError});
      WriteOut();
      secure_->CloseWrite();
    }
    out_.clear();
    DetachAll(error);
    closed_error_ = std::move(error);
    closed_task_->Post();
  }

  void RunOnClosed() {
    auto on_closed = std::move(handlers_.on_closed);
    handlers_.on_stream = nullptr;
    if (on_closed) on_closed(closed_error_);
  }

  EventLoop* const loop_;
  std::unique_ptr<RawConnection> secure_;
  Handlers handlers_;
  const YamuxOptions options_;
  MemoryBudget* const budget_;
  const uint32_t max_window_;
  const uint32_t initial_window_;
  const Multiaddr local_addr_ = secure_->local_addr();
  const Multiaddr remote_addr_ = secure_->remote_addr();
  uint32_t next_id_;
  const uint32_t remote_parity_;
  uint64_t next_remote_id_;                   // The lowest id above every one the remote opened.
  std::vector<uint32_t> skipped_remote_ids_;   // Ids below it the remote has not opened (the last 64).
  std::unordered_map<uint32_t, YamuxStream*> streams_;
  size_t inbound_count_ = 0;
  size_t outbound_count_ = 0;
  size_t unacked_outbound_ = 0;  // Outbound streams whose ACK has not arrived.
  Fifo<uint32_t> send_queue_;
  Bytes out_;  // Frames for the secure connection: queued control frames, then a flush's stream data.
  // Frame parsing.
  uint8_t header_[kYamuxHeaderSize];
  size_t header_size_ = 0;
  YamuxHeader current_;
  uint32_t body_remaining_ = 0;
  // The stream the body being read goes to, found by OnHeader: an observer, cleared when that stream
  // leaves streams_ (Forget, DetachAll). Null: the body is discarded.
  YamuxStream* body_target_ = nullptr;
  // The stream FindStream found last: an observer, cleared as body_target_ is.
  YamuxStream* last_found_ = nullptr;
  // State.
  bool closed_ = false;
  bool go_away_received_ = false;
  int pings_unanswered_ = 0;
  uint32_t ping_value_ = 0;
  bool ping_outstanding_ = false;  // The ping with ping_value_ awaits its answer.
  MonoTime ping_sent_at_;
  bool rtt_known_ = false;
  Duration rtt_{};  // Smoothed round-trip time.
  Status closed_error_;
  Liveness liveness_;
  std::unique_ptr<Task> flush_task_;
  std::unique_ptr<Task> closed_task_;
  std::unique_ptr<Timer> keepalive_timer_;
};

YamuxStream::~YamuxStream() {
  if (conn_ != nullptr) conn_->OnStreamReset(this);
}

Status YamuxStream::Send(ByteSpan data, const std::shared_ptr<const Bytes>* owner) {
  if (reset_) return FailedPreconditionError("write on a reset yamux stream");
  if (fin_requested) return FailedPreconditionError("write after CloseWrite on a yamux stream");
  if (conn_ == nullptr || dead()) return UnavailableError("yamux stream is closed");
  if (data.empty()) return OkStatus();
  if (outbox_size_ + data.size() > limits_.hard_limit) {
    Reset();
    return ResourceExhaustedError("yamux stream write buffer over its hard limit");
  }
  if (outbox_size_ == 0) {
    data = data.subspan(conn_->WriteDirect(this, data, owner));
    // All sent, or the connection failed (which unlinked the stream and reports the failure from the loop).
    if (data.empty() || conn_ == nullptr) return OkStatus();
  }
  outbox_.push_back(Bytes(data.begin(), data.end()));
  outbox_size_ += data.size();
  if (outbox_size_ >= limits_.high_water) blocked_ = true;
  conn_->OnStreamWrite(this);
  // What the send window did not let out stays queued, on the connection's budget.
  if (conn_ != nullptr && !conn_->ReserveOutbox(this)) {
    Reset();
    return ResourceExhaustedError("yamux stream write queue over the connection's memory budget");
  }
  return OkStatus();
}

void YamuxStream::CloseWrite() {
  if (fin_requested || reset_ || conn_ == nullptr) return;
  fin_requested = true;
  conn_->OnStreamCloseWrite(this);
}

void YamuxStream::Reset() {
  if (reset_) return;
  reset_ = true;
  MarkDead();
  error_after_eof_ = false;
  if (conn_ != nullptr) conn_->OnStreamReset(this);  // Unlinks it, dropping the outbox.
}

size_t YamuxStream::TakeOutput(size_t max, Bytes* out) {
  size_t taken = 0;
  while (taken < max && !outbox_.empty()) {
    Bytes& front = outbox_.front();
    const size_t n = std::min(max - taken, front.size() - front_offset_);
    out->insert(out->end(), front.begin() + front_offset_, front.begin() + front_offset_ + n);
    front_offset_ += n;
    taken += n;
    if (front_offset_ == front.size()) {
      outbox_.pop_front();
      front_offset_ = 0;
    }
  }
  outbox_size_ -= taken;
  return taken;
}

void YamuxStream::OnBytesConsumed(int64_t n) {
  if (conn_ != nullptr) conn_->Credit(this, n);
}

}  // namespace

std::unique_ptr<MuxedConnection> CreateYamuxConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                                       bool initiator, MuxedConnection::Handlers handlers,
                                                       YamuxOptions options) {
  return std::make_unique<YamuxConnection>(loop, std::move(secure), initiator, std::move(handlers), options);
}

}  // namespace libp2p::stream
