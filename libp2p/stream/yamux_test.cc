#include "libp2p/stream/yamux.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using std::chrono::seconds;
using testing::Recorder;

class YamuxTest : public ::testing::Test {
 protected:
  void SetUp() override { Connect(YamuxOptions{}); }

  void Connect(YamuxOptions options) {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
    loop_.RunUntilIdle();
    ASSERT_NE(client_raw_, nullptr);
    client_ = CreateYamuxConnection(&loop_, std::move(client_raw_), /*initiator=*/true,
                                    {[this](std::unique_ptr<Stream> s) { client_inbound_.push_back(std::move(s)); },
                                     [this](const Status& e) { client_closed_ = e; }},
                                    options);
    server_ = CreateYamuxConnection(&loop_, std::move(server_raw_), /*initiator=*/false,
                                    {[this](std::unique_ptr<Stream> s) { server_inbound_.push_back(std::move(s)); },
                                     [this](const Status& e) { server_closed_ = e; }},
                                    options);
  }

  // Writes raw bytes into the server's connection as if they came from the client's muxer.
  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_raw_, server_raw_;
  std::unique_ptr<MuxedConnection> client_, server_;
  std::vector<std::unique_ptr<Stream>> client_inbound_, server_inbound_;
  Status client_closed_ = OkStatus(), server_closed_ = OkStatus();
};

TEST(YamuxHeaderTest, EncodeDecode) {
  const YamuxHeader h{YamuxType::kWindowUpdate, kYamuxSyn | kYamuxAck, 0x01020304, 0xa0b0c0d0};
  uint8_t buf[kYamuxHeaderSize];
  h.EncodeTo(buf);
  const Bytes expected = {0, 1, 0, 3, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0};
  EXPECT_EQ(Bytes(buf, buf + 12), expected);
  EXPECT_EQ(*YamuxHeader::Decode(ByteSpan(buf, 12)), h);
  buf[0] = 1;
  EXPECT_FALSE(YamuxHeader::Decode(ByteSpan(buf, 12)).ok());
  buf[0] = 0;
  buf[1] = 4;
  EXPECT_FALSE(YamuxHeader::Decode(ByteSpan(buf, 12)).ok());
}

TEST_F(YamuxTest, StreamsBothWays) {
  auto a = client_->OpenStream();
  auto b = server_->OpenStream();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Write(AsBytes("from client")).ok());
  ASSERT_TRUE((*b)->Write(AsBytes("from server")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), 1u);
  ASSERT_EQ(client_inbound_.size(), 1u);
  Recorder rs, rc;
  rs.Attach(server_inbound_[0].get());
  rc.Attach(client_inbound_[0].get());
  loop_.RunUntilIdle();
  EXPECT_EQ(rs.data, "from client");
  EXPECT_EQ(rc.data, "from server");
  EXPECT_EQ(client_->stream_count(), 2u);
}

TEST_F(YamuxTest, HalfCloseEachDirectionAndCleanup) {
  auto a = std::move(client_->OpenStream()).value();
  Recorder ra;
  ra.Attach(a.get());
  ASSERT_TRUE(a->Write(AsBytes("request")).ok());
  a->CloseWrite();
  EXPECT_FALSE(a->Write(AsBytes("more")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), 1u);
  Recorder rs;
  rs.Attach(server_inbound_[0].get());
  loop_.RunUntilIdle();
  EXPECT_EQ(rs.data, "request");
  EXPECT_TRUE(rs.eof);
  ASSERT_TRUE(server_inbound_[0]->Write(AsBytes("response")).ok());
  server_inbound_[0]->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(ra.data, "response");
  EXPECT_TRUE(ra.eof);
  EXPECT_EQ(client_->stream_count(), 0u);
  EXPECT_EQ(server_->stream_count(), 0u);
}

