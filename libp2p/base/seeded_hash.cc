#include "libp2p/base/seeded_hash.h"

#include <openssl/base.h>
#include <openssl/rand.h>
#include <openssl/siphash.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p {

SeededHash SeededHash::Random() {
  uint64_t key[2];
  RAND_bytes(reinterpret_cast<uint8_t*>(key), sizeof(key));
  return SeededHash(key[0], key[1]);
}

uint64_t SeededHash::operator()(ByteSpan data) const { return SIPHASH_24(key_, data.data(), data.size()); }

}  // namespace libp2p
