#include "tools/sim/regions.h"

#include <algorithm>
#include <cassert>
#include <chrono>

namespace libp2p::sim {
namespace {

// Region order, weights, latencies and node classes: libp2p/test-plans gossipsub-interop/network_graph.py.
constexpr std::array<Region, kRegionCount> kRegions = {{
    {"australia", 290},
    {"europe", 5599},
    {"east_asia", 1059},
    {"west_asia", 161},
    {"na_east", 2894},
    {"na_west", 1240},
    {"south_africa", 47},
    {"south_america", 36},
}};

// One-way latency in milliseconds, row = sending region, column = receiving region, in kRegions' order.
// The source gives each direction separately; they agree everywhere except South Africa -> South America
// (190) and South America -> South Africa (195), kept as given.
constexpr int kLatencyMs[kRegionCount][kRegionCount] = {
    //  aus  eur  eas  was  nae  naw  saf  sam
    {2, 165, 110, 180, 150, 110, 220, 190},  // australia
    {165, 2, 125, 60, 70, 110, 95, 140},     // europe
    {110, 125, 4, 110, 140, 100, 175, 175},  // east_asia
    {180, 60, 110, 5, 110, 150, 110, 145},   // west_asia
    {150, 70, 140, 110, 2, 60, 130, 100},    // na_east
    {110, 110, 100, 150, 60, 2, 160, 100},   // na_west
    {220, 95, 175, 110, 130, 160, 7, 190},   // south_africa
    {190, 140, 175, 145, 100, 100, 195, 7},  // south_america
};

// 1 Mbit = 10^6 bits = 125,000 bytes.
constexpr int64_t kBytesPerSecondPerMbit = 125'000;

constexpr std::array<NodeClass, kNodeClassCount> kNodeClasses = {{
    {"super", 1024 * kBytesPerSecondPerMbit, 1024 * kBytesPerSecondPerMbit, 0.2},
    {"full", 50 * kBytesPerSecondPerMbit, 50 * kBytesPerSecondPerMbit, 0.8},
}};

double Clamp01(double u) { return std::clamp(u, 0.0, 1.0); }

}  // namespace

const std::array<Region, kRegionCount>& Regions() { return kRegions; }

int FindRegion(std::string_view name) {
  for (int i = 0; i < kRegionCount; ++i) {
    if (kRegions[i].name == name) return i;
  }
  return -1;
}

Duration OneWayLatency(int from_region, int to_region) {
  const bool valid = from_region >= 0 && from_region < kRegionCount && to_region >= 0 && to_region < kRegionCount;
  assert(valid && "region id out of range");
  if (!valid) return Duration::zero();
  return std::chrono::milliseconds(kLatencyMs[from_region][to_region]);
}

RegionShards ShardRegions(const std::array<size_t, kRegionCount>& nodes_per_region, size_t shards) {
  assert(shards >= 1 && shards <= 4);
  shards = std::clamp<size_t>(shards, 1, 4);
  constexpr Duration kNoNeighbour = std::chrono::seconds(1);
  size_t total = 0;
  for (size_t n : nodes_per_region) total += n;
  const size_t allowed = (total + shards - 1) / shards * 11 / 10;
  size_t assignments = 1;
  for (int r = 0; r < kRegionCount; ++r) assignments *= shards;
  RegionShards best;
  size_t best_largest = SIZE_MAX;
  bool found = false;
  for (size_t code = 0; code < assignments; ++code) {
    RegionShards candidate;
    size_t rest = code;
    for (int r = kRegionCount - 1; r >= 0; --r) {
      candidate.shard_of_region[r] = rest % shards;
      rest /= shards;
    }
    std::array<size_t, 4> load{};
    for (int r = 0; r < kRegionCount; ++r) load[candidate.shard_of_region[r]] += nodes_per_region[r];
    const size_t largest = *std::max_element(load.begin(), load.end());
    candidate.lookahead = kNoNeighbour;
    for (int a = 0; a < kRegionCount; ++a) {
      for (int b = 0; b < kRegionCount; ++b) {
        if (nodes_per_region[a] > 0 && nodes_per_region[b] > 0 &&
            candidate.shard_of_region[a] != candidate.shard_of_region[b]) {
          candidate.lookahead = std::min(candidate.lookahead, OneWayLatency(a, b));
        }
      }
    }
    // Balanced enough beats unbalanced; then a longer lookahead; among the unbalanced, a smaller largest shard.
    const bool balanced = largest <= allowed;
    const bool better = !found ||
                        (balanced ? best_largest > allowed || candidate.lookahead > best.lookahead
                                  : best_largest > allowed &&
                                        (largest < best_largest ||
                                         (largest == best_largest && candidate.lookahead > best.lookahead)));
    if (better) {
      best = candidate;
      best_largest = largest;
      found = true;
    }
  }
  return best;
}

int RegionForDraw(double u) {
  double total = 0;
  for (const Region& r : kRegions) total += r.weight;
  // Walk the cumulative weights; the last region takes whatever rounding leaves at the top end.
  const double target = Clamp01(u) * total;
  double cumulative = 0;
  for (int i = 0; i < kRegionCount; ++i) {
    cumulative += kRegions[i].weight;
    if (target < cumulative) return i;
  }
  return kRegionCount - 1;
}

const std::array<NodeClass, kNodeClassCount>& NodeClasses() { return kNodeClasses; }

int NodeClassForDraw(double u) { return Clamp01(u) < kNodeClasses[kSuperNode].fraction ? kSuperNode : kFullNode; }

}  // namespace libp2p::sim
