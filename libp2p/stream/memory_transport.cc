#include "libp2p/stream/memory_transport.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libp2p/base/fifo.h"
#include "libp2p/base/spliced_bytes.h"
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

class ShardedPendingDial;

// A dial between shards: the request, and the answer that comes back.
struct MemoryNetwork::DialRequest {
  Multiaddr target;
  Ipv4 from_ip = 0;
  Multiaddr from_addr;    // The dialer's end: its address and port.
  size_t from_shard = 0;
  uint64_t dial = 0;      // The pending dial, on the dialer's shard.
  uint64_t dialer = 0;    // The id its connection will have there.
  Status answer;          // The answer: ok, or why the dial failed.
  uint64_t accepted = 0;  // The listener's end, on the listener's shard (ok answers).
};

struct MemoryNetwork::Message {
  enum class Kind : uint8_t { kData, kAck, kEof, kClosed, kReset, kDial, kDialAnswer };
  Kind kind = Kind::kData;
  uint64_t to = 0;  // The connection (kDialAnswer: the pending dial; kDial: none).
  // kData: when the bytes reach the receiver's access link. kReset: when it was sent. Others: when the other
  // side sees it (kAck: the writer hears its bytes were taken; kEof, kClosed: at the earliest, the end of
  // stream; kDial: the listener's side).
  MonoTime at;
  size_t count = 0;  // kAck: bytes taken.
  SplicedBytes bytes;  // kData.
  std::unique_ptr<DialRequest> dial;  // kDial, kDialAnswer.
};

// One shard's part of the network: everything of the addresses it holds, touched by its thread only (its
// outboxes also by the receiving shard's, at the start of its windows).
struct MemoryNetwork::Shard {
  Shard(EventLoop* l, uint64_t seed, size_t shards, size_t windows_in_flight) : loop(l), jitter_rng(seed), outbox(shards) {
    for (auto& to : outbox) to.resize(windows_in_flight);
  }
  EventLoop* const loop;
  std::mt19937_64 jitter_rng;
  // Never erased, so a connection may keep a pointer to its address's.
  std::unordered_map<Ipv4, Endpoint> endpoints;
  uint16_t next_port = 10000;
  std::unordered_map<Multiaddr, MemoryListener*> listeners;
  uint64_t next_id = 1;
  // Each connection end of this shard at its id (null where none is: ids also number dials and accepts, and
  // ids of connections gone are not reused). It grows with every id handed out, 8 bytes each, and walks
  // (BreakConnections, Partition) cover them all: a simulation's network lives as long as its run.
  std::vector<MemoryConnection*> connections;
  std::unordered_map<uint64_t, ShardedPendingDial*> dials;
  // Dials between shards waiting for their listener's side to be reached.
  std::unordered_map<uint64_t, std::unique_ptr<Timer>> accepts;
  // The window this shard is in (0 before the first), and what it sent each other shard, by the window it
  // was sent in modulo twice the lag: the receiver takes window j's at the beginning of its window j + lag,
  // while the sender may be in any window up to j + 2 * lag - 1.
  uint64_t window = 0;
  std::vector<std::vector<std::vector<Message>>> outbox;
  // What BeginWindow() handles, swapped with an outbox it takes: the outbox keeps this one's memory, so
  // neither grows from nothing every window.
  std::vector<Message> taken;
};

// One end of an in-memory connection. Bytes written travel to the other end's inbox, where they wait until
// it takes them (while it is not paused); the writer counts them as buffered until it hears they were taken,
// one latency later, so a slow reader blocks the writer as TCP would. On a network with latency the bytes
// of one write become available to the peer one latency after the write.
class MemoryConnection final : public RawConnection, public StreamBase {
 public:
  using Message = MemoryNetwork::Message;
  using Kind = Message::Kind;
  // Bytes of one write, and when they reach this end.
  struct Chunk {
    SplicedBytes bytes;
    MonoTime arrival;
    size_t taken = 0;  // The first bytes, already delivered.
  };
  // Part of a write taken from the inbox for a delivery: `count` of its bytes from byte `from` on.
  struct Taken {
    SplicedBytes bytes;
    size_t from;
    size_t count;
  };

