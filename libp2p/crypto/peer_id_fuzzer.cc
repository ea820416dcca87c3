// Parses arbitrary text as a peer id. On success both text forms must parse back to the same id, and the
// base58 form is canonical: printing the re-parsed id gives the same text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libp2p/crypto/peer_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::crypto::PeerId;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  libp2p::StatusOr<PeerId> id = PeerId::FromString(text);
  if (!id.ok()) {
    // The binary parser gets the same bytes too.
    libp2p::StatusOr<PeerId> bin = PeerId::FromBytes(libp2p::ByteSpan(data, size));
    if (bin.ok() && !(*PeerId::FromBytes(bin->bytes()) == *bin)) abort();
    return 0;
  }
  const std::string b58 = id->ToBase58();
  libp2p::StatusOr<PeerId> from_b58 = PeerId::FromString(b58);
  libp2p::StatusOr<PeerId> from_cid = PeerId::FromString(id->ToCidString());
  if (!from_b58.ok() || !from_cid.ok()) abort();
  if (!(*from_b58 == *id) || !(*from_cid == *id)) abort();
  if (from_b58->ToBase58() != b58) abort();
  return 0;
}
