#include "libp2p/crypto/peer_record.h"

#include <algorithm>
#include <optional>
#include <string>

#include "libp2p/base/proto_wire.h"
#include "libp2p/crypto/envelope.h"

namespace libp2p::crypto {

Bytes PeerRecord::Encode() const {
  Bytes out;
  proto::AppendBytesField(1, peer_id.bytes(), &out);
  if (seq != 0) proto::AppendVarintField(2, seq, &out);  // proto3: a zero scalar is not written.
  for (const Multiaddr& a : addresses) {
    Bytes info;
    proto::AppendBytesField(1, a.bytes(), &info);
    proto::AppendBytesField(3, info, &out);
  }
  return out;
}

namespace {

// The multiaddr of one AddressInfo, or nullopt when the AddressInfo is malformed, has no multiaddr, or its
// multiaddr does not parse: records carry addresses of protocols we may not know, and one of them must not
// cost the others.
std::optional<Multiaddr> ReadAddressInfo(ByteSpan info) {
  std::optional<ByteSpan> multiaddr;
  proto::Reader reader(info);
  while (!reader.done()) {
    proto::Field f;
    if (!reader.Next(&f).ok()) return std::nullopt;
    if (f.number == 1 && f.type == proto::WireType::kLengthDelimited) multiaddr = f.bytes;  // The last wins.
  }
  if (!multiaddr.has_value()) return std::nullopt;
  StatusOr<Multiaddr> address = Multiaddr::FromBytes(*multiaddr);
  if (!address.ok()) return std::nullopt;
  return std::move(address).value();
}

}  // namespace

StatusOr<PeerRecord> PeerRecord::Decode(ByteSpan encoded) {
  std::optional<PeerId> peer_id;
  uint64_t seq = 0;
  std::vector<Multiaddr> addresses;
  proto::Reader reader(encoded);
  while (!reader.done()) {
    proto::Field f;
    RETURN_IF_ERROR(reader.Next(&f));
    if (f.number == 1 && f.type == proto::WireType::kLengthDelimited) {
      ASSIGN_OR_RETURN(PeerId id, PeerId::FromBytes(f.bytes));
      peer_id.emplace(id);
    } else if (f.number == 2 && f.type == proto::WireType::kVarint) {
      seq = f.varint;
    } else if (f.number == 3 && f.type == proto::WireType::kLengthDelimited) {
      // The count is checked before parsing: past the cap an address is not even looked at.
      if (addresses.size() >= kMaxPeerRecordAddresses) continue;
      std::optional<Multiaddr> address = ReadAddressInfo(f.bytes);
      if (address.has_value()) addresses.push_back(std::move(*address));
    } else if (f.number <= 3) {
      return InvalidArgumentError("peer record field " + std::to_string(f.number) + " has the wrong wire type");
    }
  }
  if (!peer_id.has_value()) return InvalidArgumentError("peer record lacks its peer id");
  return PeerRecord{*peer_id, seq, std::move(addresses)};
}

StatusOr<Bytes> SignPeerRecord(const PrivateKey& key, const PeerRecord& record) {
  if (!record.peer_id.Matches(key.public_key())) {
    return InvalidArgumentError("a peer record can only be signed by its own peer");
  }
  ASSIGN_OR_RETURN(Envelope env, SealEnvelope(key, kPeerRecordDomain, kPeerRecordPayloadType, record.Encode()));
  return env.Encode();
}

StatusOr<PeerRecord> OpenSignedPeerRecord(ByteSpan envelope) {
  ASSIGN_OR_RETURN(Envelope env, OpenEnvelope(envelope, kPeerRecordDomain));
  if (!std::equal(env.payload_type.begin(), env.payload_type.end(), kPeerRecordPayloadType.begin(),
                  kPeerRecordPayloadType.end())) {
    return InvalidArgumentError("envelope does not carry a peer record");
  }
  ASSIGN_OR_RETURN(PeerRecord record, PeerRecord::Decode(env.payload));
  if (!record.peer_id.Matches(env.public_key)) {
    return UnauthenticatedError("peer record of " + record.peer_id.ToBase58() + " signed by another key");
  }
  return record;
}

}  // namespace libp2p::crypto