TEST_F(YamuxTest, ManyConcurrentStreams) {
  constexpr int kStreams = 300;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::move(client_->OpenStream()).value());
    // Interleave writes across streams.
    for (int j = 0; j <= i % 3; ++j) {
      ASSERT_TRUE(streams.back()->Write(AsBytes("s" + std::to_string(i) + ";")).ok());
    }
    streams.back()->CloseWrite();
  }
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), static_cast<size_t>(kStreams));
  std::vector<Recorder> recorders(kStreams);
  for (int i = 0; i < kStreams; ++i) recorders[i].Attach(server_inbound_[i].get());
  loop_.RunUntilIdle();
  for (int i = 0; i < kStreams; ++i) {
    std::string expected;
    for (int j = 0; j <= i % 3; ++j) expected += "s" + std::to_string(i) + ";";
    EXPECT_EQ(recorders[i].data, expected) << i;
    EXPECT_TRUE(recorders[i].eof) << i;
  }
}

TEST_F(YamuxTest, SlowReaderHoldsTheSenderAtTheWindow) {
  auto a = std::move(client_->OpenStream()).value();
  Recorder ra;
  ra.Attach(a.get());
  ASSERT_TRUE(a->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), 1u);
  Stream* b = server_inbound_[0].get();
  b->PauseReading(true);
  Recorder rb;
  rb.Attach(b);
  // Send 4 MiB; only one window's worth may cross while the reader is paused.
  const Bytes chunk(64 * 1024, 'd');
  size_t written = 0;
  while (written < 4u << 20) {
    ASSERT_TRUE(a->Write(chunk).ok());
    written += chunk.size();
  }
  loop_.RunUntilIdle();
  EXPECT_TRUE(a->write_blocked());
  EXPECT_GE(a->buffered_bytes(), (4u << 20) - kYamuxInitialWindow - 1);
  EXPECT_EQ(rb.data.size(), 0u);
  // The network carries at most the window: what the receiver holds is bounded by it.
  // Resume: everything arrives, and the writer is told it may write again.
  b->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(rb.data.size(), 1 + written);
  EXPECT_EQ(a->buffered_bytes(), 0u);
  EXPECT_FALSE(a->write_blocked());
  EXPECT_GE(ra.writable, 1);
}

TEST_F(YamuxTest, ResetReachesTheOtherSide) {
  auto a = std::move(client_->OpenStream()).value();
  ASSERT_TRUE(a->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  Recorder rb;
  rb.Attach(server_inbound_[0].get());
  a->Reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rb.errored);
  EXPECT_EQ(server_->stream_count(), 0u);
  EXPECT_EQ(client_->stream_count(), 0u);
  EXPECT_FALSE(server_inbound_[0]->Write(AsBytes("y")).ok());
}

TEST_F(YamuxTest, DroppingAStreamResetsIt) {
  auto a = std::move(client_->OpenStream()).value();
  ASSERT_TRUE(a->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  Recorder ra;
  ra.Attach(a.get());
  server_inbound_.clear();
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra.errored);
}

TEST_F(YamuxTest, PeerVanishingFailsEveryStream) {
  auto a = std::move(client_->OpenStream()).value();
  auto b = std::move(client_->OpenStream()).value();
  Recorder ra, rb;
  ra.Attach(a.get());
  rb.Attach(b.get());
  loop_.RunUntilIdle();
  server_.reset();  // Its secure connection closes.
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra.errored);
  EXPECT_TRUE(rb.errored);
  EXPECT_EQ(client_closed_.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(client_->OpenStream().ok());
  EXPECT_FALSE(a->Write(AsBytes("late")).ok());
}

TEST_F(YamuxTest, StreamsOutliveTheirConnection) {
  auto a = std::move(client_->OpenStream()).value();
  Recorder ra;
  ra.Attach(a.get());
  client_.reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra.errored);
  EXPECT_EQ(a->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  a.reset();  // No use of the destroyed connection.
}

