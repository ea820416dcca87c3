// Multiaddr: a self-describing network address such as "/ip4/1.2.3.4/tcp/4001/p2p/QmYy...", held in its
// binary form, a sequence of <varint protocol code><value>. Fixed-size values follow the code directly;
// variable-size values are <varint length><bytes>.
//
// The protocols are those of the multiformats multiaddr table (protocols.csv) that libp2p implementations
// (go, js, rust) speak. By value, as binary / text:
//   none: p2p-webrtc-star 275, p2p-webrtc-direct 276, p2p-stardust 277, webrtc-direct 280, webrtc 281,
//     p2p-circuit 290, udt 301, utp 302, https 443, tls 448, noise 454, quic 460, quic-v1 461,
//     webtransport 465, ws 477, wss 478, p2p-websocket-star 479, http 480, plaintextv2 7367777.
//   ip4 4: 4 bytes / a strict dotted quad. ip6 41: 16 bytes / any RFC 4291 form, printed as inet_ntop does.
//   tcp 6, dccp 33, sctp 132, udp 273: 2 bytes big-endian / decimal 0-65535.
//   ipcidr 43: 1 byte / decimal 0-255. memory 777: 8 bytes big-endian / decimal uint64 (as go and rust;
//     the table and js say variable-length text).
//   ip6zone 42, dns 53, dns4 54, dns6 55, dnsaddr 56, sni 449: length-prefixed / the same bytes, which must
//     be non-empty UTF-8 without '/'.
//   p2p 421 ("ipfs" accepted on input): a length-prefixed identity or sha2-256 multihash / base58btc, or on
//     input a CIDv1 with the libp2p-key codec in any multibase below.
//   certhash 466: a length-prefixed multihash / multibase ('z', 'b', 'B', 'f', 'F', 'm', 'M', 'u', 'U' on
//     input), printed as base64url ('u').
//   unix 400: a length-prefixed absolute path / the path itself, which runs to the end of the text address,
//     '/'s included ("/unix/tmp/sock" is the path "/tmp/sock"). So a unix component must be the last one;
//     its path is UTF-8, at least one character after the leading '/', and does not end in '/'.
//   http-path 481: length-prefixed bytes (any, non-empty) / percent-escaped: every byte outside A-Z a-z 0-9
//     '-' '.' '_' '~' is printed as %XX (upper-case hex); on input %XX in either case and any other
//     character but '+' stand for themselves. A bare '+' is refused: go reads it as a space, js and rust as
//     '+'. ("/http-path/api%2Fv0" is the value "api/v0", as go stores it; js stores "/api/v0", which we
//     print as "%2Fapi%2Fv0".)
//   onion 444: 10 bytes of service id and a 2-byte port / 16 base32 characters ':' port 1-65535.
//   onion3 445: 35 bytes and a 2-byte port / 56 base32 characters ':' port 1-65535 (base32 of either case
//     on input, printed in lower case).
//   garlic64 446: a length-prefixed I2P destination of at least 386 bytes / I2P base64 (RFC 4648 with '-'
//     and '~' for 62 and 63) with '=' padding.
//   garlic32 447: 32 or at least 35 length-prefixed bytes / base32 without padding (either case on input,
//     printed in lower case).
//
// Every Multiaddr is well formed: it is built only by the parsers below, or from well-formed ones (but see
// Encapsulate()). Parsing is canonical: FromBytes(m.bytes()) and FromString(m.ToString()) give back m for
// every m they accept.
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
inline constexpr uint64_t kDccp = 33;
inline constexpr uint64_t kIp6 = 41;
inline constexpr uint64_t kIp6Zone = 42;
inline constexpr uint64_t kIpCidr = 43;
inline constexpr uint64_t kDns = 53;
inline constexpr uint64_t kDns4 = 54;
inline constexpr uint64_t kDns6 = 55;
inline constexpr uint64_t kDnsAddr = 56;
inline constexpr uint64_t kSctp = 132;
inline constexpr uint64_t kUdp = 273;
inline constexpr uint64_t kP2pWebRtcStar = 275;    // Deprecated.
inline constexpr uint64_t kP2pWebRtcDirect = 276;  // Deprecated.
inline constexpr uint64_t kP2pStardust = 277;      // Deprecated.
inline constexpr uint64_t kWebRtcDirect = 280;
inline constexpr uint64_t kWebRtc = 281;
inline constexpr uint64_t kP2pCircuit = 290;
inline constexpr uint64_t kUdt = 301;
inline constexpr uint64_t kUtp = 302;
inline constexpr uint64_t kUnix = 400;
inline constexpr uint64_t kP2p = 421;
inline constexpr uint64_t kHttps = 443;  // Deprecated alias of /tls/http.
inline constexpr uint64_t kOnion = 444;
inline constexpr uint64_t kOnion3 = 445;
inline constexpr uint64_t kGarlic64 = 446;
inline constexpr uint64_t kGarlic32 = 447;
inline constexpr uint64_t kTls = 448;
inline constexpr uint64_t kSni = 449;
inline constexpr uint64_t kNoise = 454;
inline constexpr uint64_t kQuic = 460;
inline constexpr uint64_t kQuicV1 = 461;
inline constexpr uint64_t kWebTransport = 465;
inline constexpr uint64_t kCertHash = 466;
inline constexpr uint64_t kWs = 477;
inline constexpr uint64_t kWss = 478;               // Deprecated alias of /tls/ws.
inline constexpr uint64_t kP2pWebSocketStar = 479;  // Deprecated.
inline constexpr uint64_t kHttp = 480;
inline constexpr uint64_t kHttpPath = 481;
inline constexpr uint64_t kMemory = 777;
inline constexpr uint64_t kPlaintextV2 = 7367777;
}  // namespace multiaddr_protocol

