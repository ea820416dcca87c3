#include "libp2p/base/seeded_hash.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/random.h"

namespace libp2p {
namespace {

TEST(SeededHashTest, SipHashKnownAnswer) {
  // The reference vector of the SipHash paper: key 00 01 .. 0f, message 00 01 .. 0e, SipHash-2-4 output
  // 0xa129ca6149be45e5.
  const SeededHash h(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull);
  Bytes msg;
  for (uint8_t i = 0; i < 15; ++i) msg.push_back(i);
  EXPECT_EQ(h(ByteSpan(msg)), 0xa129ca6149be45e5ull);
}

TEST(SeededHashTest, KeyChangesTheHash) {
  const SeededHash a(1, 2), b(3, 4);
  EXPECT_NE(a("message-id"), b("message-id"));
  EXPECT_EQ(a("message-id"), a("message-id"));
}

TEST(SeededHashTest, RandomKeysDiffer) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 16; ++i) seen.insert(SeededHash::Random()("x"));
  EXPECT_GT(seen.size(), 14u);
}

TEST(SeededHashTest, RandomKeyFollowsTheDeterministicSeed) {
  auto hash_under = [](uint64_t seed) {
    ScopedDeterministicRandom scope(seed);
    return SeededHash::Random()("x");
  };
  EXPECT_EQ(hash_under(11), hash_under(11));
  EXPECT_NE(hash_under(11), hash_under(12));
}

}  // namespace
}  // namespace libp2p
