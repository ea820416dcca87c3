// Plays arbitrary bytes as the remote side of a yamux connection (over an in-memory connection on virtual
// time) while our side accepts and reads every stream, and opens one of its own. Invariants: no crash;
// never more accepted streams than the limit; a well-formed header decodes and re-encodes to itself.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/yamux.h"

using namespace libp2p;
using namespace libp2p::stream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= kYamuxHeaderSize) {
    StatusOr<YamuxHeader> h = YamuxHeader::Decode(ByteSpan(data, kYamuxHeaderSize));
    if (h.ok()) {
      uint8_t again[kYamuxHeaderSize];
      h->EncodeTo(again);
      if (!std::equal(again, again + kYamuxHeaderSize, data)) abort();
    }
  }
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> ours, theirs;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { ours = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { theirs = std::move(c).value(); });
  loop.RunUntilIdle();
  constexpr size_t kLimit = 8;
  YamuxOptions options;
  options.limits.max_inbound_streams = kLimit;
  std::vector<std::unique_ptr<Stream>> accepted;
  size_t total_accepted = 0;
  auto conn = CreateYamuxConnection(
      &loop, std::move(ours), /*initiator=*/false,
      {[&](std::unique_ptr<Stream> s) {
         ++total_accepted;
         s->SetHandlers(Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
         accepted.push_back(std::move(s));
       },
       [](const Status&) {}},
      options);
  auto own = conn->OpenStream();
  if (own.ok()) (*own)->Write(AsBytes("hello")).IgnoreError();
  theirs->SetHandlers(Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
  if (!theirs->Write(ByteSpan(data, size)).ok()) abort();
  loop.RunUntilIdle();
  if (conn->stream_count() > kLimit + 1) abort();
  loop.AdvanceTime(std::chrono::seconds(120));
  (void)total_accepted;
  return 0;
}
