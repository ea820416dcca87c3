// X25519 Diffie-Hellman (RFC 7748) on BoringSSL, for the Noise handshake.
#ifndef LIBP2P_CRYPTO_X25519_H_
#define LIBP2P_CRYPTO_X25519_H_

#include <array>
#include <cstdint>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::crypto {

using X25519PublicKey = std::array<uint8_t, 32>;
using X25519SharedSecret = std::array<uint8_t, 32>;

// An X25519 key pair. The private scalar never leaves the object and is wiped on destruction.
class X25519KeyPair {
 public:
  // A fresh key pair whose private key comes from RandomBytes (libp2p/base/random.h).
  static X25519KeyPair Generate();
  // The key pair of a given 32-byte private key (for tests with known answers).
  static X25519KeyPair FromPrivateKey(const std::array<uint8_t, 32>& private_key);
  ~X25519KeyPair();
  X25519KeyPair(const X25519KeyPair&) = default;
  X25519KeyPair& operator=(const X25519KeyPair&) = default;

  const X25519PublicKey& public_key() const { return public_; }

  // The shared secret with `peer_public`. Fails with kInvalidArgument for a low-order peer key (an
  // all-zero result), which a Noise implementation must refuse.
  StatusOr<X25519SharedSecret> Agree(ByteSpan peer_public) const;

 private:
  X25519KeyPair() = default;
  std::array<uint8_t, 32> private_{};
  X25519PublicKey public_{};
};

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_X25519_H_
