// Upgrading one raw connection to an authenticated, multiplexed one: in a private network the pre-shared
// key's protection first (pnet.h), then /noise agreed with multistream-select, the Noise handshake, then the
// muxer (from the Noise extension when both sides listed one in common, else
// agreed with multistream-select inside the secure channel).
#ifndef LIBP2P_STREAM_CONNECTION_UPGRADE_H_
#define LIBP2P_STREAM_CONNECTION_UPGRADE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/muxer.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/pnet.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

struct UpgradeOptions {
  // Our identity; an observer that must outlive the upgrade.
  const crypto::PrivateKey* identity = nullptr;
  // Muxers we speak, in preference order (announced in the Noise handshake too).
  std::vector<std::string> muxers;
  // The whole upgrade must finish within this time (kDeadlineExceeded otherwise).
  Duration timeout = std::chrono::seconds(10);
  // Each multistream-select negotiation must finish within this time.
  Duration negotiation_timeout = std::chrono::seconds(10);
  // The Noise static key to present, made from `identity`; an observer that must outlive the upgrade. Null:
  // each handshake makes its own.
  const NoiseStaticKey* noise_static_key = nullptr;
  // The private network's key: the connection is protected with it before anything else (pnet.h), and a
  // failure to agree on the security protocol after the peer sent anything (or a timeout meanwhile) is
  // reported as a likely key mismatch, which is how a peer with another key shows. An observer that must
  // outlive the upgrade; null: no private network.
  const SwarmKey* swarm_key = nullptr;
  // Asked once the secure handshake has authenticated the remote, before the muxer is agreed: an error
  // resets the connection and fails the upgrade with that status. Empty: every peer goes on.
  std::function<Status(const crypto::PeerId& peer, const Multiaddr& local_addr, const Multiaddr& remote_addr)>
      check_secured;
};

// What a successful upgrade produced, before the muxer is created: the secure connection and what both sides
// agreed.
struct SecuredConnection {
  std::unique_ptr<RawConnection> secure;  // The Noise connection, owning the raw one.
  crypto::PeerId peer;
  crypto::PublicKey remote_key;
  std::string security;  // "/noise".
  std::string muxer;     // The agreed muxer protocol id, one of UpgradeOptions::muxers.
  Multiaddr local_addr;
  Multiaddr remote_addr;
};

// One upgrade in progress. It owns the raw connection until it hands the secure connection over. The callback
// runs once, from the event loop, with the secured connection or the reason for failure (as the Noise
// handshake and multistream-select report them, kDeadlineExceeded on timeout); the raw connection is reset on
// failure. The callback must not destroy the upgrade: its owner hands it to a DeferredDeleter
// (deferred_deleter.h).
// Destroying the upgrade earlier cancels it (resetting the connection) and the callback never runs.
class ConnectionUpgrade {
 public:
  using Callback = std::function<void(StatusOr<SecuredConnection>)>;

  // Starts upgrading. `expected` (outbound only) is the peer the dialer asked for: another identity fails the
  // handshake with kUnauthenticated.
  static std::unique_ptr<ConnectionUpgrade> Start(EventLoop* loop, std::unique_ptr<RawConnection> raw, bool inbound,
                                                  std::optional<crypto::PeerId> expected, UpgradeOptions options,
                                                  Callback on_done);
  ~ConnectionUpgrade();
  ConnectionUpgrade(const ConnectionUpgrade&) = delete;
  ConnectionUpgrade& operator=(const ConnectionUpgrade&) = delete;

  bool inbound() const { return inbound_; }
  const Multiaddr& remote_addr() const { return remote_addr_; }

 private:
  ConnectionUpgrade(EventLoop* loop, std::unique_ptr<RawConnection> raw, bool inbound,
                    std::optional<crypto::PeerId> expected, UpgradeOptions options, Callback on_done);
  void Begin();
  void OnSecured(StatusOr<NoiseSession> session);
  void Finish(StatusOr<SecuredConnection> result);
  // In a private network, while the security protocol is not agreed yet: `s` with a note that a swarm key
  // mismatch is the likely cause, when the peer sent anything or `timed_out`; otherwise `s`.
  Status WithKeyHint(const Status& s, bool timed_out = false) const;

  EventLoop* const loop_;
  const bool inbound_;
  const std::optional<crypto::PeerId> expected_;
  const UpgradeOptions options_;
  Callback on_done_;
  const Multiaddr local_addr_;
  const Multiaddr remote_addr_;
  // Declared in the order their destructors need: a negotiation observes the connection it runs on (raw_,
  // then secure_), so it is declared after both and destroyed first.
  std::unique_ptr<RawConnection> raw_;
  // raw_ itself when it is protected (a private network), until raw_ goes to the Noise handshake.
  const PnetConnection* pnet_ = nullptr;
  std::unique_ptr<NoiseHandshake> handshake_;
  std::unique_ptr<RawConnection> secure_;
  std::unique_ptr<MultistreamSelect> negotiation_;
  std::optional<crypto::PeerId> peer_;
  std::optional<crypto::PublicKey> remote_key_;
  bool finished_ = false;
  bool security_agreed_ = false;  // The first multistream-select (of the security protocol) succeeded.
  std::unique_ptr<Timer> timeout_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_CONNECTION_UPGRADE_H_
