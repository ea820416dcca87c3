// The remote tracer against the collector, two hosts on the in-memory network and virtual time: batching
// (16 events or a second), order, the bounded lossy buffer, reconnecting after failures with a new gzip
// stream, a collector that stops reading, and a clean close.
#include "libp2p/pubsub/trace/remote_tracer.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/trace/test_tools/recording_sink.h"
#include "libp2p/pubsub/trace/trace_collector.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::trace {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tracepb::TraceEvent;

struct TestHost {
  TestHost(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed)
      : key(*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }
  crypto::Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
};

TraceEvent Event(int64_t n, const std::string& topic = "t") {
  TraceEvent e;
  e.set_type(TraceEvent::JOIN);
  e.set_peerid("node");
  e.set_timestamp(n);
  e.mutable_join()->set_topic(topic);
  return e;
}

std::vector<int64_t> Timestamps(const std::vector<TraceEvent>& events) {
  std::vector<int64_t> out;
  for (const TraceEvent& e : events) out.push_back(e.timestamp());
  return out;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

class RemoteTracerTest : public ::testing::Test {
 protected:
  std::unique_ptr<RemoteTracer> MakeTracer(RemoteTracerOptions options = {}) {
    auto t =
        std::make_unique<RemoteTracer>(collector_host_.host->peer_id(), collector_host_.host->listen_addrs(), options);
    t->Start(node_.host.get());
    return t;
  }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  TestHost node_{&loop_, &net_, "node"};
  TestHost collector_host_{&loop_, &net_, "collector"};
  RecordingSink received_;
  std::unique_ptr<TraceCollector> collector_ = std::make_unique<TraceCollector>(collector_host_.host.get(), &received_);
};

TEST_F(RemoteTracerTest, SixteenEventsGoAtOnceInOrder) {
  auto tracer = MakeTracer();
  for (int i = 0; i < 16; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();  // Dial, open the stream, send.
  EXPECT_TRUE(tracer->connected());
  EXPECT_EQ(Timestamps(received_.events), Range(0, 16));
  EXPECT_EQ(tracer->stats().batches_sent, 1u);
  EXPECT_EQ(tracer->stats().events_sent, 16u);
  EXPECT_EQ(tracer->stats().streams_opened, 1u);
  EXPECT_EQ(collector_->stats().batches, 1u);
  EXPECT_EQ(tracer->buffered_events(), 0u);

  // Once connected, the 16th event of a loop turn sends the turn's events as one batch.
  for (int i = 16; i < 40; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  EXPECT_EQ(Timestamps(received_.events), Range(0, 40));
  EXPECT_EQ(tracer->stats().batches_sent, 2u);
}

TEST_F(RemoteTracerTest, AFewEventsWaitASecond) {
  auto tracer = MakeTracer();
  loop_.RunUntilIdle();
  ASSERT_TRUE(tracer->connected());
  for (int i = 0; i < 3; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  loop_.AdvanceTime(milliseconds(999));
  EXPECT_TRUE(received_.events.empty());
  loop_.AdvanceTime(milliseconds(1));
  EXPECT_EQ(Timestamps(received_.events), Range(0, 3));
  // Flush() sends at once.
  tracer->Write(Event(3));
  tracer->Flush();
  loop_.RunUntilIdle();
  EXPECT_EQ(Timestamps(received_.events), Range(0, 4));
}

// Beyond the buffer's bound new events are dropped and counted; the kept ones still arrive, in order.
TEST_F(RemoteTracerTest, AFullBufferDropsNewEvents) {
  RemoteTracerOptions o;
  o.max_buffered_events = 10;
  auto tracer = MakeTracer(o);
  for (int i = 0; i < 15; ++i) tracer->Write(Event(i));  // Not connected yet.
  EXPECT_EQ(tracer->buffered_events(), 10u);
  EXPECT_EQ(tracer->stats().events_dropped, 5u);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(Timestamps(received_.events), Range(0, 10));

  // A byte bound too, and an event larger than a batch is never kept.
  RemoteTracerOptions small;
  small.max_buffered_bytes = 100;
  small.max_batch_bytes = 60;
  auto bounded = MakeTracer(small);
  bounded->Write(Event(0, std::string(100, 'x')));
  EXPECT_EQ(bounded->stats().events_dropped, 1u);
  const size_t record = Event(1).ByteSizeLong() + 2;  // As a batch's field.
  const size_t fit = 100 / record;
  for (size_t i = 1; i <= fit + 1; ++i) bounded->Write(Event(static_cast<int64_t>(i)));
  EXPECT_EQ(bounded->stats().events_dropped, 2u);
  EXPECT_EQ(bounded->buffered_events(), fit);
}

// A collector host that does not speak the protocol refuses the stream; the tracer tries again after the
// delay, keeping the events meanwhile, and once a collector runs it gets them in a new stream.
TEST_F(RemoteTracerTest, RetriesAfterARefusedStream) {
  collector_.reset();
  RemoteTracerOptions o;
  o.reconnect_delay = seconds(5);
  auto tracer = MakeTracer(o);
  for (int i = 0; i < 20; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  EXPECT_FALSE(tracer->connected());
  EXPECT_EQ(tracer->stats().failures, 1u);
  EXPECT_FALSE(tracer->last_error().ok());
  collector_ = std::make_unique<TraceCollector>(collector_host_.host.get(), &received_);
  loop_.AdvanceTime(seconds(4));
  EXPECT_TRUE(received_.events.empty());
  loop_.AdvanceTime(seconds(1));
  EXPECT_TRUE(tracer->connected());
  EXPECT_EQ(Timestamps(received_.events), Range(0, 20));
}

// The collector goes away mid-stream: the tracer notices, keeps buffering, reconnects after the delay and
// starts a new gzip stream, which the new collector reads from its start.
TEST_F(RemoteTracerTest, ReconnectsWithANewGzipStream) {
  RemoteTracerOptions o;
  o.reconnect_delay = seconds(10);
  auto tracer = MakeTracer(o);
  for (int i = 0; i < 16; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  ASSERT_EQ(received_.events.size(), 16u);

  collector_.reset();  // Resets its streams.
  loop_.RunUntilIdle();
  EXPECT_FALSE(tracer->connected());
  for (int i = 16; i < 40; ++i) tracer->Write(Event(i));
  RecordingSink second;
  collector_ = std::make_unique<TraceCollector>(collector_host_.host.get(), &second);
  loop_.AdvanceTime(seconds(10));
  EXPECT_TRUE(tracer->connected());
  EXPECT_EQ(Timestamps(second.events), Range(16, 40));
  EXPECT_EQ(tracer->stats().streams_opened, 2u);
  EXPECT_EQ(collector_->stats().streams_failed, 0u);
}

// Dialing: a dial that brings no connection (nothing listens there) is retried after the delay, with the
// next address.
TEST_F(RemoteTracerTest, DialsTheNextAddressAfterAFailedOne) {
  RemoteTracerOptions o;
  o.reconnect_delay = seconds(3);
  std::vector<Multiaddr> addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/1"),
                                  collector_host_.host->listen_addrs()[0]};
  RemoteTracer tracer(collector_host_.host->peer_id(), addrs, o);
  tracer.Write(Event(0));  // Before Start: it waits.
  tracer.Start(node_.host.get());
  loop_.RunUntilIdle();
  EXPECT_FALSE(tracer.connected());
  loop_.AdvanceTime(seconds(3));
  EXPECT_TRUE(tracer.connected());
  EXPECT_EQ(tracer.stats().failures, 1u);
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(Timestamps(received_.events), Range(0, 1));
}

// A collector that stops reading: the stream's buffers fill, the tracer stops writing (never blocking the
// loop), its buffer fills and drops new events; when reading resumes, every event not dropped arrives, in
// order.
TEST_F(RemoteTracerTest, ACollectorThatStopsReadingLosesEventsNotOrder) {
  collector_.reset();
  std::unique_ptr<stream::Stream> held;
  collector_host_.host->SetStreamHandler(
      std::string(kRemoteTracerProtocol),
      [&](std::unique_ptr<stream::Stream> s, const crypto::PeerId&, const std::string&) {
        s->PauseReading(true);
        held = std::move(s);
      });
  RemoteTracerOptions o;
  o.max_buffered_events = 100;
  o.max_batch_bytes = 64 * 1024;
  auto tracer = MakeTracer(o);
  loop_.RunUntilIdle();
  ASSERT_TRUE(tracer->connected());
  ASSERT_NE(held, nullptr);

  std::mt19937 rng(7);
  std::string noise(1000, '\0');  // Incompressible topics: 1 KB an event on the wire too.
  const int kEvents = 3000;
  for (int i = 0; i < kEvents; ++i) {
    for (char& c : noise) c = static_cast<char>(rng());
    tracer->Write(Event(i, noise));
    if (i % 50 == 49) loop_.RunUntilIdle();
  }
  loop_.RunUntilIdle();
  const uint64_t dropped = tracer->stats().events_dropped;
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(tracer->buffered_events(), 100u);

  TraceBatchDecoder decoder([&](const tracepb::TraceEventBatch& b) {
    for (const TraceEvent& e : b.batch()) received_.Write(e);
  });
  held->SetHandlers(
      {[&](ByteSpan data) { ASSERT_TRUE(decoder.Feed(AsStringView(data)).ok()); }, [] {}, [](const Status&) {}, [] {}});
  held->PauseReading(false);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(received_.events.size() + dropped, static_cast<size_t>(kEvents));
  // As go's: the oldest events wait and the newest are dropped, so what arrives is a prefix.
  const size_t kept = received_.events.size();
  EXPECT_EQ(Timestamps(received_.events), Range(0, static_cast<int64_t>(kept)));
  // Back to normal once the collector reads.
  for (int i = kEvents; i < kEvents + 16; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  ASSERT_EQ(received_.events.size(), kept + 16);
  EXPECT_EQ(received_.events.back().timestamp(), kEvents + 15);
  tracer.reset();
  held.reset();
}

// Close() sends what is left and ends the gzip stream and our side; the collector then closes its reader.
TEST_F(RemoteTracerTest, CloseEndsTheStreamCleanly) {
  auto tracer = MakeTracer();
  loop_.RunUntilIdle();
  for (int i = 0; i < 5; ++i) tracer->Write(Event(i));
  tracer->Close();
  tracer->Write(Event(5));
  EXPECT_EQ(tracer->stats().events_dropped, 1u);
  loop_.RunUntilIdle();
  EXPECT_EQ(Timestamps(received_.events), Range(0, 5));
  EXPECT_EQ(collector_->open_streams(), 0u);
  EXPECT_EQ(collector_->stats().streams_failed, 0u);
  tracer.reset();
  loop_.RunUntilIdle();
}

// Destroying the tracer while it connects cancels everything it started.
TEST_F(RemoteTracerTest, DestroyedWhileConnecting) {
  auto tracer = MakeTracer();
  tracer->Write(Event(0));
  loop_.RunUntilIdle();
  tracer.reset();
  auto again = MakeTracer();
  again.reset();
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(120));
  SUCCEED();
}

// Stop() lets go of the host: the stream is reset, nothing runs later, and events are dropped.
TEST_F(RemoteTracerTest, StopLetsGoOfTheHost) {
  auto tracer = MakeTracer();
  for (int i = 0; i < 16; ++i) tracer->Write(Event(i));
  loop_.RunUntilIdle();
  ASSERT_TRUE(tracer->connected());
  tracer->Write(Event(16));
  tracer->Stop();
  EXPECT_FALSE(tracer->connected());
  EXPECT_EQ(tracer->stats().events_dropped, 1u);
  tracer->Write(Event(17));
  EXPECT_EQ(tracer->stats().events_dropped, 2u);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(120));
  EXPECT_EQ(received_.events.size(), 16u);
  EXPECT_EQ(collector_->open_streams(), 0u);  // The reset reached it.
  tracer->Start(node_.host.get());            // Ignored after Stop.
  loop_.AdvanceTime(seconds(120));
  EXPECT_FALSE(tracer->connected());
}

// The collector resets a stream that sends anything but the format.
TEST_F(RemoteTracerTest, CollectorResetsAStreamOfGarbage) {
  std::unique_ptr<stream::Stream> s;
  node_.host->Dial(collector_host_.host->listen_addrs()[0], [](auto) {});
  loop_.RunUntilIdle();
  node_.host->NewStream(collector_host_.host->peer_id(), {std::string(kRemoteTracerProtocol)},
                        [&](StatusOr<std::unique_ptr<stream::Stream>> r, const std::string&) {
                          ASSERT_TRUE(r.ok());
                          s = std::move(r).value();
                        });
  loop_.RunUntilIdle();
  ASSERT_NE(s, nullptr);
  bool reset = false;
  s->SetHandlers({[](ByteSpan) {}, [] {}, [&](const Status&) { reset = true; }, [] {}});
  ASSERT_TRUE(s->Write(AsBytes("this is not gzip")).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(reset);
  EXPECT_EQ(collector_->stats().streams_failed, 1u);
  EXPECT_EQ(collector_->open_streams(), 0u);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
