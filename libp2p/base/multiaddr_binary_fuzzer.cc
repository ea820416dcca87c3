// Parses arbitrary bytes as a binary multiaddr. On success the address must hold exactly the input, its text
// must fit the text limit and parse back to the same bytes (and print the same), and its components must
// spell the same text (a unix path brings its own leading '/').
#include <cstdint>
#include <cstdlib>
#include <string>

#include "libp2p/base/multiaddr.h"

using libp2p::Multiaddr;
using libp2p::StatusOr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const libp2p::ByteSpan in(data, size);
  const StatusOr<Multiaddr> m = Multiaddr::FromBytes(in);
  if (!m.ok()) return 0;
  if (m->bytes() != libp2p::Bytes(in.begin(), in.end())) abort();
  const std::string text = m->ToString();
  if (text.size() > libp2p::kMaxMultiaddrTextLength) abort();
  const StatusOr<Multiaddr> from_text = Multiaddr::FromString(text);
  if (!from_text.ok() || from_text->bytes() != m->bytes() || from_text->ToString() != text) abort();
  const StatusOr<Multiaddr> from_bytes = Multiaddr::FromBytes(m->bytes());
  if (!from_bytes.ok() || !(*from_bytes == *m)) abort();
  std::string joined;
  for (const Multiaddr::Component& c : m->Components()) {
    joined += "/" + std::string(c.name);
    if (c.value.empty()) continue;
    if (c.code != libp2p::multiaddr_protocol::kUnix) joined += "/";
    joined += c.text;
  }
  if (joined != text) abort();
  if (m->PeerIdMultihash().has_value() == (m->WithoutPeerId() == *m)) abort();
  return 0;
}
