// Who gets in: per-IP limits, a bounded number of upgrades with the oldest giving way, established-connection
// and own-dial limits that are separate, dial timeouts. Floods use real TCP sockets bound to distinct
// 127.0.0.x sources, driven by the virtual-time loop (it polls real descriptors).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }
Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }

uint16_t PortOf(const Multiaddr& addr) {
  const auto c = addr.Components();
  return static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]);
}

// A TCP socket from 127.0.0.`source` that connects to 127.0.0.1:`port` and then says nothing.
int StalledConnection(int source, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(0x7f000000u | static_cast<uint32_t>(source));
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));  // EINPROGRESS: completes as it is accepted.
  return fd;
}

// Whether the other end closed or reset `fd`: after what it sent (a multistream header), a read returns 0
// or fails with something else than EAGAIN.
bool ClosedByPeer(int fd) {
  char buf[256];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) continue;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
}

class HostAdmissionTest : public ::testing::Test {
 protected:
  ~HostAdmissionTest() override {
    for (int fd : attackers_) ::close(fd);
  }

  // Lets the loop take what the kernel has for it (several rounds: accepting makes room for more).
  void Pump(int rounds = 20) {
    for (int i = 0; i < rounds; ++i) loop_.AdvanceTime(milliseconds(1));
  }

  std::unique_ptr<Host> MakeHost(const Ed25519PrivateKey* key, HostOptions options) {
    options.identity = key;
    return std::make_unique<Host>(&loop_, &tcp_, std::move(options));
  }

  ManualEventLoop loop_;
  TcpTransport tcp_{&loop_};
  Ed25519PrivateKey victim_key_ = KeyOf("victim"), honest_key_ = KeyOf("honest"), other_key_ = KeyOf("other");
  std::vector<int> attackers_;
};

