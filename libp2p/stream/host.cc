#include "libp2p/stream/host.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>

#include "libp2p/base/log.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/stream/advertised_addresses.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/ping.h"

namespace libp2p::stream {

using crypto::PeerId;

namespace {

// How long a stream we are done with may wait for the remote's end of stream before it is dropped.
constexpr Duration kLingerTime = std::chrono::seconds(10);

// The remote IP of an inbound connection as a key for per-IP counting: the IPv4 address, or the /64 of an
// IPv6 one (with or without a zone); empty when it is exempt (loopback while limit_loopback is off) or not an
// IP address.
std::string IpKey(const Multiaddr& remote, bool limit_loopback) {
  const std::vector<Multiaddr::Component> c = remote.Components();
  size_t i = !c.empty() && c[0].code == multiaddr_protocol::kIp6Zone ? 1 : 0;
  if (i >= c.size()) return "";
  if (!limit_loopback && ScopeOf(remote) == AddressScope::kLoopback) return "";
  if (c[i].code == multiaddr_protocol::kIp4) return "4" + std::string(c[i].value.begin(), c[i].value.end());
  if (c[i].code == multiaddr_protocol::kIp6) return "6" + std::string(c[i].value.begin(), c[i].value.begin() + 8);
  return "";
}

// Room kept in our identify message for the observed address (its field tag and length, and the address);
// a longer observed address (a zone with a long name, say) is left out.
constexpr size_t kMaxObservedAddrSize = 64;
constexpr size_t kObservedAddrRoom = 2 + kMaxObservedAddrSize;

}  // namespace

struct Host::Connection {
  explicit Connection(ConnectionInfo i) : info(std::move(i)) {}
  ConnectionInfo info;
  std::string ip;  // The per-IP key of an inbound connection; empty when not counted.
  MonoTime opened;
  // Declared before the muxer, which draws on it.
  std::unique_ptr<MemoryBudget> budget;
  std::unique_ptr<MuxedConnection> muxed;
  std::unique_ptr<Timer> keepalive;  // For muxers without keep-alive of their own.
  bool ping_in_flight = false;
};

struct Host::Dialing {
  // Declared before the dial: the timeout's callback destroys the dial.
  std::unique_ptr<Timer> timeout;
  std::unique_ptr<PendingDial> dial;
  std::optional<PeerId> expected;
  DialCallback on_done;
};

struct Host::Upgrading {
  bool inbound = false;
  bool gater_refused = false;  // The gater refused the connection after the secure handshake.
  std::string ip;
  DialCallback on_done;
  std::unique_ptr<ConnectionUpgrade> upgrade;
};

// A stream the host owns while it works on it, and what works on it. The worker observes the stream, so it
// is declared after it (and destroyed first).
struct Host::StreamJob {
  std::unique_ptr<Stream> stream;
  std::variant<std::monostate, std::unique_ptr<MultistreamSelect>, std::unique_ptr<IdentifyRequest>,
               std::unique_ptr<PingResponder>, std::unique_ptr<Pinger>>
      worker;
  std::unique_ptr<Timer> deadline;
};

Host::Host(EventLoop* loop, Transport* transport, HostOptions options)
    : loop_(loop), transport_(transport), options_(std::move(options)),
      peer_id_(PeerId::FromPublicKey(options_.identity->public_key())), noise_static_key_(*options_.identity),
      own_budget_(options_.memory_budget == nullptr ? std::make_unique<MemoryBudget>(options_.memory_limit) : nullptr),
      node_budget_(options_.memory_budget != nullptr ? options_.memory_budget : own_budget_.get()),
      connection_manager_(options_.connection_manager),
      soon_task_(loop->CreateTask([this] {
        // One at a time: an entry may cancel a later one (CancelNewStream).
        while (!soon_.empty()) {
          std::function<void()> fn = std::move(soon_.front().second);
          soon_.pop_front();
          fn();
        }
      })),
      push_task_(loop->CreateTask([this] {
        RefreshAdvertised(/*resign=*/false);  // The protocols changed: the addresses may have to make room.
        PushIdentify();
      })),
      trim_timer_(loop->CreateTimer([this] { MaybeTrim(); })),
      deleter_(loop) {
  RegisterBuiltinHandlers();
  trim_timer_->ScheduleRepeating(options_.connection_manager.silence_period);
}

Host::~Host() {
  // Work on streams first (its streams belong to the connections), then dials and upgrades, then the
  // connections, closed politely.
  jobs_.clear();
  dials_.clear();
  upgrades_.clear();
  for (auto& [id, c] : connections_) c->muxed->Close();
  by_peer_.clear();
  connections_.clear();
}

uint64_t Host::AddEvents(Events events) {
  const uint64_t handle = next_id_++;
  events_.emplace_back(handle, std::move(events));
  return handle;
}

void Host::RemoveEvents(uint64_t handle) {
  std::erase_if(events_, [handle](const auto& e) { return e.first == handle; });
}

template <typename F, typename G>
void Host::ForEachEvents(F&& f, G&& go_on) {
  const std::vector<std::pair<uint64_t, Events>> receivers = events_;
  for (const auto& [handle, events] : receivers) {
    if (!go_on()) return;
    f(events);
  }
}

uint64_t Host::RunSoon(std::function<void()> fn) {
  const uint64_t handle = next_id_++;
  soon_.emplace_back(handle, std::move(fn));
  soon_task_->Post();
  return handle;
}

// --- Listening and advertising. ---

Status Host::Listen(const Multiaddr& addr) {
  ASSIGN_OR_RETURN(std::unique_ptr<Listener> listener,
                   transport_->Listen(addr, [this](std::unique_ptr<RawConnection> raw) { OnAccept(std::move(raw)); }));
  listeners_.push_back(std::move(listener));
  RefreshAdvertised(/*resign=*/true);
  if (!connections_.empty()) push_task_->Post();
  return OkStatus();
}

std::vector<Multiaddr> Host::listen_addrs() const {
  std::vector<Multiaddr> out;
  for (const auto& l : listeners_) out.push_back(l->listen_addr());
  return out;
}

void Host::RefreshAdvertised(bool resign) {
  const std::vector<Multiaddr> interfaces =
      options_.interface_addresses ? options_.interface_addresses() : SystemInterfaceAddresses();
  std::vector<Multiaddr> addrs = AdvertisedAddresses(listen_addrs(), interfaces);
  if (addrs.size() > crypto::kMaxPeerRecordAddresses) addrs.resize(crypto::kMaxPeerRecordAddresses);
  if (!resign && addrs == advertised_ && !own_peer_record_.empty() &&
      OurIdentify(Multiaddr()).Encode().size() + kObservedAddrRoom + kMaxUvarintLength <= kMaxOwnIdentifySize) {
    return;  // Nothing changed, and what we send still fits.
  }
  // A wall-clock timestamp, as other implementations use, kept strictly increasing.
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  own_peer_record_seq_ = std::max<uint64_t>(own_peer_record_seq_ + 1, static_cast<uint64_t>(now.count()));
  // Drop the least useful addresses (the back of the list) until identify, which carries them twice (as
  // listen addresses and in the record), fits with room for any observed address.
  for (;;) {
    crypto::PeerRecord record{peer_id_};
    record.seq = own_peer_record_seq_;
    record.addresses = addrs;
    StatusOr<Bytes> signed_record = crypto::SignPeerRecord(*options_.identity, record);
    // Signing our own well-formed record cannot fail; without one, identify simply carries none.
    own_peer_record_ = signed_record.ok() ? std::move(signed_record).value() : Bytes();
    advertised_ = addrs;
    if (addrs.empty() || OurIdentify(Multiaddr()).Encode().size() + kObservedAddrRoom + kMaxUvarintLength <=
                             kMaxOwnIdentifySize) {
      break;
    }
    addrs.pop_back();
  }
}

// --- Admission. ---

Status Host::GaterVerdict(const char* when, uint64_t* counter, const Status& verdict) {
  if (verdict.ok()) return verdict;
  ++*counter;
  LIBP2P_LOG(LogLevel::kDebug, "host", "connection refused by the gater", {{"when", when}, {"reason", verdict.message()}});
  return PermissionDeniedError(std::string("refused by the connection gater ") + when + ": " + verdict.message());
}

void Host::OnAccept(std::unique_ptr<RawConnection> raw) {
  Status refused;
  const std::string ip = IpKey(raw->remote_addr(), options_.limit_loopback);
  if (options_.gater != nullptr) {
    refused = GaterVerdict("on accept", &stats_.gater_refused_accepts,
                           options_.gater->InterceptAccept(raw->local_addr(), raw->remote_addr()));
  }
  // A lookup that adds no entry: a refused connection must leave nothing behind.
  const auto counted = ip.empty() ? inbound_per_ip_.end() : inbound_per_ip_.find(ip);
  const size_t from_ip = counted == inbound_per_ip_.end() ? 0 : counted->second;
  if (refused.ok() && !ip.empty() && from_ip >= options_.max_connections_per_ip) {
    ++stats_.inbound_refused_per_ip;
    refused = ResourceExhaustedError("too many connections from this address");
  }
  if (refused.ok() && connections_.size() >= options_.max_connections) {
    ++stats_.inbound_refused_full;
    refused = ResourceExhaustedError("connection limit reached");
  }
  if (!refused.ok()) {
    const Multiaddr remote = raw->remote_addr();
    raw->Reset();
    raw.reset();
    return ReportInboundFailure(remote, refused);
  }
  if (inbound_upgrades_ >= options_.max_inbound_upgrades) {
    // The oldest inbound upgrade has had the most time: it makes room for the newcomer.
    for (auto it = upgrades_.begin(); it != upgrades_.end(); ++it) {
      if (!it->second->inbound) continue;
      std::unique_ptr<Upgrading> oldest = std::move(it->second);
      upgrades_.erase(it);
      --inbound_upgrades_;
      ReleaseIp(oldest->ip);
      ++stats_.inbound_upgrades_evicted;
      // Destroyed here and now (we are in the listener's callback, not the upgrade's): a deferred one could
      // still time out and call back for an id that is gone.
      const Multiaddr remote = oldest->upgrade->remote_addr();
      oldest.reset();
      ReportInboundFailure(remote, ResourceExhaustedError("dropped while upgrading, to make room for a newer connection"));
      break;
    }
  }
  if (!ip.empty()) ++inbound_per_ip_[ip];
  StartUpgrade(std::move(raw), /*inbound=*/true, std::nullopt, ip, nullptr);
}

void Host::ReportInboundFailure(const Multiaddr& remote_addr, const Status& why) {
  ForEachEvents([&](const Events& e) {
    if (e.on_inbound_failed) e.on_inbound_failed(remote_addr, why);
  }, [] { return true; });
}

void Host::ReleaseIp(const std::string& ip) {
  if (ip.empty()) return;
  auto it = inbound_per_ip_.find(ip);
  if (it == inbound_per_ip_.end()) return;
  if (--it->second == 0) inbound_per_ip_.erase(it);
}

void Host::Dial(const Multiaddr& addr, DialCallback on_done) {
  auto fail = [this, &on_done](Status s) {
    RunSoon([on_done, s] {
      if (on_done) on_done(s);
    });
  };
  std::optional<PeerId> expected;
  if (std::optional<Bytes> mh = addr.PeerIdMultihash()) {
    StatusOr<PeerId> id = PeerId::FromBytes(*mh);
    if (!id.ok()) return fail(InvalidArgumentError("dial " + addr.ToString() + ": " + id.status().message()));
    if (*id == peer_id_) return fail(InvalidArgumentError("refusing to dial ourselves: " + addr.ToString()));
    expected.emplace(*id);
  }
  if (options_.gater != nullptr) {
    if (expected.has_value()) {
      Status s = GaterVerdict("before dialing the peer", &stats_.gater_refused_dials,
                              options_.gater->InterceptPeerDial(*expected));
      if (!s.ok()) return fail(s);
    }
    Status s = GaterVerdict("before dialing the address", &stats_.gater_refused_dials,
                            options_.gater->InterceptAddrDial(expected, addr));
    if (!s.ok()) return fail(s);
  }
  if (dials_.size() + outbound_upgrades_ >= options_.max_pending_dials) {
    ++stats_.dials_refused;
    return fail(ResourceExhaustedError("too many dials in progress (" + std::to_string(options_.max_pending_dials) + ")"));
  }
  const uint64_t id = next_id_++;
  auto dialing = std::make_unique<Dialing>();
  dialing->expected = expected;
  dialing->on_done = std::move(on_done);
  dialing->timeout = loop_->CreateTimer([this, id, addr] {
    auto it = dials_.find(id);
    if (it == dials_.end()) return;
    std::unique_ptr<Dialing> d = std::move(it->second);
    dials_.erase(it);
    DialCallback done = std::move(d->on_done);
    // Destroyed here and now (a timer may destroy itself): the dial is cancelled and its result, even one
    // already queued, never arrives.
    d.reset();
    if (done) done(DeadlineExceededError("dial " + addr.ToString() + " timed out"));
  });
  dialing->timeout->Schedule(options_.dial_timeout);
  Dialing* d = dialing.get();
  dials_[id] = std::move(dialing);
  // The transport never calls back from inside Dial(), so the entry exists when it does.
  d->dial = transport_->Dial(addr, [this, id](StatusOr<std::unique_ptr<RawConnection>> raw) {
    auto it = dials_.find(id);
    if (it == dials_.end()) return;
    std::unique_ptr<Dialing> d = std::move(it->second);
    dials_.erase(it);
    d->timeout->Cancel();
    DialCallback done = std::move(d->on_done);
    const std::optional<PeerId> expected = d->expected;
    deleter_.Delete(std::move(d));  // Its PendingDial is running this callback.
    if (!raw.ok()) {
      if (done) done(raw.status());
      return;
    }
    StartUpgrade(std::move(raw).value(), /*inbound=*/false, expected, "", std::move(done));
  });
}

void Host::StartUpgrade(std::unique_ptr<RawConnection> raw, bool inbound, std::optional<PeerId> expected,
                        std::string ip, DialCallback on_done) {
  const uint64_t id = next_id_++;
  auto upgrading = std::make_unique<Upgrading>();
  upgrading->inbound = inbound;
  upgrading->ip = std::move(ip);
  upgrading->on_done = std::move(on_done);
  Upgrading* u = upgrading.get();
  upgrades_[id] = std::move(upgrading);
  ++(inbound ? inbound_upgrades_ : outbound_upgrades_);
  UpgradeOptions options{options_.identity, options_.muxers, options_.upgrade_timeout, options_.negotiation_timeout,
                         &noise_static_key_};
  if (options_.swarm_key.has_value()) options.swarm_key = &*options_.swarm_key;
  if (options_.gater != nullptr) {
    // `u` lives as long as the upgrade that calls this.
    options.check_secured = [this, u, inbound](const PeerId& peer, const Multiaddr& local, const Multiaddr& remote) {
      Status s = GaterVerdict("after the secure handshake", &stats_.gater_refused_secured,
                              options_.gater->InterceptSecured(inbound, peer, local, remote));
      u->gater_refused = !s.ok();
      return s;
    };
  }
  u->upgrade = ConnectionUpgrade::Start(loop_, std::move(raw), inbound, std::move(expected), std::move(options),
                                        [this, id](StatusOr<SecuredConnection> r) { OnUpgraded(id, std::move(r)); });
}

void Host::OnUpgraded(uint64_t id, StatusOr<SecuredConnection> result) {
  auto it = upgrades_.find(id);
  if (it == upgrades_.end()) return;
  std::unique_ptr<Upgrading> u = std::move(it->second);
  upgrades_.erase(it);
  --(u->inbound ? inbound_upgrades_ : outbound_upgrades_);
  DialCallback on_done = std::move(u->on_done);
  const std::string ip = u->ip;
  const bool inbound = u->inbound;
  const Multiaddr remote = u->upgrade->remote_addr();
  const bool gater_refused = u->gater_refused;
  deleter_.Delete(std::move(u));  // The upgrade is running this callback (it is finished: silent).

  Status refused;
  if (!result.ok()) {
    if (!gater_refused) ++stats_.upgrades_failed;  // The gater's refusal is counted as its own.
    refused = result.status();
  } else if (result->peer == peer_id_) {
    refused = InvalidArgumentError("connected to ourselves");
  } else if (inbound && connections_.size() >= options_.max_connections) {
    ++stats_.inbound_refused_full;
    refused = ResourceExhaustedError("connection limit reached");
  } else if (options_.gater != nullptr) {
    refused = GaterVerdict("after the upgrade", &stats_.gater_refused_upgraded,
                           options_.gater->InterceptUpgraded(ConnectionInfo{id, result->peer, inbound, result->security,
                                                                            result->muxer, result->local_addr,
                                                                            result->remote_addr}));
  }
  if (!refused.ok()) {
    if (result.ok()) result->secure->Reset();
    if (inbound) {
      ReleaseIp(ip);
      ReportInboundFailure(remote, refused);
    }
    if (on_done) on_done(refused);
    return;
  }

  SecuredConnection secured = std::move(result).value();
  auto conn = std::make_unique<Connection>(ConnectionInfo{id, secured.peer, inbound, secured.security, secured.muxer,
                                                         secured.local_addr, secured.remote_addr});
  conn->ip = ip;
  conn->opened = loop_->Now();
  conn->budget = std::make_unique<MemoryBudget>(options_.connection_memory_limit, node_budget_);
  MuxedConnection::Handlers handlers{
      [this, id](std::unique_ptr<Stream> s) { OnInboundStream(id, std::move(s)); },
      [this, id](const Status& why) { CloseConnection(id, why, /*local=*/false); }};
  if (secured.muxer == kYamuxProtocolId) {
    YamuxOptions yamux = options_.yamux;
    yamux.limits.budget = conn->budget.get();
    conn->muxed = CreateYamuxConnection(loop_, std::move(secured.secure), !inbound, std::move(handlers), yamux);
  } else {
    MuxerLimits mplex = options_.mplex;
    mplex.budget = conn->budget.get();
    conn->muxed = CreateMplexConnection(loop_, std::move(secured.secure), !inbound, std::move(handlers), mplex);
    if (options_.keepalive_interval > Duration::zero()) {
      conn->keepalive = loop_->CreateTimer([this, id] { Keepalive(id); });
      conn->keepalive->ScheduleRepeating(options_.keepalive_interval);
    }
  }
  const PeerId peer = secured.peer;
  PeerStoreEntry& stored = peer_store_.Upsert(peer);
  if (!stored.public_key.has_value()) stored.public_key = std::move(secured.remote_key);
  if (!inbound) PeerStore::AddAddress(&stored, conn->info.remote_addr);
  const ConnectionInfo info = conn->info;
  LIBP2P_LOG(LogLevel::kDebug, "host", "connection up",
             {{"peer", peer.ToBase58()}, {"direction", inbound ? "inbound" : "outbound"}, {"connection", id},
              {"remote_addr", info.remote_addr.ToString()}, {"muxer", info.muxer}});
  by_peer_[peer].push_back(conn.get());
  connections_[id] = std::move(conn);
  // A receiver may close the connection: the others then hear only of that (on_disconnected).
  const auto open = [this, id] { return connections_.count(id) > 0; };
  ForEachEvents([&](const Events& e) {
    if (e.on_connected) e.on_connected(info);
  }, open);
  if (!open()) {
    if (on_done) on_done(CancelledError("the connection was closed as it opened"));
    return;
  }
  if (on_done) on_done(peer);
  if (!open()) return;
  RunIdentify(id);
  MaybeTrim();
}

void Host::CloseConnection(uint64_t id, const Status& why, bool local) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  std::unique_ptr<Connection> conn = std::move(it->second);
  connections_.erase(it);
  const PeerId peer = conn->info.peer;
  auto p = by_peer_.find(peer);
  std::erase(p->second, conn.get());
  if (p->second.empty()) {
    by_peer_.erase(p);
    connection_manager_.ForgetPeer(peer);
  }
  if (conn->info.inbound) ReleaseIp(conn->ip);
  conn->keepalive.reset();
  if (local) conn->muxed->Close();
  const ConnectionInfo info = conn->info;
  LIBP2P_LOG(LogLevel::kDebug, "host", "connection down",
             {{"peer", peer.ToBase58()}, {"direction", info.inbound ? "inbound" : "outbound"}, {"connection", id},
              {"reason", why.ToString()}, {"closed_locally", local}});
  // The muxed connection may be running the callback that brought us here: destroy it from the loop. It
  // is silent already: closed or failed, it accepts nothing more, and OnInboundStream and the close
  // handler find its id gone.
  deleter_.Delete(std::move(conn));
  ForEachEvents([&](const Events& e) {
    if (e.on_disconnected) e.on_disconnected(info, why);
  }, [] { return true; });
}

