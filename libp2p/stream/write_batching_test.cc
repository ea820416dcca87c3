// Write coalescing on the connection data path: the writes of one loop turn, on any number of yamux streams,
// leave the Noise connection as few transport messages in one write to the raw connection, in order, and
// back-pressure still stops a writer.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/stream_base.h"
#include "libp2p/stream/test_util.h"
#include "libp2p/stream/yamux.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using testing::Recorder;

Ed25519PrivateKey KeyFromSeed(std::string_view seed) {
  return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)));
}

// What a raw connection was asked to write: how many writes, and the 2-byte length-framed messages (Noise
// handshake and transport messages alike) they carried.
struct WireCounter {
  size_t writes = 0;
  size_t spliced_writes = 0;  // Of those, writes with shared bytes spliced in (RawConnection::WriteSpliced).
  size_t bytes = 0;
  size_t frames = 0;
  std::vector<size_t> frame_sizes;

  void Count(ByteSpan data) {
    ++writes;
    Scan(data);
  }
  void Count(const SplicedBytes& data) {
    ++writes;
    if (data.has_splices()) ++spliced_writes;
    data.ForEachPiece([this](ByteSpan piece) { Scan(piece); });
  }

 private:
  void Scan(ByteSpan data) {
    bytes += data.size();
    for (uint8_t b : data) {
      if (body_left_ > 0) {
        --body_left_;
        continue;
      }
      header_[header_size_++] = b;
      if (header_size_ < 2) continue;
      header_size_ = 0;
      body_left_ = static_cast<size_t>(header_[0]) << 8 | header_[1];
      ++frames;
      frame_sizes.push_back(body_left_);
    }
  }

  uint8_t header_[2] = {0, 0};
  size_t header_size_ = 0;
  size_t body_left_ = 0;
};

// Passes everything through to a raw connection, counting what is written to it.
class CountingConnection final : public RawConnection, public StreamBase {
 public:
  CountingConnection(EventLoop* loop, std::unique_ptr<RawConnection> inner, WireCounter* counter)
      : StreamBase(loop), inner_(std::move(inner)), counter_(counter) {
    inner_->SetHandlers(Handlers{[this](ByteSpan d) { DeliverData(d); }, [this] { DeliverEof(); },
                                 [this](const Status& e) { DeliverError(e); }, [this] { NotifyWritable(); }});
  }
  const Multiaddr& local_addr() const override { return inner_->local_addr(); }
  const Multiaddr& remote_addr() const override { return inner_->remote_addr(); }
  bool simulation_null_cipher() const override { return inner_->simulation_null_cipher(); }
  Status Write(ByteSpan d) override {
    counter_->Count(d);
    return inner_->Write(d);
  }
  Status WriteSpliced(SplicedBytes d) override {
    counter_->Count(d);
    return inner_->WriteSpliced(std::move(d));
  }
  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  bool write_blocked() const override { return inner_->write_blocked(); }
  void CloseWrite() override { inner_->CloseWrite(); }
  void Reset() override {
    MarkDead();
    inner_->Reset();
  }

 protected:
  void OnReadPauseChanged() override { inner_->PauseReading(want_pause()); }

 private:
  std::unique_ptr<RawConnection> inner_;
  WireCounter* const counter_;
};

