#include "libp2p/stream/tcp_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/fake_resolver.h"
#include "libp2p/stream/socket_address.h"
#include "libp2p/stream/system_resolver.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using testing::Recorder;
using testing::RunUntil;

// The transport does not expose its sockets; tests that inspect one find it among the process's descriptors.
// Returns the descriptor of the socket bound to `local` and connected to `remote`, or of the listening
// socket bound to `local` when `remote` is empty; -1 when there is none.
int FindSocket(const Multiaddr& local, const Multiaddr& remote = Multiaddr()) {
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
    if (TcpMultiaddr(reinterpret_cast<const sockaddr*>(&ss)) != local) continue;
    len = sizeof(ss);
    const bool connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
    if (remote.empty() ? !connected : connected && TcpMultiaddr(reinterpret_cast<const sockaddr*>(&ss)) == remote) {
      return fd;
    }
  }
  return -1;
}

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value;
}

TcpTransportOptions TestOptions() {
  TcpTransportOptions options;
  options.write_limits = WriteLimits{64 * 1024, 16 * 1024, 64 * 1024 * 1024};
  return options;
}

class TcpTransportTest : public ::testing::Test {
 protected:
  // Replaces the transport; call before anything is listening or dialing.
  void Configure(const TcpTransportOptions& options) { transport_ = std::make_unique<TcpTransport>(loop_.get(), options); }

  void ConnectPair(const std::string& listen = "/ip4/127.0.0.1/tcp/0") {
    auto listener = transport_->Listen(*Multiaddr::FromString(listen),
                                      [this](std::unique_ptr<RawConnection> c) { accepted_ = std::move(c); });
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      dialed_ = std::move(c).value();
    });
    ASSERT_TRUE(RunUntil(loop_.get(), [&] { return dialed_ != nullptr && accepted_ != nullptr; }));
    a_.Attach(dialed_.get());
    b_.Attach(accepted_.get());
  }

  std::unique_ptr<LibeventLoop> loop_ = std::move(LibeventLoop::Create()).value();
  std::unique_ptr<TcpTransport> transport_ = std::make_unique<TcpTransport>(loop_.get(), TestOptions());
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> dialed_, accepted_;
  Recorder a_, b_;
};

TEST_F(TcpTransportTest, ListenOnPortZeroReportsTheRealPort) {
  ConnectPair();
  const std::string addr = listener_->listen_addr().ToString();
  EXPECT_EQ(addr.rfind("/ip4/127.0.0.1/tcp/", 0), 0u) << addr;
  EXPECT_NE(addr, "/ip4/127.0.0.1/tcp/0");
  EXPECT_EQ(dialed_->remote_addr(), listener_->listen_addr());
  EXPECT_EQ(accepted_->remote_addr(), dialed_->local_addr());
}

TEST_F(TcpTransportTest, ExchangeAndHalfClose) {
  ConnectPair();
  ASSERT_TRUE(dialed_->Write(AsBytes("ping")).ok());
  dialed_->CloseWrite();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return b_.eof; }));
  EXPECT_EQ(b_.data, "ping");
  ASSERT_TRUE(accepted_->Write(AsBytes("pong")).ok());
  accepted_->CloseWrite();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return a_.eof; }));
  EXPECT_EQ(a_.data, "pong");
}

TEST_F(TcpTransportTest, LargeTransferWithPausedReaderAndBackpressure) {
  ConnectPair();
  accepted_->PauseReading(true);
  // Fill the kernel buffers and ours until the writer is told to stop.
  std::string sent;
  uint8_t n = 0;
  while (!dialed_->write_blocked()) {
    Bytes chunk(16 * 1024);
    for (auto& b : chunk) b = n++;
    ASSERT_TRUE(dialed_->Write(chunk).ok());
    sent.append(chunk.begin(), chunk.end());
    ASSERT_LT(sent.size(), 64u * 1024 * 1024) << "never blocked";
  }
  // Resume: everything arrives in order, and the writer hears it may write again.
  accepted_->PauseReading(false);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return b_.data.size() == sent.size() && a_.writable > 0; }));
  EXPECT_TRUE(b_.data == sent);
  EXPECT_FALSE(dialed_->write_blocked());
}

