// Signed envelopes (libp2p RFC 0002): a payload, its type and the public key that signed them, with a
// signature over a domain-separated buffer.
#ifndef LIBP2P_CRYPTO_ENVELOPE_H_
#define LIBP2P_CRYPTO_ENVELOPE_H_

#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"

namespace libp2p::crypto {

// The largest encoded envelope accepted, checked before parsing.
inline constexpr size_t kMaxEnvelopeSize = 64 * 1024;

// A decoded envelope. Holding one says nothing about its signature: use OpenEnvelope to verify.
struct Envelope {
  PublicKey public_key;
  Bytes payload_type;
  Bytes payload;
  Bytes signature;

  // The envelope protobuf (public_key = 1, payload_type = 2, payload = 3, signature = 5), fields in order.
  Bytes Encode() const;
  // Parses the protobuf without verifying the signature. Fields may come in any order, each at most once;
  // unknown fields are refused. kOutOfRange above kMaxEnvelopeSize, kInvalidArgument for malformed input
  // or a bad public key.
  static StatusOr<Envelope> Decode(ByteSpan encoded);
};

// The bytes an envelope's signature covers: uvarint-length-prefixed domain, payload type and payload.
Bytes EnvelopeSigningBuffer(std::string_view domain, ByteSpan payload_type, ByteSpan payload);

// Signs `payload` of type `payload_type` under `domain` (which must not be empty) and returns the envelope.
StatusOr<Envelope> SealEnvelope(const PrivateKey& key, std::string_view domain, ByteSpan payload_type,
                                ByteSpan payload);

// Decodes an envelope and verifies its signature under `domain`. Fails with kUnauthenticated when the
// signature does not verify (a wrong domain included), and as Envelope::Decode otherwise.
StatusOr<Envelope> OpenEnvelope(ByteSpan encoded, std::string_view domain);

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_ENVELOPE_H_
