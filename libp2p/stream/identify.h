// Identify (/ipfs/id/1.0.0) and identify push (/ipfs/id/push/1.0.0): peers tell each other their public
// key, listen addresses, supported protocols, the address they observe for us, and a signed peer record.
//
// On /ipfs/id/1.0.0 the side that accepted the stream answers at once with one uvarint-length-prefixed
// Identify protobuf and closes its write side; the side that opened the stream only reads. On
// /ipfs/id/push/1.0.0 the side that opens the stream writes the message and closes; the other side reads.
// Some implementations (go-libp2p) split a large message into several length-prefixed parts, sending the
// signed peer record alone in the last part; as protobuf messages merge by concatenation, the reader
// joins all parts up to end-of-stream.
#ifndef LIBP2P_STREAM_IDENTIFY_H_
#define LIBP2P_STREAM_IDENTIFY_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

inline constexpr std::string_view kIdentifyProtocolId = "/ipfs/id/1.0.0";
inline constexpr std::string_view kIdentifyPushProtocolId = "/ipfs/id/push/1.0.0";

// The largest Identify message accepted: one part, and all parts of a split message together.
inline constexpr size_t kMaxIdentifyMessageSize = 64 * 1024;
// The most listen addresses and protocols a message may list, and the longest protocol id.
inline constexpr size_t kMaxIdentifyListenAddrs = 128;
inline constexpr size_t kMaxIdentifyProtocols = 256;
inline constexpr size_t kMaxIdentifyProtocolLength = 1024;
// The most length-prefixed parts one answer may be split into (go-libp2p reads up to 10 as well).
inline constexpr size_t kMaxIdentifyParts = 10;
// How long an IdentifyRequest waits, after a complete part, for more parts or the end of the stream before
// it accepts what it has. Every known implementation closes right after writing, so this is rarely reached.
inline constexpr Duration kIdentifyMorePartsWait = std::chrono::milliseconds(500);

// The Identify message (proto2): publicKey = 1, listenAddrs = 2, protocols = 3, observedAddr = 4,
// protocolVersion = 5, agentVersion = 6, signedPeerRecord = 8.
struct IdentifyInfo {
  // The peer's key (the libp2p PublicKey protobuf on the wire).
  std::optional<crypto::PublicKey> public_key;
  // Addresses the peer listens on. Unverified: only signed_peer_record is signed.
  std::vector<Multiaddr> listen_addrs;
  // Protocol ids the peer handles, e.g. "/ipfs/ping/1.0.0".
  std::vector<std::string> protocols;
  // Our address as the peer sees it (for NAT detection); unverified.
  std::optional<Multiaddr> observed_addr;
  // E.g. "ipfs/0.1.0"; empty when absent.
  std::string protocol_version;
  // Free-form implementation name, e.g. "go-libp2p/0.33.0"; empty when absent.
  std::string agent_version;
  // An encoded signed envelope holding the peer's PeerRecord (crypto/peer_record.h); empty when absent.
  // Not checked by Decode(): see CheckIdentifyMatchesPeer().
  Bytes signed_peer_record;

  // The protobuf, fields in number order. Empty strings, empty addresses and an empty signed peer record
  // are left out. Does not enforce the limits above: the caller keeps its own message within them (peers,
  // including this Decode(), refuse larger ones).
  Bytes Encode() const;

  // Parses the protobuf. Fields may come in any order; a repeated singular field keeps its last value
  // (protobuf merge semantics, so concatenated parts decode as one message). Unknown fields, and known
  // fields with an unexpected wire type, are skipped. A listen or observed address that does not parse (a
  // protocol we do not know) is skipped. Fails with kOutOfRange when `encoded` exceeds
  // kMaxIdentifyMessageSize, and with kInvalidArgument for malformed protobuf, an invalid public key, or
  // more than kMaxIdentifyListenAddrs listen addresses (counted as sent, valid or not), more than
  // kMaxIdentifyProtocols protocols or a protocol id longer than kMaxIdentifyProtocolLength.
  static StatusOr<IdentifyInfo> Decode(ByteSpan encoded);

