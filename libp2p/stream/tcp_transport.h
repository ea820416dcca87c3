// TCP over /ip4, /ip6 and /ip6zone/Z/ip6 multiaddrs, on the event loop's fd readiness (non-blocking sockets).
#ifndef LIBP2P_STREAM_TCP_TRANSPORT_H_
#define LIBP2P_STREAM_TCP_TRANSPORT_H_

#include <memory>

#include "libp2p/base/event_loop.h"
#include "libp2p/stream/stream.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

class TcpTransport final : public Transport {
 public:
  // The loop is an observer and must outlive the transport and everything it creates.
  explicit TcpTransport(EventLoop* loop, WriteLimits limits = {});

  bool CanDial(const Multiaddr& addr) const override;
  StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override;
  std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override;

 private:
  EventLoop* const loop_;
  const WriteLimits limits_;
};

// Exposed for tests: wraps a connected non-blocking socket (which it then owns and closes).
std::unique_ptr<RawConnection> WrapTcpSocket(EventLoop* loop, int fd, WriteLimits limits = {});

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_TCP_TRANSPORT_H_
