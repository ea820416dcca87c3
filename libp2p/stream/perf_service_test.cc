#include "libp2p/stream/perf_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct TestHost {
  TestHost(ManualEventLoop* loop, MemoryNetwork* network, std::string_view seed, const std::string& muxer)
      : key(*Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))), transport(network->CreateTransport()) {
    HostOptions options;
    options.identity = &key;
    options.muxers = {muxer};
    host = std::make_unique<Host>(loop, transport.get(), options);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }
  Multiaddr Addr() const {
    return *Multiaddr::FromString(host->listen_addrs()[0].ToString() + "/p2p/" + host->peer_id().ToBase58());
  }
  Ed25519PrivateKey key;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Host> host;
};

// A measurement's outcome.
struct Outcome {
  int calls = 0;
  StatusOr<PerfResult> result = CancelledError("unset");
  PerfClient::Callback Callback() {
    return [this](StatusOr<PerfResult> r) {
      ++calls;
      result = std::move(r);
    };
  }
};

class PerfServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    client_.host->Dial(server_.Addr(), [](StatusOr<PeerId>) {});
    Settle();
    ASSERT_TRUE(client_.host->IsConnected(server_.host->peer_id()));
  }
  void Settle() { loop_.AdvanceTime(seconds(1)); }
  std::unique_ptr<PerfRun> Run(PerfRequest request, Outcome* outcome, PerfClientOptions options = {}) {
    return PerfRun::Start(client_.host.get(), server_.host->peer_id(), request, options, outcome->Callback());
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{}, milliseconds(2)};
  TestHost client_{&loop_, &network_, "client", GetParam()};
  TestHost server_{&loop_, &network_, "server", GetParam()};
};

TEST_P(PerfServiceTest, MeasuresBothWaysAndTheServerCounts) {
  PerfServer perf(server_.host.get());
  const std::vector<std::string> protocols = server_.host->protocols();
  EXPECT_NE(std::find(protocols.begin(), protocols.end(), "/perf/1.0.0"), protocols.end());
  for (int i = 0; i < 2; ++i) {  // Twice on the same connection: the first stream ended cleanly.
    Outcome outcome;
    auto run = Run({.upload_bytes = 300 * 1024, .download_bytes = 5 * 1024 * 1024 + 1}, &outcome);
    loop_.AdvanceTime(seconds(10));
    ASSERT_EQ(outcome.calls, 1);
    ASSERT_TRUE(outcome.result.ok()) << outcome.result.status().ToString();
    EXPECT_EQ(outcome.result->uploaded, 300u * 1024);
    EXPECT_EQ(outcome.result->downloaded, 5u * 1024 * 1024 + 1);
    EXPECT_GT(outcome.result->upload_time, Duration::zero());
    EXPECT_GT(outcome.result->download_time, Duration::zero());
  }
  EXPECT_EQ(perf.stats().completed, 2u);
  EXPECT_EQ(perf.stats().failed, 0u);
  EXPECT_EQ(perf.stats().bytes_received, 2u * 300 * 1024);
  EXPECT_EQ(perf.stats().bytes_sent, 2u * (5 * 1024 * 1024 + 1));
  EXPECT_EQ(perf.active_streams(), 0u);
  EXPECT_TRUE(client_.host->IsConnected(server_.host->peer_id()));
}

TEST_P(PerfServiceTest, PeerWithoutAServerIsNotFound) {
  Outcome outcome;
  auto run = Run({.upload_bytes = 1, .download_bytes = 1}, &outcome);
  Settle();
  ASSERT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.result.status().code(), StatusCode::kNotFound);
}

TEST_P(PerfServiceTest, RemovedWithTheServer) {
  { PerfServer perf(server_.host.get()); }
  const std::vector<std::string> protocols = server_.host->protocols();
  EXPECT_EQ(std::find(protocols.begin(), protocols.end(), "/perf/1.0.0"), protocols.end());
}

