// What a simulation runs: every node's instruction script (the gossipsub-interop contract's steps:
// connect, subscribe, publish, waitUntil, setTopicValidationDelay), where each node sits in the network,
// and how long the run lasts. Plans come from a params.json document or from a generator; either way the
// same seed gives the same plan.
#ifndef TOOLS_SIM_PLAN_H_
#define TOOLS_SIM_PLAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "tools/node/interop_script.h"

namespace libp2p::sim {

// Where a node sits: its region (an index into the region table) and its access link.
struct Placement {
  int region = 0;
  bool super = false;  // A supernode (fast link) rather than a full node.
};

// A stretch of time a node is away (churn): at `leave` (from the start instant) it stops as a process would,
// every connection closing; at `back` it starts again with the same identity, sets its validators,
// subscribes to its topics again and dials `redial`.
struct Outage {
  Duration leave{};
  Duration back{};
  std::vector<uint64_t> redial;
};

struct Plan {
  std::string name;
  std::vector<node::InteropScript> scripts;  // Node n runs scripts[n].
  std::vector<Placement> placements;         // One per node.
  // The host each node runs on: node n has host hosts[n]'s address (HostAddress) and its placement, sharing
  // them with the other nodes on that host. Empty: every node on a host of its own (host n).
  std::vector<size_t> hosts;
  // Nodes that attack (see CensorAttack); empty: none. Attackers are left out of the deliveries checked.
  // They behave honestly until attack_from (from the start instant), then censor.
  std::vector<bool> attackers;
  Duration attack_from{};
  // Nodes an attack aims at (an eclipse's target): their deliveries are also summed up on their own.
  std::vector<size_t> victims;
  // Per node, its outages in time order; empty: every node stays for the whole run. A node is expected to
  // receive a message only if it is online from `settle` before its publish until max_latency after it.
  std::vector<std::vector<Outage>> outages;
  Duration settle{};
  Duration duration{};                       // Simulated time from the start instant to the end of the run.
  // Messages published before this instant are warm-up, and those published less than max_latency before
  // the end have no time to arrive: both are left out of the checks (they are still in the CSVs).
  Duration measure_from{};
  // Bounds the run is checked against (CheckResults): every measured message reaches every subscriber
  // of its topic but its publisher, each within `max_latency` of its publish.
  Duration max_latency{};
};

// Whether node `n` of `plan` is online (no outage) for the whole of [from, to] (instants from the start).
bool OnlineThroughout(const Plan& plan, size_t n, Duration from, Duration to);

// The host of node `n` in `plan` (Plan::hosts).
inline size_t HostOf(const Plan& plan, size_t n) { return plan.hosts.empty() ? n : plan.hosts[n]; }

// The generators' knobs. Not every generator reads every field.
struct PlanOptions {
  size_t nodes = 100;
  uint64_t seed = 1;
  Duration duration = std::chrono::minutes(2);
  // Links: each node dials this many random others (so about twice this many links per node).
  size_t dials_per_node = 10;
  double super_fraction = 0.2;
};

// Ethereum-like: a 131,072-byte block every 12 s from a random proposer on "beacon_block", which every node
// subscribes to; 300-byte attestation-like messages at 100/s network-wide from random members of 64
// "beacon_attestation_<i>" subnets (each node subscribes to 2, and dials up to 3 members of each, the one
// before it in the subnet among them, as subnet discovery would: every subnet is connected); 5 ms of
// validation per message; a 20 s warm-up.
Plan EthereumPlan(const PlanOptions& options);

// test-plans' subnet-blob-msg: every node subscribes to "a-subnet" with a 5 ms validation delay; after a
// 30 s warm-up, 16 messages of 98,304 bytes from random nodes, one every 12 s (the first 4 are warm-up).
Plan BlobPlan(const PlanOptions& options);

// Censorship attacks in the manner of the GossipSub v1.1 evaluation: `options.nodes` honest nodes on one
// topic, "t", with peer scoring on (P1 to P4, thresholds at go's scale), each dialing dials_per_node random
// honest nodes; in the attacks, four Sybils per honest node join, each dialing 10 honest nodes. A censoring
// Sybil subscribes and keeps its mesh places but never forwards a message, answers an IWANT or gossips an
// IHAVE. From 30 s the honest nodes publish 10 messages of 1,024 bytes per second between them.
enum class CensorMode {
  kBaseline,     // The same honest network, no Sybils.
  kColdBoot,     // The Sybils censor from the start: no one has a record yet.
  kCovertFlash,  // The Sybils behave for 60 s, earning good scores and mesh places, then all censor at once.
  kColocated,    // As kColdBoot, with the Sybils on one address per 50 of them, and P6 (go's defaults) on.
  // The Sybils are the honest nodes' first peers: they dial at once, and the honest nodes dial each other
  // only from 5 s, when the first heartbeats have built meshes of Sybils alone.
  kAtDawn,
  // Every Sybil dials one target, node 0 (the plan's victim), over the first 5 s, and no one else; the
  // victim's discovery is poisoned: of its own dials, two go to honest nodes and the rest to Sybils.
  kEclipse,
};
Plan CensorAttack(const PlanOptions& options, CensorMode mode);

// Churn: `options.nodes` nodes on topic "t" as in the censorship baseline (scoring on, 10 messages of 1,024
// bytes a second from 30 s). From 20 s, every second one random online node per 100 (at least one) leaves and
// comes back 5 to 30 s later, dialing up to dials_per_node random nodes that stay online for its first 10 s
// back (and it stays those 10 s). Publishers are nodes
// online at the time; a message is checked at the nodes online from 5 s before it.
Plan ChurnPlan(const PlanOptions& options);

// The scripts of a params.json document (node n's steps are those its `ifNodeIDEquals` selects) for
// `options.nodes` nodes; placements are drawn from the seed. kInvalidArgument when the document is bad, a
// node connects to one beyond `options.nodes`, or a script uses partial messages (not simulated).
StatusOr<Plan> PlanFromParams(std::string_view json, const PlanOptions& options);

// Draws each node's region (by the regions' weights) and class (super with `super_fraction`).
std::vector<Placement> DrawPlacements(size_t nodes, double super_fraction, uint64_t seed);

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_PLAN_H_
