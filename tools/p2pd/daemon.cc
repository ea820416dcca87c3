#include "tools/p2pd/daemon.h"

#include <sys/socket.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "libp2p/crypto/peer_id.h"
#include "tools/p2pd/control_codec.h"

namespace libp2p::p2pd {

using crypto::PeerId;
using stream::Stream;

namespace {

// Control connections open at once; more are closed as they come.
constexpr size_t kMaxSessions = 1024;
// How long a client may take to send its request, and to close once answered.
constexpr Duration kRequestTimeout = std::chrono::seconds(60);
constexpr Duration kCloseTimeout = std::chrono::seconds(10);
// A subscriber's unsent messages beyond this are dropped (it reads too slowly).
constexpr size_t kMaxSubscriberBacklog = 4 * 1024 * 1024;

std::string Str(ByteSpan b) { return std::string(b.begin(), b.end()); }

// The path of a /unix/PATH address, or nothing for any other address.
std::optional<std::string> UnixPath(const Multiaddr& addr) {
  const std::string text = addr.ToString();
  if (text.rfind("/unix/", 0) != 0) return std::nullopt;
  return text.substr(5);
}

StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
    return InvalidArgumentError("unix socket path of " + std::to_string(path.size()) + " bytes (1 to " +
                                std::to_string(sizeof(sa.sun_path) - 1) + ")");
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

// Unix sockets carry no TCP options.
stream::TcpTransportOptions UnixSocketOptions() {
  stream::TcpTransportOptions o;
  o.keepalive.enabled = false;
  return o;
}

// A unix connect, made at once (the kernel completes or refuses it on the spot); its callback runs from the
// loop, never from inside the call, and not at all once the handle is destroyed.
class UnixDial final : public stream::PendingDial {
 public:
  UnixDial(EventLoop* loop, const std::string& path, stream::Transport::DialCallback on_done)
      : task_(loop->CreateTask([this] { Finish(); })), on_done_(std::move(on_done)) {
    result_ = Connect(loop, path);
    task_->Post();
  }

 private:
  static StatusOr<std::unique_ptr<stream::RawConnection>> Connect(EventLoop* loop, const std::string& path) {
    ASSIGN_OR_RETURN(sockaddr_un sa, UnixAddress(path));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
      const Status failed = UnavailableError("connect /unix" + path + ": " + std::strerror(errno));
      ::close(fd);
      return failed;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return stream::WrapTcpSocket(loop, fd, UnixSocketOptions());
  }
  void Finish() { on_done_(std::move(result_)); }

  std::unique_ptr<Task> task_;
  stream::Transport::DialCallback on_done_;
  StatusOr<std::unique_ptr<stream::RawConnection>> result_ = UnavailableError("not dialed");
};

Bytes Delimited(const google::protobuf::MessageLite& m) {
  Bytes out;
  AppendDelimited(m, &out);
  return out;
}

}  // namespace

// Copies bytes both ways between two streams, with backpressure, until both directions have ended (and what
// was written is sent) or either fails; then tells its owner.
class Pipe {
 public:
  Pipe(EventLoop* loop, std::unique_ptr<Stream> a, std::unique_ptr<Stream> b, std::function<void()> on_done)
      : a_(std::move(a)), b_(std::move(b)), on_done_(std::move(on_done)),
        drain_check_(loop->CreateTimer([this] { MaybeDone(); })) {
    Wire(a_.get(), b_.get(), &a_ended_);
    Wire(b_.get(), a_.get(), &b_ended_);
  }

 private:
  void Wire(Stream* from, Stream* to, bool* from_ended) {
    from->SetHandlers(Stream::Handlers{
        .on_data =
            [this, from, to](ByteSpan data) {
              if (!to->Write(data).ok()) return Fail();
              if (to->write_blocked()) from->PauseReading(true);
            },
        .on_eof =
            [this, to, from_ended] {
              *from_ended = true;
              to->CloseWrite();
              MaybeDone();
            },
        .on_error = [this](const Status&) { Fail(); },
        // `from` drained: what was paused for it may flow again.
        .on_writable = [to] { to->PauseReading(false); },
    });
  }

