// The library's one source of random bytes: key material, hash keys, ping payloads, router seeds.
//
// By default it is BoringSSL's RAND_bytes (the operating system's entropy behind a CSPRNG). A
// ScopedDeterministicRandom replaces it, on the thread that creates it and for its lifetime, with a keystream
// drawn from a 64-bit seed, so that a simulation or a test that runs many nodes on one thread draws the same
// keys, hash keys and seeds for the same seed, and so produces the same bytes run after run.
#ifndef LIBP2P_BASE_RANDOM_H_
#define LIBP2P_BASE_RANDOM_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "libp2p/base/bytes.h"

namespace libp2p {

// Fills `out` with random bytes: from the ScopedDeterministicRandom innermost on the calling thread if there
// is one, else from BoringSSL's RAND_bytes. Never fails (BoringSSL aborts the process itself when the
// operating system cannot give it entropy). Thread-safe.
void RandomBytes(MutableByteSpan out);

// Eight bytes of RandomBytes, read as a little-endian integer.
uint64_t RandomU64();

// For simulations and tests only: while it lives, RandomBytes on the thread that created it draws from the
// ChaCha20 keystream (RFC 8439) whose key is `seed` as 8 little-endian bytes followed by 24 zero bytes, with
// a zero nonce and the block counter starting at 0 (past 2^32 blocks the counter's high half goes into the
// nonce's first four bytes). Anyone who knows the seed knows every key drawn under it: never use it for keys
// that protect anything.
//
// Other threads are unaffected (they keep their own innermost source, or RAND_bytes). Scopes nest: the
// newest on a thread is used, and its destruction restores the one it replaced. A scope must be destroyed on
// the thread that created it, innermost first (both are asserted); it is neither copyable nor movable.
class ScopedDeterministicRandom {
 public:
  explicit ScopedDeterministicRandom(uint64_t seed);
  ~ScopedDeterministicRandom();
  ScopedDeterministicRandom(const ScopedDeterministicRandom&) = delete;
  ScopedDeterministicRandom& operator=(const ScopedDeterministicRandom&) = delete;

 private:
  friend void RandomBytes(MutableByteSpan out);

  // The next out.size() bytes of the keystream.
  void Fill(MutableByteSpan out);
  void NextBlock();

  std::array<uint8_t, 32> key_{};
  uint64_t block_ = 0;                  // The keystream block that `buffer_` holds next.
  std::array<uint8_t, 64> buffer_{};    // One keystream block.
  size_t used_ = sizeof(buffer_);       // Bytes of `buffer_` already handed out.
  ScopedDeterministicRandom* previous_;  // The scope this one replaced on its thread, or null.
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_RANDOM_H_
