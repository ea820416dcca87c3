// ChaCha20-Poly1305 AEAD (RFC 8439) on BoringSSL, for Noise transport messages.
#ifndef LIBP2P_CRYPTO_CHACHA20_POLY1305_H_
#define LIBP2P_CRYPTO_CHACHA20_POLY1305_H_

#include <array>
#include <cstdint>
#include <span>

#include <openssl/aead.h>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::crypto {

// A ChaCha20-Poly1305 key, set up once: sealing and opening allocate nothing.
class ChaCha20Poly1305 {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;

  // Fails with kInvalidArgument unless `key` is 32 bytes.
  static StatusOr<ChaCha20Poly1305> Create(ByteSpan key);
  ChaCha20Poly1305(ChaCha20Poly1305&& other) noexcept;
  ChaCha20Poly1305& operator=(ChaCha20Poly1305&& other) noexcept;
  ChaCha20Poly1305(const ChaCha20Poly1305&) = delete;
  ChaCha20Poly1305& operator=(const ChaCha20Poly1305&) = delete;
  ~ChaCha20Poly1305();

  // Encrypts `plaintext` into `out`, which must hold plaintext.size() + 16 bytes; `out` may start at
  // plaintext.data() (in place). Returns the bytes written, or kInvalidArgument when `out` is too small.
  StatusOr<size_t> Seal(const std::array<uint8_t, kNonceSize>& nonce, ByteSpan plaintext, ByteSpan ad,
                        std::span<uint8_t> out) const;

  // Decrypts and authenticates `ciphertext` (with its tag) into `out` (ciphertext.size() - 16 bytes; may be
  // in place). Fails with kUnauthenticated when the tag does not verify, leaving `out` unspecified.
  StatusOr<size_t> Open(const std::array<uint8_t, kNonceSize>& nonce, ByteSpan ciphertext, ByteSpan ad,
                        std::span<uint8_t> out) const;

 private:
  ChaCha20Poly1305() = default;
  EVP_AEAD_CTX ctx_;
  bool initialized_ = false;
};

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_CHACHA20_POLY1305_H_
