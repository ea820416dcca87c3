#include "libp2p/stream/connection_upgrade.h"

#include <utility>


namespace libp2p::stream {

std::unique_ptr<ConnectionUpgrade> ConnectionUpgrade::Start(EventLoop* loop, std::unique_ptr<RawConnection> raw,
                                                            bool inbound, std::optional<crypto::PeerId> expected,
                                                            UpgradeOptions options, Callback on_done) {
  std::unique_ptr<ConnectionUpgrade> upgrade(new ConnectionUpgrade(loop, std::move(raw), inbound, std::move(expected),
                                                                   std::move(options), std::move(on_done)));
  upgrade->Begin();
  return upgrade;
}

ConnectionUpgrade::ConnectionUpgrade(EventLoop* loop, std::unique_ptr<RawConnection> raw, bool inbound,
                                     std::optional<crypto::PeerId> expected, UpgradeOptions options,
                                     Callback on_done)
    : loop_(loop), inbound_(inbound), expected_(std::move(expected)), options_(std::move(options)),
      on_done_(std::move(on_done)), local_addr_(raw->local_addr()), remote_addr_(raw->remote_addr()),
      raw_(std::move(raw)),
      timeout_(loop->CreateTimer([this] { Finish(WithKeyHint(DeadlineExceededError("connection upgrade timed out"), /*timed_out=*/true)); })) {}

// Members go in reverse declaration order: the negotiation first, then the connections it ran on. A raw or
// secure connection destroyed unfinished resets itself.
ConnectionUpgrade::~ConnectionUpgrade() = default;

Status ConnectionUpgrade::WithKeyHint(const Status& s, bool timed_out) const {
  if (pnet_ == nullptr || security_agreed_ || !(timed_out || pnet_->received_any())) return s;
  return Status(s.code(), s.message() +
                              " (likely a swarm key mismatch: this node is in a private network, and a peer with "
                              "another key or none reads as garbage before the security protocol is agreed)");
}

void ConnectionUpgrade::Begin() {
  timeout_->Schedule(options_.timeout);
  if (options_.swarm_key != nullptr) {
    std::unique_ptr<PnetConnection> protected_raw = ProtectConnection(loop_, std::move(raw_), *options_.swarm_key);
    pnet_ = protected_raw.get();
    raw_ = std::move(protected_raw);
  }
  auto done = [this](StatusOr<std::string> p) {
    if (finished_) return;  // Timed out meanwhile: nothing more to do.
    negotiation_.reset();
    if (!p.ok()) return Finish(WithKeyHint(p.status()));
    security_agreed_ = true;
    pnet_ = nullptr;  // raw_ goes to the handshake.
    NoiseOptions noise{options_.identity, options_.muxers, options_.timeout, options_.noise_static_key};
    auto on_secured = [this](StatusOr<NoiseSession> s) { OnSecured(std::move(s)); };
    handshake_ = inbound_ ? NoiseHandshake::Respond(loop_, std::move(raw_), noise, on_secured)
                          : NoiseHandshake::Initiate(loop_, std::move(raw_), noise, expected_, on_secured);
  };
  const std::vector<std::string> security = {std::string(kNoiseProtocolId)};
  negotiation_ = inbound_ ? MultistreamSelect::Listen(loop_, raw_.get(), security, options_.negotiation_timeout, done)
                          : MultistreamSelect::Dial(loop_, raw_.get(), security, options_.negotiation_timeout, done);
}

void ConnectionUpgrade::OnSecured(StatusOr<NoiseSession> session) {
  if (finished_) return;  // Timed out meanwhile: the session (if any) is dropped, which resets it.
  // The handshake is running its own callback: keep it until the upgrade goes.
  if (!session.ok()) return Finish(session.status());
  if (options_.check_secured) {
    if (Status s = options_.check_secured(session->remote_peer, local_addr_, remote_addr_); !s.ok()) {
      session->connection->Reset();
      return Finish(s);
    }
  }
  secure_ = std::move(session->connection);
  peer_.emplace(session->remote_peer);
  remote_key_.emplace(std::move(session->remote_key));
  if (!session->early_muxer.empty()) {
    return Finish(SecuredConnection{std::move(secure_), *peer_, *remote_key_, std::string(kNoiseProtocolId),
                                    session->early_muxer, local_addr_, remote_addr_});
  }
  auto done = [this](StatusOr<std::string> muxer) {
    if (finished_) return;
    if (!muxer.ok()) return Finish(muxer.status());
    // The negotiation is running its own callback; it is destroyed with the upgrade, before secure_, which
    // it no longer touches once finished.
    Finish(SecuredConnection{std::move(secure_), *peer_, *remote_key_, std::string(kNoiseProtocolId), *muxer,
                             local_addr_, remote_addr_});
  };
  const Duration t = options_.negotiation_timeout;
  negotiation_ = inbound_ ? MultistreamSelect::Listen(loop_, secure_.get(), options_.muxers, t, done)
                          : MultistreamSelect::Dial(loop_, secure_.get(), options_.muxers, t, done);
}

void ConnectionUpgrade::Finish(StatusOr<SecuredConnection> result) {
  if (finished_) return;
  finished_ = true;
  timeout_->Cancel();
  Callback done = std::move(on_done_);
  done(std::move(result));
}

}  // namespace libp2p::stream
