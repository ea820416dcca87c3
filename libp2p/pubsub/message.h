// Pubsub messages: signing and verification under the signature policies, and message ids.
#ifndef LIBP2P_PUBSUB_MESSAGE_H_
#define LIBP2P_PUBSUB_MESSAGE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

// StrictSign: every message carries from, a seqno of 1 to 8 bytes (a big-endian 64-bit number, which
// js-libp2p floodsub sends without its leading zero bytes) and a valid signature. StrictNoSign: from, seqno,
// signature and key are all absent.
enum class SignPolicy { kStrictSign, kStrictNoSign };

inline constexpr std::string_view kSignaturePrefix = "libp2p-pubsub:";
inline constexpr size_t kSeqnoSize = 8;

// Fills in from, seqno (8 bytes, big-endian) and, under StrictSign, the signature (over "libp2p-pubsub:" and
// the message marshalled without signature and key), and the key field with our PublicKey protobuf when
// the peer id does not embed it (RSA and ECDSA keys; Ed25519 and secp256k1 peer ids embed theirs).
void SignMessage(const crypto::PrivateKey& key, uint64_t seqno, SignPolicy policy, pb::Message* msg);

// Checks a received message against `policy`: kPermissionDenied for a policy violation (a missing or extra
// field), kUnauthenticated for a signature that does not verify or a key that does not match `from`.
Status VerifyMessage(const pb::Message& msg, SignPolicy policy);

// The bytes a signature covers.
std::string SigningBytes(const pb::Message& msg);

// Computes a message id. All peers on a topic must use the same function.
using MessageIdFn = std::function<std::string(const pb::Message&)>;
// go-libp2p's default: from || seqno.
std::string GoDefaultMessageId(const pb::Message& msg);
// js-libp2p's default: the sender's public key protobuf || seqno (as 8 bytes) for signed messages, SHA-256 of
// the data otherwise. (js computes the key from `from`; for an id without an embedded key it uses `key`.)
std::string JsDefaultMessageId(const pb::Message& msg);
// SHA-256 of the data: the id of anonymous (StrictNoSign) messages, where equal payloads are one message.
std::string Sha256MessageId(const pb::Message& msg);
//
// Every peer of a topic must use the same function. Mixing them breaks deduplication across the boundary
// (the same message arrives under two ids and is delivered and relayed twice), makes IHAVE ids unknown to
// the other side (every gossiped message is asked for again), and breaks IWANT promises: the copy arrives
// under the other id, the promise goes unkept, and each side charges the other P7 until it falls below the
// gossip threshold. go networks use GoDefaultMessageId, js networks JsDefaultMessageId.

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_MESSAGE_H_
