#include "libp2p/stream/advertised_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace libp2p::stream {
namespace {

namespace mp = multiaddr_protocol;

AddressScope ScopeOfIp4(const Bytes& a) {
  if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) return AddressScope::kUnspecified;
  if (a[0] == 127) return AddressScope::kLoopback;
  if (a[0] == 169 && a[1] == 254) return AddressScope::kLinkLocal;
  if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
      (a[0] == 100 && (a[1] & 0xc0) == 64)) {
    return AddressScope::kPrivate;
  }
  return AddressScope::kPublic;
}

AddressScope ScopeOfIp6(const Bytes& a) {
  static const uint8_t kZero[16] = {};
  if (std::memcmp(a.data(), kZero, 16) == 0) return AddressScope::kUnspecified;
  if (std::memcmp(a.data(), kZero, 15) == 0 && a[15] == 1) return AddressScope::kLoopback;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddressScope::kLinkLocal;
  if ((a[0] & 0xfe) == 0xfc) return AddressScope::kPrivate;
  // IPv4-mapped addresses rank as their IPv4 address.
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.data(), kMapped, 12) == 0) return ScopeOfIp4(Bytes(a.begin() + 12, a.end()));
  return AddressScope::kPublic;
}

}  // namespace

AddressScope ScopeOf(const Multiaddr& addr) {
  const std::vector<Multiaddr::Component> c = addr.Components();
  if (c.empty()) return AddressScope::kUnspecified;
  if (c[0].code == mp::kIp4) return ScopeOfIp4(c[0].value);
  if (c[0].code == mp::kIp6) return ScopeOfIp6(c[0].value);
  if (c[0].code == mp::kIp6Zone) return AddressScope::kLinkLocal;
  return AddressScope::kPublic;
}

std::vector<Multiaddr> SystemInterfaceAddresses() {
  std::vector<Multiaddr> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
    char text[INET6_ADDRSTRLEN];
    const char* proto;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)) == nullptr) continue;
      proto = "/ip4/";
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      if (inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)) == nullptr) continue;
      proto = "/ip6/";
    } else {
      continue;
    }
    StatusOr<Multiaddr> m = Multiaddr::FromString(std::string(proto) + text);
    if (m.ok() && std::find(out.begin(), out.end(), *m) == out.end()) out.push_back(std::move(m).value());
  }
  ::freeifaddrs(list);
  return out;
}

std::vector<Multiaddr> AdvertisedAddresses(const std::vector<Multiaddr>& bound,
                                           const std::vector<Multiaddr>& interface_ips) {
  std::vector<Multiaddr> out;
  auto add = [&](Multiaddr m) {
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(std::move(m));
  };
  for (const Multiaddr& addr : bound) {
    const std::vector<Multiaddr::Component> c = addr.Components();
    if (c.empty()) continue;
    const bool ip = c[0].code == mp::kIp4 || c[0].code == mp::kIp6;
    if (!ip || ScopeOf(addr) != AddressScope::kUnspecified) {
      add(addr);
      continue;
    }
    // The rest of the address after the wildcard IP: its binary form minus the first component.
    const Bytes rest_bytes(addr.bytes().begin() + static_cast<std::ptrdiff_t>(1 + c[0].value.size()),
                           addr.bytes().end());
    StatusOr<Multiaddr> rest = rest_bytes.empty() ? StatusOr<Multiaddr>(Multiaddr()) : Multiaddr::FromBytes(rest_bytes);
    if (!rest.ok()) continue;
    for (const Multiaddr& iface : interface_ips) {
      const std::vector<Multiaddr::Component> ic = iface.Components();
      if (ic.size() != 1 || ic[0].code != c[0].code) continue;
      const AddressScope scope = ScopeOf(iface);
      if (scope == AddressScope::kUnspecified) continue;
      if (c[0].code == mp::kIp6 && scope == AddressScope::kLinkLocal) continue;
      add(iface.Encapsulate(*rest));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Multiaddr& a, const Multiaddr& b) { return ScopeOf(a) < ScopeOf(b); });
  std::erase_if(out, [](const Multiaddr& m) { return ScopeOf(m) == AddressScope::kUnspecified; });
  return out;
}

}  // namespace libp2p::stream
