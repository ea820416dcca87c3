// Who may connect: the host asks a connection gater at go-libp2p's four points of a connection's life
// (dialing, by peer and by address; accepting; after the secure handshake; after the upgrade) and stops the
// connection at the first refusal, as go-libp2p's ConnectionGater does.
#ifndef LIBP2P_STREAM_CONNECTION_GATER_H_
#define LIBP2P_STREAM_CONNECTION_GATER_H_

#include <optional>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/connection_info.h"

namespace libp2p::stream {

// Each decision returns OK to let the connection go on, or a status whose message says why not (the host
// reports it as kPermissionDenied, "refused by the connection gater <when>: <message>", counts it in
// HostStats and logs it). The defaults allow everything. All calls come from the host's loop thread, so an implementation
// needs no locking when it is changed from that thread too; they must be cheap, as they run for every dial
// and every accepted connection, and must not call back into the host.
class ConnectionGater {
 public:
  virtual ~ConnectionGater() = default;

  // Before we dial a peer we know by id (a dial address ending in /p2p/<id>): a refusal fails the dial
  // before any address is tried.
  virtual Status InterceptPeerDial(const crypto::PeerId& peer) { return OkStatus(); }
  // Before we dial one address (`peer` when the address names one): a refusal fails the dial before the
  // transport connects.
  virtual Status InterceptAddrDial(const std::optional<crypto::PeerId>& peer, const Multiaddr& addr) {
    return OkStatus();
  }
  // An inbound connection has just been accepted, nothing read from it yet: a refusal resets it before any
  // handshake, at the cost of the accept alone.
  virtual Status InterceptAccept(const Multiaddr& local_addr, const Multiaddr& remote_addr) { return OkStatus(); }
  // The secure handshake authenticated `peer`, in either direction; the muxer is not agreed yet. For an
  // outbound connection `remote_addr` is the address actually connected (a resolved /dns one, say).
  virtual Status InterceptSecured(bool inbound, const crypto::PeerId& peer, const Multiaddr& local_addr,
                                  const Multiaddr& remote_addr) {
    return OkStatus();
  }
  // The connection is upgraded (muxer agreed) and about to be reported as connected.
  virtual Status InterceptUpgraded(const ConnectionInfo& connection) { return OkStatus(); }
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_CONNECTION_GATER_H_
