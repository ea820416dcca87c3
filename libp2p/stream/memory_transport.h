// An in-memory network of transports for deterministic tests and simulations: connections are pairs of
// in-process pipes with TCP-like backpressure, delivered through the event loop (usually a ManualEventLoop).
#ifndef LIBP2P_STREAM_MEMORY_TRANSPORT_H_
#define LIBP2P_STREAM_MEMORY_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/stream/stream.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

class MemoryConnection;
class MemoryListener;

// An IPv4 address as a number in host byte order (10.0.0.1 is 0x0a000001).
using Ipv4 = uint32_t;

// Parses dotted IPv4 text ("10.0.0.1"); fails on anything else.
StatusOr<Ipv4> ParseIpv4(const std::string& text);
std::string FormatIpv4(Ipv4 ip);

// How bytes cross a simulated network; every part is optional. With none of it set, the network behaves as
// described on MemoryNetwork (one fixed latency, unlimited bandwidth).
struct LinkModel {
  // The one-way propagation delay from one address to another (dials, data, ends of stream, resets). Null:
  // the network's fixed latency for every pair.
  std::function<Duration(Ipv4 from, Ipv4 to)> latency;
  // Each delivery of written bytes is late by a further uniform draw from [0, jitter], from a generator
  // seeded with `seed`; the bytes of one connection still arrive in the order they were written.
  Duration jitter = Duration::zero();
  uint64_t seed = 0;
  // Noise on this network's connections seals transport messages with a size-preserving null cipher (the
  // plaintext, then 16 zero bytes where the tag goes) instead of ChaCha20-Poly1305, and its handshake
  // agrees on keys with a stand-in for X25519 (random ephemeral keys, and a hash of the two public keys for
  // each agreement). The handshake's messages, identity signatures and their checks stay real, and every
  // message keeps its real size on the wire, so a simulation gives the same results either way and saves
  // the curve's and the cipher's CPU (its CPU model charges decryption as simulated time instead). For
  // simulations only: nothing on such a network is secret or authenticated (no one proves they hold a
  // private key, so a node could replay another's signed handshake payload).
  bool null_cipher = false;
};

// The access link of one address: bytes leave at most at the upload rate and arrive at most at the download
// rate, queueing behind earlier bytes (a fluid model: each write books its place in both queues when it is
// written). 0: unlimited.
struct AccessLink {
  uint64_t upload_bytes_per_second = 0;
  uint64_t download_bytes_per_second = 0;
};

// Bytes written by and delivered to one address, counted when written (they include every layer above:
// Noise, the muxer, the protocols); bytes from another shard count as received when the receiving shard
// begins its next window.
struct Traffic {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

// How a network splits into shards that run in parallel, one thread each (see MemoryNetwork(Sharding, ...)).
struct Sharding {
  // One loop per shard (at least one), each run by one thread at a time.
  std::vector<EventLoop*> loops;
  // The shard of an address: its transports, listeners, connections and access link live there, on that
  // shard's loop. Must return less than loops.size(); null: shard 0.
  std::function<size_t(Ipv4)> shard_of;
  // How far apart the shards' clocks may run: the least one-way latency between addresses of different
  // shards. With more than one shard it must be positive, and a latency the model gives between shards
  // below it is raised to it.
  Duration lookahead{};
  // Windows per lookahead (at least 1): the lag, in windows, between a window in which one shard sends
  // another something and the window at whose beginning the other handles it. With windows of at most
  // lookahead / windows_per_lookahead, a shard may begin window k once every other one has finished window
  // k - windows_per_lookahead: it may run up to a lookahead ahead of the others wherever they stand, rather
  // than only from the end of a window, and waits for them less.
  size_t windows_per_lookahead = 1;
};

// The switchboard: listeners by address. Addresses look like /ip4/127.0.0.1/tcp/N but never touch the OS;
// a Listen() on port 0 gets the next free port. A transport has an IPv4 address of its own (127.0.0.1 unless
// given): its dials come from it, so that tests of per-IP limits see peers at distinct addresses. Not
// thread-safe (but see the sharded constructor); the loops and the network must outlive every transport,
// listener and connection made from it.
//
// With a `latency`, every delivery (a dial's connection, written bytes, an end of stream, a reset) reaches
// the other side that much virtual time after it was sent, as on a real network: tests then see time pass
// between the steps of a handshake. Without one, deliveries run from the loop's queue, in order. A LinkModel
// adds per-pair latency, jitter, access-link bandwidth and partitions, for simulations.
//
// Everything one end of a connection does to the other (bytes written, bytes taken, an end of stream, a
// close, a reset) travels as a message to the other end's shard, and so does a dial to the listener's.
class MemoryNetwork {
 public:
  explicit MemoryNetwork(EventLoop* loop, WriteLimits limits = {}, Duration latency = Duration::zero());
  // A network whose deliveries follow `model` (always on the loop's timers, never inline).
  MemoryNetwork(EventLoop* loop, WriteLimits limits, LinkModel model);
  // A network of several shards, for a simulation on as many threads. Time advances in windows of at most
  // lookahead() / windows_per_lookahead() of virtual time, the same for every shard. A shard's thread calls
  // BeginWindow(shard) and then runs its loop to the window's end; it may begin window k once every other
  // shard has finished window k - windows_per_lookahead() (so no shard is more than a lookahead ahead of
  // another). Only BreakConnections(), Partition(), Heal() and TrafficOf() touch more than one shard, and
  // they may only be called while every shard is stopped at the end of the same window.
  //
  // Within a shard, a message takes effect at once, as on a one-loop network; between shards, when the
  // receiving shard begins the window windows_per_lookahead() after the one it was sent in, which is before
  // it could observe it (no latency between shards is below the lookahead). So a run is deterministic for a
  // given number of shards and windows, whatever the threads' timing; but its results differ with either. The model differs from a one-loop network's
  // in one way: a dial takes a round trip (the listener accepts one latency after the dial, the dialer's
  // connection is up one latency after that), since a shard learns of another's listeners only by message.
  MemoryNetwork(Sharding sharding, WriteLimits limits, LinkModel model);
  ~MemoryNetwork();

