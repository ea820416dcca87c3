// Multiaddr: a self-describing network address such as "/ip4/1.2.3.4/tcp/4001/p2p/QmYy...", held in its
// binary form, a sequence of <varint protocol code><value>. Fixed-size values follow the code directly;
// variable-size values are <varint length><bytes>.
//
// Supported protocols (code, name, value): ip4 4 (4 bytes), tcp 6 (2-byte big-endian port), ip6 41 (16
// bytes), ip6zone 42 (text), dns 53, dns4 54, dns6 55, dnsaddr 56 (text), udp 273 (port), p2p 421 (a peer ID
// multihash; "ipfs" is accepted as its name on input), p2p-circuit 290, tls 448, quic 460, quic-v1 461,
// webtransport 465, ws 477 and wss 478 (no value). Text values are non-empty UTF-8 without '/'.
//
// Every Multiaddr is well formed: it is built only by the parsers below, or from well-formed ones. Parsing is
// canonical: FromBytes(m.bytes()) and FromString(m.ToString()) give back m for every m they accept.
#ifndef LIBP2P_BASE_MULTIADDR_H_
#define LIBP2P_BASE_MULTIADDR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p {

// Protocol codes of the multicodec table.
namespace multiaddr_protocol {
inline constexpr uint64_t kIp4 = 4;
inline constexpr uint64_t kTcp = 6;
inline constexpr uint64_t kIp6 = 41;
inline constexpr uint64_t kIp6Zone = 42;
inline constexpr uint64_t kDns = 53;
inline constexpr uint64_t kDns4 = 54;
inline constexpr uint64_t kDns6 = 55;
inline constexpr uint64_t kDnsAddr = 56;
inline constexpr uint64_t kUdp = 273;
inline constexpr uint64_t kP2pCircuit = 290;
inline constexpr uint64_t kP2p = 421;
inline constexpr uint64_t kTls = 448;
inline constexpr uint64_t kQuic = 460;
inline constexpr uint64_t kQuicV1 = 461;
inline constexpr uint64_t kWebTransport = 465;
inline constexpr uint64_t kWs = 477;
inline constexpr uint64_t kWss = 478;
}  // namespace multiaddr_protocol

// The longest binary form FromBytes() and FromString() accept.
inline constexpr size_t kMaxMultiaddrLength = 1024;
// The longest text FromString() accepts. Text can be 6.5 times longer than binary ("/webtransport" is 13
// characters for a 2-byte code), so this is large enough for the text of every accepted binary form.
inline constexpr size_t kMaxMultiaddrTextLength = 8192;

// A well-formed address in binary form. A value type: copies own their bytes.
class Multiaddr {
 public:
  // One protocol of an address and its value.
  struct Component {
    uint64_t code = 0;
    std::string_view name;  // The canonical name, e.g. "p2p"; static storage.
    Bytes value;            // The binary value without its length prefix; empty when there is none.
    std::string text;       // The value in text form, e.g. "4001"; empty when there is none.
  };

  // The empty address (no components). The parsers never return it; WithoutPeerId() can.
  Multiaddr() = default;

  // Parses the binary form. Fails with kOutOfRange when `bytes` is longer than kMaxMultiaddrLength, and with
  // kInvalidArgument on empty input, an unknown or non-minimally encoded protocol code, a truncated value or
  // length, trailing bytes that are no component, or an invalid value (see the file comment; a p2p value
  // must be an identity or sha2-256 multihash).
  static StatusOr<Multiaddr> FromBytes(ByteSpan bytes);

  // Parses the text form "/<name>[/<value>]...". Integers are decimal without leading zeros (tcp and udp
  // 0-65535, ip4 a strict dotted quad); ip6 takes any RFC 4291 form; p2p takes base58btc ("Qm...", "12D3...")
  // or a CIDv1 in multibase with the libp2p-key codec ("bafz..."). Fails with kOutOfRange when `text` is
  // longer than kMaxMultiaddrTextLength or its binary form longer than kMaxMultiaddrLength, and with
  // kInvalidArgument on empty text, a missing leading '/', an empty or unknown protocol name, a missing or
  // invalid value, or a trailing '/'.
  static StatusOr<Multiaddr> FromString(std::string_view text);

  // The canonical text form; ip6 as inet_ntop prints it, p2p in base58btc. "" for the empty address.
  std::string ToString() const;

  // The binary form.
  const Bytes& bytes() const { return bytes_; }

  // True for the empty address (no components).
  bool empty() const { return bytes_.empty(); }

  // The components in order.
  std::vector<Component> Components() const;

  // Returns this address followed by `inner`, e.g. /ip4/1.2.3.4 + /tcp/80. Never fails; the result may be
  // longer than kMaxMultiaddrLength and then cannot be parsed again.
  Multiaddr Encapsulate(const Multiaddr& inner) const;

  // The multihash of the peer ID when the last component is /p2p, else nullopt. In a relayed address
  // ".../p2p/<relay>/p2p-circuit/p2p/<target>" that is the target.
  std::optional<Bytes> PeerIdMultihash() const;

  // This address without its last component when that is /p2p, else a copy of it.
  Multiaddr WithoutPeerId() const;

  // Equal when the binary forms are equal; "/ipfs/Qm..." equals "/p2p/Qm...", and a CID peer ID equals its
  // base58btc form.
  friend bool operator==(const Multiaddr& a, const Multiaddr& b) { return a.bytes_ == b.bytes_; }

 private:
  explicit Multiaddr(Bytes bytes) : bytes_(std::move(bytes)) {}

  Bytes bytes_;
};

}  // namespace libp2p

// Hashes the binary form, so equal addresses hash alike.
template <>
struct std::hash<libp2p::Multiaddr> {
  size_t operator()(const libp2p::Multiaddr& m) const noexcept;
};

#endif  // LIBP2P_BASE_MULTIADDR_H_
