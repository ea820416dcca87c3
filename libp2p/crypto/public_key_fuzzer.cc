// Parses arbitrary bytes as a libp2p PublicKey protobuf. The encoding is deterministic, so an accepted input
// must re-encode to exactly itself; and a parsed key must survive a raw-bytes round trip and reject a
// signature it never made.
#include <cstdint>
#include <cstdlib>

#include "libp2p/crypto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const libp2p::ByteSpan input(data, size);
  libp2p::StatusOr<libp2p::crypto::PublicKey> key = libp2p::crypto::PublicKey::FromProtobuf(input);
  if (!key.ok()) return 0;
  const libp2p::Bytes encoded = key->ToProtobuf();
  if (encoded != libp2p::Bytes(input.begin(), input.end())) abort();
  libp2p::StatusOr<libp2p::crypto::PublicKey> again = libp2p::crypto::PublicKey::FromRaw(key->type(), key->raw());
  if (!again.ok() || !(*again == *key)) abort();
  // An all-zero signature is never valid for any key type.
  const uint8_t zeros[64] = {};
  if (key->Verify(input, libp2p::ByteSpan(zeros, sizeof(zeros)))) abort();
  return 0;
}
