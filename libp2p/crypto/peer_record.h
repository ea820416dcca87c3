// Peer records (libp2p RFC 0003): a peer's addresses, signed by the peer inside an envelope. GossipSub's peer
// exchange carries them on PRUNE.
#ifndef LIBP2P_CRYPTO_PEER_RECORD_H_
#define LIBP2P_CRYPTO_PEER_RECORD_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"

namespace libp2p::crypto {

// The envelope domain and payload type (the multicodec "libp2p-peer-record", 0x0301, as two bytes).
inline constexpr std::string_view kPeerRecordDomain = "libp2p-peer-record";
inline constexpr std::array<uint8_t, 2> kPeerRecordPayloadType = {0x03, 0x01};
// The most addresses a record may carry.
inline constexpr size_t kMaxPeerRecordAddresses = 64;

struct PeerRecord {
  PeerId peer_id;
  uint64_t seq = 0;  // Increases with each new record of a peer (often a timestamp).
  std::vector<Multiaddr> addresses;

  // The PeerRecord protobuf: peer_id = 1, seq = 2, addresses = 3 (AddressInfo{multiaddr = 1}), in order.
  Bytes Encode() const;
  // Parses the protobuf. Unknown fields are skipped (the format reserves room for per-address metadata);
  // a missing or invalid peer id, an invalid address, or more than kMaxPeerRecordAddresses addresses is
  // kInvalidArgument.
  static StatusOr<PeerRecord> Decode(ByteSpan encoded);
};

// Seals `record` in an envelope signed by `key`, whose peer id must be record.peer_id
// (kInvalidArgument otherwise). Returns the encoded envelope.
StatusOr<Bytes> SignPeerRecord(const Ed25519PrivateKey& key, const PeerRecord& record);

// Opens a signed peer record: the envelope must verify under the peer-record domain, carry the peer-record
// payload type, and be signed by the key of the record's peer id. kUnauthenticated when the signature or
// the signer does not match; kInvalidArgument for malformed input.
StatusOr<PeerRecord> OpenSignedPeerRecord(ByteSpan envelope);

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_PEER_RECORD_H_
