#include "libp2p/base/multiaddr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>

#include "libp2p/base/multibase.h"
#include "libp2p/base/multihash.h"
#include "libp2p/base/varint.h"

namespace libp2p {

namespace {

// How a protocol's value is written in binary and in text.
enum class ValueKind {
  kNone,      // No value.
  kIp4,       // 4 bytes; a dotted quad.
  kIp6,       // 16 bytes; RFC 4291 text.
  kPort,      // 2 bytes big-endian; decimal.
  kUint8,     // 1 byte; decimal.
  kUint64,    // 8 bytes big-endian; decimal.
  kText,      // Length-prefixed UTF-8 without '/', the same in text.
  kPeerId,    // Length-prefixed multihash; base58btc (or a CIDv1 on input).
  kCertHash,  // Length-prefixed multihash; multibase, base64url on output.
  kUnixPath,  // Length-prefixed absolute path; the rest of the text address.
  kHttpPath,  // Length-prefixed bytes; percent-escaped.
  kOnion,     // 10-byte service id and 2-byte port; base32 ':' port.
  kOnion3,    // 35-byte service id and 2-byte port; base32 ':' port.
  kGarlic64,  // Length-prefixed I2P destination; I2P base64 with padding.
  kGarlic32,  // Length-prefixed I2P address; base32 without padding.
};

struct Protocol {
  uint64_t code;
  std::string_view name;
  ValueKind kind;
};

namespace mp = multiaddr_protocol;

constexpr Protocol kProtocols[] = {
    {mp::kIp4, "ip4", ValueKind::kIp4},
    {mp::kTcp, "tcp", ValueKind::kPort},
    {mp::kDccp, "dccp", ValueKind::kPort},
    {mp::kIp6, "ip6", ValueKind::kIp6},
    {mp::kIp6Zone, "ip6zone", ValueKind::kText},
    {mp::kIpCidr, "ipcidr", ValueKind::kUint8},
    {mp::kDns, "dns", ValueKind::kText},
    {mp::kDns4, "dns4", ValueKind::kText},
    {mp::kDns6, "dns6", ValueKind::kText},
    {mp::kDnsAddr, "dnsaddr", ValueKind::kText},
    {mp::kSctp, "sctp", ValueKind::kPort},
    {mp::kUdp, "udp", ValueKind::kPort},
    {mp::kP2pWebRtcStar, "p2p-webrtc-star", ValueKind::kNone},
    {mp::kP2pWebRtcDirect, "p2p-webrtc-direct", ValueKind::kNone},
    {mp::kP2pStardust, "p2p-stardust", ValueKind::kNone},
    {mp::kWebRtcDirect, "webrtc-direct", ValueKind::kNone},
    {mp::kWebRtc, "webrtc", ValueKind::kNone},
    {mp::kP2pCircuit, "p2p-circuit", ValueKind::kNone},
    {mp::kUdt, "udt", ValueKind::kNone},
    {mp::kUtp, "utp", ValueKind::kNone},
    {mp::kUnix, "unix", ValueKind::kUnixPath},
    {mp::kP2p, "p2p", ValueKind::kPeerId},
    {mp::kHttps, "https", ValueKind::kNone},
    {mp::kOnion, "onion", ValueKind::kOnion},
    {mp::kOnion3, "onion3", ValueKind::kOnion3},
    {mp::kGarlic64, "garlic64", ValueKind::kGarlic64},
    {mp::kGarlic32, "garlic32", ValueKind::kGarlic32},
    {mp::kTls, "tls", ValueKind::kNone},
    {mp::kSni, "sni", ValueKind::kText},
    {mp::kNoise, "noise", ValueKind::kNone},
    {mp::kQuic, "quic", ValueKind::kNone},
    {mp::kQuicV1, "quic-v1", ValueKind::kNone},
    {mp::kWebTransport, "webtransport", ValueKind::kNone},
    {mp::kCertHash, "certhash", ValueKind::kCertHash},
    {mp::kWs, "ws", ValueKind::kNone},
    {mp::kWss, "wss", ValueKind::kNone},
    {mp::kP2pWebSocketStar, "p2p-websocket-star", ValueKind::kNone},
    {mp::kHttp, "http", ValueKind::kNone},
    {mp::kHttpPath, "http-path", ValueKind::kHttpPath},
    {mp::kMemory, "memory", ValueKind::kUint64},
    {mp::kPlaintextV2, "plaintextv2", ValueKind::kNone},
};

constexpr uint64_t kCidVersion1 = 1;
constexpr uint64_t kLibp2pKeyCodec = 0x72;

// The longest p2p text worth decoding: the hex CIDv1 of a kMaxMultihashLength multihash ('f', two hex digits
// for each of version, codec and multihash bytes). Bounds the quadratic base58 decoder too.
constexpr size_t kMaxPeerIdTextLength = 1 + 2 * (2 + kMaxMultihashLength);
// The longest certhash text worth decoding: a kMaxMultihashLength multihash in hex behind its prefix.
constexpr size_t kMaxCertHashTextLength = 1 + 2 * kMaxMultihashLength;

// Onion service ids: v2 is 10 bytes (16 base32 characters), v3 35 bytes (56); a 2-byte port follows.
constexpr size_t kOnionIdLength = 10;
constexpr size_t kOnion3IdLength = 35;
constexpr size_t kPortLength = 2;

// I2P: a full destination is at least 386 bytes; a base32 address is a 32-byte hash, or 35 bytes and more
// for an encrypted lease set (go-multiaddr's and the I2P spec's bounds).
constexpr size_t kMinGarlic64Length = 386;
constexpr size_t kGarlic32HashLength = 32;
constexpr size_t kMinGarlic32EncryptedLength = 35;

// What ValueSize() returns for a length-prefixed value.
constexpr size_t kVariableSize = static_cast<size_t>(-1);

size_t ValueSize(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNone: return 0;
    case ValueKind::kIp4: return 4;
    case ValueKind::kIp6: return 16;
    case ValueKind::kPort: return kPortLength;
    case ValueKind::kUint8: return 1;
    case ValueKind::kUint64: return 8;
    case ValueKind::kOnion: return kOnionIdLength + kPortLength;
    case ValueKind::kOnion3: return kOnion3IdLength + kPortLength;
    case ValueKind::kText:
    case ValueKind::kPeerId:
    case ValueKind::kCertHash:
    case ValueKind::kUnixPath:
    case ValueKind::kHttpPath:
    case ValueKind::kGarlic64:
    case ValueKind::kGarlic32: return kVariableSize;
  }
  return kVariableSize;
}

const Protocol* FindByCode(uint64_t code) {
  for (const Protocol& p : kProtocols) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

const Protocol* FindByName(std::string_view name) {
  if (name == "ipfs") name = "p2p";  // The old name of p2p, accepted on input only.
  for (const Protocol& p : kProtocols) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// `s` in double quotes for an error message, non-printable bytes escaped and long text cut short.
std::string Quote(std::string_view s) {
  constexpr size_t kShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kShown) out += "...";
  out.push_back('"');
  return out;
}

Status WithContext(const Status& status, const std::string& context) {
  return Status(status.code(), context + status.message());
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<uint8_t>(s[i]);
    size_t length;
    uint32_t cp;
    uint32_t min;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2, cp = lead & 0x1f, min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3, cp = lead & 0x0f, min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4, cp = lead & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += length;
  }
  return true;
}

// A text value appears between slashes, so it must be non-empty and free of '/'.
Status ValidateText(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty value");
  if (text.find('/') != std::string_view::npos) {
    return InvalidArgumentError("value " + Quote(text) + " has a '/'");
  }
  if (!IsValidUtf8(text)) return InvalidArgumentError("value " + Quote(text) + " is not valid UTF-8");
  return OkStatus();
}

// Peer IDs are identity or sha2-256 multihashes. Their base58btc text starts with '1' or "Qm", which is
// what tells it apart from a multibase CID on input; other hash codes would not survive a text round trip.
Status ValidatePeerId(ByteSpan value) {
  ASSIGN_OR_RETURN(const MultihashView mh, ParseMultihash(value));
  if (mh.code != kMultihashIdentity && mh.code != kMultihashSha2_256) {
    return InvalidArgumentError("peer ID must be an identity or sha2-256 multihash, not hash code " +
                                std::to_string(mh.code));
  }
  return OkStatus();
}

// A unix path is the rest of the text address after "/unix", so it starts with '/', has something after
// it, and cannot end in '/' (a trailing '/' would read as an empty protocol name).
Status ValidateUnixPath(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgumentError("path " + Quote(path) + " does not start with '/'");
  }
  if (path.size() < 2) return InvalidArgumentError("empty path");
  if (path.back() == '/') return InvalidArgumentError("path " + Quote(path) + " ends in '/'");
  if (!IsValidUtf8(path)) return InvalidArgumentError("path " + Quote(path) + " is not valid UTF-8");
  return OkStatus();
}