void Host::Disconnect(const PeerId& peer, const Status& why) {
  auto p = by_peer_.find(peer);
  if (p == by_peer_.end()) return;
  std::vector<uint64_t> ids;
  for (const Connection* c : p->second) ids.push_back(c->info.id);
  for (uint64_t id : ids) CloseConnection(id, why, /*local=*/true);
}

void Host::MaybeTrim() {
  const MonoTime now = loop_->Now();
  if (!connection_manager_.ShouldTrim(connections_.size(), now)) return;
  std::vector<ConnectionSummary> open;
  open.reserve(connections_.size());
  for (const auto& [id, c] : connections_) open.push_back(ConnectionSummary{id, c->info.peer, c->opened});
  for (uint64_t id : connection_manager_.SelectForTrim(open, now)) {
    ++stats_.connections_trimmed;
    CloseConnection(id, ResourceExhaustedError("closed by the connection manager (too many connections)"), true);
  }
}

bool Host::IsOutbound(const PeerId& peer) const {
  auto p = by_peer_.find(peer);
  if (p == by_peer_.end()) return false;
  return std::any_of(p->second.begin(), p->second.end(), [](const Connection* c) { return !c->info.inbound; });
}

std::vector<PeerId> Host::connected_peers() const {
  std::vector<PeerId> out;
  out.reserve(by_peer_.size());
  for (const auto& [peer, conns] : by_peer_) out.push_back(peer);
  return out;
}

