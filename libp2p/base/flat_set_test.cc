#include "libp2p/base/flat_set.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

std::vector<std::string> Items(const FlatSet<std::string>& s) { return std::vector<std::string>(s.begin(), s.end()); }

TEST(FlatSetTest, KeepsEachElementOnceInSortedOrder) {
  FlatSet<std::string> s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.insert("b").second);
  EXPECT_TRUE(s.insert("c").second);
  EXPECT_TRUE(s.insert("a").second);
  const auto [at, added] = s.insert("b");
  EXPECT_FALSE(added);
  EXPECT_EQ(*at, "b");
  EXPECT_EQ(Items(s), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.size(), 3u);
}

TEST(FlatSetTest, FindsCountsAndErasesByValue) {
  FlatSet<std::string> s{"x", "a", "m", "a"};
  EXPECT_EQ(Items(s), (std::vector<std::string>{"a", "m", "x"}));
  EXPECT_EQ(s.count("m"), 1u);
  EXPECT_TRUE(s.contains("x"));
  EXPECT_EQ(s.find("b"), s.end());
  EXPECT_EQ(s.count("zz"), 0u);
  EXPECT_EQ(s.erase("m"), 1u);
  EXPECT_EQ(s.erase("m"), 0u);
  EXPECT_EQ(Items(s), (std::vector<std::string>{"a", "x"}));
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(FlatSetTest, EraseAtAPlaceReturnsThePlaceOfTheNextElement) {
  FlatSet<int> s{1, 2, 3, 4, 5, 6};
  for (auto it = s.begin(); it != s.end();) it = *it % 2 == 0 ? s.erase(it) : std::next(it);
  EXPECT_EQ(std::vector<int>(s.begin(), s.end()), (std::vector<int>{1, 3, 5}));
}

TEST(FlatSetTest, AgreesWithStdSetOverRandomChanges) {
  std::mt19937 rng(7);
  FlatSet<int> flat;
  std::set<int> reference;
  for (int step = 0; step < 5000; ++step) {
    const int v = static_cast<int>(rng() % 64);
    if (rng() % 3 == 0) {
      EXPECT_EQ(flat.erase(v), reference.erase(v));
    } else {
      EXPECT_EQ(flat.insert(v).second, reference.insert(v).second);
    }
    ASSERT_EQ(flat.size(), reference.size());
    EXPECT_EQ(flat.count(v), reference.count(v));
  }
  EXPECT_EQ(std::vector<int>(flat.begin(), flat.end()), std::vector<int>(reference.begin(), reference.end()));
}

TEST(FlatSetTest, OrdersByTheGivenComparison) {
  FlatSet<int, std::greater<int>> s{1, 3, 2};
  EXPECT_EQ(std::vector<int>(s.begin(), s.end()), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(s.count(2), 1u);
  EXPECT_EQ(FlatSet<int>({1, 2}), FlatSet<int>({2, 1}));
}

}  // namespace
}  // namespace libp2p