uint16_t ReadPort(ByteSpan two_bytes) { return static_cast<uint16_t>(two_bytes[0] << 8 | two_bytes[1]); }

// Onion addresses end in a port, which must not be 0.
Status ValidateOnion(ByteSpan value) {
  if (ReadPort(value.last(kPortLength)) == 0) return InvalidArgumentError("port 0");
  return OkStatus();
}

Status ValidateGarlic64(ByteSpan value) {
  if (value.size() < kMinGarlic64Length) {
    return InvalidArgumentError("I2P destination of " + std::to_string(value.size()) +
                                " bytes is shorter than " + std::to_string(kMinGarlic64Length));
  }
  return OkStatus();
}

Status ValidateGarlic32(ByteSpan value) {
  if (value.size() != kGarlic32HashLength && value.size() < kMinGarlic32EncryptedLength) {
    return InvalidArgumentError("I2P address of " + std::to_string(value.size()) + " bytes (must be " +
                                std::to_string(kGarlic32HashLength) + ", or " +
                                std::to_string(kMinGarlic32EncryptedLength) + " and more)");
  }
  return OkStatus();
}

Status ValidateValue(const Protocol& protocol, ByteSpan value) {
  switch (protocol.kind) {
    case ValueKind::kText: return ValidateText(AsStringView(value));
    case ValueKind::kPeerId: return ValidatePeerId(value);
    case ValueKind::kCertHash: return ParseMultihash(value).status();
    case ValueKind::kUnixPath: return ValidateUnixPath(AsStringView(value));
    case ValueKind::kHttpPath: return value.empty() ? InvalidArgumentError("empty value") : OkStatus();
    case ValueKind::kOnion:
    case ValueKind::kOnion3: return ValidateOnion(value);
    case ValueKind::kGarlic64: return ValidateGarlic64(value);
    case ValueKind::kGarlic32: return ValidateGarlic32(value);
    case ValueKind::kNone:
    case ValueKind::kIp4:
    case ValueKind::kIp6:
    case ValueKind::kPort:
    case ValueKind::kUint8:
    case ValueKind::kUint64: return OkStatus();  // Any bytes of the right size are valid.
  }
  return OkStatus();
}

