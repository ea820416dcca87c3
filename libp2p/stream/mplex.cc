#include "libp2p/stream/mplex.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libp2p/base/liveness.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {

// ---------------------------------------------------------------------------------------------------------
// Wire format.

namespace {

constexpr uint64_t kFlagMask = 7;
constexpr uint64_t kLastFlag = static_cast<uint64_t>(MplexFlag::kResetInitiator);
// A minimal varint of more than this many bytes is at least 2^21, beyond kMplexMaxMessageSize.
constexpr size_t kMaxLengthVarintSize = 3;
static_assert(kMplexMaxMessageSize < (size_t{1} << (7 * kMaxLengthVarintSize)));

}  // namespace

void AppendMplexFrame(uint64_t id, MplexFlag flag, ByteSpan data, Bytes* out) {
  assert(id <= kMplexMaxStreamId);
  assert(data.size() <= kMplexMaxMessageSize);
  AppendUvarint(id << 3 | static_cast<uint64_t>(flag), out);
  AppendUvarint(data.size(), out);
  out->insert(out->end(), data.begin(), data.end());
}

Bytes EncodeMplexFrame(const MplexFrame& frame) {
  Bytes out;
  out.reserve(2 * kMaxUvarintLength + frame.data.size());
  AppendMplexFrame(frame.id, frame.flag, frame.data, &out);
  return out;
}

StatusOr<MplexFrame> DecodeMplexFrame(ByteSpan in) {
  MplexFrameDecoder decoder;
  MplexFrameDecoder::View view;
  ASSIGN_OR_RETURN(const bool complete, decoder.Next(&in, &view));
  if (!complete) return InvalidArgumentError("mplex message truncated");
  if (!in.empty()) return InvalidArgumentError("mplex message followed by extra bytes");
  return MplexFrame{view.id, view.flag, Bytes(view.data.begin(), view.data.end())};
}

Status MplexFrameDecoder::Fail(Status status) {
  error_ = std::move(status);
  return error_;
}

StatusOr<bool> MplexFrameDecoder::ReadVarint(ByteSpan* in, uint64_t* value) {
  // Gather up to the longest possible varint; a varint split across calls keeps its first bytes here.
  const size_t old = varint_size_;
  const size_t take = std::min(in->size(), kMaxUvarintLength - old);
  std::copy_n(in->data(), take, varint_.data() + old);
  const UvarintDecode d = DecodeUvarint(ByteSpan(varint_.data(), old + take));
  if (d.error == UvarintError::kIncomplete) {
    varint_size_ = old + take;
    *in = in->subspan(take);
    if (stage_ == Stage::kLength && varint_size_ >= kMaxLengthVarintSize) {
      return Fail(
          OutOfRangeError("mplex message longer than " + std::to_string(kMplexMaxMessageSize) + " bytes"));
    }
    return false;
  }
  if (d.error != UvarintError::kNone) {
    return Fail(InvalidArgumentError(std::string("mplex ") +
                                     (stage_ == Stage::kHeader ? "header" : "length") +
                                     " varint: " + UvarintErrorMessage(d.error)));
  }
  // The bytes gathered earlier held no terminator, so the varint ends inside this call's bytes.
  *in = in->subspan(d.length - old);
  varint_size_ = 0;
  *value = d.value;
  return true;
}