TEST_F(TcpTransportTest, ResetIsSeenByThePeer) {
  ConnectPair();
  dialed_->Reset();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return b_.errored || b_.eof; }));
  // A RST surfaces as an error (ECONNRESET) on Linux.
  EXPECT_TRUE(b_.errored) << "eof instead of reset";
}

TEST_F(TcpTransportTest, PeerVanishingMidStreamFailsWrites) {
  ConnectPair();
  accepted_->Reset();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return a_.errored || a_.eof; }));
  // Writing into a reset connection fails, with an error and no crash.
  Status last;
  for (int i = 0; i < 100 && last.ok(); ++i) last = dialed_->Write(Bytes(1024, 1));
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return a_.errored; }));
}

TEST_F(TcpTransportTest, DialRefused) {
  // Bind a port and close it again, so nothing listens there.
  std::string addr;
  {
    auto l = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"), [](auto) {});
    ASSERT_TRUE(l.ok());
    addr = (*l)->listen_addr().ToString();
  }
  Status result;
  bool done = false;
  auto dial = transport_->Dial(*Multiaddr::FromString(addr), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    result = c.status();
    done = true;
  });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return done; }));
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  EXPECT_NE(result.message().find("refused"), std::string::npos) << result.message();
}

TEST_F(TcpTransportTest, NonTcpAddressesAreRefused) {
  EXPECT_FALSE(transport_->CanDial(*Multiaddr::FromString("/ip4/1.2.3.4/udp/1/quic-v1")));
  EXPECT_TRUE(transport_->CanDial(*Multiaddr::FromString("/ip6/::1/tcp/1")));
  EXPECT_FALSE(transport_->Listen(*Multiaddr::FromString("/dns4/example.com/tcp/1"), [](auto) {}).ok());
}

TEST_F(TcpTransportTest, Ip6Loopback) {
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip6/::1/tcp/0"), [](auto) {});
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << listener.status().ToString();
  ConnectPair("/ip6/::1/tcp/0");
  ASSERT_TRUE(dialed_->Write(AsBytes("v6")).ok());
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return b_.data == "v6"; }));
}

TEST_F(TcpTransportTest, Ip6ZoneAddressesAreDialed) {
  EXPECT_TRUE(transport_->CanDial(*Multiaddr::FromString("/ip6zone/lo/ip6/fe80::1/tcp/1")));
  EXPECT_FALSE(transport_->CanDial(*Multiaddr::FromString("/ip6zone/no-such-if0/ip6/fe80::1/tcp/1")));
  auto listener = transport_->Listen(*Multiaddr::FromString("/ip6/::1/tcp/0"), [](auto) {});
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << listener.status().ToString();
  // The zone is passed to connect() as the scope id; the kernel ignores it for a loopback address.
  const std::string port = (*listener)->listen_addr().Components()[1].text;
  StatusOr<std::unique_ptr<RawConnection>> result = UnavailableError("not called");
  bool done = false;
  auto dial = transport_->Dial(*Multiaddr::FromString("/ip6zone/lo/ip6/::1/tcp/" + port),
                              [&](StatusOr<std::unique_ptr<RawConnection>> c) {
                                result = std::move(c);
                                done = true;
                              });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return done; }));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)->remote_addr(), (*listener)->listen_addr());
}

TEST_F(TcpTransportTest, KeepaliveIsSetOnDialedAndAcceptedSockets) {
  ConnectPair();
  for (RawConnection* c : {dialed_.get(), accepted_.get()}) {
    const int fd = FindSocket(c->local_addr(), c->remote_addr());
    ASSERT_GE(fd, 0) << c->local_addr().ToString();
    EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL), 10);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
  }
}