// ---- Binary form ----

struct RawComponent {
  const Protocol* protocol = nullptr;
  size_t offset = 0;  // Where the component starts in the address.
  ByteSpan value;
};

StatusOr<uint64_t> ReadVarint(ByteSpan* in, std::string_view what, std::string_view suffix = "") {
  StatusOr<uint64_t> v = ReadUvarint(in);
  // The message is built only on failure, so that decoding a valid address allocates nothing here.
  if (!v.ok()) return WithContext(v.status(), std::string(what) + std::string(suffix) + ": ");
  return v;
}

// Reads one component from the front of `*in` and advances it.
StatusOr<RawComponent> ReadComponent(ByteSpan* in) {
  ASSIGN_OR_RETURN(const uint64_t code, ReadVarint(in, "protocol code"));
  const Protocol* protocol = FindByCode(code);
  if (protocol == nullptr) return InvalidArgumentError("unknown protocol code " + std::to_string(code));
  const std::string_view name = protocol->name;
  size_t size = ValueSize(protocol->kind);
  if (size == kVariableSize) {
    ASSIGN_OR_RETURN(const uint64_t length, ReadVarint(in, name, " value length"));
    if (length > in->size()) {
      return InvalidArgumentError(std::string(name) + " value length " + std::to_string(length) + " exceeds the " +
                                  std::to_string(in->size()) + " bytes left");
    }
    size = static_cast<size_t>(length);
  } else if (size > in->size()) {
    return InvalidArgumentError("truncated " + std::string(name) + " value: needs " + std::to_string(size) + " bytes, " +
                                std::to_string(in->size()) + " left");
  }
  const RawComponent component{protocol, 0, in->first(size)};
  *in = in->subspan(size);
  const Status valid = ValidateValue(*protocol, component.value);
  if (!valid.ok()) return WithContext(valid, std::string(name) + ": ");
  return component;
}

