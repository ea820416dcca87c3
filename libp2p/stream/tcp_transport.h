// TCP over /ip4, /ip6 and /ip6zone/Z/ip6 multiaddrs, and dials to /dns, /dns4 and /dns6 names through a
// Resolver, on the event loop's fd readiness (non-blocking sockets).
#ifndef LIBP2P_STREAM_TCP_TRANSPORT_H_
#define LIBP2P_STREAM_TCP_TRANSPORT_H_

#include <chrono>
#include <memory>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/resolver.h"
#include "libp2p/stream/stream.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

// TCP keepalive, so that an idle connection whose peer vanished (powered off, or a NAT that forgot the
// mapping) fails instead of lingering: after `idle` without traffic the kernel sends a probe every `interval`
// and fails the connection after `count` unanswered ones; the connection's on_error then reports ETIMEDOUT.
// The defaults notice a dead peer of an idle connection within 30 s + 3 x 10 s = 60 s (go-libp2p uses a 30 s
// keep-alive period). Probes are sent only while no data waits for an acknowledgement.
struct TcpKeepalive {
  bool enabled = true;
  std::chrono::seconds idle{30};      // 1 to 32767 s (asserted).
  std::chrono::seconds interval{10};  // 1 to 32767 s (asserted).
  int count = 3;                      // 1 to 127 (asserted).
};

// Everything configurable about the TCP transport, with its defaults.
struct TcpTransportOptions {
  // Each connection's write buffer marks (see stream.h): 256 KiB high water, 64 KiB low water, and a 16 MiB
  // hard limit beyond which a Write() fails with kResourceExhausted and resets the connection.
  WriteLimits write_limits;
  // The node's budget for bytes waiting in the connections' write queues, or null for none. Each connection
  // holds at most write_limits.hard_limit (16 MiB by default), which for a host's 512 connections is 8 GiB in
  // the worst case (writers ignoring write_blocked(), peers that do not read); a node budget (e.g. 256 MiB)
  // caps the sum. Queued bytes are reserved from it and released as they are sent or dropped; a Write()
  // whose queued bytes it cannot cover fails with kResourceExhausted and resets the connection, as the hard
  // limit does. An observer: it must outlive every connection the transport creates.
  MemoryBudget* write_budget = nullptr;
  // Set on every dialed and accepted socket.
  TcpKeepalive keepalive;
  // The kernel's queue of connections not yet accepted (capped by net.core.somaxconn, 4096 on current
  // Linux); a larger queue lets a burst of connections wait instead of having its SYNs dropped. Positive.
  int listen_backlog = 1024;
  // How long a listener stops accepting when accept() fails for want of descriptors or kernel memory (EMFILE,
  // ENFILE, ENOBUFS, ENOMEM). The connection stays in the kernel's queue, so retrying at once would only spin;
  // after the pause the listener tries again (and pauses again while the shortage lasts). Positive.
  Duration accept_pause = std::chrono::milliseconds(100);
  // Looks up the names of /dns, /dns4 and /dns6 addresses. Null: the transport makes its own SystemResolver
  // (getaddrinfo on up to 4 worker threads, started at the first lookup). An observer otherwise: it must
  // outlive the transport.
  Resolver* resolver = nullptr;
  // The local address dialed sockets are bound to before they connect, as /ip4/A/tcp/P or /ip6/A/tcp/P (P
  // usually 0: any free port), e.g. one of several addresses of this machine; empty: the kernel picks. A
  // candidate of the other IP family is dialed unbound. A failed bind fails that candidate (kUnavailable).
  Multiaddr dial_source;
};

// Connections report the peer's address as remote_addr(): /ip4/A/tcp/P, /ip6/A/tcp/P or, for a link-local
// peer, /ip6zone/Z/ip6/A/tcp/P, whatever address was dialed (a /dns dial reports the address that connected).
// Per-IP limits can key on the value of its /ip4 or /ip6 component (4 or 16 bytes).
class TcpTransport final : public Transport {
 public:
  // The loop is an observer and must outlive the transport and everything it creates. Invalid options are a
  // programming error (asserted).
  explicit TcpTransport(EventLoop* loop, TcpTransportOptions options = {});
  // Destroys its own resolver, if it made one, which waits for lookups that are running (see SystemResolver).
  // Listeners, connections and pending dials may outlive the transport; a dial that is still resolving with
  // the transport's own resolver then never completes, and its owner destroys it at its deadline.
  ~TcpTransport() override;

  // True for /ip4/A/tcp/P, /ip6/A/tcp/P, /ip6zone/Z/ip6/A/tcp/P (Z an interface of this machine), /dns/H/tcp/P,
  // /dns4/H/tcp/P and /dns6/H/tcp/P, each optionally followed by /p2p/ID. False for /dnsaddr.
  bool CanDial(const Multiaddr& addr) const override;
  // Listens on the IP address and port of `addr` (an IP shape of CanDial(); port 0 picks a free port). Names
  // are not resolved for listening: /dns* fails with kInvalidArgument.
  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override;
  // Dials one of the CanDial() shapes; others fail with kInvalidArgument (/dnsaddr too, saying it is not
  // supported), and an unknown zone with kNotFound. A name is resolved first (/dns4: IPv4 addresses only,
  // /dns6: IPv6 only, /dns: both, in the resolver's order); its failure keeps the resolver's code (kNotFound
  // when the name has no such address). The addresses are then tried one at a time, in order, until one
  // connects; when none does, the dial fails with kUnavailable and the last address's error. The transport
  // sets no dial timeout of its own: the caller destroys the PendingDial at its deadline, which is safe at any
  // stage (resolving or connecting).
  std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override;

 private:
  EventLoop* const loop_;
  const TcpTransportOptions options_;
  const std::unique_ptr<Resolver> own_resolver_;  // When options.resolver is null.
  Resolver* const resolver_;
};

// Exposed for tests: wraps a connected non-blocking socket (which it then owns and closes) with the
// connection options of `options` (write limits, write budget and keepalive).
std::unique_ptr<RawConnection> WrapTcpSocket(EventLoop* loop, int fd, const TcpTransportOptions& options = {});

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_TCP_TRANSPORT_H_