// The longest binary form FromBytes() and FromString() accept.
inline constexpr size_t kMaxMultiaddrLength = 1024;
// The longest text FromString() accepts. Text can be 9.5 times longer than binary ("/p2p-websocket-star" is
// 19 characters for a 2-byte code; no value is wider than 3 characters a byte plus its name), so this is
// large enough for the text of every accepted binary form.
inline constexpr size_t kMaxMultiaddrTextLength = 10 * kMaxMultiaddrLength;

// A well-formed address in binary form. A value type: copies own their bytes.
class Multiaddr {
 public:
  // One protocol of an address and its value.
  struct Component {
    uint64_t code = 0;
    std::string_view name;  // The canonical name, e.g. "p2p"; static storage.
    Bytes value;            // The binary value without its length prefix; empty when there is none.
    // The value in text form as the address text spells it, e.g. "4001" or "api%2Fv0" (http-path); for unix
    // the path itself, e.g. "/tmp/sock". Empty when there is none.
    std::string text;
  };

  // The empty address (no components). The parsers never return it; WithoutPeerId() can.
  Multiaddr() = default;

  // Parses the binary form. Fails with kOutOfRange when `bytes` is longer than kMaxMultiaddrLength, and with
  // kInvalidArgument on empty input, an unknown or non-minimally encoded protocol code, a truncated value or
  // length, trailing bytes that are no component, an invalid value (see the file comment; e.g. a p2p value
  // must be an identity or sha2-256 multihash, a certhash any multihash), or a component after a unix path.
  // The message names the protocol and the byte offset of the failing component.
  static StatusOr<Multiaddr> FromBytes(ByteSpan bytes);

  // Parses the text form "/<name>[/<value>]...". Integers are decimal without leading zeros (ports 0-65535,
  // ip4 a strict dotted quad); ip6 takes any RFC 4291 form; p2p takes base58btc ("Qm...", "12D3...") or a
  // CIDv1 in multibase with the libp2p-key codec ("bafz..."); see the file comment for the others. Fails
  // with kOutOfRange when `text` is longer than kMaxMultiaddrTextLength, its binary form longer than
  // kMaxMultiaddrLength or an encoded value longer than its decoder's limit, and with kInvalidArgument on
  // empty text, a missing leading '/', an empty or unknown protocol name, a missing or invalid value, or a
  // trailing '/'. The message names the protocol and the text offset of the failing component.
  static StatusOr<Multiaddr> FromString(std::string_view text);

  // The canonical text form; ip6 as inet_ntop prints it, p2p in base58btc, certhash in base64url, http-path
  // escaped as the file comment says. "" for the empty address.
  std::string ToString() const;

  // The binary form.
  const Bytes& bytes() const { return bytes_; }

  // True for the empty address (no components).
  bool empty() const { return bytes_.empty(); }

  // The components in order.
  std::vector<Component> Components() const;

  // Returns this address followed by `inner`, e.g. /ip4/1.2.3.4 + /tcp/80. Never fails, but the result
  // cannot be parsed again when it is longer than kMaxMultiaddrLength, or when this address ends in a unix
  // path (its text then reads as one longer path, and FromBytes refuses components after a unix path).
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