std::vector<ConnectionInfo> Host::connections_of(const PeerId& peer) const {
  std::vector<ConnectionInfo> out;
  auto p = by_peer_.find(peer);
  if (p == by_peer_.end()) return out;
  for (const Connection* c : p->second) out.push_back(c->info);
  return out;
}

Host::Connection* Host::NewestConnection(const PeerId& peer) const {
  auto p = by_peer_.find(peer);
  if (p == by_peer_.end()) return nullptr;
  for (auto it = p->second.rbegin(); it != p->second.rend(); ++it) {
    if ((*it)->muxed->accepts_new_streams()) return *it;
  }
  return nullptr;
}

// --- Streams. ---

Host::StreamJob* Host::AddJob(std::unique_ptr<Stream> stream, uint64_t* id) {
  *id = next_id_++;
  auto job = std::make_unique<StreamJob>();
  job->stream = std::move(stream);
  StreamJob* raw = job.get();
  jobs_[*id] = std::move(job);
  return raw;
}

void Host::EndJob(uint64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  std::unique_ptr<StreamJob> job = std::move(it->second);
  jobs_.erase(it);
  // Silenced now: the worker goes at once (every worker allows its destruction from inside its own
  // callback, where we usually are), and the stream and the deadline stop calling us. The stream, which may
  // be inside its own callback, goes to the deleter.
  job->worker = std::monostate{};
  if (job->deadline != nullptr) job->deadline->Cancel();
  if (job->stream != nullptr) job->stream->SetHandlers({});
  deleter_.Delete(std::move(job));
}

