#include "libp2p/crypto/sha256.h"

#include <openssl/base.h>
#include <openssl/mem.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <type_traits>

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p::crypto {
namespace {

constexpr size_t kBlockSize = 64;  // SHA-256's.
static_assert(std::is_trivially_copyable_v<Sha256Hasher>);

// HMAC-SHA-256 (RFC 2104) under one key, on Sha256Hashers that live in the object: no heap, unlike the
// EVP-based HMAC() and HKDF(), which allocate digest contexts on every call (each side of a Noise handshake
// derives keys four times). The key's padded blocks are hashed once, so each further MAC under the same key
// (HKDF-Expand's blocks) costs two compressions less. Key material is wiped when it goes.
class KeyedHmac {
 public:
  explicit KeyedHmac(ByteSpan key) {
    uint8_t block[kBlockSize] = {};
    if (key.size() > kBlockSize) {
      const Sha256Digest hashed = Sha256(key);
      std::memcpy(block, hashed.data(), hashed.size());
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    uint8_t pad[kBlockSize];
    for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x36;
    inner_.Update(ByteSpan(pad, kBlockSize));
    for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x5c;
    outer_.Update(ByteSpan(pad, kBlockSize));
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
  }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;
  ~KeyedHmac() {
    Wipe(&inner_);
    Wipe(&outer_);
  }

  // The MAC of the concatenation of `parts`.
  Sha256Digest Mac(std::initializer_list<ByteSpan> parts) const {
    Sha256Hasher inner_hasher = inner_;
    for (ByteSpan part : parts) inner_hasher.Update(part);
    Sha256Digest inner = inner_hasher.Finish();
    Sha256Hasher outer_hasher = outer_;
    outer_hasher.Update(inner);
    const Sha256Digest out = outer_hasher.Finish();
    Wipe(&inner_hasher);
    Wipe(&outer_hasher);
    OPENSSL_cleanse(inner.data(), inner.size());
    return out;
  }

 private:
  // A hasher is a SHA-256 context and nothing else (trivially copyable), so it is wiped as bytes.
  static void Wipe(Sha256Hasher* hasher) { OPENSSL_cleanse(hasher, sizeof(*hasher)); }

  Sha256Hasher inner_;  // After the key's inner padded block.
  Sha256Hasher outer_;  // After the key's outer padded block.
};

}  // namespace

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
  // Extract: an empty salt is a block of zeros, as HMAC pads any key.
  Sha256Digest prk = KeyedHmac(salt).Mac({secret});
  // Expand: T(i) = HMAC(PRK, T(i-1) | info | i), T(0) empty.
  const KeyedHmac expand(prk);
  Sha256Digest t;
  ByteSpan previous;
  for (size_t done = 0, i = 1; done < out.size(); done += t.size(), ++i) {
    const uint8_t counter = static_cast<uint8_t>(i);
    t = expand.Mac({previous, info, ByteSpan(&counter, 1)});
    std::copy_n(t.begin(), std::min(t.size(), out.size() - done), out.begin() + done);
    previous = t;
  }
  OPENSSL_cleanse(prk.data(), prk.size());
  OPENSSL_cleanse(t.data(), t.size());
  return OkStatus();
}

Sha256Digest HmacSha256(ByteSpan key, ByteSpan data) { return KeyedHmac(key).Mac({data}); }

}  // namespace libp2p::crypto
