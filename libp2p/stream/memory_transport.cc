#include "libp2p/stream/memory_transport.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "libp2p/base/fifo.h"
#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {

// Runs a callback at a given virtual time: from a timer on a timed network, else from the loop's queue
// (every time is "now").
class Delivery {
 public:
  Delivery(EventLoop* loop, bool timed, std::function<void()> callback) : loop_(loop) {
    if (timed) {
      timer_ = loop->CreateTimer(std::move(callback));
    } else {
      task_ = loop->CreateTask(std::move(callback));
    }
  }
  // Makes the callback run at `when` (or now, if that has passed), unless it is due earlier already.
  void ArmAt(MonoTime when) {
    if (task_ != nullptr) return task_->Post();
    if (timer_->IsScheduled() && deadline_ <= when) return;
    deadline_ = when;
    timer_->Schedule(when - loop_->Now());
  }
  void Cancel() { task_ != nullptr ? task_->Cancel() : timer_->Cancel(); }

 private:
  EventLoop* const loop_;
  std::unique_ptr<Task> task_;
  std::unique_ptr<Timer> timer_;
  MonoTime deadline_;
};

// One end of an in-memory connection. Bytes written wait in this end's outbox until the other end takes
// them (while it is not paused), so a slow reader blocks the writer as TCP would. On a network with latency
// the bytes of one write become available to the peer one latency after the write.
class MemoryConnection final : public RawConnection, public StreamBase {
 public:
  // Bytes of one write, and when they reach the peer.
  struct Chunk {
    Bytes bytes;
    MonoTime arrival;
    size_t taken = 0;  // The first bytes, already delivered.
  };

  MemoryConnection(MemoryNetwork* network, Multiaddr local, Ipv4 local_ip, Multiaddr remote, Ipv4 remote_ip)
      : StreamBase(network->loop_), network_(network), limits_(network->limits_),
        latency_(network->LatencyBetween(local_ip, remote_ip)), local_(std::move(local)),
        remote_(std::move(remote)), local_ip_(local_ip), remote_ip_(remote_ip),
        deliver_(network->loop_, network->timed(), [this] { PullFromPeer(); }),
        writable_(network->loop_, network->timed(), [this] { MaybeNotifyWritable(); }),
        error_(network->loop_, network->timed(),
               [this] { DeliverError(UnavailableError("connection reset by peer")); }) {
    network_->connections_.insert(this);
  }

  Ipv4 local_ip() const { return local_ip_; }
  Ipv4 remote_ip() const { return remote_ip_; }

  // Cut: writes vanish, nothing more is delivered either way.
  void Break() {
    broken_ = true;
    peer_ = nullptr;
    deliver_.Cancel();
    error_.Cancel();
    outbox_.clear();
    outbox_size_ = 0;
  }

  // Like close() on a socket: bytes still queued reach the peer, then its end of stream.
  ~MemoryConnection() override {
    network_->connections_.erase(this);
    if (peer_ == nullptr || broken_) return;
    const MonoTime closed_at = write_closed_ ? write_closed_at_ : std::max(loop()->Now() + latency_, last_arrival_);
    peer_->OnPeerClosed(std::move(outbox_), outbox_size_, closed_at);
  }

  static void Connect(MemoryConnection* a, MemoryConnection* b) {
    a->peer_ = b;
    b->peer_ = a;
  }

  const Multiaddr& local_addr() const override { return local_; }
  const Multiaddr& remote_addr() const override { return remote_; }
  bool simulation_null_cipher() const override { return network_->null_cipher(); }

