#include "libp2p/crypto/x25519.h"

#include <openssl/base.h>
#include <openssl/curve25519.h>
#include <openssl/mem.h>

#include "libp2p/base/random.h"

namespace libp2p::crypto {

X25519KeyPair X25519KeyPair::Generate() {
  // As X25519_keypair does, but with the private key from RandomBytes: 32 random bytes, clamped (RFC 7748
  // clamps when it uses the key anyway; BoringSSL stores the clamped form, and so do we).
  X25519KeyPair kp;
  RandomBytes(MutableByteSpan(kp.private_));
  kp.private_[0] &= 248;
  kp.private_[31] &= 127;
  kp.private_[31] |= 64;
  X25519_public_from_private(kp.public_.data(), kp.private_.data());
  return kp;
}

X25519KeyPair X25519KeyPair::FromPrivateKey(const std::array<uint8_t, 32>& private_key) {
  X25519KeyPair kp;
  kp.private_ = private_key;
  X25519_public_from_private(kp.public_.data(), kp.private_.data());
  return kp;
}

X25519KeyPair::~X25519KeyPair() { OPENSSL_cleanse(private_.data(), private_.size()); }

StatusOr<X25519SharedSecret> X25519KeyPair::Agree(ByteSpan peer_public) const {
  if (peer_public.size() != 32) {
    return InvalidArgumentError("X25519 public key must be 32 bytes, got " + std::to_string(peer_public.size()));
  }
  X25519SharedSecret out;
  if (X25519(out.data(), private_.data(), peer_public.data()) != 1) {
    return InvalidArgumentError("X25519 peer public key has low order");
  }
  return out;
}

}  // namespace libp2p::crypto
