#include "libp2p/stream/yamux.h"

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Recorder;

constexpr uint32_t kKiB = 1024;
constexpr uint32_t kMiB = 1024 * 1024;

// Heap allocations while counting is on, for the test that the control-frame buffer is reused.
size_t g_allocations = 0;
bool g_count_allocations = false;

}  // namespace
}  // namespace libp2p::stream

void* operator new(size_t n) {
  if (libp2p::stream::g_count_allocations) ++libp2p::stream::g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace libp2p::stream {
namespace {

// A secure connection the test plays: it keeps every byte yamux writes, and the test feeds it frames.
class FakeWire final : public RawConnection {
 public:
  FakeWire() { written.reserve(1 << 20); }

  void SetHandlers(Handlers h) override { handlers = std::move(h); }
  Status Write(ByteSpan data) override {
    if (!write_error.ok()) return write_error;
    written.append(reinterpret_cast<const char*>(data.data()), data.size());
    return OkStatus();
  }
  size_t buffered_bytes() const override { return 0; }
  bool write_blocked() const override { return written.size() >= block_at; }
  void PauseReading(bool) override {}
  void Unread(ByteSpan) override {}
  void CloseWrite() override { write_closed = true; }
  void Reset() override {}
  const Multiaddr& local_addr() const override { return addr_; }
  const Multiaddr& remote_addr() const override { return addr_; }

  Handlers handlers;
  std::string written;
  size_t block_at = SIZE_MAX;  // write_blocked() once `written` holds this many bytes (it still takes more).
  Status write_error;
  bool write_closed = false;

 private:
  Multiaddr addr_;
};

// One end of a connection with a fixed one-way delay and no other limit: a long, fat network path.
class DelayedWire final : public RawConnection {
 public:
  DelayedWire(EventLoop* loop, Duration delay)
      : loop_(loop), delay_(delay), timer_(loop->CreateTimer([this] { Deliver(); })) {}
  ~DelayedWire() override {
    if (peer_ != nullptr) peer_->peer_ = nullptr;
  }
  static void Connect(DelayedWire* a, DelayedWire* b) {
    a->peer_ = b;
    b->peer_ = a;
  }

  void SetHandlers(Handlers h) override { handlers_ = std::move(h); }
  Status Write(ByteSpan data) override {
    in_flight_.push_back({loop_->Now() + delay_, Bytes(data.begin(), data.end())});
    if (!timer_->IsScheduled()) timer_->Schedule(delay_);
    return OkStatus();
  }
  size_t buffered_bytes() const override { return 0; }
  bool write_blocked() const override { return false; }
  void PauseReading(bool) override {}
  void Unread(ByteSpan) override {}
  void CloseWrite() override {}
  void Reset() override {}
  const Multiaddr& local_addr() const override { return addr_; }
  const Multiaddr& remote_addr() const override { return addr_; }

 private:
  struct InFlight {
    MonoTime arrival;
    Bytes bytes;
  };
  void Deliver() {
    while (!in_flight_.empty() && in_flight_.front().arrival <= loop_->Now()) {
      Bytes bytes = std::move(in_flight_.front().bytes);
      in_flight_.pop_front();
      if (peer_ != nullptr) peer_->handlers_.on_data(bytes);
    }
    if (!in_flight_.empty()) timer_->Schedule(in_flight_.front().arrival - loop_->Now());
  }

  EventLoop* const loop_;
  const Duration delay_;
  DelayedWire* peer_ = nullptr;
  Handlers handlers_;
  std::deque<InFlight> in_flight_;
  std::unique_ptr<Timer> timer_;
  Multiaddr addr_;
};

struct WireFrame {
  YamuxHeader header;
  std::string body;
};

// Takes the complete frames off the front of `bytes`.
std::vector<WireFrame> TakeFrames(std::string* bytes) {
  std::vector<WireFrame> frames;
  size_t at = 0;
  while (bytes->size() - at >= kYamuxHeaderSize) {
    const std::string_view header = std::string_view(*bytes).substr(at, kYamuxHeaderSize);
    const YamuxHeader h = *YamuxHeader::Decode(AsBytes(header));
    const size_t body = h.type == YamuxType::kData ? h.length : 0;
    if (bytes->size() - at - kYamuxHeaderSize < body) break;
    frames.push_back({h, bytes->substr(at + kYamuxHeaderSize, body)});
    at += kYamuxHeaderSize + body;
  }
  bytes->erase(0, at);
  return frames;
}

// The data bytes `frames` carry on stream `id`.
size_t DataBytes(const std::vector<WireFrame>& frames, uint32_t id) {
  size_t n = 0;
  for (const WireFrame& f : frames) {
    if (f.header.type == YamuxType::kData && f.header.stream_id == id) n += f.body.size();
  }
  return n;
}

// The increments of the window updates on stream `id` that return credit (not those only for a flag).
std::vector<uint32_t> Credits(const std::vector<WireFrame>& frames, uint32_t id) {
  std::vector<uint32_t> deltas;
  for (const WireFrame& f : frames) {
    if (f.header.type == YamuxType::kWindowUpdate && f.header.stream_id == id && f.header.length > 0) {
      deltas.push_back(f.header.length);
    }
  }
  return deltas;
}

// The frames of `frames` on stream `id`.
std::vector<WireFrame> OnStream(const std::vector<WireFrame>& frames, uint32_t id) {
  std::vector<WireFrame> out;
  for (const WireFrame& f : frames) {
    if (f.header.stream_id == id) out.push_back(f);
  }
  return out;
}

// Yamux on both ends of an in-memory connection.
class YamuxTest : public ::testing::Test {
 protected:
  void SetUp() override { Connect({}, {}); }

  void Connect(YamuxOptions client, YamuxOptions server, WriteLimits wire = {}) {
    client_inbound_.clear();
    server_inbound_.clear();
    client_.reset();
    server_.reset();
    dial_.reset();
    listener_.reset();
    transport_.reset();
    network_ = std::make_unique<MemoryNetwork>(&loop_, wire);
    transport_ = network_->CreateTransport();
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
    loop_.RunUntilIdle();
    ASSERT_NE(client_raw_, nullptr);
    client_closed_ = server_closed_ = OkStatus();
    client_ = CreateYamuxConnection(&loop_, std::move(client_raw_), /*initiator=*/true,
                                    {[this](std::unique_ptr<Stream> s) { client_inbound_.push_back(std::move(s)); },
                                     [this](const Status& e) { client_closed_ = e; }},
                                    client);
    server_ = CreateYamuxConnection(&loop_, std::move(server_raw_), /*initiator=*/false,
                                    {[this](std::unique_ptr<Stream> s) { server_inbound_.push_back(std::move(s)); },
                                     [this](const Status& e) { server_closed_ = e; }},
                                    server);
  }

  ManualEventLoop loop_;
  std::unique_ptr<MemoryNetwork> network_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_raw_, server_raw_;
  std::unique_ptr<MuxedConnection> client_, server_;
  std::vector<std::unique_ptr<Stream>> client_inbound_, server_inbound_;
  Status client_closed_ = OkStatus(), server_closed_ = OkStatus();
};

// Yamux (the dialer: odd stream ids) against a remote the test plays frame by frame over a FakeWire.
class YamuxWireTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(YamuxOptions options) {
    accepted_.clear();
    conn_.reset();
    auto wire = std::make_unique<FakeWire>();
    wire_ = wire.get();
    closed_ = OkStatus();
    conn_ = CreateYamuxConnection(&loop_, std::move(wire), /*initiator=*/true,
                                  {[this](std::unique_ptr<Stream> s) { accepted_.push_back(std::move(s)); },
                                   [this](const Status& e) { closed_ = e; }},
                                  options);
    for (const WireFrame& f : Sent()) {
      if (f.header.type == YamuxType::kPing && f.header.flags == kYamuxSyn) ping_value_ = f.header.length;
    }
  }

  // The remote sends a frame: a data frame with `body`, or (body empty) any frame as `h` says.
  void Feed(YamuxHeader h, std::string_view body = {}) {
    if (!body.empty()) h.length = static_cast<uint32_t>(body.size());
    std::string bytes(kYamuxHeaderSize, '\0');
    h.EncodeTo(reinterpret_cast<uint8_t*>(bytes.data()));
    bytes += body;
    wire_->handlers.on_data(AsBytes(bytes));
  }
  void FeedData(uint32_t id, uint16_t flags, std::string_view body) {
    Feed(YamuxHeader{YamuxType::kData, flags, id, 0}, body);
  }
  void FeedWindowUpdate(uint32_t id, uint16_t flags, uint32_t delta) {
    Feed(YamuxHeader{YamuxType::kWindowUpdate, flags, id, delta});
  }

  // The frames written since the last call, once the loop is idle.
  std::vector<WireFrame> Sent() {
    loop_.RunUntilIdle();
    return TakeFrames(&wire_->written);
  }

  // The remote answers our first ping `rtt` after it was sent: that is the round-trip time.
  void AnswerPingAfter(Duration rtt) {
    loop_.AdvanceTime(rtt);
    Feed(YamuxHeader{YamuxType::kPing, kYamuxAck, 0, ping_value_});
  }

  ManualEventLoop loop_;
  FakeWire* wire_ = nullptr;  // Owned by conn_.
  std::unique_ptr<MuxedConnection> conn_;
  std::vector<std::unique_ptr<Stream>> accepted_;
  Status closed_ = OkStatus();
  uint32_t ping_value_ = 0;
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
  size_t answered = 0;
  for (int i = 0; i < kStreams; ++i) {
    if (i % 100 == 0) {
      // The server answers the streams it has, which acknowledges them: at most 256 wait for an ACK.
      loop_.RunUntilIdle();
      for (; answered < server_inbound_.size(); ++answered) {
        ASSERT_TRUE(server_inbound_[answered]->Write(AsBytes("ok")).ok());
      }
    }
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
  YamuxOptions options;
  options.limits.max_inbound_streams = 3;
  Connect(options, options);
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


// --- Flow control.

// The remote opens a stream with a larger window (a window update with its SYN): we use it at once.
TEST_F(YamuxWireTest, WindowOnTheRemotesSynIsHonoured) {
  FeedWindowUpdate(2, kYamuxSyn, 768 * kKiB);
  ASSERT_EQ(accepted_.size(), 1u);
  ASSERT_TRUE(accepted_[0]->Write(Bytes(2 * kMiB, 'x')).ok());
  EXPECT_EQ(DataBytes(Sent(), 2), kMiB);
  // So does a window update with the ACK of a stream we opened.
  auto s = std::move(conn_->OpenStream()).value();
  ASSERT_TRUE(s->Write(Bytes(kMiB, 'y')).ok());
  EXPECT_EQ(DataBytes(Sent(), 1), 256 * kKiB);
  FeedWindowUpdate(1, kYamuxAck, 256 * kKiB);
  EXPECT_EQ(DataBytes(Sent(), 1), 256 * kKiB);
}

TEST_F(YamuxWireTest, ConfiguredReceiveWindowIsAnnounced) {
  YamuxOptions options;
  options.limits.stream_receive_window = kMiB;
  Start(options);
  // With the SYN of a stream we open.
  auto s = std::move(conn_->OpenStream()).value();
  std::vector<WireFrame> frames = Sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header, (YamuxHeader{YamuxType::kWindowUpdate, kYamuxSyn, 1, 768 * kKiB}));
  // With the ACK of a stream the remote opens.
  FeedWindowUpdate(2, kYamuxSyn, 0);
  ASSERT_EQ(accepted_.size(), 1u);
  frames = Sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header, (YamuxHeader{YamuxType::kWindowUpdate, kYamuxAck, 2, 768 * kKiB}));
  // The remote may fill all of it while nobody reads, and not a byte more.
  for (int i = 0; i < 16; ++i) FeedData(2, 0, std::string(64 * kKiB, 'd'));
  loop_.RunUntilIdle();
  EXPECT_TRUE(closed_.ok());
  FeedData(2, 0, "x");
  loop_.RunUntilIdle();
  EXPECT_EQ(closed_.code(), StatusCode::kInvalidArgument);
}

// The window doubles (up to 16 MiB) when the reader used half of it within four round-trip times of the
// previous window update.
TEST_F(YamuxWireTest, ReceiveWindowGrowsWhenUsedUpWithinFourRoundTrips) {
  EXPECT_NE(ping_value_, 0u);  // The connection pings at once to measure the round-trip time.
  AnswerPingAfter(milliseconds(100));
  FeedData(2, kYamuxSyn, std::string(128 * kKiB, 'a'));
  ASSERT_EQ(accepted_.size(), 1u);
  Recorder r;
  r.Attach(accepted_[0].get());
  auto window_updates = [&] { return Credits(Sent(), 2); };
  // At once: the credit (128 KiB) and the growth from 256 to 512 KiB.
  EXPECT_EQ(window_updates(), (std::vector<uint32_t>{384 * kKiB}));
  // Half the window again, but a second later (ten round trips): only the credit.
  loop_.AdvanceTime(seconds(1));
  FeedData(2, 0, std::string(256 * kKiB, 'b'));
  EXPECT_EQ(window_updates(), (std::vector<uint32_t>{256 * kKiB}));
  // Three round trips apart: it doubles each time, until 16 MiB.
  uint32_t window = 512 * kKiB;
  for (int i = 0; i < 6; ++i) {
    loop_.AdvanceTime(milliseconds(300));
    FeedData(2, 0, std::string(window / 2, 'c'));
    const uint32_t grown = std::min(2 * window, 16 * kMiB);
    EXPECT_EQ(window_updates(), (std::vector<uint32_t>{window / 2 + (grown - window)})) << i;
    window = grown;
  }
  EXPECT_EQ(window, kYamuxMaxStreamWindow);
  EXPECT_TRUE(closed_.ok());
}

TEST_F(YamuxWireTest, WindowGrowthIsReservedFromTheBudget) {
  MemoryBudget budget(600 * kKiB);
  YamuxOptions options;
  options.limits.budget = &budget;
  Start(options);
  AnswerPingAfter(milliseconds(100));
  FeedData(2, kYamuxSyn, std::string(128 * kKiB, 'a'));
  FeedData(4, kYamuxSyn, std::string(128 * kKiB, 'a'));
  ASSERT_EQ(accepted_.size(), 2u);
  Recorder r2, r4;
  r2.Attach(accepted_[0].get());
  r4.Attach(accepted_[1].get());
  // Both grow to 512 KiB: 256 KiB each from the budget.
  const std::vector<WireFrame> frames = Sent();
  EXPECT_EQ(Credits(frames, 2), (std::vector<uint32_t>{384 * kKiB}));
  EXPECT_EQ(Credits(frames, 4), (std::vector<uint32_t>{384 * kKiB}));
  EXPECT_EQ(budget.used(), 512 * kKiB);
  // Doubling again needs 512 KiB more, and 88 KiB are left: only the credit goes back.
  FeedData(2, 0, std::string(256 * kKiB, 'b'));
  EXPECT_EQ(Credits(Sent(), 2), (std::vector<uint32_t>{256 * kKiB}));
  EXPECT_EQ(budget.used(), 512 * kKiB);
  // Reservations go back when a stream goes, and when the connection ends.
  accepted_[0].reset();
  EXPECT_EQ(budget.used(), 256 * kKiB);
  conn_.reset();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(YamuxLatencyTest, AutoTuningFillsALongPath) {
  ManualEventLoop loop;
  auto near = std::make_unique<DelayedWire>(&loop, milliseconds(50));
  auto far = std::make_unique<DelayedWire>(&loop, milliseconds(50));
  DelayedWire::Connect(near.get(), far.get());
  std::vector<std::unique_ptr<Stream>> accepted;
  size_t received = 0;
  auto client = CreateYamuxConnection(&loop, std::move(near), /*initiator=*/true, {});
  auto server = CreateYamuxConnection(&loop, std::move(far), /*initiator=*/false,
                                      {[&](std::unique_ptr<Stream> s) {
                                         s->SetHandlers(
                                             {[&](ByteSpan d) { received += d.size(); }, {}, {}, {}});
                                         accepted.push_back(std::move(s));
                                       },
                                       {}});
  loop.AdvanceTime(milliseconds(200));  // The first pings measure the 100 ms round trip.
  auto stream = std::move(client->OpenStream()).value();
  constexpr size_t kTotal = 32 * kMiB;
  const Bytes chunk(kMiB, 'z');
  size_t written = 0;
  auto write_more = [&] {
    while (written < kTotal && !stream->write_blocked()) {
      ASSERT_TRUE(stream->Write(chunk).ok());
      written += chunk.size();
    }
  };
  stream->SetHandlers({{}, {}, {}, write_more});
  write_more();
  const MonoTime start = loop.Now();
  while (received < kTotal && loop.Now() - start < seconds(30)) loop.AdvanceTime(milliseconds(10));
  EXPECT_EQ(received, kTotal);
  // A fixed 256 KiB window needs 128 round trips (12.8 s) for 32 MiB; a growing one about ten.
  EXPECT_LT(loop.Now() - start, seconds(2));
}

// --- Opening streams.

TEST_F(YamuxWireTest, InboundStreamIsAcknowledgedWithOurFirstFrame) {
  FeedWindowUpdate(2, kYamuxSyn, 0);
  ASSERT_EQ(accepted_.size(), 1u);
  EXPECT_TRUE(OnStream(Sent(), 2).empty());  // Accepted by the application, not acknowledged yet.
  ASSERT_TRUE(accepted_[0]->Write(AsBytes("hi")).ok());
  std::vector<WireFrame> frames = OnStream(Sent(), 2);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.type, YamuxType::kData);
  EXPECT_EQ(frames[0].header.flags, kYamuxAck);
  EXPECT_EQ(frames[0].body, "hi");
  // A stream that is only read from is acknowledged by its first window update.
  FeedData(4, kYamuxSyn, std::string(128 * kKiB, 'r'));
  ASSERT_EQ(accepted_.size(), 2u);
  EXPECT_TRUE(OnStream(Sent(), 4).empty());
  Recorder r;
  r.Attach(accepted_[1].get());
  frames = OnStream(Sent(), 4);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header, (YamuxHeader{YamuxType::kWindowUpdate, kYamuxAck, 4, 128 * kKiB}));
}

TEST_F(YamuxWireTest, StreamOverTheInboundLimitIsRefusedWithRst) {
  YamuxOptions options;
  options.limits.max_inbound_streams = 1;
  Start(options);
  FeedWindowUpdate(2, kYamuxSyn, 0);
  FeedData(4, kYamuxSyn, "refused");
  EXPECT_EQ(accepted_.size(), 1u);
  const std::vector<WireFrame> frames = Sent();
  EXPECT_TRUE(OnStream(frames, 2).empty());
  ASSERT_EQ(OnStream(frames, 4).size(), 1u);
  EXPECT_EQ(OnStream(frames, 4)[0].header, (YamuxHeader{YamuxType::kWindowUpdate, kYamuxRst, 4, 0}));
  EXPECT_TRUE(closed_.ok());
}

TEST_F(YamuxWireTest, AtMost256StreamsWaitForTheirAck) {
  std::vector<std::unique_ptr<Stream>> streams;
  for (size_t i = 0; i < kYamuxMaxAckBacklog; ++i) streams.push_back(std::move(conn_->OpenStream()).value());
  EXPECT_EQ(conn_->OpenStream().status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(conn_->accepts_new_streams());  // Only for now.
  // An ACK makes room (on a window update or on data), and so does a stream that goes before its ACK.
  FeedWindowUpdate(1, kYamuxAck, 0);
  streams.push_back(std::move(conn_->OpenStream()).value());
  EXPECT_EQ(conn_->OpenStream().status().code(), StatusCode::kResourceExhausted);
  FeedData(3, kYamuxAck, "data");
  streams.push_back(std::move(conn_->OpenStream()).value());
  FeedWindowUpdate(5, kYamuxRst, 0);
  streams.push_back(std::move(conn_->OpenStream()).value());
  streams[3].reset();  // Stream 7, reset by us.
  streams.push_back(std::move(conn_->OpenStream()).value());
  EXPECT_EQ(conn_->OpenStream().status().code(), StatusCode::kResourceExhausted);
}

TEST_F(YamuxWireTest, GoAwayStopsNewStreamsButNotOpenOnes) {
  auto s = std::move(conn_->OpenStream()).value();
  EXPECT_TRUE(conn_->accepts_new_streams());
  Feed(YamuxHeader{YamuxType::kGoAway, 0, 0, 0});
  EXPECT_FALSE(conn_->accepts_new_streams());
  EXPECT_EQ(conn_->OpenStream().status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(s->Write(AsBytes("still open")).ok());
  EXPECT_EQ(DataBytes(Sent(), 1), 10u);
  EXPECT_TRUE(closed_.ok());
  // Nor once the connection is closed, by us or by the remote.
  Start({});
  conn_->Close();
  EXPECT_FALSE(conn_->accepts_new_streams());
  Start({});
  wire_->handlers.on_eof();
  EXPECT_FALSE(conn_->accepts_new_streams());
}

// --- The remote's mistakes.

TEST_F(YamuxWireTest, DataAfterTheRemotesFinResetsThatStream) {
  FeedData(2, kYamuxSyn | kYamuxFin, "abc");
  ASSERT_EQ(accepted_.size(), 1u);
  Recorder r;
  r.Attach(accepted_[0].get());
  loop_.RunUntilIdle();
  EXPECT_EQ(r.data, "abc");
  EXPECT_TRUE(r.eof);
  FeedData(2, 0, "late");
  EXPECT_TRUE(r.errored);
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.data, "abc");
  const std::vector<WireFrame> frames = OnStream(Sent(), 2);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.flags, kYamuxRst);
  // The connection carries on.
  EXPECT_TRUE(closed_.ok());
  EXPECT_EQ(conn_->stream_count(), 0u);
  FeedData(4, kYamuxSyn, "next");
  EXPECT_EQ(accepted_.size(), 2u);
}

// A stream its reader drops while a frame's body is still arriving: the rest of that body is discarded,
// and the connection carries on.
TEST_F(YamuxWireTest, AStreamDroppedWhileItsFrameArrivesLosesOnlyTheRestOfThatFrame) {
  FeedWindowUpdate(2, kYamuxSyn, 0);
  ASSERT_EQ(accepted_.size(), 1u);
  std::string got;
  accepted_[0]->SetHandlers(Stream::Handlers{[&](ByteSpan d) {
                                               got.append(AsStringView(d));
                                               accepted_[0].reset();
                                             },
                                             {}, {}, {}});
  std::string frame(kYamuxHeaderSize, '\0');
  YamuxHeader{YamuxType::kData, 0, 2, 10}.EncodeTo(reinterpret_cast<uint8_t*>(frame.data()));
  frame += "0123456789";
  wire_->handlers.on_data(AsBytes(std::string_view(frame).substr(0, kYamuxHeaderSize + 4)));
  EXPECT_EQ(got, "0123");
  EXPECT_EQ(accepted_[0], nullptr);
  wire_->handlers.on_data(AsBytes(std::string_view(frame).substr(kYamuxHeaderSize + 4)));
  EXPECT_EQ(got, "0123");
  EXPECT_TRUE(closed_.ok());
  FeedData(4, kYamuxSyn, "next");
  ASSERT_EQ(accepted_.size(), 2u);
  Recorder r;
  r.Attach(accepted_[1].get());
  loop_.RunUntilIdle();
  EXPECT_EQ(r.data, "next");
}

// The stream a frame was last found for, dropped by its reader between frames: a later frame for its id is
// a late one, discarded (the connection does not look at the stream it found before), and the other
// streams still get theirs.
TEST_F(YamuxWireTest, AFrameForTheStreamFoundLastAfterItWasDroppedIsDiscarded) {
  FeedWindowUpdate(2, kYamuxSyn, 0);
  FeedWindowUpdate(4, kYamuxSyn, 0);
  ASSERT_EQ(accepted_.size(), 2u);
  Recorder other;
  other.Attach(accepted_[1].get());
  FeedData(2, 0, "found");  // Stream 2 is the one found last.
  accepted_[0].reset();
  FeedData(2, 0, "late");
  FeedData(4, 0, "still");
  loop_.RunUntilIdle();
  EXPECT_TRUE(closed_.ok());
  EXPECT_EQ(other.data, "still");
  EXPECT_EQ(conn_->stream_count(), 1u);
}

TEST_F(YamuxWireTest, AStreamIdIsNotReusedAfterTheStreamEnded) {
  FeedData(2, kYamuxSyn | kYamuxFin, "one");
  ASSERT_EQ(accepted_.size(), 1u);
  accepted_[0]->CloseWrite();
  Sent();
  EXPECT_EQ(conn_->stream_count(), 0u);  // Finished both ways: forgotten.
  FeedData(2, kYamuxSyn, "again");
  loop_.RunUntilIdle();
  EXPECT_EQ(closed_.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(accepted_.size(), 1u);
}

TEST_F(YamuxWireTest, SynsOfStreamsOpenedConcurrentlyMayCross) {
  // Go-yamux opens streams from concurrent goroutines: the SYN of stream 6 may come before 2's and 4's.
  FeedWindowUpdate(6, kYamuxSyn, 0);
  FeedWindowUpdate(2, kYamuxSyn, 0);
  FeedWindowUpdate(4, kYamuxSyn, 0);
  EXPECT_EQ(accepted_.size(), 3u);
  loop_.RunUntilIdle();
  EXPECT_TRUE(closed_.ok());
  // Each of them once only.
  accepted_[1].reset();
  FeedWindowUpdate(2, kYamuxSyn, 0);
  loop_.RunUntilIdle();
  EXPECT_EQ(closed_.code(), StatusCode::kInvalidArgument);
}

// --- Ending.

// A "send, FIN, close" peer: what it sent reaches the reader, then the failure.
TEST_F(YamuxWireTest, DataBeforeTheRemotesFinSurvivesTheConnectionsEnd) {
  FeedData(2, kYamuxSyn | kYamuxFin, "request");  // Taken, not read yet.
  FeedData(4, kYamuxSyn, "paused");
  ASSERT_EQ(accepted_.size(), 2u);
  Recorder r2, r4;
  r4.Attach(accepted_[1].get());
  accepted_[1]->PauseReading(true);
  FeedData(4, kYamuxFin, " reader");
  wire_->handlers.on_eof();
  loop_.RunUntilIdle();
  EXPECT_EQ(closed_.code(), StatusCode::kUnavailable);
  r2.Attach(accepted_[0].get());
  accepted_[1]->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(r2.data, "request");
  EXPECT_TRUE(r2.eof);
  EXPECT_TRUE(r2.errored);  // After the data and the end: writing is over too.
  EXPECT_EQ(r4.data, "paused reader");
  EXPECT_TRUE(r4.eof);
  EXPECT_TRUE(r4.errored);
}

// A responder writes its answer, closes and lets go of the stream at once (as the perf server does once
// buffered_bytes() is 0) while the secure connection is write-blocked: the answer and the FIN go out, no RST.
TEST_F(YamuxWireTest, DroppingAStreamClosedBothWaysSendsItsFinNotAReset) {
  FeedData(2, kYamuxSyn | kYamuxFin, "request");
  ASSERT_EQ(accepted_.size(), 1u);
  Sent();
  wire_->block_at = wire_->written.size() + 1;
  ASSERT_TRUE(accepted_[0]->Write(AsBytes("answer")).ok());
  EXPECT_TRUE(wire_->write_blocked());
  accepted_[0]->CloseWrite();
  EXPECT_EQ(accepted_[0]->buffered_bytes(), 0u);
  accepted_[0].reset();
  wire_->block_at = SIZE_MAX;
  wire_->handlers.on_writable();
  const std::vector<WireFrame> frames = OnStream(Sent(), 2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "answer");
  EXPECT_EQ(frames[1].header.type, YamuxType::kData);
  EXPECT_EQ(frames[1].header.flags, kYamuxFin);
  EXPECT_EQ(frames[1].header.length, 0u);
  EXPECT_EQ(conn_->stream_count(), 0u);
}

// The FIN never rides on a data frame: js-yamux 8 applies a frame's FIN before its body and then drops the
// body when its reader is idle (the last 19,269 bytes of a perf answer went missing that way).
TEST_F(YamuxWireTest, TheFinTravelsInAFrameOfItsOwn) {
  FeedData(2, kYamuxSyn | kYamuxFin, "request");
  ASSERT_EQ(accepted_.size(), 1u);
  Sent();
  wire_->block_at = 0;  // The answer waits in the outbox and leaves with the FIN's flush.
  ASSERT_TRUE(accepted_[0]->Write(AsBytes("answer")).ok());
  accepted_[0]->CloseWrite();
  wire_->block_at = SIZE_MAX;
  wire_->handlers.on_writable();
  const std::vector<WireFrame> frames = OnStream(Sent(), 2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "answer");
  EXPECT_EQ(frames[0].header.flags & kYamuxFin, 0);
  EXPECT_EQ(frames[1].header.type, YamuxType::kData);
  EXPECT_EQ(frames[1].header.flags, kYamuxFin);
  EXPECT_EQ(frames[1].header.length, 0u);
  EXPECT_EQ(conn_->stream_count(), 0u);
}

// Dropped before the remote's FIN, a closed stream is still open for reading: it is reset.
TEST_F(YamuxWireTest, DroppingAStreamStillOpenForReadingResetsIt) {
  FeedData(2, kYamuxSyn, "request");
  ASSERT_EQ(accepted_.size(), 1u);
  Sent();
  wire_->block_at = 0;
  ASSERT_TRUE(accepted_[0]->Write(AsBytes("answer")).ok());
  accepted_[0]->CloseWrite();
  accepted_[0].reset();
  wire_->block_at = SIZE_MAX;
  wire_->handlers.on_writable();
  const std::vector<WireFrame> frames = OnStream(Sent(), 2);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.flags, kYamuxRst);
}

TEST_F(YamuxTest, CloseSendsQueuedDataBeforeGoAway) {
  // The secure connection blocks after one write, so later writes wait in the streams' outboxes.
  Connect({}, {}, WriteLimits{1024, 512, 16 * kMiB});
  auto a = std::move(client_->OpenStream()).value();
  auto b = std::move(client_->OpenStream()).value();
  ASSERT_TRUE(a->Write(AsBytes("x")).ok());
  ASSERT_TRUE(b->Write(AsBytes("y")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_inbound_.size(), 2u);
  Recorder ra, rb;
  ra.Attach(server_inbound_[0].get());
  rb.Attach(server_inbound_[1].get());
  ASSERT_TRUE(a->Write(Bytes(10000, 'a')).ok());
  ASSERT_TRUE(a->Write(Bytes(20000, 'a')).ok());
  ASSERT_TRUE(b->Write(AsBytes("tail")).ok());
  b->CloseWrite();
  EXPECT_EQ(a->buffered_bytes(), 20000u);
  client_->Close();
  loop_.RunUntilIdle();
  EXPECT_EQ(ra.data.size(), 30001u);
  EXPECT_EQ(rb.data, "ytail");
  EXPECT_TRUE(rb.eof);
  EXPECT_TRUE(client_closed_.ok());  // No on_closed for our own Close().
}

TEST_F(YamuxTest, FailedWriteToTheSecureConnectionEndsIt) {
  // The wire's hard limit is below a window's worth: the write over it resets the secure connection, which
  // calls no callback.
  Connect({}, {}, WriteLimits{16 * kKiB, 8 * kKiB, 64 * kKiB});
  auto a = std::move(client_->OpenStream()).value();
  Recorder ra;
  ra.Attach(a.get());
  loop_.RunUntilIdle();
  EXPECT_TRUE(a->Write(Bytes(200 * kKiB, 'x')).ok());  // Taken before the failure shows.
  loop_.RunUntilIdle();
  EXPECT_EQ(client_closed_.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(ra.errored);
  EXPECT_FALSE(client_->accepts_new_streams());
}

TEST_F(YamuxWireTest, QueuedWritesAreReservedFromTheBudget) {
  MemoryBudget budget(100 * kKiB);
  YamuxOptions options;
  options.limits.budget = &budget;
  Start(options);
  auto s = std::move(conn_->OpenStream()).value();
  ASSERT_TRUE(s->Write(Bytes(256 * kKiB, 'w')).ok());  // Within the send window: sent at once.
  EXPECT_EQ(DataBytes(Sent(), 1), 256 * kKiB);
  EXPECT_EQ(budget.used(), 0u);
  ASSERT_TRUE(s->Write(Bytes(60 * kKiB, 'q')).ok());  // No window left: queued, and reserved.
  EXPECT_EQ(budget.used(), 60 * kKiB);
  EXPECT_EQ(s->Write(Bytes(50 * kKiB, 'q')).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(budget.used(), 0u);  // The stream was reset, its outbox dropped.
  const std::vector<WireFrame> frames = OnStream(Sent(), 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.flags, kYamuxRst);
  EXPECT_EQ(s->Write(AsBytes("more")).code(), StatusCode::kFailedPrecondition);
  conn_.reset();
}

// --- Internals.

TEST_F(YamuxWireTest, ControlFramesReuseTheirBuffer) {
  std::string ping(kYamuxHeaderSize, '\0');
  YamuxHeader{YamuxType::kPing, kYamuxSyn, 0, 7}.EncodeTo(reinterpret_cast<uint8_t*>(ping.data()));
  for (int i = 0; i < 10; ++i) wire_->handlers.on_data(AsBytes(ping));  // Warm up.
  wire_->written.clear();
  g_allocations = 0;
  g_count_allocations = true;
  for (int i = 0; i < 1000; ++i) wire_->handlers.on_data(AsBytes(ping));  // Each answered and flushed.
  g_count_allocations = false;
  EXPECT_EQ(wire_->written.size(), 1000 * kYamuxHeaderSize);
  EXPECT_LT(g_allocations, 10u);
}

TEST_F(YamuxTest, RunSoonWorkKeepsTheLoopsOrder) {
  auto a = std::move(client_->OpenStream()).value();
  std::vector<std::string> order;
  a->SetHandlers({{}, {}, [&](const Status&) { order.push_back("stream failed"); }, {}});
  client_->Close();
  loop_.Post([&] { order.push_back("posted after"); });
  loop_.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"stream failed", "posted after"}));
}

}  // namespace
}  // namespace libp2p::stream
