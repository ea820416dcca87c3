// Drives a Noise session over an in-memory connection with writes of arbitrary sizes, copied or shared,
// split into loop turns at arbitrary points, exercising how the sender coalesces and seals transport
// messages (splicing shared ones under the simulation's null cipher) and how the receiver splits,
// reassembles and opens them (under the null cipher, piece by piece as they arrive). Invariant: the
// receiver gets exactly the bytes written, in order, then the end of stream.
//
// Input: a first byte, odd for the simulation's null cipher (LinkModel::null_cipher), then a sequence of
// operations. A byte >= 0xf0 ends the loop turn; any other byte b, followed by two bytes h and l, writes
// ((b & 0x0f) << 16 | h << 8 | l) bytes (a deterministic pattern), shared (WriteShared) when b & 0x10.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

// Far below the memory connection's hard limit, which a writer ignoring back-pressure could reach.
constexpr size_t kMaxTotal = 4 * 1024 * 1024;

const crypto::Ed25519PrivateKey& Identity(uint8_t seed) {
  static const crypto::Ed25519PrivateKey a = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  static const crypto::Ed25519PrivateKey b = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 2));
  return seed == 1 ? a : b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool null_cipher = (data[0] & 1) != 0;
  ManualEventLoop loop;
  MemoryNetwork network(&loop, WriteLimits{}, LinkModel{.null_cipher = null_cipher});
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> server_raw, client_raw;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { server_raw = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { client_raw = std::move(c).value(); });
  loop.RunUntilIdle();
  std::unique_ptr<RawConnection> client, server;
  auto initiate = NoiseHandshake::Initiate(&loop, std::move(client_raw), NoiseOptions{&Identity(1), {}},
                                           std::nullopt, [&](StatusOr<NoiseSession> s) {
                                             if (!s.ok()) abort();
                                             client = std::move(s->connection);
                                           });
  auto respond = NoiseHandshake::Respond(&loop, std::move(server_raw), NoiseOptions{&Identity(2), {}},
                                         [&](StatusOr<NoiseSession> s) {
                                           if (!s.ok()) abort();
                                           server = std::move(s->connection);
                                         });
  loop.RunUntilIdle();
  if (client == nullptr || server == nullptr) abort();

  std::string received;
  bool eof = false;
  server->SetHandlers(Stream::Handlers{
      [&](ByteSpan d) { received.append(reinterpret_cast<const char*>(d.data()), d.size()); },
      [&] { eof = true; }, [](const Status&) { abort(); }, {}});

  std::string written;
  Bytes chunk;
  for (size_t i = 1; i < size;) {
    const uint8_t op = data[i++];
    if (op >= 0xf0) {
      loop.RunUntilIdle();
      continue;
    }
    if (i + 2 > size) break;
    size_t n = static_cast<size_t>(op & 0x0f) << 16 | static_cast<size_t>(data[i]) << 8 | data[i + 1];
    i += 2;
    n = std::min(n, kMaxTotal - written.size());
    chunk.resize(n);
    for (size_t k = 0; k < n; ++k) chunk[k] = static_cast<uint8_t>((written.size() + k) * 131 + 7);
    if (op & 0x10) {
      auto owner = std::make_shared<const Bytes>(chunk);
      if (!client->WriteShared(*owner, owner).ok()) abort();
    } else if (!client->Write(chunk).ok()) {
      abort();
    }
    written.append(chunk.begin(), chunk.end());
  }
  client->CloseWrite();
  loop.RunUntilIdle();
  if (received != written || !eof) abort();
  return 0;
}