  // Done once both sides ended and their written bytes left; until they leave, checked again shortly.
  void MaybeDone() {
    if (!a_ended_ || !b_ended_) return;
    if (a_->buffered_bytes() == 0 && b_->buffered_bytes() == 0) return Done();
    drain_check_->Schedule(std::chrono::milliseconds(20));
  }

  void Fail() {
    a_->Reset();
    b_->Reset();
    Done();
  }

  void Done() {
    if (done_) return;
    done_ = true;
    on_done_();
  }

  std::unique_ptr<Stream> a_, b_;
  std::function<void()> on_done_;
  std::unique_ptr<Timer> drain_check_;
  bool a_ended_ = false, b_ended_ = false, done_ = false;
};

// One control connection: reads one request, answers it, and for SUBSCRIBE streams messages until the
// client closes; STREAM_OPEN hands the connection to a Pipe.
class ControlSession {
 public:
  ControlSession(Daemon* daemon, uint64_t id, std::unique_ptr<stream::RawConnection> conn)
      : daemon_(daemon), id_(id), conn_(std::move(conn)),
        timeout_(daemon->loop_->CreateTimer([this] { End(); })) {
    conn_->SetHandlers(Stream::Handlers{
        .on_data = [this](ByteSpan data) { OnData(data); },
        .on_eof = [this] { End(); },
        .on_error = [this](const Status&) { End(); },
        .on_writable = nullptr,
    });
    timeout_->Schedule(kRequestTimeout);
  }

  // A message of the subscription (SUBSCRIBE), on the loop thread.
  void Deliver(const pubsub::Message& m) {
    if (conn_ == nullptr || conn_->buffered_bytes() > kMaxSubscriberBacklog) return;
    pb::PSMessage out;
    if (m.from) out.set_from(Str(m.from->bytes()));
    out.set_data(m.data);
    if (!m.seqno.empty()) out.set_seqno(m.seqno);
    out.add_topicids(m.topic);
    (void)conn_->Write(Delimited(out));
  }

  // CONNECT's dials, one address after the other.
  void DialNext(PeerId peer, std::vector<Multiaddr> addrs, size_t next, Status last) {
    if (next == addrs.size()) return Reply(ErrorResponse("connect " + peer.ToBase58() + ": " + last.ToString()));
    std::weak_ptr<Daemon*> weak = daemon_->self_;
    const uint64_t id = id_;
    daemon_->node_->host().Dial(addrs[next], [weak, id, peer, addrs, next](StatusOr<PeerId> r) {
      ControlSession* s = Find(weak, id);
      if (s == nullptr) return;
      if (r.ok()) return s->Reply(OkResponse());
      s->DialNext(peer, addrs, next + 1, r.status());
    });
  }

  static ControlSession* Find(const std::weak_ptr<Daemon*>& weak, uint64_t id) {
    std::shared_ptr<Daemon*> daemon = weak.lock();
    if (daemon == nullptr) return nullptr;
    auto it = (*daemon)->sessions_.find(id);
    return it == (*daemon)->sessions_.end() ? nullptr : it->second.get();
  }

