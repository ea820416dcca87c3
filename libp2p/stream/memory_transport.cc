#include "libp2p/stream/memory_transport.h"

#include <deque>
#include <string>

#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {

// One end of an in-memory connection. Bytes written wait in this end's outbox until the other end takes
// them (while it is not paused), so a slow reader blocks the writer as TCP would.
class MemoryConnection final : public RawConnection, public StreamBase {
 public:
  MemoryConnection(EventLoop* loop, WriteLimits limits, Multiaddr local, Multiaddr remote)
      : StreamBase(loop), limits_(limits), local_(std::move(local)), remote_(std::move(remote)),
        deliver_timer_(loop->CreateTimer([this] { PullFromPeer(); })),
        writable_timer_(loop->CreateTimer([this] { MaybeNotifyWritable(); })),
        error_timer_(loop->CreateTimer([this] { DeliverError(UnavailableError("connection reset by peer")); })) {}

  // Like close() on a socket: bytes still queued reach the peer, then its end of stream.
  ~MemoryConnection() override {
    if (peer_ != nullptr) peer_->OnPeerClosed(std::move(outbox_), outbox_size_);
  }

  static void Connect(MemoryConnection* a, MemoryConnection* b) {
    a->peer_ = b;
    b->peer_ = a;
  }

  const Multiaddr& local_addr() const override { return local_; }
  const Multiaddr& remote_addr() const override { return remote_; }

  Status Write(ByteSpan data) override {
    if (reset_) return FailedPreconditionError("write on a reset connection");
    if (peer_ == nullptr || dead()) return UnavailableError("connection reset by peer");
    if (write_closed_) return FailedPreconditionError("write after CloseWrite");
    if (data.empty()) return OkStatus();
    if (outbox_size_ + data.size() > limits_.hard_limit) {
      Reset();
      return ResourceExhaustedError("write buffer over its hard limit");
    }
    outbox_.emplace_back(data.begin(), data.end());
    outbox_size_ += data.size();
    if (outbox_size_ >= limits_.high_water) blocked_ = true;
    peer_->deliver_timer_->Schedule(Duration::zero());
    return OkStatus();
  }
  size_t buffered_bytes() const override { return outbox_size_; }
  bool write_blocked() const override { return blocked_; }

  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    if (peer_ != nullptr) peer_->deliver_timer_->Schedule(Duration::zero());
  }

  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    outbox_.clear();
    outbox_size_ = 0;
    if (peer_ != nullptr) {
      peer_->OnPeerReset();
      peer_ = nullptr;
    }
  }

 protected:
  void OnReadPauseChanged() override {
    if (want_pause()) return;
    if (peer_ != nullptr ? (peer_->outbox_size_ > 0 || peer_->write_closed_) : peer_closed_) {
      deliver_timer_->Schedule(Duration::zero());
    }
  }

 private:
  // Moves up to one chunk of the peer's outbox (or of what it left behind when it closed) into this end.
  void PullFromPeer() {
    if (want_pause()) return;
    std::deque<Bytes>& source = peer_ != nullptr ? peer_->outbox_ : orphaned_;
    size_t& source_size = peer_ != nullptr ? peer_->outbox_size_ : orphaned_size_;
    Bytes chunk;
    while (!source.empty() && chunk.size() < MemoryNetwork::kChunkSize) {
      Bytes& front = source.front();
      const size_t take = std::min(front.size(), MemoryNetwork::kChunkSize - chunk.size());
      chunk.insert(chunk.end(), front.begin(), front.begin() + take);
      if (take == front.size()) {
        source.pop_front();
      } else {
        front.erase(front.begin(), front.begin() + take);
      }
    }
    source_size -= chunk.size();
    if (!chunk.empty() && peer_ != nullptr) peer_->writable_timer_->Schedule(Duration::zero());
    const bool more = source_size > 0;
    const bool eof = !more && (peer_ != nullptr ? peer_->write_closed_ : peer_closed_);
    if (more) deliver_timer_->Schedule(Duration::zero());
    if (!chunk.empty() && !DeliverData(chunk)) return;
    if (eof) DeliverEof();
  }

  void MaybeNotifyWritable() {
    if (blocked_ && outbox_size_ < limits_.low_water) {
      blocked_ = false;
      NotifyWritable();
    }
  }

  void OnPeerReset() {
    peer_ = nullptr;
    deliver_timer_->Cancel();
    error_timer_->Schedule(Duration::zero());
  }

  void OnPeerClosed(std::deque<Bytes> unsent, size_t unsent_size) {
    peer_ = nullptr;
    peer_closed_ = true;
    orphaned_ = std::move(unsent);
    orphaned_size_ = unsent_size;
    deliver_timer_->Schedule(Duration::zero());
  }

  const WriteLimits limits_;
  const Multiaddr local_;
  const Multiaddr remote_;
  MemoryConnection* peer_ = nullptr;  // The other end, or null once it is gone.
  bool peer_closed_ = false;          // The other end was destroyed after an orderly close.
  std::deque<Bytes> orphaned_;        // What it had not delivered yet.
  size_t orphaned_size_ = 0;
  std::deque<Bytes> outbox_;
  size_t outbox_size_ = 0;
  bool blocked_ = false;
  bool write_closed_ = false;
  bool reset_ = false;
  std::unique_ptr<Timer> deliver_timer_;
  std::unique_ptr<Timer> writable_timer_;
  std::unique_ptr<Timer> error_timer_;
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
  MemoryPendingDial(EventLoop* loop, std::function<void()> run) : timer_(loop->CreateTimer(std::move(run))) {
    timer_->Schedule(Duration::zero());
  }

 private:
  std::unique_ptr<Timer> timer_;
};

