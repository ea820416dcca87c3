// Plays arbitrary bytes as the remote side of a yamux connection (over an in-memory connection on virtual
// time) while our side accepts every stream, reads it and answers on every other one, and opens one stream
// of its own, or as many as the ACK backlog allows. Our streams start with a 512 KiB window, which a 1 MiB
// budget grants to the first few only. The first input byte picks how the remote's bytes are
// cut (bits 0-1: pieces of 64 B, 1 KiB, 16 KiB or 64 KiB), how much time passes after each piece (bits 2-3:
// 0, 1, 10 or 100 ms, so that pings measure a round-trip time and windows can grow) and whether we fill the
// ACK backlog (bit 4); the rest is the remote's wire.
//
// Invariants: no crash; never more accepted streams open than the limit; the stream beyond the ACK backlog
// is refused; the connection's memory budget is whole again once the connection is gone; a well-formed
// header decodes and re-encodes to itself.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/yamux.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

void Check(bool ok) {
  if (!ok) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t input_size) {
  if (input_size == 0) return 0;
  const size_t piece = size_t{64} << (2 * (input[0] & 3));
  const std::chrono::milliseconds step[] = {std::chrono::milliseconds(0), std::chrono::milliseconds(1),
                                            std::chrono::milliseconds(10), std::chrono::milliseconds(100)};
  const std::chrono::milliseconds pause = step[(input[0] >> 2) & 3];
  const uint8_t* data = input + 1;
  const size_t size = input_size - 1;
  if (size >= kYamuxHeaderSize) {
    StatusOr<YamuxHeader> h = YamuxHeader::Decode(ByteSpan(data, kYamuxHeaderSize));
    if (h.ok()) {
      uint8_t again[kYamuxHeaderSize];
      h->EncodeTo(again);
      Check(std::equal(again, again + kYamuxHeaderSize, data));
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
  MemoryBudget budget(1024 * 1024);
  YamuxOptions options;
  options.limits.max_inbound_streams = kLimit;
  options.limits.budget = &budget;
  options.limits.stream_receive_window = 512 * 1024;
  std::vector<std::unique_ptr<Stream>> accepted;
  std::vector<std::unique_ptr<Stream>> opened;
  auto conn = CreateYamuxConnection(
      &loop, std::move(ours), /*initiator=*/false,
      {[&](std::unique_ptr<Stream> s) {
         s->SetHandlers(Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
         if (accepted.size() % 2 == 1) s->Write(AsBytes("ok")).IgnoreError();
         accepted.push_back(std::move(s));
       },
       [](const Status&) {}},
      options);
  const size_t own_streams = (input[0] & 0x10) ? kYamuxMaxAckBacklog : 1;
  for (size_t i = 0; i < own_streams; ++i) {
    StatusOr<std::unique_ptr<Stream>> s = conn->OpenStream();
    Check(s.ok());
    opened.push_back(std::move(s).value());
  }
  if (own_streams == kYamuxMaxAckBacklog) {
    Check(conn->OpenStream().status().code() == StatusCode::kResourceExhausted);
  }
  opened[0]->Write(AsBytes("hello")).IgnoreError();
  theirs->SetHandlers(Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
  for (size_t off = 0; off < size; off += piece) {
    if (!theirs->Write(ByteSpan(data + off, std::min(piece, size - off))).ok()) break;
    loop.AdvanceTime(pause);
    Check(conn->stream_count() <= kLimit + opened.size());
  }
  // ACKs and resets from the remote make room for more.
  StatusOr<std::unique_ptr<Stream>> more = conn->OpenStream();
  if (more.ok()) opened.push_back(std::move(more).value());
  loop.AdvanceTime(std::chrono::seconds(120));
  conn.reset();
  Check(budget.used() == 0);
  accepted.clear();
  opened.clear();
  loop.RunUntilIdle();
  return 0;
}