TEST_F(TcpTransportTest, KeepaliveIsConfigurable) {
  TcpTransportOptions options = TestOptions();
  options.keepalive.idle = std::chrono::seconds(7);
  options.keepalive.interval = std::chrono::seconds(2);
  options.keepalive.count = 5;
  Configure(options);
  ConnectPair();
  const int fd = FindSocket(dialed_->local_addr(), dialed_->remote_addr());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE), 7);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL), 2);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPCNT), 5);
}

TEST_F(TcpTransportTest, KeepaliveCanBeTurnedOff) {
  TcpTransportOptions options = TestOptions();
  options.keepalive.enabled = false;
  Configure(options);
  ConnectPair();
  const int fd = FindSocket(accepted_->local_addr(), accepted_->remote_addr());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
}

// The kernel reports a listening socket's backlog as tcpi_sacked in TCP_INFO.
TEST_F(TcpTransportTest, ListenBacklogIsLargeAndConfigurable) {
  int somaxconn = 4096;
  std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
  for (const int backlog : {TcpTransportOptions{}.listen_backlog, 7}) {
    TcpTransportOptions options;
    options.listen_backlog = backlog;
    Configure(options);
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"), [](auto) {});
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    const int fd = FindSocket((*listener)->listen_addr());
    ASSERT_GE(fd, 0);
    tcp_info info{};
    socklen_t len = sizeof(info);
    ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
    EXPECT_EQ(info.tcpi_sacked, static_cast<uint32_t>(std::min(backlog, somaxconn)));
  }
  EXPECT_EQ(TcpTransportOptions{}.listen_backlog, 1024);
}

TEST_F(TcpTransportTest, DialsAreBoundToTheConfiguredSourceAddress) {
  TcpTransportOptions options = TestOptions();
  options.dial_source = *Multiaddr::FromString("/ip4/127.0.0.7/tcp/0");
  Configure(options);
  ConnectPair();
  const std::string seen = accepted_->remote_addr().ToString();
  EXPECT_EQ(seen.rfind("/ip4/127.0.0.7/tcp/", 0), 0u) << seen;
  EXPECT_EQ(dialed_->local_addr(), accepted_->remote_addr());
}

TEST_F(TcpTransportTest, ASourceOfTheOtherFamilyIsIgnoredAndAFailedBindFailsTheDial) {
  TcpTransportOptions options = TestOptions();
  options.dial_source = *Multiaddr::FromString("/ip6/::1/tcp/0");
  Configure(options);
  ConnectPair();  // An IPv4 dial, unbound.
  EXPECT_EQ(accepted_->remote_addr().ToString().rfind("/ip4/127.0.0.1/tcp/", 0), 0u);

  // 192.0.2.1 (TEST-NET-1) is not an address of this machine: bind() fails.
  options.dial_source = *Multiaddr::FromString("/ip4/192.0.2.1/tcp/0");
  TcpTransport unbindable(loop_.get(), options);
  std::optional<Status> result;
  auto dial = unbindable.Dial(listener_->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    result = c.status();
  });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return result.has_value(); }));
  EXPECT_EQ(result->code(), StatusCode::kUnavailable);
  EXPECT_NE(result->message().find("bind /ip4/192.0.2.1/tcp/0"), std::string::npos) << result->ToString();
}

