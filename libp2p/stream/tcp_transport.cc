#include "libp2p/stream/tcp_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/stream/socket_address.h"
#include "libp2p/stream/stream_base.h"
#include "libp2p/stream/system_resolver.h"

namespace libp2p::stream {
namespace {

using multiaddr_protocol::kDns;
using multiaddr_protocol::kDns4;
using multiaddr_protocol::kDns6;
using multiaddr_protocol::kDnsAddr;
using multiaddr_protocol::kP2p;
using multiaddr_protocol::kTcp;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

Multiaddr LocalAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Multiaddr();
  return TcpMultiaddr(reinterpret_cast<const sockaddr*>(&ss));
}

Multiaddr RemoteAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Multiaddr();
  return TcpMultiaddr(reinterpret_cast<const sockaddr*>(&ss));
}

// Reads go through one buffer per thread, which the connections of a loop share: a read starts only from the
// loop's fd callback, and the loop never runs a callback inside another, so two reads never overlap. It holds
// several full Noise messages (65537 bytes with their length), so that most of them arrive whole in one read
// and need no reassembly copy above.
constexpr size_t kReadBufferSize = 256 * 1024;
uint8_t* ReadBuffer() {
  thread_local const std::unique_ptr<uint8_t[]> buffer(new uint8_t[kReadBufferSize]);
  return buffer.get();
}

// Best effort: a socket that refuses an option (not TCP, e.g. a socketpair in a test) works without it.
void SetSocketOptions(int fd, const TcpKeepalive& keepalive) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!keepalive.enabled) return;
  const int idle = static_cast<int>(keepalive.idle.count());
  const int interval = static_cast<int>(keepalive.interval.count());
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepalive.count, sizeof(keepalive.count));
}

class TcpConnection final : public RawConnection, public StreamBase {
 public:
  TcpConnection(EventLoop* loop, int fd, const TcpTransportOptions& options)
      : StreamBase(loop), fd_(fd), limits_(options.write_limits), budget_(options.write_budget),
        local_(LocalAddress(fd)), remote_(RemoteAddress(fd)) {
    SetSocketOptions(fd_, options.keepalive);
    watcher_ = loop->WatchFd(fd_, kFdReadable, [this](uint32_t ready) { OnReady(ready); });
    error_task_ = loop->CreateTask([this] { DeliverError(pending_error_); });
  }

  // Like close() on a socket after the last write: what is still queued is handed to the kernel first, as
  // far as it takes it now (a polite close is often the last thing before the connection is destroyed).
  ~TcpConnection() override {
    watcher_.reset();
    if (fd_ >= 0 && pending_error_.ok()) SendQueued();
    DropQueue();
    if (fd_ >= 0) ::close(fd_);
  }

  const Multiaddr& local_addr() const override { return local_; }
  const Multiaddr& remote_addr() const override { return remote_; }

