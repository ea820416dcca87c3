#include "libp2p/stream/yamux.h"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>

#include "libp2p/base/liveness.h"
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

class YamuxConnection;

class YamuxStream final : public StreamBase {
 public:
  YamuxStream(EventLoop* loop, YamuxConnection* conn, uint32_t id, WriteLimits limits)
      : StreamBase(loop), conn_(conn), id_(id), limits_(limits),
        error_timer_(loop->CreateTimer([this] { DeliverError(detach_error_); })),
        writable_timer_(loop->CreateTimer([this] { NotifyWritable(); })) {}
  ~YamuxStream() override;

  Status Write(ByteSpan data) override;
  size_t buffered_bytes() const override { return outbox_size_; }
  bool write_blocked() const override { return blocked_; }
  void CloseWrite() override;
  void Reset() override;

  // --- Used by the connection. ---
  uint32_t id() const { return id_; }
  // The connection is gone: writes fail and the reader hears `error` (unless the stream had finished).
  void Detach(const Status& error) {
    conn_ = nullptr;
    if (dead() || (remote_fin_ && fin_sent_)) return;
    detach_error_ = error;
    error_timer_->Schedule(Duration::zero());
  }
  bool has_pending_output() const { return outbox_size_ > 0 || (fin_requested_ && !fin_sent_); }
  bool outbox_has_data() const { return outbox_size_ > 0; }
  // Moves up to `max` bytes of the outbox into `out` (after a header the caller writes).
  size_t TakeOutput(size_t max, Bytes* out);
  void AfterOutputTaken() {
    if (blocked_ && outbox_size_ < limits_.low_water) {
      blocked_ = false;
      writable_timer_->Schedule(Duration::zero());
    }
  }
  bool OnRemoteData(ByteSpan data) { return DeliverData(data); }
  bool OnRemoteFin() {
    remote_fin_ = true;
    return DeliverEof();
  }
  bool OnRemoteReset() {
    conn_ = nullptr;
    return DeliverError(UnavailableError("yamux stream reset by the remote"));
  }
  bool finished() const { return remote_fin_ && fin_sent_; }
  // The connection forgets a finished stream; it no longer refers back.
  void Release() { conn_ = nullptr; }

  uint64_t send_window = kYamuxInitialWindow;  // What the remote lets us send.
  uint32_t recv_window = kYamuxInitialWindow;  // What we let the remote send, not yet used.
  int64_t pending_credit = 0;                  // Consumed bytes not yet returned to the remote.
  bool ack_needed = false;                     // Inbound: our first frame carries ACK.
  bool syn_needed = false;                     // Outbound: our first frame carries SYN.
  bool fin_requested_ = false;
  bool fin_sent_ = false;
  bool remote_fin_ = false;

 protected:
  void OnBytesConsumed(int64_t n) override;

 private:
  YamuxConnection* conn_;  // Null once the connection is gone or the stream reset.
  const uint32_t id_;
  const WriteLimits limits_;
  std::deque<Bytes> outbox_;
  size_t front_offset_ = 0;
  size_t outbox_size_ = 0;
  bool blocked_ = false;
  bool reset_ = false;
  Status detach_error_;
  std::unique_ptr<Timer> error_timer_;
  std::unique_ptr<Timer> writable_timer_;
};

