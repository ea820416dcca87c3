// Plays arbitrary bytes as the remote side of a Noise handshake, against our responder and our initiator,
// over an in-memory connection on virtual time. Invariants: no crash, the handshake always ends (by its
// timeout at the latest), and it never succeeds: forging message 2 or 3 needs the DH secrets.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

const crypto::Ed25519PrivateKey& Identity() {
  static const crypto::Ed25519PrivateKey key = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 5));
  return key;
}

void RunOne(ByteSpan remote_bytes, bool as_responder) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> ours, theirs;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { ours = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { theirs = std::move(c).value(); });
  loop.RunUntilIdle();
  bool done = false, succeeded = false;
  auto on_done = [&](StatusOr<NoiseSession> s) {
    done = true;
    succeeded = s.ok();
  };
  const NoiseOptions options{&Identity(), {"/yamux/1.0.0"}, std::chrono::seconds(10)};
  auto handshake = as_responder ? NoiseHandshake::Respond(&loop, std::move(ours), options, on_done)
                                : NoiseHandshake::Initiate(&loop, std::move(ours), options, std::nullopt, on_done);
  if (!theirs->Write(remote_bytes).ok()) abort();
  loop.RunUntilIdle();
  loop.AdvanceTime(std::chrono::seconds(11));
  if (!done) abort();
  // As responder, message 1 is plain and may be accepted, but message 3 cannot be forged.
  if (succeeded) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RunOne(ByteSpan(data, size), /*as_responder=*/true);
  RunOne(ByteSpan(data, size), /*as_responder=*/false);
  return 0;
}