  // This end, `id` on `shard`, and the other end, `peer` on `peer_shard` (which may not exist yet).
  MemoryConnection(MemoryNetwork* network, size_t shard, uint64_t id, Multiaddr local, Ipv4 local_ip,
                   Multiaddr remote, Ipv4 remote_ip, size_t peer_shard, uint64_t peer)
      : StreamBase(network->shards_[shard]->loop), network_(network), limits_(network->limits_),
        latency_(network->LatencyBetween(local_ip, remote_ip)), local_(std::move(local)),
        remote_(std::move(remote)), local_ip_(local_ip), remote_ip_(remote_ip), shard_(shard), id_(id),
        peer_shard_(peer_shard), peer_(peer), endpoint_(&network->shards_[shard]->endpoints[local_ip]),
        deliver_(loop(), network->timed(), [this] { Pull(); }),
        writable_(loop(), network->timed(), [this] { MaybeNotifyWritable(); }),
        error_(loop(), network->timed(), [this] { DeliverError(UnavailableError("connection reset by peer")); }) {
    std::vector<MemoryConnection*>& connections = network_->shards_[shard_]->connections;
    if (connections.size() <= id_) connections.resize(id_ + 1);
    connections[id_] = this;
  }

  Ipv4 local_ip() const { return local_ip_; }
  Ipv4 remote_ip() const { return remote_ip_; }

  // Cut: writes vanish, nothing more is delivered either way.
  void Break() {
    broken_ = true;
    deliver_.Cancel();
    error_.Cancel();
    ClearInbox();
  }

  // Like close() on a socket: bytes already written reach the peer, then its end of stream.
  ~MemoryConnection() override {
    network_->shards_[shard_]->connections[id_] = nullptr;
    if (peer_gone_ || broken_ || reset_) return;
    Tell(Message{.kind = Kind::kClosed, .at = write_closed_ ? write_closed_at_ : loop()->Now() + latency_});
  }

  const Multiaddr& local_addr() const override { return local_; }
  const Multiaddr& remote_addr() const override { return remote_; }
  bool simulation_null_cipher() const override { return network_->null_cipher(); }

