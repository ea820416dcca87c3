// A libp2p host: listens and dials over a transport, upgrades every connection (multistream-select, Noise,
// a muxer), answers identify and ping, dispatches inbound streams to protocol handlers by protocol id, opens
// negotiated streams to peers, and reports connection events.
//
// Admission: inbound connections are limited per remote IP, while upgrading, and once established; our own
// dials have a limit of their own, so an inbound flood never starves them. A connection manager closes the
// least useful connections when there are too many. A peer may have several connections at once (both
// sides dialed, or a reconnect while an old connection is still dying): new streams go on the newest one
// that takes streams, and the peer counts as disconnected only when its last connection closes.
#ifndef LIBP2P_STREAM_HOST_H_
#define LIBP2P_STREAM_HOST_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"
#include "libp2p/version.h"
#include "libp2p/stream/connection_gater.h"
#include "libp2p/stream/connection_info.h"
#include "libp2p/stream/connection_manager.h"
#include "libp2p/stream/connection_upgrade.h"
#include "libp2p/stream/identify.h"
#include "libp2p/stream/muxer.h"
#include "libp2p/stream/peer_store.h"
#include "libp2p/stream/transport.h"
#include "libp2p/stream/yamux.h"

namespace libp2p::stream {

// The largest identify message we send: rust-libp2p reads at most 4 KiB, go-libp2p 8 KiB.
inline constexpr size_t kMaxOwnIdentifySize = 4096;

struct HostOptions {
  // Our identity; an observer that must outlive the host.
  const crypto::PrivateKey* identity = nullptr;
  // Muxers we speak, in preference order; they are also announced in the Noise handshake.
  std::vector<std::string> muxers = {std::string(kYamuxProtocolId), "/mplex/6.7.0"};
  std::string agent_version = "libp2p-pubsub-cpp/" + std::string(kVersion);
  std::string protocol_version = "ipfs/0.1.0";

  // --- Admission. ---
  // Decides who may connect (connection_gater.h), at each point of every connection; an observer that must
  // outlive the host, null to admit everyone. A refused inbound connection is reset as soon as the gater
  // refuses it (on accept: before any handshake); a refused dial fails with kPermissionDenied.
  ConnectionGater* gater = nullptr;
  // The private network's pre-shared key (pnet.h): every connection, both ways, is protected with it below
  // multistream-select, so the host talks only to nodes with the same key; a peer with another key (or none)
  // fails its upgrade with a message naming a likely key mismatch. None: a public node.
  std::optional<SwarmKey> swarm_key;
  // Inbound connections being upgraded at once. When a new one arrives at the limit, the oldest one still
  // upgrading is dropped to make room: a stalled handshake loses its place to a newcomer.
  size_t max_inbound_upgrades = 64;
  // Established connections. An inbound connection beyond it is refused; our own dials are limited by
  // max_pending_dials instead (the connection manager trims the total back).
  size_t max_connections = 512;
  // Our own dials in progress (connecting and upgrading); Dial() beyond it fails with kResourceExhausted.
  size_t max_pending_dials = 64;
  // Inbound connections (upgrading and established) from one IP address (for IPv6, one /64: a host gets a
  // whole /64 as easily as one address). Loopback addresses (127.0.0.0/8, ::1) are exempt unless
  // limit_loopback is set, as in go-libp2p: every local test and benchmark shares 127.0.0.1.
  size_t max_connections_per_ip = 8;
  bool limit_loopback = false;
  ConnectionManagerOptions connection_manager;

  // --- Time limits. ---
  // A dial (resolving, connecting) must produce a connection within this time; the upgrade then has
  // upgrade_timeout.
  Duration dial_timeout = std::chrono::seconds(15);
  Duration upgrade_timeout = std::chrono::seconds(10);
  Duration negotiation_timeout = std::chrono::seconds(10);
  // Connections whose muxer has no keep-alive of its own (mplex) are pinged this often; a failed ping
  // (timeout included) closes the connection. Zero disables it. (Yamux connections use yamux pings.)
  Duration keepalive_interval = std::chrono::seconds(15);
  Duration ping_timeout = std::chrono::seconds(10);

