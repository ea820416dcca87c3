// Parses arbitrary bytes as a libp2p PrivateKey protobuf of any type. An accepted key re-encodes to a form
// that parses back to the same key, and it signs what its public key verifies. Where the encoding has one
// form (secp256k1, RSA's DER, Ed25519's 64 bytes) it re-encodes to the bytes it came from; an ECDSA key may
// leave out its public key, and Ed25519 has a legacy 96-byte form.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "libp2p/crypto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::crypto::PrivateKey;
  const libp2p::ByteSpan input(data, size);
  libp2p::StatusOr<std::unique_ptr<PrivateKey>> key = PrivateKey::FromProtobuf(input);
  if (!key.ok()) return 0;
  const libp2p::Bytes encoded = (*key)->ToProtobuf();
  libp2p::StatusOr<std::unique_ptr<PrivateKey>> again = PrivateKey::FromProtobuf(encoded);
  if (!again.ok() || !((*again)->public_key() == (*key)->public_key())) abort();
  using libp2p::crypto::KeyType;
  const KeyType type = (*key)->type();
  const bool one_form = type == KeyType::kSecp256k1 || type == KeyType::kRsa || (type == KeyType::kEd25519 && size < 90);
  if (one_form && (encoded.size() != size || std::memcmp(encoded.data(), data, size) != 0)) abort();
  const uint8_t msg[] = {1, 2, 3};
  const libp2p::Bytes sig = (*key)->Sign(libp2p::ByteSpan(msg, sizeof(msg)));
  if (!(*key)->public_key().Verify(libp2p::ByteSpan(msg, sizeof(msg)), sig)) abort();
  return 0;
}
