// The addresses a node tells others it listens on (in identify and its signed peer record): a listener bound
// to 0.0.0.0 or :: is advertised as the node's interface addresses, never as the wildcard, and addresses are
// ranked by how useful they are to a remote peer, so that the least useful can be left out when a message
// would grow too large.
#ifndef LIBP2P_STREAM_ADVERTISED_ADDRESSES_H_
#define LIBP2P_STREAM_ADVERTISED_ADDRESSES_H_

#include <vector>

#include "libp2p/base/multiaddr.h"

namespace libp2p::stream {

// How useful an address is to a remote peer, most useful first.
enum class AddressScope {
  kPublic,     // Globally routable (and DNS names).
  kPrivate,    // RFC 1918, shared (100.64/10), IPv6 unique-local (fc00::/7).
  kLoopback,   // 127.0.0.0/8, ::1.
  kLinkLocal,  // 169.254/16, fe80::/10: useless beyond the link, and without a zone even there.
  kUnspecified,  // 0.0.0.0, ::: never advertised.
};

// The scope of the first component of `addr` (/ip4, /ip6, /dns*: public).
AddressScope ScopeOf(const Multiaddr& addr);

// The IP addresses of this machine's interfaces that are up, as /ip4/A or /ip6/A multiaddrs (getifaddrs).
// Empty when they cannot be read.
std::vector<Multiaddr> SystemInterfaceAddresses();

// What to advertise for the listeners' bound addresses: a wildcard /ip4/0.0.0.0/... becomes one address per
// IPv4 interface address (the rest of the address kept: /tcp/PORT), /ip6/::/... one per IPv6 interface
// address (link-local ones, which would need a zone, left out); other addresses are kept as they are.
// Duplicates are dropped, and the result is ordered by AddressScope (stable within a scope): drop from the
// back to drop the least useful first (link-local, then loopback, then private, then public).
std::vector<Multiaddr> AdvertisedAddresses(const std::vector<Multiaddr>& bound,
                                           const std::vector<Multiaddr>& interface_ips);

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_ADVERTISED_ADDRESSES_H_