// Lowers this process's soft limit of open descriptors so that no new one can be opened (Begin()), and puts
// the limit back (End(), or when destroyed).
class DescriptorShortage {
 public:
  DescriptorShortage() { EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  ~DescriptorShortage() { End(); }
  void Begin() {
    // New descriptors take the lowest free number; a limit at that number leaves none.
    const int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(lowest_free, 0);
    ::close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  void End() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

// A client connection to `addr` that the kernel has completed; it waits in the listener's queue until accepted.
int ConnectBlocking(const Multiaddr& addr) {
  StatusOr<SocketAddress> sa = TcpSocketAddress(addr);
  EXPECT_TRUE(sa.ok());
  const int fd = ::socket(sa->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(fd, sa->get(), sa->length), 0);
  return fd;
}

TEST(TcpListenerTest, OutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  ManualEventLoop loop;  // Polls real descriptors; time is virtual.
  const TcpTransportOptions options;
  TcpTransport transport(&loop, options);
  std::vector<std::unique_ptr<RawConnection>> accepted;
  auto listener = transport.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                   [&](std::unique_ptr<RawConnection> c) { accepted.push_back(std::move(c)); });
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(ConnectBlocking((*listener)->listen_addr()));
  // A watchdog that is readable forever, so it runs in every round of the loop. A listener that keeps calling
  // accept() would keep the loop from ever going idle: after 100 rounds the watchdog ends the shortage, so
  // that the test fails instead of hanging.
  int watchdog_pipe[2];
  ASSERT_EQ(::pipe2(watchdog_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(::write(watchdog_pipe[1], "x", 1), 1);
  DescriptorShortage shortage;
  int rounds = 0;
  bool spun = false;
  std::unique_ptr<FdWatcher> watchdog;
  watchdog = loop.WatchFd(watchdog_pipe[0], kFdReadable, [&](uint32_t) {
    if (++rounds < 100) return;
    watchdog->SetInterest(0);
    if (loop.scheduled_timers() == 0) {
      spun = true;
      shortage.End();
    }
  });
  // UBSan's vptr check probes memory through a pipe the first time it meets a (class, vtable) pair, and
  // reports a false "invalid vptr" when it cannot open one: the kinds of virtual call the listener makes
  // during the shortage are made once before it.
  {
    std::unique_ptr<Timer> timer = loop.CreateTimer([] {});
    timer->Schedule(options.accept_pause);
    timer->Cancel();
    watchdog->SetInterest(kFdReadable);
  }
  shortage.Begin();

  loop.RunUntilIdle();
  EXPECT_FALSE(spun) << "the listener kept calling accept()";
  EXPECT_TRUE(accepted.empty());
  EXPECT_EQ(loop.scheduled_timers(), 1u);  // The listener's resume timer.

  // Still no descriptor when the pause ends: the listener pauses again.
  loop.AdvanceTime(options.accept_pause);
  EXPECT_TRUE(accepted.empty());
  EXPECT_EQ(loop.scheduled_timers(), 1u);

  // Descriptors are available again: the next attempt accepts every queued connection.
  shortage.End();
  loop.AdvanceTime(options.accept_pause);
  EXPECT_EQ(accepted.size(), 3u);
  EXPECT_EQ(loop.scheduled_timers(), 0u);

  accepted.clear();
  listener->reset();
  watchdog.reset();
  for (const int fd : clients) ::close(fd);
  ::close(watchdog_pipe[0]);
  ::close(watchdog_pipe[1]);
}

// A TcpConnection over one end of a socketpair, on virtual time; the test plays the other end.
class TcpConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void TearDown() override {
    conn_.reset();
    if (peer_ >= 0) ::close(peer_);
  }
  // Replaces the connection with a new one with `options`.
  void Start(const TcpTransportOptions& options) {
    TearDown();
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer_ = fds[1];
    conn_ = WrapTcpSocket(&loop_, fds[0], options);
    recorder_ = Recorder();
    recorder_.Attach(conn_.get());
  }
  // Writes until the connection queues bytes of its own (at most 1 KiB): the socket's buffer is full.
  void FillSocketBuffer() {
    const Bytes chunk(1024, 7);
    for (size_t sent = 0; conn_->buffered_bytes() == 0; sent += chunk.size()) {
      ASSERT_TRUE(conn_->Write(chunk).ok());
      ASSERT_LT(sent, 64u * 1024 * 1024) << "never queued";
    }
  }
  // The peer reads everything until the connection's queue is empty.
  void Drain() {
    for (int i = 0; i < 10000 && conn_->buffered_bytes() > 0; ++i) {
      uint8_t buf[64 * 1024];
      while (::recv(peer_, buf, sizeof(buf), 0) > 0) {
      }
      loop_.RunUntilIdle();
    }
    ASSERT_EQ(conn_->buffered_bytes(), 0u);
  }

  // The node's write budget for the tests that use one: it outlives the connection.
  MemoryBudget node_budget_{1 << 20};
  TcpTransportOptions budgeted_{.write_budget = &node_budget_};
  ManualEventLoop loop_;
  int peer_ = -1;
  std::unique_ptr<RawConnection> conn_;
  Recorder recorder_;
};

TEST_F(TcpConnectionTest, WriteFailureIsReportedInQueueOrder) {
  ::close(peer_);
  peer_ = -1;
  std::vector<std::string> order;
  conn_->SetHandlers({.on_error = [&](const Status&) { order.push_back("on_error"); }});
  EXPECT_EQ(conn_->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  loop_.Post([&] { order.push_back("posted"); });
  loop_.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"on_error", "posted"}));
}

TEST_F(TcpConnectionTest, NothingIsReadAfterASendFails) {
  FillSocketBuffer();
  // The peer sends a byte and goes away: our fd is readable (the byte, then end of stream) and writable, and
  // the queued bytes' send fails.
  ASSERT_EQ(::send(peer_, "x", 1, MSG_NOSIGNAL), 1);
  ::close(peer_);
  peer_ = -1;
  loop_.RunUntilIdle();
  EXPECT_TRUE(recorder_.errored);
  EXPECT_EQ(recorder_.data, "") << "read after the connection failed";
  EXPECT_FALSE(recorder_.eof);
}

TEST_F(TcpConnectionTest, QueuedBytesAreHeldInTheBudgetUntilSent) {
  Start(budgeted_);
  FillSocketBuffer();
  ASSERT_TRUE(conn_->Write(Bytes(5000, 1)).ok());
  EXPECT_GT(conn_->buffered_bytes(), 5000u);
  EXPECT_EQ(node_budget_.used(), conn_->buffered_bytes());
  Drain();
  EXPECT_EQ(node_budget_.used(), 0u);
}

TEST_F(TcpConnectionTest, AWriteTheBudgetCannotCoverFailsAndResets) {
  const size_t others = node_budget_.limit() - 8 * 1024;  // What the node's other connections hold.
  ASSERT_TRUE(node_budget_.TryReserve(others));
  Start(budgeted_);
  FillSocketBuffer();
  ASSERT_TRUE(conn_->Write(Bytes(1000, 1)).ok());
  EXPECT_EQ(node_budget_.used(), others + conn_->buffered_bytes());
  EXPECT_EQ(conn_->Write(Bytes(node_budget_.available() + 1, 1)).code(), StatusCode::kResourceExhausted);
  // Reset, as over the hard limit: its bytes go back, later writes fail, and no callback runs.
  EXPECT_EQ(node_budget_.used(), others);
  EXPECT_EQ(conn_->buffered_bytes(), 0u);
  EXPECT_EQ(conn_->Write(AsBytes("x")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_FALSE(recorder_.errored);
  uint8_t buf[64 * 1024];
  while (::recv(peer_, buf, sizeof(buf), 0) > 0) {
  }
  EXPECT_EQ(::recv(peer_, buf, sizeof(buf), 0), 0) << "the peer sees the connection end";
}

TEST_F(TcpConnectionTest, AFailedOrDestroyedConnectionGivesItsBytesBack) {
  Start(budgeted_);
  FillSocketBuffer();
  ASSERT_GT(node_budget_.used(), 0u);
  ::close(peer_);  // The next send fails.
  peer_ = -1;
  loop_.RunUntilIdle();
  EXPECT_TRUE(recorder_.errored);
  EXPECT_EQ(node_budget_.used(), 0u);

  Start(budgeted_);
  FillSocketBuffer();
  ASSERT_GT(node_budget_.used(), 0u);
  conn_.reset();
  EXPECT_EQ(node_budget_.used(), 0u);
}

TEST_F(TcpConnectionTest, DestroyingAConnectionHandsItsQueuedBytesToTheSocketFirst) {
  // As close() after a last write would: a polite close that is followed at once by the destruction of the
  // connection (the usual end of a muxer's Close) still delivers what the socket can take.
  FillSocketBuffer();
  const size_t queued = conn_->buffered_bytes();
  ASSERT_TRUE(conn_->Write(AsBytes("the last words")).ok());
  conn_->CloseWrite();
  // The peer reads all the socket holds; the loop does not run, so the connection has not sent more.
  std::string got;
  char buf[64 * 1024];
  for (ssize_t n; (n = ::recv(peer_, buf, sizeof(buf), 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  ASSERT_EQ(conn_->buffered_bytes(), queued + 14);
  conn_.reset();
  for (ssize_t n; (n = ::recv(peer_, buf, sizeof(buf), 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  ASSERT_GE(got.size(), 14u);
  EXPECT_EQ(got.substr(got.size() - 14), "the last words");
  EXPECT_EQ(::recv(peer_, buf, sizeof(buf), 0), 0) << "then the end of the stream";
}

TEST(TcpDialTest, FailureIsReportedInQueueOrder) {
  ManualEventLoop loop;
  TcpTransport transport(&loop);
  std::vector<std::string> order;
  auto dial = transport.Dial(*Multiaddr::FromString("/ip4/1.2.3.4/udp/1"), [&](auto result) {
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    order.push_back("dial");
  });
  loop.Post([&] { order.push_back("posted"); });
  loop.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"dial", "posted"}));
}

constexpr char kPeer[] = "/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

Multiaddr Addr(const std::string& text) { return *Multiaddr::FromString(text); }

std::string Port(const Listener& listener) { return listener.listen_addr().Components()[1].text; }

// A dial's outcome.
struct DialOutcome {
  bool done = false;
  StatusOr<std::unique_ptr<RawConnection>> result = UnavailableError("not called");

  Transport::DialCallback Callback() {
    return [this](StatusOr<std::unique_ptr<RawConnection>> r) {
      EXPECT_FALSE(done) << "called twice";
      done = true;
      result = std::move(r);
    };
  }
};

TEST(TcpDnsTest, DnsAddressesAreDialableButNotListenable) {
  ManualEventLoop loop;
  TcpTransport transport(&loop);
  for (const std::string text : {"/dns4/example.com/tcp/1", "/dns6/example.com/tcp/1", "/dns/example.com/tcp/1",
                                 "/dns/example.com/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}) {
    EXPECT_TRUE(transport.CanDial(Addr(text))) << text;
    EXPECT_EQ(transport.Listen(Addr(text), [](auto) {}).status().code(), StatusCode::kInvalidArgument) << text;
  }
  for (const std::string text : {"/dnsaddr/bootstrap.libp2p.io", "/dnsaddr/example.com/tcp/1",
                                 "/dns4/example.com/udp/1", "/dns4/example.com", "/dns4/example.com/tcp/1/ws"}) {
    EXPECT_FALSE(transport.CanDial(Addr(text))) << text;
  }
}

TEST(TcpDnsTest, DnsaddrIsRefusedWithAClearError) {
  ManualEventLoop loop;
  TcpTransport transport(&loop);
  DialOutcome outcome;
  auto dial = transport.Dial(Addr(std::string("/dnsaddr/bootstrap.libp2p.io") + kPeer), outcome.Callback());
  loop.RunUntilIdle();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.result.status().message().find("/dnsaddr"), std::string::npos)
      << outcome.result.status().message();
}

// Dials through the real SystemResolver: localhost comes from /etc/hosts.
TEST(TcpDnsTest, Dns4LocalhostConnectsThroughTheHostsFile) {
  auto loop = std::move(LibeventLoop::Create()).value();
  TcpTransport transport(loop.get());
  std::unique_ptr<RawConnection> accepted;
  auto listener = transport.Listen(Addr("/ip4/127.0.0.1/tcp/0"),
                                   [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  DialOutcome outcome;
  auto dial = transport.Dial(Addr("/dns4/localhost/tcp/" + Port(**listener) + kPeer), outcome.Callback());
  ASSERT_TRUE(RunUntil(loop.get(), [&] { return outcome.done && accepted != nullptr; }));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status().ToString();
  EXPECT_EQ((*outcome.result)->remote_addr(), (*listener)->listen_addr());
  EXPECT_EQ(accepted->remote_addr(), (*outcome.result)->local_addr());
}

TEST(TcpDnsTest, ADialMayOutliveTheTransport) {
  auto loop = std::move(LibeventLoop::Create()).value();
  auto transport = std::make_unique<TcpTransport>(loop.get());
  DialOutcome outcome;
  auto dial = transport->Dial(Addr("/dns4/localhost/tcp/1"), outcome.Callback());
  transport.reset();  // Its resolver cancels the lookup and joins its worker.
  bool marker = false;
  loop->Post([&] { marker = true; });
  ASSERT_TRUE(RunUntil(loop.get(), [&] { return marker; }));
  EXPECT_FALSE(outcome.done);
  dial.reset();
}

// Name lookups answered by the test; connections on real loopback sockets.
class TcpDnsFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = transport_.Listen(Addr("/ip4/127.0.0.1/tcp/0"), [](auto) {});
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    port_ = Port(*listener_);
  }

  std::unique_ptr<LibeventLoop> loop_ = std::move(LibeventLoop::Create()).value();
  FakeResolver resolver_;
  TcpTransport transport_{loop_.get(), TcpTransportOptions{.resolver = &resolver_}};
  std::unique_ptr<Listener> listener_;
  std::string port_;
};

TEST_F(TcpDnsFakeTest, EachDnsProtocolAsksForItsFamily) {
  std::vector<std::unique_ptr<PendingDial>> dials;
  DialOutcome outcomes[3];
  dials.push_back(transport_.Dial(Addr("/dns4/four.example/tcp/1"), outcomes[0].Callback()));
  dials.push_back(transport_.Dial(Addr("/dns6/six.example/tcp/1"), outcomes[1].Callback()));
  dials.push_back(transport_.Dial(Addr(std::string("/dns/any.example/tcp/1") + kPeer), outcomes[2].Callback()));
  EXPECT_EQ(resolver_.waiting(), (std::vector<std::pair<std::string, IpFamily>>{
                                     {"four.example", IpFamily::kIp4},
                                     {"six.example", IpFamily::kIp6},
                                     {"any.example", IpFamily::kAny}}));
}

TEST_F(TcpDnsFakeTest, AddressesAreTriedInOrderUntilOneConnects) {
  DialOutcome outcome;
  auto dial = transport_.Dial(Addr("/dns/node.example/tcp/" + port_ + kPeer), outcome.Callback());
  // Nothing listens on 127.0.0.2 and 127.0.0.3 (the listener is bound to 127.0.0.1): those are refused.
  ASSERT_TRUE(resolver_.Answer("node.example", std::vector<Multiaddr>{Addr("/ip4/127.0.0.2"), Addr("/ip4/127.0.0.3"),
                                                                      Addr("/ip4/127.0.0.1")}));
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return outcome.done; }));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status().ToString();
  EXPECT_EQ((*outcome.result)->remote_addr(), listener_->listen_addr());
}

TEST_F(TcpDnsFakeTest, WhenNoAddressConnectsTheLastErrorIsReported) {
  DialOutcome outcome;
  auto dial = transport_.Dial(Addr("/dns4/node.example/tcp/" + port_), outcome.Callback());
  ASSERT_TRUE(resolver_.Answer("node.example", std::vector<Multiaddr>{Addr("/ip4/127.0.0.2"), Addr("/ip4/127.0.0.3")}));
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return outcome.done; }));
  const Status status = outcome.result.status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("/dns4/node.example/tcp/" + port_), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("/ip4/127.0.0.3/tcp/" + port_), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("refused"), std::string::npos) << status.message();
}