// Calls on_component for each component of `bytes`, or fails at the first malformed one. Allocates nothing
// on success.
template <typename F>
Status ForEachComponent(ByteSpan bytes, F&& on_component) {
  ByteSpan rest = bytes;
  while (!rest.empty()) {
    const size_t offset = bytes.size() - rest.size();
    StatusOr<RawComponent> component = ReadComponent(&rest);
    if (!component.ok()) {
      return WithContext(component.status(), "multiaddr at byte " + std::to_string(offset) + ": ");
    }
    component->offset = offset;
    on_component(*component);
  }
  return OkStatus();
}

StatusOr<std::vector<RawComponent>> Split(ByteSpan bytes) {
  std::vector<RawComponent> components;
  RETURN_IF_ERROR(ForEachComponent(bytes, [&](const RawComponent& c) { components.push_back(c); }));
  return components;
}

// Splits the bytes of a Multiaddr, which are well formed by construction.
std::vector<RawComponent> SplitValid(const Bytes& bytes) {
  StatusOr<std::vector<RawComponent>> components = Split(bytes);
  assert(components.ok());
  return components.ok() ? std::move(*components) : std::vector<RawComponent>{};
}

// ---- Text form ----

// Hex digits of percent-escapes; upper case, as go and js print them.
constexpr char kUpperHex[] = "0123456789ABCDEF";

// RFC 3986 unreserved characters: the only bytes an http-path prints as themselves.
bool IsUnreserved(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string PercentEscape(ByteSpan value) {
  std::string out;
  out.reserve(value.size());
  for (const uint8_t c : value) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xf]);
    }
  }
  return out;
}

// An onion service id in lower-case base32, ':' and the port.
std::string OnionToText(ByteSpan value) {
  return Base32Encode(value.first(value.size() - kPortLength)) + ":" +
         std::to_string(ReadPort(value.last(kPortLength)));
}

uint64_t ReadBigEndian64(ByteSpan eight_bytes) {
  uint64_t v = 0;
  for (const uint8_t b : eight_bytes) v = v << 8 | b;
  return v;
}

