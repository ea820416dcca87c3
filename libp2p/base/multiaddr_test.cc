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
// WebTransport and WebRTC certificate hashes as go-libp2p advertises them: sha2-256 multihashes in base64url.
constexpr char kCertHash1[] = "uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ";
constexpr char kCertHash2[] = "uEiAfbgiymPP2_nX7Dgir8B4QkksjHp2lVuJZz0F79Be9JA";
constexpr char kCertHash1Hex[] = "1220241f96b80cf18a52e3818d8c340a0c23bdc24224c0f62bfd5a96e291feda5ebd";
// Tor onion services and I2P addresses with their binary forms (go-multiaddr's test vectors).
constexpr char kOnion3[] = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd:1234";
constexpr char kGarlic32[] = "566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuq";
constexpr char kGarlic64[] =
    "jT~IyXaoauTni6N4517EG8mrFUKpy0IlgZh-EY9csMAk82Odatmzr~YTZy8Hv7u~wvkg75EFNOyqb~nAPg-khyp2TS~ObUz8WlqYAM2"
    "VlEzJ7wJB91P-cUlKF18zSzVoJFmsrcQHZCirSbWoOknS6iNmsGRh5KVZsBEfp1Dg3gwTipTRIx7Vl5Vy~1OSKQVjYiGZS9q8RL0MF~7"
    "xFiKxZDLbPxk0AK9TzGGqm~wMTI2HS0Gm4Ycy8LYPVmLvGonIBYndg2bJC7WLuF6tVjVquiokSVDKFwq70BCUU5AU-EvdOD5KEOAM7mP"
    "fw-gJUG4tm1TtvcobrObqoRnmhXPTBTN5H7qDD12AvlwFGnfAlBXjuP4xOUAISL5SRLiulrsMSiT4GcugSI80mF6sdB0zWRgL1yyvoV"
    "WeTBn1TqjO27alr95DGTluuSqrNAxgpQzCKEWAyzrQkBfo2avGAmmz2NaHaAvYbOg0QSJz1PLjv2jdPW~ofiQmrGWM1cd~1cCqAAAA";

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
      // What a default go-libp2p node advertises beyond TCP and QUIC.
      "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/" + std::string(kCertHash1) + "/certhash/" +
          kCertHash2 + "/p2p/" + kEd25519Peer,
      "/ip4/1.2.3.4/udp/4001/webrtc-direct/certhash/" + std::string(kCertHash1),
      "/ip6/2001:db8::1/udp/4001/webrtc-direct/certhash/" + std::string(kCertHash2) + "/p2p/" + kEd25519Peer,
      "/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kQmPeer) + "/p2p-circuit/webrtc/p2p/" + kEd25519Peer,
      "/dns4/example.com/tcp/443/tls/sni/example.com/ws",
      "/dns/example.com/tcp/443/tls/sni/example.com/http/http-path/.well-known%2Flibp2p",
      "/ip6/::1/tcp/1/tls/http/http-path/api%2Fv0%2Flogin",
      "/ip4/1.2.3.4/tcp/1/noise",
      "/ip4/1.2.3.4/tcp/1/plaintextv2",
      "/ip4/1.2.3.4/tcp/443/https",
      "/unix/tmp/sock",
      "/unix/stdio",
      "/ip4/127.0.0.1/tcp/1234/p2p/" + std::string(kQmPeer) + "/unix/a/b//c.d",
      "/onion/timaq4ygg2iegci7:80/http",
      "/onion3/" + std::string(kOnion3),
      "/onion3/" + std::string(kOnion3) + "/p2p/" + kEd25519Peer,
      "/garlic32/" + std::string(kGarlic32) + "/tcp/8080",
      "/garlic32/566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuqzwas",
      "/garlic64/" + std::string(kGarlic64) + "/udp/8080",
      "/memory/42",
      "/memory/0",
      "/memory/18446744073709551615/p2p/" + std::string(kEd25519Peer),
      "/ip4/192.0.2.0/ipcidr/24",
      "/ip6/2001:db8::/ipcidr/32",
      "/ip4/1.2.3.4/dccp/5000",
      "/ip4/1.2.3.4/sctp/5000",
      "/ip4/1.2.3.4/udp/5000/udt",
      "/ip6/2001:db8::1/udp/5000/utp",
      "/ip4/127.0.0.1/tcp/9090/ws/p2p-webrtc-star/p2p/" + std::string(kQmPeer),
      "/ip4/127.0.0.1/tcp/9090/http/p2p-webrtc-direct",
      "/ip4/127.0.0.1/tcp/9090/ws/p2p-websocket-star",
      "/ip4/127.0.0.1/tcp/9090/ws/p2p-stardust",
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

