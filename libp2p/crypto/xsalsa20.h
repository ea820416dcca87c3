// The Salsa20 family (D. J. Bernstein, "The Salsa20 family of stream ciphers" and "Extending the Salsa20
// nonce"): the Salsa20/20 hash function, HSalsa20, and the XSalsa20 stream cipher that libp2p's private
// network protector (pnet, PSK v1) XORs every byte of a connection with.
//
// XSalsa20 alone is an unauthenticated stream cipher: it hides bytes from whoever lacks the key but lets
// anyone flip them undetected, and a keystream must never be used twice (a (key, nonce) pair encrypts one
// stream only). Everything here runs in constant time: the secret key reaches the output through additions,
// XORs and rotations only (no table lookups, no secret-dependent branches).
#ifndef LIBP2P_CRYPTO_XSALSA20_H_
#define LIBP2P_CRYPTO_XSALSA20_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "libp2p/base/bytes.h"

namespace libp2p::crypto {

// The Salsa20/20 hash function (the spec's "Salsa20(x)"): reads the 64-byte `in` as sixteen little-endian
// words, applies 10 double rounds and adds the input back word by word, writing 64 bytes to `out`. `in` and
// `out` may be the same buffer. Never fails.
void Salsa20Core(const uint8_t in[64], uint8_t out[64]);

// HSalsa20: the 32-byte subkey that XSalsa20 derives from `key` and the first 16 bytes of its nonce
// (`input`). Salsa20's 20 rounds over the key, the constants and `input`, without the final addition,
// keeping words 0, 5, 10, 15, 6, 7, 8 and 9. `out` may alias `key` or `input`: it is written only after
// both were read. Never fails.
void HSalsa20(std::span<const uint8_t, 32> key, std::span<const uint8_t, 16> input, std::span<uint8_t, 32> out);

// The XSalsa20 keystream of one (key, nonce) pair, XORed onto data as it passes: Apply() continues the
// keystream where the previous call stopped, so any split of a stream into calls gives the same bytes as
// one call over all of it. The block counter starts at 0 unless asked otherwise (libsodium's
// crypto_stream_xsalsa20_xor_ic with ic = 0) and is 64 bits wide (2^70 bytes: never exhausted in
// practice; past 2^64 blocks it would wrap to block 0 and repeat the keystream).
//
// Encryption and decryption are the same operation. The object keeps only the derived subkey, the nonce's
// last 8 bytes, the counter and at most one block of unused keystream; it copies nothing the caller passes
// and holds no pointer to it. All of it is wiped when the object is destroyed (copies that the computation
// leaves in registers, and the bulk paths' spills on the stack, are not). Neither copyable nor movable, so
// a keystream cannot be duplicated by accident (two copies would encrypt two streams with the same
// keystream). One object is used by one thread at a time.
class XSalsa20 {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 24;
  static constexpr size_t kBlockSize = 64;

  // The keystream of (`key`, `nonce`) from its block `first_block` on (byte 64 * first_block; libsodium's
  // `ic`). Only the derived subkey is kept.
  XSalsa20(std::span<const uint8_t, kKeySize> key, std::span<const uint8_t, kNonceSize> nonce,
           uint64_t first_block = 0);
  ~XSalsa20();
  XSalsa20(const XSalsa20&) = delete;
  XSalsa20& operator=(const XSalsa20&) = delete;

  // Writes `in` XOR the next in.size() keystream bytes to `out`. `out` must be as long as `in` (asserted; a
  // release build processes only the shorter length) and either be exactly `in` (in place) or not overlap
  // it. Never fails.
  void Apply(ByteSpan in, std::span<uint8_t> out);

  // Apply() in place.
  void Apply(std::span<uint8_t> data) { Apply(data, data); }

  // Apply() computes up to eight blocks at once, as wide as the CPU allows (4 with SSE2 or NEON, 8 with
  // AVX2), and single blocks for the tail. For tests that cover every path on one machine: from now on at
  // most `blocks` at once (1: single blocks only). The keystream is the same whatever the width.
  void LimitBulkBlocksForTesting(size_t blocks);

 private:
  // Generates keystream block `counter_` into `block_` and advances the counter.
  void NextBlock();

  // The Salsa20 input block: constants, the HSalsa20 subkey, the nonce's last 8 bytes (words 6 and 7);
  // words 8 and 9 (the block counter) are filled in from counter_ for each block.
  std::array<uint32_t, 16> input_;
  uint64_t counter_ = 0;  // The next block to generate.
  std::array<uint8_t, kBlockSize> block_{};  // Keystream of the block before counter_.
  size_t used_ = kBlockSize;                 // Bytes of block_ already consumed; kBlockSize: none left.
  size_t bulk_blocks_ = 1;                   // The most blocks computed at once: 1, 4 or 8.
};

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_XSALSA20_H_
