#include "libp2p/crypto/chacha20_poly1305.h"

#include <cstring>
#include <string>

namespace libp2p::crypto {

StatusOr<ChaCha20Poly1305> ChaCha20Poly1305::Create(ByteSpan key) {
  if (key.size() != kKeySize) {
    return InvalidArgumentError("ChaCha20-Poly1305 key must be 32 bytes, got " + std::to_string(key.size()));
  }
  ChaCha20Poly1305 aead;
  if (EVP_AEAD_CTX_init(&aead.ctx_, EVP_aead_chacha20_poly1305(), key.data(), key.size(), kTagSize,
                        nullptr) != 1) {
    return InternalError("EVP_AEAD_CTX_init failed");
  }
  aead.initialized_ = true;
  return aead;
}

ChaCha20Poly1305::ChaCha20Poly1305(ChaCha20Poly1305&& other) noexcept { *this = std::move(other); }

ChaCha20Poly1305& ChaCha20Poly1305::operator=(ChaCha20Poly1305&& other) noexcept {
  if (this == &other) return *this;
  if (initialized_) EVP_AEAD_CTX_cleanup(&ctx_);
  // EVP_AEAD_CTX holds its key state inline, so moving it is a byte copy.
  std::memcpy(&ctx_, &other.ctx_, sizeof(ctx_));
  initialized_ = other.initialized_;
  other.initialized_ = false;
  return *this;
}

ChaCha20Poly1305::~ChaCha20Poly1305() {
  if (initialized_) EVP_AEAD_CTX_cleanup(&ctx_);
}

StatusOr<size_t> ChaCha20Poly1305::Seal(const std::array<uint8_t, kNonceSize>& nonce, ByteSpan plaintext,
                                        ByteSpan ad, std::span<uint8_t> out) const {
  if (out.size() < plaintext.size() + kTagSize) return InvalidArgumentError("AEAD output buffer too small");
  size_t written = 0;
  if (EVP_AEAD_CTX_seal(&ctx_, out.data(), &written, out.size(), nonce.data(), nonce.size(), plaintext.data(),
                        plaintext.size(), ad.data(), ad.size()) != 1) {
    return InternalError("EVP_AEAD_CTX_seal failed");
  }
  return written;
}

StatusOr<size_t> ChaCha20Poly1305::Open(const std::array<uint8_t, kNonceSize>& nonce, ByteSpan ciphertext,
                                        ByteSpan ad, std::span<uint8_t> out) const {
  if (ciphertext.size() < kTagSize) return UnauthenticatedError("AEAD ciphertext shorter than its tag");
  if (out.size() < ciphertext.size() - kTagSize) return InvalidArgumentError("AEAD output buffer too small");
  size_t written = 0;
  if (EVP_AEAD_CTX_open(&ctx_, out.data(), &written, out.size(), nonce.data(), nonce.size(), ciphertext.data(),
                        ciphertext.size(), ad.data(), ad.size()) != 1) {
    return UnauthenticatedError("AEAD authentication failed");
  }
  return written;
}

}  // namespace libp2p::crypto
