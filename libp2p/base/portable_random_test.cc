#include "libp2p/base/portable_random.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Returns the given values in turn, counting the draws; past them, the maximum (which UniformIndex never
// rejects, so a short script cannot loop forever).
class ScriptedGenerator {
 public:
  using result_type = uint64_t;
  explicit ScriptedGenerator(std::vector<uint64_t> values) : values_(std::move(values)) {}
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return kMax; }
  uint64_t operator()() {
    const uint64_t v = draws_ < values_.size() ? values_[draws_] : kMax;
    ++draws_;
    return v;
  }
  size_t draws() const { return draws_; }

 private:
  std::vector<uint64_t> values_;
  size_t draws_ = 0;
};

TEST(PortableRandomTest, UniformIndexStaysBelowItsBound) {
  std::mt19937_64 rng(1);
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{1000}, (uint64_t{1} << 63) + 1, kMax}) {
    for (int i = 0; i < 1000; ++i) EXPECT_LT(UniformIndex(rng, n), n);
  }
}

TEST(PortableRandomTest, UniformIndexOfOneIsZero) {
  ScriptedGenerator rng({kMax, 12345});
  EXPECT_EQ(UniformIndex(rng, 1), 0u);
  EXPECT_EQ(rng.draws(), 1u);
}

TEST(PortableRandomTest, UniformIndexRejectsTheBiasedLowValues) {
  // n = 2^63 + 1: 2^64 mod n = 2^63 - 1, so draws below 2^63 - 1 are rejected.
  const uint64_t n = (uint64_t{1} << 63) + 1;
  ScriptedGenerator rng({0, (uint64_t{1} << 63) - 2, (uint64_t{1} << 63) - 1});
  EXPECT_EQ(UniformIndex(rng, n), (uint64_t{1} << 63) - 1);
  EXPECT_EQ(rng.draws(), 3u);
  // A draw at the top wraps around modulo n.
  ScriptedGenerator top({kMax});
  EXPECT_EQ(UniformIndex(top, n), kMax - n);
}

TEST(PortableRandomTest, UniformIndexGoldenValues) {
  // Fixed by the algorithm and by std::mt19937_64, which the standard specifies exactly: a change here
  // changes every seeded simulation.
  std::mt19937_64 rng(42);
  std::vector<uint64_t> got;
  for (int i = 0; i < 10; ++i) got.push_back(UniformIndex(rng, 10));
  EXPECT_EQ(got, (std::vector<uint64_t>{6, 4, 0, 2, 1, 8, 6, 4, 0, 7}));
  std::mt19937_64 big(42);
  EXPECT_EQ(UniformIndex(big, (uint64_t{1} << 63) + 1), 4706788815403344597u);
  EXPECT_EQ(UniformIndex(big, (uint64_t{1} << 63) + 1), 2564676540648719015u);
}

TEST(PortableRandomTest, UniformReal01UsesTheHigh53Bits) {
  ScriptedGenerator rng({0, kMax, uint64_t{1} << 11, (uint64_t{1} << 11) - 1});
  EXPECT_EQ(UniformReal01(rng), 0.0);
  EXPECT_EQ(UniformReal01(rng), 1.0 - 0x1.0p-53);
  EXPECT_EQ(UniformReal01(rng), 0x1.0p-53);
  EXPECT_EQ(UniformReal01(rng), 0.0);  // The low 11 bits are dropped.
}

TEST(PortableRandomTest, UniformReal01GoldenValues) {
  std::mt19937_64 rng(42);
  EXPECT_EQ(UniformReal01(rng), 0x1.82a3befaddcbcp-1);
  EXPECT_EQ(UniformReal01(rng), 0x1.472f1f73724a0p-1);
  EXPECT_EQ(UniformReal01(rng), 0x1.81192cfe1cbcfp-1);
}

TEST(PortableRandomTest, ShuffleIsAPermutation) {
  std::mt19937_64 rng(3);
  for (size_t size : {2, 3, 10, 257}) {
    std::vector<int> v(size);
    std::iota(v.begin(), v.end(), 0);
    Shuffle(rng, &v);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> identity(size);
    std::iota(identity.begin(), identity.end(), 0);
    EXPECT_EQ(sorted, identity);
  }
}

TEST(PortableRandomTest, ShuffleGoldenOrder) {
  std::mt19937_64 rng(7);
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  Shuffle(rng, &v);
  EXPECT_EQ(v, (std::vector<int>{0, 7, 4, 9, 3, 1, 2, 8, 6, 5}));
}

TEST(PortableRandomTest, ShuffleDrawsOncePerElementButTheFirst) {
  ScriptedGenerator none({});
  std::vector<int> empty, one{1};
  Shuffle(none, &empty);
  Shuffle(none, &one);
  EXPECT_EQ(none.draws(), 0u);
  EXPECT_EQ(one, std::vector<int>{1});
  // Draws that give index 0 each time (UniformIndex(3) rejects 0 as 2^64 mod 3 = 1; 3 is accepted).
  ScriptedGenerator rng({0, 3, 0});
  std::vector<int> v{1, 2, 3, 4};
  Shuffle(rng, &v);  // Each element in turn, from the last, swaps with the first.
  EXPECT_EQ(rng.draws(), 3u);
  EXPECT_EQ(v, (std::vector<int>{2, 3, 4, 1}));
}

}  // namespace
}  // namespace libp2p