  Status Write(ByteSpan data) override {
    RETURN_IF_ERROR(CheckWrite(data.size()));
    if (!broken_ && !data.empty()) Send(SplicedBytes(Bytes(data.begin(), data.end())));
    return OkStatus();
  }
  // Takes `data` whole unless a quarter or more of its memory is spare: queued bytes then cost about what
  // they are, as copies would (bytes may wait in a link's queues for a while).
  Status WriteOwned(Bytes data) override {
    if (data.capacity() - data.size() >= data.size() / 4) return Write(data);
    return WriteSpliced(SplicedBytes(std::move(data)));
  }
  // Keeps the splices: their shared buffers are held until the bytes are delivered, where they lie.
  Status WriteSpliced(SplicedBytes data) override {
    RETURN_IF_ERROR(CheckWrite(data.size()));
    if (!broken_ && !data.empty()) Send(std::move(data));
    return OkStatus();
  }
  size_t buffered_bytes() const override { return unacked_; }
  bool write_blocked() const override { return blocked_; }

  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    write_closed_at_ = loop()->Now() + latency_;
    if (!peer_gone_ && !broken_) Tell(Message{.kind = Kind::kEof, .at = write_closed_at_});
  }

  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    deliver_.Cancel();
    ClearInbox();
    unacked_ = 0;
    if (!peer_gone_ && !broken_) Tell(Message{.kind = Kind::kReset, .at = loop()->Now()});
    peer_gone_ = true;
  }

  // A message from the other end.
  void Receive(Message m) {
    if (broken_ || reset_) return;
    switch (m.kind) {
      case Kind::kData: {
        // Jitter may not reorder a connection's bytes.
        last_arrival_ = std::max(last_arrival_, network_->Arrive(endpoint_, m.bytes.size(), m.at));
        inbox_.push_back(Chunk{std::move(m.bytes), last_arrival_});
        deliver_.ArmAt(last_arrival_);
        return;
      }
      case Kind::kAck:
        unacked_ -= std::min(unacked_, m.count);
        // Only a blocked writer waits to hear of room, when the ack arrives (most acks find none waiting:
        // no timer for them).
        if (blocked_) writable_.ArmAt(m.at);
        return;
      case Kind::kEof:
        closed_ = true;
        closed_at_ = std::max(m.at, last_arrival_);
        deliver_.ArmAt(closed_at_);
        return;
      case Kind::kClosed:
        peer_gone_ = true;
        if (!closed_) {
          closed_ = true;
          closed_at_ = std::max(m.at, last_arrival_);
        }
        deliver_.ArmAt(inbox_.empty() ? closed_at_ : inbox_.front().arrival);
        return;
      case Kind::kReset:
        // What had not been taken yet is lost, and so is any end of stream.
        peer_gone_ = true;
        closed_ = false;
        deliver_.Cancel();
        ClearInbox();
        error_.ArmAt(m.at + latency_);
        return;
      case Kind::kDial:
      case Kind::kDialAnswer:
        return;  // Not for a connection.
    }
  }

 protected:
  void OnReadPauseChanged() override {
    if (!want_pause() && (!inbox_.empty() || closed_)) deliver_.ArmAt(loop()->Now());
  }

 private:
  // Tells the other end, on its shard.
  void Tell(Message m) {
    m.to = peer_;
    network_->Post(shard_, peer_shard_, std::move(m));
  }

  // What the other end wrote and we have not taken is lost.
  void ClearInbox() {
    inbox_.clear();
    ++inbox_clears_;
  }

  // Moves up to one delivery's worth (kChunkSize) of the inbox that has arrived by now into this end. The
  // writes' bytes go up where they lie, piece by piece: a buffer spliced into a write (shared with the
  // writer's other peers) is not copied. They leave the inbox before the delivery, as a read empties a
  // socket's buffer, since its callbacks may reset this end (clearing the inbox) or write to it; the last
  // write, when only part of it was taken, goes back to the inbox's front after the delivery unless the
  // inbox was cleared meanwhile.
  void Pull() {
    if (want_pause() || broken_) return;
    const MonoTime now = loop()->Now();
    std::vector<Taken> taken = std::move(taking_);  // Given back at the end, to keep its capacity.
    size_t size = 0;
    bool part = false;  // The last one taken is part of a write.
    while (!inbox_.empty() && inbox_.front().arrival <= now && size < MemoryNetwork::kChunkSize) {
      Chunk& front = inbox_.front();
      const size_t left = front.bytes.size() - front.taken;
      const size_t take = std::min(left, MemoryNetwork::kChunkSize - size);
      taken.push_back(Taken{std::move(front.bytes), front.taken, take});
      size += take;
      front.taken += take;
      part = take < left;
      if (!part) inbox_.pop_front();
    }
    // The writer hears that its bytes left its buffer one latency later, as a TCP sender hears of acks.
    if (size > 0 && !peer_gone_) Tell(Message{.kind = Kind::kAck, .at = now + latency_, .count = size});
    const bool eof = inbox_.empty() && closed_ && closed_at_ <= now;
    if (!inbox_.empty()) {
      deliver_.ArmAt(inbox_.front().arrival);
    } else if (closed_ && !eof) {
      deliver_.ArmAt(closed_at_);
    }
    const uint64_t clears = inbox_clears_;
    for (const Taken& t : taken) {
      bool alive = true;
      t.bytes.ForEachPiece(t.from, t.count, [&](ByteSpan piece) { alive = alive && DeliverData(piece); });
      if (!alive) return;
    }
    if (part && inbox_clears_ == clears) inbox_.front().bytes = std::move(taken.back().bytes);
    taken.clear();
    taking_ = std::move(taken);
    if (eof) DeliverEof();
  }

  // Whether `size` more bytes may be written; resets the connection when they would pass the hard limit.
  Status CheckWrite(size_t size) {
    if (reset_) return FailedPreconditionError("write on a reset connection");
    if (broken_) return OkStatus();  // Into the void.
    if (peer_gone_ || dead()) return UnavailableError("connection reset by peer");
    if (write_closed_) return FailedPreconditionError("write after CloseWrite");
    if (unacked_ + size > limits_.hard_limit) {
      Reset();
      return ResourceExhaustedError("write buffer over its hard limit");
    }
    return OkStatus();
  }

  void Send(SplicedBytes data) {
    const size_t size = data.size();
    const MonoTime at = network_->Depart(shard_, endpoint_, size, latency_);
    unacked_ += size;
    if (unacked_ >= limits_.high_water) blocked_ = true;
    Tell(Message{.kind = Kind::kData, .at = at, .bytes = std::move(data)});
  }

  void MaybeNotifyWritable() {
    if (blocked_ && unacked_ < limits_.low_water) {
      blocked_ = false;
      NotifyWritable();
    }
  }

  MemoryNetwork* const network_;
  const WriteLimits limits_;
  const Duration latency_;
  const Multiaddr local_;
  const Multiaddr remote_;
  const Ipv4 local_ip_;
  const Ipv4 remote_ip_;
  const size_t shard_;
  const uint64_t id_;
  const size_t peer_shard_;
  const uint64_t peer_;
  MemoryNetwork::Endpoint* const endpoint_;  // Our address's, on our shard: outlives us (the network does).
  bool peer_gone_ = false;  // The other end was closed or reset: writes fail.
  Fifo<Chunk> inbox_;       // What the other end wrote, in order of arrival.
  std::vector<Taken> taking_;  // Empty: Pull()'s list of what it takes, kept for its capacity.
  uint64_t inbox_clears_ = 0;  // Times the inbox was cleared (ClearInbox).
  MonoTime last_arrival_;   // When the last byte written to this end arrives.
  bool closed_ = false;     // The other end's end of stream is on its way...
  MonoTime closed_at_;      // ...and arrives then (after the inbox's bytes).
  size_t unacked_ = 0;      // Written, and not yet heard to be taken by the other end.
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
  MemoryListener(std::unordered_map<Multiaddr, MemoryListener*>* registry, Multiaddr addr,
                 Transport::AcceptCallback on_accept)
      : registry_(registry), addr_(std::move(addr)), on_accept_(std::move(on_accept)) {
    (*registry_)[addr_] = this;
  }
  ~MemoryListener() override { registry_->erase(addr_); }
  const Multiaddr& listen_addr() const override { return addr_; }
  void Accept(std::unique_ptr<RawConnection> conn) { on_accept_(std::move(conn)); }

 private:
  std::unordered_map<Multiaddr, MemoryListener*>* const registry_;  // Its shard's listeners.
  const Multiaddr addr_;
  Transport::AcceptCallback on_accept_;
};

