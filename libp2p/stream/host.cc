#include "libp2p/stream/host.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "libp2p/crypto/peer_record.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/ping.h"

namespace libp2p::stream {

using crypto::PeerId;

struct Host::Connection {
  std::unique_ptr<MuxedConnection> muxed;
  ConnectionInfo info;
  PeerId dialer;  // Who opened the connection, for choosing between duplicate connections.
};

// Whatever must stay alive while a stream is being negotiated, identified, pinged or drained.
struct Host::Pending {
  std::unique_ptr<PendingDial> dial;
  std::unique_ptr<Stream> stream;
  std::unique_ptr<MultistreamSelect> negotiation;
  std::unique_ptr<IdentifyRequest> identify;
  std::unique_ptr<PingResponder> responder;
  std::unique_ptr<Pinger> pinger;
  std::unique_ptr<Timer> timer;
};

// Upgrades one raw connection: /noise by multistream-select, the Noise handshake, then the muxer (from the
// Noise extension, else by multistream-select inside the secure channel).
class Host::Upgrade {
 public:
  using Result = StatusOr<std::pair<std::unique_ptr<MuxedConnection>, ConnectionInfo>>;

  Upgrade(Host* host, uint64_t id, std::unique_ptr<RawConnection> raw, bool inbound,
          std::optional<PeerId> expected, DialCallback on_done)
      : on_done(std::move(on_done)), host_(host), id_(id), raw_(std::move(raw)), inbound_(inbound),
        expected_(std::move(expected)),
        timeout_(host->loop_->CreateTimer([this] { Finish(DeadlineExceededError("connection upgrade timed out")); })) {}

  void Start() {
    timeout_->Schedule(host_->options_.upgrade_timeout);
    remote_addr_ = raw_->remote_addr();
    auto done = [this](StatusOr<std::string> p) {
      if (!p.ok()) return Finish(p.status());
      NoiseOptions options{host_->options_.identity, host_->options_.muxers, host_->options_.upgrade_timeout};
      auto on_secured = [this](StatusOr<NoiseSession> s) { OnSecured(std::move(s)); };
      handshake_ = inbound_ ? NoiseHandshake::Respond(host_->loop_, std::move(raw_), options, on_secured)
                            : NoiseHandshake::Initiate(host_->loop_, std::move(raw_), options, expected_, on_secured);
    };
    const std::vector<std::string> security = {std::string(kNoiseProtocolId)};
    const Duration t = host_->options_.negotiation_timeout;
    negotiation_ = inbound_ ? MultistreamSelect::Listen(host_->loop_, raw_.get(), security, t, done)
                            : MultistreamSelect::Dial(host_->loop_, raw_.get(), security, t, done);
  }

  DialCallback on_done;

 private:
  void OnSecured(StatusOr<NoiseSession> session) {
    if (!session.ok()) return Finish(session.status());
    secure_ = std::move(session->connection);
    peer_.emplace(session->remote_peer);
    if (!session->early_muxer.empty()) return Muxed(session->early_muxer);
    auto done = [this](StatusOr<std::string> p) {
      if (!p.ok()) return Finish(p.status());
      Muxed(*p);
    };
    const Duration t = host_->options_.negotiation_timeout;
    negotiation_ = inbound_ ? MultistreamSelect::Listen(host_->loop_, secure_.get(), host_->options_.muxers, t, done)
                            : MultistreamSelect::Dial(host_->loop_, secure_.get(), host_->options_.muxers, t, done);
  }

  void Muxed(const std::string& muxer) {
    Host* host = host_;
    const PeerId peer = *peer_;
    MuxedConnection::Handlers handlers{
        [host, peer](std::unique_ptr<Stream> s) { host->OnInboundStream(peer, std::move(s)); },
        [host, peer](const Status& why) { host->OnConnectionClosed(peer, why); }};
    std::unique_ptr<MuxedConnection> muxed;
    if (muxer == kYamuxProtocolId) {
      muxed = CreateYamuxConnection(host_->loop_, std::move(secure_), !inbound_, std::move(handlers),
                                    host_->options_.yamux);
    } else if (muxer == kMplexProtocolId) {
      muxed = CreateMplexConnection(host_->loop_, std::move(secure_), !inbound_, std::move(handlers),
                                    host_->options_.mplex);
    } else {
      return Finish(NotFoundError("no muxer in common"));
    }
    ConnectionInfo info{peer, inbound_, std::string(kNoiseProtocolId), muxer, remote_addr_};
    Finish(std::make_pair(std::move(muxed), std::move(info)));
  }