TEST_F(TcpDnsFakeTest, AFailedLookupKeepsItsCode) {
  DialOutcome outcome;
  auto dial = transport_.Dial(Addr("/dns6/node.example/tcp/1"), outcome.Callback());
  ASSERT_TRUE(resolver_.Answer("node.example", NotFoundError("no IPv6 address for node.example")));
  EXPECT_FALSE(outcome.done) << "called back from inside the resolver's callback";
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return outcome.done; }));
  EXPECT_EQ(outcome.result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(outcome.result.status().message().find("/dns6/node.example/tcp/1"), std::string::npos);
}

TEST_F(TcpDnsFakeTest, DestroyingADialWhileResolvingCancelsTheLookup) {
  DialOutcome outcome;
  auto dial = transport_.Dial(Addr("/dns4/node.example/tcp/" + port_), outcome.Callback());
  ASSERT_EQ(resolver_.waiting().size(), 1u);
  dial.reset();
  EXPECT_TRUE(resolver_.waiting().empty());
  EXPECT_FALSE(resolver_.Answer("node.example", std::vector<Multiaddr>{Addr("/ip4/127.0.0.1")}));
  bool marker = false;
  loop_->Post([&] { marker = true; });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return marker; }));
  EXPECT_FALSE(outcome.done);
}