std::unique_ptr<Stream> Host::TakeStream(uint64_t id) {
  auto it = jobs_.find(id);
  // Ended (cancelled) while its worker's last callback was already queued.
  if (it == jobs_.end()) return nullptr;
  it->second->worker = std::monostate{};  // It observes the stream: it goes before the stream leaves.
  std::unique_ptr<Stream> stream = std::move(it->second->stream);
  EndJob(id);
  return stream;
}

void Host::OnInboundStream(uint64_t connection_id, std::unique_ptr<Stream> stream) {
  auto c = connections_.find(connection_id);
  if (c == connections_.end()) return stream->Reset();
  const PeerId peer = c->second->info.peer;
  uint64_t id;
  StreamJob* job = AddJob(std::move(stream), &id);
  job->worker = MultistreamSelect::Listen(
      loop_, job->stream.get(), protocols(), options_.negotiation_timeout,
      [this, id, connection_id, peer](StatusOr<std::string> proto) {
        std::unique_ptr<Stream> stream = TakeStream(id);
        if (stream == nullptr) return;
        // The connection may have gone while the negotiation's result waited: no handler hears of its stream.
        if (connections_.count(connection_id) == 0) return stream->Reset();
        auto h = proto.ok() ? handlers_.find(*proto) : handlers_.end();
        if (h == handlers_.end()) return stream->Reset();
        StreamHandler handler = h->second;  // A copy: the handler may replace itself.
        handling_connection_ = connection_id;
        handler(std::move(stream), peer, *proto);
        handling_connection_ = 0;
      });
}