StatusOr<bool> MplexFrameDecoder::Next(ByteSpan* in, View* frame) {
  if (!error_.ok()) return error_;
  if (body_ready_) {
    body_ready_ = false;
    // Do not keep a large buffer for a connection that sent one large split message.
    if (body_.capacity() > kMplexWriteChunkSize) {
      Bytes().swap(body_);
    } else {
      body_.clear();
    }
  }
  // A message with empty data completes with the last byte of its length, so the body stage runs even when
  // the input is used up.
  while (!in->empty() || (stage_ == Stage::kBody && length_ == 0)) {
    uint64_t value = 0;
    switch (stage_) {
      case Stage::kHeader: {
        ASSIGN_OR_RETURN(const bool done, ReadVarint(in, &value));
        if (!done) return false;
        if ((value & kFlagMask) > kLastFlag)
          return Fail(InvalidArgumentError("mplex message with unknown flag 7"));
        id_ = value >> 3;
        flag_ = static_cast<MplexFlag>(value & kFlagMask);
        stage_ = Stage::kLength;
        break;
      }
      case Stage::kLength: {
        ASSIGN_OR_RETURN(const bool done, ReadVarint(in, &value));
        if (!done) return false;
        if (value > kMplexMaxMessageSize) {
          return Fail(OutOfRangeError("mplex message of " + std::to_string(value) +
                                      " bytes, over the limit of " + std::to_string(kMplexMaxMessageSize)));
        }
        length_ = static_cast<size_t>(value);
        stage_ = Stage::kBody;
        break;
      }
      case Stage::kBody: {
        *frame = View{id_, flag_, ByteSpan()};
        if (body_.empty() && in->size() >= length_) {
          // The whole message is in the input: no copy.
          frame->data = in->first(length_);
          *in = in->subspan(length_);
          stage_ = Stage::kHeader;
          return true;
        }
        const size_t take = std::min(length_ - body_.size(), in->size());
        if (body_.capacity() < body_.size() + take) {
          // Grow geometrically but never past the declared length, which was checked against the limit.
          body_.reserve(std::min(length_, std::max(2 * body_.capacity(), body_.size() + take)));
        }
        body_.insert(body_.end(), in->begin(), in->begin() + take);
        *in = in->subspan(take);
        if (body_.size() < length_) return false;
        frame->data = body_;
        body_ready_ = true;
        stage_ = Stage::kHeader;
        return true;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// The muxer.

namespace {

enum class Kind { kMessage, kClose, kReset };

// The flag for a message of `kind` on a stream that we opened (`we_opened`) or accepted.
MplexFlag FlagFor(Kind kind, bool we_opened) {
  const int receiver = kind == Kind::kMessage ? 1 : kind == Kind::kClose ? 3 : 5;
  return static_cast<MplexFlag>(we_opened ? receiver + 1 : receiver);
}

// A received message with a "Receiver" flag comes from the side that accepted the stream: ours.
bool RefersToOurStream(MplexFlag flag) {
  return flag == MplexFlag::kMessageReceiver || flag == MplexFlag::kCloseReceiver ||
         flag == MplexFlag::kResetReceiver;
}

class MplexStream;

class MplexConnection final : public MuxedConnection {
 public:
  MplexConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure, Handlers handlers,
                  MuxerLimits limits);
  ~MplexConnection() override;

  std::string_view protocol() const override { return kMplexProtocolId; }
  StatusOr<std::unique_ptr<Stream>> OpenStream() override;
  size_t stream_count() const override { return outbound_.size() + inbound_.size(); }
  bool accepts_new_streams() const override { return !closed_ && write_error_.ok(); }
  void Close() override;
  const Multiaddr& local_addr() const override { return raw_->local_addr(); }
  const Multiaddr& remote_addr() const override { return raw_->remote_addr(); }

  // For the streams. Sends `data` (cut into messages of kMplexWriteChunkSize) or a message without data.
  Status SendData(uint64_t id, MplexFlag flag, ByteSpan data);
  void SendControl(uint64_t id, MplexFlag flag) { SendData(id, flag, ByteSpan()).IgnoreError(); }
  // Drops a stream that is gone (closed both ways or reset) from the tables; no message is sent.
  void Forget(const MplexStream* stream);
  size_t raw_buffered() const { return raw_->buffered_bytes(); }
  bool raw_blocked() const { return raw_->write_blocked(); }

 private:
  using StreamMap = std::unordered_map<uint64_t, MplexStream*>;

  void OnRawData(ByteSpan data);
  void HandleFrame(const MplexFrameDecoder::View& frame);
  void OnNewStream(uint64_t id);
  void OnRawWritable();
  // Ends the connection for `reason`: resets the secure connection, fails the streams, calls on_closed.
  void Fail(Status reason);
  // Unlinks every stream and has each fail from the loop with `why`. Runs no callback.
  void DetachAll(const Status& why);
  Status WriteRaw(ByteSpan bytes);
  StreamMap& MapFor(bool we_opened) { return we_opened ? outbound_ : inbound_; }
  MplexStream* Find(uint64_t id, bool we_opened);

  EventLoop* const loop_;
  std::unique_ptr<RawConnection> raw_;
  // Shared so that a callback destroying the connection does not destroy the function that is running.
  std::shared_ptr<Handlers> handlers_;
  const MuxerLimits limits_;
  MplexFrameDecoder decoder_;
  // Live streams by id: the ones we opened and the ones the remote opened. Observers: each stream unlinks
  // itself (Forget) when it is destroyed or gone, and the connection unlinks all of them when it ends.
  StreamMap outbound_;
  StreamMap inbound_;
  uint64_t next_id_ = 0;
  bool closed_ = false;
  Status write_error_;  // A failed write to the secure connection; the connection fails from the loop.
  std::unique_ptr<Task> fail_task_;
  Liveness liveness_;
};

// One mplex stream. Received bytes the reader is not ready for wait in pending_ (bounded by
// mplex_max_buffered); StreamBase holds only bytes of one delivery that the reader gave back.
class MplexStream final : public StreamBase {
 public:
  MplexStream(EventLoop* loop, MplexConnection* conn, uint64_t id, bool we_opened, const MuxerLimits& limits)
      : StreamBase(loop),
        conn_(conn),
        id_(id),
        we_opened_(we_opened),
        max_buffered_(limits.mplex_max_buffered),
        write_limits_(limits.stream_write_limits),
        budget_(limits.budget),
        task_(loop->CreateTask([this] { RunDeferred(); })) {}

  ~MplexStream() override {
    if (conn_ != nullptr) {
      conn_->SendControl(id_, FlagFor(Kind::kReset, we_opened_));
      Unregister();
    }
  }

  Status Write(ByteSpan data) override;
  size_t buffered_bytes() const override { return conn_ != nullptr ? conn_->raw_buffered() : 0; }
  bool write_blocked() const override {
    const bool blocked = conn_ != nullptr && conn_->raw_blocked();
    if (blocked) wants_writable_ = true;
    return blocked;
  }
  void CloseWrite() override;
  void Reset() override;

  // Called by the connection for the messages of this stream.
  void OnRemoteData(ByteSpan data);
  void OnRemoteClose();
  void OnRemoteReset();
  // The connection is ending: the stream fails from the loop with `why`. Runs no callback.
  void Detach(const Status& why);
  // The secure connection drained; tells a writer that saw write_blocked().
  void OnConnectionWritable() {
    wants_writable_ = false;
    NotifyWritable();
  }

  uint64_t id() const { return id_; }
  bool we_opened() const { return we_opened_; }
  bool wants_writable() const { return wants_writable_; }

 protected:
  void OnReadPauseChanged() override {
    if (!want_pause() && (!pending_.empty() || eof_pending_)) task_->Post();
  }

 private:
  // The stream leaves the connection, and gives its reservation back to the budget (which may go with the
  // connection); pending_ is no longer counted.
  void Unregister() {
    conn_->Forget(this);
    conn_ = nullptr;
    ReleasePending();
    budget_ = nullptr;
  }
  void ReleasePending() {
    if (budget_ != nullptr) budget_->Release(reserved_);
    reserved_ = 0;
  }
  // Marks the stream failed (writes then fail with kUnavailable) and drops what the reader has not taken.
  void MarkFailed(const Status& why) {
    failed_ = true;
    failure_ = why;
    pending_.clear();
    ReleasePending();
    eof_pending_ = false;
  }
  // The reader left too many bytes unread (`why` says which limit they hit): reset the stream and fail it.
  void Overflow(const Status& why);
  // Delivers a deferred failure, or bytes and the end of stream held while the reader was paused.
  void RunDeferred();

  MplexConnection* conn_;  // Null once the stream is gone from the connection, or the connection is.
  const uint64_t id_;
  const bool we_opened_;
  const size_t max_buffered_;
  const WriteLimits write_limits_;
  MemoryBudget* budget_;      // Holds pending_ while the stream is with the connection; null without.
  size_t reserved_ = 0;       // Of pending_, reserved from budget_.
  Bytes pending_;             // Received, not yet handed to StreamBase.
  bool eof_pending_ = false;  // The remote closed; deliver on_eof after pending_.
  bool write_closed_ = false;
  bool remote_closed_ = false;
  bool reset_ = false;   // Reset() was called.
  bool failed_ = false;  // Reset by the remote, over the buffer limit, or the connection ended.
  Status failure_;
  Status deferred_error_;  // A failure to deliver from the loop.
  mutable bool wants_writable_ = false;
  std::unique_ptr<Task> task_;
};

// --- MplexStream.

Status MplexStream::Write(ByteSpan data) {
  if (reset_) return FailedPreconditionError("write on a reset mplex stream");
  if (failed_) return UnavailableError("mplex stream failed: " + failure_.message());
  if (write_closed_) return FailedPreconditionError("write after CloseWrite on an mplex stream");
  if (conn_ == nullptr) return UnavailableError("mplex connection is gone");
  if (data.empty()) return OkStatus();
  if (conn_->raw_buffered() + data.size() > write_limits_.hard_limit) {
    Reset();
    return ResourceExhaustedError("mplex stream write buffer over its hard limit of " +
                                  std::to_string(write_limits_.hard_limit) + " bytes");
  }
  RETURN_IF_ERROR(conn_->SendData(id_, FlagFor(Kind::kMessage, we_opened_), data));
  if (conn_->raw_blocked()) wants_writable_ = true;
  return OkStatus();
}

void MplexStream::CloseWrite() {
  if (write_closed_ || reset_ || failed_) return;
  write_closed_ = true;
  if (conn_ == nullptr) return;
  conn_->SendControl(id_, FlagFor(Kind::kClose, we_opened_));
  if (remote_closed_) Unregister();  // Closed both ways: the stream is gone.
}

void MplexStream::Reset() {
  if (reset_) return;
  reset_ = true;
  MarkDead();
  pending_.clear();
  ReleasePending();
  eof_pending_ = false;
  deferred_error_ = OkStatus();
  task_->Cancel();
  if (conn_ != nullptr) {
    conn_->SendControl(id_, FlagFor(Kind::kReset, we_opened_));
    Unregister();
  }
}

void MplexStream::OnRemoteData(ByteSpan data) {
  if (remote_closed_ || data.empty()) return;  // Data after the remote's close is dropped.
  if (pending_.empty() && !want_pause()) {
    DeliverData(data);
    return;
  }
  if (data.size() > max_buffered_ - pending_.size()) {
    return Overflow(ResourceExhaustedError("mplex stream reset: its reader left more than " +
                                           std::to_string(max_buffered_) + " bytes unread"));
  }
  if (budget_ != nullptr) {
    if (!budget_->TryReserve(data.size())) {
      return Overflow(ResourceExhaustedError(
          "mplex stream reset: the connection's memory budget cannot hold its reader's unread bytes"));
    }
    reserved_ += data.size();
  }
  pending_.insert(pending_.end(), data.begin(), data.end());
}

void MplexStream::Overflow(const Status& why) {
  conn_->SendControl(id_, FlagFor(Kind::kReset, we_opened_));
  Unregister();
  MarkFailed(why);
  DeliverError(why);
}

void MplexStream::OnRemoteClose() {
  if (remote_closed_) return;
  remote_closed_ = true;
  if (write_closed_) Unregister();
  if (pending_.empty()) {
    DeliverEof();
  } else {
    eof_pending_ = true;
  }
}

void MplexStream::OnRemoteReset() {
  Unregister();
  const Status error = UnavailableError("mplex stream reset by the remote");
  MarkFailed(error);
  DeliverError(error);
}

void MplexStream::Detach(const Status& why) {
  conn_ = nullptr;
  ReleasePending();
  budget_ = nullptr;
  if (reset_ || failed_) return;
  MarkFailed(why);
  deferred_error_ = why;
  task_->Post();
}

void MplexStream::RunDeferred() {
  if (!deferred_error_.ok()) {
    const Status error = std::move(deferred_error_);
    deferred_error_ = OkStatus();
    DeliverError(error);
    return;
  }
  while (!pending_.empty() && !want_pause()) {
    Bytes chunk;
    chunk.swap(pending_);
    ReleasePending();
    if (!DeliverData(chunk)) return;
  }
  if (pending_.empty() && eof_pending_) {
    eof_pending_ = false;
    DeliverEof();  // StreamBase holds it while the reader is paused.
  }
}

// --- MplexConnection.

MplexConnection::MplexConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure, Handlers handlers,
                                 MuxerLimits limits)
    : loop_(loop),
      raw_(std::move(secure)),
      handlers_(std::make_shared<Handlers>(std::move(handlers))),
      limits_(limits),
      fail_task_(loop->CreateTask([this] { Fail(write_error_); })) {
  raw_->SetHandlers(
      Stream::Handlers{[this](ByteSpan data) { OnRawData(data); },
                       [this] { Fail(UnavailableError("mplex: the remote closed the connection")); },
                       [this](const Status& e) {
                         Fail(Status(e.code(), "mplex: the secure connection failed: " + e.message()));
                       },
                       [this] { OnRawWritable(); }});
}

MplexConnection::~MplexConnection() { Close(); }

StatusOr<std::unique_ptr<Stream>> MplexConnection::OpenStream() {
  if (closed_ || !write_error_.ok()) return UnavailableError("mplex connection is closed");
  if (outbound_.size() >= limits_.max_outbound_streams) {
    return ResourceExhaustedError("mplex: " + std::to_string(outbound_.size()) +
                                  " outbound streams open already");
  }
  if (next_id_ > kMplexMaxStreamId) return ResourceExhaustedError("mplex stream ids exhausted");
  const uint64_t id = next_id_++;
  // The name is the id in decimal, as the other implementations send.
  RETURN_IF_ERROR(SendData(id, MplexFlag::kNewStream, AsBytes(std::to_string(id))));
  auto stream = std::make_unique<MplexStream>(loop_, this, id, /*we_opened=*/true, limits_);
  outbound_[id] = stream.get();
  return std::unique_ptr<Stream>(std::move(stream));
}

void MplexConnection::Close() {
  if (closed_) return;
  // Reset every stream politely, then end our side; what the remote still sends is not read.
  Bytes resets;
  for (const auto& [id, s] : outbound_)
    AppendMplexFrame(id, FlagFor(Kind::kReset, true), ByteSpan(), &resets);
  for (const auto& [id, s] : inbound_)
    AppendMplexFrame(id, FlagFor(Kind::kReset, false), ByteSpan(), &resets);
  if (!resets.empty()) WriteRaw(resets).IgnoreError();
  closed_ = true;
  fail_task_->Cancel();
  raw_->CloseWrite();
  raw_->PauseReading(true);
  DetachAll(UnavailableError("mplex connection closed"));
}

Status MplexConnection::SendData(uint64_t id, MplexFlag flag, ByteSpan data) {
  // Each message's header and data go down as two writes: the secure connection copies (or seals) the
  // caller's bytes itself and coalesces the writes of the loop turn, so gathering the message in a buffer
  // first would only add a copy.
  assert(id <= kMplexMaxStreamId);
  do {
    const size_t n = std::min(data.size(), kMplexWriteChunkSize);
    uint8_t header[2 * kMaxUvarintLength];
    size_t header_size = EncodeUvarint(id << 3 | static_cast<uint64_t>(flag), header);
    header_size += EncodeUvarint(n, header + header_size);
    RETURN_IF_ERROR(WriteRaw(ByteSpan(header, header_size)));
    if (n > 0) RETURN_IF_ERROR(WriteRaw(data.first(n)));
    data = data.subspan(n);
  } while (!data.empty());
  return OkStatus();
}

Status MplexConnection::WriteRaw(ByteSpan bytes) {
  if (closed_) return UnavailableError("mplex connection is closed");
  if (!write_error_.ok()) return write_error_;
  if (Status s = raw_->Write(bytes); !s.ok()) {
    // Failing now would run callbacks inside the caller's Write(); fail from the loop instead.
    write_error_ = UnavailableError("mplex: writing to the secure connection failed: " + s.message());
    fail_task_->Post();
    return write_error_;
  }
  return OkStatus();
}

void MplexConnection::Forget(const MplexStream* stream) {
  StreamMap& map = MapFor(stream->we_opened());
  auto it = map.find(stream->id());
  assert(it != map.end() && it->second == stream);
  if (it != map.end() && it->second == stream) map.erase(it);
}

MplexStream* MplexConnection::Find(uint64_t id, bool we_opened) {
  StreamMap& map = MapFor(we_opened);
  auto it = map.find(id);
  return it == map.end() ? nullptr : it->second;
}

void MplexConnection::OnRawData(ByteSpan data) {
  Liveness::Scope scope(&liveness_);
  while (!closed_ && !data.empty()) {
    MplexFrameDecoder::View frame;
    StatusOr<bool> complete = decoder_.Next(&data, &frame);
    if (!complete.ok()) {
      return Fail(Status(complete.status().code(), "mplex protocol error: " + complete.status().message()));
    }
    if (!*complete) return;
    HandleFrame(frame);
    if (!scope.alive()) return;
  }
}

void MplexConnection::HandleFrame(const MplexFrameDecoder::View& frame) {
  if (frame.flag == MplexFlag::kNewStream) return OnNewStream(frame.id);
  MplexStream* stream = Find(frame.id, RefersToOurStream(frame.flag));
  // Messages for a stream already closed or reset race with our reset: ignore them.
  if (stream == nullptr) return;
  switch (frame.flag) {
    case MplexFlag::kMessageReceiver:
    case MplexFlag::kMessageInitiator:
      return stream->OnRemoteData(frame.data);
    case MplexFlag::kCloseReceiver:
    case MplexFlag::kCloseInitiator:
      return stream->OnRemoteClose();
    case MplexFlag::kResetReceiver:
    case MplexFlag::kResetInitiator:
      return stream->OnRemoteReset();
    case MplexFlag::kNewStream:
      return;
  }
}

void MplexConnection::OnNewStream(uint64_t id) {
  if (inbound_.count(id) != 0) return;  // A NewStream for a stream the remote has open: ignored.
  std::shared_ptr<Handlers> h = handlers_;
  if (inbound_.size() >= limits_.max_inbound_streams || !h->on_stream) {
    SendControl(id, FlagFor(Kind::kReset, /*we_opened=*/false));
    return;
  }
  auto stream = std::make_unique<MplexStream>(loop_, this, id, /*we_opened=*/false, limits_);
  inbound_[id] = stream.get();
  h->on_stream(std::move(stream));  // May destroy this.
}

void MplexConnection::OnRawWritable() {
  Liveness::Scope scope(&liveness_);
  std::vector<std::pair<uint64_t, bool>> waiting;
  for (const StreamMap* map : {&outbound_, &inbound_}) {
    for (const auto& [id, s] : *map) {
      if (s->wants_writable()) waiting.emplace_back(id, s->we_opened());
    }
  }
  for (const auto& [id, we_opened] : waiting) {
    // A writer woken earlier may have filled the buffer again; the rest then wait for the next drain.
    if (closed_ || raw_->write_blocked()) return;
    MplexStream* stream = Find(id, we_opened);
    if (stream == nullptr) continue;  // Destroyed or gone during an earlier callback.
    stream->OnConnectionWritable();
    if (!scope.alive()) return;
  }
}

void MplexConnection::Fail(Status reason) {
  if (closed_) return;
  closed_ = true;
  fail_task_->Cancel();
  raw_->Reset();
  DetachAll(UnavailableError("mplex connection failed: " + reason.message()));
  std::shared_ptr<Handlers> h = handlers_;
  if (h->on_closed) h->on_closed(reason);  // May destroy this.
}

void MplexConnection::DetachAll(const Status& why) {
  std::vector<MplexStream*> streams;
  streams.reserve(stream_count());
  for (const auto& [id, s] : outbound_) streams.push_back(s);
  for (const auto& [id, s] : inbound_) streams.push_back(s);
  outbound_.clear();
  inbound_.clear();
  for (MplexStream* s : streams) s->Detach(why);
}

}  // namespace

std::unique_ptr<MuxedConnection> CreateMplexConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                                       bool initiator, MuxedConnection::Handlers handlers,
                                                       MuxerLimits limits) {
  // Each side numbers its own streams and the flags say whose stream a message is for, so mplex behaves the
  // same on both sides.
  (void)initiator;
  return std::make_unique<MplexConnection>(loop, std::move(secure), std::move(handlers), limits);
}

}  // namespace libp2p::stream
