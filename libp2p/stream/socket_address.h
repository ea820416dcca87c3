// Conversions between multiaddrs and the socket addresses of the BSD socket API, for the TCP transport and
// the resolver.
#ifndef LIBP2P_STREAM_SOCKET_ADDRESS_H_
#define LIBP2P_STREAM_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"

namespace libp2p::stream {

// A sockaddr_in or sockaddr_in6 in storage large enough for either. A value type.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The socket address of /ip4/A/tcp/P, /ip6/A/tcp/P or /ip6zone/Z/ip6/A/tcp/P, each optionally followed by
// /p2p/ID. The zone Z (a link-local address's interface) is an interface name, or a decimal interface index
// as in "fe80::1%2"; it becomes sin6_scope_id. Fails with kInvalidArgument for any other shape, and with
// kNotFound when Z names no interface of this machine.
StatusOr<SocketAddress> TcpSocketAddress(const Multiaddr& addr);

// The IP address of `address` (AF_INET or AF_INET6) as /ip4/A, /ip6/A, or /ip6zone/Z/ip6/A when it has a
// scope id (Z the interface's name, or its decimal index when it has none). The empty Multiaddr for any other
// family. The port is ignored.
Multiaddr IpMultiaddr(const sockaddr* address);

// IpMultiaddr(address) followed by /tcp/P with the address's port; the empty Multiaddr for other families.
Multiaddr TcpMultiaddr(const sockaddr* address);

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_SOCKET_ADDRESS_H_
