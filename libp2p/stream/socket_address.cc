#include "libp2p/stream/socket_address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "libp2p/base/varint.h"

namespace libp2p::stream {
namespace {

using multiaddr_protocol::kIp4;
using multiaddr_protocol::kIp6;
using multiaddr_protocol::kIp6Zone;
using multiaddr_protocol::kP2p;
using multiaddr_protocol::kTcp;

StatusOr<uint32_t> ZoneIndex(const std::string& zone) {
  // A NUL would cut the name short for if_nametoindex, naming another interface.
  if (zone.find('\0') == std::string::npos) {
    if (const unsigned index = ::if_nametoindex(zone.c_str()); index != 0) return index;
    uint32_t index = 0;
    const auto [end, error] = std::from_chars(zone.data(), zone.data() + zone.size(), index);
    if (error == std::errc() && end == zone.data() + zone.size() && index != 0) return index;
  }
  return NotFoundError("no network interface named " + zone);
}

void AppendText(uint64_t code, const std::string& text, Bytes* out) {
  AppendUvarint(code, out);
  AppendUvarint(text.size(), out);
  out->insert(out->end(), text.begin(), text.end());
}

// The binary form of IpMultiaddr(address), or empty bytes for another family.
Bytes IpBytes(const sockaddr* address) {
  Bytes bytes;
  if (address->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(address);
    AppendUvarint(kIp4, &bytes);
    const auto* a = reinterpret_cast<const uint8_t*>(&sin->sin_addr);
    bytes.insert(bytes.end(), a, a + 4);
  } else if (address->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (sin6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      const bool named = ::if_indextoname(sin6->sin6_scope_id, name) != nullptr;
      AppendText(kIp6Zone, named ? std::string(name) : std::to_string(sin6->sin6_scope_id), &bytes);
    }
    AppendUvarint(kIp6, &bytes);
    const auto* a = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
    bytes.insert(bytes.end(), a, a + 16);
  }
  return bytes;
}

uint16_t Port(const sockaddr* address) {
  if (address->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
}

Multiaddr Parse(const Bytes& bytes) {
  if (bytes.empty()) return Multiaddr();
  StatusOr<Multiaddr> m = Multiaddr::FromBytes(bytes);
  return m.ok() ? *m : Multiaddr();
}

}  // namespace

StatusOr<SocketAddress> TcpSocketAddress(const Multiaddr& addr) {
  std::vector<Multiaddr::Component> c = addr.Components();
  if (!c.empty() && c.back().code == kP2p) c.pop_back();
  const bool zoned = !c.empty() && c[0].code == kIp6Zone;
  const size_t ip = zoned ? 1 : 0;
  const bool shape_ok = c.size() == ip + 2 && c[ip + 1].code == kTcp &&
                        (c[ip].code == kIp6 || (c[ip].code == kIp4 && !zoned));
  if (!shape_ok) return InvalidArgumentError("not a TCP address: " + addr.ToString());
  const uint16_t port = static_cast<uint16_t>(c[ip + 1].value[0] << 8 | c[ip + 1].value[1]);
  SocketAddress out;
  if (c[ip].code == kIp4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, c[ip].value.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, c[ip].value.data(), 16);
    if (zoned) {
      ASSIGN_OR_RETURN(sin6->sin6_scope_id, ZoneIndex(c[0].text));
    }
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

Multiaddr IpMultiaddr(const sockaddr* address) { return Parse(IpBytes(address)); }

Multiaddr TcpMultiaddr(const sockaddr* address) {
  Bytes bytes = IpBytes(address);
  if (bytes.empty()) return Multiaddr();
  const uint16_t port = Port(address);
  AppendUvarint(kTcp, &bytes);
  bytes.push_back(static_cast<uint8_t>(port >> 8));
  bytes.push_back(static_cast<uint8_t>(port));
  return Parse(bytes);
}

}  // namespace libp2p::stream