class WriteBatchingTest : public ::testing::Test {
 protected:
  // Connects a client and a server over the memory network and runs the Noise handshake; the client's raw
  // connection counts what the client writes.
  void SecureConnect() {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      client_raw_ = std::make_unique<CountingConnection>(&loop_, std::move(c).value(), &client_wire_);
    });
    loop_.RunUntilIdle();
    ASSERT_NE(client_raw_, nullptr);
    ASSERT_NE(server_raw_, nullptr);
    auto client = NoiseHandshake::Initiate(&loop_, std::move(client_raw_), NoiseOptions{&client_key_, {}},
                                           std::nullopt, [this](StatusOr<NoiseSession> s) {
                                             ASSERT_TRUE(s.ok()) << s.status().ToString();
                                             client_secure_ = std::move(s->connection);
                                           });
    auto server = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, {}},
                                          [this](StatusOr<NoiseSession> s) {
                                            ASSERT_TRUE(s.ok()) << s.status().ToString();
                                            server_secure_ = std::move(s->connection);
                                          });
    loop_.RunUntilIdle();
    ASSERT_NE(client_secure_, nullptr);
    ASSERT_NE(server_secure_, nullptr);
  }

  // SecureConnect(), then yamux (or mplex) on both ends; the server keeps the streams the client opens.
  void MuxConnect(bool mplex = false) {
    SecureConnect();
    auto create = [mplex](EventLoop* loop, std::unique_ptr<RawConnection> secure, bool initiator,
                          MuxedConnection::Handlers handlers) {
      return mplex ? CreateMplexConnection(loop, std::move(secure), initiator, std::move(handlers))
                   : CreateYamuxConnection(loop, std::move(secure), initiator, std::move(handlers));
    };
    server_secure_view_ = server_secure_.get();
    client_mux_ = create(&loop_, std::move(client_secure_), /*initiator=*/true, {});
    server_mux_ = create(&loop_, std::move(server_secure_), /*initiator=*/false,
                         {[this](std::unique_ptr<Stream> s) {
                            Stream* raw = s.get();
                            const size_t index = server_streams_.size();
                            server_streams_.push_back(std::move(s));
                            raw->SetHandlers(Stream::Handlers{
                                [this, index](ByteSpan d) {
                                  received_.push_back({index, std::string(AsStringView(d))});
                                },
                                [] {}, [](const Status&) {}, {}});
                          },
                          {}});
    loop_.RunUntilIdle();
  }

  // A network whose Noise connections use the simulation's null cipher (LinkModel::null_cipher), for
  // tests that call it before connecting.
  void UseNullCipher() {
    transport_.reset();
    network_ = std::make_unique<MemoryNetwork>(&loop_, WriteLimits{}, LinkModel{.null_cipher = true});
    transport_ = network_->CreateTransport();
  }

  ManualEventLoop loop_;
  std::unique_ptr<MemoryNetwork> network_ = std::make_unique<MemoryNetwork>(&loop_);
  std::unique_ptr<Transport> transport_ = network_->CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_raw_, server_raw_;
  WireCounter client_wire_;
  Ed25519PrivateKey client_key_ = KeyFromSeed("client");
  Ed25519PrivateKey server_key_ = KeyFromSeed("server");
  std::unique_ptr<RawConnection> client_secure_, server_secure_;
  RawConnection* server_secure_view_ = nullptr;  // The server's secure connection, once its muxer owns it.
  std::unique_ptr<MuxedConnection> client_mux_, server_mux_;
  std::vector<std::unique_ptr<Stream>> server_streams_;
  struct Chunk {
    size_t stream;
    std::string data;
  };
  std::vector<Chunk> received_;  // What the server's streams delivered, in delivery order.
};

// The i-th message of a test run: 100 bytes that name it.
std::string Message(size_t i) {
  std::string m = "message " + std::to_string(i) + " ";
  m.resize(100, static_cast<char>('a' + i % 26));
  return m;
}

TEST_F(WriteBatchingTest, SmallWritesOfOneTurnOnManyStreamsLeaveAsOneRawWriteInOrder) {
  MuxConnect();
  constexpr size_t kStreams = 4;
  constexpr size_t kWrites = 1000;
  std::vector<std::unique_ptr<Stream>> streams;
  for (size_t i = 0; i < kStreams; ++i) streams.push_back(std::move(client_mux_->OpenStream()).value());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), kStreams);

  const size_t writes_before = client_wire_.writes;
  const size_t frames_before = client_wire_.frames;
  // One turn: every write before the loop runs again.
  for (size_t i = 0; i < kWrites; ++i) ASSERT_TRUE(streams[i % kStreams]->Write(AsBytes(Message(i))).ok());
  EXPECT_EQ(client_wire_.writes, writes_before);  // Nothing left yet: the flush waits for the turn's end.
  loop_.RunUntilIdle();

  // 1000 yamux frames of 12 + 100 bytes: 112000 bytes, two Noise messages (the first a full one), one write.
  EXPECT_EQ(client_wire_.writes - writes_before, 1u);
  ASSERT_EQ(client_wire_.frames - frames_before, 2u);
  EXPECT_EQ(client_wire_.frame_sizes[frames_before], kNoiseMaxMessageSize);
  EXPECT_EQ(client_wire_.frame_sizes[frames_before + 1], kWrites * (kYamuxHeaderSize + 100) -
                                                             kNoiseMaxPlaintextSize + 16);
  // Delivered in the order written, across the streams (a message whose yamux frame straddles two Noise
  // messages arrives in two pieces).
  std::string expected, delivered;
  for (size_t i = 0; i < kWrites; ++i) expected += Message(i);
  for (const Chunk& c : received_) {
    const size_t first = delivered.size() / 100, last = (delivered.size() + c.data.size() - 1) / 100;
    EXPECT_EQ(first, last) << "a delivery spans two messages";
    EXPECT_EQ(c.stream, first % kStreams) << "message " << first << " arrived on the wrong stream";
    delivered += c.data;
  }
  EXPECT_TRUE(delivered == expected);
}

