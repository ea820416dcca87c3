#include "libp2p/crypto/envelope.h"

#include <optional>
#include <string>

#include "libp2p/base/proto_wire.h"
#include "libp2p/base/varint.h"

namespace libp2p::crypto {

Bytes Envelope::Encode() const {
  Bytes out;
  proto::AppendBytesField(1, public_key.ToProtobuf(), &out);
  proto::AppendBytesField(2, payload_type, &out);
  proto::AppendBytesField(3, payload, &out);
  proto::AppendBytesField(5, signature, &out);
  return out;
}

StatusOr<Envelope> Envelope::Decode(ByteSpan encoded) {
  if (encoded.size() > kMaxEnvelopeSize) {
    return OutOfRangeError("envelope of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(kMaxEnvelopeSize));
  }
  std::optional<PublicKey> key;
  std::optional<ByteSpan> type, payload, signature;
  proto::Reader reader(encoded);
  while (!reader.done()) {
    proto::Field f;
    RETURN_IF_ERROR(reader.Next(&f));
    if (f.type != proto::WireType::kLengthDelimited) {
      return InvalidArgumentError("envelope field " + std::to_string(f.number) + " has the wrong wire type");
    }
    std::optional<ByteSpan>* slot = nullptr;
    switch (f.number) {
      case 1: {
        if (key.has_value()) return InvalidArgumentError("envelope repeats its public key");
        ASSIGN_OR_RETURN(PublicKey k, PublicKey::FromProtobuf(f.bytes));
        key.emplace(std::move(k));
        continue;
      }
      case 2: slot = &type; break;
      case 3: slot = &payload; break;
      case 5: slot = &signature; break;
      default:
        return InvalidArgumentError("envelope has unknown field " + std::to_string(f.number));
    }
    if (slot->has_value()) return InvalidArgumentError("envelope repeats field " + std::to_string(f.number));
    *slot = f.bytes;
  }
  if (!key.has_value()) return InvalidArgumentError("envelope lacks its public key");
  // proto3: absent bytes fields are empty.
  auto copy = [](const std::optional<ByteSpan>& s) { return s ? Bytes(s->begin(), s->end()) : Bytes(); };
  return Envelope{std::move(*key), copy(type), copy(payload), copy(signature)};
}

Bytes EnvelopeSigningBuffer(std::string_view domain, ByteSpan payload_type, ByteSpan payload) {
  Bytes buf;
  buf.reserve(domain.size() + payload_type.size() + payload.size() + 3 * kMaxUvarintLength);
  AppendUvarint(domain.size(), &buf);
  buf.insert(buf.end(), domain.begin(), domain.end());
  AppendUvarint(payload_type.size(), &buf);
  buf.insert(buf.end(), payload_type.begin(), payload_type.end());
  AppendUvarint(payload.size(), &buf);
  buf.insert(buf.end(), payload.begin(), payload.end());
  return buf;
}

StatusOr<Envelope> SealEnvelope(const PrivateKey& key, std::string_view domain, ByteSpan payload_type,
                                ByteSpan payload) {
  if (domain.empty()) return InvalidArgumentError("envelope domain must not be empty");
  if (payload_type.empty()) return InvalidArgumentError("envelope payload type must not be empty");
  const Bytes sig = key.Sign(EnvelopeSigningBuffer(domain, payload_type, payload));
  return Envelope{key.public_key(), Bytes(payload_type.begin(), payload_type.end()),
                  Bytes(payload.begin(), payload.end()), Bytes(sig.begin(), sig.end())};
}

StatusOr<Envelope> OpenEnvelope(ByteSpan encoded, std::string_view domain) {
  ASSIGN_OR_RETURN(Envelope envelope, Envelope::Decode(encoded));
  if (!envelope.public_key.Verify(EnvelopeSigningBuffer(domain, envelope.payload_type, envelope.payload),
                                  envelope.signature)) {
    return UnauthenticatedError("envelope signature does not verify for domain \"" + std::string(domain) + "\"");
  }
  return envelope;
}

}  // namespace libp2p::crypto
