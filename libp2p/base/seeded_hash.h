// A keyed hash for hash tables whose keys come from remote peers (message ids, topics, peer ids): SipHash-2-4
// from BoringSSL with a per-instance random key, so a peer cannot choose keys that collide.
#ifndef LIBP2P_BASE_SEEDED_HASH_H_
#define LIBP2P_BASE_SEEDED_HASH_H_

#include <cstdint>
#include <string_view>

#include "libp2p/base/bytes.h"

namespace libp2p {

class SeededHash {
 public:
  // A fixed key, for deterministic tests and simulations.
  SeededHash(uint64_t k0, uint64_t k1) : key_{k0, k1} {}
  // A key from RandomBytes (random.h): fixed by the seed under a ScopedDeterministicRandom.
  static SeededHash Random();

  uint64_t operator()(ByteSpan data) const;
  uint64_t operator()(std::string_view data) const { return (*this)(AsBytes(data)); }

 private:
  uint64_t key_[2];
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_SEEDED_HASH_H_