class YamuxConnection final : public MuxedConnection {
 public:
  YamuxConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure, bool initiator, Handlers handlers,
                  YamuxOptions options)
      : loop_(loop), secure_(std::move(secure)), handlers_(std::move(handlers)), options_(options),
        next_id_(initiator ? 1 : 2), remote_parity_(initiator ? 0 : 1),
        flush_timer_(loop->CreateTimer([this] { Flush(); })),
        keepalive_timer_(loop->CreateTimer([this] { OnKeepalive(); })),
        closed_timer_(loop->CreateTimer([this] { RunOnClosed(); })) {
    secure_->SetHandlers(Stream::Handlers{
        [this](ByteSpan data) { OnData(data); },
        [this] { Fail(UnavailableError("yamux: connection closed by the remote"), /*send_go_away=*/false); },
        [this](const Status& e) { Fail(UnavailableError("yamux: connection failed: " + e.message()), false); },
        [this] { Flush(); }});
    if (options_.keepalive_interval > Duration::zero()) keepalive_timer_->ScheduleRepeating(options_.keepalive_interval);
  }

  ~YamuxConnection() override {
    DetachAll(UnavailableError("yamux connection closed"));
  }

  std::string_view protocol() const override { return kYamuxProtocolId; }
  size_t stream_count() const override { return streams_.size(); }
  const Multiaddr& local_addr() const override { return local_addr_; }
  const Multiaddr& remote_addr() const override { return remote_addr_; }

  StatusOr<std::unique_ptr<Stream>> OpenStream() override {
    if (closed_) return UnavailableError("yamux connection is closed");
    if (go_away_received_) return UnavailableError("yamux: the remote sent GoAway");
    if (outbound_count_ >= options_.limits.max_outbound_streams) {
      return ResourceExhaustedError("yamux: too many outbound streams");
    }
    if (next_id_ > UINT32_MAX - 2) return ResourceExhaustedError("yamux: stream ids exhausted");
    const uint32_t id = next_id_;
    next_id_ += 2;
    auto stream = std::make_unique<YamuxStream>(loop_, this, id, options_.limits.stream_write_limits);
    stream->syn_needed = true;
    streams_[id] = stream.get();
    ++outbound_count_;
    // Announce the stream at once with a window update carrying SYN.
    SendWindowUpdate(stream.get(), 0);
    ScheduleFlush();
    return std::unique_ptr<Stream>(std::move(stream));
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    keepalive_timer_->Cancel();
    QueueControl(YamuxHeader{YamuxType::kGoAway, 0, 0, kGoAwayNormal});
    FlushControl();
    DetachAll(UnavailableError("yamux connection closed"));
    secure_->CloseWrite();
  }

  // --- Used by streams. ---
  void OnStreamWrite(YamuxStream* s) {
    if (!in_send_queue_[s->id()]) {
      in_send_queue_[s->id()] = true;
      send_queue_.push_back(s->id());
    }
    Flush();
  }
  void OnStreamDestroyed(YamuxStream* s, bool clean) {
    if (!clean) QueueControl(YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, s->id(), 0});
    Forget(s);
    ScheduleFlush();
  }
  void OnStreamReset(YamuxStream* s) {
    QueueControl(YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, s->id(), 0});
    Forget(s);
    ScheduleFlush();
  }
  void Credit(YamuxStream* s, int64_t n) {
    s->pending_credit += n;
    // Return credit once half the window has been consumed, in one update.
    if (s->pending_credit >= static_cast<int64_t>(kYamuxInitialWindow / 2) && !s->remote_fin_) {
      const uint32_t delta = static_cast<uint32_t>(s->pending_credit);
      s->pending_credit = 0;
      s->recv_window += delta;
      SendWindowUpdate(s, delta);
      ScheduleFlush();
    }
  }
  void MaybeForget(YamuxStream* s) {
    if (s->finished()) Forget(s);
  }

 private:
  void Forget(YamuxStream* s) {
    auto it = streams_.find(s->id());
    if (it == streams_.end() || it->second != s) return;
    streams_.erase(it);
    in_send_queue_.erase(s->id());
    s->Release();
    if ((s->id() & 1) == remote_parity_) {
      --inbound_count_;
    } else {
      --outbound_count_;
    }
  }

  void DetachAll(const Status& error) {
    for (auto& [id, s] : streams_) s->Detach(error);
    streams_.clear();
    in_send_queue_.clear();
    send_queue_.clear();
    inbound_count_ = outbound_count_ = 0;
  }

  uint16_t FirstFrameFlags(YamuxStream* s) {
    uint16_t flags = 0;
    if (s->syn_needed) flags |= kYamuxSyn;
    if (s->ack_needed) flags |= kYamuxAck;
    s->syn_needed = s->ack_needed = false;
    return flags;
  }

  void SendWindowUpdate(YamuxStream* s, uint32_t delta) {
    QueueControl(YamuxHeader{YamuxType::kWindowUpdate, FirstFrameFlags(s), s->id(), delta});
  }

  void QueueControl(const YamuxHeader& h) {
    const size_t at = control_.size();
    control_.resize(at + kYamuxHeaderSize);
    h.EncodeTo(control_.data() + at);
  }

  void ScheduleFlush() { flush_timer_->Schedule(Duration::zero()); }

  void FlushControl() {
    if (control_.empty() || secure_ == nullptr) return;
    Bytes out;
    out.swap(control_);
    secure_->Write(out).IgnoreError();  // A failure surfaces through on_error.
  }

  // Writes control frames, then stream data round-robin within the send windows, while the secure
  // connection accepts more.
  void Flush() {
    if (secure_ == nullptr) return;
    FlushControl();
    while (!send_queue_.empty() && !secure_->write_blocked()) {
      batch_.clear();
      size_t rounds = send_queue_.size();
      while (rounds-- > 0 && batch_.size() < kBatchSize && !send_queue_.empty()) {
        const uint32_t id = send_queue_.front();
        send_queue_.pop_front();
        auto it = streams_.find(id);
        if (it == streams_.end()) continue;
        YamuxStream* s = it->second;
        in_send_queue_[id] = false;
        AppendStreamOutput(s);
        s->AfterOutputTaken();
        if (s->has_pending_output() && s->send_window > 0) {
          in_send_queue_[id] = true;
          send_queue_.push_back(id);
        }
        if (s->finished()) Forget(s);
      }
      if (batch_.empty()) break;
      if (!secure_->Write(batch_).ok()) return;
    }
  }

  void AppendStreamOutput(YamuxStream* s) {
    while (s->outbox_has_data() && s->send_window > 0 && batch_.size() < kBatchSize) {
      const size_t n = std::min<uint64_t>({s->send_window, kYamuxMaxDataFrame});
      const size_t header_at = batch_.size();
      batch_.resize(header_at + kYamuxHeaderSize);
      const size_t taken = s->TakeOutput(n, &batch_);
      s->send_window -= taken;
      uint16_t flags = FirstFrameFlags(s);
      if (!s->outbox_has_data() && s->fin_requested_ && !s->fin_sent_) {
        flags |= kYamuxFin;
        s->fin_sent_ = true;
      }
      YamuxHeader{YamuxType::kData, flags, s->id(), static_cast<uint32_t>(taken)}.EncodeTo(batch_.data() + header_at);
    }
    if (!s->outbox_has_data() && s->fin_requested_ && !s->fin_sent_) {
      s->fin_sent_ = true;
      const size_t at = batch_.size();
      batch_.resize(at + kYamuxHeaderSize);
      YamuxHeader{YamuxType::kData, static_cast<uint16_t>(FirstFrameFlags(s) | kYamuxFin), s->id(), 0}.EncodeTo(
          batch_.data() + at);
    }
  }

  void OnData(ByteSpan data) {
    Liveness::Scope scope(&liveness_);
    while (!data.empty() && !closed_) {
      if (body_remaining_ > 0) {
        const size_t n = std::min<size_t>(body_remaining_, data.size());
        const ByteSpan piece = data.first(n);
        data = data.subspan(n);
        body_remaining_ -= static_cast<uint32_t>(n);
        auto it = streams_.find(body_stream_);
        if (it != streams_.end() && !it->second->remote_fin_) {
          if (!it->second->OnRemoteData(piece) && !scope.alive()) return;
          if (!scope.alive()) return;
        }
        if (body_remaining_ == 0 && !FinishFrame() && !scope.alive()) return;
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
        body_remaining_ = current_.length;
        body_stream_ = current_.stream_id;
      } else if (!FinishFrame()) {
        return;
      }
      if (!scope.alive()) return;
    }
    if (!scope.alive()) return;
    Flush();
  }

  // Handles a frame header. Returns false when the connection ended or was destroyed.
  bool OnHeader() {
    const YamuxHeader& h = current_;
    switch (h.type) {
      case YamuxType::kPing:
        if (h.flags & kYamuxSyn) QueueControl(YamuxHeader{YamuxType::kPing, kYamuxAck, 0, h.length});
        if (h.flags & kYamuxAck) pings_unanswered_ = 0;
        return true;
      case YamuxType::kGoAway:
        go_away_received_ = true;
        return true;
      case YamuxType::kData:
      case YamuxType::kWindowUpdate:
        break;
    }
    if (h.stream_id == 0) {
      ProtocolError("yamux data or window update on stream 0");
      return false;
    }
    auto it = streams_.find(h.stream_id);
    if (h.flags & kYamuxSyn) {
      if (it != streams_.end() || (h.stream_id & 1) != remote_parity_) {
        ProtocolError("yamux SYN for stream " + std::to_string(h.stream_id) + " that is in use or not the remote's");
        return false;
      }
      if (closed_ || inbound_count_ >= options_.limits.max_inbound_streams) {
        QueueControl(YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, h.stream_id, 0});
        return true;  // Its data, if any, is discarded.
      }
      auto stream = std::make_unique<YamuxStream>(loop_, this, h.stream_id, options_.limits.stream_write_limits);
      stream->ack_needed = true;
      streams_[h.stream_id] = stream.get();
      ++inbound_count_;
      SendWindowUpdate(stream.get(), 0);
      YamuxStream* raw = stream.get();
      if (!CheckDataFits(raw, h)) return false;
      if (handlers_.on_stream) {
        Liveness::Scope scope(&liveness_);
        handlers_.on_stream(std::move(stream));
        if (!scope.alive()) return false;
      }
      return true;
    }
    if (it == streams_.end()) return true;  // A late frame for a stream already gone.
    YamuxStream* s = it->second;
    if (h.type == YamuxType::kWindowUpdate) {
      const uint64_t window = s->send_window + h.length;
      if (window > UINT32_MAX) {
        ProtocolError("yamux window update overflows the send window");
        return false;
      }
      s->send_window = window;
      if (s->has_pending_output() && !in_send_queue_[s->id()]) {
        in_send_queue_[s->id()] = true;
        send_queue_.push_back(s->id());
      }
      return true;
    }
    return CheckDataFits(s, h);
  }

  bool CheckDataFits(YamuxStream* s, const YamuxHeader& h) {
    if (h.type != YamuxType::kData) return true;
    if (h.length > s->recv_window) {
      ProtocolError("yamux: " + std::to_string(h.length) + " bytes exceed the receive window of stream " +
                    std::to_string(h.stream_id));
      return false;
    }
    s->recv_window -= h.length;
    return true;
  }

  // Applies a frame's FIN and RST once its body has been delivered. Returns false when the connection was
  // destroyed by a callback.
  bool FinishFrame() {
    const YamuxHeader h = current_;
    if (h.type != YamuxType::kData && h.type != YamuxType::kWindowUpdate) return true;
    if (!(h.flags & (kYamuxFin | kYamuxRst))) return true;
    auto it = streams_.find(h.stream_id);
    if (it == streams_.end()) return true;
    YamuxStream* s = it->second;
    Liveness::Scope scope(&liveness_);
    if (h.flags & kYamuxRst) {
      Forget(s);
      s->OnRemoteReset();
      return scope.alive();
    }
    if (s->remote_fin_) return true;
    const bool finished_after = s->fin_sent_;
    if (finished_after) Forget(s);
    s->OnRemoteFin();
    return scope.alive();
  }

  void OnKeepalive() {
    if (pings_unanswered_ >= 2) {
      return Fail(DeadlineExceededError("yamux: keep-alive pings unanswered"), /*send_go_away=*/true);
    }
    ++pings_unanswered_;
    QueueControl(YamuxHeader{YamuxType::kPing, kYamuxSyn, 0, ++ping_value_});
    Flush();
  }

  void ProtocolError(const std::string& what) { Fail(InvalidArgumentError(what), /*send_go_away=*/true); }

  void Fail(Status error, bool send_go_away) {
    if (closed_) return;
    closed_ = true;
    keepalive_timer_->Cancel();
    if (send_go_away && secure_ != nullptr) {
      QueueControl(YamuxHeader{YamuxType::kGoAway, 0, 0,
                               error.code() == StatusCode::kInvalidArgument ? kGoAwayProtocolError
                                                                            : kGoAwayInternalError});
      FlushControl();
      secure_->CloseWrite();
    }
    DetachAll(error);
    closed_error_ = std::move(error);
    closed_timer_->Schedule(Duration::zero());
  }

  void RunOnClosed() {
    auto on_closed = std::move(handlers_.on_closed);
    handlers_.on_stream = nullptr;
    if (on_closed) on_closed(closed_error_);  // May destroy this.
  }

  EventLoop* const loop_;
  std::unique_ptr<RawConnection> secure_;
  Handlers handlers_;
  const YamuxOptions options_;
  const Multiaddr local_addr_ = secure_->local_addr();
  const Multiaddr remote_addr_ = secure_->remote_addr();
  uint32_t next_id_;
  const uint32_t remote_parity_;
  std::unordered_map<uint32_t, YamuxStream*> streams_;
  size_t inbound_count_ = 0;
  size_t outbound_count_ = 0;
  std::deque<uint32_t> send_queue_;
  std::unordered_map<uint32_t, bool> in_send_queue_;
  Bytes control_;
  Bytes batch_;
  // Frame parsing.
  uint8_t header_[kYamuxHeaderSize];
  size_t header_size_ = 0;
  YamuxHeader current_;
  uint32_t body_remaining_ = 0;
  uint32_t body_stream_ = 0;
  // State.
  bool closed_ = false;
  bool go_away_received_ = false;
  int pings_unanswered_ = 0;
  uint32_t ping_value_ = 0;
  Status closed_error_;
  Liveness liveness_;
  std::unique_ptr<Timer> flush_timer_;
  std::unique_ptr<Timer> keepalive_timer_;
  std::unique_ptr<Timer> closed_timer_;
};