TEST_F(TcpDnsFakeTest, DestroyingADialWhileConnectingIsSafe) {
  DialOutcome outcome;
  auto dial = transport_.Dial(Addr("/dns4/node.example/tcp/4001"), outcome.Callback());
  // 192.0.2.1 (TEST-NET-1) does not answer: the connect stays under way, or fails at once without a route.
  ASSERT_TRUE(resolver_.Answer("node.example", std::vector<Multiaddr>{Addr("/ip4/192.0.2.1")}));
  dial.reset();
  bool marker = false;
  loop_->Post([&] { marker = true; });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return marker; }));
  EXPECT_FALSE(outcome.done);
}

// A dial destroyed while the real resolver's worker looks its name up is never called back: with one
// worker, lookups are answered in order, so the cancelled one's answer has arrived (and been dropped) by the
// time the next one's has.
TEST(TcpDnsTest, ADialCancelledDuringASystemLookupIsNeverCalledBack) {
  auto loop = std::move(LibeventLoop::Create()).value();
  SystemResolver resolver(loop.get(), {.max_concurrent = 1});
  TcpTransport transport(loop.get(), TcpTransportOptions{.resolver = &resolver});
  auto listener = transport.Listen(Addr("/ip4/127.0.0.1/tcp/0"), [](auto) {});
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  const Multiaddr addr = Addr("/dns4/localhost/tcp/" + Port(**listener));
  DialOutcome cancelled, next;
  auto cancelled_dial = transport.Dial(addr, cancelled.Callback());
  auto next_dial = transport.Dial(addr, next.Callback());
  cancelled_dial.reset();
  ASSERT_TRUE(RunUntil(loop.get(), [&] { return next.done; }));
  EXPECT_TRUE(next.result.ok()) << next.result.status().ToString();
  EXPECT_FALSE(cancelled.done);
}

}  // namespace
}  // namespace libp2p::stream
