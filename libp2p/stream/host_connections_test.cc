// Several connections per peer, dead connections, keep-alive, and the connection manager.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }

struct Node {
  Node(ManualEventLoop* loop, MemoryNetwork* network, const std::string& seed, HostOptions options)
      : key(KeyOf(seed)), transport(network->CreateTransport()) {
    options.identity = &key;
    host = std::make_unique<Host>(loop, transport.get(), options);
    host->AddEvents(Host::Events{[this](const ConnectionInfo& c) { connected.push_back(c); }, nullptr,
                                 [this](const ConnectionInfo& c, const Status& why) {
                                   disconnected.push_back(c);
                                   reasons.push_back(why);
                                 }});
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }
  Multiaddr Addr() const {
    return *Multiaddr::FromString(host->listen_addrs()[0].ToString() + "/p2p/" + host->peer_id().ToBase58());
  }
  const PeerId& id() const { return host->peer_id(); }

  Ed25519PrivateKey key;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Host> host;
  std::vector<ConnectionInfo> connected, disconnected;
  std::vector<Status> reasons;
};

HostOptions WithMuxer(const std::string& muxer) {
  HostOptions options;
  options.muxers = {muxer};
  return options;
}

class HostConnectionsTest : public ::testing::TestWithParam<std::string> {
 protected:
  StatusOr<Duration> PingAndWait(Node& from, const Node& to) {
    StatusOr<Duration> rtt = CancelledError("unset");
    from.host->Ping(to.id(), [&](StatusOr<Duration> r) { rtt = r; });
    loop_.AdvanceTime(seconds(1));
    return rtt;
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{}, milliseconds(5)};
  Node a_{&loop_, &network_, "a", WithMuxer(GetParam())};
  Node b_{&loop_, &network_, "b", WithMuxer(GetParam())};
};

// A connection dies without a word (a cable pulled): the peer reconnects at once on a new connection, which
// carries the streams from then on, and the dead one is found by keep-alive and reported on its own.
TEST_P(HostConnectionsTest, ADeadConnectionNeverBlocksAReconnect) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(a_.host->IsConnected(b_.id()));
  network_.BreakConnections();
  StatusOr<PeerId> redial = CancelledError("unset");
  b_.host->Dial(a_.Addr(), [&](StatusOr<PeerId> p) { redial = p; });
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(redial.ok()) << redial.status().ToString();
  EXPECT_EQ(a_.host->connections_of(b_.id()).size(), 2u);
  EXPECT_TRUE(PingAndWait(a_, b_).ok());  // On the new connection: the old one swallows everything.
  EXPECT_TRUE(PingAndWait(b_, a_).ok());
  // Keep-alive (yamux pings, or the host's pings for mplex) finds the dead connection.
  loop_.AdvanceTime(seconds(120));
  ASSERT_EQ(a_.disconnected.size(), 1u);
  ASSERT_EQ(b_.disconnected.size(), 1u);
  EXPECT_FALSE(a_.disconnected[0].inbound);  // The first connection, which a dialed.
  EXPECT_EQ(a_.reasons[0].code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(a_.host->IsConnected(b_.id()));
  EXPECT_EQ(a_.host->connections_of(b_.id()).size(), 1u);
  // The remaining connection is the one b dialed: a is no longer the outbound side.
  EXPECT_FALSE(a_.host->IsOutbound(b_.id()));
  EXPECT_TRUE(b_.host->IsOutbound(a_.id()));
}

TEST_P(HostConnectionsTest, DisconnectClosesEveryConnectionOfThePeer) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  b_.host->Dial(a_.Addr(), [](auto) {});
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(a_.host->connections_of(b_.id()).size(), 2u);
  a_.host->Disconnect(b_.id());
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(a_.disconnected.size(), 2u);
  EXPECT_EQ(b_.disconnected.size(), 2u);
  EXPECT_FALSE(a_.host->IsConnected(b_.id()));
  EXPECT_FALSE(b_.host->IsConnected(a_.id()));
}