uint64_t Host::NewStream(const PeerId& peer, std::vector<std::string> protocols, StreamCallback on_done) {
  Connection* conn = NewestConnection(peer);
  if (conn == nullptr) {
    Status error = NotFoundError("not connected to " + peer.ToBase58());
    return RunSoon([on_done, error] { on_done(error, ""); });
  }
  return OpenStreamOn(conn, std::move(protocols), std::move(on_done));
}

void Host::CancelNewStream(uint64_t handle) {
  // The handle is the negotiation's job, or the failure waiting to be reported.
  EndJob(handle);
  std::erase_if(soon_, [handle](const auto& entry) { return entry.first == handle; });
}

uint64_t Host::OpenStreamOn(Connection* connection, std::vector<std::string> protocols, StreamCallback on_done) {
  StatusOr<std::unique_ptr<Stream>> opened = connection->muxed->OpenStream();
  if (!opened.ok()) {
    Status error = opened.status();
    return RunSoon([on_done, error] { on_done(error, ""); });
  }
  uint64_t id;
  StreamJob* job = AddJob(std::move(opened).value(), &id);
  job->worker = MultistreamSelect::Dial(loop_, job->stream.get(), std::move(protocols), options_.negotiation_timeout,
                                        [this, id, on_done](StatusOr<std::string> proto) {
                                          std::unique_ptr<Stream> s = TakeStream(id);
        if (s == nullptr) return;
                                          if (!proto.ok()) {
                                            s->Reset();
                                            return on_done(proto.status(), "");
                                          }
                                          on_done(std::move(s), *proto);
                                        });
  return id;
}