  Status Write(ByteSpan data) override {
    if (reset_) return FailedPreconditionError("write on a reset TCP connection");
    if (!pending_error_.ok()) return UnavailableError(pending_error_.message());
    if (write_closed_) return FailedPreconditionError("write after CloseWrite on a TCP connection");
    if (data.empty()) return OkStatus();
    if (buffered_ + data.size() > limits_.hard_limit) {
      Reset();
      return ResourceExhaustedError("TCP write buffer over its hard limit of " +
                                    std::to_string(limits_.hard_limit) + " bytes");
    }
    if (buffered_ == 0) {
      // Nothing queued: try the socket directly and queue only what it does not take.
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        FailLater(UnavailableError(Errno("TCP send")));
        return UnavailableError(pending_error_.message());
      }
      if (n > 0) data = data.subspan(static_cast<size_t>(n));
      if (data.empty()) return OkStatus();
    }
    if (budget_ != nullptr && !budget_->TryReserve(data.size())) {
      Reset();
      return ResourceExhaustedError("TCP write of " + std::to_string(data.size()) +
                                    " bytes does not fit in the node's write budget of " +
                                    std::to_string(budget_->limit()) + " bytes");
    }
    queue_.emplace_back(data.begin(), data.end());
    buffered_ += data.size();
    if (buffered_ >= limits_.high_water) blocked_ = true;
    UpdateInterest();
    return OkStatus();
  }

  size_t buffered_bytes() const override { return buffered_; }
  bool write_blocked() const override { return blocked_; }

  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    if (buffered_ == 0) ::shutdown(fd_, SHUT_WR);
  }

  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    error_task_->Cancel();
    watcher_.reset();
    DropQueue();
    // SO_LINGER with a zero timeout makes close() send a RST instead of a FIN.
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd_);
    fd_ = -1;
  }

 protected:
  void OnReadPauseChanged() override { UpdateInterest(); }

 private:
  void UpdateInterest() {
    if (!watcher_) return;
    uint32_t interest = 0;
    if (!want_pause() && !read_eof_ && !dead()) interest |= kFdReadable;
    if (buffered_ > 0) interest |= kFdWritable;
    watcher_->SetInterest(interest);
  }

  // Accounts for `n` queued bytes that were sent or dropped, returning them to the budget.
  void Unqueue(size_t n) {
    buffered_ -= n;
    if (budget_ != nullptr) budget_->Release(n);
  }

  void DropQueue() {
    queue_.clear();
    front_offset_ = 0;
    Unqueue(buffered_);
  }

  void FailLater(Status error) {
    if (!pending_error_.ok()) return;
    pending_error_ = std::move(error);
    DropQueue();
    if (watcher_) watcher_->SetInterest(0);
    error_task_->Post();
  }

  void OnReady(uint32_t ready) {
    if (ready & kFdWritable) {
      if (!Flush()) return;
    }
    // A failed send ended the connection: nothing more is read from it.
    if ((ready & kFdReadable) && !reset_ && pending_error_.ok()) ReadOnce();
  }

  // Hands queued bytes to the socket until it takes no more or the queue is empty. A failure fails the
  // connection from the loop. Runs no callback.
  void SendQueued() {
    while (!queue_.empty()) {
      std::array<iovec, 16> iov;
      size_t count = 0;
      for (auto it = queue_.begin(); it != queue_.end() && count < iov.size(); ++it, ++count) {
        const size_t skip = count == 0 ? front_offset_ : 0;
        iov[count].iov_base = it->data() + skip;
        iov[count].iov_len = it->size() - skip;
      }
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          FailLater(UnavailableError(Errno("TCP send")));
        }
        return;
      }
      size_t left = static_cast<size_t>(n);
      Unqueue(left);
      while (left > 0) {
        const size_t in_front = queue_.front().size() - front_offset_;
        if (left < in_front) {
          front_offset_ += left;
          left = 0;
        } else {
          left -= in_front;
          queue_.pop_front();
          front_offset_ = 0;
        }
      }
    }
  }

  // Writes queued bytes (the socket became writable). Returns false when the connection was destroyed by a
  // callback.
  bool Flush() {
    SendQueued();
    if (!pending_error_.ok()) return true;
    UpdateInterest();
    if (buffered_ == 0 && write_closed_) ::shutdown(fd_, SHUT_WR);
    if (blocked_ && buffered_ < limits_.low_water) {
      blocked_ = false;
      return NotifyWritable();
    }
    return true;
  }

  void ReadOnce() {
    uint8_t* const buffer = ReadBuffer();
    const ssize_t n = ::recv(fd_, buffer, kReadBufferSize, 0);
    if (n > 0) {
      DeliverData(ByteSpan(buffer, static_cast<size_t>(n)));  // Nothing follows, alive or not.
      return;
    }
    if (n == 0) {
      read_eof_ = true;
      UpdateInterest();
      DeliverEof();
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    FailLater(UnavailableError(Errno("TCP recv")));
  }

  int fd_;
  const WriteLimits limits_;
  MemoryBudget* const budget_;  // Holds buffered_ bytes of it; may be null.
  const Multiaddr local_;
  const Multiaddr remote_;
  std::unique_ptr<FdWatcher> watcher_;
  std::unique_ptr<Task> error_task_;
  std::deque<Bytes> queue_;
  size_t front_offset_ = 0;
  size_t buffered_ = 0;
  bool blocked_ = false;
  bool write_closed_ = false;
  bool read_eof_ = false;
  bool reset_ = false;
  Status pending_error_;
};

class TcpListener final : public Listener {
 public:
  TcpListener(EventLoop* loop, int fd, const TcpTransportOptions& options, Transport::AcceptCallback on_accept)
      : loop_(loop), fd_(fd), options_(options), addr_(LocalAddress(fd)), on_accept_(std::move(on_accept)) {
    watcher_ = loop->WatchFd(fd_, kFdReadable, [this](uint32_t) { AcceptSome(); });
    resume_timer_ = loop->CreateTimer([this] { watcher_->SetInterest(kFdReadable); });
  }
  ~TcpListener() override {
    watcher_.reset();
    ::close(fd_);
  }
  const Multiaddr& listen_addr() const override { return addr_; }

