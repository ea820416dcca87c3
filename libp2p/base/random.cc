#include "libp2p/base/random.h"

#include <openssl/base.h>
#include <openssl/chacha.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p {
namespace {

// The innermost scope on this thread, or null for RAND_bytes.
thread_local ScopedDeterministicRandom* current_source = nullptr;

void StoreLittleEndian32(uint32_t v, uint8_t* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

void RandomBytes(MutableByteSpan out) {
  if (out.empty()) return;
  if (current_source != nullptr) {
    current_source->Fill(out);
    return;
  }
  // BoringSSL documents that RAND_bytes always returns 1 (it aborts itself when the OS source fails).
  if (RAND_bytes(out.data(), out.size()) != 1) std::abort();
}

uint64_t RandomU64() {
  uint8_t bytes[8];
  RandomBytes(MutableByteSpan(bytes, sizeof(bytes)));
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

ScopedDeterministicRandom::ScopedDeterministicRandom(uint64_t seed) : previous_(current_source) {
  for (int i = 0; i < 8; ++i) key_[i] = static_cast<uint8_t>(seed >> (8 * i));
  current_source = this;
}

ScopedDeterministicRandom::~ScopedDeterministicRandom() {
  assert(current_source == this && "scopes end innermost first, on the thread that made them");
  current_source = previous_;
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
}

void ScopedDeterministicRandom::Fill(MutableByteSpan out) {
  while (!out.empty()) {
    if (used_ == buffer_.size()) NextBlock();
    const size_t n = std::min(out.size(), buffer_.size() - used_);
    std::copy_n(buffer_.begin() + used_, n, out.begin());
    used_ += n;
    out = out.subspan(n);
  }
}

void ScopedDeterministicRandom::NextBlock() {
  // The keystream is the encryption of zeros. CRYPTO_chacha_20 counts blocks in 32 bits; the high half of
  // our 64-bit block index goes into the nonce, so the stream never repeats within 2^64 blocks.
  uint8_t nonce[12] = {};
  StoreLittleEndian32(static_cast<uint32_t>(block_ >> 32), nonce);
  buffer_.fill(0);
  CRYPTO_chacha_20(buffer_.data(), buffer_.data(), buffer_.size(), key_.data(), nonce,
                   static_cast<uint32_t>(block_));
  ++block_;
  used_ = 0;
}

}  // namespace libp2p