// Idle but alive connections are not closed by keep-alive.
TEST_P(HostConnectionsTest, KeepAliveLeavesLiveConnectionsAlone) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  loop_.AdvanceTime(std::chrono::minutes(10));
  EXPECT_TRUE(a_.host->IsConnected(b_.id()));
  EXPECT_TRUE(a_.disconnected.empty());
  EXPECT_EQ(a_.host->stats().keepalive_failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(Muxers, HostConnectionsTest, ::testing::Values("/yamux/1.0.0", "/mplex/6.7.0"),
                         [](const auto& info) { return info.param == "/yamux/1.0.0" ? "Yamux" : "Mplex"; });

// Each connection draws on a budget of its own, under the node's: a writer that ignores back-pressure toward
// a peer that does not read is refused once its connection's budget is spent, and the node's budget sees it.
TEST(HostMemoryTest, ConnectionsDrawOnTheirOwnBudgetUnderTheNodes) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop, WriteLimits{}, milliseconds(5));
  MemoryBudget node_budget(64 * 1024 * 1024);
  HostOptions options;
  options.memory_budget = &node_budget;
  options.connection_memory_limit = 1024 * 1024;
  Node a(&loop, &network, "a", options), b(&loop, &network, "b", HostOptions{});
  std::unique_ptr<Stream> in, out;
  b.host->SetStreamHandler("/sink/1", [&](std::unique_ptr<Stream> s, const PeerId&, const std::string&) {
    in = std::move(s);
    in->PauseReading(true);  // Never reads.
  });
  a.host->Dial(b.Addr(), [](auto) {});
  loop.AdvanceTime(seconds(1));
  a.host->NewStream(b.id(), {"/sink/1"}, [&](StatusOr<std::unique_ptr<Stream>> s, const std::string&) {
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    out = std::move(s).value();
  });
  loop.AdvanceTime(seconds(1));
  ASSERT_NE(out, nullptr);
  const Bytes chunk(64 * 1024, 7);
  size_t written = 0, most_used = 0;
  Status s;
  while ((s = out->Write(chunk)).ok() && written < 8 * 1024 * 1024) {
    written += chunk.size();
    loop.AdvanceTime(milliseconds(20));
    most_used = std::max(most_used, node_budget.used());
  }
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_LT(written, 2u * 1024 * 1024);
  EXPECT_GT(most_used, 512u * 1024);  // The node's budget saw the connection's reservations.
  EXPECT_LE(most_used, 1024u * 1024);
  // The stream was reset; what it held is given back.
  out.reset();
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(node_budget.used(), 0u);
}

// Too many connections: the least useful are closed, protected and recently useful peers stay.
TEST(HostConnectionManagerTest, TrimsTheLeastUsefulAboveTheHighWatermark) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop, WriteLimits{}, milliseconds(5));
  HostOptions options;
  options.connection_manager.low_water = 3;
  options.connection_manager.high_water = 4;
  options.connection_manager.grace_period = seconds(30);
  Node hub(&loop, &network, "hub", options);
  std::vector<std::unique_ptr<Node>> peers;
  for (int i = 0; i < 4; ++i) {
    peers.push_back(std::make_unique<Node>(&loop, &network, "peer" + std::to_string(i), HostOptions{}));
    peers.back()->host->Dial(hub.Addr(), [](auto) {});
  }
  loop.AdvanceTime(seconds(1));
  ASSERT_EQ(hub.host->connection_count(), 4u);
  hub.host->connection_manager().Protect(peers[0]->id(), "gossipsub:direct");
  hub.host->connection_manager().MarkUseful(peers[1]->id(), loop.Now());
  hub.host->connection_manager().SetTag(peers[2]->id(), "score", 5);
  loop.AdvanceTime(seconds(40));  // Past the grace period.
  // A fifth peer goes over the high watermark; it is new, so within its grace period.
  peers.push_back(std::make_unique<Node>(&loop, &network, "peer4", HostOptions{}));
  peers.back()->host->Dial(hub.Addr(), [](auto) {});
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(hub.host->connection_count(), 3u);
  EXPECT_EQ(hub.host->stats().connections_trimmed, 2u);
  EXPECT_TRUE(hub.host->IsConnected(peers[0]->id()));   // Protected.
  EXPECT_TRUE(hub.host->IsConnected(peers[1]->id()));   // Recently useful.
  EXPECT_FALSE(hub.host->IsConnected(peers[2]->id()));  // Valued, but less than the two above.
  EXPECT_FALSE(hub.host->IsConnected(peers[3]->id()));  // Nothing.
  EXPECT_TRUE(hub.host->IsConnected(peers[4]->id()));   // New.
  ASSERT_EQ(hub.reasons.size(), 2u);
  EXPECT_EQ(hub.reasons[0].code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace libp2p::stream