namespace {

// A dial on a network of one shard: after one latency, the listener accepts and the dialer is connected.
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

// A dial on a sharded network: the request reaches the listener's shard one latency after the dial, and its
// answer (the listener's end, or why there is none) comes back one latency later.
class ShardedPendingDial final : public PendingDial {
 public:
  ShardedPendingDial(MemoryNetwork* network, size_t shard, Ipv4 ip, const Multiaddr& target, Ipv4 target_ip,
                     Transport::DialCallback on_done)
      : network_(network), shard_(shard), ip_(ip), target_(target), on_done_(std::move(on_done)),
        delivery_(network->shards_[shard]->loop, true, [this] { Done(); }) {
    MemoryNetwork::Shard& s = *network_->shards_[shard_];
    id_ = s.next_id++;
    s.dials.emplace(id_, this);
    auto request = std::make_unique<MemoryNetwork::DialRequest>();
    request->target = target;
    request->from_ip = ip;
    request->from_addr = AddressOf(ip, s.next_port++);
    request->from_shard = shard_;
    request->dial = id_;
    request->dialer = s.next_id++;
    network_->Post(shard_, network_->ShardOf(target_ip),
                   MemoryNetwork::Message{.kind = MemoryNetwork::Message::Kind::kDial,
                                          .at = s.loop->Now() + network_->LatencyBetween(ip, target_ip),
                                          .dial = std::move(request)});
  }

  // A cancelled dial's connection never reaches the caller: the listener's end hears a reset.
  ~ShardedPendingDial() override {
    network_->shards_[shard_]->dials.erase(id_);
    if (connection_ != nullptr) connection_->Reset();
  }

