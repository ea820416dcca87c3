// SHA-256 (BoringSSL's), HMAC-SHA-256 (RFC 2104) and HKDF-SHA-256 (RFC 5869) on it, without heap allocation.
#ifndef LIBP2P_CRYPTO_SHA256_H_
#define LIBP2P_CRYPTO_SHA256_H_

#include <array>
#include <cstdint>
#include <span>

#include <openssl/sha.h>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

// The SHA-256 digest of `data`.
Sha256Digest Sha256(ByteSpan data);

// Incremental SHA-256 over several pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  void Update(ByteSpan data);
  // The digest of everything updated so far; the hasher must not be used afterwards.
  Sha256Digest Finish();

 private:
  SHA256_CTX ctx_;
};

// HKDF-SHA-256 (RFC 5869): derives `out.size()` bytes (at most 255 * 32) from the input keying material,
// salt and info. Fails with kInvalidArgument when too much output is requested.
Status HkdfSha256(ByteSpan secret, ByteSpan salt, ByteSpan info, std::span<uint8_t> out);

// HMAC-SHA-256 of `data` under `key`.
Sha256Digest HmacSha256(ByteSpan key, ByteSpan data);

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_SHA256_H_