std::string ValueToText(const Protocol& protocol, ByteSpan value) {
  switch (protocol.kind) {
    case ValueKind::kNone: return "";
    case ValueKind::kIp4:
      return std::to_string(value[0]) + "." + std::to_string(value[1]) + "." + std::to_string(value[2]) +
             "." + std::to_string(value[3]);
    case ValueKind::kIp6: {
      char buf[INET6_ADDRSTRLEN];
      const char* text = inet_ntop(AF_INET6, value.data(), buf, sizeof(buf));
      assert(text != nullptr);  // Fails only for a short buffer.
      return text != nullptr ? text : "";
    }
    case ValueKind::kPort: return std::to_string(ReadPort(value));
    case ValueKind::kUint8: return std::to_string(value[0]);
    case ValueKind::kUint64: return std::to_string(ReadBigEndian64(value));
    case ValueKind::kText:
    case ValueKind::kUnixPath: return ToString(value);
    case ValueKind::kPeerId: return Base58BtcEncode(value);
    case ValueKind::kCertHash: return MultibaseEncode(Multibase::kBase64Url, value);
    case ValueKind::kHttpPath: return PercentEscape(value);
    case ValueKind::kOnion:
    case ValueKind::kOnion3: return OnionToText(value);
    case ValueKind::kGarlic64: return Base64Encode(value, Base64Alphabet::kI2p, Base64Padding::kPadded);
    case ValueKind::kGarlic32: return Base32Encode(value);
  }
  return "";
}

// Appends "/<name>[/<value>]" of one component to `out`. A unix path starts with its own '/'.
void AppendComponentText(const Protocol& protocol, const std::string& value_text, std::string* out) {
  out->push_back('/');
  *out += protocol.name;
  if (protocol.kind == ValueKind::kNone) return;
  if (protocol.kind != ValueKind::kUnixPath) out->push_back('/');
  *out += value_text;
}

// Parses decimal digits without sign or leading zeros ("0" itself is fine) into a value of at most `max`.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max) {
  constexpr size_t kMaxDigits = 20;  // Of 2^64 - 1.
  if (text.empty() || text.size() > kMaxDigits || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;  // value * 10 + digit would exceed max.
    value = value * 10 + digit;
  }
  return value;
}

Status AppendIp4(std::string_view text, Bytes* out) {
  uint8_t address[4];
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? rest.find('.') : rest.size();
    const std::optional<uint64_t> octet =
        dot == std::string_view::npos ? std::nullopt : ParseDecimal(rest.substr(0, dot), 255);
    if (!octet.has_value()) return InvalidArgumentError("invalid ip4 address " + Quote(text));
    address[i] = static_cast<uint8_t>(*octet);
    rest = rest.substr(std::min(dot + 1, rest.size()));
  }
  out->insert(out->end(), address, address + 4);
  return OkStatus();
}

Status AppendIp6(std::string_view text, Bytes* out) {
  // inet_pton reads a C string: refuse what it cannot see whole.
  char buf[INET6_ADDRSTRLEN];
  uint8_t address[16];
  if (text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("invalid ip6 address " + Quote(text));
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET6, buf, address) != 1) {
    return InvalidArgumentError("invalid ip6 address " + Quote(text));
  }
  out->insert(out->end(), address, address + 16);
  return OkStatus();
}

void AppendBigEndian(uint64_t value, size_t size, Bytes* out) {
  for (size_t i = size; i > 0; --i) out->push_back(static_cast<uint8_t>(value >> (8 * (i - 1))));
}

Status AppendPort(std::string_view text, Bytes* out) {
  const std::optional<uint64_t> port = ParseDecimal(text, 65535);
  if (!port.has_value()) return InvalidArgumentError("invalid port " + Quote(text) + " (decimal 0-65535)");
  AppendBigEndian(*port, kPortLength, out);
  return OkStatus();
}

Status AppendUint8(std::string_view text, Bytes* out) {
  const std::optional<uint64_t> value = ParseDecimal(text, 255);
  if (!value.has_value()) return InvalidArgumentError("invalid value " + Quote(text) + " (decimal 0-255)");
  out->push_back(static_cast<uint8_t>(*value));
  return OkStatus();
}

Status AppendUint64(std::string_view text, Bytes* out) {
  const std::optional<uint64_t> value = ParseDecimal(text, UINT64_MAX);
  if (!value.has_value()) {
    return InvalidArgumentError("invalid value " + Quote(text) + " (decimal 0-" + std::to_string(UINT64_MAX) +
                                ")");
  }
  AppendBigEndian(*value, 8, out);
  return OkStatus();
}

void AppendLengthPrefixed(ByteSpan value, Bytes* out) {
  AppendUvarint(value.size(), out);
  out->insert(out->end(), value.begin(), value.end());
}