  void Finish(Result result) {
    if (finished_) return;
    finished_ = true;
    timeout_->Cancel();
    host_->OnUpgraded(id_, std::move(result));  // Destroys this.
  }

  Host* const host_;
  const uint64_t id_;
  std::unique_ptr<RawConnection> raw_;
  const bool inbound_;
  const std::optional<PeerId> expected_;
  Multiaddr remote_addr_;
  std::unique_ptr<MultistreamSelect> negotiation_;
  std::unique_ptr<NoiseHandshake> handshake_;
  std::unique_ptr<RawConnection> secure_;
  std::optional<PeerId> peer_;
  bool finished_ = false;
  std::unique_ptr<Timer> timeout_;
};

Host::Host(EventLoop* loop, Transport* transport, HostOptions options)
    : loop_(loop), transport_(transport), options_(std::move(options)),
      peer_id_(PeerId::FromPublicKey(options_.identity->public_key())),
      reaper_(loop->CreateTimer([this] {
        doomed_upgrades_.clear();
        doomed_connections_.clear();
      })) {
  RegisterBuiltinHandlers();
}

Host::~Host() {
  // Pending work first: its streams belong to connections destroyed after.
  pending_.clear();
  doomed_upgrades_.clear();
  doomed_connections_.clear();
  upgrades_.clear();
  for (auto& [peer, conn] : connections_) conn->muxed->Close();
  connections_.clear();
}

Status Host::Listen(const Multiaddr& addr) {
  ASSIGN_OR_RETURN(std::unique_ptr<Listener> listener,
                   transport_->Listen(addr, [this](std::unique_ptr<RawConnection> raw) {
                     if (connections_.size() + upgrades_.size() >= options_.max_connections) {
                       raw->Reset();
                       return;
                     }
                     StartUpgrade(std::move(raw), /*inbound=*/true, std::nullopt, nullptr);
                   }));
  listeners_.push_back(std::move(listener));
  RefreshPeerRecord();
  return OkStatus();
}

void Host::RefreshPeerRecord() {
  crypto::PeerRecord record{peer_id_};
  // A wall-clock timestamp, as other implementations use, kept strictly increasing.
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  own_peer_record_seq_ = std::max<uint64_t>(own_peer_record_seq_ + 1, static_cast<uint64_t>(now.count()));
  record.seq = own_peer_record_seq_;
  record.addresses = listen_addrs();
  if (record.addresses.size() > crypto::kMaxPeerRecordAddresses) record.addresses.resize(crypto::kMaxPeerRecordAddresses);
  StatusOr<Bytes> signed_record = crypto::SignPeerRecord(*options_.identity, record);
  // Signing our own well-formed record cannot fail; without one, identify simply carries none.
  own_peer_record_ = signed_record.ok() ? std::move(signed_record).value() : Bytes();
}

std::vector<Multiaddr> Host::listen_addrs() const {
  std::vector<Multiaddr> out;
  for (const auto& l : listeners_) out.push_back(l->listen_addr());
  return out;
}

void Host::Dial(const Multiaddr& addr, DialCallback on_done) {
  std::optional<PeerId> expected;
  if (std::optional<Bytes> mh = addr.PeerIdMultihash()) {
    StatusOr<PeerId> id = PeerId::FromBytes(*mh);
    if (id.ok()) expected.emplace(*id);
  }
  const uint64_t id = AddPending(std::make_unique<Pending>());
  Pending* pending = pending_[id].get();
  if (connections_.size() + upgrades_.size() >= options_.max_connections) {
    pending->timer = loop_->CreateTimer([this, id, on_done] {
      ErasePending(id);
      if (on_done) on_done(ResourceExhaustedError("connection limit reached"));
    });
    pending->timer->Schedule(Duration::zero());
    return;
  }
  // The transport never calls back from inside Dial(), so the pending entry exists when it does.
  pending->dial = transport_->Dial(addr, [this, id, expected, on_done](StatusOr<std::unique_ptr<RawConnection>> raw) {
    ErasePendingLater(id);
    if (!raw.ok()) {
      if (on_done) on_done(raw.status());
      return;
    }
    StartUpgrade(std::move(raw).value(), /*inbound=*/false, expected, on_done);
  });
}

void Host::StartUpgrade(std::unique_ptr<RawConnection> raw, bool inbound, std::optional<PeerId> expected,
                        DialCallback on_done) {
  const uint64_t id = next_id_++;
  auto upgrade = std::make_unique<Upgrade>(this, id, std::move(raw), inbound, std::move(expected), std::move(on_done));
  Upgrade* u = upgrade.get();
  upgrades_[id] = std::move(upgrade);
  u->Start();
}

void Host::OnUpgraded(uint64_t upgrade_id, StatusOr<std::pair<std::unique_ptr<MuxedConnection>, ConnectionInfo>> r) {
  auto it = upgrades_.find(upgrade_id);
  DialCallback on_done = std::move(it->second->on_done);
  // The upgrade object is in the middle of its own callback chain; destroy it from the loop.
  doomed_upgrades_.push_back(std::move(it->second));
  upgrades_.erase(it);
  reaper_->Schedule(Duration::zero());

  if (!r.ok()) {
    if (on_done) on_done(r.status());
    return;
  }
  auto [muxed, info] = std::move(r).value();
  const PeerId peer = info.peer;
  const PeerId dialer = info.inbound ? peer : peer_id_;
  auto existing = connections_.find(peer);
  if (existing != connections_.end()) {
    // Two connections to one peer (both dialed at once): keep the one dialed by the smaller peer id, as the
    // other side does too.
    if (!(dialer < existing->second->dialer)) {
      muxed->Close();
      if (on_done) on_done(peer);
      return;
    }
    existing->second->muxed->Close();
    connections_.erase(existing);
  }
  PeerInfo& stored = peer_store_.Upsert(peer);
  if (!info.inbound) PeerStore::AddAddress(&stored, info.remote_addr);
  auto conn = std::make_unique<Connection>(Connection{std::move(muxed), info, dialer});
  connections_[peer] = std::move(conn);
  for (const Events& e : events_) {
    if (e.on_connected) e.on_connected(info);
  }
  if (on_done) on_done(peer);
  RunIdentify(peer);
}

void Host::OnConnectionClosed(const PeerId& peer, const Status& why) {
  auto it = connections_.find(peer);
  if (it == connections_.end()) return;
  const ConnectionInfo info = it->second->info;
  // The muxed connection is running its own callback: destroy it from the loop.
  doomed_connections_.push_back(std::move(it->second));
  connections_.erase(it);
  reaper_->Schedule(Duration::zero());
  for (const Events& e : events_) {
    if (e.on_disconnected) e.on_disconnected(info, why);
  }
}

void Host::Disconnect(const PeerId& peer) {
  auto it = connections_.find(peer);
  if (it == connections_.end()) return;
  const ConnectionInfo info = it->second->info;
  it->second->muxed->Close();
  connections_.erase(it);
  for (const Events& e : events_) {
    if (e.on_disconnected) e.on_disconnected(info, CancelledError("closed locally"));
  }
}

bool Host::IsOutbound(const PeerId& peer) const {
  auto it = connections_.find(peer);
  return it != connections_.end() && !it->second->info.inbound;
}

std::vector<PeerId> Host::connected_peers() const {
  std::vector<PeerId> out;
  for (const auto& [peer, conn] : connections_) out.push_back(peer);
  return out;
}

uint64_t Host::AddPending(std::unique_ptr<Pending> p) {
  const uint64_t id = next_id_++;
  pending_[id] = std::move(p);
  return id;
}

void Host::ErasePending(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // Move out before destroying, so that destructors that call back find a consistent map.
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
}

void Host::ErasePendingLater(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second->timer = loop_->CreateTimer([this, id] { ErasePending(id); });
  it->second->timer->Schedule(Duration::zero());
}

void Host::OnInboundStream(const PeerId& peer, std::unique_ptr<Stream> stream) {
  auto p = std::make_unique<Pending>();
  Stream* s = stream.get();
  p->stream = std::move(stream);
  const uint64_t id = AddPending(std::move(p));
  pending_[id]->negotiation = MultistreamSelect::Listen(
      loop_, s, protocols(), options_.negotiation_timeout, [this, id, peer](StatusOr<std::string> proto) {
        std::unique_ptr<Stream> stream = std::move(pending_[id]->stream);
        ErasePendingLater(id);
        if (!proto.ok()) {
          stream->Reset();
          return;
        }
        auto h = handlers_.find(*proto);
        if (h == handlers_.end()) {
          stream->Reset();
          return;
        }
        StreamHandler handler = h->second;
        handler(std::move(stream), peer, *proto);
      });
}

void Host::NewStream(const PeerId& peer, std::vector<std::string> protocols, StreamCallback on_done) {
  auto conn = connections_.find(peer);
  auto p = std::make_unique<Pending>();
  const uint64_t id = AddPending(std::move(p));
  Pending* pending = pending_[id].get();
  StatusOr<std::unique_ptr<Stream>> stream =
      conn == connections_.end() ? StatusOr<std::unique_ptr<Stream>>(NotFoundError("not connected to " + peer.ToBase58()))
                                 : conn->second->muxed->OpenStream();
  if (!stream.ok()) {
    Status error = stream.status();
    pending->timer = loop_->CreateTimer([this, id, error, on_done] {
      ErasePending(id);
      on_done(error, "");
    });
    pending->timer->Schedule(Duration::zero());
    return;
  }
  pending->stream = std::move(stream).value();
  pending->negotiation = MultistreamSelect::Dial(
      loop_, pending->stream.get(), std::move(protocols), options_.negotiation_timeout,
      [this, id, on_done](StatusOr<std::string> proto) {
        std::unique_ptr<Stream> s = std::move(pending_[id]->stream);
        ErasePendingLater(id);
        if (!proto.ok()) {
          s->Reset();
          on_done(proto.status(), "");
          return;
        }
        on_done(std::move(s), *proto);
      });
}

void Host::Ping(const PeerId& peer, std::function<void(StatusOr<Duration>)> on_done) {
  NewStream(peer, {std::string(kPingProtocolId)},
            [this, on_done](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
              if (!stream.ok()) return on_done(stream.status());
              auto p = std::make_unique<Pending>();
              p->stream = std::move(stream).value();
              p->pinger = std::make_unique<Pinger>(loop_, p->stream.get());
              const uint64_t id = AddPending(std::move(p));
              Status s = pending_[id]->pinger->Ping([this, id, on_done](StatusOr<Duration> rtt) {
                auto it = pending_.find(id);
                if (it != pending_.end()) it->second->stream->CloseWrite();
                ErasePendingLater(id);
                on_done(std::move(rtt));
              });
              if (!s.ok()) {
                ErasePending(id);
                on_done(s);
              }
            });
}

void Host::SetStreamHandler(const std::string& protocol, StreamHandler handler) {
  handlers_[protocol] = std::move(handler);
  if (!connections_.empty()) PushIdentify();
}

void Host::RemoveStreamHandler(const std::string& protocol) {
  if (handlers_.erase(protocol) > 0 && !connections_.empty()) PushIdentify();
}

std::vector<std::string> Host::protocols() const {
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) out.push_back(p);
  return out;
}

