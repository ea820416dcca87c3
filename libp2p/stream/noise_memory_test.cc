// What a secure connection holds between deliveries: after large frames, read or written, it keeps no buffer
// sized for them.
// Replaces operator new to count the bytes alive (each block carries its size in a header).
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"

namespace {
size_t g_live_bytes = 0;  // One thread only.
constexpr size_t kHeader = alignof(std::max_align_t);
}  // namespace

void* operator new(size_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (p == nullptr) throw std::bad_alloc();
  *reinterpret_cast<size_t*>(p) = n;
  g_live_bytes += n;
  return p + kHeader;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  auto* block = static_cast<unsigned char*>(p) - kHeader;
  g_live_bytes -= *reinterpret_cast<size_t*>(block);
  std::free(block);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace libp2p::stream {
namespace {

crypto::Ed25519PrivateKey KeyFromSeed(std::string_view seed) {
  return *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)));
}

TEST(NoiseMemoryTest, AfterLargeFramesTheConnectionKeepsNoBufferForThem) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> client_raw, server_raw;
  auto listener = transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                    [&](std::unique_ptr<RawConnection> c) { server_raw = std::move(c); });
  ASSERT_TRUE(listener.ok());
  auto dial = transport->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    client_raw = std::move(c).value();
  });
  loop.RunUntilIdle();
  ASSERT_NE(server_raw, nullptr);
  const crypto::Ed25519PrivateKey client_key = KeyFromSeed("client"), server_key = KeyFromSeed("server");
  StatusOr<NoiseSession> client = CancelledError("unset"), server = CancelledError("unset");
  auto initiate = NoiseHandshake::Initiate(&loop, std::move(client_raw), NoiseOptions{&client_key, {}},
                                           std::nullopt, [&](StatusOr<NoiseSession> s) { client = std::move(s); });
  auto respond = NoiseHandshake::Respond(&loop, std::move(server_raw), NoiseOptions{&server_key, {}},
                                         [&](StatusOr<NoiseSession> s) { server = std::move(s); });
  loop.RunUntilIdle();
  ASSERT_TRUE(client.ok() && server.ok());
  RawConnection* c = client->connection.get();
  RawConnection* s = server->connection.get();
  size_t received = 0;  // Counted, not kept: the test measures the connections' memory only.
  s->SetHandlers(Stream::Handlers{[&](ByteSpan b) { received += b.size(); }, [] {}, [](const Status&) {}, [] {}});
  c->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}});
  const std::string small(100, 's');
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  ASSERT_TRUE(s->Write(AsBytes(small)).ok());
  loop.RunUntilIdle();
  const std::string big(300000, 'b');
  const size_t before = g_live_bytes;

  // Frames of every size, some gathered across deliveries (the network delivers 64 KiB at a time).
  for (size_t piece : {65535u, 70000u, 1000u, 163465u}) {
    ASSERT_TRUE(c->Write(AsBytes(std::string_view(big).substr(0, piece))).ok());
    loop.RunUntilIdle();
  }
  // Then small traffic both ways, as a connection that carried a block carries attestations.
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  ASSERT_TRUE(s->Write(AsBytes(small)).ok());
  loop.RunUntilIdle();
  EXPECT_EQ(received, 2 * small.size() + 65535 + 70000 + 1000 + 163465);
  EXPECT_LT(g_live_bytes, before + 16 * 1024) << "the connections grew by " << g_live_bytes - before << " bytes";
}

TEST(NoiseMemoryTest, AfterALargeWriteTheWriterKeepsNoBufferForIt) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> client_raw, server_raw;
  auto listener = transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                    [&](std::unique_ptr<RawConnection> c) { server_raw = std::move(c); });
  ASSERT_TRUE(listener.ok());
  auto dial = transport->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    client_raw = std::move(c).value();
  });
  loop.RunUntilIdle();
  ASSERT_NE(server_raw, nullptr);
  const crypto::Ed25519PrivateKey client_key = KeyFromSeed("client"), server_key = KeyFromSeed("server");
  StatusOr<NoiseSession> client = CancelledError("unset"), server = CancelledError("unset");
  auto initiate = NoiseHandshake::Initiate(&loop, std::move(client_raw), NoiseOptions{&client_key, {}},
                                           std::nullopt, [&](StatusOr<NoiseSession> s) { client = std::move(s); });
  auto respond = NoiseHandshake::Respond(&loop, std::move(server_raw), NoiseOptions{&server_key, {}},
                                         [&](StatusOr<NoiseSession> s) { server = std::move(s); });
  loop.RunUntilIdle();
  ASSERT_TRUE(client.ok() && server.ok());
  RawConnection* c = client->connection.get();
  size_t received = 0;
  server->connection->SetHandlers(Stream::Handlers{[&](ByteSpan b) { received += b.size(); }, [] {},
                                                   [](const Status&) {}, [] {}});
  c->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}});
  const std::string small(100, 's');
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  loop.RunUntilIdle();
  const std::string block(131072, 'b');
  const size_t before = g_live_bytes;

  // A block-sized message, written in one loop turn, then nothing more on this connection for a while.
  ASSERT_TRUE(c->Write(AsBytes(block)).ok());
  loop.RunUntilIdle();
  EXPECT_EQ(received, small.size() + block.size());
  // The reader's side goes, so that what is left is the writer's (and the network's, which delivered all).
  server->connection.reset();
  loop.RunUntilIdle();
  EXPECT_LT(g_live_bytes, before + 16 * 1024) << "the writer grew by " << g_live_bytes - before << " bytes";
}

}  // namespace
}  // namespace libp2p::stream
