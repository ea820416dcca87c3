// Noise secure channel (libp2p/specs noise): Noise_XX_25519_ChaChaPoly_SHA256 with libp2p's identity
// payload, the early stream-muxer negotiation extension, and 2-byte length-framed transport messages.
#ifndef LIBP2P_STREAM_NOISE_H_
#define LIBP2P_STREAM_NOISE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/x25519.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

inline constexpr std::string_view kNoiseProtocolId = "/noise";
// Noise messages are framed with a 2-byte length: at most 65535 bytes, of which 16 are the AEAD tag.
inline constexpr size_t kNoiseMaxMessageSize = 65535;
inline constexpr size_t kNoiseMaxPlaintextSize = kNoiseMaxMessageSize - 16;
// A secure connection coalesces the writes of one loop turn and hands them to the connection below at the
// end of the turn, or at once when this many bytes wait (so a writer filling it runs into the inner
// connection's back-pressure, as if nothing were held back).
inline constexpr size_t kNoiseFlushThreshold = 256 * 1024;

// The libp2p handshake payload: our identity key, its signature over "noise-libp2p-static-key:" followed by
// the Noise static key, and extensions (the muxers we speak, for early negotiation).
struct NoiseHandshakePayload {
  Bytes identity_key;  // A PublicKey protobuf.
  Bytes identity_sig;
  std::vector<std::string> stream_muxers;
  std::vector<Bytes> webtransport_certhashes;

  Bytes Encode() const;
  // Parses the protobuf. Unknown fields are skipped; more than 16 muxers or certhashes, or any of them
  // longer than kMaxProtocolNameLength, is kInvalidArgument.
  static StatusOr<NoiseHandshakePayload> Decode(ByteSpan encoded);
};

// Builds our handshake payload: `identity` signs "noise-libp2p-static-key:" || `noise_static_public`.
Bytes MakeNoisePayload(const crypto::PrivateKey& identity, ByteSpan noise_static_public,
                       const std::vector<std::string>& muxers);

// A static Noise key pair and our identity's signature over it (the payload's identity_sig). The spec lets a
// node keep one static key for the life of its Noise module, as rust-libp2p does: made once, it spares every
// handshake a key generation and a signature. Immutable, so any number of handshakes may share it.
class NoiseStaticKey {
 public:
  // A fresh key pair (from RandomBytes) signed by `identity`, an observer that must outlive this object.
  explicit NoiseStaticKey(const crypto::PrivateKey& identity);

  const crypto::PrivateKey& identity() const { return *identity_; }
  const crypto::X25519KeyPair& key_pair() const { return key_pair_; }
  // The handshake payload announcing `muxers` (MakeNoisePayload's, without signing again).
  Bytes Payload(const std::vector<std::string>& muxers) const;

 private:
  const crypto::PrivateKey* identity_;
  crypto::X25519KeyPair key_pair_;
  Bytes signature_;
};

// The identity a verified payload proves.
struct VerifiedNoisePayload {
  crypto::PublicKey key;
  crypto::PeerId peer;
  std::vector<std::string> muxers;
};

// Checks a received payload against the remote's Noise static key: its identity key must parse and its
// signature must cover that static key. kUnauthenticated otherwise, kInvalidArgument when malformed.
StatusOr<VerifiedNoisePayload> VerifyNoisePayload(ByteSpan encoded, ByteSpan noise_static_public);

// What the handshake learned, and the secure connection it produced.
struct NoiseSession {
  // Owns the raw connection it runs on. Coalesces writes (see kNoiseFlushThreshold): what is written during one
  // loop turn goes below as few transport messages in one write, at the end of the turn; CloseWrite() and
  // destruction hand over what waits first, Reset() drops it.
  std::unique_ptr<RawConnection> connection;
  crypto::PublicKey remote_key;
  crypto::PeerId remote_peer;
  // The muxers the remote listed in its payload, and the one both sides chose from the two lists (the first
  // of the initiator's list that the responder also lists), or empty when there is no common muxer and
  // multistream-select must decide.
  std::vector<std::string> remote_muxers;
  std::string early_muxer;
};

struct NoiseOptions {
  // Our identity; an observer that must outlive the handshake and the session.
  const crypto::PrivateKey* identity = nullptr;
  // Muxers to announce in the handshake, in preference order; empty announces none.
  std::vector<std::string> muxers;
  // The whole handshake must finish within this time.
  Duration timeout = std::chrono::seconds(10);
  // The static key to present, made from `identity`; an observer that must outlive the handshake. Null: the
  // handshake makes and signs one of its own (a host keeps one for all its connections).
  const NoiseStaticKey* static_key = nullptr;
};

// One Noise handshake over a raw connection, which it owns while it runs. The callback runs from the event
// loop once, with the session or the reason for failure (kUnauthenticated for a bad identity signature, a
// failed decryption or a peer id other than the expected one; kDeadlineExceeded on timeout; kInvalidArgument
// for malformed messages; kUnavailable when the connection fails). On failure the connection is reset and
// destroyed. Destroying the handshake earlier cancels it and resets the connection.
class NoiseHandshake {
 public:
  using Callback = std::function<void(StatusOr<NoiseSession>)>;

  // As initiator. With `expected_peer`, the responder's identity must be that peer.
  static std::unique_ptr<NoiseHandshake> Initiate(EventLoop* loop, std::unique_ptr<RawConnection> connection,
                                                  const NoiseOptions& options,
                                                  std::optional<crypto::PeerId> expected_peer, Callback on_done);
  // As responder.
  static std::unique_ptr<NoiseHandshake> Respond(EventLoop* loop, std::unique_ptr<RawConnection> connection,
                                                 const NoiseOptions& options, Callback on_done);

  virtual ~NoiseHandshake() = default;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_NOISE_H_
