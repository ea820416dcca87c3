// The geography of the simulated network: eight world regions with relative node weights, the one-way
// latency between any two of them, and the two classes of node (well-connected "super" nodes and ordinary
// "full" nodes) with their bandwidth. Pure data, no state: the simulator draws each node's region and class
// from these weights with its own seeded randomness.
//
// The numbers are those of the gossipsub interoperability tests' network model, libp2p/test-plans
// `gossipsub-interop/network_graph.py` (unchanged from its first version of 2025-07 to 2026-07). There they
// become a directed Shadow network graph whose edge latency is the delay Shadow adds to every packet that
// crosses the edge: the latencies are ONE-WAY (a round trip costs the sum of both directions). They satisfy
// the triangle inequality, so Shadow's shortest-path routing uses the direct edge and the table is the
// end-to-end one-way delay between two regions.
#ifndef TOOLS_SIM_REGIONS_H_
#define TOOLS_SIM_REGIONS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "libp2p/base/clock.h"

namespace libp2p::sim {

// A region where nodes live. `name` is a short lower-case identifier (as written in the simulator's CSV
// files); `weight` is the region's relative share of the nodes (positive; the shares need not sum to 1).
struct Region {
  std::string_view name;
  double weight;
};

inline constexpr int kRegionCount = 8;

// The regions, indexed by region id 0..kRegionCount-1 (the index is the id every other function takes).
// The array is static and lives for the whole program.
const std::array<Region, kRegionCount>& Regions();

// The id of the region called `name`, or -1 if there is none.
int FindRegion(std::string_view name);

// The one-way delay of a packet sent from a node in `from_region` to a node in `to_region` (the same region
// included: 2 to 7 ms). Between 2 ms and 220 ms. Symmetric except for one pair, as in the source: South
// Africa to South America is 190 ms and the reverse 195 ms. An id outside 0..kRegionCount-1 is a programming
// error: asserted, and zero is returned in a build without assertions.
Duration OneWayLatency(int from_region, int to_region);

// How a simulation splits over threads by region (see MemoryNetwork's Sharding): each region's nodes go to
// one shard, so that the latency between any two shards, the lookahead (how far apart their clocks may
// run), is long, and the shards hold about as many nodes each.
struct RegionShards {
  std::array<size_t, kRegionCount> shard_of_region{};
  // The least latency between regions with nodes in different shards; 1 s when no two such regions exist.
  Duration lookahead{};
};

// Splits the regions, holding `nodes_per_region` nodes, over `shards` shards (1 to 4; asserted). Among the
// assignments whose largest shard holds at most a tenth more than an even share (or, when none does, those
// whose largest shard is smallest), the one with the longest lookahead; ties go to the first in the order
// the assignments are counted (region 0's shard varying slowest).
RegionShards ShardRegions(const std::array<size_t, kRegionCount>& nodes_per_region, size_t shards);

// Maps a uniform draw `u` in [0, 1) to a region id with probability proportional to the regions' weights.
// A `u` outside [0, 1) is clamped.
int RegionForDraw(double u);

// A class of node: its link capacity (each direction, bytes per second) and the fraction of all nodes in
// the class. `name` is "super" or "full", as written in nodes.csv.
struct NodeClass {
  std::string_view name;
  int64_t upload_bytes_per_second;
  int64_t download_bytes_per_second;
  double fraction;
};

inline constexpr int kNodeClassCount = 2;
inline constexpr int kSuperNode = 0;  // 1,024 Mbit/s up and down; 20% of the nodes.
inline constexpr int kFullNode = 1;   // 50 Mbit/s up and down; 80% of the nodes.

// The node classes, indexed by kSuperNode and kFullNode. Fractions sum to 1. Static, lives for the program.
// A megabit is 10^6 bits (Shadow's "Mbit"), so 1,024 Mbit/s is 128,000,000 bytes/s.
const std::array<NodeClass, kNodeClassCount>& NodeClasses();

// Maps a uniform draw `u` in [0, 1) to kSuperNode (u < 0.2) or kFullNode. A `u` outside [0, 1) is clamped.
int NodeClassForDraw(double u);

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_REGIONS_H_
