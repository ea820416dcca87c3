// A libp2p daemon in the manner of go-libp2p-daemon (p2pd): clients drive a pubsub::Node through the control
// protocol (p2pd.proto) on a control socket, one request per connection: IDENTIFY, CONNECT, DISCONNECT,
// LIST_PEERS, STREAM_OPEN and STREAM_HANDLER (raw bytes piped both ways between the control connection and
// the libp2p stream), and PUBSUB (GET_TOPICS, LIST_PEERS, PUBLISH, SUBSCRIBE with one PSMessage per message
// received). Requests for what it lacks (DHT, CONNMANAGER, PEERSTORE) get an ERROR naming them. Bad control
// input gets an ERROR response and that connection closes; the daemon and its other clients go on.
//
// Everything runs on the node's loop thread.
#ifndef TOOLS_P2PD_DAEMON_H_
#define TOOLS_P2PD_DAEMON_H_

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::p2pd {

class ControlSession;
class Pipe;

class Daemon {
 public:
  // Serves `node` (an observer, started, on `loop`'s thread; both must outlive the daemon). PUBSUB requests
  // are refused unless `pubsub` is set.
  Daemon(EventLoop* loop, pubsub::Node* node, bool pubsub);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Listens for control connections on a TCP address (/ip4/.../tcp/...) or a unix socket (/unix/PATH, which
  // must not exist yet; the daemon removes it when destroyed). kInvalidArgument for any other kind of address,
  // kUnavailable when it cannot be bound.
  Status Listen(const Multiaddr& addr);
  // The control socket's address, with its real port.
  const Multiaddr& control_addr() const;

  // Control connections and pipes open now.
  size_t sessions() const { return sessions_.size(); }
  size_t pipes() const { return pipes_.size(); }

 private:
  friend class ControlSession;

  void Accept(std::unique_ptr<stream::RawConnection> conn);
  // Connects to a client's address (TCP or unix) for an inbound stream.
  std::unique_ptr<stream::PendingDial> DialClient(const Multiaddr& addr, stream::Transport::DialCallback on_done);
  bool CanDialClient(const Multiaddr& addr) const;
  // Ends a session or pipe (from inside its own callbacks: destroyed later, from the loop).
  void EndSession(uint64_t id);
  void EndPipe(uint64_t id);
  // Joins two streams into a pipe the daemon owns.
  void StartPipe(std::unique_ptr<stream::Stream> a, std::unique_ptr<stream::Stream> b);
  // STREAM_HANDLER: each inbound stream of `protocol` is piped to a new connection to `client`.
  void RegisterHandler(const std::string& protocol, const Multiaddr& client);
  void OnInboundStream(std::unique_ptr<stream::Stream> stream, const crypto::PeerId& peer,
                       const std::string& protocol, const Multiaddr& client);

  EventLoop* const loop_;
  pubsub::Node* const node_;
  const bool pubsub_;
  stream::TcpTransport control_transport_;
  // Callbacks that may outlive the daemon (the host's dials and streams) hold it weakly.
  std::shared_ptr<Daemon*> self_;
  std::set<std::string> handled_protocols_;
  std::unique_ptr<stream::Listener> listener_;
  // A unix control socket: its path, descriptor and watcher (listener_ is null then).
  std::string unix_path_;
  int unix_fd_ = -1;
  std::unique_ptr<FdWatcher> unix_watcher_;
  Multiaddr control_addr_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<ControlSession>> sessions_;
  std::map<uint64_t, std::unique_ptr<Pipe>> pipes_;
  // Dials back to clients for inbound streams, each with the stream it carries.
  struct BackDial;
  std::map<uint64_t, std::unique_ptr<BackDial>> back_dials_;
  DeferredDeleter deleter_;
};

}  // namespace libp2p::p2pd

#endif  // TOOLS_P2PD_DAEMON_H_