TEST(MultiaddrTest, KnownBinaryFormsOfTheNewerProtocols) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/udp/4001/webrtc-direct", "91020fa19802"},
      {"/webrtc", "9902"},
      {"/certhash/" + std::string(kCertHash1), "d20322" + std::string(kCertHash1Hex)},
      {"/sni/a.b", "c10303612e62"},
      {"/noise", "c603"},
      {"/http/http-path/a%2Fb", "e003e10303612f62"},
      {"/https", "bb03"},
      {"/unix/tmp/sock", "9003092f746d702f736f636b"},
      {"/memory/42", "8906000000000000002a"},
      {"/ipcidr/24", "2b18"},
      {"/dccp/1/sctp/2", "21000184010002"},
      {"/p2p-webrtc-star/p2p-webrtc-direct/p2p-stardust/p2p-websocket-star", "930294029502df03"},
      {"/udt/utp", "ad02ae02"},
      {"/plaintextv2", "e1d8c103"},
      // go-multiaddr's vectors.
      {"/onion/aaimaq4ygg2iegci:80", "bc030010c0439831b48218480050"},
      {"/onion3/" + std::string(kOnion3),
       "bd03adadec040be047f9658668b11a504f3155001f231a37f54c4476c07fb4cc139ed7e30304d2"},
      {"/garlic32/" + std::string(kGarlic32),
       "bf0320efbcd45d0c5dc79781ac6f20ea5055a036afb48d45a52e7d68ec7d4338919e69"},
  };
  for (const auto& [text, hex] : cases) {
    EXPECT_EQ(HexEncode(Parse(text).bytes()), hex) << text;
    const StatusOr<Multiaddr> back = Multiaddr::FromBytes(FromHex(hex));
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    EXPECT_EQ(back->ToString(), text);
  }
  // garlic64: a 387-byte destination, 0x83 0x03 as its varint length.
  const Multiaddr garlic64 = Parse("/garlic64/" + std::string(kGarlic64));
  EXPECT_EQ(HexEncode(garlic64.bytes()).substr(0, 20), "be0383038d3fc8c976a8");
  EXPECT_EQ(garlic64.bytes().size(), 2u + 2u + 387u);
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
      // certhash takes any multibase we speak and prints base64url (the first two are go-multiaddr's).
      {"/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy", "/certhash/u1QEQOFj2IjCsPJFfMAxmQxLGPw"},
      {"/certhash/zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41",
       "/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g"},
      {"/certhash/f" + std::string(kCertHash1Hex), "/certhash/" + std::string(kCertHash1)},
      {"/certhash/m1QEQOFj2IjCsPJFfMAxmQxLGPw", "/certhash/u1QEQOFj2IjCsPJFfMAxmQxLGPw"},
      {"/certhash/UEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ==", "/certhash/" + std::string(kCertHash1)},
      // Onion and garlic32 base32 of either case, printed in lower case.
      {"/onion/TIMAQ4YGG2IEGCI7:80", "/onion/timaq4ygg2iegci7:80"},
      {"/garlic32/566NIXIMLXDZPANMN4QOUUCVUA3K7NENIWSS47LI5R6UGOERTZUQ", "/garlic32/" + std::string(kGarlic32)},
      // http-path: escapes of either case, and reserved characters written raw, print as upper-case escapes;
      // unreserved characters print raw.
      {"/http-path/a%2fb", "/http-path/a%2Fb"},
      {"/http-path/%7e%41:@!", "/http-path/~A%3A%40%21"},
      {"/http-path/caf\xc3\xa9", "/http-path/caf%C3%A9"},
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

