#include "libp2p/stream/memory_transport.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using testing::Recorder;

class MemoryTransportTest : public ::testing::Test {
 protected:
  // Connects a dialer to a listener and returns both ends.
  void ConnectPair() {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { accepted_ = std::move(c); });
    ASSERT_TRUE(listener.ok());
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      ASSERT_TRUE(c.ok());
      dialed_ = std::move(c).value();
    });
    loop_.RunUntilIdle();
    ASSERT_NE(dialed_, nullptr);
    ASSERT_NE(accepted_, nullptr);
    a_.Attach(dialed_.get());
    b_.Attach(accepted_.get());
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{1024, 256, 64 * 1024}};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> dialed_, accepted_;
  Recorder a_, b_;
};

TEST_F(MemoryTransportTest, ExchangeBytesBothWays) {
  ConnectPair();
  EXPECT_EQ(dialed_->remote_addr(), listener_->listen_addr());
  EXPECT_EQ(accepted_->local_addr(), listener_->listen_addr());
  ASSERT_TRUE(dialed_->Write(AsBytes("hello ")).ok());
  ASSERT_TRUE(dialed_->Write(AsBytes("world")).ok());
  ASSERT_TRUE(accepted_->Write(AsBytes("back")).ok());
  EXPECT_TRUE(b_.data.empty());  // Nothing moves until the loop runs.
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, "hello world");
  EXPECT_EQ(a_.data, "back");
}

TEST_F(MemoryTransportTest, ATransportDialsFromItsOwnAddressAndListensWhereAsked) {
  std::unique_ptr<Transport> far = network_.CreateTransport("10.0.0.7");
  std::unique_ptr<RawConnection> accepted;
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/10.0.0.8/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ((*listener)->listen_addr().ToString().rfind("/ip4/10.0.0.8/tcp/", 0), 0u);
  std::unique_ptr<RawConnection> dialed;
  auto dial = far->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    ASSERT_TRUE(c.ok());
    dialed = std::move(c).value();
  });
  loop_.RunUntilIdle();
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->remote_addr().ToString().rfind("/ip4/10.0.0.7/tcp/", 0), 0u);
  EXPECT_EQ(dialed->local_addr(), accepted->remote_addr());
}

// A peer that sends, closes and resets before our reader took anything: the bytes and the end of stream
// that arrived before the failure are delivered first, then the failure (they were once dropped).
TEST_F(MemoryTransportTest, BytesThatArrivedBeforeAFailureAreDeliveredFirst) {
  ConnectPair();
  accepted_->SetHandlers({});  // Nobody reads yet (as while a handler is being chosen).
  ASSERT_TRUE(dialed_->Write(AsBytes("last words")).ok());
  dialed_->CloseWrite();
  loop_.RunUntilIdle();
  dialed_->Reset();
  loop_.RunUntilIdle();
  b_.Attach(accepted_.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, "last words");
  EXPECT_TRUE(b_.eof);
  EXPECT_TRUE(b_.errored);
}

// While a failure waits behind held bytes, the reader may still give some back (as a negotiation does with
// what follows its last message): they come first to the next reader, then the failure.
TEST_F(MemoryTransportTest, BytesGivenBackWhileAFailureWaitsComeFirst) {
  ConnectPair();
  accepted_->SetHandlers({});
  ASSERT_TRUE(dialed_->Write(AsBytes("headrest")).ok());
  loop_.RunUntilIdle();
  dialed_->Reset();
  loop_.RunUntilIdle();
  std::string first;
  accepted_->SetHandlers(Stream::Handlers{[&](ByteSpan d) {
                                            first.assign(AsStringView(d));
                                            accepted_->Unread(d.subspan(4));
                                            accepted_->SetHandlers({});
                                          },
                                          {}, [](const Status&) {}, {}});
  loop_.RunUntilIdle();
  EXPECT_EQ(first, "headrest");
  b_.Attach(accepted_.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, "rest");
  EXPECT_TRUE(b_.errored);
}

// A reader that takes no bytes (only on_error) still hears of a failure that waits behind held bytes.
TEST_F(MemoryTransportTest, ReaderWithoutOnDataHearsOfTheFailure) {
  ConnectPair();
  accepted_->SetHandlers({});
  ASSERT_TRUE(dialed_->Write(AsBytes("ignored")).ok());
  loop_.RunUntilIdle();
  dialed_->Reset();
  loop_.RunUntilIdle();
  bool failed = false;
  accepted_->SetHandlers(Stream::Handlers{{}, {}, [&](const Status&) { failed = true; }, {}});
  loop_.RunUntilIdle();
  EXPECT_TRUE(failed);
}

