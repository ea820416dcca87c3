#include "libp2p/stream/access_list.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace libp2p::stream {

namespace {

// The leading IP address of a multiaddr: 4 bytes (IPv4, or IPv4 mapped into IPv6) or 16, or none.
struct LeadingIp {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<LeadingIp> IpOf(const Multiaddr& addr) {
  // The binary form is validated: a leading /ip4 is the code byte 0x04 and 4 bytes, a leading /ip6 the code
  // byte 0x29 and 16 bytes. Anything else (an /ip6zone first, /dns, /unix) goes the slow way or has no IP.
  const Bytes& b = addr.bytes();
  LeadingIp ip;
  if (b.size() >= 5 && b[0] == multiaddr_protocol::kIp4) {
    std::memcpy(ip.bytes.data(), b.data() + 1, 4);
    return ip;
  }
  ByteSpan v6;
  std::vector<Multiaddr::Component> components;
  if (b.size() >= 17 && b[0] == multiaddr_protocol::kIp6) {
    v6 = ByteSpan(b.data() + 1, 16);
  } else {
    components = addr.Components();
    if (components.size() < 2 || components[0].code != multiaddr_protocol::kIp6Zone ||
        components[1].code != multiaddr_protocol::kIp6) {
      return std::nullopt;
    }
    v6 = components[1].value;
  }
  if (std::memcmp(v6.data(), kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0) {
    std::memcpy(ip.bytes.data(), v6.data() + 12, 4);
    return ip;
  }
  ip.v6 = true;
  std::memcpy(ip.bytes.data(), v6.data(), 16);
  return ip;
}

Status Refused(std::string why) { return PermissionDeniedError(std::move(why)); }

}  // namespace

StatusOr<IpRange> IpRange::Parse(std::string_view cidr) {
  if (cidr.find('\0') != std::string_view::npos) return InvalidArgumentError("not an IP range: it holds a NUL byte");
  const size_t slash = cidr.find('/');
  const std::string address(cidr.substr(0, slash));
  IpRange range;
  if (inet_pton(AF_INET, address.c_str(), range.network_.data()) == 1) {
    range.v6_ = false;
  } else if (inet_pton(AF_INET6, address.c_str(), range.network_.data()) == 1) {
    range.v6_ = true;
  } else {
    return InvalidArgumentError("not an IP range: \"" + std::string(cidr) + "\" (want e.g. 10.0.0.0/8 or fd00::/8)");
  }
  const int max_prefix = range.v6_ ? 128 : 32;
  range.prefix_ = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = cidr.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    const bool decimal = std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits.empty() || digits.size() > 3 || !decimal || ec != std::errc() ||
        end != digits.data() + digits.size() || prefix > max_prefix) {
      return InvalidArgumentError("bad prefix length in IP range \"" + std::string(cidr) + "\" (0 to " +
                                  std::to_string(max_prefix) + ")");
    }
    range.prefix_ = prefix;
  }
  // Clear the bits past the prefix.
  for (int bit = range.prefix_; bit < max_prefix; ++bit) range.network_[bit / 8] &= ~(0x80 >> (bit % 8));
  if (range.v6_ && std::memcmp(range.network_.data(), kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0 &&
      range.prefix_ >= 96) {
    // An IPv4-mapped range is the IPv4 range it maps, as addresses are compared.
    std::memmove(range.network_.data(), range.network_.data() + 12, 4);
    std::fill(range.network_.begin() + 4, range.network_.end(), 0);
    range.v6_ = false;
    range.prefix_ -= 96;
  }
  return range;
}

bool IpRange::Contains(const Multiaddr& addr) const {
  const std::optional<LeadingIp> ip = IpOf(addr);
  if (!ip.has_value() || ip->v6 != v6_) return false;
  const int whole = prefix_ / 8;
  if (std::memcmp(ip->bytes.data(), network_.data(), whole) != 0) return false;
  if (prefix_ % 8 == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> (prefix_ % 8));
  return (ip->bytes[whole] & mask) == network_[whole];
}

std::string IpRange::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, network_.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix_);
}

void AccessList::AllowPeer(const crypto::PeerId& peer) { allowed_peers_.insert(peer); }
void AccessList::RemoveAllowedPeer(const crypto::PeerId& peer) { allowed_peers_.erase(peer); }
void AccessList::DenyPeer(const crypto::PeerId& peer) { denied_peers_.insert(peer); }
void AccessList::RemoveDeniedPeer(const crypto::PeerId& peer) { denied_peers_.erase(peer); }

void AccessList::AllowRange(const IpRange& range) {
  if (std::find(allowed_ranges_.begin(), allowed_ranges_.end(), range) == allowed_ranges_.end()) {
    allowed_ranges_.push_back(range);
  }
}

void AccessList::DenyRange(const IpRange& range) {
  if (std::find(denied_ranges_.begin(), denied_ranges_.end(), range) == denied_ranges_.end()) {
    denied_ranges_.push_back(range);
  }
}

void AccessList::RemoveAllowedRange(const IpRange& range) { std::erase(allowed_ranges_, range); }
void AccessList::RemoveDeniedRange(const IpRange& range) { std::erase(denied_ranges_, range); }

Status AccessList::CheckPeer(const crypto::PeerId& peer) const {
  if (denied_peers_.count(peer) > 0) return Refused("peer " + peer.ToBase58() + " is denied");
  if (!allowed_peers_.empty() && allowed_peers_.count(peer) == 0) {
    return Refused("peer " + peer.ToBase58() + " is not on the allowlist");
  }
  return OkStatus();
}

Status AccessList::CheckAddress(const Multiaddr& addr) const {
  if (denied_ranges_.empty() && allowed_ranges_.empty()) return OkStatus();
  for (const IpRange& r : denied_ranges_) {
    if (r.Contains(addr)) return Refused("address " + addr.ToString() + " is in denied range " + r.ToString());
  }
  if (allowed_ranges_.empty() || !IpOf(addr).has_value()) return OkStatus();
  for (const IpRange& r : allowed_ranges_) {
    if (r.Contains(addr)) return OkStatus();
  }
  return Refused("address " + addr.ToString() + " is in no allowed range");
}

Status AccessList::InterceptPeerDial(const crypto::PeerId& peer) { return CheckPeer(peer); }

Status AccessList::InterceptAddrDial(const std::optional<crypto::PeerId>& peer, const Multiaddr& addr) {
  if (peer.has_value()) RETURN_IF_ERROR(CheckPeer(*peer));
  return CheckAddress(addr);
}

Status AccessList::InterceptAccept(const Multiaddr& local_addr, const Multiaddr& remote_addr) {
  return CheckAddress(remote_addr);
}

Status AccessList::InterceptSecured(bool inbound, const crypto::PeerId& peer, const Multiaddr& local_addr,
                                    const Multiaddr& remote_addr) {
  RETURN_IF_ERROR(CheckPeer(peer));
  return CheckAddress(remote_addr);
}

}  // namespace libp2p::stream
