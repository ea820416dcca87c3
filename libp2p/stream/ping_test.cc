#include "libp2p/stream/ping.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/random.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Deterministic ping payloads: 0, 1, 2, ... continuing across pings.
PingRandomSource CountingRandom() {
  auto next = std::make_shared<uint8_t>(0);
  return [next](std::span<uint8_t> out) {
    for (uint8_t& b : out) b = (*next)++;
  };
}

class PingTest : public ::testing::Test {
 protected:
  void SetUp() override { Connect(); }

  void Connect() {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      client_ = std::move(c).value();
    });
    loop_.RunUntilIdle();
    ASSERT_NE(client_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  // Starts a ping on `pinger_`, recording its result; expects Ping() itself to succeed.
  void StartPing() {
    const Status started = pinger_->Ping([this](StatusOr<Duration> rtt) {
      ++calls_;
      rtt_ = std::move(rtt);
    });
    ASSERT_EQ(started, OkStatus());
  }

  ManualEventLoop loop_;
  std::unique_ptr<MemoryNetwork> network_ = std::make_unique<MemoryNetwork>(&loop_);
  std::unique_ptr<Transport> transport_ = network_->CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_, server_;
  std::unique_ptr<Pinger> pinger_;
  StatusOr<Duration> rtt_ = CancelledError("unset");
  int calls_ = 0;
};

TEST_F(PingTest, SeveralPingsOnOneStreamMeasureTheRoundTrip) {
  Status responder_done = CancelledError("unset");
  PingResponder responder(&loop_, server_.get(), [&](Status s) { responder_done = s; });
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  for (Duration delay :
       {Duration::zero(), Duration(milliseconds(10)), Duration(milliseconds(250)), Duration(seconds(3))}) {
    // The responder's side stops reading, so the echo leaves only once the test has moved time.
    server_->PauseReading(true);
    calls_ = 0;
    StartPing();
    loop_.RunUntilIdle();
    loop_.AdvanceTime(delay);
    EXPECT_EQ(calls_, 0);
    server_->PauseReading(false);
    loop_.RunUntilIdle();
    ASSERT_EQ(calls_, 1);
    ASSERT_TRUE(rtt_.ok()) << rtt_.status().ToString();
    EXPECT_EQ(*rtt_, delay);
  }
  // Done: the dialer closes, the responder closes back and reports.
  testing::Recorder client_side;
  pinger_.reset();
  client_side.Attach(client_.get());
  client_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(responder_done, OkStatus());
  EXPECT_TRUE(client_side.eof);
}

TEST_F(PingTest, EchoSplitAcrossReads) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get(), PingerOptions{.random = CountingRandom()});
  StartPing();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_side.data.size(), kPingSize);
  EXPECT_EQ(server_side.data[31], 31);
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data).first(5)).ok());
  loop_.RunUntilIdle();
  loop_.AdvanceTime(milliseconds(40));
  EXPECT_EQ(calls_, 0);
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data).subspan(5)).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(rtt_.ok());
  EXPECT_EQ(*rtt_, milliseconds(40));
}

TEST_F(PingTest, DefaultPayloadsComeFromRandomBytes) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  Bytes expected(kPingSize);
  {
    ScopedDeterministicRandom scope(17);
    RandomBytes(MutableByteSpan(expected));
  }
  ScopedDeterministicRandom scope(17);
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  loop_.RunUntilIdle();
  EXPECT_EQ(server_side.data, ToString(expected));
}

TEST_F(PingTest, WrongEchoIsDetected) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get(), PingerOptions{.random = CountingRandom()});
  StartPing();
  loop_.RunUntilIdle();
  std::string echo = server_side.data;
  ASSERT_EQ(echo.size(), kPingSize);
  echo[17] ^= 0x40;
  ASSERT_TRUE(server_->Write(AsBytes(echo)).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(rtt_.status().code(), StatusCode::kInvalidArgument);
  // The stream is out of step: no more pings on it.
  EXPECT_EQ(pinger_->Ping([](StatusOr<Duration>) {}).code(), StatusCode::kFailedPrecondition);
}

TEST_F(PingTest, EachPingSendsFreshBytes) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get(), PingerOptions{.random = CountingRandom()});
  StartPing();
  loop_.RunUntilIdle();
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data)).ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(rtt_.ok());
  StartPing();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_side.data.size(), 2 * kPingSize);
  EXPECT_EQ(static_cast<uint8_t>(server_side.data[kPingSize]), 32);
  // Replaying the first echo is not an answer to the second ping.
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data).first(kPingSize)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(rtt_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PingTest, SilentPeerTimesOut) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get(), PingerOptions{.timeout = seconds(2)});
  StartPing();
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2) - milliseconds(1));
  EXPECT_EQ(calls_, 0);
  loop_.AdvanceTime(milliseconds(1));
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(rtt_.status().code(), StatusCode::kDeadlineExceeded);
  // A late echo changes nothing.
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(pinger_->Ping([](StatusOr<Duration>) {}).code(), StatusCode::kFailedPrecondition);
}