// 600 TCP connections that never start a handshake, from 100 addresses, do not lock anyone out: the upgrades
// are bounded and the oldest give way, an honest peer still connects, and our own dial still succeeds.
// (With one limit of 512 shared by upgrades, connections and our dials, the flood once held every place for
// the 10 s of the upgrade timeout, renewable.)
TEST_F(HostAdmissionTest, StalledFloodLocksOutNeitherHonestPeersNorOurDials) {
  HostOptions options;
  options.limit_loopback = true;  // The flood comes from 127.0.0.x: count it per address.
  auto victim = MakeHost(&victim_key_, options);
  ASSERT_TRUE(victim->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  const uint16_t port = PortOf(victim->listen_addrs()[0]);
  for (int batch = 0; batch < 12; ++batch) {
    for (int i = 0; i < 50; ++i) attackers_.push_back(StalledConnection(2 + (batch * 50 + i) % 100, port));
    Pump();
  }
  EXPECT_EQ(victim->stats().inbound_upgrades_evicted, 600u - options.max_inbound_upgrades);
  EXPECT_EQ(victim->connection_count(), 0u);

  // An honest peer connects while the flood goes on.
  auto honest = MakeHost(&honest_key_, HostOptions{});
  StatusOr<PeerId> in = CancelledError("unset");
  honest->Dial(victim->listen_addrs()[0], [&](StatusOr<PeerId> p) { in = p; });
  for (int i = 0; i < 20; ++i) attackers_.push_back(StalledConnection(150 + i, port));
  Pump(200);
  ASSERT_TRUE(in.ok()) << in.status().ToString();

  // Our own dial goes through too.
  auto other = MakeHost(&other_key_, HostOptions{});
  ASSERT_TRUE(other->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  StatusOr<PeerId> out = CancelledError("unset");
  victim->Dial(other->listen_addrs()[0], [&](StatusOr<PeerId> p) { out = p; });
  Pump(200);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(victim->connection_count(), 2u);

  // The stalled ones that are left time out; every attacker's connection ends up closed.
  loop_.AdvanceTime(seconds(11));
  Pump();
  size_t closed = 0;
  for (int fd : attackers_) closed += ClosedByPeer(fd);
  EXPECT_EQ(closed, attackers_.size());
  EXPECT_EQ(victim->connection_count(), 2u);
}

// The oldest upgrade is evicted exactly when its own timeout is due (the flood arrives, in the same loop
// round, as the timer fires): it must be gone for good, not time out afterwards and report an upgrade the
// host no longer knows (that was undefined behaviour).
TEST_F(HostAdmissionTest, EvictionAtTheOldestUpgradesDeadline) {
  HostOptions options;
  options.limit_loopback = true;
  options.max_inbound_upgrades = 1;
  options.connection_manager.silence_period = std::chrono::hours(1);  // No other timer in the way.
  auto victim = MakeHost(&victim_key_, options);
  ASSERT_TRUE(victim->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  const uint16_t port = PortOf(victim->listen_addrs()[0]);
  attackers_.push_back(StalledConnection(20, port));
  Pump();
  loop_.AdvanceTime(seconds(9));
  attackers_.push_back(StalledConnection(21, port));  // Waits in the kernel until the loop runs.
  // Jumps to the first upgrade's deadline; in that round the new connection is accepted first (fds before
  // timers), evicting the upgrade whose timeout is due.
  ASSERT_TRUE(loop_.AdvanceToNextTimer());
  Pump();
  EXPECT_EQ(victim->stats().inbound_upgrades_evicted, 1u);
  EXPECT_EQ(victim->stats().upgrades_failed, 0u);
  loop_.AdvanceTime(seconds(11));
  EXPECT_EQ(victim->stats().upgrades_failed, 1u);  // The second one timed out, once.
}

TEST_F(HostAdmissionTest, InboundConnectionsPerAddressAreCapped) {
  HostOptions options;
  options.limit_loopback = true;
  options.max_connections_per_ip = 3;
  auto victim = MakeHost(&victim_key_, options);
  ASSERT_TRUE(victim->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  const uint16_t port = PortOf(victim->listen_addrs()[0]);
  for (int i = 0; i < 5; ++i) attackers_.push_back(StalledConnection(7, port));
  attackers_.push_back(StalledConnection(8, port));
  Pump();
  EXPECT_EQ(victim->stats().inbound_refused_per_ip, 2u);
  size_t closed = 0;
  for (int fd : attackers_) closed += ClosedByPeer(fd);
  EXPECT_EQ(closed, 2u);
  // When a connection from that address ends, another may come.
  ::close(attackers_[0]);
  attackers_.erase(attackers_.begin());
  loop_.AdvanceTime(seconds(11));  // The stalled upgrades time out and free their places.
  attackers_.push_back(StalledConnection(7, port));
  Pump();
  EXPECT_EQ(victim->stats().inbound_refused_per_ip, 2u);
}

// A full host refuses connections from new addresses without keeping anything for them: the per-address
// counts hold only addresses with a connection (each refusal once added an entry of 0 for good).
TEST_F(HostAdmissionTest, RefusedConnectionsLeaveNoPerAddressEntry) {
  HostOptions options;
  options.limit_loopback = true;
  options.max_connections = 0;
  auto victim = MakeHost(&victim_key_, options);
  ASSERT_TRUE(victim->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  const uint16_t port = PortOf(victim->listen_addrs()[0]);
  for (int i = 0; i < 50; ++i) attackers_.push_back(StalledConnection(2 + i, port));
  Pump();
  EXPECT_EQ(victim->stats().inbound_refused_full, 50u);
  EXPECT_EQ(victim->tracked_inbound_ips(), 0u);
}

// As in go-libp2p, loopback addresses are not limited per address unless asked: every local test shares
// 127.0.0.1.
TEST_F(HostAdmissionTest, LoopbackIsExemptByDefault) {
  HostOptions options;
  options.max_connections_per_ip = 2;
  auto victim = MakeHost(&victim_key_, options);
  ASSERT_TRUE(victim->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  for (int i = 0; i < 6; ++i) attackers_.push_back(StalledConnection(9, PortOf(victim->listen_addrs()[0])));
  Pump();
  EXPECT_EQ(victim->stats().inbound_refused_per_ip, 0u);
}

// Established connections beyond max_connections are refused when they come in, but our own dials are
// limited separately.
TEST(HostLimitsTest, EstablishedLimitRefusesInboundButNotOurDials) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop, WriteLimits{}, milliseconds(2));
  auto t0 = network.CreateTransport();
  const Ed25519PrivateKey k0 = KeyOf("hub");
  HostOptions options;
  options.identity = &k0;
  options.max_connections = 2;
  Host hub(&loop, t0.get(), options);
  ASSERT_TRUE(hub.Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  std::vector<Ed25519PrivateKey> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(KeyOf("peer" + std::to_string(i)));
  std::vector<std::unique_ptr<Transport>> transports;
  std::vector<std::unique_ptr<Host>> peers;
  std::vector<StatusOr<PeerId>> results(4, CancelledError("unset"));
  for (int i = 0; i < 4; ++i) {
    transports.push_back(network.CreateTransport());
    HostOptions po;
    po.identity = &keys[i];
    peers.push_back(std::make_unique<Host>(&loop, transports.back().get(), po));
    ASSERT_TRUE(peers.back()->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  }
  for (int i = 0; i < 3; ++i) {
    peers[i]->Dial(hub.listen_addrs()[0], [&, i](StatusOr<PeerId> p) { results[i] = p; });
    loop.AdvanceTime(seconds(1));
  }
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_FALSE(results[2].ok());
  EXPECT_EQ(hub.stats().inbound_refused_full, 1u);
  hub.Dial(peers[3]->listen_addrs()[0], [&](StatusOr<PeerId> p) { results[3] = p; });
  loop.AdvanceTime(seconds(1));
  EXPECT_TRUE(results[3].ok()) << results[3].status().ToString();
  EXPECT_EQ(hub.connection_count(), 3u);
}

// A transport whose dials never complete (an address that swallows SYNs), recording cancellations.
class BlackHoleTransport final : public Transport {
 public:
  bool CanDial(const Multiaddr&) const override { return true; }
  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr&, AcceptCallback) override {
    return UnavailableError("no listening here");
  }
  std::unique_ptr<PendingDial> Dial(const Multiaddr&, DialCallback) override {
    ++dials;
    return std::make_unique<Pending>(&cancelled);
  }
  int dials = 0;
  int cancelled = 0;

 private:
  struct Pending final : PendingDial {
    explicit Pending(int* cancelled) : cancelled(cancelled) {}
    ~Pending() override { ++*cancelled; }
    int* cancelled;
  };
};

TEST(HostLimitsTest, DialsTimeOutAndAreCapped) {
  ManualEventLoop loop;
  BlackHoleTransport transport;
  const Ed25519PrivateKey key = KeyOf("dialer");
  HostOptions options;
  options.identity = &key;
  options.dial_timeout = seconds(5);
  options.max_pending_dials = 2;
  Host host(&loop, &transport, options);
  std::vector<Status> results;
  for (int i = 0; i < 3; ++i) {
    host.Dial(M("/ip4/10.0.0.1/tcp/" + std::to_string(4000 + i)),
              [&](StatusOr<PeerId> p) { results.push_back(p.status()); });
  }
  loop.RunUntilIdle();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(transport.dials, 2);
  loop.AdvanceTime(seconds(5));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(results[2].code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(transport.cancelled, 2);
  // Room again.
  host.Dial(M("/ip4/10.0.0.1/tcp/4100"), [&](StatusOr<PeerId> p) { results.push_back(p.status()); });
  EXPECT_EQ(transport.dials, 3);
}

TEST(HostLimitsTest, DialingOurselvesOrAnUnparseablePeerIdFails) {
  ManualEventLoop loop;
  BlackHoleTransport transport;
  const Ed25519PrivateKey key = KeyOf("self");
  HostOptions options;
  options.identity = &key;
  Host host(&loop, &transport, options);
  std::vector<Status> results;
  host.Dial(M("/ip4/10.0.0.1/tcp/1/p2p/" + host.peer_id().ToBase58()),
            [&](StatusOr<PeerId> p) { results.push_back(p.status()); });
  loop.RunUntilIdle();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport.dials, 0);
}

}  // namespace
}  // namespace libp2p::stream