TEST_F(YamuxTest, InboundStreamLimit) {
  client_.reset();
  server_.reset();
  client_inbound_.clear();
  server_inbound_.clear();
  YamuxOptions options;
  options.limits.max_inbound_streams = 3;
  Connect(options);
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<Recorder> recorders(5);
  for (int i = 0; i < 5; ++i) {
    streams.push_back(std::move(client_->OpenStream()).value());
    recorders[i].Attach(streams.back().get());
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(server_inbound_.size(), 3u);
  EXPECT_TRUE(recorders[3].errored);
  EXPECT_TRUE(recorders[4].errored);
  EXPECT_FALSE(recorders[0].errored);
}

TEST_F(YamuxTest, KeepAlivePingsAreAnswered) {
  // Both sides ping every 30 s and answer each other: hours pass and the connection stays up.
  loop_.AdvanceTime(std::chrono::hours(2));
  EXPECT_TRUE(client_closed_.ok());
  EXPECT_TRUE(server_closed_.ok());
  EXPECT_TRUE(client_->OpenStream().ok());
}

TEST_F(YamuxTest, ProtocolErrorsCloseTheConnection) {
  // Replace the server with a raw connection we write frames into.
  client_.reset();
  server_.reset();
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
  auto dial = transport_->Dial((*listener)->listen_addr(),
                               [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
  loop_.RunUntilIdle();
  Status closed = OkStatus();
  auto conn = CreateYamuxConnection(&loop_, std::move(client_raw_), true, {nullptr, [&](const Status& e) { closed = e; }});
  // A data frame of 300 KiB on a new stream: beyond the 256 KiB window.
  uint8_t h[kYamuxHeaderSize];
  YamuxHeader{YamuxType::kData, kYamuxSyn, 2, 300 * 1024}.EncodeTo(h);
  ASSERT_TRUE(server_raw_->Write(ByteSpan(h, sizeof(h))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(closed.code(), StatusCode::kInvalidArgument);
  // The GoAway with the protocol-error code reached the raw side.
  Recorder r;
  r.Attach(server_raw_.get());
  loop_.RunUntilIdle();
  ASSERT_GE(r.data.size(), kYamuxHeaderSize);
  const auto go_away = YamuxHeader::Decode(AsBytes(r.data).last(kYamuxHeaderSize));
  ASSERT_TRUE(go_away.ok());
  EXPECT_EQ(go_away->type, YamuxType::kGoAway);
  EXPECT_EQ(go_away->length, 1u);
}

TEST_F(YamuxTest, UnansweredPingsCloseTheConnection) {
  client_.reset();
  server_.reset();
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
  auto dial = transport_->Dial((*listener)->listen_addr(),
                               [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
  loop_.RunUntilIdle();
  Status closed = OkStatus();
  auto conn = CreateYamuxConnection(&loop_, std::move(client_raw_), true, {nullptr, [&](const Status& e) { closed = e; }});
  Recorder silent;  // Reads and never answers.
  silent.Attach(server_raw_.get());
  loop_.AdvanceTime(seconds(60));
  EXPECT_TRUE(closed.ok());
  loop_.AdvanceTime(seconds(30));
  EXPECT_EQ(closed.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(YamuxTest, StreamCallbackMayDestroyTheConnection) {
  auto a = std::move(client_->OpenStream()).value();
  ASSERT_TRUE(a->Write(AsBytes("hello")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), 1u);
  server_inbound_[0]->SetHandlers(Stream::Handlers{[this](ByteSpan) { server_.reset(); }, {}, {}, {}});
  loop_.RunUntilIdle();
  EXPECT_EQ(server_, nullptr);
  Recorder ra;
  ra.Attach(a.get());
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra.errored);
}

TEST_F(YamuxTest, AcceptCallbackMayDestroyTheConnection) {
  server_.reset();
  client_.reset();
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
  auto dial = transport_->Dial((*listener)->listen_addr(),
                               [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
  loop_.RunUntilIdle();
  client_ = CreateYamuxConnection(&loop_, std::move(client_raw_), true, {});
  server_ = CreateYamuxConnection(&loop_, std::move(server_raw_), false,
                                  {[this](std::unique_ptr<Stream>) { server_.reset(); }, {}});
  auto a = std::move(client_->OpenStream()).value();
  ASSERT_TRUE(a->Write(AsBytes("data behind the SYN")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(server_, nullptr);
}

}  // namespace
}  // namespace libp2p::stream
