// Decodes arbitrary bytes as an Identify message. Whatever decodes must respect the limits, re-encode to
// bytes that decode again, and reach a fixed point at once: decoding drops unknown fields, invalid
// addresses and repeated singular fields, so only the first encoding may differ from the input.
#include <cstdint>
#include <cstdlib>

#include "libp2p/stream/identify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using libp2p::stream::IdentifyInfo;
  namespace s = libp2p::stream;
  const libp2p::ByteSpan input(data, size);
  libp2p::StatusOr<IdentifyInfo> info = IdentifyInfo::Decode(input);
  if (!info.ok()) return 0;
  if (info->listen_addrs.size() > s::kMaxIdentifyListenAddrs) abort();
  if (info->protocols.size() > s::kMaxIdentifyProtocols) abort();
  for (const std::string& p : info->protocols) {
    if (p.size() > s::kMaxIdentifyProtocolLength) abort();
  }
  for (const libp2p::Multiaddr& a : info->listen_addrs) {
    if (a.empty()) abort();
  }
  if (info->observed_addr.has_value() && info->observed_addr->empty()) abort();
  const libp2p::Bytes first = info->Encode();
  // Encoding keeps only what was decoded, in canonical form, so it never grows.
  if (first.size() > input.size()) abort();
  libp2p::StatusOr<IdentifyInfo> again = IdentifyInfo::Decode(first);
  if (!again.ok()) abort();
  if (!(*again == *info)) abort();
  if (again->Encode() != first) abort();
  return 0;
}
