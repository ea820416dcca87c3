#include "tools/sim/regions.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace libp2p::sim {
namespace {

using std::chrono::milliseconds;

int Ms(int from, int to) {
  return static_cast<int>(std::chrono::duration_cast<milliseconds>(OneWayLatency(from, to)).count());
}

TEST(RegionsTest, EightNamedRegionsWithPositiveWeights) {
  std::set<std::string_view> names;
  for (const Region& r : Regions()) {
    EXPECT_FALSE(r.name.empty());
    EXPECT_GT(r.weight, 0) << r.name;
    names.insert(r.name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kRegionCount));
  EXPECT_EQ(FindRegion("europe"), 1);
  EXPECT_EQ(FindRegion("south_america"), 7);
  EXPECT_EQ(FindRegion("mars"), -1);
}

TEST(RegionsTest, LatenciesLieBetweenTwoAndTwoHundredTwentyMs) {
  int lo = 1 << 30, hi = 0;
  for (int i = 0; i < kRegionCount; ++i) {
    for (int j = 0; j < kRegionCount; ++j) {
      lo = std::min(lo, Ms(i, j));
      hi = std::max(hi, Ms(i, j));
    }
  }
  EXPECT_EQ(lo, 2);
  EXPECT_EQ(hi, 220);
  EXPECT_EQ(Ms(FindRegion("australia"), FindRegion("south_africa")), 220);
  EXPECT_EQ(Ms(FindRegion("europe"), FindRegion("na_east")), 70);
}

TEST(RegionsTest, SymmetricExceptSouthAfricaAndSouthAmerica) {
  const int saf = FindRegion("south_africa");
  const int sam = FindRegion("south_america");
  for (int i = 0; i < kRegionCount; ++i) {
    for (int j = 0; j < kRegionCount; ++j) {
      if ((i == saf && j == sam) || (i == sam && j == saf)) continue;
      EXPECT_EQ(Ms(i, j), Ms(j, i)) << Regions()[i].name << " / " << Regions()[j].name;
    }
  }
  // The one asymmetry of the source, kept as given.
  EXPECT_EQ(Ms(saf, sam), 190);
  EXPECT_EQ(Ms(sam, saf), 195);
}

TEST(RegionsTest, StayingInTheRegionIsFastestInBothDirections) {
  for (int i = 0; i < kRegionCount; ++i) {
    for (int j = 0; j < kRegionCount; ++j) {
      if (i == j) continue;
      EXPECT_LT(Ms(i, i), Ms(i, j)) << Regions()[i].name << " -> " << Regions()[j].name;
      EXPECT_LT(Ms(j, j), Ms(i, j)) << Regions()[i].name << " -> " << Regions()[j].name;
    }
  }
}

// Shadow routes along shortest paths; when the triangle inequality holds the direct latency is the path's.
TEST(RegionsTest, NoDetourIsShorterThanTheDirectPath) {
  for (int i = 0; i < kRegionCount; ++i) {
    for (int j = 0; j < kRegionCount; ++j) {
      for (int k = 0; k < kRegionCount; ++k) {
        EXPECT_LE(Ms(i, j), Ms(i, k) + Ms(k, j)) << i << "->" << j << " via " << k;
      }
    }
  }
}

TEST(RegionsTest, DrawsFollowTheWeights) {
  double total = 0;
  for (const Region& r : Regions()) total += r.weight;
  // Walk the unit interval on a fine grid: each region's share of it is its weight's share.
  constexpr int kSteps = 1'000'000;
  int counts[kRegionCount] = {};
  for (int s = 0; s < kSteps; ++s) ++counts[RegionForDraw((s + 0.5) / kSteps)];
  for (int i = 0; i < kRegionCount; ++i) {
    EXPECT_NEAR(counts[i] / static_cast<double>(kSteps), Regions()[i].weight / total, 2.0 / kSteps)
        << Regions()[i].name;
  }
  EXPECT_EQ(RegionForDraw(0.0), 0);
  EXPECT_EQ(RegionForDraw(-1.0), 0);
  EXPECT_EQ(RegionForDraw(1.0), kRegionCount - 1);
  EXPECT_EQ(RegionForDraw(0.999999999), kRegionCount - 1);
}

TEST(NodeClassesTest, SuperAndFullNodes) {
  const auto& classes = NodeClasses();
  EXPECT_EQ(classes[kSuperNode].name, "super");
  EXPECT_EQ(classes[kFullNode].name, "full");
  EXPECT_EQ(classes[kSuperNode].upload_bytes_per_second, 128'000'000);
  EXPECT_EQ(classes[kSuperNode].download_bytes_per_second, 128'000'000);
  EXPECT_EQ(classes[kFullNode].upload_bytes_per_second, 6'250'000);
  EXPECT_EQ(classes[kFullNode].download_bytes_per_second, 6'250'000);
  EXPECT_DOUBLE_EQ(classes[kSuperNode].fraction + classes[kFullNode].fraction, 1.0);
  EXPECT_EQ(NodeClassForDraw(0.0), kSuperNode);
  EXPECT_EQ(NodeClassForDraw(0.1999), kSuperNode);
  EXPECT_EQ(NodeClassForDraw(0.2), kFullNode);
  EXPECT_EQ(NodeClassForDraw(0.9999), kFullNode);
}

// The node counts of regions in kRegions' order: australia, europe, east_asia, west_asia, na_east, na_west,
// south_africa, south_america.
TEST(ShardRegionsTest, TwoShardsSplitEuropeFromNorthAmericaForASeventyMillisecondLookahead) {
  const std::array<size_t, kRegionCount> nodes = {26, 494, 94, 14, 255, 110, 4, 3};  // 1,000 by weight.
  const RegionShards split = ShardRegions(nodes, 2);
  EXPECT_EQ(split.lookahead, std::chrono::milliseconds(70));
  std::array<size_t, 2> load{};
  for (int r = 0; r < kRegionCount; ++r) load[split.shard_of_region[r]] += nodes[r];
  EXPECT_LE(std::max(load[0], load[1]), 550u);
  EXPECT_NE(split.shard_of_region[1], split.shard_of_region[4]);  // Europe and North America East.
}

TEST(ShardRegionsTest, OneShardHoldsEverything) {
  const RegionShards split = ShardRegions({1, 2, 3, 4, 5, 6, 7, 8}, 1);
  for (size_t shard : split.shard_of_region) EXPECT_EQ(shard, 0u);
  EXPECT_EQ(split.lookahead, std::chrono::seconds(1));  // No other shard to wait for.
}

TEST(ShardRegionsTest, WhenNoSplitIsEvenTheLargestShardIsAsSmallAsPossible) {
  // One region holds most nodes: it gets a shard, the rest the other.
  const RegionShards split = ShardRegions({0, 900, 0, 0, 50, 50, 0, 0}, 2);
  EXPECT_NE(split.shard_of_region[1], split.shard_of_region[4]);
  EXPECT_EQ(split.shard_of_region[4], split.shard_of_region[5]);
  EXPECT_EQ(split.lookahead, std::chrono::milliseconds(70));
  // Every node in one region: no split helps, and no shard waits for another.
  EXPECT_EQ(ShardRegions({0, 10, 0, 0, 0, 0, 0, 0}, 3).lookahead, std::chrono::seconds(1));
}

}  // namespace
}  // namespace libp2p::sim