TEST(MultiaddrTest, TextErrorsOfTheNewerProtocols) {
  constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
  const std::string onion3_id = std::string(kOnion3).substr(0, 56);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/webrtc-direct/1", "unknown protocol \"1\""},
      {"/x-parity-ws/%2F", "unknown protocol \"x-parity-ws\""},
      {"/dccp/65536", "/dccp at offset 0: invalid port \"65536\""},
      {"/sctp", "/sctp at offset 0 needs a value"},
      {"/ip4/0.0.0.0/ipcidr/256", "/ipcidr at offset 12: invalid value \"256\" (decimal 0-255)"},
      {"/ipcidr/024", "invalid value \"024\""},
      {"/memory/18446744073709551616", "/memory at offset 0: invalid value \"18446744073709551616\""},
      {"/memory/184467440737095516150", "invalid value"},
      {"/memory/-1", "invalid value"},
      {"/memory/042", "invalid value"},
      {"/sni/", "/sni at offset 0: empty value"},
      {"/sni/\xff", "/sni at offset 0: value \"\\xff\" is not valid UTF-8"},
      {"/certhash", "/certhash at offset 0 needs a value"},
      {"/certhash/b2uaraocy6yrdblb4sfptaddgimjmmp", "/certhash at offset 0: multibase payload after prefix 'b'"},
      {"/certhash/" + std::string(kCertHash1).substr(0, 45), "/certhash at offset 0: multihash declares a digest"},
      {"/certhash/xyz", "/certhash at offset 0: multibase: unsupported prefix 'x'"},
      {"/certhash/u", "/certhash at offset 0: multihash: empty"},
      {"/http-path", "/http-path at offset 0 needs a value"},
      {"/http-path/", "/http-path at offset 0: empty value"},
      {"/http-path/a+b", "'+' at position 1 is ambiguous"},
      {"/http-path/thisIsMissingAfullByte%f", "'%' at position 22 is not followed by two hex digits"},
      {"/http-path/%g0", "'%' at position 0 is not followed by two hex digits"},
      {"/http-path/%", "'%' at position 0"},
      {"/unix", "/unix at offset 0 needs a value"},
      {"/unix/", "/unix at offset 0: empty path"},
      {"/unix/tmp/sock/", "/unix at offset 0: path \"/tmp/sock/\" ends in '/'"},
      {"/ip4/1.2.3.4/tcp/80/unix", "/unix at offset 19 needs a value"},
      {"/unix/\xc0\xaf", "is not valid UTF-8"},
      {"/onion/timaq4ygg2iegci7", "/onion at offset 0: \"timaq4ygg2iegci7\" has no ':port'"},
      {"/onion/aaimaq4ygg2iegci7:80", "service id \"aaimaq4ygg2iegci7\" is not 16 base32 characters"},
      {"/onion/9imaq4ygg2iegci7:80", "base32: invalid character '9' at position 0"},
      {"/onion/timaq4ygg2iegci@:666", "invalid character '@'"},
      {"/onion/timaq4ygg2iegci7:0", "invalid port \"0\" (decimal 1-65535)"},
      {"/onion/timaq4ygg2iegci7:-1", "invalid port \"-1\""},
      {"/onion/timaq4ygg2iegci7:65536", "invalid port \"65536\""},
      {"/onion/timaq4ygg2iegci7:80:80", "invalid port \"80:80\""},
      {"/onion3/" + onion3_id, "/onion3 at offset 0: \"" + onion3_id.substr(0, 56) + "\" has no ':port'"},
      {"/onion3/" + onion3_id + "7:80", "is not 56 base32 characters"},
      {"/onion3/" + onion3_id + ":0", "invalid port \"0\""},
      {"/garlic32/566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzu", "base32: length 51"},
      {"/garlic32/566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuq:80", "invalid character ':'"},
      {"/garlic32/" + std::string(kGarlic32).substr(0, 48),
       "I2P address of 30 bytes (must be 32, or 35 and more)"},
      {"/garlic64/" + std::string(kGarlic64) + "7", "i2p base64: padded length 517 is not a multiple of 4"},
      {"/garlic64/" + std::string(kGarlic64).substr(0, 512), "I2P destination of 384 bytes is shorter than 386"},
      {"/garlic64/" + std::string(kGarlic64).substr(0, 514) + "B=", "trailing bits"},
      {"/garlic64/" + std::string(kGarlic64).substr(0, 512) + "AAA", "padded length 515"},
      {"/garlic64/" + std::string(kGarlic64).substr(0, 515) + "+", "invalid character '+' at position 515"},
  };
  for (const auto& [text, needle] : cases) ExpectTextError(text, kInvalid, needle);
  ExpectTextError("/certhash/f" + std::string(300, '0'), StatusCode::kOutOfRange,
                  "/certhash at offset 0: certificate hash of 301 characters exceeds the limit of 257");
}