  bool operator==(const IdentifyInfo& other) const = default;
};

// Answers an identify request (or sends a push) on `stream`: writes `info` as one length-prefixed message,
// then CloseWrite(). Returns at once; the bytes leave as the stream drains. The caller keeps owning the
// stream and its handlers (this sets none): it may destroy the stream after the remote's on_eof, or after
// a short grace period (destroying a stream may drop or reset what it has not sent, so not at once). If
// `info` encodes to more than kMaxIdentifyMessageSize, or the write fails, the stream is reset instead
// (no callback follows a reset, so a caller waiting for on_eof should also keep a deadline).
void AnswerIdentify(Stream* stream, const IdentifyInfo& info);

// Reads one identify answer (or push) from a stream: length-prefixed parts up to end-of-stream, joined into
// one message. The callback runs once, from the event loop (never from inside Start()), with:
// - the message, once end-of-stream follows at least one complete part, or when neither more bytes nor
//   end-of-stream arrive within `more_parts_wait` of the last complete part (a peer that does not close;
//   Duration::zero() accepts a message as soon as it is complete, but may then miss later parts);
// - kUnavailable when the stream ends before any complete part or fails;
// - kInvalidArgument for a malformed length prefix or message, a stream ending inside a part, or more than
//   kMaxIdentifyParts parts; kOutOfRange for a part or a whole above kMaxIdentifyMessageSize, refused as
//   soon as its length prefix arrives (nothing is allocated for it);
// - kDeadlineExceeded when `timeout` passes without any complete part (with one, it succeeds with the
//   complete parts and drops a part still incomplete).
// The request owns the stream's handlers while it runs and clears them when it ends; the stream is an
// observer and must outlive the request. Afterwards the caller decides what to do with the stream (close
// our side and destroy it on success, Reset() it on failure). The callback may destroy the request;
// destroying the request earlier cancels it, and the callback then never runs.
class IdentifyRequest {
 public:
  using Callback = std::function<void(StatusOr<IdentifyInfo> info)>;

  static std::unique_ptr<IdentifyRequest> Start(EventLoop* loop, Stream* stream, Duration timeout,
                                                Callback on_done,
                                                Duration more_parts_wait = kIdentifyMorePartsWait);

  ~IdentifyRequest();
  IdentifyRequest(const IdentifyRequest&) = delete;
  IdentifyRequest& operator=(const IdentifyRequest&) = delete;

 private:
  IdentifyRequest(EventLoop* loop, Stream* stream, Duration timeout, Callback on_done,
                  Duration more_parts_wait);
  void OnData(ByteSpan data);
  Status OnPart(ByteSpan part);
  void OnEof();
  // Decodes the parts received so far and finishes with the result.
  void FinishWithParts();
  void Finish(StatusOr<IdentifyInfo> result);

  Stream* const stream_;
  const Duration more_parts_wait_;
  Callback on_done_;
  FrameReader reader_{kMaxIdentifyMessageSize};
  Bytes message_;  // The parts so far, concatenated.
  size_t parts_ = 0;
  size_t bytes_received_ = 0;
  bool finished_ = false;
  StatusOr<IdentifyInfo> result_ = CancelledError("not finished");
  std::unique_ptr<Timer> timeout_;
  std::unique_ptr<Timer> more_parts_timer_;
  std::unique_ptr<Task> finish_task_;
};

// Checks that an identify message really comes from `peer`: its public key must be present and be the key
// `peer` names, and a signed peer record, when present, must open (a valid signature by its peer's key)
// and be about `peer`. kUnauthenticated otherwise, with the reason in the message. The listen addresses,
// observed address and protocols are the peer's claims either way; only the record's addresses are signed.
Status CheckIdentifyMatchesPeer(const IdentifyInfo& info, const crypto::PeerId& peer);

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_IDENTIFY_H_
