#include "libp2p/stream/access_list.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"

namespace libp2p::stream {
namespace {

using crypto::PeerId;

PeerId PeerOf(uint8_t n) {
  Bytes seed(32, n);
  return PeerId::FromPublicKey(crypto::Ed25519PrivateKey::FromSeed(seed)->public_key());
}
Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }
IpRange R(const std::string& text) { return *IpRange::Parse(text); }

TEST(IpRangeTest, ParsesCidrAndBareAddresses) {
  EXPECT_EQ(R("10.1.2.3/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(R("192.168.1.7").ToString(), "192.168.1.7/32");
  EXPECT_EQ(R("0.0.0.0/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(R("2001:db8::1/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(R("::1").ToString(), "::1/128");
  EXPECT_EQ(R("10.0.0.0/9").ToString(), "10.0.0.0/9");
  EXPECT_EQ(R("10.255.0.0/9").ToString(), "10.128.0.0/9");
  // An IPv4-mapped IPv6 range is the IPv4 range.
  EXPECT_EQ(R("::ffff:10.0.0.0/104"), R("10.0.0.0/8"));
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8",
                          "2001:db8::/129", "example.com/8", "10.0.0.0/0008", "10.0.0.0 /8", "1.2.3.4/+8",
                          "10.0.0.0/-0", "10.0.0.0/-00"}) {
    StatusOr<IpRange> r = IpRange::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(IpRange::Parse(std::string_view("10.0.0.1\0garbage", 16)).ok());
}

TEST(IpRangeTest, ContainsMatchesTheLeadingIpOnly) {
  EXPECT_TRUE(R("127.0.0.0/8").Contains(M("/ip4/127.0.0.9/tcp/4001")));
  EXPECT_FALSE(R("127.0.0.0/8").Contains(M("/ip4/128.0.0.1/tcp/4001")));
  EXPECT_TRUE(R("10.128.0.0/9").Contains(M("/ip4/10.200.0.1")));
  EXPECT_FALSE(R("10.128.0.0/9").Contains(M("/ip4/10.100.0.1")));
  EXPECT_TRUE(R("0.0.0.0/0").Contains(M("/ip4/1.2.3.4/tcp/1")));
  EXPECT_TRUE(R("127.0.0.2").Contains(M("/ip4/127.0.0.2/tcp/1")));
  EXPECT_FALSE(R("127.0.0.2").Contains(M("/ip4/127.0.0.3/tcp/1")));
  // IPv6, with a zone, and IPv4 mapped into IPv6.
  EXPECT_TRUE(R("fe80::/10").Contains(M("/ip6zone/eth0/ip6/fe80::1/tcp/1")));
  EXPECT_TRUE(R("2001:db8::/32").Contains(M("/ip6/2001:db8:5::1/tcp/1")));
  EXPECT_FALSE(R("2001:db8::/32").Contains(M("/ip6/2001:db9::1/tcp/1")));
  EXPECT_TRUE(R("10.0.0.0/8").Contains(M("/ip6/::ffff:10.1.1.1/tcp/1")));
  EXPECT_FALSE(R("::/0").Contains(M("/ip4/10.1.1.1/tcp/1")));
  // No IP: never in a range.
  EXPECT_FALSE(R("0.0.0.0/0").Contains(M("/dns4/example.com/tcp/1")));
  EXPECT_FALSE(R("0.0.0.0/0").Contains(M("/memory/7")));
  EXPECT_FALSE(R("0.0.0.0/0").Contains(Multiaddr()));
}

TEST(AccessListTest, EmptyListAdmitsEveryone) {
  AccessList list;
  EXPECT_TRUE(list.CheckPeer(PeerOf(1)).ok());
  EXPECT_TRUE(list.CheckAddress(M("/ip4/1.2.3.4/tcp/1")).ok());
  EXPECT_TRUE(list.InterceptAccept(M("/ip4/127.0.0.1/tcp/1"), M("/ip4/1.2.3.4/tcp/1")).ok());
}

TEST(AccessListTest, DenyWinsOverAllow) {
  AccessList list;
  list.AllowPeer(PeerOf(1));
  list.DenyPeer(PeerOf(1));
  Status s = list.CheckPeer(PeerOf(1));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("denied"), std::string::npos) << s.message();
  list.AllowRange(R("10.0.0.0/8"));
  list.DenyRange(R("10.1.0.0/16"));
  EXPECT_TRUE(list.CheckAddress(M("/ip4/10.2.0.1/tcp/1")).ok());
  s = list.CheckAddress(M("/ip4/10.1.0.1/tcp/1"));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("10.1.0.0/16"), std::string::npos) << s.message();
}

TEST(AccessListTest, AnAllowlistAdmitsOnlyWhatItLists) {
  AccessList list;
  list.AllowPeer(PeerOf(1));
  EXPECT_TRUE(list.CheckPeer(PeerOf(1)).ok());
  Status s = list.CheckPeer(PeerOf(2));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("not on the allowlist"), std::string::npos) << s.message();
  // The peer allowlist says nothing about addresses, and the other way round.
  EXPECT_TRUE(list.CheckAddress(M("/ip4/1.2.3.4/tcp/1")).ok());
  list.AllowRange(R("127.0.0.2/32"));
  EXPECT_TRUE(list.CheckAddress(M("/ip4/127.0.0.2/tcp/1")).ok());
  EXPECT_EQ(list.CheckAddress(M("/ip4/127.0.0.1/tcp/1")).code(), StatusCode::kPermissionDenied);
  // An address without an IP is not judged by ranges: its resolved address is, after the handshake.
  EXPECT_TRUE(list.CheckAddress(M("/dns4/localhost/tcp/1")).ok());
}

TEST(AccessListTest, EachPointChecksWhatItKnows) {
  AccessList list;
  list.DenyPeer(PeerOf(2));
  list.DenyRange(R("127.0.0.3/32"));
  const Multiaddr local = M("/ip4/127.0.0.1/tcp/4001");
  EXPECT_FALSE(list.InterceptPeerDial(PeerOf(2)).ok());
  EXPECT_TRUE(list.InterceptPeerDial(PeerOf(1)).ok());
  EXPECT_FALSE(list.InterceptAddrDial(PeerOf(2), M("/ip4/127.0.0.1/tcp/1")).ok());
  EXPECT_FALSE(list.InterceptAddrDial(std::nullopt, M("/ip4/127.0.0.3/tcp/1")).ok());
  EXPECT_TRUE(list.InterceptAddrDial(std::nullopt, M("/ip4/127.0.0.1/tcp/1")).ok());
  EXPECT_FALSE(list.InterceptAccept(local, M("/ip4/127.0.0.3/tcp/5000")).ok());
  EXPECT_TRUE(list.InterceptAccept(local, M("/ip4/127.0.0.2/tcp/5000")).ok());
  for (bool inbound : {true, false}) {
    EXPECT_FALSE(list.InterceptSecured(inbound, PeerOf(2), local, M("/ip4/127.0.0.1/tcp/1")).ok());
    EXPECT_FALSE(list.InterceptSecured(inbound, PeerOf(1), local, M("/ip4/127.0.0.3/tcp/1")).ok());
    EXPECT_TRUE(list.InterceptSecured(inbound, PeerOf(1), local, M("/ip4/127.0.0.1/tcp/1")).ok());
  }
  EXPECT_TRUE(list.InterceptUpgraded(ConnectionInfo{1, PeerOf(2)}).ok());  // Nothing new to check there.
}

TEST(AccessListTest, ChangesApplyAtOnceAndRemovingUndoesThem) {
  AccessList list;
  list.DenyPeer(PeerOf(2));
  list.DenyRange(R("10.0.0.0/8"));
  list.DenyRange(R("10.0.0.0/8"));  // Once is enough.
  EXPECT_TRUE(list.IsDenied(PeerOf(2)));
  EXPECT_FALSE(list.CheckPeer(PeerOf(2)).ok());
  EXPECT_FALSE(list.CheckAddress(M("/ip4/10.0.0.1")).ok());
  list.RemoveDeniedPeer(PeerOf(2));
  list.RemoveDeniedRange(R("10.0.0.0/8"));
  EXPECT_FALSE(list.IsDenied(PeerOf(2)));
  EXPECT_TRUE(list.CheckPeer(PeerOf(2)).ok());
  EXPECT_TRUE(list.CheckAddress(M("/ip4/10.0.0.1")).ok());
  // Each list on its own: removing a denial leaves the allowlist alone.
  list.AllowPeer(PeerOf(1));
  list.DenyPeer(PeerOf(1));
  list.RemoveDeniedPeer(PeerOf(1));
  EXPECT_TRUE(list.CheckPeer(PeerOf(1)).ok());
  EXPECT_FALSE(list.CheckPeer(PeerOf(2)).ok());  // Not on the allowlist.
  list.RemoveAllowedPeer(PeerOf(1));
  EXPECT_TRUE(list.CheckPeer(PeerOf(2)).ok());  // The allowlist is empty again.
  list.AllowRange(R("10.0.0.0/8"));
  EXPECT_FALSE(list.CheckAddress(M("/ip4/11.0.0.1")).ok());
  list.RemoveAllowedRange(R("10.0.0.0/8"));
  EXPECT_TRUE(list.CheckAddress(M("/ip4/11.0.0.1")).ok());
}

}  // namespace
}  // namespace libp2p::stream