// A paused reader hears of a failure at once (it would otherwise wait forever for what it paused for).
TEST_F(MemoryTransportTest, PausedReaderHearsOfAFailureAtOnce) {
  ConnectPair();
  accepted_->PauseReading(true);
  ASSERT_TRUE(dialed_->Write(AsBytes("unread")).ok());
  loop_.RunUntilIdle();
  dialed_->Reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(b_.errored);
  EXPECT_TRUE(b_.data.empty());
}

TEST_F(MemoryTransportTest, HalfCloseDeliversEofAndStillAllowsReplies) {
  ConnectPair();
  ASSERT_TRUE(dialed_->Write(AsBytes("request")).ok());
  dialed_->CloseWrite();
  EXPECT_EQ(dialed_->Write(AsBytes("more")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, "request");
  EXPECT_TRUE(b_.eof);
  ASSERT_TRUE(accepted_->Write(AsBytes("response")).ok());
  accepted_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(a_.data, "response");
  EXPECT_TRUE(a_.eof);
}

TEST_F(MemoryTransportTest, SlowReaderBlocksWriterUntilItResumes) {
  ConnectPair();
  accepted_->PauseReading(true);
  std::string sent;
  while (!dialed_->write_blocked()) {
    const std::string piece(100, static_cast<char>('a' + sent.size() / 100 % 26));
    ASSERT_TRUE(dialed_->Write(AsBytes(piece)).ok());
    sent += piece;
  }
  loop_.RunUntilIdle();
  EXPECT_TRUE(b_.data.empty());
  EXPECT_GE(dialed_->buffered_bytes(), 1024u);
  EXPECT_EQ(a_.writable, 0);
  accepted_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, sent);
  EXPECT_FALSE(dialed_->write_blocked());
  EXPECT_EQ(a_.writable, 1);
}

TEST_F(MemoryTransportTest, HardLimitResetsTheStream) {
  ConnectPair();
  accepted_->PauseReading(true);
  const Bytes big(64 * 1024 + 1, 'x');
  EXPECT_EQ(dialed_->Write(big).code(), StatusCode::kResourceExhausted);
  loop_.RunUntilIdle();
  EXPECT_TRUE(b_.errored);
}

TEST_F(MemoryTransportTest, ResetReachesThePeerAsAnError) {
  ConnectPair();
  dialed_->Reset();
  EXPECT_EQ(dialed_->Write(AsBytes("x")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_TRUE(b_.errored);
  EXPECT_EQ(b_.error.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(a_.errored);  // The side that reset hears nothing.
}

TEST_F(MemoryTransportTest, DestroyedEndStillDeliversQueuedBytesThenEof) {
  ConnectPair();
  ASSERT_TRUE(dialed_->Write(AsBytes("last words")).ok());
  dialed_.reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(b_.data, "last words");
  EXPECT_TRUE(b_.eof);
  EXPECT_EQ(accepted_->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
}

TEST_F(MemoryTransportTest, CallbackMayDestroyItsStream) {
  ConnectPair();
  accepted_->SetHandlers(Stream::Handlers{[this](ByteSpan) { accepted_.reset(); }, {}, {}, {}});
  ASSERT_TRUE(dialed_->Write(AsBytes("boom")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(accepted_, nullptr);
  loop_.RunUntilIdle();
  EXPECT_TRUE(a_.eof);
}

TEST_F(MemoryTransportTest, UnreadBytesComeBackFirst) {
  ConnectPair();
  std::string got;
  bool unread_once = false;
  accepted_->SetHandlers(Stream::Handlers{[&](ByteSpan b) {
                                            if (!unread_once) {
                                              unread_once = true;
                                              accepted_->Unread(b.subspan(2));
                                              got += ToString(b.first(2));
                                              return;
                                            }
                                            got += ToString(b);
                                          },
                                          {}, {}, {}});
  ASSERT_TRUE(dialed_->Write(AsBytes("abcdef")).ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(dialed_->Write(AsBytes("gh")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(got, "abcdefgh");
}

TEST_F(MemoryTransportTest, DialToNowhereIsRefused) {
  Status result;
  auto dial = transport_->Dial(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/9"),
                               [&](StatusOr<std::unique_ptr<RawConnection>> c) { result = c.status(); });
  loop_.RunUntilIdle();
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
}

TEST_F(MemoryTransportTest, CancelledDialNeverCallsBack) {
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"), [](auto) {});
  ASSERT_TRUE(listener.ok());
  bool called = false;
  auto dial = transport_->Dial((*listener)->listen_addr(), [&](auto) { called = true; });
  dial.reset();
  loop_.RunUntilIdle();
  EXPECT_FALSE(called);
}

TEST_F(MemoryTransportTest, ListenTwiceOnOnePortFails) {
  auto first = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001"), [](auto) {});
  ASSERT_TRUE(first.ok());
  auto second = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001"), [](auto) {});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace libp2p::stream