TEST_F(WriteBatchingTest, MplexWritesOfOneTurnLeaveAsOneRawWriteInOrder) {
  MuxConnect(/*mplex=*/true);
  constexpr size_t kStreams = 3;
  constexpr size_t kWrites = 300;
  std::vector<std::unique_ptr<Stream>> streams;
  for (size_t i = 0; i < kStreams; ++i) streams.push_back(std::move(client_mux_->OpenStream()).value());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), kStreams);
  const size_t writes_before = client_wire_.writes;
  const size_t frames_before = client_wire_.frames;
  for (size_t i = 0; i < kWrites; ++i) ASSERT_TRUE(streams[i % kStreams]->Write(AsBytes(Message(i))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes - writes_before, 1u);
  EXPECT_EQ(client_wire_.frames - frames_before, 1u);  // 300 x (2 + 100) bytes fit one Noise message.
  std::string expected, delivered;
  for (size_t i = 0; i < kWrites; ++i) expected += Message(i);
  for (const Chunk& c : received_) {
    EXPECT_EQ(c.stream, (delivered.size() / 100) % kStreams);
    delivered += c.data;
  }
  EXPECT_TRUE(delivered == expected);
}

TEST_F(WriteBatchingTest, EachTurnFlushesSeparately) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  const size_t writes_before = client_wire_.writes;
  ASSERT_TRUE(client_secure_->Write(AsBytes("one")).ok());
  ASSERT_TRUE(client_secure_->Write(AsBytes("two")).ok());
  EXPECT_EQ(client_secure_->buffered_bytes(), 2 + 6 + 16u);  // One open message: length, plaintext, tag.
  loop_.RunUntilIdle();
  ASSERT_TRUE(client_secure_->Write(AsBytes("three")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes - writes_before, 2u);
  EXPECT_EQ(server.data, "onetwothree");
}

// A write of many messages' worth is sealed in full messages straight from the caller's bytes, and handed
// down in pieces of kNoiseFlushThreshold without waiting for the end of the turn.
TEST_F(WriteBatchingTest, LargeWriteIsHandedDownAtOnceInFullMessages) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  std::string big(kNoiseFlushThreshold + 1000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13);
  const size_t writes_before = client_wire_.writes;
  const size_t frames_before = client_wire_.frames;
  ASSERT_TRUE(client_secure_->Write(AsBytes("head")).ok());
  ASSERT_TRUE(client_secure_->Write(AsBytes(big)).ok());
  EXPECT_EQ(client_wire_.writes - writes_before, 1u);  // The first threshold's worth went at once.
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes - writes_before, 2u);  // The rest at the end of the turn.
  // The little open message is sealed alone rather than topped up with a copy of the big write's bytes;
  // then 4 full messages and the tail of the first piece, then the rest.
  constexpr size_t kFull = kNoiseMaxMessageSize;
  const size_t first_tail = kNoiseFlushThreshold - 4 * kNoiseMaxPlaintextSize;
  const std::vector<size_t> expected = {4 + 16, kFull, kFull, kFull, kFull, first_tail + 16, 1000 + 16};
  EXPECT_EQ(std::vector<size_t>(client_wire_.frame_sizes.begin() + frames_before, client_wire_.frame_sizes.end()),
            expected);
  EXPECT_TRUE(server.data == "head" + big);
}