  // The listener's shard answered; the answer arrives at `at`.
  void Answer(const MemoryNetwork::DialRequest& answer, MonoTime at) {
    if (answer.answer.ok()) {
      const Ipv4 target_ip = IpOf(target_.Components()[0].value);
      connection_ = std::make_unique<MemoryConnection>(network_, shard_, answer.dialer, answer.from_addr, ip_, target_,
                                                       target_ip, network_->ShardOf(target_ip), answer.accepted);
    } else {
      failure_ = answer.answer;
    }
    delivery_.ArmAt(at);
  }

 private:
  void Done() {
    Transport::DialCallback on_done = std::move(on_done_);
    if (connection_ != nullptr) {
      on_done(std::unique_ptr<RawConnection>(std::move(connection_)));
    } else {
      on_done(failure_);
    }
  }

  MemoryNetwork* const network_;
  const size_t shard_;
  const Ipv4 ip_;
  const Multiaddr target_;
  Transport::DialCallback on_done_;
  uint64_t id_ = 0;
  std::unique_ptr<MemoryConnection> connection_;  // Until it is handed over.
  Status failure_;
  Delivery delivery_;
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(MemoryNetwork* network, Ipv4 ip) : network_(network), ip_(ip), shard_(network->ShardOf(ip)) {}

  bool CanDial(const Multiaddr& addr) const override { return IsMemoryAddress(addr); }

  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override {
    if (!IsMemoryAddress(addr)) return InvalidArgumentError("not a memory-network address: " + addr.ToString());
    const auto c = addr.Components();
    const Ipv4 ip = IpOf(c[0].value);
    if (network_->ShardOf(ip) != shard_) {
      return InvalidArgumentError("listen address on another shard than the transport's: " + addr.ToString());
    }
    MemoryNetwork::Shard& s = *network_->shards_[shard_];
    uint16_t port = static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]);
    if (port == 0) {
      while (s.listeners.count(AddressOf(ip, s.next_port))) ++s.next_port;
      port = s.next_port++;
    }
    Multiaddr bound = AddressOf(ip, port);
    if (s.listeners.count(bound)) return UnavailableError("address in use: " + bound.ToString());
    return std::unique_ptr<Listener>(std::make_unique<MemoryListener>(&s.listeners, bound, std::move(on_accept)));
  }

  std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override {
    const Multiaddr target = addr.WithoutPeerId();
    const Ipv4 target_ip = IpOf(target.Components()[0].value);
    if (network_->sharded()) {
      return std::make_unique<ShardedPendingDial>(network_, shard_, ip_, target, target_ip, std::move(on_done));
    }
    MemoryNetwork* network = network_;
    MemoryNetwork::Shard* shard = network->shards_[0].get();
    return std::make_unique<MemoryPendingDial>(
        shard->loop, network->timed(), network->LatencyBetween(ip_, target_ip),
        [network, shard, target, target_ip, ip = ip_, on_done = std::move(on_done)] {
          if (network->Separated(ip, target_ip)) {
            on_done(UnavailableError("network unreachable (partitioned): " + target.ToString()));
            return;
          }
          auto it = shard->listeners.find(target);
          if (it == shard->listeners.end()) {
            on_done(UnavailableError("connection refused: " + target.ToString()));
            return;
          }
          const Multiaddr local = AddressOf(ip, shard->next_port++);
          const uint64_t dialer_id = shard->next_id++, listener_id = shard->next_id++;
          auto dialer = std::make_unique<MemoryConnection>(network, 0, dialer_id, local, ip, target, target_ip, 0,
                                                           listener_id);
          auto listener_side = std::make_unique<MemoryConnection>(network, 0, listener_id, target, target_ip, local,
                                                                  ip, 0, dialer_id);
          it->second->Accept(std::move(listener_side));
          on_done(std::unique_ptr<RawConnection>(std::move(dialer)));
        });
  }

 private:
  MemoryNetwork* const network_;
  const Ipv4 ip_;  // Our dials come from this address...
  const size_t shard_;  // ...which lives on this shard.
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
    : limits_(limits), latency_(latency), modeled_(false), lookahead_(Duration::zero()), windows_per_lookahead_(1) {
  shards_.push_back(std::make_unique<Shard>(loop, 0, 1, 2));
}