 private:
  void OnData(ByteSpan data) {
    if (handled_) return;  // After the request: nothing more is read but the client's end.
    if (buffer_.size() + data.size() > kMaxRequestSize + kMaxUvarintLength) {
      return Reply(ErrorResponse("request exceeds " + std::to_string(kMaxRequestSize) + " bytes"));
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    StatusOr<std::optional<Frame>> frame = NextFrame(buffer_, kMaxRequestSize);
    if (!frame.ok()) return Reply(ErrorResponse("bad request: " + frame.status().message()));
    if (!frame->has_value()) return;
    handled_ = true;
    timeout_->Cancel();
    StatusOr<pb::Request> request = DecodeRequest((*frame)->body);
    // Bytes after the request belong to a stream the request may open.
    const Bytes rest(buffer_.begin() + static_cast<ptrdiff_t>((*frame)->consumed), buffer_.end());
    buffer_.clear();
    conn_->PauseReading(true);
    if (!rest.empty()) conn_->Unread(rest);
    if (!request.ok()) return Reply(ErrorResponse("bad request: " + request.status().message()));
    Handle(*request);
  }

  void Handle(const pb::Request& request) {
    switch (request.type()) {
      case pb::Request::IDENTIFY: return Identify();
      case pb::Request::CONNECT: return Connect(request);
      case pb::Request::DISCONNECT: return Disconnect(request);
      case pb::Request::LIST_PEERS: return ListPeers();
      case pb::Request::PUBSUB: return PubSub(request);
      case pb::Request::STREAM_OPEN: return StreamOpen(request);
      case pb::Request::STREAM_HANDLER: return StreamHandler(request);
      case pb::Request::DHT: return Reply(ErrorResponse("unsupported request DHT: this daemon has no DHT"));
      case pb::Request::CONNMANAGER:
        return Reply(ErrorResponse("unsupported request CONNMANAGER: this daemon has no connection manager API"));
      case pb::Request::PEERSTORE: return Reply(ErrorResponse("unsupported request PEERSTORE"));
    }
    Reply(ErrorResponse("unknown request type"));
  }

  void Identify() {
    pb::Response r = OkResponse();
    pb::IdentifyResponse* id = r.mutable_identify();
    id->set_id(Str(daemon_->node_->id().bytes()));
    for (const Multiaddr& a : daemon_->node_->host().advertised_addrs()) id->add_addrs(Str(a.bytes()));
    Reply(r);
  }

  void Connect(const pb::Request& request) {
    if (!request.has_connect() || !request.connect().has_peer()) return Reply(ErrorResponse("CONNECT without a peer"));
    StatusOr<PeerId> peer = PeerId::FromBytes(AsBytes(request.connect().peer()));
    if (!peer.ok()) return Reply(ErrorResponse("CONNECT: bad peer id: " + peer.status().message()));
    if (daemon_->node_->host().IsConnected(*peer)) return Reply(OkResponse());
    std::vector<Multiaddr> addrs;
    for (const std::string& bytes : request.connect().addrs()) {
      StatusOr<Multiaddr> a = Multiaddr::FromBytes(AsBytes(bytes));
      if (!a.ok()) return Reply(ErrorResponse("CONNECT: bad address: " + a.status().message()));
      StatusOr<Multiaddr> with_peer = Multiaddr::FromString(a->ToString() + "/p2p/" + peer->ToBase58());
      if (!with_peer.ok()) return Reply(ErrorResponse("CONNECT: bad address: " + with_peer.status().message()));
      if (daemon_->node_->host().CanDial(*with_peer)) addrs.push_back(*with_peer);
    }
    DialNext(*peer, std::move(addrs), 0, UnavailableError("no dialable address"));
  }

  void Disconnect(const pb::Request& request) {
    if (!request.has_disconnect()) return Reply(ErrorResponse("DISCONNECT without a peer"));
    StatusOr<PeerId> peer = PeerId::FromBytes(AsBytes(request.disconnect().peer()));
    if (!peer.ok()) return Reply(ErrorResponse("DISCONNECT: bad peer id: " + peer.status().message()));
    daemon_->node_->host().Disconnect(*peer);
    Reply(OkResponse());
  }

  void ListPeers() {
    pb::Response r = OkResponse();
    stream::Host& host = daemon_->node_->host();
    for (const PeerId& p : host.connected_peers()) {
      pb::PeerInfo* info = r.add_peers();
      info->set_id(Str(p.bytes()));
      for (const stream::ConnectionInfo& c : host.connections_of(p)) info->add_addrs(Str(c.remote_addr.bytes()));
    }
    Reply(r);
  }

  void PubSub(const pb::Request& request) {
    if (!daemon_->pubsub_) return Reply(ErrorResponse("pubsub is not enabled (start the daemon with -pubsub)"));
    if (!request.has_pubsub()) return Reply(ErrorResponse("PUBSUB without its request"));
    const pb::PSRequest& ps = request.pubsub();
    pubsub::PubSub& core = daemon_->node_->pubsub();
    if (ps.type() == pb::PSRequest::GET_TOPICS) {
      pb::Response r = OkResponse();
      pb::PSResponse* out = r.mutable_pubsub();
      for (const std::string& t : core.topics()) out->add_topics(t);
      return Reply(r);
    }
    if (!ps.has_topic() || ps.topic().empty()) return Reply(ErrorResponse("PUBSUB request without a topic"));
    switch (ps.type()) {
      case pb::PSRequest::LIST_PEERS: {
        pb::Response r = OkResponse();
        pb::PSResponse* out = r.mutable_pubsub();
        out->add_topics(ps.topic());
        for (const PeerId& p : core.Peers()) {
          if (core.PeerTopics(p).count(ps.topic())) out->add_peerids(Str(p.bytes()));
        }
        return Reply(r);
      }
      case pb::PSRequest::PUBLISH: {
        std::weak_ptr<Daemon*> weak = daemon_->self_;
        const uint64_t id = id_;
        auto answer = [weak, id](const pubsub::PublishResult& result) {
          if (ControlSession* s = Find(weak, id)) {
            s->Reply(result.status.ok() ? OkResponse() : ErrorResponse("publish: " + result.status.ToString()));
          }
        };
        pubsub::PublishResult result = core.Publish(ps.topic(), AsBytes(ps.data()), answer);
        if (!result.pending) answer(result);
        return;
      }
      case pb::PSRequest::SUBSCRIBE: {
        StatusOr<std::shared_ptr<pubsub::Topic>> topic = daemon_->node_->Join(ps.topic());
        if (!topic.ok()) return Reply(ErrorResponse("subscribe: " + topic.status().message()));
        std::weak_ptr<Daemon*> weak = daemon_->self_;
        const uint64_t id = id_;
        subscription_ = (*topic)->Subscribe({.on_message = [weak, id](const pubsub::Message& m) {
          if (ControlSession* s = Find(weak, id)) s->Deliver(m);
        }});
        (void)conn_->Write(Delimited(OkResponse()));
        conn_->PauseReading(false);  // To see the client close.
        return;
      }
      default:
        return Reply(ErrorResponse("unknown PUBSUB request type"));
    }
  }

  void StreamOpen(const pb::Request& request) {
    if (!request.has_streamopen() || request.streamopen().proto_size() == 0) {
      return Reply(ErrorResponse("STREAM_OPEN without a peer or protocols"));
    }
    StatusOr<PeerId> peer = PeerId::FromBytes(AsBytes(request.streamopen().peer()));
    if (!peer.ok()) return Reply(ErrorResponse("STREAM_OPEN: bad peer id: " + peer.status().message()));
    std::vector<std::string> protocols(request.streamopen().proto().begin(), request.streamopen().proto().end());
    std::weak_ptr<Daemon*> weak = daemon_->self_;
    const uint64_t id = id_;
    const PeerId remote = *peer;
    daemon_->node_->host().NewStream(remote, protocols, [weak, id, remote](StatusOr<std::unique_ptr<Stream>> s,
                                                                           const std::string& protocol) {
      ControlSession* session = Find(weak, id);
      if (session == nullptr) return;  // The client left; the stream, if any, is reset as it goes.
      if (!s.ok()) return session->Reply(ErrorResponse("stream open: " + s.status().ToString()));
      session->HandOver(remote, protocol, std::move(s).value());
    });
  }

  // STREAM_OPEN succeeded: tells the client, then pipes its connection to the stream.
  void HandOver(const PeerId& peer, const std::string& protocol, std::unique_ptr<Stream> stream) {
    pb::Response r = OkResponse();
    pb::StreamInfo* info = r.mutable_streaminfo();
    info->set_peer(Str(peer.bytes()));
    const std::vector<stream::ConnectionInfo> conns = daemon_->node_->host().connections_of(peer);
    info->set_addr(conns.empty() ? std::string() : Str(conns.back().remote_addr.bytes()));
    info->set_proto(protocol);
    (void)conn_->Write(Delimited(r));
    conn_->PauseReading(false);
    daemon_->StartPipe(std::move(conn_), std::move(stream));
    End();
  }

  void StreamHandler(const pb::Request& request) {
    if (!request.has_streamhandler() || request.streamhandler().proto_size() == 0) {
      return Reply(ErrorResponse("STREAM_HANDLER without an address or protocols"));
    }
    StatusOr<Multiaddr> client = Multiaddr::FromBytes(AsBytes(request.streamhandler().addr()));
    if (!client.ok()) return Reply(ErrorResponse("STREAM_HANDLER: bad address: " + client.status().message()));
    if (!daemon_->CanDialClient(*client)) {
      return Reply(ErrorResponse("STREAM_HANDLER: cannot reach " + client->ToString() + " (TCP or /unix addresses)"));
    }
    for (const std::string& protocol : request.streamhandler().proto()) {
      if (protocol.empty() || protocol.size() > 1024) return Reply(ErrorResponse("STREAM_HANDLER: bad protocol"));
    }
    for (const std::string& protocol : request.streamhandler().proto()) daemon_->RegisterHandler(protocol, *client);
    Reply(OkResponse());
  }

  // Answers, then waits (a while) for the client to close.
  void Reply(const pb::Response& response) {
    if (conn_ == nullptr || replied_) return;
    replied_ = true;
    handled_ = true;
    subscription_.reset();
    (void)conn_->Write(Delimited(response));
    conn_->CloseWrite();
    conn_->PauseReading(false);
    timeout_->Schedule(kCloseTimeout);
  }

  void End() { daemon_->EndSession(id_); }

  Daemon* const daemon_;
  const uint64_t id_;
  std::unique_ptr<stream::RawConnection> conn_;  // Null once handed to a pipe.
  std::unique_ptr<Timer> timeout_;
  Bytes buffer_;  // The request, until complete.
  bool handled_ = false;
  bool replied_ = false;
  std::unique_ptr<pubsub::Subscription> subscription_;
};

struct Daemon::BackDial {
  std::unique_ptr<Stream> stream;
  pb::StreamInfo info;
  std::unique_ptr<stream::PendingDial> dial;
};

Daemon::Daemon(EventLoop* loop, pubsub::Node* node, bool pubsub)
    : loop_(loop), node_(node), pubsub_(pubsub), control_transport_(loop), self_(std::make_shared<Daemon*>(this)),
      deleter_(loop) {}

Daemon::~Daemon() {
  for (const std::string& protocol : handled_protocols_) node_->host().RemoveStreamHandler(protocol);
  if (unix_fd_ >= 0) {
    unix_watcher_.reset();
    ::close(unix_fd_);
    ::unlink(unix_path_.c_str());
  }
}

Status Daemon::Listen(const Multiaddr& addr) {
  if (std::optional<std::string> path = UnixPath(addr)) {
    ASSIGN_OR_RETURN(sockaddr_un sa, UnixAddress(*path));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 128) != 0) {
      const Status failed = UnavailableError("listen on " + addr.ToString() + ": " + std::strerror(errno));
      ::close(fd);
      return failed;
    }
    unix_path_ = *path;
    unix_fd_ = fd;
    control_addr_ = addr;
    unix_watcher_ = loop_->WatchFd(fd, kFdReadable, [this](uint32_t) {
      for (int c; (c = ::accept4(unix_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
        Accept(stream::WrapTcpSocket(loop_, c, UnixSocketOptions()));
      }
    });
    return OkStatus();
  }
  if (!control_transport_.CanDial(addr)) {
    return InvalidArgumentError("control address " + addr.ToString() + ": a TCP address or /unix/PATH");
  }
  ASSIGN_OR_RETURN(listener_, control_transport_.Listen(addr, [this](std::unique_ptr<stream::RawConnection> c) {
                     Accept(std::move(c));
                   }));
  control_addr_ = listener_->listen_addr();
  return OkStatus();
}

const Multiaddr& Daemon::control_addr() const { return control_addr_; }

bool Daemon::CanDialClient(const Multiaddr& addr) const {
  return UnixPath(addr).has_value() || control_transport_.CanDial(addr);
}

std::unique_ptr<stream::PendingDial> Daemon::DialClient(const Multiaddr& addr, stream::Transport::DialCallback on_done) {
  if (std::optional<std::string> path = UnixPath(addr)) return std::make_unique<UnixDial>(loop_, *path, std::move(on_done));
  return control_transport_.Dial(addr, std::move(on_done));
}

void Daemon::Accept(std::unique_ptr<stream::RawConnection> conn) {
  if (sessions_.size() >= kMaxSessions) return;  // Closed as it goes.
  const uint64_t id = next_id_++;
  sessions_[id] = std::make_unique<ControlSession>(this, id, std::move(conn));
}

void Daemon::EndSession(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  deleter_.Delete(std::move(it->second));
  sessions_.erase(it);
}

void Daemon::EndPipe(uint64_t id) {
  auto it = pipes_.find(id);
  if (it == pipes_.end()) return;
  deleter_.Delete(std::move(it->second));
  pipes_.erase(it);
}

void Daemon::StartPipe(std::unique_ptr<Stream> a, std::unique_ptr<Stream> b) {
  const uint64_t id = next_id_++;
  pipes_[id] = std::make_unique<Pipe>(loop_, std::move(a), std::move(b), [this, id] { EndPipe(id); });
}

void Daemon::RegisterHandler(const std::string& protocol, const Multiaddr& client) {
  handled_protocols_.insert(protocol);
  node_->host().SetStreamHandler(protocol, [this, client](std::unique_ptr<Stream> s, const PeerId& peer,
                                                          const std::string& proto) {
    OnInboundStream(std::move(s), peer, proto, client);
  });
}

void Daemon::OnInboundStream(std::unique_ptr<Stream> stream, const PeerId& peer, const std::string& protocol,
                             const Multiaddr& client) {
  const uint64_t id = next_id_++;
  auto back = std::make_unique<BackDial>();
  back->stream = std::move(stream);
  back->info.set_peer(Str(peer.bytes()));
  const std::vector<stream::ConnectionInfo> conns = node_->host().connections_of(peer);
  back->info.set_addr(conns.empty() ? std::string() : Str(conns.back().remote_addr.bytes()));
  back->info.set_proto(protocol);
  BackDial* raw = back.get();
  back_dials_[id] = std::move(back);
  raw->dial = DialClient(client, [this, id](StatusOr<std::unique_ptr<stream::RawConnection>> conn) {
    auto it = back_dials_.find(id);
    if (it == back_dials_.end()) return;
    std::unique_ptr<BackDial> back = std::move(it->second);
    back_dials_.erase(it);
    if (conn.ok()) {
      (void)(*conn)->Write(Delimited(back->info));
      StartPipe(std::move(conn).value(), std::move(back->stream));
    } else {
      back->stream->Reset();
    }
    deleter_.Delete(std::move(back));  // Its PendingDial is running this callback.
  });
}

}  // namespace libp2p::p2pd