// A message of several yamux frames (each announced before it goes: RawConnection::ExpectWrites) leaves in
// one write, in full Noise messages, as it did before the announcement was made.
TEST_F(WriteBatchingTest, LargeYamuxMessageLeavesAsOneRawWriteInFullMessages) {
  MuxConnect();
  std::unique_ptr<Stream> stream = std::move(client_mux_->OpenStream()).value();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), 1u);
  std::string big(150000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  const size_t writes_before = client_wire_.writes;
  const size_t frames_before = client_wire_.frames;
  ASSERT_TRUE(stream->Write(AsBytes(big)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes - writes_before, 1u);
  // Yamux frames of 65536, 65536 and 18928 bytes, each after a 12-byte header. A header open alone is sealed
  // alone before the large payload after it; each payload fills a Noise message and leaves 17 bytes open,
  // which the next header joins; the last payload is small and joins them.
  constexpr size_t kFull = kNoiseMaxMessageSize;
  const std::vector<size_t> expected = {12 + 16, kFull, 17 + 12 + 16, kFull, 17 + 12 + 18928 + 16};
  EXPECT_EQ(std::vector<size_t>(client_wire_.frame_sizes.begin() + frames_before, client_wire_.frame_sizes.end()),
            expected);
  std::string delivered;
  for (const Chunk& c : received_) delivered += c.data;
  EXPECT_TRUE(delivered == big);
}

// Over Noise with the simulation's null cipher, a message written shared (Stream::WriteShared) is not copied
// on its way down: its payload is spliced into the Noise messages by reference, and the writer's buffer is
// held until the bytes are delivered. The messages are the ones a copy would have made.
class SplicedWriteTest : public WriteBatchingTest {
 protected:
  SplicedWriteTest() { UseNullCipher(); }
};

TEST_F(SplicedWriteTest, LargeYamuxMessageIsHeldByReferenceUntilDelivered) {
  MuxConnect();
  std::unique_ptr<Stream> stream = std::move(client_mux_->OpenStream()).value();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), 1u);
  Bytes big(150000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  auto owner = std::make_shared<const Bytes>(big);
  const size_t writes_before = client_wire_.writes;
  const size_t frames_before = client_wire_.frames;
  server_secure_view_->PauseReading(true);  // The bytes wait in the link.
  ASSERT_TRUE(stream->WriteShared(*owner, owner).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes - writes_before, 1u);
  EXPECT_EQ(client_wire_.spliced_writes, 1u);
  EXPECT_GT(owner.use_count(), 1);  // Referenced by the bytes in flight, not copied.
  // The Noise messages of the copied write (LargeYamuxMessageLeavesAsOneRawWriteInFullMessages).
  constexpr size_t kFull = kNoiseMaxMessageSize;
  const std::vector<size_t> expected = {12 + 16, kFull, 17 + 12 + 16, kFull, 17 + 12 + 18928 + 16};
  EXPECT_EQ(std::vector<size_t>(client_wire_.frame_sizes.begin() + frames_before, client_wire_.frame_sizes.end()),
            expected);
  server_secure_view_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(owner.use_count(), 1);  // Let go once delivered.
  std::string delivered;
  for (const Chunk& c : received_) delivered += c.data;
  EXPECT_TRUE(delivered == ToString(big));
}

// The reader is handed the shared buffer itself: the link delivers a write's pieces where they lie and the
// null cipher's plaintext goes up as it arrives, so no layer gathers the message into a buffer of its own.
TEST_F(SplicedWriteTest, TheReaderIsHandedTheSharedBufferItself) {
  MuxConnect();
  std::unique_ptr<Stream> stream = std::move(client_mux_->OpenStream()).value();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), 1u);
  Bytes message(150000);
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<uint8_t>(i * 11 + 3);
  auto owner = std::make_shared<const Bytes>(message);
  std::string delivered;
  size_t in_place = 0;  // Bytes handed up as views of *owner.
  server_streams_[0]->SetHandlers(Stream::Handlers{[&](ByteSpan b) {
                                                     delivered += AsStringView(b);
                                                     if (b.data() >= owner->data() &&
                                                         b.data() + b.size() <= owner->data() + owner->size()) {
                                                       in_place += b.size();
                                                     }
                                                   },
                                                   {}, {}, {}});
  ASSERT_TRUE(stream->WriteShared(*owner, owner).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.spliced_writes, 1u);
  EXPECT_TRUE(delivered == ToString(message));
  // Yamux and Noise framing cut the message into pieces, but only their headers and tags were copied: every
  // byte of the message itself is read where it lies.
  EXPECT_EQ(in_place, message.size());
}

