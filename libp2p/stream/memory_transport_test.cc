#include "libp2p/stream/memory_transport.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/spliced_bytes.h"
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

// A network of two addresses on a link model: a dials b.
class LinkModelTest : public ::testing::Test {
 protected:
  static constexpr Duration kMs = std::chrono::milliseconds(1);

  explicit LinkModelTest(LinkModel model = DefaultModel()) : network_(&loop_, WriteLimits{}, std::move(model)) {}

  static LinkModel DefaultModel() {
    LinkModel model;
    // 10 ms from 10.0.0.1 to anyone, 30 ms from anyone else: the model need not be symmetric.
    model.latency = [](Ipv4 from, Ipv4) { return from == 0x0a000001 ? 10 * kMs : 30 * kMs; };
    return model;
  }

  // Connects a (10.0.0.1) to b (10.0.0.2), advancing time until both ends exist.
  void Connect() {
    auto listener = b_transport_->Listen(*Multiaddr::FromString("/ip4/10.0.0.2/tcp/0"),
                                         [this](std::unique_ptr<RawConnection> c) { accepted_ = std::move(c); });
    ASSERT_TRUE(listener.ok());
    listener_ = std::move(listener).value();
    dial_ = a_transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      dial_status_ = c.status();
      if (c.ok()) dialed_ = std::move(c).value();
    });
    loop_.AdvanceTime(10 * kMs);
    ASSERT_NE(dialed_, nullptr);
    ASSERT_NE(accepted_, nullptr);
    a_.Attach(dialed_.get());
    b_.Attach(accepted_.get());
  }

  // Advances to each timer in turn until `done()`, returning the virtual time that took.
  Duration TimeUntil(const std::function<bool()>& done) {
    const MonoTime start = loop_.Now();
    while (!done() && loop_.AdvanceToNextTimer()) {
    }
    return loop_.Now() - start;
  }

  // Has b's end record the size of each read in `reads` and the bytes read in `received`.
  void RecordReads(std::vector<size_t>* reads, std::string* received) {
    accepted_->SetHandlers(Stream::Handlers{[reads, received](ByteSpan b) {
                                              reads->push_back(b.size());
                                              received->append(reinterpret_cast<const char*>(b.data()), b.size());
                                            },
                                            {}, {}, {}});
  }

  ManualEventLoop loop_;
  MemoryNetwork network_;
  std::unique_ptr<Transport> a_transport_ = network_.CreateTransport("10.0.0.1");
  std::unique_ptr<Transport> b_transport_ = network_.CreateTransport("10.0.0.2");
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  Status dial_status_;
  std::unique_ptr<RawConnection> dialed_, accepted_;
  Recorder a_, b_;
};

TEST_F(LinkModelTest, EachDirectionTakesItsPairsLatency) {
  Connect();
  ASSERT_TRUE(dialed_->Write(AsBytes("ping")).ok());
  EXPECT_EQ(TimeUntil([&] { return b_.data == "ping"; }), 10 * kMs);
  ASSERT_TRUE(accepted_->Write(AsBytes("pong")).ok());
  EXPECT_EQ(TimeUntil([&] { return a_.data == "pong"; }), 30 * kMs);
}

// A blocked writer is not woken early by a wake-up that an ack of bytes written before it blocked left
// behind: here it hears of room when the ack that made the room arrives.
TEST_F(LinkModelTest, ABlockedWriterHearsOfRoomWhenTheAckArrives) {
  Connect();
  ASSERT_TRUE(dialed_->Write(AsBytes("x")).ok());
  EXPECT_EQ(TimeUntil([&] { return b_.data == "x"; }), 10 * kMs);  // Its ack reaches a 30 ms from now.
  accepted_->PauseReading(true);
  ASSERT_TRUE(dialed_->Write(Bytes(WriteLimits{}.high_water, 'y')).ok());
  ASSERT_TRUE(dialed_->write_blocked());
  loop_.AdvanceTime(15 * kMs);
  accepted_->PauseReading(false);  // b reads all at once: the ack of it reaches a 30 ms later.
  EXPECT_EQ(TimeUntil([&] { return a_.writable > 0; }), 30 * kMs);
  EXPECT_FALSE(dialed_->write_blocked());
  EXPECT_EQ(b_.data.size(), 1 + WriteLimits{}.high_water);
}

