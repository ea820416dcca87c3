// A libp2p host: listens and dials over a transport, upgrades every connection (multistream-select, Noise,
// a muxer), answers identify and ping, dispatches inbound streams to protocol handlers by protocol id, opens
// negotiated streams to peers, and reports connection events.
#ifndef LIBP2P_STREAM_HOST_H_
#define LIBP2P_STREAM_HOST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/liveness.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/identify.h"
#include "libp2p/stream/muxer.h"
#include "libp2p/stream/peer_store.h"
#include "libp2p/stream/transport.h"
#include "libp2p/stream/yamux.h"

namespace libp2p::stream {

struct HostOptions {
  // Our identity; an observer that must outlive the host.
  const crypto::Ed25519PrivateKey* identity = nullptr;
  // Muxers we speak, in preference order; they are also announced in the Noise handshake.
  std::vector<std::string> muxers = {std::string(kYamuxProtocolId), "/mplex/6.7.0"};
  std::string agent_version = "libp2p-pubsub-cpp/0.1.0";
  std::string protocol_version = "ipfs/0.1.0";
  // Connections at once; further inbound ones are refused at once, further dials fail.
  size_t max_connections = 512;
  Duration upgrade_timeout = std::chrono::seconds(10);
  Duration negotiation_timeout = std::chrono::seconds(10);
  YamuxOptions yamux;
  MuxerLimits mplex;
};

// One upgraded connection as the events describe it.
struct ConnectionInfo {
  crypto::PeerId peer;
  bool inbound = false;
  std::string security;
  std::string muxer;
  Multiaddr remote_addr;
};

// Owns its listeners, connections and pending negotiations; the loop and the transport are observers that
// must outlive it. All callbacks run on the loop; a callback must not destroy the host.
class Host {
 public:
  struct Events {
    std::function<void(const ConnectionInfo&)> on_connected;
    // Identify answered (and its key matched the peer), or an identify push arrived.
    std::function<void(const crypto::PeerId&, const IdentifyInfo&)> on_identified;
    std::function<void(const ConnectionInfo&, const Status& why)> on_disconnected;
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
  // Adds a receiver of connection events; every receiver added is called, in the order added.
  void AddEvents(Events events) { events_.push_back(std::move(events)); }

  // Starts listening; fails as the transport does. On success our signed peer record (sent in identify) is
  // re-signed with the new address list and a higher seq.
  Status Listen(const Multiaddr& addr);
  // The bound addresses (without /p2p/).
  std::vector<Multiaddr> listen_addrs() const;

  // Dials and upgrades. With a /p2p/ suffix the remote must be that peer. The callback runs from the loop
  // with the remote's peer id once the connection is upgraded (and on_connected has run), or the failure.
  void Dial(const Multiaddr& addr, DialCallback on_done);

  // Registers the handler of inbound streams for `protocol`, replacing any earlier one, and tells connected
  // peers with an identify push.
  void SetStreamHandler(const std::string& protocol, StreamHandler handler);
  void RemoveStreamHandler(const std::string& protocol);
  // Every protocol we answer: the handlers' and identify's and ping's.
  std::vector<std::string> protocols() const;

  // Opens a stream to a connected peer and negotiates the first of `protocols` it speaks. kNotFound when
  // not connected, kNotFound (from multistream-select) when it speaks none.
  void NewStream(const crypto::PeerId& peer, std::vector<std::string> protocols, StreamCallback on_done);

  // Pings a connected peer over a new /ipfs/ping/1.0.0 stream.
  void Ping(const crypto::PeerId& peer, std::function<void(StatusOr<Duration> rtt)> on_done);

  bool IsConnected(const crypto::PeerId& peer) const { return connections_.count(peer) > 0; }
  // Whether we dialed the connection to `peer` (false when inbound or not connected).
  bool IsOutbound(const crypto::PeerId& peer) const;
  std::vector<crypto::PeerId> connected_peers() const;
  // Closes the connection to `peer` (on_disconnected runs).
  void Disconnect(const crypto::PeerId& peer);

  const PeerStore& peer_store() const { return peer_store_; }
  EventLoop* loop() const { return loop_; }

 private:
  struct Connection;
  class Upgrade;
  struct Pending;

  void StartUpgrade(std::unique_ptr<RawConnection> raw, bool inbound, std::optional<crypto::PeerId> expected,
                    DialCallback on_done);
  void OnUpgraded(uint64_t upgrade_id, StatusOr<std::pair<std::unique_ptr<MuxedConnection>, ConnectionInfo>> r);
  void OnInboundStream(const crypto::PeerId& peer, std::unique_ptr<Stream> stream);
  void OnConnectionClosed(const crypto::PeerId& peer, const Status& why);
  void RunIdentify(const crypto::PeerId& peer);
  void OnIdentify(const crypto::PeerId& peer, StatusOr<IdentifyInfo> info);
  IdentifyInfo OurIdentify(const Multiaddr& observed) const;
  void PushIdentify();
  // Keeps a stream whose last bytes are in flight until the remote closes it (or a while passes).
  void Linger(std::unique_ptr<Stream> stream);
  uint64_t AddPending(std::unique_ptr<Pending> p);
  void ErasePending(uint64_t id);
  // Erases from the loop, for code running inside a callback of the pending entry's own objects.
  void ErasePendingLater(uint64_t id);
  void RegisterBuiltinHandlers();
  // Signs a new peer record of our listen addresses into own_peer_record_.
  void RefreshPeerRecord();

  EventLoop* const loop_;
  Transport* const transport_;
  const HostOptions options_;
  const crypto::PeerId peer_id_;
  std::vector<Events> events_;
  PeerStore peer_store_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<std::string, StreamHandler> handlers_;
  // Our signed peer record (an encoded envelope), empty until we listen; its seq only ever grows.
  Bytes own_peer_record_;
  uint64_t own_peer_record_seq_ = 0;
  std::unordered_map<crypto::PeerId, std::unique_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, std::unique_ptr<Upgrade>> upgrades_;
  std::unordered_map<uint64_t, std::unique_ptr<Pending>> pending_;
  // Objects that ended inside their own callbacks, destroyed from the loop by reaper_.
  std::vector<std::unique_ptr<Upgrade>> doomed_upgrades_;
  std::vector<std::unique_ptr<Connection>> doomed_connections_;
  std::unique_ptr<Timer> reaper_;
  uint64_t next_id_ = 1;
  Liveness liveness_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_HOST_H_