void Host::Linger(std::unique_ptr<Stream> stream) {
  uint64_t id;
  StreamJob* job = AddJob(std::move(stream), &id);
  job->deadline = loop_->CreateTimer([this, id] { EndJob(id); });
  job->deadline->Schedule(kLingerTime);
  job->stream->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [this, id] { EndJob(id); },
                                            [this, id](const Status&) { EndJob(id); }, {}});
}

void Host::SetStreamHandler(const std::string& protocol, StreamHandler handler) {
  handlers_[protocol] = std::move(handler);
  if (!connections_.empty()) push_task_->Post();
}

void Host::RemoveStreamHandler(const std::string& protocol) {
  if (handlers_.erase(protocol) > 0 && !connections_.empty()) push_task_->Post();
}

std::vector<std::string> Host::protocols() const {
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) out.push_back(p);
  return out;
}

// --- Ping and keep-alive. ---

void Host::PingOn(Connection* connection, std::function<void(StatusOr<Duration>)> on_done) {
  OpenStreamOn(connection, {std::string(kPingProtocolId)},
               [this, on_done](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
                 if (!stream.ok()) return on_done(stream.status());
                 uint64_t id;
                 StreamJob* job = AddJob(std::move(stream).value(), &id);
                 PingerOptions options;
                 options.timeout = options_.ping_timeout;
                 auto pinger = std::make_unique<Pinger>(loop_, job->stream.get(), options);
                 Pinger* p = pinger.get();
                 job->worker = std::move(pinger);
                 Status s = p->Ping([this, id, on_done](StatusOr<Duration> rtt) {
                   std::unique_ptr<Stream> stream = TakeStream(id);
        if (stream == nullptr) return;
                   if (rtt.ok()) {
                     // Done pinging: close our side and let the responder close its own.
                     stream->CloseWrite();
                     Linger(std::move(stream));
                   } else {
                     stream->Reset();
                   }
                   on_done(std::move(rtt));
                 });
                 if (!s.ok()) {
                   if (std::unique_ptr<Stream> stream = TakeStream(id)) stream->Reset();
                   on_done(s);
                 }
               });
}

