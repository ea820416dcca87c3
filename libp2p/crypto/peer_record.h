// Peer records (libp2p RFC 0003): a peer's addresses, signed by the peer inside an envelope. GossipSub's peer
// exchange carries them on PRUNE.
//
// The signature covers the envelope's payload bytes, not our reading of them. Decoding keeps only the
// addresses we can parse (other implementations advertise protocols we may not know, e.g. a future
// multiaddr code), and at most kMaxPeerRecordAddresses of them, so a decoded record can hold fewer addresses
// than were signed. Re-encoding it therefore need not give back the signed payload: to check or forward a
// record, use the envelope bytes as received, never PeerRecord::Encode() of a decoded record.
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
// The most addresses PeerRecord::Decode keeps (the first ones that parse); further addresses are skipped
// without being parsed. The host also signs at most this many of its own.
inline constexpr size_t kMaxPeerRecordAddresses = 64;

struct PeerRecord {
  PeerId peer_id;
  uint64_t seq = 0;  // Increases with each new record of a peer (often a timestamp).
  std::vector<Multiaddr> addresses;

  // The PeerRecord protobuf: peer_id = 1, seq = 2, addresses = 3 (AddressInfo{multiaddr = 1}), in order.
  // For a record from Decode() this is not necessarily the payload it was decoded from (see the file
  // comment).
  Bytes Encode() const;
  // Parses the protobuf. Unknown fields are skipped (the format reserves room for per-address metadata).
  // Addresses are best effort, as in go-libp2p: an AddressInfo that is malformed, lacks its multiaddr, or
  // whose multiaddr does not parse (an unknown protocol code, a malformed value) is skipped, and once
  // kMaxPeerRecordAddresses addresses are kept the rest are skipped unparsed, so memory stays bounded and
  // work linear in the input. Fails with kInvalidArgument on malformed protobuf at the top level, a field
  // of the wrong wire type, or a missing or invalid peer id; never because of an address.
  static StatusOr<PeerRecord> Decode(ByteSpan encoded);
};

// Seals `record` in an envelope signed by `key`, whose peer id must be record.peer_id
// (kInvalidArgument otherwise). Returns the encoded envelope.
StatusOr<Bytes> SignPeerRecord(const PrivateKey& key, const PeerRecord& record);

// Opens a signed peer record: the envelope must verify under the peer-record domain, carry the peer-record
// payload type, and be signed by the key of the record's peer id. The signature is checked over the payload
// bytes before they are decoded; the record then holds the addresses Decode() keeps. kUnauthenticated when
// the signature or the signer does not match; kInvalidArgument for malformed input.
StatusOr<PeerRecord> OpenSignedPeerRecord(ByteSpan envelope);

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_PEER_RECORD_H_
