#include "libp2p/base/random.h"

#include <thread>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

Bytes Draw(size_t n) {
  Bytes out(n);
  RandomBytes(MutableByteSpan(out));
  return out;
}

TEST(RandomTest, SeedZeroIsTheChaCha20KeystreamOfTheZeroKey) {
  // RFC 8439, A.1, test vectors #1 and #2: the keystream of the all-zero key and nonce, blocks 0 and 1.
  ScopedDeterministicRandom scope(0);
  EXPECT_EQ(HexEncode(Draw(64)),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
  EXPECT_EQ(HexEncode(Draw(8)), "9f07e7be5551387a");
}

TEST(RandomTest, SeedIsTheKeyInLittleEndian) {
  ScopedDeterministicRandom scope(42);
  EXPECT_EQ(HexEncode(Draw(16)), "1f76e526510ae36a625c8b5c597febb4");
  EXPECT_EQ(RandomU64(), 0xb389b53dce2c0416u);  // The next eight bytes, little-endian.
}

TEST(RandomTest, SameSeedSameBytesDifferentSeedsDiffer) {
  Bytes a, b, c;
  {
    ScopedDeterministicRandom scope(7);
    a = Draw(200);
  }
  {
    ScopedDeterministicRandom scope(7);
    b = Draw(200);
  }
  {
    ScopedDeterministicRandom scope(8);
    c = Draw(200);
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(RandomTest, DrawsOfAnySizeReadOneStream) {
  Bytes whole, pieces;
  {
    ScopedDeterministicRandom scope(3);
    whole = Draw(300);
  }
  {
    ScopedDeterministicRandom scope(3);
    for (size_t n : {1, 0, 63, 64, 1, 100, 71}) {
      const Bytes piece = Draw(n);
      pieces.insert(pieces.end(), piece.begin(), piece.end());
    }
  }
  EXPECT_EQ(whole, pieces);
}

TEST(RandomTest, NestedScopeRestoresTheOuterOne) {
  Bytes expected;
  {
    ScopedDeterministicRandom scope(1);
    expected = Draw(40);
  }
  Bytes outer, inner, inner_alone;
  {
    ScopedDeterministicRandom scope(2);
    inner_alone = Draw(10);
  }
  {
    ScopedDeterministicRandom outer_scope(1);
    outer = Draw(20);
    {
      ScopedDeterministicRandom inner_scope(2);
      inner = Draw(10);
    }
    const Bytes rest = Draw(20);  // Where the outer stream left off.
    outer.insert(outer.end(), rest.begin(), rest.end());
  }
  EXPECT_EQ(outer, expected);
  EXPECT_EQ(inner, inner_alone);
}

TEST(RandomTest, WithoutAScopeBytesAreNotTheSeededOnes) {
  Bytes seeded;
  {
    ScopedDeterministicRandom scope(5);
    seeded = Draw(32);
  }
  const Bytes a = Draw(32), b = Draw(32);
  EXPECT_NE(a, seeded);
  EXPECT_NE(a, b);
}

TEST(RandomTest, OtherThreadsKeepTheSystemSource) {
  Bytes expected;
  {
    ScopedDeterministicRandom scope(9);
    expected = Draw(64);
  }
  ScopedDeterministicRandom scope(9);
  Bytes other_a, other_b;
  std::thread worker([&] {
    other_a = Draw(32);
    other_b = Draw(32);
  });
  worker.join();
  EXPECT_NE(other_a, other_b);
  EXPECT_NE(other_a, Bytes(expected.begin(), expected.begin() + 32));
  // The worker's draws took nothing from this thread's stream.
  EXPECT_EQ(Draw(64), expected);
}

}  // namespace
}  // namespace libp2p