MemoryNetwork::MemoryNetwork(EventLoop* loop, WriteLimits limits, LinkModel model)
    : MemoryNetwork(Sharding{{loop}, nullptr, Duration::zero(), 1}, limits, std::move(model)) {}

MemoryNetwork::MemoryNetwork(Sharding sharding, WriteLimits limits, LinkModel model)
    : limits_(limits), latency_(Duration::zero()), modeled_(true), model_(std::move(model)),
      shard_of_(std::move(sharding.shard_of)), lookahead_(sharding.lookahead),
      windows_per_lookahead_(sharding.windows_per_lookahead) {
  assert(!sharding.loops.empty());
  assert(sharding.loops.size() == 1 || lookahead_ > Duration::zero());
  assert(windows_per_lookahead_ >= 1);
  for (size_t i = 0; i < sharding.loops.size(); ++i) {
    // Shard 0 draws the jitter of a one-loop network.
    shards_.push_back(std::make_unique<Shard>(sharding.loops[i], model_.seed + i, sharding.loops.size(),
                                              2 * windows_per_lookahead_));
  }
}

MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<Transport> MemoryNetwork::CreateTransport(const std::string& ipv4) {
  return std::make_unique<MemoryTransport>(this, MustParse(ipv4));
}

size_t MemoryNetwork::ShardOf(Ipv4 ip) const { return shard_of_ ? shard_of_(ip) : 0; }

void MemoryNetwork::SetAccessLink(const std::string& ip, AccessLink link) {
  const Ipv4 address = MustParse(ip);
  shards_[ShardOf(address)]->endpoints[address].link = link;
}

Traffic MemoryNetwork::TrafficOf(const std::string& ip) const {
  const Ipv4 address = MustParse(ip);
  const Shard& s = *shards_[ShardOf(address)];
  const auto it = s.endpoints.find(address);
  return it == s.endpoints.end() ? Traffic{} : it->second.traffic;
}

void MemoryNetwork::BreakConnections() {
  for (auto& shard : shards_) {
    for (MemoryConnection* c : shard->connections) {
      if (c != nullptr) c->Break();
    }
  }
}

void MemoryNetwork::Partition(const std::vector<std::string>& side) {
  partition_.clear();
  for (const std::string& ip : side) partition_.insert(MustParse(ip));
  for (auto& shard : shards_) {
    for (MemoryConnection* c : shard->connections) {
      if (c != nullptr && Separated(c->local_ip(), c->remote_ip())) c->Break();
    }
  }
}

void MemoryNetwork::Heal() { partition_.clear(); }

bool MemoryNetwork::Separated(Ipv4 a, Ipv4 b) const {
  return !partition_.empty() && partition_.count(a) != partition_.count(b);
}

Duration MemoryNetwork::LatencyBetween(Ipv4 from, Ipv4 to) const {
  const Duration latency = model_.latency ? model_.latency(from, to) : latency_;
  return ShardOf(from) != ShardOf(to) ? std::max(latency, lookahead_) : latency;
}

MonoTime MemoryNetwork::Depart(size_t shard, Endpoint* from, size_t bytes, Duration latency) {
  Shard& s = *shards_[shard];
  MonoTime t = s.loop->Now();
  Endpoint& sender = *from;
  sender.traffic.bytes_sent += bytes;
  if (!modeled_) return t + latency;
  if (sender.link.upload_bytes_per_second > 0) {
    t = std::max(t, sender.upload_free) + TransmitTime(bytes, sender.link.upload_bytes_per_second);
    sender.upload_free = t;
  }
  t += latency;
  if (model_.jitter > Duration::zero()) {
    t += Duration(static_cast<int64_t>(s.jitter_rng() % (static_cast<uint64_t>(model_.jitter.count()) + 1)));
  }
  return t;
}

MonoTime MemoryNetwork::Arrive(Endpoint* to, size_t bytes, MonoTime at) {
  Endpoint& receiver = *to;
  receiver.traffic.bytes_received += bytes;
  if (modeled_ && receiver.link.download_bytes_per_second > 0) {
    at = std::max(at, receiver.download_free) + TransmitTime(bytes, receiver.link.download_bytes_per_second);
    receiver.download_free = at;
  }
  return at;
}

