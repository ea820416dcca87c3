// An in-memory network of transports for deterministic tests and simulations: connections are pairs of
// in-process pipes with TCP-like backpressure, delivered through the event loop (usually a ManualEventLoop).
#ifndef LIBP2P_STREAM_MEMORY_TRANSPORT_H_
#define LIBP2P_STREAM_MEMORY_TRANSPORT_H_

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <memory>

#include "libp2p/base/event_loop.h"
#include "libp2p/stream/stream.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

class MemoryConnection;
class MemoryListener;

// The switchboard: listeners by address. Addresses look like /ip4/127.0.0.1/tcp/N but never touch the OS;
// a Listen() on port 0 gets the next free port. A transport has an IPv4 address of its own (127.0.0.1 unless
// given): its dials come from it, so that tests of per-IP rules see peers at distinct addresses. Not thread-safe; the loop and the network must outlive
// every transport, listener and connection made from it.
//
// With a `latency`, every delivery (a dial's connection, written bytes, an end of stream, a reset) reaches
// the other side that much virtual time after it was sent, as on a real network: tests then see time pass
// between the steps of a handshake. Without one, deliveries run from the loop's queue, in order.
class MemoryNetwork {
 public:
  explicit MemoryNetwork(EventLoop* loop, WriteLimits limits = {}, Duration latency = Duration::zero());
  ~MemoryNetwork();

  // A transport whose connections live in this network, dialing from `ipv4` (dotted text; must parse).
  std::unique_ptr<Transport> CreateTransport(const std::string& ipv4 = "127.0.0.1");

  // Bytes moved per delivery from one side to the other (like one TCP read).
  static constexpr size_t kChunkSize = 64 * 1024;

  // Cuts every connection that exists now, silently, as a pulled cable or a vanished NAT mapping would:
  // from now on their writes succeed and go nowhere, and neither side ever hears of an end or a reset.
  // Listeners and new connections are not affected.
  void BreakConnections();

 private:
  friend class MemoryTransport;
  friend class MemoryListener;
  friend class MemoryConnection;
  EventLoop* const loop_;
  const WriteLimits limits_;
  const Duration latency_;
  uint16_t next_port_ = 10000;
  std::unordered_map<Multiaddr, MemoryListener*> listeners_;
  std::unordered_set<MemoryConnection*> connections_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_MEMORY_TRANSPORT_H_