TEST_F(SplicedWriteTest, SharedWritesAmongCopiedOnesMakeTheMessagesCopiesWould) {
  MuxConnect();
  std::unique_ptr<Stream> a = std::move(client_mux_->OpenStream()).value();
  std::unique_ptr<Stream> b = std::move(client_mux_->OpenStream()).value();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), 2u);
  Bytes payload(70000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 13 + 1);
  auto big = std::make_shared<const Bytes>(payload);
  auto small = std::make_shared<const Bytes>(Bytes(100, 's'));  // Below the size worth a reference.
  const std::string head(3000, 'h');
  // One loop turn of writes: copied or shared, in the same order; returns its Noise messages' sizes.
  auto turn = [&](bool shared) {
    auto write = [&](Stream* s, const std::shared_ptr<const Bytes>& bytes) {
      return shared ? s->WriteShared(*bytes, bytes) : s->Write(*bytes);
    };
    const size_t frames_before = client_wire_.frames;
    EXPECT_TRUE(a->Write(AsBytes(head)).ok());
    EXPECT_TRUE(write(a.get(), big).ok());
    EXPECT_TRUE(write(b.get(), small).ok());
    EXPECT_TRUE(write(b.get(), big).ok());
    loop_.RunUntilIdle();
    return std::vector<size_t>(client_wire_.frame_sizes.begin() + frames_before, client_wire_.frame_sizes.end());
  };
  const std::vector<size_t> copied = turn(/*shared=*/false);
  EXPECT_EQ(client_wire_.spliced_writes, 0u);
  const std::vector<size_t> spliced = turn(/*shared=*/true);
  EXPECT_EQ(client_wire_.spliced_writes, 1u);
  EXPECT_EQ(spliced, copied);
  EXPECT_EQ(big.use_count(), 1);
  std::string on_a, on_b;
  for (const Chunk& c : received_) (c.stream == 0 ? on_a : on_b) += c.data;
  const std::string one_a = head + ToString(payload), one_b = ToString(*small) + ToString(payload);
  EXPECT_TRUE(on_a == one_a + one_a);
  EXPECT_TRUE(on_b == one_b + one_b);
}

TEST_F(WriteBatchingTest, BackPressureStopsAWriterAndReleasesItInOrder) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  server_secure_->PauseReading(true);
  Recorder client;
  client.Attach(client_secure_.get());
  // Write 1000-byte messages, a turn at a time, until the connection says stop.
  size_t written = 0;
  std::string expected;
  for (int turn = 0; turn < 1000 && !client_secure_->write_blocked(); ++turn) {
    for (int i = 0; i < 64 && !client_secure_->write_blocked(); ++i) {
      std::string m(1000, static_cast<char>('a' + written % 26));
      ASSERT_TRUE(client_secure_->Write(AsBytes(m)).ok());
      expected += m;
      ++written;
    }
    loop_.RunUntilIdle();
  }
  ASSERT_TRUE(client_secure_->write_blocked());
  // Stopped within the memory pipe's buffer plus one threshold's worth, not unbounded.
  EXPECT_LT(expected.size(), 2 * WriteLimits{}.high_water + kNoiseFlushThreshold + 2 * kNoiseMaxMessageSize);
  EXPECT_EQ(client.writable, 0);
  server_secure_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_FALSE(client_secure_->write_blocked());
  EXPECT_EQ(client.writable, 1);
  EXPECT_TRUE(server.data == expected);
}

TEST_F(WriteBatchingTest, CloseWriteSendsWhatWaitsFirst) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  ASSERT_TRUE(client_secure_->Write(AsBytes("last words")).ok());
  client_secure_->CloseWrite();
  EXPECT_EQ(client_secure_->Write(AsBytes("more")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_EQ(server.data, "last words");
  EXPECT_TRUE(server.eof);
}

// Destroying a secure connection hands down what waits (as a TCP connection does on close), and its pending
// flush never runs.
TEST_F(WriteBatchingTest, DestroyingTheConnectionHandsDownWhatWaits) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  ASSERT_TRUE(client_secure_->Write(AsBytes("goodbye")).ok());
  client_secure_.reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(server.data, "goodbye");
}

TEST_F(WriteBatchingTest, ResetDropsWhatWaits) {
  SecureConnect();
  Recorder server;
  server.Attach(server_secure_.get());
  const size_t writes_before = client_wire_.writes;
  ASSERT_TRUE(client_secure_->Write(AsBytes("never sent")).ok());
  client_secure_->Reset();
  EXPECT_EQ(client_secure_->Write(AsBytes("x")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_EQ(client_wire_.writes, writes_before);
  EXPECT_TRUE(server.data.empty());
  EXPECT_TRUE(server.errored);
}

// A yamux stream reset in the turn of its writes: the data goes before the RST, as before coalescing.
TEST_F(WriteBatchingTest, StreamResetAfterWritesKeepsTheirOrder) {
  MuxConnect();
  auto a = std::move(client_mux_->OpenStream()).value();
  auto b = std::move(client_mux_->OpenStream()).value();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_streams_.size(), 2u);
  ASSERT_TRUE(a->Write(AsBytes("to a")).ok());
  ASSERT_TRUE(b->Write(AsBytes("to b")).ok());
  b->CloseWrite();
  a.reset();  // Reset.
  loop_.RunUntilIdle();
  ASSERT_EQ(received_.size(), 2u);
  EXPECT_EQ(received_[0].data, "to a");
  EXPECT_EQ(received_[1].data, "to b");
}

}  // namespace
}  // namespace libp2p::stream
