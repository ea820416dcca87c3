// Decodes arbitrary bytes as a signed envelope. Decoding accepts fields in any order, so the invariant is
// that re-encoding reaches a fixed point: decode(encode(decode(x))) re-encodes to the same bytes. The
// signature check must agree with itself across the round trip.
#include <cstdint>
#include <cstdlib>

#include "libp2p/crypto/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::crypto::Envelope;
  const libp2p::ByteSpan input(data, size);
  libp2p::StatusOr<Envelope> env = Envelope::Decode(input);
  if (!env.ok()) return 0;
  const libp2p::Bytes first = env->Encode();
  libp2p::StatusOr<Envelope> again = Envelope::Decode(first);
  if (!again.ok()) abort();
  if (again->Encode() != first) abort();
  const bool opened = libp2p::crypto::OpenEnvelope(input, "libp2p-peer-record").ok();
  if (opened != libp2p::crypto::OpenEnvelope(first, "libp2p-peer-record").ok()) abort();
  return 0;
}