TEST(MultiaddrTest, TextLimits) {
  ExpectTextError(std::string(kMaxMultiaddrTextLength + 1, '/'), StatusCode::kOutOfRange,
                  std::to_string(kMaxMultiaddrTextLength + 1) + " characters");
  std::string many_ip6;
  while (many_ip6.size() < 70 * 7) many_ip6 += "/ip6/::";  // 7 characters of text, 17 bytes of binary.
  ExpectTextError(many_ip6, StatusCode::kOutOfRange, "exceeds the limit of 1024");
}

TEST(MultiaddrTest, LongestTextOfAnAcceptedBinaryStillParses) {
  // 512 two-byte /p2p-websocket-star codes: the binary form at its limit with the widest text per byte.
  Bytes bytes;
  for (size_t i = 0; i < kMaxMultiaddrLength / 2; ++i) {
    bytes.push_back(0xdf);
    bytes.push_back(0x03);
  }
  const StatusOr<Multiaddr> m = Multiaddr::FromBytes(bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string text = m->ToString();
  EXPECT_EQ(text.size(), 19 * kMaxMultiaddrLength / 2);
  EXPECT_LE(text.size(), kMaxMultiaddrTextLength);
  EXPECT_EQ(Parse(text), *m);
}

TEST(MultiaddrTest, EveryProtocolRepeatedToTheLengthLimitPrintsWithinTheTextLimit) {
  // One short component of each protocol: filling the binary limit with it must give text that parses.
  const std::vector<std::string> components = {
      "/ip4/255.255.255.255", "/tcp/65535", "/dccp/65535", "/ip6/1:2:3:4:5:6:7:8", "/ip6zone/a",
      "/ipcidr/255", "/dns/a", "/dns4/a", "/dns6/a", "/dnsaddr/a", "/sctp/65535", "/udp/65535",
      "/p2p-webrtc-star", "/p2p-webrtc-direct", "/p2p-stardust", "/webrtc-direct", "/webrtc", "/p2p-circuit",
      "/udt", "/utp", "/p2p/" + std::string(kEd25519Peer), "/https", "/onion/timaq4ygg2iegci7:65535",
      "/onion3/" + std::string(kOnion3), "/garlic64/" + std::string(kGarlic64),
      "/garlic32/" + std::string(kGarlic32), "/tls", "/sni/a", "/noise", "/quic", "/quic-v1", "/webtransport",
      "/certhash/uAAA", "/ws", "/wss", "/p2p-websocket-star", "/http", "/http-path/%00",
      "/memory/18446744073709551615", "/plaintextv2"};
  for (const std::string& component : components) {
    const Multiaddr one = Parse(component);
    Multiaddr filled;
    while (filled.bytes().size() + one.bytes().size() <= kMaxMultiaddrLength) filled = filled.Encapsulate(one);
    const std::string text = filled.ToString();
    EXPECT_LE(text.size(), kMaxMultiaddrTextLength) << component;
    EXPECT_EQ(Parse(text), filled) << component;
  }
  // Unix paths only end an address: the widest is a path of one character, "/unix/a" for 5 bytes.
  Bytes longest_unix = {0x90, 0x03, 0xfc, 0x07, '/'};  // A path of 1020 bytes fills the limit.
  longest_unix.resize(kMaxMultiaddrLength, 'a');
  const StatusOr<Multiaddr> unix_path = Multiaddr::FromBytes(longest_unix);
  ASSERT_TRUE(unix_path.ok()) << unix_path.status().ToString();
  EXPECT_EQ(Parse(unix_path->ToString()), *unix_path);
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

TEST(MultiaddrTest, BinaryErrorsOfTheNewerProtocols) {
  constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
  ExpectBinaryError({0xff, 0x7f}, kInvalid, "unknown protocol code 16383");
  ExpectBinaryError({0x98, 0x02, 0x00}, kInvalid, "at byte 2: unknown protocol code 0");
  ExpectBinaryError({0x2b}, kInvalid, "truncated ipcidr value: needs 1 bytes, 0 left");
  ExpectBinaryError({0x89, 0x06, 0, 0, 0, 0, 0, 0, 0}, kInvalid, "truncated memory value: needs 8 bytes, 7 left");
  ExpectBinaryError({0xd2, 0x03, 0x00}, kInvalid, "certhash: multihash: empty");
  ExpectBinaryError({0xd2, 0x03, 0x03, 0x12, 0x01, 0x00}, kInvalid,
                    "certhash: sha2-256 multihash digest must be 32 bytes, not 1");
  ExpectBinaryError({0xd2, 0x03, 0x05}, kInvalid, "certhash value length 5 exceeds the 0 bytes left");
  ExpectBinaryError({0xc1, 0x03, 0x03, 'a', '/', 'b'}, kInvalid, "sni: value \"a/b\" has a '/'");
  ExpectBinaryError({0xe1, 0x03, 0x00}, kInvalid, "http-path: empty value");
  ExpectBinaryError({0x90, 0x03, 0x00}, kInvalid, "unix: path \"\" does not start with '/'");
  ExpectBinaryError({0x90, 0x03, 0x03, 't', 'm', 'p'}, kInvalid, "unix: path \"tmp\" does not start with '/'");
  ExpectBinaryError({0x90, 0x03, 0x01, '/'}, kInvalid, "unix: empty path");
  ExpectBinaryError({0x90, 0x03, 0x03, '/', 'a', '/'}, kInvalid, "unix: path \"/a/\" ends in '/'");
  ExpectBinaryError({0x90, 0x03, 0x02, '/', 0xff}, kInvalid, "not valid UTF-8");
  // The text of a unix path runs to the end of the address, so nothing may follow it in binary.
  Bytes unix_then_tcp = Parse("/unix/tmp/sock").bytes();
  const Bytes tcp = Parse("/tcp/1").bytes();
  unix_then_tcp.insert(unix_then_tcp.end(), tcp.begin(), tcp.end());
  ExpectBinaryError(unix_then_tcp, kInvalid, "multiaddr at byte 0: a unix path must be the last component");
  Bytes tcp_unix_unix = tcp;
  for (int i = 0; i < 2; ++i) {
    const Bytes unix_path = Parse("/unix/a").bytes();
    tcp_unix_unix.insert(tcp_unix_unix.end(), unix_path.begin(), unix_path.end());
  }
  ExpectBinaryError(tcp_unix_unix, kInvalid, "multiaddr at byte 3: a unix path must be the last component");
  // Onion ports must not be 0.
  Bytes onion = FromHex("bc030010c0439831b48218480000");
  ExpectBinaryError(onion, kInvalid, "onion: port 0");
  ExpectBinaryError(FromHex("bc030010c0439831b482184800"), kInvalid,
                    "truncated onion value: needs 12 bytes, 11 left");
  Bytes onion3 = Parse("/onion3/" + std::string(kOnion3)).bytes();
  onion3[onion3.size() - 2] = 0;
  onion3[onion3.size() - 1] = 0;
  ExpectBinaryError(onion3, kInvalid, "onion3: port 0");
  // I2P: garlic32 is 32 bytes or at least 35; garlic64 at least 386.
  for (const size_t size : {0, 1, 31, 33, 34}) {
    Bytes garlic32 = {0xbf, 0x03, static_cast<uint8_t>(size)};
    garlic32.resize(garlic32.size() + size, 0x11);
    ExpectBinaryError(garlic32, kInvalid, "garlic32: I2P address of " + std::to_string(size) + " bytes");
  }
  Bytes garlic64 = {0xbe, 0x03, 0x81, 0x03};  // 385 bytes.
  garlic64.resize(garlic64.size() + 385, 0x22);
  ExpectBinaryError(garlic64, kInvalid, "garlic64: I2P destination of 385 bytes is shorter than 386");
}

TEST(MultiaddrTest, UnixPathIsTheRestOfTheAddress) {
  const Multiaddr m = Parse("/ip4/127.0.0.1/tcp/1/unix/run/p2p/sock/p2p/" + std::string(kQmPeer));
  const std::vector<Multiaddr::Component> components = m.Components();
  ASSERT_EQ(components.size(), 3u);
  EXPECT_EQ(components[2].code, multiaddr_protocol::kUnix);
  EXPECT_EQ(components[2].text, "/run/p2p/sock/p2p/" + std::string(kQmPeer));
  EXPECT_EQ(ToString(components[2].value), components[2].text);
  EXPECT_FALSE(m.PeerIdMultihash().has_value());  // "/p2p/..." is part of the path.
  EXPECT_EQ(m.WithoutPeerId(), m);
  // Encapsulating after a unix path builds bytes whose text reads as a longer path: FromBytes refuses them.
  const Multiaddr extended = Parse("/unix/a").Encapsulate(Parse("/tcp/1"));
  EXPECT_EQ(extended.ToString(), "/unix/a/tcp/1");
  EXPECT_FALSE(Multiaddr::FromBytes(extended.bytes()).ok());
  EXPECT_EQ(Parse(extended.ToString()).Components().size(), 1u);
}

TEST(MultiaddrTest, HttpPathEscapesEveryByteButUnreservedOnes) {
  // The examples of the multiaddr http-path spec: the value is the path without its leading '/'.
  const std::vector<std::pair<std::string, std::string>> spec = {
      {"user", "user"},
      {"api/v0/login", "api%2Fv0%2Flogin"},
      {"tmp/foo/../bar", "tmp%2Ffoo%2F..%2Fbar"},
      {"a%20space", "a%2520space"},
      {"a%2Fslash", "a%252Fslash"},
      {"a b+c", "a%20b%2Bc"},
  };
  for (const auto& [path, escaped] : spec) {
    const Multiaddr m = Parse("/http-path/" + escaped);
    ASSERT_EQ(m.Components().size(), 1u);
    EXPECT_EQ(ToString(m.Components()[0].value), path) << escaped;
    EXPECT_EQ(m.Components()[0].text, escaped);
    EXPECT_EQ(m.ToString(), "/http-path/" + escaped);
  }
  // Every byte value round-trips through the text form.
  Bytes all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<uint8_t>(b));
  Bytes binary = {0xe1, 0x03, 0x80, 0x02};  // http-path, length 256.
  binary.insert(binary.end(), all.begin(), all.end());
  const StatusOr<Multiaddr> m = Multiaddr::FromBytes(binary);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string text = m->ToString();
  EXPECT_EQ(text.size(), std::string("/http-path/").size() + 66 + 3 * (256 - 66));  // 66 unreserved bytes.
  EXPECT_EQ(Parse(text), *m);
  EXPECT_EQ(Parse(text).ToString(), text);
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

  const std::vector<Multiaddr::Component> webtransport =
      Parse("/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/" + std::string(kCertHash1) + "/memory/42")
          .Components();
  ASSERT_EQ(webtransport.size(), 6u);
  EXPECT_EQ(webtransport[4].code, multiaddr_protocol::kCertHash);
  EXPECT_EQ(webtransport[4].name, "certhash");
  EXPECT_EQ(HexEncode(webtransport[4].value), kCertHash1Hex);
  EXPECT_EQ(webtransport[4].text, kCertHash1);
  EXPECT_EQ(webtransport[5].code, multiaddr_protocol::kMemory);
  EXPECT_EQ(HexEncode(webtransport[5].value), "000000000000002a");
  EXPECT_EQ(webtransport[5].text, "42");
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
      "/webrtc-direct",
      "/webrtc",
      "/certhash/" + std::string(kCertHash1),
      "/certhash/uAAA",
      "/sni/example.com",
      "/noise",
      "/http",
      "/https",
      "/http-path/%2F%20a",
      "/dccp/1",
      "/sctp/2",
      "/ipcidr/0",
      "/memory/7",
      "/onion/timaq4ygg2iegci7:1",
      "/onion3/" + std::string(kOnion3),
      "/garlic32/" + std::string(kGarlic32),
      "/udt",
      "/utp",
      "/p2p-webrtc-star",
      "/p2p-webrtc-direct",
      "/p2p-websocket-star",
      "/p2p-stardust",
      "/plaintextv2",
  };
  // A unix path can only end an address.
  const std::vector<std::string> last_parts = {"", "", "/unix/a", "/unix/tmp/x.sock"};
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::string text;
    const size_t count = 1 + rng() % 8;
    for (size_t k = 0; k < count; ++k) text += parts[rng() % parts.size()];
    text += last_parts[rng() % last_parts.size()];
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
