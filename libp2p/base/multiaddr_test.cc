#include "libp2p/base/multiaddr.h"

#include <algorithm>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/multibase.h"

namespace libp2p {
namespace {

constexpr char kQmPeer[] = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
// The same sha2-256 peer ID as a base32 CIDv1 with the libp2p-key codec.
constexpr char kCidPeer[] = "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe";
constexpr char kQmPeerMultihashHex[] = "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9";
// An identity peer ID: the protobuf of an ed25519 key 01 02 .. 20.
constexpr char kEd25519Peer[] = "12D3KooW9tJMax94Lrqw7Y5Qw36viGQAS2gTEPQ5Wg1vTk7xPfQs";

Bytes FromHex(std::string_view hex) {
  StatusOr<Bytes> bytes = Base16Decode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : Bytes{};
}

Multiaddr Parse(std::string_view text) {
  StatusOr<Multiaddr> m = Multiaddr::FromString(text);
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  return m.ok() ? *m : Multiaddr();
}

void ExpectTextError(std::string_view text, StatusCode code, std::string_view needle) {
  const StatusOr<Multiaddr> m = Multiaddr::FromString(text);
  ASSERT_FALSE(m.ok()) << text << " parsed as " << m->ToString();
  EXPECT_EQ(m.status().code(), code) << text << ": " << m.status().ToString();
  EXPECT_NE(m.status().message().find(needle), std::string::npos) << text << ": " << m.status().ToString();
}

void ExpectBinaryError(const Bytes& bytes, StatusCode code, std::string_view needle) {
  const StatusOr<Multiaddr> m = Multiaddr::FromBytes(bytes);
  ASSERT_FALSE(m.ok()) << HexEncode(bytes) << " parsed as " << m->ToString();
  EXPECT_EQ(m.status().code(), code) << HexEncode(bytes) << ": " << m.status().ToString();
  EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().ToString();
}

// Canonical texts: each parses and prints back unchanged, and its bytes parse back to the same address.
const std::vector<std::string>& CanonicalTexts() {
  static const std::vector<std::string> texts = {
      "/ip4/127.0.0.1/tcp/4001",
      "/ip4/0.0.0.0/tcp/0",
      "/ip4/255.255.255.255/udp/65535",
      "/ip6/::1/tcp/8080",
      "/ip6/::/udp/1",
      "/ip6/2001:db8::1/udp/443/quic-v1/webtransport",
      "/ip6/::ffff:1.2.3.4/tcp/1",
      "/ip6zone/eth0/ip6/fe80::1/tcp/1",
      "/dns4/example.com/tcp/443/wss",
      "/dns6/example.com/tcp/443/tls/ws",
      "/dns/\xc3\xbcnic\xc3\xb6"
      "de.example/tcp/1",
      "/dnsaddr/bootstrap.libp2p.io/p2p/" + std::string(kQmPeer),
      "/ip4/1.2.3.4/udp/4001/quic-v1",
      "/ip4/1.2.3.4/udp/4001/quic",
      "/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(kQmPeer),
      "/p2p/" + std::string(kEd25519Peer),
      "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kQmPeer) + "/p2p-circuit/p2p/" + kEd25519Peer,
      "/p2p-circuit",
  };
  return texts;
}

TEST(MultiaddrTest, KnownBinaryForm) {
  const Multiaddr m = Parse("/ip4/127.0.0.1/tcp/4001");
  EXPECT_EQ(HexEncode(m.bytes()), "047f000001060fa1");
  const StatusOr<Multiaddr> back = Multiaddr::FromBytes(FromHex("047f000001060fa1"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToString(), "/ip4/127.0.0.1/tcp/4001");
  EXPECT_EQ(HexEncode(Parse("/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(kQmPeer)).bytes()),
            "047f000001060fa1a50322" + std::string(kQmPeerMultihashHex));
  EXPECT_EQ(HexEncode(Parse("/ip6/::1/tcp/8080").bytes()), "2900000000000000000000000000000001061f90");
  EXPECT_EQ(HexEncode(Parse("/dns4/a.b/udp/53/quic-v1").bytes()), "3603612e6291020035cd03");
}

TEST(MultiaddrTest, CanonicalTextsRoundTrip) {
  for (const std::string& text : CanonicalTexts()) {
    const Multiaddr m = Parse(text);
    EXPECT_EQ(m.ToString(), text);
    const StatusOr<Multiaddr> from_bytes = Multiaddr::FromBytes(m.bytes());
    ASSERT_TRUE(from_bytes.ok()) << text << ": " << from_bytes.status().ToString();
    EXPECT_EQ(*from_bytes, m) << text;
  }
}

TEST(MultiaddrTest, NonCanonicalTextsNormalize) {
  const std::string qm = kQmPeer;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/ipfs/" + qm, "/p2p/" + qm},
      {"/ip4/1.2.3.4/tcp/1/ipfs/" + qm, "/ip4/1.2.3.4/tcp/1/p2p/" + qm},
      {"/p2p/" + std::string(kCidPeer), "/p2p/" + qm},
      {"/p2p/zdvgqC3jczfCwLUoSyWT8GLc5UZ9aG4RkAg7XAfidRbX9qVj6", "/p2p/" + qm},
      {"/p2p/f017212209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9", "/p2p/" + qm},
      {"/p2p/bafzaajaiaejcaaicamcakbqhbaequcymbuha6earcijrifiwc4mbsgq3dqor4hza",
       "/p2p/" + std::string(kEd25519Peer)},
      {"/ip6/0:0:0:0:0:0:0:1/tcp/1", "/ip6/::1/tcp/1"},
      {"/ip6/2001:DB8:0000::0001/tcp/1", "/ip6/2001:db8::1/tcp/1"},
  };
  for (const auto& [input, canonical] : cases) {
    EXPECT_EQ(Parse(input).ToString(), canonical) << input;
  }
}

TEST(MultiaddrTest, CidAndBase58PeerIdsGiveTheSameMultihash) {
  const std::optional<Bytes> from_qm = Parse("/p2p/" + std::string(kQmPeer)).PeerIdMultihash();
  const std::optional<Bytes> from_cid = Parse("/p2p/" + std::string(kCidPeer)).PeerIdMultihash();
  ASSERT_TRUE(from_qm.has_value());
  ASSERT_TRUE(from_cid.has_value());
  EXPECT_EQ(HexEncode(*from_qm), kQmPeerMultihashHex);
  EXPECT_EQ(*from_cid, *from_qm);
}

TEST(MultiaddrTest, TextErrors) {
  constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
  ExpectTextError("", kInvalid, "empty");
  ExpectTextError("ip4/1.2.3.4", kInvalid, "does not start with '/'");
  ExpectTextError("/", kInvalid, "empty protocol name at offset 0");
  ExpectTextError("//ip4/1.2.3.4", kInvalid, "empty protocol name");
  ExpectTextError("/ip4/1.2.3.4/", kInvalid, "empty protocol name at offset 12");
  ExpectTextError("/foo/1", kInvalid, "unknown protocol \"foo\"");
  ExpectTextError("/IP4/1.2.3.4", kInvalid, "unknown protocol \"IP4\"");
  ExpectTextError("/ip4", kInvalid, "/ip4 at offset 0 needs a value");
  ExpectTextError("/ip4/1.2.3.4/tcp", kInvalid, "/tcp at offset 12 needs a value");
  for (const char* ip4 : {"256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.00", "1.2..3", "1.2.3.-4",
                          " 1.2.3.4", "1.2.3.4 ", "0x1.2.3.4", "", "1.2.3.4\n"}) {
    ExpectTextError("/ip4/" + std::string(ip4) + "/tcp/1", kInvalid, "invalid ip4 address");
  }
  for (const char* port : {"70000", "65536", "080", "-1", "+80", "", "8a", "100000"}) {
    ExpectTextError("/tcp/" + std::string(port), kInvalid, "invalid port");
  }
  for (const char* ip6 : {"::1%eth0", "1.2.3.4", ":::", "1:2:3:4:5:6:7:8:9", "g::1", "::1 "}) {
    ExpectTextError("/ip6/" + std::string(ip6), kInvalid, "invalid ip6 address");
  }
  ExpectTextError(std::string("/ip4/1.2.3.4\0", 13), kInvalid, "invalid ip4 address");
  ExpectTextError(std::string("/ip6/::1\0", 9), kInvalid, "invalid ip6 address");
  ExpectTextError("/ip6/" + std::string(100, '1'), kInvalid, "invalid ip6 address");
  ExpectTextError("/dns4/", kInvalid, "empty value");
  ExpectTextError("/dns4/\xff\xfe", kInvalid, "not valid UTF-8");
  ExpectTextError("/dns4/\xc0\xaf", kInvalid, "not valid UTF-8");  // An overlong '/'.
  ExpectTextError("/p2p/", kInvalid, "/p2p at offset 0: empty value");
  ExpectTextError("/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5l", kInvalid, "'l' at position 45");
  ExpectTextError("/p2p/Qm", kInvalid, "multihash");
  ExpectTextError("/p2p/xyz", kInvalid, "unsupported prefix 'x'");
  ExpectTextError("/p2p/bafybeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe", kInvalid,
                  "codec 112 is not libp2p-key");
  ExpectTextError("/p2p/bajzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe", kInvalid,
                  "CID version 2 is not 1");
  // A well-formed sha2-512 multihash in a libp2p-key CID: not a peer ID.
  Bytes sha512_cid = {0x01, 0x72, 0x13, 0x40};
  sha512_cid.resize(sha512_cid.size() + 64, 0);
  ExpectTextError("/p2p/" + MultibaseEncode(Multibase::kBase32, sha512_cid), kInvalid,
                  "identity or sha2-256");
  ExpectTextError("/p2p/Q" + std::string(300, 'm'), StatusCode::kOutOfRange, "peer ID of 301 characters");
}

TEST(MultiaddrTest, TextLimits) {
  ExpectTextError(std::string(kMaxMultiaddrTextLength + 1, '/'), StatusCode::kOutOfRange, "8193 characters");
  std::string many_ip6;
  while (many_ip6.size() < 70 * 7) many_ip6 += "/ip6/::";  // 7 characters of text, 17 bytes of binary.
  ExpectTextError(many_ip6, StatusCode::kOutOfRange, "exceeds the limit of 1024");
}

TEST(MultiaddrTest, LongestTextOfAnAcceptedBinaryStillParses) {
  // 512 two-byte /webtransport codes: the binary form at its limit with the widest text per byte.
  Bytes bytes;
  for (size_t i = 0; i < kMaxMultiaddrLength / 2; ++i) {
    bytes.push_back(0xd1);
    bytes.push_back(0x03);
  }
  const StatusOr<Multiaddr> m = Multiaddr::FromBytes(bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string text = m->ToString();
  EXPECT_EQ(text.size(), 13 * kMaxMultiaddrLength / 2);
  EXPECT_LE(text.size(), kMaxMultiaddrTextLength);
  EXPECT_EQ(Parse(text), *m);
}

TEST(MultiaddrTest, BinaryTruncatedAtEveryOffset) {
  const Multiaddr m = Parse("/ip6/::1/udp/4001/quic-v1/dns6/a.b/p2p/" + std::string(kQmPeer));
  std::vector<size_t> boundaries;
  Multiaddr prefix;
  for (const char* part : {"/ip6/::1", "/udp/4001", "/quic-v1", "/dns6/a.b"}) {
    prefix = prefix.Encapsulate(Parse(part));
    boundaries.push_back(prefix.bytes().size());
  }
  for (size_t n = 0; n < m.bytes().size(); ++n) {
    const ByteSpan truncated = ByteSpan(m.bytes()).first(n);
    const StatusOr<Multiaddr> parsed = Multiaddr::FromBytes(truncated);
    const bool at_boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
    EXPECT_EQ(parsed.ok(), at_boundary) << n << ": " << parsed.status().ToString();
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << n;
    }
  }
}

TEST(MultiaddrTest, BinaryErrors) {
  constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
  ExpectBinaryError({}, kInvalid, "empty");
  ExpectBinaryError({0x07, 0x00}, kInvalid, "unknown protocol code 7");
  ExpectBinaryError({0xff, 0x7f}, kInvalid, "unknown protocol code 16383");
  ExpectBinaryError({0x84, 0x00, 1, 2, 3, 4}, kInvalid, "protocol code: unsigned varint is not minimally");
  ExpectBinaryError({0x04, 1, 2, 3}, kInvalid, "truncated ip4 value: needs 4 bytes, 3 left");
  ExpectBinaryError({0x04, 1, 2, 3, 4, 0x00}, kInvalid, "at byte 5: unknown protocol code 0");
  ExpectBinaryError({0x04, 1, 2, 3, 4, 0x06}, kInvalid, "at byte 5: truncated tcp value");
  ExpectBinaryError({0xa5, 0x03, 0x22, 0x12, 0x20}, kInvalid, "p2p value length 34 exceeds the 2 bytes left");
  ExpectBinaryError({0xa5, 0x03, 0x80}, kInvalid, "p2p value length: truncated");
  ExpectBinaryError({0xa5, 0x03, 0x02, 0x12, 0x01}, kInvalid,
                    "p2p: multihash declares a digest of 1 bytes but 0 follow");
  ExpectBinaryError({0xa5, 0x03, 0x00}, kInvalid, "p2p: multihash: empty");
  ExpectBinaryError({0xa5, 0x03, 0x03, 0x13, 0x01, 0x00}, kInvalid, "identity or sha2-256");
  ExpectBinaryError({0x35, 0x00}, kInvalid, "dns: empty value");
  ExpectBinaryError({0x35, 0x03, 'a', '/', 'b'}, kInvalid, "dns: value \"a/b\" has a '/'");
  ExpectBinaryError({0x36, 0x02, 0xc3, 0x28}, kInvalid, "not valid UTF-8");
  ExpectBinaryError({0x2a, 0x05, 'a'}, kInvalid, "ip6zone value length 5 exceeds the 1 bytes left");
  ExpectBinaryError({0x2a, 0x03, 0xed, 0xa0, 0x80}, kInvalid, "not valid UTF-8");  // A UTF-16 surrogate.
  ExpectBinaryError(Bytes(kMaxMultiaddrLength + 1, 0x04), StatusCode::kOutOfRange, "1025 bytes");
}

TEST(MultiaddrTest, Components) {
  const Multiaddr m = Parse("/dns4/example.com/tcp/443/wss/p2p/" + std::string(kQmPeer));
  const std::vector<Multiaddr::Component> components = m.Components();
  ASSERT_EQ(components.size(), 4u);
  EXPECT_EQ(components[0].code, multiaddr_protocol::kDns4);
  EXPECT_EQ(components[0].name, "dns4");
  EXPECT_EQ(ToString(components[0].value), "example.com");
  EXPECT_EQ(components[0].text, "example.com");
  EXPECT_EQ(components[1].code, multiaddr_protocol::kTcp);
  EXPECT_EQ(components[1].value, (Bytes{0x01, 0xbb}));
  EXPECT_EQ(components[1].text, "443");
  EXPECT_EQ(components[2].name, "wss");
  EXPECT_TRUE(components[2].value.empty());
  EXPECT_EQ(components[2].text, "");
  EXPECT_EQ(components[3].code, multiaddr_protocol::kP2p);
  EXPECT_EQ(HexEncode(components[3].value), kQmPeerMultihashHex);
  EXPECT_EQ(components[3].text, kQmPeer);
}

TEST(MultiaddrTest, EncapsulateAndPeerId) {
  const Multiaddr transport = Parse("/ip4/1.2.3.4/tcp/4001");
  const Multiaddr peer = Parse("/p2p/" + std::string(kQmPeer));
  const Multiaddr full = transport.Encapsulate(peer);
  EXPECT_EQ(full.ToString(), "/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kQmPeer));
  EXPECT_EQ(full.WithoutPeerId(), transport);
  EXPECT_EQ(transport.WithoutPeerId(), transport);
  EXPECT_FALSE(transport.PeerIdMultihash().has_value());
  ASSERT_TRUE(full.PeerIdMultihash().has_value());
  EXPECT_EQ(HexEncode(*full.PeerIdMultihash()), kQmPeerMultihashHex);
  EXPECT_TRUE(peer.WithoutPeerId().empty());
  EXPECT_EQ(peer.WithoutPeerId().ToString(), "");
  EXPECT_EQ(Multiaddr().Encapsulate(transport), transport);

  // A relayed address names the target last; with no final /p2p there is no peer ID.
  const Multiaddr relayed =
      Parse("/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kQmPeer) + "/p2p-circuit/p2p/" + kEd25519Peer);
  EXPECT_EQ(Base58BtcEncode(*relayed.PeerIdMultihash()), kEd25519Peer);
  EXPECT_EQ(relayed.WithoutPeerId().ToString(),
            "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kQmPeer) + "/p2p-circuit");
  EXPECT_FALSE(relayed.WithoutPeerId().PeerIdMultihash().has_value());
}

TEST(MultiaddrTest, EqualityAndHash) {
  const Multiaddr a = Parse("/ip4/1.2.3.4/tcp/1");
  const Multiaddr b = Parse("/ip4/1.2.3.4/tcp/1");
  const Multiaddr c = Parse("/ip4/1.2.3.4/udp/1");
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  EXPECT_EQ(std::hash<Multiaddr>()(a), std::hash<Multiaddr>()(b));
  std::unordered_set<Multiaddr> set = {a, b, c, Parse("/ipfs/" + std::string(kQmPeer)),
                                       Parse("/p2p/" + std::string(kCidPeer))};
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.count(Parse("/ip4/1.2.3.4/udp/1")), 1u);
}

TEST(MultiaddrTest, RandomCompositionsRoundTrip) {
  const std::vector<std::string> parts = {
      "/ip4/10.0.0.1",
      "/ip4/0.0.0.0",
      "/tcp/0",
      "/tcp/65535",
      "/udp/9",
      "/ip6/fe80::1:2",
      "/ip6/::ffff:1.2.3.4",
      "/ip6zone/x",
      "/dns/a",
      "/dns4/b.c",
      "/dns6/d",
      "/dnsaddr/e",
      "/p2p/" + std::string(kQmPeer),
      "/p2p/" + std::string(kEd25519Peer),
      "/p2p-circuit",
      "/quic",
      "/quic-v1",
      "/ws",
      "/wss",
      "/tls",
      "/webtransport",
  };
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string text;
    const size_t count = 1 + rng() % 8;
    for (size_t k = 0; k < count; ++k) text += parts[rng() % parts.size()];
    const Multiaddr m = Parse(text);
    EXPECT_EQ(m.ToString(), text);  // Every part is canonical, so text -> binary -> text is the identity.
    const StatusOr<Multiaddr> from_bytes = Multiaddr::FromBytes(m.bytes());
    ASSERT_TRUE(from_bytes.ok()) << text;
    EXPECT_EQ(from_bytes->bytes(), m.bytes());
    EXPECT_EQ(Parse(from_bytes->ToString()).bytes(), m.bytes());  // binary -> text -> binary.
  }
}

}  // namespace
}  // namespace libp2p