TEST_P(PerfServiceTest, RequestOverTheCapFailsTheRun) {
  PerfServer perf(server_.host.get(), {.responder = {.max_send_bytes = 1 << 20}});
  Outcome outcome;
  auto run = Run({.upload_bytes = 10, .download_bytes = (1 << 20) + 1}, &outcome);
  Settle();
  ASSERT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.result.status().code(), StatusCode::kUnavailable);  // The server reset the stream.
  EXPECT_EQ(perf.stats().failed, 1u);
  EXPECT_EQ(perf.stats().bytes_sent, 0u);
}

// Streams beyond max_streams are reset as they arrive; the ones in progress go on.
TEST_P(PerfServiceTest, StreamsOverTheLimitAreRefused) {
  PerfServer perf(server_.host.get(), {.max_streams = 1});
  // A stream that asks and never closes takes the only place.
  std::unique_ptr<Stream> idle;
  client_.host->NewStream(server_.host->peer_id(), {"/perf/1.0.0"},
                          [&](StatusOr<std::unique_ptr<Stream>> s, const std::string&) {
                            ASSERT_TRUE(s.ok());
                            idle = std::move(s).value();
                            ASSERT_TRUE(idle->Write(EncodePerfHeader(10)).ok());
                          });
  Settle();
  ASSERT_NE(idle, nullptr);
  EXPECT_EQ(perf.active_streams(), 1u);
  Outcome outcome;
  auto run = Run({.upload_bytes = 10, .download_bytes = 10}, &outcome);
  Settle();
  ASSERT_EQ(outcome.calls, 1);
  EXPECT_FALSE(outcome.result.ok());
  EXPECT_EQ(perf.stats().refused_busy, 1u);
  // The idle stream is given up after the responder's idle timeout, and the place is free again.
  loop_.AdvanceTime(seconds(30));
  EXPECT_EQ(perf.active_streams(), 0u);
  EXPECT_EQ(perf.stats().failed, 1u);
  Outcome second;
  auto again = Run({.upload_bytes = 10, .download_bytes = 10}, &second);
  Settle();
  ASSERT_EQ(second.calls, 1);
  EXPECT_TRUE(second.result.ok()) << second.result.status().ToString();
}

TEST_P(PerfServiceTest, DestroyingTheServerResetsStreamsInProgress) {
  auto perf = std::make_unique<PerfServer>(server_.host.get());
  // The client asks for a lot and reads slowly enough that the answer is still flowing.
  Outcome outcome;
  auto run = Run({.upload_bytes = 0, .download_bytes = uint64_t{1} << 40}, &outcome);
  loop_.AdvanceTime(milliseconds(100));
  ASSERT_EQ(perf->active_streams(), 1u);
  perf.reset();
  Settle();
  ASSERT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.result.status().code(), StatusCode::kUnavailable);
}

TEST_P(PerfServiceTest, DestroyingTheRunEarlyCancelsIt) {
  PerfServer perf(server_.host.get());
  Outcome outcome;
  auto run = Run({.upload_bytes = 10, .download_bytes = uint64_t{1} << 40}, &outcome);
  run.reset();  // Before the stream opened (the server may have seen it start, and then reset).
  Settle();
  EXPECT_EQ(outcome.calls, 0);
  EXPECT_EQ(perf.active_streams(), 0u);
  const uint64_t failed = perf.stats().failed;
  run = Run({.upload_bytes = 10, .download_bytes = uint64_t{1} << 40}, &outcome);
  loop_.AdvanceTime(milliseconds(100));
  run.reset();  // While the answer flows: the stream is reset, and the server lets it go.
  Settle();
  EXPECT_EQ(outcome.calls, 0);
  EXPECT_EQ(perf.active_streams(), 0u);
  EXPECT_EQ(perf.stats().failed, failed + 1);
}

INSTANTIATE_TEST_SUITE_P(Muxers, PerfServiceTest, ::testing::Values("/yamux/1.0.0", "/mplex/6.7.0"));

}  // namespace
}  // namespace libp2p::stream
