#include "libp2p/stream/identify.h"

#include <utility>

#include "libp2p/base/proto_wire.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/peer_record.h"

namespace libp2p::stream {
namespace {

constexpr uint32_t kPublicKeyField = 1;
constexpr uint32_t kListenAddrsField = 2;
constexpr uint32_t kProtocolsField = 3;
constexpr uint32_t kObservedAddrField = 4;
constexpr uint32_t kProtocolVersionField = 5;
constexpr uint32_t kAgentVersionField = 6;
constexpr uint32_t kSignedPeerRecordField = 8;

}  // namespace

Bytes IdentifyInfo::Encode() const {
  Bytes out;
  if (public_key.has_value()) proto::AppendBytesField(kPublicKeyField, public_key->ToProtobuf(), &out);
  for (const Multiaddr& addr : listen_addrs) {
    if (!addr.empty()) proto::AppendBytesField(kListenAddrsField, addr.bytes(), &out);
  }
  for (const std::string& protocol : protocols) proto::AppendBytesField(kProtocolsField, protocol, &out);
  if (observed_addr.has_value() && !observed_addr->empty()) {
    proto::AppendBytesField(kObservedAddrField, observed_addr->bytes(), &out);
  }
  if (!protocol_version.empty()) proto::AppendBytesField(kProtocolVersionField, protocol_version, &out);
  if (!agent_version.empty()) proto::AppendBytesField(kAgentVersionField, agent_version, &out);
  if (!signed_peer_record.empty()) proto::AppendBytesField(kSignedPeerRecordField, signed_peer_record, &out);
  return out;
}

StatusOr<IdentifyInfo> IdentifyInfo::Decode(ByteSpan encoded) {
  if (encoded.size() > kMaxIdentifyMessageSize) {
    return OutOfRangeError("identify message of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(kMaxIdentifyMessageSize));
  }
  IdentifyInfo info;
  // Singular fields keep their last occurrence; those that need parsing are parsed once, at the end.
  std::optional<ByteSpan> public_key;
  std::optional<ByteSpan> observed_addr;
  size_t listen_addrs_seen = 0;
  proto::Reader reader(encoded);
  while (!reader.done()) {
    proto::Field f;
    RETURN_IF_ERROR(reader.Next(&f));
    if (f.type != proto::WireType::kLengthDelimited) continue;
    switch (f.number) {
      case kPublicKeyField:
        public_key = f.bytes;
        break;
      case kListenAddrsField: {
        // Counted before parsing, so that invalid addresses cannot be sent in unbounded numbers either.
        if (++listen_addrs_seen > kMaxIdentifyListenAddrs) {
          return InvalidArgumentError("identify message lists more than " +
                                      std::to_string(kMaxIdentifyListenAddrs) + " listen addresses");
        }
        StatusOr<Multiaddr> addr = Multiaddr::FromBytes(f.bytes);
        if (addr.ok()) info.listen_addrs.push_back(std::move(addr).value());
        break;
      }
      case kProtocolsField:
        if (info.protocols.size() >= kMaxIdentifyProtocols) {
          return InvalidArgumentError("identify message lists more than " +
                                      std::to_string(kMaxIdentifyProtocols) + " protocols");
        }
        if (f.bytes.size() > kMaxIdentifyProtocolLength) {
          return InvalidArgumentError("identify message lists a protocol id of " +
                                      std::to_string(f.bytes.size()) + " bytes");
        }
        info.protocols.emplace_back(AsStringView(f.bytes));
        break;
      case kObservedAddrField:
        observed_addr = f.bytes;
        break;
      case kProtocolVersionField:
        info.protocol_version.assign(AsStringView(f.bytes));
        break;
      case kAgentVersionField:
        info.agent_version.assign(AsStringView(f.bytes));
        break;
      case kSignedPeerRecordField:
        info.signed_peer_record.assign(f.bytes.begin(), f.bytes.end());
        break;
      default:
        break;
    }
  }
  if (public_key.has_value()) {
    StatusOr<crypto::PublicKey> key = crypto::PublicKey::FromProtobuf(*public_key);
    if (!key.ok()) return InvalidArgumentError("identify public key: " + key.status().message());
    info.public_key = std::move(key).value();
  }
  if (observed_addr.has_value()) {
    StatusOr<Multiaddr> addr = Multiaddr::FromBytes(*observed_addr);
    if (addr.ok()) info.observed_addr = std::move(addr).value();
  }
  return info;
}

void AnswerIdentify(Stream* stream, const IdentifyInfo& info) {
  const Bytes message = info.Encode();
  if (message.size() > kMaxIdentifyMessageSize) return stream->Reset();
  Bytes framed;
  framed.reserve(message.size() + kMaxUvarintLength);
  AppendFrame(message, &framed);
  if (!stream->Write(framed).ok()) return stream->Reset();
  stream->CloseWrite();
}

std::unique_ptr<IdentifyRequest> IdentifyRequest::Start(EventLoop* loop, Stream* stream, Duration timeout,
                                                        Callback on_done, Duration more_parts_wait) {
  return std::unique_ptr<IdentifyRequest>(
      new IdentifyRequest(loop, stream, timeout, std::move(on_done), more_parts_wait));
}

IdentifyRequest::IdentifyRequest(EventLoop* loop, Stream* stream, Duration timeout, Callback on_done,
                                 Duration more_parts_wait)
    : stream_(stream),
      more_parts_wait_(more_parts_wait),
      on_done_(std::move(on_done)),
      timeout_(loop->CreateTimer([this] {
        // A complete message in hand is worth more than an error; an incomplete last part is dropped.
        if (parts_ > 0) return FinishWithParts();
        Finish(DeadlineExceededError("no identify message within the timeout"));
      })),
      more_parts_timer_(loop->CreateTimer([this] { FinishWithParts(); })),
      finish_task_(loop->CreateTask([this] {
        Callback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  timeout_->Schedule(timeout);
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] { OnEof(); },
      [this](const Status& e) { Finish(UnavailableError("identify stream failed: " + e.message())); },
      {}});
}

IdentifyRequest::~IdentifyRequest() {
  if (!finished_) stream_->SetHandlers({});
}

void IdentifyRequest::OnData(ByteSpan data) {
  if (finished_) return;
  // Bounds the whole answer, not only each part: a peer could otherwise send kMaxIdentifyParts full parts.
  bytes_received_ += data.size();
  if (bytes_received_ > kMaxIdentifyMessageSize + kMaxIdentifyParts * kMaxUvarintLength) {
    return Finish(
        OutOfRangeError("identify answer exceeds " + std::to_string(kMaxIdentifyMessageSize) + " bytes"));
  }
  if (Status s = reader_.Feed(data, [this](ByteSpan part) { return OnPart(part); }); !s.ok()) {
    return Finish(std::move(s));
  }
  // Wait for more parts only while nothing is half-received; a part in progress is bounded by timeout_.
  if (parts_ > 0 && reader_.buffered_bytes() == 0) {
    more_parts_timer_->Schedule(more_parts_wait_);
  } else {
    more_parts_timer_->Cancel();
  }
}

Status IdentifyRequest::OnPart(ByteSpan part) {
  if (++parts_ > kMaxIdentifyParts) {
    return InvalidArgumentError("identify answer split into more than " + std::to_string(kMaxIdentifyParts) +
                                " parts");
  }
  if (message_.size() + part.size() > kMaxIdentifyMessageSize) {
    return OutOfRangeError("identify answer exceeds " + std::to_string(kMaxIdentifyMessageSize) + " bytes");
  }
  // Each part must be a message on its own; checking its framing here keeps a truncated field of one part
  // from swallowing the start of the next once they are joined.
  proto::Reader reader(part);
  while (!reader.done()) {
    proto::Field f;
    RETURN_IF_ERROR(reader.Next(&f));
  }
  message_.insert(message_.end(), part.begin(), part.end());
  return OkStatus();
}

void IdentifyRequest::OnEof() {
  if (finished_) return;
  if (reader_.buffered_bytes() > 0) {
    return Finish(InvalidArgumentError("identify stream ended inside a message"));
  }
  if (parts_ == 0) return Finish(UnavailableError("identify stream ended without a message"));
  FinishWithParts();
}

void IdentifyRequest::FinishWithParts() {
  if (finished_) return;
  // Joined parts decode as the merge of the parts (repeated fields append, singular fields keep the last).
  Finish(IdentifyInfo::Decode(message_));
}

void IdentifyRequest::Finish(StatusOr<IdentifyInfo> result) {
  if (finished_) return;
  finished_ = true;
  timeout_->Cancel();
  more_parts_timer_->Cancel();
  stream_->SetHandlers({});
  Bytes().swap(message_);
  result_ = std::move(result);
  finish_task_->Post();
}

Status CheckIdentifyMatchesPeer(const IdentifyInfo& info, const crypto::PeerId& peer) {
  if (!info.public_key.has_value()) return UnauthenticatedError("identify message carries no public key");
  if (!peer.Matches(*info.public_key)) {
    return UnauthenticatedError("identify public key is that of " +
                                crypto::PeerId::FromPublicKey(*info.public_key).ToBase58() + ", not of " +
                                peer.ToBase58());
  }
  if (info.signed_peer_record.empty()) return OkStatus();
  StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(info.signed_peer_record);
  if (!record.ok()) return UnauthenticatedError("identify signed peer record: " + record.status().message());
  if (!(record->peer_id == peer)) {
    return UnauthenticatedError("identify signed peer record is for " + record->peer_id.ToBase58() +
                                ", not for " + peer.ToBase58());
  }
  return OkStatus();
}

}  // namespace libp2p::stream
