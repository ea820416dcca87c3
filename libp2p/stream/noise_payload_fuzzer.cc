// Decodes arbitrary bytes as a Noise handshake payload; re-encoding must reach a fixed point (unknown fields
// are skipped). Verification against a fixed static key must never crash.
#include <cstdint>
#include <cstdlib>

#include "libp2p/stream/noise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::stream::NoiseHandshakePayload;
  const libp2p::ByteSpan input(data, size);
  const uint8_t static_key[32] = {9};
  libp2p::stream::VerifyNoisePayload(input, libp2p::ByteSpan(static_key, 32)).status().IgnoreError();
  libp2p::StatusOr<NoiseHandshakePayload> p = NoiseHandshakePayload::Decode(input);
  if (!p.ok()) return 0;
  const libp2p::Bytes first = p->Encode();
  libp2p::StatusOr<NoiseHandshakePayload> again = NoiseHandshakePayload::Decode(first);
  if (!again.ok() || again->Encode() != first) abort();
  if (again->stream_muxers != p->stream_muxers || again->identity_key != p->identity_key) abort();
  return 0;
}