  Status Write(ByteSpan data) override {
    RETURN_IF_ERROR(CheckWrite(data.size()));
    if (!broken_ && !data.empty()) Enqueue(Bytes(data.begin(), data.end()));
    return OkStatus();
  }
  // Takes `data` whole unless a quarter or more of its memory is spare: queued bytes then cost about what
  // they are, as copies would (bytes may wait in a link's queues for a while).
  Status WriteOwned(Bytes data) override {
    if (data.capacity() - data.size() >= data.size() / 4) return Write(data);
    RETURN_IF_ERROR(CheckWrite(data.size()));
    if (!broken_ && !data.empty()) Enqueue(std::move(data));
    return OkStatus();
  }
  size_t buffered_bytes() const override { return outbox_size_; }
  bool write_blocked() const override { return blocked_; }

  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    write_closed_at_ = std::max(loop()->Now() + latency_, last_arrival_);
    if (peer_ != nullptr && !broken_) peer_->deliver_.ArmAt(write_closed_at_);
  }

  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    outbox_.clear();
    outbox_size_ = 0;
    if (peer_ != nullptr && !broken_) {
      peer_->OnPeerReset();
      peer_ = nullptr;
    }
  }

 protected:
  void OnReadPauseChanged() override {
    if (want_pause()) return;
    const bool pending = peer_ != nullptr ? peer_->outbox_size_ > 0 || peer_->write_closed_ : peer_closed_;
    if (pending) deliver_.ArmAt(loop()->Now());
  }

 private:
  // Moves up to one delivery's worth of the peer's outbox (or of what it left behind when it closed) that
  // has arrived by now into this end.
  void PullFromPeer() {
    if (want_pause() || broken_) return;
    Fifo<Chunk>& source = peer_ != nullptr ? peer_->outbox_ : orphaned_;
    size_t& source_size = peer_ != nullptr ? peer_->outbox_size_ : orphaned_size_;
    const MonoTime now = loop()->Now();
    Bytes chunk;
    while (!source.empty() && source.front().arrival <= now && chunk.size() < MemoryNetwork::kChunkSize) {
      Chunk& front = source.front();
      const size_t left = front.bytes.size() - front.taken;
      const size_t take = std::min(left, MemoryNetwork::kChunkSize - chunk.size());
      if (chunk.empty() && front.taken == 0 && take == left) {
        chunk = std::move(front.bytes);  // A whole write, delivered as it was written: no copy.
      } else {
        chunk.insert(chunk.end(), front.bytes.begin() + front.taken, front.bytes.begin() + front.taken + take);
      }
      front.taken += take;
      if (take == left) source.pop_front();
    }
    source_size -= chunk.size();
    // The writer hears that its bytes left its buffer one latency later, as a TCP sender hears of acks.
    if (!chunk.empty() && peer_ != nullptr) peer_->writable_.ArmAt(now + latency_);
    const bool closed = peer_ != nullptr ? peer_->write_closed_ : peer_closed_;
    const MonoTime closed_at = peer_ != nullptr ? peer_->write_closed_at_ : orphaned_closed_at_;
    const bool eof = source.empty() && closed && closed_at <= now;
    if (!source.empty()) {
      deliver_.ArmAt(source.front().arrival);
    } else if (closed && !eof) {
      deliver_.ArmAt(closed_at);
    }
    if (!chunk.empty() && !DeliverData(chunk)) return;
    if (eof) DeliverEof();
  }

  // Whether `size` more bytes may be written; resets the connection when they would pass the hard limit.
  Status CheckWrite(size_t size) {
    if (reset_) return FailedPreconditionError("write on a reset connection");
    if (broken_) return OkStatus();  // Into the void.
    if (peer_ == nullptr || dead()) return UnavailableError("connection reset by peer");
    if (write_closed_) return FailedPreconditionError("write after CloseWrite");
    if (outbox_size_ + size > limits_.hard_limit) {
      Reset();
      return ResourceExhaustedError("write buffer over its hard limit");
    }
    return OkStatus();
  }

  void Enqueue(Bytes data) {
    // Jitter may not reorder a connection's bytes.
    last_arrival_ = std::max(last_arrival_, network_->Send(local_ip_, remote_ip_, data.size(), latency_));
    outbox_size_ += data.size();
    outbox_.push_back(Chunk{std::move(data), last_arrival_});
    if (outbox_size_ >= limits_.high_water) blocked_ = true;
    peer_->deliver_.ArmAt(outbox_.back().arrival);
  }

  void MaybeNotifyWritable() {
    if (blocked_ && outbox_size_ < limits_.low_water) {
      blocked_ = false;
      NotifyWritable();
    }
  }

  void OnPeerReset() {
    peer_ = nullptr;
    deliver_.Cancel();
    error_.ArmAt(loop()->Now() + latency_);
  }

  void OnPeerClosed(Fifo<Chunk> unsent, size_t unsent_size, MonoTime closed_at) {
    peer_ = nullptr;
    peer_closed_ = true;
    orphaned_ = std::move(unsent);
    orphaned_size_ = unsent_size;
    orphaned_closed_at_ = closed_at;
    deliver_.ArmAt(orphaned_.empty() ? closed_at : orphaned_.front().arrival);
  }

  MemoryNetwork* const network_;
  const WriteLimits limits_;
  const Duration latency_;
  const Multiaddr local_;
  const Multiaddr remote_;
  const Ipv4 local_ip_;
  const Ipv4 remote_ip_;
  MemoryConnection* peer_ = nullptr;  // The other end, or null once it is gone.
  bool peer_closed_ = false;          // The other end was destroyed after an orderly close.
  Fifo<Chunk> orphaned_;             // What it had not delivered yet.
  size_t orphaned_size_ = 0;
  MonoTime orphaned_closed_at_;       // When its end of stream arrives.
  Fifo<Chunk> outbox_;
  size_t outbox_size_ = 0;
  MonoTime last_arrival_;  // When the last byte written reaches the peer.
  bool blocked_ = false;
  bool write_closed_ = false;
  MonoTime write_closed_at_;  // When our end of stream reaches the peer.
  bool reset_ = false;
  bool broken_ = false;
  Delivery deliver_;
  Delivery writable_;
  Delivery error_;
};