IdentifyInfo Host::OurIdentify(const Multiaddr& observed) const {
  IdentifyInfo info;
  info.public_key = options_.identity->public_key();
  info.listen_addrs = listen_addrs();
  info.protocols = protocols();
  if (!observed.empty()) info.observed_addr = observed;
  info.protocol_version = options_.protocol_version;
  info.agent_version = options_.agent_version;
  info.signed_peer_record = own_peer_record_;
  return info;
}

void Host::RegisterBuiltinHandlers() {
  handlers_[std::string(kIdentifyProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId& peer,
                                                       const std::string&) {
    auto conn = connections_.find(peer);
    AnswerIdentify(stream.get(), OurIdentify(conn != connections_.end() ? conn->second->info.remote_addr : Multiaddr()));
    Linger(std::move(stream));
  };
  handlers_[std::string(kIdentifyPushProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId& peer,
                                                           const std::string&) {
    auto p = std::make_unique<Pending>();
    Stream* s = stream.get();
    p->stream = std::move(stream);
    const uint64_t id = AddPending(std::move(p));
    pending_[id]->identify = IdentifyRequest::Start(loop_, s, options_.negotiation_timeout,
                                                    [this, id, peer](StatusOr<IdentifyInfo> info) {
                                                      ErasePendingLater(id);
                                                      OnIdentify(peer, std::move(info));
                                                    });
  };
  handlers_[std::string(kPingProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId&,
                                                   const std::string&) {
    auto p = std::make_unique<Pending>();
    Stream* s = stream.get();
    p->stream = std::move(stream);
    const uint64_t id = AddPending(std::move(p));
    pending_[id]->responder = std::make_unique<PingResponder>(loop_, s, [this, id](Status) { ErasePendingLater(id); });
  };
}

void Host::RunIdentify(const PeerId& peer) {
  NewStream(peer, {std::string(kIdentifyProtocolId)},
            [this, peer](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
              if (!stream.ok()) return;  // The peer does not answer identify; it stays unidentified.
              auto p = std::make_unique<Pending>();
              Stream* s = stream->get();
              p->stream = std::move(stream).value();
              const uint64_t id = AddPending(std::move(p));
              pending_[id]->identify = IdentifyRequest::Start(
                  loop_, s, options_.negotiation_timeout, [this, id, peer](StatusOr<IdentifyInfo> info) {
                    ErasePendingLater(id);
                    OnIdentify(peer, std::move(info));
                  });
            });
}

void Host::OnIdentify(const PeerId& peer, StatusOr<IdentifyInfo> info) {
  if (!info.ok()) return;
  if (!CheckIdentifyMatchesPeer(*info, peer).ok()) {
    // A peer that lies about its key is not worth a connection.
    Disconnect(peer);
    return;
  }
  PeerInfo& stored = peer_store_.Upsert(peer);
  stored.public_key = info->public_key;
  for (const Multiaddr& a : info->listen_addrs) PeerStore::AddAddress(&stored, a);
  stored.protocols = info->protocols;
  stored.agent_version = info->agent_version;
  stored.protocol_version = info->protocol_version;
  stored.identified = true;
  if (!info->signed_peer_record.empty()) {
    // CheckIdentifyMatchesPeer opened it already; only its seq is read here. Older records are ignored.
    StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(info->signed_peer_record);
    if (record.ok() && (stored.signed_peer_record.empty() || record->seq > stored.peer_record_seq)) {
      stored.signed_peer_record = info->signed_peer_record;
      stored.peer_record_seq = record->seq;
    }
  }
  for (const Events& e : events_) {
    if (e.on_identified) e.on_identified(peer, *info);
  }
}

void Host::PushIdentify() {
  for (const auto& [peer, conn] : connections_) {
    const Multiaddr observed = conn->info.remote_addr;
    NewStream(peer, {std::string(kIdentifyPushProtocolId)},
              [this, observed](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
                if (!stream.ok()) return;
                AnswerIdentify(stream->get(), OurIdentify(observed));
                Linger(std::move(stream).value());
              });
  }
}

void Host::Linger(std::unique_ptr<Stream> stream) {
  auto p = std::make_unique<Pending>();
  Stream* s = stream.get();
  p->stream = std::move(stream);
  const uint64_t id = AddPending(std::move(p));
  Pending* pending = pending_[id].get();
  pending->timer = loop_->CreateTimer([this, id] { ErasePending(id); });
  auto done = [pending] { pending->timer->Schedule(Duration::zero()); };
  s->SetHandlers(Stream::Handlers{[](ByteSpan) {}, done, [done](const Status&) { done(); }, {}});
  // A peer that never closes its side is dropped after a while.
  pending->timer->Schedule(std::chrono::seconds(10));
}

}  // namespace libp2p::stream
