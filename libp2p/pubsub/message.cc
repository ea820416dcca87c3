#include "libp2p/pubsub/message.h"

#include <string>

#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub {

std::string SigningBytes(const pb::Message& msg) {
  pb::Message unsigned_msg = msg;
  unsigned_msg.clear_signature();
  unsigned_msg.clear_key();
  std::string out(kSignaturePrefix);
  unsigned_msg.AppendToString(&out);
  return out;
}

void SignMessage(const crypto::PrivateKey& key, uint64_t seqno, SignPolicy policy, pb::Message* msg) {
  msg->clear_signature();
  msg->clear_key();
  if (policy == SignPolicy::kStrictNoSign) {
    msg->clear_from();
    msg->clear_seqno();
    return;
  }
  const crypto::PeerId id = crypto::PeerId::FromPublicKey(key.public_key());
  msg->set_from(std::string(AsStringView(id.bytes())));
  std::string seq(kSeqnoSize, '\0');
  for (size_t i = 0; i < kSeqnoSize; ++i) seq[i] = static_cast<char>(seqno >> (56 - 8 * i));
  msg->set_seqno(seq);
  const Bytes sig = key.Sign(AsBytes(SigningBytes(*msg)));
  msg->set_signature(std::string(sig.begin(), sig.end()));
  if (!id.ExtractPublicKey().ok()) {
    const Bytes public_key = key.public_key().ToProtobuf();
    msg->set_key(std::string(public_key.begin(), public_key.end()));
  }
}

Status VerifyMessage(const pb::Message& msg, SignPolicy policy) {
  if (policy == SignPolicy::kStrictNoSign) {
    if (msg.has_from() || msg.has_seqno() || msg.has_signature() || msg.has_key()) {
      return PermissionDeniedError("StrictNoSign: message carries from, seqno, signature or key");
    }
    return OkStatus();
  }
  if (!msg.has_from() || !msg.has_seqno() || !msg.has_signature()) {
    return PermissionDeniedError("StrictSign: message lacks from, seqno or signature");
  }
  // A 64-bit number; js-libp2p floodsub leaves out its leading zero bytes.
  if (msg.seqno().empty() || msg.seqno().size() > kSeqnoSize) {
    return PermissionDeniedError("StrictSign: seqno of " + std::to_string(msg.seqno().size()) +
                                 " bytes, not 1 to 8");
  }
  StatusOr<crypto::PeerId> from = crypto::PeerId::FromBytes(AsBytes(msg.from()));
  if (!from.ok()) return UnauthenticatedError("message from an invalid peer id: " + from.status().message());
  StatusOr<crypto::PublicKey> key = msg.has_key() ? crypto::PublicKey::FromProtobuf(AsBytes(msg.key()))
                                                   : from->ExtractPublicKey();
  if (!key.ok()) return UnauthenticatedError("message signer key: " + key.status().message());
  if (!from->Matches(*key)) return UnauthenticatedError("message key does not match its sender");
#ifdef LIBP2P_FUZZING
  // Under the fuzzer, any signature passes, so that it can reach the code behind verification.
  return OkStatus();
#else
  if (!key->Verify(AsBytes(SigningBytes(msg)), AsBytes(msg.signature()))) {
    return UnauthenticatedError("message signature does not verify");
  }
  return OkStatus();
#endif
}

std::string GoDefaultMessageId(const pb::Message& msg) { return msg.from() + msg.seqno(); }

std::string Sha256MessageId(const pb::Message& msg) {
  const crypto::Sha256Digest d = crypto::Sha256(AsBytes(msg.data()));
  return std::string(d.begin(), d.end());
}

std::string JsDefaultMessageId(const pb::Message& msg) {
  if (!msg.has_from() || !msg.has_seqno()) return Sha256MessageId(msg);
  // js reads the seqno as a number and writes it back as 8 bytes: a short seqno gets its leading zeros back.
  std::string seqno = msg.seqno();
  if (seqno.size() < kSeqnoSize) seqno.insert(0, kSeqnoSize - seqno.size(), '\0');
  StatusOr<crypto::PeerId> from = crypto::PeerId::FromBytes(AsBytes(msg.from()));
  if (from.ok()) {
    StatusOr<crypto::PublicKey> key = from->ExtractPublicKey();
    if (key.ok()) {
      const Bytes pk = key->ToProtobuf();
      return std::string(pk.begin(), pk.end()) + seqno;
    }
  }
  return msg.key() + seqno;
}

}  // namespace libp2p::pubsub
