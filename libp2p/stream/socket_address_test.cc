#include "libp2p/stream/socket_address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <string>

#include "gtest/gtest.h"

namespace libp2p::stream {
namespace {

constexpr char kPeer[] = "/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

StatusOr<SocketAddress> Convert(const std::string& text) {
  return TcpSocketAddress(*Multiaddr::FromString(text));
}

const sockaddr_in6& In6(const SocketAddress& a) { return *reinterpret_cast<const sockaddr_in6*>(&a.storage); }

TEST(SocketAddressTest, Ip4) {
  StatusOr<SocketAddress> a = Convert("/ip4/10.1.2.3/tcp/4001");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->family(), AF_INET);
  ASSERT_EQ(a->length, sizeof(sockaddr_in));
  const auto& sin = *reinterpret_cast<const sockaddr_in*>(&a->storage);
  EXPECT_EQ(ntohs(sin.sin_port), 4001);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0x0a010203u);
}

TEST(SocketAddressTest, Ip6WithPeerId) {
  StatusOr<SocketAddress> a = Convert(std::string("/ip6/2001:db8::1/tcp/443") + kPeer);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->family(), AF_INET6);
  ASSERT_EQ(a->length, sizeof(sockaddr_in6));
  EXPECT_EQ(ntohs(In6(*a).sin6_port), 443);
  EXPECT_EQ(In6(*a).sin6_scope_id, 0u);
  in6_addr expected;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &expected), 1);
  EXPECT_EQ(memcmp(&In6(*a).sin6_addr, &expected, sizeof(expected)), 0);
}

TEST(SocketAddressTest, Ip6ZoneByNameSetsTheScopeId) {
  const unsigned lo = if_nametoindex("lo");
  if (lo == 0) GTEST_SKIP() << "no interface named lo here";
  StatusOr<SocketAddress> a = Convert(std::string("/ip6zone/lo/ip6/fe80::1/tcp/4001") + kPeer);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(In6(*a).sin6_scope_id, lo);
  EXPECT_EQ(ntohs(In6(*a).sin6_port), 4001);
}

TEST(SocketAddressTest, Ip6ZoneByIndex) {
  StatusOr<SocketAddress> a = Convert("/ip6zone/7/ip6/fe80::1/tcp/1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(In6(*a).sin6_scope_id, 7u);
}

TEST(SocketAddressTest, UnknownZoneIsNotFound) {
  EXPECT_EQ(Convert("/ip6zone/no-such-if0/ip6/fe80::1/tcp/1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Convert("/ip6zone/0/ip6/fe80::1/tcp/1").status().code(), StatusCode::kNotFound);
}

TEST(SocketAddressTest, OtherShapesAreInvalid) {
  for (const char* text : {"/ip4/1.2.3.4", "/ip4/1.2.3.4/udp/1", "/dns4/example.com/tcp/1",
                           "/ip6zone/lo/ip4/1.2.3.4/tcp/1", "/ip6zone/lo/tcp/1", "/ip4/1.2.3.4/tcp/1/ws",
                           "/ip4/1.2.3.4/tcp/1/tcp/2", "/tcp/1/ip4/1.2.3.4"}) {
    EXPECT_EQ(Convert(text).status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(SocketAddressTest, BackToMultiaddrs) {
  std::vector<std::string> cases = {"/ip4/127.0.0.1/tcp/80", "/ip6/2001:db8::2/tcp/65535", "/ip6zone/4000000/ip6/fe80::9/tcp/1"};
  if (if_nametoindex("lo") != 0) cases.push_back("/ip6zone/lo/ip6/fe80::1/tcp/4001");
  for (const std::string& text : cases) {
    StatusOr<SocketAddress> a = Convert(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.status().ToString();
    EXPECT_EQ(TcpMultiaddr(a->get()).ToString(), text);
    EXPECT_EQ(IpMultiaddr(a->get()).ToString(), text.substr(0, text.rfind("/tcp/")));
  }
  sockaddr_storage unix_address{};
  unix_address.ss_family = AF_UNIX;
  EXPECT_TRUE(TcpMultiaddr(reinterpret_cast<const sockaddr*>(&unix_address)).empty());
  EXPECT_TRUE(IpMultiaddr(reinterpret_cast<const sockaddr*>(&unix_address)).empty());
}

}  // namespace
}  // namespace libp2p::stream
