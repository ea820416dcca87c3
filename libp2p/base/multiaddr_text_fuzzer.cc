// Parses arbitrary text as a multiaddr. On success printing is a fixed point: the printed text fits the text
// limit, parses to the same bytes and prints identically, and the bytes parse back to an equal address that
// prints the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libp2p/base/multiaddr.h"

using libp2p::Multiaddr;
using libp2p::StatusOr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const StatusOr<Multiaddr> m = Multiaddr::FromString(text);
  if (!m.ok()) return 0;
  const std::string printed = m->ToString();
  if (printed.size() > libp2p::kMaxMultiaddrTextLength) abort();
  const StatusOr<Multiaddr> again = Multiaddr::FromString(printed);
  if (!again.ok() || again->bytes() != m->bytes()) abort();
  if (again->ToString() != printed) abort();
  const StatusOr<Multiaddr> from_bytes = Multiaddr::FromBytes(m->bytes());
  if (!from_bytes.ok() || !(*from_bytes == *m) || from_bytes->ToString() != printed) abort();
  return 0;
}