class MemoryListener final : public Listener {
 public:
  MemoryListener(MemoryNetwork* network, Multiaddr addr, Transport::AcceptCallback on_accept)
      : network_(network), addr_(std::move(addr)), on_accept_(std::move(on_accept)) {
    network_->listeners_[addr_] = this;
  }
  ~MemoryListener() override { network_->listeners_.erase(addr_); }
  const Multiaddr& listen_addr() const override { return addr_; }
  void Accept(std::unique_ptr<RawConnection> conn) { on_accept_(std::move(conn)); }

 private:
  MemoryNetwork* const network_;
  const Multiaddr addr_;
  Transport::AcceptCallback on_accept_;
};

namespace {

class MemoryPendingDial final : public PendingDial {
 public:
  MemoryPendingDial(EventLoop* loop, bool timed, Duration latency, std::function<void()> run)
      : delivery_(loop, timed, std::move(run)) {
    delivery_.ArmAt(loop->Now() + latency);
  }

 private:
  Delivery delivery_;
};

// /ip4/<ip>/tcp/<port>.
Multiaddr AddressOf(Ipv4 ip, uint16_t port) {
  return *Multiaddr::FromString("/ip4/" + FormatIpv4(ip) + "/tcp/" + std::to_string(port));
}

// The address of an /ip4 component's 4 bytes.
Ipv4 IpOf(const Bytes& b) {
  return static_cast<Ipv4>(b[0]) << 24 | static_cast<Ipv4>(b[1]) << 16 | static_cast<Ipv4>(b[2]) << 8 | b[3];
}

bool IsMemoryAddress(const Multiaddr& addr) {
  const auto c = addr.Components();
  return (c.size() == 2 || (c.size() == 3 && c[2].code == multiaddr_protocol::kP2p)) &&
         c[0].code == multiaddr_protocol::kIp4 && c[1].code == multiaddr_protocol::kTcp;
}

}  // namespace

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(MemoryNetwork* network, Ipv4 ip) : network_(network), ip_(ip) {}

  bool CanDial(const Multiaddr& addr) const override { return IsMemoryAddress(addr); }

  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override {
    if (!IsMemoryAddress(addr)) return InvalidArgumentError("not a memory-network address: " + addr.ToString());
    const auto c = addr.Components();
    uint16_t port = static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]);
    if (port == 0) {
      while (network_->listeners_.count(AddressOf(IpOf(c[0].value), network_->next_port_))) {
        ++network_->next_port_;
      }
      port = network_->next_port_++;
    }
    Multiaddr bound = AddressOf(IpOf(c[0].value), port);
    if (network_->listeners_.count(bound)) return UnavailableError("address in use: " + bound.ToString());
    return std::unique_ptr<Listener>(std::make_unique<MemoryListener>(network_, bound, std::move(on_accept)));
  }

  std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override {
    MemoryNetwork* network = network_;
    const Multiaddr target = addr.WithoutPeerId();
    const Ipv4 target_ip = IpOf(target.Components()[0].value);
    return std::make_unique<MemoryPendingDial>(
        network->loop_, network->timed(), network->LatencyBetween(ip_, target_ip),
        [network, target, target_ip, ip = ip_, on_done = std::move(on_done)] {
          if (network->Separated(ip, target_ip)) {
            on_done(UnavailableError("network unreachable (partitioned): " + target.ToString()));
            return;
          }
          auto it = network->listeners_.find(target);
          if (it == network->listeners_.end()) {
            on_done(UnavailableError("connection refused: " + target.ToString()));
            return;
          }
          const Multiaddr local = AddressOf(ip, network->next_port_++);
          auto dialer = std::make_unique<MemoryConnection>(network, local, ip, target, target_ip);
          auto listener_side = std::make_unique<MemoryConnection>(network, target, target_ip, local, ip);
          MemoryConnection::Connect(dialer.get(), listener_side.get());
          it->second->Accept(std::move(listener_side));
          on_done(std::unique_ptr<RawConnection>(std::move(dialer)));
        });
  }

 private:
  MemoryNetwork* const network_;
  const Ipv4 ip_;  // Our dials come from this address.
};

