// Plays arbitrary bytes as a perf client against our responder, over an in-memory connection on virtual time.
// The first byte picks the responder's cap and whether the client closes its side; the rest is what the client
// writes (the header, then the upload). Invariants: the responder always ends (by the idle timeout at the
// latest); it answers a whole header at or under the cap with exactly the requested bytes and an end of
// stream, refuses one over the cap having sent nothing, and counts every uploaded byte. The header decoder
// round-trips.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/perf.h"

using namespace libp2p;
using namespace libp2p::stream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr std::array<uint64_t, 4> kCaps = {0, 1, 1000, 1 << 20};
  const uint64_t cap = kCaps[data[0] & 3];
  const bool close = (data[0] & 4) == 0;
  const ByteSpan input(data + 1, size - 1);

  std::array<uint8_t, kPerfHeaderSize> header{};
  const bool whole_header = input.size() >= kPerfHeaderSize;
  if (whole_header) {
    std::copy_n(input.begin(), kPerfHeaderSize, header.begin());
    if (EncodePerfHeader(DecodePerfHeader(header)) != header) abort();
  }
  const uint64_t requested = DecodePerfHeader(header);

  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> client, server;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { server = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { client = std::move(c).value(); });
  loop.RunUntilIdle();
  if (client == nullptr || server == nullptr) abort();

  uint64_t answered = 0;
  bool eof = false;
  client->SetHandlers(Stream::Handlers{[&](ByteSpan d) { answered += d.size(); }, [&] { eof = true; }, {}, {}});
  int calls = 0;
  Status done = CancelledError("unset");
  PerfResponder responder(&loop, server.get(), {.max_send_bytes = cap, .idle_timeout = std::chrono::seconds(30)},
                          [&](Status s) {
                            ++calls;
                            done = s;
                          });
  if (!input.empty() && !client->Write(input).ok()) abort();
  if (close) client->CloseWrite();
  loop.RunUntilIdle();
  loop.AdvanceTime(std::chrono::seconds(31));
  if (calls != 1) abort();

  if (whole_header && requested > cap) {
    if (done.code() != StatusCode::kResourceExhausted || answered != 0 || responder.bytes_sent() != 0) abort();
  } else if (!close) {
    if (done.code() != StatusCode::kDeadlineExceeded || answered != 0) abort();
    if (whole_header && responder.bytes_received() != input.size() - kPerfHeaderSize) abort();
  } else if (!whole_header) {
    if (done.code() != StatusCode::kInvalidArgument || answered != 0) abort();
  } else {
    if (!done.ok() || answered != requested || !eof) abort();
    if (responder.bytes_sent() != requested) abort();
    if (responder.bytes_received() != input.size() - kPerfHeaderSize) abort();
  }
  return 0;
}