TEST_F(LinkModelTest, WritesQueueBehindEachOtherOnTheUploadLink) {
  // 1,000 bytes per second up: 100 bytes take 100 ms to leave, the next 100 bytes wait for them.
  network_.SetAccessLink("10.0.0.1", AccessLink{1000, 0});
  Connect();
  ASSERT_TRUE(dialed_->Write(Bytes(100, 'x')).ok());
  ASSERT_TRUE(dialed_->Write(Bytes(100, 'y')).ok());
  EXPECT_EQ(TimeUntil([&] { return b_.data.size() == 100; }), 110 * kMs);
  EXPECT_EQ(TimeUntil([&] { return b_.data.size() == 200; }), 100 * kMs);
  EXPECT_EQ(b_.data, std::string(100, 'x') + std::string(100, 'y'));
}

TEST_F(LinkModelTest, TheDownloadLinkQueuesBytesFromEverySender) {
  // b downloads 1,000 bytes per second; two senders' 100 bytes each arrive one after the other.
  network_.SetAccessLink("10.0.0.2", AccessLink{0, 1000});
  Connect();
  std::unique_ptr<Transport> c_transport = network_.CreateTransport("10.0.0.3");
  std::unique_ptr<RawConnection> from_c, at_b;
  auto listener = b_transport_->Listen(*Multiaddr::FromString("/ip4/10.0.0.2/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> c) { at_b = std::move(c); });
  ASSERT_TRUE(listener.ok());
  auto dial = c_transport->Dial((*listener)->listen_addr(),
                                [&](StatusOr<std::unique_ptr<RawConnection>> c) { from_c = std::move(c).value(); });
  loop_.AdvanceTime(30 * kMs);
  ASSERT_NE(at_b, nullptr);
  Recorder b_from_c;
  b_from_c.Attach(at_b.get());
  ASSERT_TRUE(dialed_->Write(Bytes(100, 'a')).ok());  // 10 ms away, then 100 ms to download.
  ASSERT_TRUE(from_c->Write(Bytes(100, 'c')).ok());   // 30 ms away, then behind a's bytes.
  EXPECT_EQ(TimeUntil([&] { return b_.data.size() == 100; }), 110 * kMs);
  EXPECT_EQ(TimeUntil([&] { return b_from_c.data.size() == 100; }), 100 * kMs);
}

TEST_F(LinkModelTest, OwnedAndCopiedWritesArriveInOrderAtMostADeliverysWorthAtATime) {
  Connect();
  std::vector<size_t> reads;
  std::string received;
  RecordReads(&reads, &received);
  std::string big(MemoryNetwork::kChunkSize + 34464, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13 + i / 251);
  const Bytes big_bytes(big.begin(), big.end());
  ASSERT_TRUE(dialed_->WriteOwned(big_bytes).ok());
  ASSERT_TRUE(dialed_->Write(AsBytes("copied")).ok());
  ASSERT_TRUE(dialed_->WriteOwned(Bytes{'o', 'w', 'n'}).ok());
  TimeUntil([&] { return received.size() == big.size() + 9; });
  EXPECT_TRUE(received == big + "copiedown");
  // One delivery takes at most kChunkSize; each write goes up where it lies, what is left of the large one
  // in the delivery with the writes behind it.
  EXPECT_EQ(reads, (std::vector<size_t>{MemoryNetwork::kChunkSize, 34464, 6, 3}));
  EXPECT_EQ(network_.TrafficOf("10.0.0.1").bytes_sent, big.size() + 9);

  // A write alone arrives as it was written, whether given or copied.
  reads.clear();
  received.clear();
  ASSERT_TRUE(dialed_->WriteOwned(Bytes{'a', 'b'}).ok());
  TimeUntil([&] { return received.size() == 2; });
  ASSERT_TRUE(dialed_->Write(AsBytes("cde")).ok());
  TimeUntil([&] { return received.size() == 5; });
  EXPECT_EQ(received, "abcde");
  EXPECT_EQ(reads, (std::vector<size_t>{2, 3}));
}

TEST_F(MemoryTransportTest, AnOwnedWriteObeysTheHardLimit) {
  ConnectPair();
  EXPECT_EQ(dialed_->WriteOwned(Bytes(64 * 1024 + 1, 1)).code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(dialed_->Write(AsBytes("x")).ok());
}

// A write of more than one delivery's worth is read where it lies, a delivery's worth at a time, the last
// part delivered with the writes behind it.
TEST_F(LinkModelTest, AWriteOfSeveralReadsArrivesWholeInReadSizedParts) {
  Connect();
  std::vector<size_t> reads;
  std::string received;
  RecordReads(&reads, &received);
  std::string big(2 * MemoryNetwork::kChunkSize + 1000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 509);
  ASSERT_TRUE(dialed_->WriteOwned(Bytes(big.begin(), big.end())).ok());
  ASSERT_TRUE(dialed_->Write(AsBytes("after")).ok());
  TimeUntil([&] { return received.size() == big.size() + 5; });
  EXPECT_TRUE(received == big + "after");
  EXPECT_EQ(reads, (std::vector<size_t>{MemoryNetwork::kChunkSize, MemoryNetwork::kChunkSize, 1000, 5}));
}

// A write with a shared buffer spliced in reaches the reader in pieces, the shared bytes as views of the
// shared buffer itself (not copied), a delivery's worth at a time; the buffer is let go once all is read.
TEST_F(LinkModelTest, ASplicedWriteIsReadWhereItsPiecesLie) {
  Connect();
  std::string received;
  size_t in_place = 0;
  std::vector<size_t> reads;
  auto shared = std::make_shared<const Bytes>(Bytes(MemoryNetwork::kChunkSize + 1000, 's'));
  const ByteSpan shared_bytes(*shared);
  accepted_->SetHandlers(Stream::Handlers{[&](ByteSpan b) {
                                            reads.push_back(b.size());
                                            received += AsStringView(b);
                                            if (b.data() >= shared_bytes.data() &&
                                                b.data() + b.size() <= shared_bytes.data() + shared_bytes.size()) {
                                              in_place += b.size();
                                            }
                                          },
                                          {}, {}, {}});
  SplicedBytes write(ToBytes("<>"), {{1, ByteSpan(*shared), shared}});
  ASSERT_TRUE(dialed_->WriteSpliced(std::move(write)).ok());
  ASSERT_TRUE(dialed_->Write(AsBytes("after")).ok());
  const std::weak_ptr<const Bytes> watch = shared;
  const std::string expected = "<" + ToString(*shared) + ">after";
  shared.reset();
  TimeUntil([&] { return received.size() == expected.size(); });
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(in_place, MemoryNetwork::kChunkSize + 1000);
  // "<" and most of the shared bytes fill the first delivery; the rest of them, ">" and "after" the second.
  EXPECT_EQ(reads, (std::vector<size_t>{1, MemoryNetwork::kChunkSize - 1, 1001, 1, 5}));
  EXPECT_TRUE(watch.expired());
}

// A reader that resets its end while reading a part of a large write loses the rest; the part it was
// handed stays readable until it returns (ASan would report a read of freed bytes).
TEST_F(LinkModelTest, AReaderThatResetsWhileReadingPartOfALargeWriteLosesTheRest) {
  Connect();
  std::vector<size_t> reads;
  accepted_->SetHandlers(Stream::Handlers{[&](ByteSpan b) {
                                            reads.push_back(b.size());
                                            accepted_->Reset();
                                            EXPECT_EQ(std::count(b.begin(), b.end(), 'z'), static_cast<long>(b.size()));
                                          },
                                          {}, {}, {}});
  ASSERT_TRUE(dialed_->Write(Bytes(3 * MemoryNetwork::kChunkSize, 'z')).ok());
  loop_.AdvanceTime(100 * kMs);
  EXPECT_EQ(reads, std::vector<size_t>{MemoryNetwork::kChunkSize});
  EXPECT_TRUE(a_.errored);  // The writer heard of the reset.
}

TEST_F(LinkModelTest, TrafficIsCountedPerAddress) {
  Connect();
  ASSERT_TRUE(dialed_->Write(Bytes(300, 'x')).ok());
  ASSERT_TRUE(accepted_->Write(Bytes(20, 'y')).ok());
  EXPECT_EQ(network_.TrafficOf("10.0.0.1").bytes_sent, 300u);
  EXPECT_EQ(network_.TrafficOf("10.0.0.1").bytes_received, 20u);
  EXPECT_EQ(network_.TrafficOf("10.0.0.2").bytes_received, 300u);
  EXPECT_EQ(network_.TrafficOf("10.0.0.9").bytes_sent, 0u);
}

TEST_F(LinkModelTest, APartitionCutsConnectionsAcrossItAndRefusesDialsUntilHealed) {
  Connect();
  network_.Partition({"10.0.0.2"});
  ASSERT_TRUE(dialed_->Write(AsBytes("lost")).ok());  // Into the void, as on a cut cable.
  loop_.AdvanceTime(std::chrono::seconds(1));
  EXPECT_TRUE(b_.data.empty());
  EXPECT_FALSE(b_.errored);

  dialed_.reset();
  accepted_.reset();
  dial_ = a_transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
    dial_status_ = c.status();
  });
  loop_.AdvanceTime(10 * kMs);
  EXPECT_EQ(dial_status_.code(), StatusCode::kUnavailable);
  EXPECT_NE(dial_status_.message().find("partitioned"), std::string::npos);

  network_.Heal();
  Connect();
  ASSERT_TRUE(dialed_->Write(AsBytes("back")).ok());
  loop_.AdvanceTime(10 * kMs);
  EXPECT_EQ(b_.data, "back");
}

// Jitter from a seed: deliveries are late by a seeded amount, a connection's bytes keep their order, and the
// same seed gives the same times.
std::vector<Duration> ArrivalTimesWithJitter(uint64_t seed) {
  ManualEventLoop loop;
  LinkModel model;
  model.latency = [](Ipv4, Ipv4) { return std::chrono::milliseconds(5); };
  model.jitter = std::chrono::milliseconds(20);
  model.seed = seed;
  MemoryNetwork network(&loop, WriteLimits{}, model);
  auto transport = network.CreateTransport("10.0.0.1");
  std::unique_ptr<RawConnection> dialed, accepted;
  auto listener = transport->Listen(*Multiaddr::FromString("/ip4/10.0.0.1/tcp/0"),
                                    [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  auto dial = transport->Dial((*listener)->listen_addr(),
                              [&](StatusOr<std::unique_ptr<RawConnection>> c) { dialed = std::move(c).value(); });
  loop.AdvanceTime(std::chrono::milliseconds(5));
  Recorder reader;
  reader.Attach(accepted.get());
  const MonoTime start = loop.Now();
  for (char c = 'a'; c < 'k'; ++c) EXPECT_TRUE(dialed->Write(Bytes(1, static_cast<uint8_t>(c))).ok());
  std::vector<Duration> times;
  while (reader.data.size() < 10 && loop.AdvanceToNextTimer()) {
    times.resize(reader.data.size(), loop.Now() - start);
  }
  EXPECT_EQ(reader.data, "abcdefghij");
  return times;
}

TEST(LinkModelJitterTest, JitterIsSeededAndKeepsOrder) {
  const std::vector<Duration> first = ArrivalTimesWithJitter(7);
  ASSERT_EQ(first.size(), 10u);
  EXPECT_EQ(ArrivalTimesWithJitter(7), first);
  EXPECT_NE(ArrivalTimesWithJitter(8), first);
  for (Duration t : first) {
    EXPECT_GE(t, std::chrono::milliseconds(5));
    EXPECT_LE(t, std::chrono::milliseconds(25));
  }
}

// Two shards driven in turn on the test's thread, as a simulation's threads would run them: 10.0.0.1 on shard
// 0, every other address on shard 1; 10 ms between any two addresses; the lookahead is 10 ms.
class ShardedNetworkTest : public ::testing::Test {
 protected:
  static constexpr Duration kMs = std::chrono::milliseconds(1);

  static Sharding TwoShards(ManualEventLoop* a, ManualEventLoop* b) {
    return Sharding{{a, b}, [](Ipv4 ip) -> size_t { return ip == 0x0a000001 ? 0 : 1; }, 10 * kMs};
  }
  static LinkModel Model(Duration latency) {
    LinkModel model;
    model.latency = [latency](Ipv4, Ipv4) { return latency; };
    return model;
  }

  // Runs both shards 1 ms at a time (each up to the same instant, then both begin their next window) for `d`.
  void Run(Duration d) {
    for (Duration t = Duration::zero(); t < d; t += kMs) {
      loop0_.AdvanceTime(kMs);
      loop1_.AdvanceTime(kMs);
      network_.BeginWindow(0);
      network_.BeginWindow(1);
    }
  }
  // Runs until `done()` holds (at most 1 s) and returns how long that took.
  Duration TimeUntil(const std::function<bool()>& done) {
    const MonoTime start = loop0_.Now();
    for (int i = 0; i < 1000 && !done(); ++i) Run(kMs);
    return loop0_.Now() - start;
  }

  // Listens on `listen_ip`, dials it from `dial_ip`, and attaches the recorders.
  void Connect(const std::string& dial_ip, const std::string& listen_ip) {
    dialer_ = network_.CreateTransport(dial_ip);
    listening_ = network_.CreateTransport(listen_ip);
    auto listener = listening_->Listen(*Multiaddr::FromString("/ip4/" + listen_ip + "/tcp/4001"),
                                       [this](std::unique_ptr<RawConnection> c) {
                                         accepted_ = std::move(c);
                                         accepted_at_ = loop1_.Now();
                                         b_.Attach(accepted_.get());
                                       });
    ASSERT_TRUE(listener.ok());
    listener_ = std::move(listener).value();
    dial_ = dialer_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      dial_status_ = c.status();
      if (!c.ok()) return;
      dialed_ = std::move(c).value();
      a_.Attach(dialed_.get());
    });
  }

  ManualEventLoop loop0_, loop1_;
  MemoryNetwork network_{TwoShards(&loop0_, &loop1_), WriteLimits{1024, 256, 64 * 1024}, Model(10 * kMs)};
  std::unique_ptr<Transport> dialer_, listening_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  Status dial_status_;
  std::unique_ptr<RawConnection> dialed_, accepted_;
  MonoTime accepted_at_;
  Recorder a_, b_;
};

TEST_F(ShardedNetworkTest, ADialTakesARoundTripAndBytesCrossAfterTheirLatency) {
  const MonoTime start = loop0_.Now();
  Connect("10.0.0.1", "10.0.0.2");
  EXPECT_EQ(TimeUntil([&] { return dialed_ != nullptr; }), 20 * kMs);
  ASSERT_NE(accepted_, nullptr);
  EXPECT_EQ(accepted_at_ - start, 10 * kMs);  // The listener accepts when the dial reaches it.
  EXPECT_EQ(dialed_->remote_addr(), listener_->listen_addr());
  EXPECT_EQ(accepted_->remote_addr(), dialed_->local_addr());

  ASSERT_TRUE(dialed_->Write(AsBytes("hello")).ok());
  ASSERT_TRUE(accepted_->Write(AsBytes("back")).ok());
  EXPECT_EQ(TimeUntil([&] { return b_.data == "hello" && a_.data == "back"; }), 10 * kMs);
  EXPECT_EQ(network_.TrafficOf("10.0.0.1").bytes_sent, 5u);
  EXPECT_EQ(network_.TrafficOf("10.0.0.1").bytes_received, 4u);
  EXPECT_EQ(network_.TrafficOf("10.0.0.2").bytes_received, 5u);
}

TEST_F(ShardedNetworkTest, ADialWithinAShardAlsoTakesARoundTrip) {
  Connect("10.0.0.3", "10.0.0.2");
  EXPECT_EQ(TimeUntil([&] { return dialed_ != nullptr; }), 20 * kMs);
  ASSERT_TRUE(dialed_->Write(AsBytes("near")).ok());
  EXPECT_EQ(TimeUntil([&] { return b_.data == "near"; }), 10 * kMs);
}

TEST_F(ShardedNetworkTest, ARefusedDialFailsAfterARoundTrip) {
  dialer_ = network_.CreateTransport("10.0.0.1");
  dial_ = dialer_->Dial(*Multiaddr::FromString("/ip4/10.0.0.2/tcp/4001"),
                        [this](StatusOr<std::unique_ptr<RawConnection>> c) { dial_status_ = c.status(); });
  EXPECT_EQ(TimeUntil([&] { return !dial_status_.ok(); }), 20 * kMs);
  EXPECT_EQ(dial_status_.code(), StatusCode::kUnavailable);
  EXPECT_NE(dial_status_.message().find("refused"), std::string::npos);
}

TEST_F(ShardedNetworkTest, ACancelledDialResetsTheListenersEnd) {
  Connect("10.0.0.1", "10.0.0.2");
  Run(15 * kMs);  // Accepted; the answer is on its way back.
  ASSERT_NE(accepted_, nullptr);
  // The dialer's end, made when the answer reached its shard, is reset; the listener's end hears of it one
  // latency later.
  dial_.reset();
  EXPECT_EQ(TimeUntil([&] { return b_.errored; }), 10 * kMs);
  EXPECT_EQ(dialed_, nullptr);
}

TEST_F(ShardedNetworkTest, ASlowReaderOnAnotherShardBlocksTheWriterUntilItsAcksReturn) {
  Connect("10.0.0.1", "10.0.0.2");
  TimeUntil([&] { return dialed_ != nullptr; });
  accepted_->PauseReading(true);
  ASSERT_TRUE(dialed_->Write(Bytes(1024, 'x')).ok());  // The high-water mark.
  EXPECT_TRUE(dialed_->write_blocked());
  Run(100 * kMs);
  EXPECT_TRUE(b_.data.empty());
  EXPECT_TRUE(dialed_->write_blocked());
  EXPECT_EQ(dialed_->buffered_bytes(), 1024u);
  accepted_->PauseReading(false);
  // Read at once; the writer hears of it one latency later.
  EXPECT_EQ(TimeUntil([&] { return a_.writable > 0; }), 10 * kMs);
  EXPECT_EQ(b_.data.size(), 1024u);
  EXPECT_FALSE(dialed_->write_blocked());
  EXPECT_EQ(dialed_->buffered_bytes(), 0u);
}

TEST_F(ShardedNetworkTest, AClosedEndDeliversItsBytesThenTheEndOfStream) {
  Connect("10.0.0.1", "10.0.0.2");
  TimeUntil([&] { return dialed_ != nullptr; });
  ASSERT_TRUE(dialed_->Write(AsBytes("last words")).ok());
  dialed_.reset();
  EXPECT_EQ(TimeUntil([&] { return b_.eof; }), 10 * kMs);
  EXPECT_EQ(b_.data, "last words");
  EXPECT_FALSE(b_.errored);
  // The closed end is gone: writing to it fails.
  EXPECT_EQ(accepted_->Write(AsBytes("anyone?")).code(), StatusCode::kUnavailable);
}

TEST_F(ShardedNetworkTest, AResetDropsWhatWasNotReadAndErrsTheOtherEnd) {
  Connect("10.0.0.1", "10.0.0.2");
  TimeUntil([&] { return dialed_ != nullptr; });
  accepted_->PauseReading(true);
  ASSERT_TRUE(dialed_->Write(AsBytes("unread")).ok());
  Run(20 * kMs);
  dialed_->Reset();
  Run(kMs);  // The other shard's next window brings it the reset.
  accepted_->PauseReading(false);
  EXPECT_EQ(TimeUntil([&] { return b_.errored; }), 9 * kMs);
  EXPECT_TRUE(b_.data.empty());
  EXPECT_FALSE(b_.eof);
}

TEST_F(ShardedNetworkTest, ALatencyBetweenShardsBelowTheLookaheadIsRaisedToIt) {
  ManualEventLoop loop0, loop1;
  MemoryNetwork network(TwoShards(&loop0, &loop1), WriteLimits{}, Model(kMs));
  auto near = network.CreateTransport("10.0.0.2");
  auto far = network.CreateTransport("10.0.0.1");
  std::unique_ptr<RawConnection> accepted;
  auto listener = near->Listen(*Multiaddr::FromString("/ip4/10.0.0.2/tcp/1"),
                               [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  ASSERT_TRUE(listener.ok());
  auto from_near = near->Dial((*listener)->listen_addr(), [](StatusOr<std::unique_ptr<RawConnection>>) {});
  auto from_far = far->Dial((*listener)->listen_addr(), [](StatusOr<std::unique_ptr<RawConnection>>) {});
  // Within shard 1 the dial reaches the listener after 1 ms; from shard 0 after 10.
  loop0.AdvanceTime(kMs);
  loop1.AdvanceTime(kMs);
  network.BeginWindow(0);
  network.BeginWindow(1);
  EXPECT_NE(accepted, nullptr);
  accepted.reset();
  for (int i = 0; i < 8; ++i) {
    loop0.AdvanceTime(kMs);
    loop1.AdvanceTime(kMs);
    network.BeginWindow(0);
    network.BeginWindow(1);
  }
  EXPECT_EQ(accepted, nullptr);
  loop0.AdvanceTime(kMs);
  loop1.AdvanceTime(kMs);
  EXPECT_NE(accepted, nullptr);
}

// With ten windows per lookahead (of 1 ms each), shard 0 runs a whole lookahead ahead of shard 1, as a
// simulation's faster thread may. Bytes it writes meanwhile still arrive one latency after the write; a reset,
// which has no arrival time of its own, takes effect when shard 1 begins the tenth window after the one it
// was sent in (with one window per lookahead: the next one).
TEST_F(ShardedNetworkTest, AShardMayRunALookaheadAheadWithSeveralWindowsPerLookahead) {
  ManualEventLoop loop0, loop1;
  Sharding sharding = TwoShards(&loop0, &loop1);
  sharding.windows_per_lookahead = 10;
  MemoryNetwork network(std::move(sharding), WriteLimits{}, Model(10 * kMs));
  ASSERT_EQ(network.windows_per_lookahead(), 10u);
  auto window = [&](size_t shard) {
    network.BeginWindow(shard);
    (shard == 0 ? loop0 : loop1).AdvanceTime(kMs);
  };
  auto far = network.CreateTransport("10.0.0.1");
  auto near = network.CreateTransport("10.0.0.2");
  std::unique_ptr<RawConnection> dialed, accepted;
  Recorder a, b;
  auto listener = near->Listen(*Multiaddr::FromString("/ip4/10.0.0.2/tcp/1"), [&](std::unique_ptr<RawConnection> c) {
    accepted = std::move(c);
    b.Attach(accepted.get());
  });
  ASSERT_TRUE(listener.ok());
  auto dial = far->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    ASSERT_TRUE(c.ok());
    dialed = std::move(c).value();
    a.Attach(dialed.get());
  });
  // In step, the dial still takes a round trip.
  for (int ms = 0; ms < 20; ++ms) {
    window(0);
    window(1);
  }
  ASSERT_NE(dialed, nullptr);
  ASSERT_NE(accepted, nullptr);

  const MonoTime written = loop0.Now();
  ASSERT_TRUE(dialed->Write(AsBytes("ahead")).ok());
  for (int ms = 0; ms < 10; ++ms) window(0);  // As far ahead as shard 1's finished windows allow.
  EXPECT_EQ(loop0.Now() - loop1.Now(), 10 * kMs);
  EXPECT_TRUE(b.data.empty());
  while (b.data.empty() && loop1.Now() - written < 20 * kMs) window(1);
  EXPECT_EQ(b.data, "ahead");
  EXPECT_EQ(loop1.Now() - written, 10 * kMs);

  // Shard 1 catches up; then shard 0 resets its end and runs ahead again.
  ASSERT_EQ(loop1.Now(), loop0.Now());
  dialed->Reset();
  for (int ms = 0; ms < 10; ++ms) window(0);
  for (int ms = 0; ms < 9; ++ms) window(1);
  EXPECT_FALSE(b.errored);
  window(1);  // The tenth window after the one the reset was sent in.
  EXPECT_TRUE(b.errored);
}

TEST_F(ShardedNetworkTest, APartitionCutsConnectionsBetweenShardsAndRefusesDialsAcross) {
  Connect("10.0.0.1", "10.0.0.2");
  TimeUntil([&] { return dialed_ != nullptr; });
  network_.Partition({"10.0.0.1"});
  ASSERT_TRUE(dialed_->Write(AsBytes("lost")).ok());
  Run(100 * kMs);
  EXPECT_TRUE(b_.data.empty());
  EXPECT_FALSE(b_.errored);
  auto again = dialer_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { dial_status_ = c.status(); });
  EXPECT_EQ(TimeUntil([&] { return !dial_status_.ok(); }), 20 * kMs);
  EXPECT_NE(dial_status_.message().find("partitioned"), std::string::npos);
}

TEST(Ipv4Test, ParsesAndFormats) {
  EXPECT_EQ(*ParseIpv4("10.1.2.3"), 0x0a010203u);
  EXPECT_EQ(FormatIpv4(0xc0a80001), "192.168.0.1");
  EXPECT_FALSE(ParseIpv4("10.1.2").ok());
  EXPECT_FALSE(ParseIpv4("not an address").ok());
}

}  // namespace
}  // namespace libp2p::stream
