#include "libp2p/base/seeded_hash.h"

#include <openssl/base.h>
#include <openssl/siphash.h>

#include "libp2p/base/random.h"

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p {

SeededHash SeededHash::Random() {
  const uint64_t k0 = RandomU64();
  const uint64_t k1 = RandomU64();
  return SeededHash(k0, k1);
}

uint64_t SeededHash::operator()(ByteSpan data) const { return SIPHASH_24(key_, data.data(), data.size()); }

}  // namespace libp2p