  // --- Memory. ---
  // The node's budget for buffered bytes, an observer that must outlive the host (share it with the
  // transport, which the caller builds); null: the host keeps one of its own of memory_limit. Each
  // connection gets a budget of connection_memory_limit under it, which its muxer draws on (yamux windows
  // grown past 256 KiB, queued writes; mplex unread bytes).
  MemoryBudget* memory_budget = nullptr;
  size_t memory_limit = size_t{1} << 30;
  size_t connection_memory_limit = 32 * 1024 * 1024;

  YamuxOptions yamux;
  MuxerLimits mplex;

  // The machine's interface addresses, for advertising a wildcard listener; empty means
  // SystemInterfaceAddresses(). Tests inject their own.
  std::function<std::vector<Multiaddr>()> interface_addresses;
};

// Counters of what the host refused or closed, for operators and tests.
struct HostStats {
  uint64_t inbound_refused_per_ip = 0;     // Over max_connections_per_ip.
  uint64_t inbound_refused_full = 0;       // Over max_connections.
  uint64_t inbound_upgrades_evicted = 0;   // Dropped for a newcomer at max_inbound_upgrades.
  uint64_t dials_refused = 0;              // Over max_pending_dials.
  uint64_t upgrades_failed = 0;            // Handshake errors and timeouts.
  uint64_t connections_trimmed = 0;        // Closed by the connection manager.
  uint64_t keepalive_failures = 0;         // Connections closed after a failed keep-alive ping.
  uint64_t peer_records_ignored = 0;       // Signed peer records in identify that did not open or match.
  // Refused by HostOptions::gater, at each of its points: our dials (by peer id or address), inbound
  // connections on accept, connections after the secure handshake, and after the upgrade.
  uint64_t gater_refused_dials = 0;
  uint64_t gater_refused_accepts = 0;
  uint64_t gater_refused_secured = 0;
  uint64_t gater_refused_upgraded = 0;
};

// Owns its listeners, connections and pending work; the loop and the transport are observers that must
// outlive it. All callbacks run on the loop; a callback must not destroy the host.
class Host {
 public:
  struct Events {
    // Each connection, once upgraded.
    std::function<void(const ConnectionInfo&)> on_connected;
    // Identify answered on a connection, or an identify push arrived. The info is what the host now knows
    // of the peer (a push's absent fields keep their earlier values).
    std::function<void(const crypto::PeerId&, const IdentifyInfo&)> on_identified;
    // Each connection that goes, whatever the reason (the status says why). IsConnected() tells whether the
    // peer still has another.
    std::function<void(const ConnectionInfo&, const Status& why)> on_disconnected;
    // Each inbound connection that ended before it was established: refused on accept (by the gater or a
    // limit), or its upgrade failed (the handshake, a private network's key mismatch, a timeout, the gater
    // after the handshake). A flood makes one call per connection: receivers that report it should limit
    // themselves.
    std::function<void(const Multiaddr& remote_addr, const Status& why)> on_inbound_failed;
  };
  // Receives an inbound stream that negotiated `protocol`; the handler owns it.
  using StreamHandler =
      std::function<void(std::unique_ptr<Stream> stream, const crypto::PeerId& peer, const std::string& protocol)>;
  using DialCallback = std::function<void(StatusOr<crypto::PeerId> peer)>;
  // Receives the stream and the protocol it negotiated, or the reason it failed.
  using StreamCallback = std::function<void(StatusOr<std::unique_ptr<Stream>> stream, const std::string& protocol)>;