Multiaddr LoopbackAddress(uint16_t port) {
  return *Multiaddr::FromString("/ip4/127.0.0.1/tcp/" + std::to_string(port));
}

bool IsMemoryAddress(const Multiaddr& addr) {
  const auto c = addr.Components();
  return (c.size() == 2 || (c.size() == 3 && c[2].code == multiaddr_protocol::kP2p)) &&
         c[0].code == multiaddr_protocol::kIp4 && c[1].code == multiaddr_protocol::kTcp;
}

}  // namespace

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(MemoryNetwork* network) : network_(network) {}

  bool CanDial(const Multiaddr& addr) const override { return IsMemoryAddress(addr); }

  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override {
    if (!IsMemoryAddress(addr)) return InvalidArgumentError("not a memory-network address: " + addr.ToString());
    const auto c = addr.Components();
    uint16_t port = static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]);
    if (port == 0) {
      while (network_->listeners_.count(LoopbackAddress(network_->next_port_))) ++network_->next_port_;
      port = network_->next_port_++;
    }
    Multiaddr bound = LoopbackAddress(port);
    if (network_->listeners_.count(bound)) return UnavailableError("address in use: " + bound.ToString());
    return std::unique_ptr<Listener>(std::make_unique<MemoryListener>(network_, bound, std::move(on_accept)));
  }

  std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override {
    MemoryNetwork* network = network_;
    const Multiaddr target = addr.WithoutPeerId();
    return std::make_unique<MemoryPendingDial>(network->loop_, [network, target, on_done = std::move(on_done)] {
      auto it = network->listeners_.find(target);
      if (it == network->listeners_.end()) {
        on_done(UnavailableError("connection refused: " + target.ToString()));
        return;
      }
      const Multiaddr local = LoopbackAddress(network->next_port_++);
      auto dialer = std::make_unique<MemoryConnection>(network->loop_, network->limits_, local, target);
      auto listener_side = std::make_unique<MemoryConnection>(network->loop_, network->limits_, target, local);
      MemoryConnection::Connect(dialer.get(), listener_side.get());
      it->second->Accept(std::move(listener_side));
      on_done(std::unique_ptr<RawConnection>(std::move(dialer)));
    });
  }

 private:
  MemoryNetwork* const network_;
};

MemoryNetwork::MemoryNetwork(EventLoop* loop, WriteLimits limits) : loop_(loop), limits_(limits) {}
MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<Transport> MemoryNetwork::CreateTransport() { return std::make_unique<MemoryTransport>(this); }

}  // namespace libp2p::stream