void Host::Ping(const PeerId& peer, std::function<void(StatusOr<Duration>)> on_done) {
  Connection* conn = NewestConnection(peer);
  if (conn == nullptr) {
    Status error = NotFoundError("not connected to " + peer.ToBase58());
    RunSoon([on_done, error] { on_done(error); });
    return;
  }
  PingOn(conn, std::move(on_done));
}

void Host::Keepalive(uint64_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end() || it->second->ping_in_flight) return;
  it->second->ping_in_flight = true;
  PingOn(it->second.get(), [this, connection_id](StatusOr<Duration> rtt) {
    auto it = connections_.find(connection_id);
    if (it == connections_.end()) return;
    it->second->ping_in_flight = false;
    // A peer that does not speak ping cannot be kept alive this way; any other failure means a dead link.
    if (rtt.ok() || rtt.status().code() == StatusCode::kNotFound) return;
    ++stats_.keepalive_failures;
    CloseConnection(connection_id, DeadlineExceededError("keep-alive ping failed: " + rtt.status().message()), true);
  });
}

// --- Identify. ---

void Host::RegisterBuiltinHandlers() {
  handlers_[std::string(kIdentifyProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId&,
                                                       const std::string&) {
    AnswerIdentifyOn(handling_connection_, std::move(stream));
  };
  handlers_[std::string(kIdentifyPushProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId& peer,
                                                           const std::string&) {
    uint64_t id;
    StreamJob* job = AddJob(std::move(stream), &id);
    job->worker = IdentifyRequest::Start(loop_, job->stream.get(), options_.negotiation_timeout,
                                         [this, id, peer](StatusOr<IdentifyInfo> info) {
                                           std::unique_ptr<Stream> s = TakeStream(id);
        if (s == nullptr) return;
                                           s->CloseWrite();  // The pusher closed already: both ways closed.
                                           OnIdentify(peer, std::move(info), /*push=*/true);
                                         });
  };
  handlers_[std::string(kPingProtocolId)] = [this](std::unique_ptr<Stream> stream, const PeerId&, const std::string&) {
    uint64_t id;
    StreamJob* job = AddJob(std::move(stream), &id);
    job->worker = std::make_unique<PingResponder>(loop_, job->stream.get(), [this, id](Status s) {
      // OK: the dialer closed and our close is queued; otherwise the stream failed or idled out.
      if (!s.ok()) jobs_.at(id)->stream->Reset();
      EndJob(id);
    });
  };
}

void Host::AnswerIdentifyOn(uint64_t connection_id, std::unique_ptr<Stream> stream) {
  // The observed address: the remote address of the connection the request came on.
  auto c = connections_.find(connection_id);
  AnswerIdentify(stream.get(), OurIdentify(c != connections_.end() ? c->second->info.remote_addr : Multiaddr()));
  Linger(std::move(stream));
}

void Host::RunIdentify(uint64_t connection_id) {
  Connection* conn = connections_.at(connection_id).get();
  const PeerId peer = conn->info.peer;
  OpenStreamOn(conn, {std::string(kIdentifyProtocolId)},
               [this, peer](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
                 if (!stream.ok()) return;  // The peer does not answer identify; it stays unidentified.
                 uint64_t id;
                 StreamJob* job = AddJob(std::move(stream).value(), &id);
                 job->worker = IdentifyRequest::Start(loop_, job->stream.get(), options_.negotiation_timeout,
                                                      [this, id, peer](StatusOr<IdentifyInfo> info) {
                                                        std::unique_ptr<Stream> s = TakeStream(id);
        if (s == nullptr) return;
                                                        // The answer ended with the remote's close; ours
                                                        // ends the stream cleanly.
                                                        s->CloseWrite();
                                                        OnIdentify(peer, std::move(info), /*push=*/false);
                                                      });
               });
}

void Host::OnIdentify(const PeerId& peer, StatusOr<IdentifyInfo> info, bool push) {
  if (!info.ok() || !IsConnected(peer)) return;
  if (info->public_key.has_value() && !peer.Matches(*info->public_key)) {
    // A peer that lies about its key (Noise proved the real one) is not worth a connection.
    Disconnect(peer, UnauthenticatedError("identify carries a public key that is not the peer's"));
    return;
  }
  PeerStoreEntry& stored = peer_store_.Upsert(peer);
  // A signed peer record that does not open, or is someone else's, is ignored: the rest of the message
  // stands. Its addresses, when it does open, replace the unsigned ones.
  if (!info->signed_peer_record.empty()) {
    StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(info->signed_peer_record);
    if (!record.ok() || !(record->peer_id == peer)) {
      ++stats_.peer_records_ignored;
    } else if (stored.signed_peer_record.empty() || record->seq > stored.peer_record_seq) {
      stored.signed_peer_record = info->signed_peer_record;
      stored.peer_record_seq = record->seq;
      stored.addrs.clear();
      for (const Multiaddr& a : record->addresses) PeerStore::AddAddress(&stored, a);
    }
  }
  if (stored.signed_peer_record.empty() && (!push || !info->listen_addrs.empty())) {
    // The unsigned claims replace the earlier ones (as go does); the addresses we dialed it on stay.
    stored.addrs.clear();
    for (const Multiaddr& a : info->listen_addrs) PeerStore::AddAddress(&stored, a);
    for (const ConnectionInfo& c : connections_of(peer)) {
      if (!c.inbound) PeerStore::AddAddress(&stored, c.remote_addr);
    }
  }
  // A push may be partial: what it leaves out keeps its value.
  if (!push || !info->protocols.empty()) stored.protocols = info->protocols;
  if (!push || !info->agent_version.empty()) stored.agent_version = info->agent_version;
  if (!push || !info->protocol_version.empty()) stored.protocol_version = info->protocol_version;
  stored.identified = true;
  IdentifyInfo merged;
  merged.public_key = stored.public_key;
  merged.listen_addrs = stored.addrs;
  merged.protocols = stored.protocols;
  merged.observed_addr = info->observed_addr;
  merged.protocol_version = stored.protocol_version;
  merged.agent_version = stored.agent_version;
  merged.signed_peer_record = stored.signed_peer_record;
  ForEachEvents([&](const Events& e) {
    if (e.on_identified) e.on_identified(peer, merged);
  }, [this, &peer] { return IsConnected(peer); });
}

IdentifyInfo Host::OurIdentify(const Multiaddr& observed) const {
  IdentifyInfo info;
  info.public_key = options_.identity->public_key();
  info.listen_addrs = advertised_;
  info.protocols = protocols();
  if (!observed.empty() && observed.bytes().size() <= kMaxObservedAddrSize) info.observed_addr = observed;
  info.protocol_version = options_.protocol_version;
  info.agent_version = options_.agent_version;
  info.signed_peer_record = own_peer_record_;
  return info;
}

void Host::PushIdentify() {
  for (const auto& [peer, conns] : by_peer_) {
    Connection* conn = NewestConnection(peer);
    if (conn == nullptr) continue;
    const Multiaddr observed = conn->info.remote_addr;
    OpenStreamOn(conn, {std::string(kIdentifyPushProtocolId)},
                 [this, observed](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
                   if (!stream.ok()) return;
                   AnswerIdentify(stream->get(), OurIdentify(observed));
                   Linger(std::move(stream).value());
                 });
  }
}

}  // namespace libp2p::stream
