// Decodes arbitrary bytes as a PeerRecord protobuf; re-encoding must reach a fixed point (decoding skips
// unknown fields, addresses that do not parse and addresses past the cap, and accepts any field order, so
// only the second encoding is canonical). A decoded record holds at most kMaxPeerRecordAddresses addresses,
// each of which parses again from its bytes. The same bytes are also opened as a signed envelope, which must
// never crash.
#include <cstdint>
#include <cstdlib>

#include "libp2p/crypto/peer_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::crypto::PeerRecord;
  const libp2p::ByteSpan input(data, size);
  libp2p::crypto::OpenSignedPeerRecord(input).status().IgnoreError();
  libp2p::StatusOr<PeerRecord> record = PeerRecord::Decode(input);
  if (!record.ok()) return 0;
  if (record->addresses.size() > libp2p::crypto::kMaxPeerRecordAddresses) abort();
  for (const libp2p::Multiaddr& address : record->addresses) {
    const libp2p::StatusOr<libp2p::Multiaddr> again = libp2p::Multiaddr::FromBytes(address.bytes());
    if (!again.ok() || !(*again == address)) abort();
  }
  const libp2p::Bytes first = record->Encode();
  libp2p::StatusOr<PeerRecord> again = PeerRecord::Decode(first);
  if (!again.ok() || again->Encode() != first) abort();
  if (!(again->peer_id == record->peer_id) || again->seq != record->seq) abort();
  if (again->addresses != record->addresses) abort();
  return 0;
}