// A CIDv1 with the libp2p-key codec, in multibase; returns the multihash it holds.
StatusOr<Bytes> PeerIdFromCid(std::string_view text) {
  ASSIGN_OR_RETURN(const Bytes cid, MultibaseDecode(text));
  ByteSpan rest = cid;
  ASSIGN_OR_RETURN(const uint64_t version, ReadVarint(&rest, "CID version"));
  if (version != kCidVersion1) {
    return InvalidArgumentError("CID version " + std::to_string(version) + " is not 1");
  }
  ASSIGN_OR_RETURN(const uint64_t codec, ReadVarint(&rest, "CID codec"));
  if (codec != kLibp2pKeyCodec) {
    return InvalidArgumentError("CID codec " + std::to_string(codec) + " is not libp2p-key (114)");
  }
  return Bytes(rest.begin(), rest.end());
}

Status AppendPeerId(std::string_view text, Bytes* out) {
  if (text.size() > kMaxPeerIdTextLength) {
    return OutOfRangeError("peer ID of " + std::to_string(text.size()) + " characters exceeds the limit of " +
                           std::to_string(kMaxPeerIdTextLength));
  }
  if (text.empty()) return InvalidArgumentError("empty value");
  // Legacy base58btc peer IDs start with '1' (identity) or 'Q' (sha2-256), which are no multibase prefixes.
  const bool base58 = text[0] == '1' || text[0] == 'Q';
  ASSIGN_OR_RETURN(const Bytes multihash, base58 ? Base58BtcDecode(text) : PeerIdFromCid(text));
  RETURN_IF_ERROR(ValidatePeerId(multihash));
  AppendLengthPrefixed(multihash, out);
  return OkStatus();
}

Status AppendCertHash(std::string_view text, Bytes* out) {
  if (text.size() > kMaxCertHashTextLength) {
    return OutOfRangeError("certificate hash of " + std::to_string(text.size()) +
                           " characters exceeds the limit of " + std::to_string(kMaxCertHashTextLength));
  }
  ASSIGN_OR_RETURN(const Bytes multihash, MultibaseDecode(text));
  RETURN_IF_ERROR(ParseMultihash(multihash).status());
  AppendLengthPrefixed(multihash, out);
  return OkStatus();
}

// The value of one hex digit, or -1.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes PercentEscape: %XX (either case) is that byte, any other character but '+' is itself.
Status AppendHttpPath(std::string_view text, Bytes* out) {
  Bytes path;
  path.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      return InvalidArgumentError("'+' at position " + std::to_string(i) +
                                  " is ambiguous (go reads a space, js and rust a '+'): write %20 or %2B");
    }
    if (c != '%') {
      path.push_back(static_cast<uint8_t>(c));
      continue;
    }
    if (text.size() - i < 3 || HexDigit(text[i + 1]) < 0 || HexDigit(text[i + 2]) < 0) {
      return InvalidArgumentError("'%' at position " + std::to_string(i) + " is not followed by two hex digits");
    }
    path.push_back(static_cast<uint8_t>(HexDigit(text[i + 1]) << 4 | HexDigit(text[i + 2])));
    i += 2;
  }
  if (path.empty()) return InvalidArgumentError("empty value");
  AppendLengthPrefixed(path, out);
  return OkStatus();
}

// "<base32 service id>:<port>", the id `id_length` bytes long once decoded and the port 1-65535.
Status AppendOnion(std::string_view text, size_t id_length, Bytes* out) {
  const size_t id_characters = id_length * 8 / 5;  // Both lengths are multiples of 5 bytes: no padding bits.
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return InvalidArgumentError(Quote(text) + " has no ':port'");
  if (colon != id_characters) {
    return InvalidArgumentError("service id " + Quote(text.substr(0, colon)) + " is not " +
                                std::to_string(id_characters) + " base32 characters");
  }
  ASSIGN_OR_RETURN(const Bytes id, Base32Decode(text.substr(0, colon)));
  const std::string_view port_text = text.substr(colon + 1);
  const std::optional<uint64_t> port = ParseDecimal(port_text, 65535);
  if (!port.has_value() || *port == 0) {
    return InvalidArgumentError("invalid port " + Quote(port_text) + " (decimal 1-65535)");
  }
  out->insert(out->end(), id.begin(), id.end());
  AppendBigEndian(*port, kPortLength, out);
  return OkStatus();
}