StatusOr<Ipv4> ParseIpv4(const std::string& text) {
  StatusOr<Multiaddr> addr = Multiaddr::FromString("/ip4/" + text);
  if (!addr.ok()) return InvalidArgumentError("not an IPv4 address: " + text);
  return IpOf(addr->Components()[0].value);
}

std::string FormatIpv4(Ipv4 ip) {
  return std::to_string(ip >> 24) + "." + std::to_string(ip >> 16 & 0xff) + "." + std::to_string(ip >> 8 & 0xff) +
         "." + std::to_string(ip & 0xff);
}

namespace {

Ipv4 MustParse(const std::string& text) {
  StatusOr<Ipv4> ip = ParseIpv4(text);
  assert(ip.ok());
  return ip.ok() ? *ip : 0;
}

// How long `bytes` take at `bytes_per_second`, rounded up to the nanosecond.
Duration TransmitTime(size_t bytes, uint64_t bytes_per_second) {
  constexpr unsigned __int128 kNanos = 1'000'000'000;
  return Duration(static_cast<int64_t>((bytes * kNanos + bytes_per_second - 1) / bytes_per_second));
}

}  // namespace

MemoryNetwork::MemoryNetwork(EventLoop* loop, WriteLimits limits, Duration latency)
    : loop_(loop), limits_(limits), latency_(latency), modeled_(false) {}

MemoryNetwork::MemoryNetwork(EventLoop* loop, WriteLimits limits, LinkModel model)
    : loop_(loop), limits_(limits), latency_(Duration::zero()), modeled_(true), model_(std::move(model)),
      jitter_rng_(model_.seed) {}

MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<Transport> MemoryNetwork::CreateTransport(const std::string& ipv4) {
  return std::make_unique<MemoryTransport>(this, MustParse(ipv4));
}

void MemoryNetwork::SetAccessLink(const std::string& ip, AccessLink link) { endpoints_[MustParse(ip)].link = link; }

Traffic MemoryNetwork::TrafficOf(const std::string& ip) const {
  const auto it = endpoints_.find(MustParse(ip));
  return it == endpoints_.end() ? Traffic{} : it->second.traffic;
}

void MemoryNetwork::BreakConnections() {
  for (MemoryConnection* c : connections_) c->Break();
}

void MemoryNetwork::Partition(const std::vector<std::string>& side) {
  partition_.clear();
  for (const std::string& ip : side) partition_.insert(MustParse(ip));
  for (MemoryConnection* c : connections_) {
    if (Separated(c->local_ip(), c->remote_ip())) c->Break();
  }
}

void MemoryNetwork::Heal() { partition_.clear(); }

bool MemoryNetwork::Separated(Ipv4 a, Ipv4 b) const {
  return !partition_.empty() && partition_.count(a) != partition_.count(b);
}

Duration MemoryNetwork::LatencyBetween(Ipv4 from, Ipv4 to) const {
  return model_.latency ? model_.latency(from, to) : latency_;
}

MonoTime MemoryNetwork::Send(Ipv4 from, Ipv4 to, size_t bytes, Duration latency) {
  MonoTime t = loop_->Now();
  Endpoint& sender = endpoints_[from];
  Endpoint& receiver = endpoints_[to];
  sender.traffic.bytes_sent += bytes;
  receiver.traffic.bytes_received += bytes;
  if (!modeled_) return t + latency;
  if (sender.link.upload_bytes_per_second > 0) {
    t = std::max(t, sender.upload_free) + TransmitTime(bytes, sender.link.upload_bytes_per_second);
    sender.upload_free = t;
  }
  t += latency;
  if (model_.jitter > Duration::zero()) {
    t += Duration(static_cast<int64_t>(jitter_rng_() % (static_cast<uint64_t>(model_.jitter.count()) + 1)));
  }
  if (receiver.link.download_bytes_per_second > 0) {
    t = std::max(t, receiver.download_free) + TransmitTime(bytes, receiver.link.download_bytes_per_second);
    receiver.download_free = t;
  }
  return t;
}

}  // namespace libp2p::stream
