#include "libp2p/stream/advertised_addresses.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p::stream {
namespace {

Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }

std::vector<std::string> Texts(const std::vector<Multiaddr>& addrs) {
  std::vector<std::string> out;
  for (const Multiaddr& a : addrs) out.push_back(a.ToString());
  return out;
}

TEST(AdvertisedAddressesTest, Scopes) {
  EXPECT_EQ(ScopeOf(M("/ip4/8.8.8.8/tcp/1")), AddressScope::kPublic);
  EXPECT_EQ(ScopeOf(M("/ip4/10.1.2.3/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/ip4/172.20.0.1/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/ip4/172.32.0.1/tcp/1")), AddressScope::kPublic);
  EXPECT_EQ(ScopeOf(M("/ip4/192.168.1.1/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/ip4/100.64.0.1/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/ip4/127.0.0.2/tcp/1")), AddressScope::kLoopback);
  EXPECT_EQ(ScopeOf(M("/ip4/169.254.3.4/tcp/1")), AddressScope::kLinkLocal);
  EXPECT_EQ(ScopeOf(M("/ip4/0.0.0.0/tcp/1")), AddressScope::kUnspecified);
  EXPECT_EQ(ScopeOf(M("/ip6/2001:db8::1/tcp/1")), AddressScope::kPublic);
  EXPECT_EQ(ScopeOf(M("/ip6/fd00::1/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/ip6/::1/tcp/1")), AddressScope::kLoopback);
  EXPECT_EQ(ScopeOf(M("/ip6/fe80::1/tcp/1")), AddressScope::kLinkLocal);
  EXPECT_EQ(ScopeOf(M("/ip6/::/tcp/1")), AddressScope::kUnspecified);
  EXPECT_EQ(ScopeOf(M("/ip6/::ffff:10.0.0.1/tcp/1")), AddressScope::kPrivate);
  EXPECT_EQ(ScopeOf(M("/dns4/example.com/tcp/1")), AddressScope::kPublic);
}

TEST(AdvertisedAddressesTest, WildcardsBecomeInterfaceAddressesRankedByUsefulness) {
  const std::vector<Multiaddr> interfaces = {M("/ip4/127.0.0.1"), M("/ip4/169.254.1.1"), M("/ip4/192.168.1.5"),
                                             M("/ip4/203.0.113.7"), M("/ip6/::1"), M("/ip6/fe80::5"),
                                             M("/ip6/2001:db8::7")};
  const auto out = AdvertisedAddresses({M("/ip4/0.0.0.0/tcp/4001"), M("/ip6/::/tcp/4002")}, interfaces);
  EXPECT_EQ(Texts(out), (std::vector<std::string>{
                            "/ip4/203.0.113.7/tcp/4001", "/ip6/2001:db8::7/tcp/4002", "/ip4/192.168.1.5/tcp/4001",
                            "/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/4002", "/ip4/169.254.1.1/tcp/4001"}));
}

TEST(AdvertisedAddressesTest, SpecificAddressesAreKeptAndDuplicatesDropped) {
  const auto out = AdvertisedAddresses(
      {M("/ip4/127.0.0.1/tcp/5"), M("/ip4/0.0.0.0/tcp/5"), M("/ip4/10.0.0.2/tcp/6")}, {M("/ip4/127.0.0.1")});
  EXPECT_EQ(Texts(out), (std::vector<std::string>{"/ip4/10.0.0.2/tcp/6", "/ip4/127.0.0.1/tcp/5"}));
}

TEST(AdvertisedAddressesTest, NoInterfacesMeansNoWildcard) {
  EXPECT_TRUE(AdvertisedAddresses({M("/ip4/0.0.0.0/tcp/5")}, {}).empty());
}

TEST(AdvertisedAddressesTest, TheSystemHasALoopbackInterface) {
  const auto interfaces = SystemInterfaceAddresses();
  EXPECT_NE(std::find(interfaces.begin(), interfaces.end(), M("/ip4/127.0.0.1")), interfaces.end());
}

}  // namespace
}  // namespace libp2p::stream