  // Sets the access link of `ip` (dotted text; must parse), for connections made and bytes written from now.
  void SetAccessLink(const std::string& ip, AccessLink link);

  // What `ip` has sent and received so far (zeros for an address never seen).
  Traffic TrafficOf(const std::string& ip) const;

  // A transport whose connections live in this network, dialing from `ipv4` (dotted text; must parse), on
  // that address's shard.
  std::unique_ptr<Transport> CreateTransport(const std::string& ipv4 = "127.0.0.1");

  // Starts `shard`'s next window, k: handles what the other shards sent it during their window
  // k - windows_per_lookahead() (in the order of the sending shards, then as sent). Call it on the shard's
  // thread (see the sharded constructor). A no-op with one shard. After the last window, calling it
  // windows_per_lookahead() more times for every shard (with the threads stopped) hands over what is left.
  void BeginWindow(size_t shard);
  size_t shard_count() const { return shards_.size(); }
  Duration lookahead() const { return lookahead_; }
  size_t windows_per_lookahead() const { return windows_per_lookahead_; }

  // Bytes moved per delivery from one side to the other (like one TCP read). Four of Noise's largest
  // transport messages: a write of a few of them (a block) arrives in one delivery, and its messages are
  // opened where they lie instead of being gathered across deliveries.
  static constexpr size_t kChunkSize = 256 * 1024;

  // Cuts every connection that exists now, silently, as a pulled cable or a vanished NAT mapping would:
  // from now on their writes succeed and go nowhere, and neither side ever hears of an end or a reset.
  // Listeners and new connections are not affected.
  void BreakConnections();

  // Separates the addresses in `side` from every other address until Heal(): connections between the two
  // sides break as with BreakConnections(), and dials across fail (after one latency) as unreachable.
  // Connections within a side are not affected. A second Partition() replaces the first.
  void Partition(const std::vector<std::string>& side);
  void Heal();

 private:
  friend class MemoryTransport;
  friend class MemoryConnection;
  friend class ShardedPendingDial;
  struct Endpoint {
    AccessLink link;
    MonoTime upload_free;    // When the upload queue empties.
    MonoTime download_free;  // When the download queue empties.
    Traffic traffic;
  };
  struct DialRequest;
  struct Message;
  struct Shard;

  // The one-way latency from `from` to `to`.
  Duration LatencyBetween(Ipv4 from, Ipv4 to) const;
  size_t ShardOf(Ipv4 ip) const;
  // Books `bytes` written now on `shard` from the address of endpoint `from` (of that shard) in its upload
  // queue, counts them, and returns when they reach the receiver's access link (`latency` and any jitter
  // later).
  MonoTime Depart(size_t shard, Endpoint* from, size_t bytes, Duration latency);
  // Books `bytes` reaching endpoint `to` (the receiving connection's own, on its shard) at `at` in its
  // download queue, counts them, and returns when they have arrived.
  MonoTime Arrive(Endpoint* to, size_t bytes, MonoTime at);
  // Sends `message` from shard `from` to the connection or dial it names on shard `to`: handled now when
  // that is the same shard, else when `to` begins its next window.
  void Post(size_t from, size_t to, Message message);
  void Handle(size_t shard, Message message);
  // The listener side of a dial between shards, one latency after it was made.
  void Accept(size_t shard, const DialRequest& request);
  bool Separated(Ipv4 a, Ipv4 b) const;
  // Deliveries run from timers (a model or a latency is set) rather than from the loop's queue.
  bool timed() const { return latency_ > Duration::zero() || modeled_; }
  bool sharded() const { return shards_.size() > 1; }
  bool null_cipher() const { return modeled_ && model_.null_cipher; }

  const WriteLimits limits_;
  const Duration latency_;
  const bool modeled_;
  const LinkModel model_;
  const std::function<size_t(Ipv4)> shard_of_;
  const Duration lookahead_;
  const size_t windows_per_lookahead_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unordered_set<Ipv4> partition_;  // One side of the partition; empty: none.
};
}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_MEMORY_TRANSPORT_H_