Status AppendGarlic64(std::string_view text, Bytes* out) {
  ASSIGN_OR_RETURN(const Bytes destination, Base64Decode(text, Base64Alphabet::kI2p, Base64Padding::kPadded));
  RETURN_IF_ERROR(ValidateGarlic64(destination));
  AppendLengthPrefixed(destination, out);
  return OkStatus();
}

Status AppendGarlic32(std::string_view text, Bytes* out) {
  ASSIGN_OR_RETURN(const Bytes address, Base32Decode(text));
  RETURN_IF_ERROR(ValidateGarlic32(address));
  AppendLengthPrefixed(address, out);
  return OkStatus();
}

Status AppendValueFromText(const Protocol& protocol, std::string_view text, Bytes* out) {
  switch (protocol.kind) {
    case ValueKind::kNone: return OkStatus();
    case ValueKind::kIp4: return AppendIp4(text, out);
    case ValueKind::kIp6: return AppendIp6(text, out);
    case ValueKind::kPort: return AppendPort(text, out);
    case ValueKind::kUint8: return AppendUint8(text, out);
    case ValueKind::kUint64: return AppendUint64(text, out);
    case ValueKind::kText:
      RETURN_IF_ERROR(ValidateText(text));
      AppendLengthPrefixed(AsBytes(text), out);
      return OkStatus();
    case ValueKind::kUnixPath:
      RETURN_IF_ERROR(ValidateUnixPath(text));
      AppendLengthPrefixed(AsBytes(text), out);
      return OkStatus();
    case ValueKind::kPeerId: return AppendPeerId(text, out);
    case ValueKind::kCertHash: return AppendCertHash(text, out);
    case ValueKind::kHttpPath: return AppendHttpPath(text, out);
    case ValueKind::kOnion: return AppendOnion(text, kOnionIdLength, out);
    case ValueKind::kOnion3: return AppendOnion(text, kOnion3IdLength, out);
    case ValueKind::kGarlic64: return AppendGarlic64(text, out);
    case ValueKind::kGarlic32: return AppendGarlic32(text, out);
  }
  return InternalError("unknown value kind");
}

// `text[*pos]` is a '/'. Returns the text up to the next '/' or the end, and moves `*pos` there.
std::string_view NextPart(std::string_view text, size_t* pos) {
  const size_t start = *pos + 1;
  const size_t end = std::min(text.find('/', start), text.size());
  *pos = end;
  return text.substr(start, end - start);
}

// Parses the component that starts at the '/' at `text[*pos]`, appends its binary form and moves `*pos` past.
Status AppendComponentFromText(std::string_view text, size_t* pos, Bytes* out) {
  const size_t start = *pos;
  const std::string_view name = NextPart(text, pos);
  const std::string where = " at offset " + std::to_string(start);
  if (name.empty()) return InvalidArgumentError("multiaddr: empty protocol name" + where);
  const Protocol* protocol = FindByName(name);
  if (protocol == nullptr) return InvalidArgumentError("multiaddr: unknown protocol " + Quote(name) + where);
  AppendUvarint(protocol->code, out);
  if (protocol->kind == ValueKind::kNone) return OkStatus();
  const std::string context = "multiaddr: /" + std::string(name) + where;
  if (*pos == text.size()) return InvalidArgumentError(context + " needs a value");
  std::string_view value;
  if (protocol->kind == ValueKind::kUnixPath) {
    value = text.substr(*pos);  // The path, from its leading '/' to the end of the address.
    *pos = text.size();
  } else {
    value = NextPart(text, pos);
  }
  const Status status = AppendValueFromText(*protocol, value, out);
  return status.ok() ? status : WithContext(status, context + ": ");
}

