// Parses arbitrary bytes as a libp2p PrivateKey protobuf (Ed25519 only). An accepted key re-encodes to the
// 64-byte form, which must parse back to the same key, and it must sign what its public key verifies.
#include <cstdint>
#include <cstdlib>

#include "libp2p/crypto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::crypto::Ed25519PrivateKey;
  libp2p::StatusOr<Ed25519PrivateKey> key = Ed25519PrivateKey::FromProtobuf(libp2p::ByteSpan(data, size));
  if (!key.ok()) return 0;
  libp2p::StatusOr<Ed25519PrivateKey> again = Ed25519PrivateKey::FromProtobuf(key->ToProtobuf());
  if (!again.ok() || !(again->public_key() == key->public_key())) abort();
  const uint8_t msg[] = {1, 2, 3};
  const auto sig = key->Sign(libp2p::ByteSpan(msg, sizeof(msg)));
  if (!key->public_key().Verify(libp2p::ByteSpan(msg, sizeof(msg)), sig)) abort();
  return 0;
}
