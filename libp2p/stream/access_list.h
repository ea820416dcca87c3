// An allowlist and a denylist of peer ids and IP ranges, as a connection gater that can be changed while
// the host runs.
#ifndef LIBP2P_STREAM_ACCESS_LIST_H_
#define LIBP2P_STREAM_ACCESS_LIST_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/connection_gater.h"

namespace libp2p::stream {

// An IPv4 or IPv6 range in CIDR notation.
class IpRange {
 public:
  // "192.168.1.0/24", "2001:db8::/32", or a bare address (one address: /32 or /128). Bits past the prefix
  // length are ignored ("10.1.2.3/8" is 10.0.0.0/8). kInvalidArgument for anything else (a prefix longer
  // than the address, a malformed address).
  static StatusOr<IpRange> Parse(std::string_view cidr);

  // Whether the first component of `addr` is an IP address in the range (an IPv4-mapped IPv6 address counts
  // as its IPv4 address). False for addresses without an IP (/dns, /unix).
  bool Contains(const Multiaddr& addr) const;
  // The canonical form: the network address, "/", the prefix length.
  std::string ToString() const;
  bool operator==(const IpRange& other) const = default;

 private:
  IpRange() = default;
  bool v6_ = false;
  std::array<uint8_t, 16> network_{};  // The first 4 bytes for IPv4; bits past the prefix are zero.
  int prefix_ = 0;
};

// Deny wins over allow. Peers: a denied peer id is refused; while the peer allowlist is not empty, a peer
// it does not list is refused too. Addresses likewise with the ranges: an address in a denied range is
// refused, and while the range allowlist is not empty, an IP address in none of its ranges is refused.
// The two allowlists are independent: with both, a connection needs an allowed peer from an allowed range.
//
// Each check runs at the earliest point that knows what it checks: a peer id before dialing it and after
// the secure handshake, an address before dialing it, on accept (before any handshake) and again after the
// secure handshake (the address a /dns dial resolved to). Changes apply to connections that reach a check
// afterwards; the host's established connections stay (Host::Disconnect drops them). Used from the host's
// loop thread only.
class AccessList final : public ConnectionGater {
 public:
  // Adding an entry that is there already, or removing one that is not, changes nothing.
  void AllowPeer(const crypto::PeerId& peer);
  void RemoveAllowedPeer(const crypto::PeerId& peer);
  void DenyPeer(const crypto::PeerId& peer);
  void RemoveDeniedPeer(const crypto::PeerId& peer);
  bool IsDenied(const crypto::PeerId& peer) const { return denied_peers_.count(peer) > 0; }
  void AllowRange(const IpRange& range);
  void RemoveAllowedRange(const IpRange& range);
  void DenyRange(const IpRange& range);
  void RemoveDeniedRange(const IpRange& range);

  // OK, or why `peer` (`addr`) is refused.
  Status CheckPeer(const crypto::PeerId& peer) const;
  Status CheckAddress(const Multiaddr& addr) const;

  Status InterceptPeerDial(const crypto::PeerId& peer) override;
  Status InterceptAddrDial(const std::optional<crypto::PeerId>& peer, const Multiaddr& addr) override;
  Status InterceptAccept(const Multiaddr& local_addr, const Multiaddr& remote_addr) override;
  Status InterceptSecured(bool inbound, const crypto::PeerId& peer, const Multiaddr& local_addr,
                          const Multiaddr& remote_addr) override;

 private:
  std::unordered_set<crypto::PeerId> allowed_peers_;
  std::unordered_set<crypto::PeerId> denied_peers_;
  std::vector<IpRange> allowed_ranges_;
  std::vector<IpRange> denied_ranges_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_ACCESS_LIST_H_
