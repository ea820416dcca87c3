// What a secure connection holds between deliveries: after large frames, read or written, it keeps no buffer
// sized for them. Links //libp2p/base:live_bytes, which counts the bytes alive.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/live_bytes.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"

namespace libp2p::stream {
namespace {

crypto::Ed25519PrivateKey KeyFromSeed(std::string_view seed) {
  return *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)));
}

// A client and a server secured with Noise over the in-memory network.
class NoiseMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<RawConnection> client_raw, server_raw;
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> c) { server_raw = std::move(c); });
    ASSERT_TRUE(listener.ok());
    auto dial = transport_->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
      client_raw = std::move(c).value();
    });
    loop_.RunUntilIdle();
    ASSERT_NE(server_raw, nullptr);
    StatusOr<NoiseSession> client = CancelledError("unset"), server = CancelledError("unset");
    auto initiate = NoiseHandshake::Initiate(&loop_, std::move(client_raw), NoiseOptions{&client_key_, {}},
                                             std::nullopt, [&](StatusOr<NoiseSession> s) { client = std::move(s); });
    auto respond = NoiseHandshake::Respond(&loop_, std::move(server_raw), NoiseOptions{&server_key_, {}},
                                           [&](StatusOr<NoiseSession> s) { server = std::move(s); });
    loop_.RunUntilIdle();
    ASSERT_TRUE(client.ok() && server.ok());
    client_ = std::move(client).value();
    server_ = std::move(server).value();
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  const crypto::Ed25519PrivateKey client_key_ = KeyFromSeed("client");
  const crypto::Ed25519PrivateKey server_key_ = KeyFromSeed("server");
  std::optional<NoiseSession> client_, server_;
};

TEST_F(NoiseMemoryTest, AfterLargeFramesTheConnectionKeepsNoBufferForThem) {
  RawConnection* c = client_->connection.get();
  RawConnection* s = server_->connection.get();
  size_t received = 0;  // Counted, not kept: the test measures the connections' memory only.
  s->SetHandlers(Stream::Handlers{[&](ByteSpan b) { received += b.size(); }, [] {}, [](const Status&) {}, [] {}});
  c->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}});
  const std::string small(100, 's');
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  ASSERT_TRUE(s->Write(AsBytes(small)).ok());
  loop_.RunUntilIdle();
  const std::string big(300000, 'b');
  const size_t before = testing::LiveBytes();
  ASSERT_GT(before, 0u) << "the counting operator new (//libp2p/base:live_bytes) is not linked";

  // Frames of every size, some gathered across deliveries (the network delivers 256 KiB at a time).
  for (size_t piece : {65535u, 70000u, 1000u, 163465u, 300000u}) {
    ASSERT_TRUE(c->Write(AsBytes(std::string_view(big).substr(0, piece))).ok());
    loop_.RunUntilIdle();
  }
  // Then small traffic both ways, as a connection that carried a block carries attestations.
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  ASSERT_TRUE(s->Write(AsBytes(small)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(received, 2 * small.size() + 65535 + 70000 + 1000 + 163465 + 300000);
  EXPECT_LT(testing::LiveBytes(), before + 16 * 1024) << "the connections grew by " << testing::LiveBytes() - before << " bytes";
}

TEST_F(NoiseMemoryTest, AfterALargeWriteTheWriterKeepsNoBufferForIt) {
  RawConnection* c = client_->connection.get();
  size_t received = 0;
  server_->connection->SetHandlers(Stream::Handlers{[&](ByteSpan b) { received += b.size(); }, [] {},
                                                   [](const Status&) {}, [] {}});
  c->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}});
  const std::string small(100, 's');
  ASSERT_TRUE(c->Write(AsBytes(small)).ok());
  loop_.RunUntilIdle();
  const std::string block(131072, 'b');
  const size_t before = testing::LiveBytes();
  ASSERT_GT(before, 0u) << "the counting operator new (//libp2p/base:live_bytes) is not linked";

  // A block-sized message, written in one loop turn, then nothing more on this connection for a while.
  ASSERT_TRUE(c->Write(AsBytes(block)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(received, small.size() + block.size());
  // The reader's side goes, so that what is left is the writer's (and the network's, which delivered all).
  server_->connection.reset();
  loop_.RunUntilIdle();
  EXPECT_LT(testing::LiveBytes(), before + 16 * 1024) << "the writer grew by " << testing::LiveBytes() - before << " bytes";
}

// With a real cipher, a shared write is sealed into Noise's own buffer like any other: the writer's buffer
// is not held past the call.
TEST_F(NoiseMemoryTest, ASharedWriteWithARealCipherIsCopied) {
  std::string received;
  server_->connection->SetHandlers(Stream::Handlers{[&](ByteSpan b) { received += AsStringView(b); }, [] {},
                                                   [](const Status&) {}, [] {}});
  auto owner = std::make_shared<const Bytes>(Bytes(100000, 'x'));
  ASSERT_TRUE(client_->connection->WriteShared(*owner, owner).ok());
  EXPECT_EQ(owner.use_count(), 1);
  loop_.RunUntilIdle();
  EXPECT_TRUE(received == ToString(*owner));
}

}  // namespace
}  // namespace libp2p::stream