Status BinaryTooLong(size_t size) {
  return OutOfRangeError("multiaddr of " + std::to_string(size) + " bytes exceeds the limit of " +
                         std::to_string(kMaxMultiaddrLength));
}

}  // namespace

StatusOr<Multiaddr> Multiaddr::FromBytes(ByteSpan bytes) {
  if (bytes.size() > kMaxMultiaddrLength) return BinaryTooLong(bytes.size());
  if (bytes.empty()) return InvalidArgumentError("multiaddr: empty");
  std::optional<size_t> unix_path_offset;
  size_t last_offset = 0;
  RETURN_IF_ERROR(ForEachComponent(bytes, [&](const RawComponent& c) {
    if (c.protocol->kind == ValueKind::kUnixPath && !unix_path_offset.has_value()) unix_path_offset = c.offset;
    last_offset = c.offset;
  }));
  // Its text runs to the end of the address, so anything after a unix path would print as part of it.
  if (unix_path_offset.has_value() && *unix_path_offset != last_offset) {
    return InvalidArgumentError("multiaddr at byte " + std::to_string(*unix_path_offset) +
                                ": a unix path must be the last component");
  }
  return Multiaddr(Bytes(bytes.begin(), bytes.end()));
}

StatusOr<Multiaddr> Multiaddr::FromString(std::string_view text) {
  if (text.size() > kMaxMultiaddrTextLength) {
    return OutOfRangeError("multiaddr text of " + std::to_string(text.size()) +
                           " characters exceeds the limit of " + std::to_string(kMaxMultiaddrTextLength));
  }
  if (text.empty()) return InvalidArgumentError("multiaddr: empty");
  if (text[0] != '/') return InvalidArgumentError("multiaddr: " + Quote(text) + " does not start with '/'");
  Bytes bytes;
  size_t pos = 0;
  while (pos < text.size()) {
    RETURN_IF_ERROR(AppendComponentFromText(text, &pos, &bytes));
    if (bytes.size() > kMaxMultiaddrLength) return BinaryTooLong(bytes.size());
  }
  return Multiaddr(std::move(bytes));
}

std::string Multiaddr::ToString() const {
  std::string out;
  for (const RawComponent& c : SplitValid(bytes_)) {
    AppendComponentText(*c.protocol, ValueToText(*c.protocol, c.value), &out);
  }
  return out;
}

std::vector<Multiaddr::Component> Multiaddr::Components() const {
  std::vector<Component> out;
  for (const RawComponent& c : SplitValid(bytes_)) {
    out.push_back(Component{c.protocol->code, c.protocol->name, Bytes(c.value.begin(), c.value.end()),
                            ValueToText(*c.protocol, c.value)});
  }
  return out;
}

Multiaddr Multiaddr::Encapsulate(const Multiaddr& inner) const {
  Bytes bytes = bytes_;
  bytes.insert(bytes.end(), inner.bytes_.begin(), inner.bytes_.end());
  return Multiaddr(std::move(bytes));
}

std::optional<Bytes> Multiaddr::PeerIdMultihash() const {
  const std::vector<RawComponent> components = SplitValid(bytes_);
  if (components.empty() || components.back().protocol->code != mp::kP2p) return std::nullopt;
  return Bytes(components.back().value.begin(), components.back().value.end());
}

Multiaddr Multiaddr::WithoutPeerId() const {
  const std::vector<RawComponent> components = SplitValid(bytes_);
  if (components.empty() || components.back().protocol->code != mp::kP2p) return *this;
  return Multiaddr(Bytes(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(components.back().offset)));
}

}  // namespace libp2p

size_t std::hash<libp2p::Multiaddr>::operator()(const libp2p::Multiaddr& m) const noexcept {
  return std::hash<std::string_view>()(libp2p::AsStringView(m.bytes()));
}
