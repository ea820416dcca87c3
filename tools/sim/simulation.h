// Runs a plan: builds the network (the regions' latency, each node's access link, optional jitter) and one
// SimNode per script on a virtual-time loop (one per shard), advances time to the plan's end sampling the meshes every
// simulated second, and writes the results (results.h).
#ifndef TOOLS_SIM_SIMULATION_H_
#define TOOLS_SIM_SIMULATION_H_

#include <cstdint>
#include <functional>
#include <string>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "tools/sim/plan.h"
#include "tools/sim/results.h"
#include "tools/sim/sim_node.h"

namespace libp2p::sim {

struct SimulationOptions {
  // Every random draw: the routers', the jitter's, and the stack's own (Noise keys, hash keys), through a
  // ScopedDeterministicRandom on the calling thread for the run.
  uint64_t seed = 1;
  Duration jitter{};         // Added to each delivery: a uniform draw from [0, jitter].
  CpuModel cpu{Duration::zero(), 0.5};  // Decryption at 2 GB/s.
  // Noise seals transport messages with the network's size-preserving null cipher, and agrees on keys with
  // its stand-in for X25519 (LinkModel::null_cipher), rather than ChaCha20-Poly1305 and X25519: the same
  // results, less CPU (the CPU model charges decryption already).
  bool null_cipher = true;
  // Threads: the nodes split by region into this many shards (1 to 4), each on a thread of its own
  // (MemoryNetwork's Sharding; regions.h's ShardRegions). A run is deterministic for a given count, whatever
  // the threads' timing, but its results differ from one count to another (draws come from one random
  // source per shard, and a dial takes a round trip).
  size_t shards = 1;
  // Called every 10 simulated seconds with the simulated time so far (progress reports); may be empty.
  std::function<void(Duration simulated)> progress;
};

// What the run cost: wall time to build the nodes and to run, and the process's peak RSS so far.
struct SimulationCost {
  double setup_seconds = 0;
  double run_seconds = 0;
  double peak_rss_mib = 0;
};

// Runs `plan` and writes its CSV files into `out_dir` (which must exist). Fails when a node cannot start or
// a file cannot be written.
StatusOr<Summary> Simulate(const Plan& plan, const SimulationOptions& options, const std::string& out_dir,
                           SimulationCost* cost = nullptr);

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_SIMULATION_H_