 private:
  void AcceptSome() {
    Liveness::Scope scope(&liveness_);
    // A bounded batch per readiness event keeps one busy listener from starving the loop.
    for (int i = 0; i < 32; ++i) {
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // The connection stays queued and the watcher is level-triggered: pause instead of spinning.
          watcher_->SetInterest(0);
          resume_timer_->Schedule(options_.accept_pause);
          return;
        }
        continue;  // EINTR, or this connection failed (ECONNABORTED, EPROTO, EPERM, ...): take the next one.
      }
      on_accept_(WrapTcpSocket(loop_, fd, options_));
      if (!scope.alive()) return;
    }
  }

  EventLoop* const loop_;
  const int fd_;
  const TcpTransportOptions options_;
  const Multiaddr addr_;
  Transport::AcceptCallback on_accept_;
  std::unique_ptr<FdWatcher> watcher_;
  std::unique_ptr<Timer> resume_timer_;  // Resumes accepting after a pause.
  Liveness liveness_;
};

// /dns/H/tcp/P, /dns4/H/tcp/P or /dns6/H/tcp/P, optionally followed by /p2p/ID.
struct DnsTcpAddress {
  std::string host;
  IpFamily family;
  Multiaddr tcp;  // /tcp/P, to follow each resolved IP address.
};

std::optional<DnsTcpAddress> ParseDnsTcpAddress(const Multiaddr& addr) {
  std::vector<Multiaddr::Component> c = addr.Components();
  if (!c.empty() && c.back().code == kP2p) c.pop_back();
  if (c.size() != 2 || c[1].code != kTcp) return std::nullopt;
  IpFamily family;
  switch (c[0].code) {
    case kDns: family = IpFamily::kAny; break;
    case kDns4: family = IpFamily::kIp4; break;
    case kDns6: family = IpFamily::kIp6; break;
    default: return std::nullopt;
  }
  StatusOr<Multiaddr> tcp = Multiaddr::FromString("/tcp/" + c[1].text);
  if (!tcp.ok()) return std::nullopt;
  return DnsTcpAddress{c[0].text, family, *std::move(tcp)};
}

// A dial: resolve the name (for a /dns address), then connect to each address in turn until one connects.
class TcpPendingDial final : public PendingDial {
 public:
  TcpPendingDial(EventLoop* loop, const TcpTransportOptions& options, Transport::DialCallback on_done)
      : loop_(loop), options_(options), on_done_(std::move(on_done)),
        finish_task_(loop->CreateTask([this] { Finish(); })) {}
  ~TcpPendingDial() override {
    watcher_.reset();
    CloseSocket();
  }

  void Start(const Multiaddr& addr, Resolver* resolver) {
    target_ = addr.ToString();
    if (std::optional<DnsTcpAddress> dns = ParseDnsTcpAddress(addr)) {
      tcp_ = std::move(dns->tcp);
      resolving_ = resolver->Resolve(dns->host, dns->family, [this](StatusOr<std::vector<Multiaddr>> ips) {
        OnResolved(std::move(ips));
      });
      return;
    }
    const std::vector<Multiaddr::Component> c = addr.Components();
    if (!c.empty() && c[0].code == kDnsAddr) {
      return FinishSoon(InvalidArgumentError("/dnsaddr addresses are not resolved (that takes DNS TXT lookups): " +
                                             target_));
    }
    candidates_.push_back(addr);
    ConnectNext();
  }

 private:
  void OnResolved(StatusOr<std::vector<Multiaddr>> ips) {
    if (!ips.ok()) {
      return FinishSoon(Status(ips.status().code(), "resolving " + target_ + ": " + ips.status().message()));
    }
    for (const Multiaddr& ip : *ips) candidates_.push_back(ip.Encapsulate(tcp_));
    ConnectNext();
  }

  // Starts connecting to the next candidate, skipping those that fail at once; finishes with the last
  // failure when none is left.
  void ConnectNext() {
    while (next_ < candidates_.size()) {
      const Status started = StartConnect(candidates_[next_++]);
      if (started.ok()) return;
      last_error_ = started;
    }
    FinishSoon(last_error_);
  }