TEST_F(PingTest, DefaultTimeoutIsTenSeconds) {
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  loop_.AdvanceTime(seconds(10) - milliseconds(1));
  EXPECT_EQ(calls_, 0);
  loop_.AdvanceTime(milliseconds(1));
  EXPECT_EQ(rtt_.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(PingTest, StreamResetMidPing) {
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_side.data.size(), kPingSize);
  ASSERT_TRUE(server_->Write(AsBytes(server_side.data).first(10)).ok());  // Part of the echo, then a reset.
  loop_.RunUntilIdle();
  server_->Reset();
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(rtt_.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pinger_->Ping([](StatusOr<Duration>) {}).code(), StatusCode::kUnavailable);
}

TEST_F(PingTest, StreamEndedMidPing) {
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  server_->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(rtt_.status().code(), StatusCode::kUnavailable);
}

TEST_F(PingTest, OnePingAtATime) {
  PingResponder responder(&loop_, server_.get(), [](Status) {});
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  EXPECT_EQ(pinger_->Ping([](StatusOr<Duration>) { FAIL() << "must not run"; }).code(),
            StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_TRUE(rtt_.ok());
}

TEST_F(PingTest, CallbackMayPingAgainOrDestroyThePinger) {
  PingResponder responder(&loop_, server_.get(), [](Status) {});
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  int done = 0;
  std::function<void(StatusOr<Duration>)> again = [&](StatusOr<Duration> rtt) {
    ASSERT_TRUE(rtt.ok());
    if (++done < 3) {
      ASSERT_EQ(pinger_->Ping(again), OkStatus());
    } else {
      pinger_.reset();
    }
  };
  ASSERT_EQ(pinger_->Ping(again), OkStatus());
  loop_.RunUntilIdle();
  EXPECT_EQ(done, 3);
  EXPECT_EQ(pinger_, nullptr);
}

TEST_F(PingTest, DestroyingThePingerCancelsThePing) {
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  StartPing();
  pinger_.reset();
  loop_.AdvanceTime(seconds(20));
  EXPECT_EQ(calls_, 0);
}

TEST_F(PingTest, UnsolicitedBytesMakeThePingerUnusable) {
  pinger_ = std::make_unique<Pinger>(&loop_, client_.get());
  ASSERT_TRUE(server_->Write(Bytes{1, 2, 3}).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(pinger_->Ping([](StatusOr<Duration>) {}).code(), StatusCode::kFailedPrecondition);
}

TEST_F(PingTest, ResponderEchoesBlocksSplitAnywhere) {
  Status done = CancelledError("unset");
  int done_calls = 0;
  PingResponder responder(&loop_, server_.get(), [&](Status s) {
    ++done_calls;
    done = s;
  });
  testing::Recorder client_side;
  client_side.Attach(client_.get());
  std::string sent;
  for (int i = 0; i < 3 * static_cast<int>(kPingSize) + 7; ++i) sent.push_back(static_cast<char>(i * 13));
  // Pieces of 1, 2, 3, ... bytes, each delivered on its own.
  size_t at = 0;
  for (size_t n = 1; at < sent.size(); ++n) {
    const size_t take = std::min(n, sent.size() - at);
    ASSERT_TRUE(client_->Write(AsBytes(std::string_view(sent).substr(at, take))).ok());
    at += take;
    loop_.RunUntilIdle();
  }
  EXPECT_EQ(client_side.data, sent.substr(0, 3 * kPingSize));  // The 7 trailing bytes are no block yet.
  client_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(client_side.data, sent.substr(0, 3 * kPingSize));
  EXPECT_TRUE(client_side.eof);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(done, OkStatus());
}

TEST_F(PingTest, ResponderReportsAFailedStream) {
  Status done = CancelledError("unset");
  PingResponder responder(&loop_, server_.get(), [&](Status s) { done = s; });
  client_->Reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(done.code(), StatusCode::kUnavailable);
}

// A dialer that opens a ping stream and then says nothing no longer holds it forever.
TEST_F(PingTest, ResponderGivesUpOnASilentDialer) {
  Status done = CancelledError("unset");
  PingResponder responder(&loop_, server_.get(), [&](Status s) { done = s; }, seconds(60));
  Bytes ping(kPingSize, 1);
  loop_.AdvanceTime(seconds(50));
  ASSERT_TRUE(client_->Write(ping).ok());  // A ping restarts the wait.
  loop_.AdvanceTime(seconds(50));
  EXPECT_EQ(done.code(), StatusCode::kCancelled);
  loop_.AdvanceTime(seconds(11));
  EXPECT_EQ(done.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(PingTest, ResponderCallbackMayDestroyResponderAndStream) {
  std::unique_ptr<PingResponder> responder;
  responder = std::make_unique<PingResponder>(&loop_, server_.get(), [&](Status s) {
    responder.reset();
    server_.reset();
  });
  client_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(responder, nullptr);
  EXPECT_EQ(server_, nullptr);
}

TEST_F(PingTest, ResponderStopsReadingWhileTheDialerDoesNotReadEchoes) {
  // Small write buffers, so that the responder's fills after two echoes.
  server_.reset();
  client_.reset();
  listener_.reset();
  dial_.reset();
  transport_.reset();
  network_ = std::make_unique<MemoryNetwork>(&loop_, WriteLimits{64, 32, 4096});
  transport_ = network_->CreateTransport();
  Connect();
  PingResponder responder(&loop_, server_.get(), [](Status) {});
  testing::Recorder client_side;
  client_side.Attach(client_.get());
  client_->PauseReading(true);
  std::string sent;
  for (int i = 0; i < 20; ++i) {
    const std::string block(kPingSize, static_cast<char>('a' + i));
    sent += block;
    ASSERT_TRUE(client_->Write(AsBytes(block)).ok());
    loop_.RunUntilIdle();
  }
  EXPECT_LE(server_->buffered_bytes(), 2 * kPingSize);  // The rest waits on the dialer's side.
  EXPECT_GT(client_->buffered_bytes(), 0u);
  client_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(client_side.data, sent);
  EXPECT_FALSE(client_side.errored);
}

}  // namespace
}  // namespace libp2p::stream