  Host(EventLoop* loop, Transport* transport, HostOptions options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const crypto::PeerId& peer_id() const { return peer_id_; }
  // Adds a receiver of connection events; every receiver is called, in the order added. Returns a handle
  // for RemoveEvents().
  uint64_t AddEvents(Events events);
  void RemoveEvents(uint64_t handle);

  // Starts listening; fails as the transport does. On success the advertised addresses and our signed peer
  // record (sent in identify) are renewed, with a higher seq, and connected peers get an identify push.
  Status Listen(const Multiaddr& addr);
  // The bound addresses (without /p2p/), wildcards included.
  std::vector<Multiaddr> listen_addrs() const;
  // What identify and our signed peer record advertise: the bound addresses with wildcards replaced by the
  // interface addresses, most useful first, cut to keep our identify message within kMaxOwnIdentifySize
  // (the least useful go first: link-local, then loopback, then private, then public addresses).
  const std::vector<Multiaddr>& advertised_addrs() const { return advertised_; }

  // Dials and upgrades. With a /p2p/ suffix the remote must be that peer. The callback runs from the loop
  // with the remote's peer id once the connection is upgraded (and on_connected has run), or the failure:
  // kInvalidArgument for our own peer id or an unparseable /p2p/ value, kPermissionDenied when the gater
  // refuses the peer or the address (before anything is sent) or the connection (after the handshake),
  // kResourceExhausted over max_pending_dials, kDeadlineExceeded past dial_timeout or upgrade_timeout, or the
  // transport's or the upgrade's error.
  void Dial(const Multiaddr& addr, DialCallback on_done);

  // Registers the handler of inbound streams for `protocol`, replacing any earlier one, and tells connected
  // peers with an identify push (one push for all changes made in one loop turn).
  void SetStreamHandler(const std::string& protocol, StreamHandler handler);
  void RemoveStreamHandler(const std::string& protocol);
  // Every protocol we answer: the handlers' and identify's and ping's.
  std::vector<std::string> protocols() const;

  // Opens a stream to a connected peer, on its newest connection that takes new streams, and negotiates the
  // first of `protocols` it speaks. kNotFound when not connected, kNotFound (from multistream-select) when
  // it speaks none. Returns a handle for CancelNewStream().
  uint64_t NewStream(const crypto::PeerId& peer, std::vector<std::string> protocols, StreamCallback on_done);
  // Cancels a NewStream() whose callback has not run: it then never runs (a stream already opened is reset).
  // A no-op for a handle whose callback ran.
  void CancelNewStream(uint64_t handle);

  // Whether the transport can dial `addr`.
  bool CanDial(const Multiaddr& addr) const { return transport_->CanDial(addr); }

  // Pings a connected peer over a new /ipfs/ping/1.0.0 stream.
  void Ping(const crypto::PeerId& peer, std::function<void(StatusOr<Duration> rtt)> on_done);

  // Whether the peer has at least one connection.
  bool IsConnected(const crypto::PeerId& peer) const { return by_peer_.count(peer) > 0; }
  // Whether any of the peer's connections is one we dialed (false when not connected).
  bool IsOutbound(const crypto::PeerId& peer) const;
  std::vector<crypto::PeerId> connected_peers() const;
  // The peer's connections, oldest first.
  std::vector<ConnectionInfo> connections_of(const crypto::PeerId& peer) const;
  size_t connection_count() const { return connections_.size(); }
  // Closes every connection to `peer` (on_disconnected runs for each with `why`). Never destroys anything
  // inline, so it may be called from any callback, including one of that peer's own streams.
  void Disconnect(const crypto::PeerId& peer, const Status& why = CancelledError("closed locally"));

  const PeerStore& peer_store() const { return peer_store_; }
  ConnectionManager& connection_manager() { return connection_manager_; }
  const HostStats& stats() const { return stats_; }
  // Remote IPs (or IPv6 /64s) with inbound connections counted against max_connections_per_ip, for tests.
  size_t tracked_inbound_ips() const { return inbound_per_ip_.size(); }
  EventLoop* loop() const { return loop_; }

 private:
  struct Connection;
  struct Dialing;
  struct Upgrading;
  struct StreamJob;

  void OnAccept(std::unique_ptr<RawConnection> raw);
  void StartUpgrade(std::unique_ptr<RawConnection> raw, bool inbound, std::optional<crypto::PeerId> expected,
                    std::string ip, DialCallback on_done);
  void OnUpgraded(uint64_t id, StatusOr<SecuredConnection> result);
  // The gater's `verdict` at one point (`when` names it): OK, or, counted in `counter` and logged, the
  // refusal as kPermissionDenied with the gater's reason.
  Status GaterVerdict(const char* when, uint64_t* counter, const Status& verdict);
  // Releases an inbound connection's place in the per-IP count.
  void ReleaseIp(const std::string& ip);
  // Tells the receivers of on_inbound_failed.
  void ReportInboundFailure(const Multiaddr& remote_addr, const Status& why);
  void CloseConnection(uint64_t id, const Status& why, bool local);
  void OnInboundStream(uint64_t connection_id, std::unique_ptr<Stream> stream);
  // Opens a stream on one connection and negotiates one of `protocols`. Returns a handle for
  // CancelNewStream().
  uint64_t OpenStreamOn(Connection* connection, std::vector<std::string> protocols, StreamCallback on_done);
  Connection* NewestConnection(const crypto::PeerId& peer) const;
  void RunIdentify(uint64_t connection_id);
  void OnIdentify(const crypto::PeerId& peer, StatusOr<IdentifyInfo> info, bool push);
  IdentifyInfo OurIdentify(const Multiaddr& observed) const;
  void PushIdentify();
  // Pings `connection` on a new stream; `on_done` gets the round trip or the failure.
  void PingOn(Connection* connection, std::function<void(StatusOr<Duration>)> on_done);
  void Keepalive(uint64_t connection_id);
  void MaybeTrim();
  void RegisterBuiltinHandlers();
  // Renews advertised_ from the listeners and the handlers (what fits in kMaxOwnIdentifySize with the
  // protocols we answer now), and our signed peer record when the list changed or `resign` is set.
  void RefreshAdvertised(bool resign);
  // Answers an identify request that arrived on `connection_id`.
  void AnswerIdentifyOn(uint64_t connection_id, std::unique_ptr<Stream> stream);

  // Stream jobs: work the host does on a stream it owns meanwhile (negotiating, identifying, pinging,
  // letting a closed stream drain). Ended jobs go to DeleteSoon().
  StreamJob* AddJob(std::unique_ptr<Stream> stream, uint64_t* id);
  void EndJob(uint64_t id);
  // Takes the stream out of a job and ends the job; null when the job ended already.
  std::unique_ptr<Stream> TakeStream(uint64_t id);
  // Keeps a stream whose last bytes are in flight until the remote closes it too (or a while passes), so
  // that it ends with FIN both ways rather than a reset.
  void Linger(std::unique_ptr<Stream> stream);
  // Runs `fn` from the loop, unless the host is destroyed or the returned handle cancelled first (for
  // callbacks that must not run inside the call that caused them).
  uint64_t RunSoon(std::function<void()> fn);

  // Calls `f` on each receiver of events, on a copy of the list (a receiver may add or remove receivers),
  // while `go_on()` holds.
  template <typename F, typename G>
  void ForEachEvents(F&& f, G&& go_on);

  EventLoop* const loop_;
  Transport* const transport_;
  const HostOptions options_;
  const crypto::PeerId peer_id_;
  const NoiseStaticKey noise_static_key_;  // Presented by every handshake of this host.
  // The node's budget (options_.memory_budget, or own_budget_): declared before the connections, whose
  // budgets are its children.
  std::unique_ptr<MemoryBudget> own_budget_;
  MemoryBudget* const node_budget_;
  std::vector<std::pair<uint64_t, Events>> events_;
  PeerStore peer_store_;
  ConnectionManager connection_manager_;
  HostStats stats_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // The connection whose inbound stream the handler being called received (0 outside handlers).
  uint64_t handling_connection_ = 0;
  std::map<std::string, StreamHandler> handlers_;
  std::vector<Multiaddr> advertised_;
  // Our signed peer record (an encoded envelope) of advertised_, empty until we listen; its seq only grows.
  Bytes own_peer_record_;
  uint64_t own_peer_record_seq_ = 0;
  uint64_t next_id_ = 1;
  // Established connections by id (oldest first), and each peer's, oldest first.
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  crypto::PeerMap<std::vector<Connection*>> by_peer_;
  // Work in progress, by id (ids grow: oldest first).
  std::unordered_map<uint64_t, std::unique_ptr<Dialing>> dials_;
  std::map<uint64_t, std::unique_ptr<Upgrading>> upgrades_;
  std::unordered_map<uint64_t, std::unique_ptr<StreamJob>> jobs_;
  size_t inbound_upgrades_ = 0;
  size_t outbound_upgrades_ = 0;
  // Inbound connections (upgrading or established) per remote IP, exempt addresses not counted.
  std::unordered_map<std::string, size_t> inbound_per_ip_;
  std::deque<std::pair<uint64_t, std::function<void()>>> soon_;
  std::unique_ptr<Task> soon_task_;
  std::unique_ptr<Task> push_task_;
  std::unique_ptr<Timer> trim_timer_;
  // Objects that ended inside their own call stacks. Declared last: what still waits is destroyed first
  // when the host goes, while everything it uses exists.
  DeferredDeleter deleter_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_HOST_H_
