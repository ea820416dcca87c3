// Plays arbitrary bytes as the remote side of a multistream-select negotiation, against our listener and
// against our dialer, over an in-memory connection on virtual time. Invariants: no crash, the negotiation
// always ends (by the timeout at the latest), and a protocol it agrees on is one we offered. The message
// decoder is checked for round trip on the same bytes.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/multistream_select.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

void RunOne(ByteSpan remote_bytes, bool as_listener) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> ours, theirs;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { ours = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { theirs = std::move(c).value(); });
  loop.RunUntilIdle();
  const std::vector<std::string> offered = {"/noise", "/yamux/1.0.0"};
  bool done = false;
  std::string agreed;
  auto on_done = [&](StatusOr<std::string> p) {
    done = true;
    if (p.ok()) agreed = *p;
  };
  auto negotiation = as_listener
                         ? MultistreamSelect::Listen(&loop, ours.get(), offered, std::chrono::seconds(10), on_done)
                         : MultistreamSelect::Dial(&loop, ours.get(), offered, std::chrono::seconds(10), on_done);
  if (!theirs->Write(remote_bytes).ok()) abort();
  loop.RunUntilIdle();
  loop.AdvanceTime(std::chrono::seconds(11));
  if (!done) abort();
  if (!agreed.empty() && agreed != offered[0] && agreed != offered[1]) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan input(data, size);
  StatusOr<std::string_view> text = DecodeMultistreamMessage(input);
  if (text.ok()) {
    const Bytes encoded = EncodeMultistreamMessage(*text);
    // The encoding is the varint prefix followed by exactly the decoded payload.
    const ByteSpan payload = ByteSpan(encoded).subspan(encoded.size() - size);
    if (!std::equal(payload.begin(), payload.end(), input.begin(), input.end())) abort();
  }
  RunOne(input, /*as_listener=*/true);
  RunOne(input, /*as_listener=*/false);
  return 0;
}