  // Creates the socket and starts connect(); OK when the connection is made or under way.
  Status StartConnect(const Multiaddr& candidate) {
    ASSIGN_OR_RETURN(const SocketAddress sa, TcpSocketAddress(candidate));
    fd_ = ::socket(sa.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return UnavailableError(Errno("socket"));
    if (!options_.dial_source.empty()) {
      const SocketAddress source = *TcpSocketAddress(options_.dial_source);  // Checked by the transport.
      if (source.family() == sa.family() && ::bind(fd_, source.get(), source.length) != 0) {
        const Status failed = UnavailableError(Errno(("bind " + options_.dial_source.ToString()).c_str()));
        CloseSocket();
        return failed;
      }
    }
    if (::connect(fd_, sa.get(), sa.length) == 0) {
      FinishSoon(OkStatus());
      return OkStatus();
    }
    if (errno != EINPROGRESS) {
      const Status failed = ConnectError(candidate, errno);
      CloseSocket();
      return failed;
    }
    watcher_ = loop_->WatchFd(fd_, kFdWritable, [this](uint32_t) { OnConnectDone(); });
    return OkStatus();
  }

  void OnConnectDone() {
    watcher_.reset();
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error == 0) return FinishSoon(OkStatus());
    last_error_ = ConnectError(candidates_[next_ - 1], error);
    CloseSocket();
    ConnectNext();
  }

  Status ConnectError(const Multiaddr& candidate, int error) const {
    std::string message = "connect " + candidate.ToString() + ": " + std::strerror(error);
    if (candidate.ToString() != target_) message = "dial " + target_ + ": " + message;
    return UnavailableError(std::move(message));
  }

  void CloseSocket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void FinishSoon(Status result) {
    result_ = std::move(result);
    finish_task_->Post();
  }

  void Finish() {
    Transport::DialCallback done = std::move(on_done_);
    if (!result_.ok()) {
      done(result_);
      return;
    }
    const int fd = fd_;
    fd_ = -1;
    done(WrapTcpSocket(loop_, fd, options_));
  }

  EventLoop* const loop_;
  const TcpTransportOptions options_;
  Transport::DialCallback on_done_;
  std::unique_ptr<Task> finish_task_;
  std::string target_;                         // The address dialed, for messages.
  Multiaddr tcp_;                              // /tcp/P of a /dns address.
  std::unique_ptr<PendingResolve> resolving_;  // The lookup of a /dns address.
  std::vector<Multiaddr> candidates_;          // IP addresses to connect to, in order.
  size_t next_ = 0;                            // The next candidate to try.
  Status last_error_ = UnavailableError("no address to connect to");
  std::unique_ptr<FdWatcher> watcher_;  // Watches fd_ while connecting.
  int fd_ = -1;
  Status result_;
};

}  // namespace

std::unique_ptr<RawConnection> WrapTcpSocket(EventLoop* loop, int fd, const TcpTransportOptions& options) {
  return std::make_unique<TcpConnection>(loop, fd, options);
}

TcpTransport::TcpTransport(EventLoop* loop, TcpTransportOptions options)
    : loop_(loop), options_(options),
      own_resolver_(options.resolver == nullptr ? std::make_unique<SystemResolver>(loop) : nullptr),
      resolver_(options.resolver != nullptr ? options.resolver : own_resolver_.get()) {
  [[maybe_unused]] const TcpKeepalive& k = options_.keepalive;
  assert(k.idle.count() >= 1 && k.idle.count() <= 32767);
  assert(k.interval.count() >= 1 && k.interval.count() <= 32767);
  assert(k.count >= 1 && k.count <= 127);
  assert(options_.listen_backlog > 0);
  assert(options_.accept_pause > Duration::zero());
  assert(options_.dial_source.empty() || TcpSocketAddress(options_.dial_source).ok());
}

TcpTransport::~TcpTransport() = default;

bool TcpTransport::CanDial(const Multiaddr& addr) const {
  return TcpSocketAddress(addr).ok() || ParseDnsTcpAddress(addr).has_value();
}

StatusOr<std::unique_ptr<Listener>> TcpTransport::Listen(const Multiaddr& addr, AcceptCallback on_accept) {
  ASSIGN_OR_RETURN(SocketAddress sa, TcpSocketAddress(addr));
  const int fd = ::socket(sa.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError(Errno("socket"));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (sa.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, sa.get(), sa.length) != 0 || ::listen(fd, options_.listen_backlog) != 0) {
    Status s = UnavailableError(Errno(("listen on " + addr.ToString()).c_str()));
    ::close(fd);
    return s;
  }
  return std::unique_ptr<Listener>(std::make_unique<TcpListener>(loop_, fd, options_, std::move(on_accept)));
}

std::unique_ptr<PendingDial> TcpTransport::Dial(const Multiaddr& addr, DialCallback on_done) {
  auto dial = std::make_unique<TcpPendingDial>(loop_, options_, std::move(on_done));
  dial->Start(addr, resolver_);
  return dial;
}

}  // namespace libp2p::stream