YamuxStream::~YamuxStream() {
  if (conn_ != nullptr) conn_->OnStreamDestroyed(this, /*clean=*/finished());
}

Status YamuxStream::Write(ByteSpan data) {
  if (reset_) return FailedPreconditionError("write on a reset yamux stream");
  if (fin_requested_) return FailedPreconditionError("write after CloseWrite on a yamux stream");
  if (conn_ == nullptr || dead()) return UnavailableError("yamux stream is closed");
  if (data.empty()) return OkStatus();
  if (outbox_size_ + data.size() > limits_.hard_limit) {
    Reset();
    return ResourceExhaustedError("yamux stream write buffer over its hard limit");
  }
  outbox_.emplace_back(data.begin(), data.end());
  outbox_size_ += data.size();
  if (outbox_size_ >= limits_.high_water) blocked_ = true;
  conn_->OnStreamWrite(this);
  return OkStatus();
}

void YamuxStream::CloseWrite() {
  if (fin_requested_ || reset_ || conn_ == nullptr) return;
  fin_requested_ = true;
  conn_->OnStreamWrite(this);
}

void YamuxStream::Reset() {
  if (reset_) return;
  reset_ = true;
  MarkDead();
  outbox_.clear();
  outbox_size_ = 0;
  if (conn_ != nullptr) {
    YamuxConnection* conn = conn_;
    conn_ = nullptr;
    conn->OnStreamReset(this);
  }
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
