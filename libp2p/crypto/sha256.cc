#include "libp2p/crypto/sha256.h"

#include <openssl/base.h>
#include <openssl/digest.h>
#include <openssl/hkdf.h>
#include <openssl/hmac.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p::crypto {

Sha256Digest Sha256(ByteSpan data) {
  Sha256Digest out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Sha256Hasher::Sha256Hasher() { SHA256_Init(&ctx_); }

void Sha256Hasher::Update(ByteSpan data) { SHA256_Update(&ctx_, data.data(), data.size()); }

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest out;
  SHA256_Final(out.data(), &ctx_);
  return out;
}

Status HkdfSha256(ByteSpan secret, ByteSpan salt, ByteSpan info, std::span<uint8_t> out) {
  if (out.size() > 255 * 32) return InvalidArgumentError("HKDF-SHA-256 output longer than 8160 bytes");
  if (HKDF(out.data(), out.size(), EVP_sha256(), secret.data(), secret.size(), salt.data(), salt.size(),
           info.data(), info.size()) != 1) {
    return InternalError("HKDF failed");
  }
  return OkStatus();
}

Sha256Digest HmacSha256(ByteSpan key, ByteSpan data) {
  Sha256Digest out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), key.size(), data.data(), data.size(), out.data(), &len);
  return out;
}

}  // namespace libp2p::crypto