void MemoryNetwork::Post(size_t from, size_t to, Message message) {
  if (from == to) {
    Handle(to, std::move(message));
  } else {
    Shard& sender = *shards_[from];
    sender.outbox[to][sender.window % sender.outbox[to].size()].push_back(std::move(message));
  }
}

void MemoryNetwork::BeginWindow(size_t shard) {
  Shard& s = *shards_[shard];
  const uint64_t k = ++s.window;
  if (k < windows_per_lookahead_) return;  // Window k - lag would come before window 0 (the setup).
  // The others have finished window k - lag, and have not begun window k + lag (the caller's synchronization
  // guarantees both), so the outboxes of window k - lag are theirs no longer, and not yet again.
  const uint64_t sent_in = k - windows_per_lookahead_;
  for (size_t from = 0; from < shards_.size(); ++from) {
    if (from == shard) continue;
    std::vector<std::vector<Message>>& outboxes = shards_[from]->outbox[shard];
    s.taken.swap(outboxes[sent_in % outboxes.size()]);
    for (Message& m : s.taken) Handle(shard, std::move(m));
    s.taken.clear();
  }
}

void MemoryNetwork::Handle(size_t shard, Message message) {
  Shard& s = *shards_[shard];
  switch (message.kind) {
    case Message::Kind::kDial: {
      // The listener's side, when the dial reaches it.
      const uint64_t key = s.next_id++;
      auto request = std::shared_ptr<DialRequest>(std::move(message.dial));
      std::unique_ptr<Timer>& timer = s.accepts[key];
      timer = s.loop->CreateTimer([this, shard, key, request] {
        Accept(shard, *request);
        shards_[shard]->accepts.erase(key);  // Destroys this timer: the last thing this callback does.
      });
      timer->Schedule(message.at - s.loop->Now());
      return;
    }
    case Message::Kind::kDialAnswer: {
      const auto it = s.dials.find(message.to);
      if (it != s.dials.end()) {
        it->second->Answer(*message.dial, message.at);
      } else if (message.dial->answer.ok()) {
        // The dial was cancelled: its listener's end hears a reset.
        const DialRequest& d = *message.dial;
        Post(shard, ShardOf(IpOf(d.target.Components()[0].value)),
             Message{.kind = Message::Kind::kReset, .to = d.accepted, .at = s.loop->Now()});
      }
      return;
    }
    default: {
      if (message.to < s.connections.size() && s.connections[message.to] != nullptr) {
        s.connections[message.to]->Receive(std::move(message));
      }
      return;
    }
  }
}

void MemoryNetwork::Accept(size_t shard, const DialRequest& request) {
  Shard& s = *shards_[shard];
  const Ipv4 target_ip = IpOf(request.target.Components()[0].value);
  auto answer = std::make_unique<DialRequest>(request);
  const auto it = s.listeners.find(request.target);
  if (Separated(request.from_ip, target_ip)) {
    answer->answer = UnavailableError("network unreachable (partitioned): " + request.target.ToString());
  } else if (it == s.listeners.end()) {
    answer->answer = UnavailableError("connection refused: " + request.target.ToString());
  } else {
    answer->accepted = s.next_id++;
  }
  // The listener's end exists before the answer leaves (a cancelled dial's answer resets it), and the answer
  // goes before anything the listener's end writes.
  std::unique_ptr<MemoryConnection> accepted;
  if (answer->accepted != 0) {
    accepted = std::make_unique<MemoryConnection>(this, shard, answer->accepted, request.target, target_ip,
                                                  request.from_addr, request.from_ip, request.from_shard,
                                                  request.dialer);
  }
  Post(shard, request.from_shard,
       Message{.kind = Message::Kind::kDialAnswer, .to = request.dial,
               .at = s.loop->Now() + LatencyBetween(target_ip, request.from_ip), .dial = std::move(answer)});
  if (accepted != nullptr) it->second->Accept(std::move(accepted));
}

}  // namespace libp2p::stream
