// Parses arbitrary bytes as a multihash. On success re-framing the code and digest must give back the input
// exactly (minimal varints, a length that covers the rest), and the identity and sha2-256 encoders must
// agree.
#include <cstdint>
#include <cstdlib>

#include "libp2p/base/multihash.h"
#include "libp2p/base/varint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const libp2p::ByteSpan in(data, size);
  const libp2p::StatusOr<libp2p::MultihashView> mh = libp2p::ParseMultihash(in);
  if (!mh.ok()) {
    const bool too_long = size > libp2p::kMaxMultihashLength;
    if (too_long != (mh.status().code() == libp2p::StatusCode::kOutOfRange)) abort();
    return 0;
  }
  libp2p::Bytes framed;
  libp2p::AppendUvarint(mh->code, &framed);
  libp2p::AppendUvarint(mh->digest.size(), &framed);
  framed.insert(framed.end(), mh->digest.begin(), mh->digest.end());
  if (framed != libp2p::Bytes(in.begin(), in.end())) abort();
  if (mh->digest.data() + mh->digest.size() != data + size) abort();
  if (mh->code == libp2p::kMultihashIdentity && libp2p::IdentityMultihash(mh->digest) != framed) abort();
  if (mh->code == libp2p::kMultihashSha2_256) {
    if (mh->digest.size() != libp2p::kSha256DigestLength) abort();
    if (libp2p::Sha256Multihash(mh->digest.data()) != framed) abort();
  }
  return 0;
}
