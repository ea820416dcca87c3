// What a simulation produced, as CSV files and as a checked summary.
//
// Attackers (Plan::attackers) are left out of deliveries.csv and expected.csv; their class is "sybil".
//
// deliveries.csv  message,topic,publisher,publish_ms,node,first_ms,copies: one row per message and node
//                 (other than its publisher) that received it; first_ms from the publish to the first copy's
//                 arrival, copies every copy received (duplicates are copies - 1).
// expected.csv    message,topic,publisher,publish_ms,expected: the nodes expected to receive it (Summary).
// nodes.csv       node,region,class,bytes_sent,bytes_received,mesh_degree: at the end of the run; bytes are
//                 on the wire (Noise, yamux and all) of the node's address (nodes sharing a host share
//                 them), the mesh that of the node's first topic.
// mesh.csv        time_ms,node,topic,degree: sampled by the caller (TimeSeries::SampleMesh).
// scores.csv      time_ms,node,peer,peer_class,score: the score each node with peer scoring gives each of its
//                 pubsub peers (peer_class "honest" or "sybil"; the score with three decimals), sampled by
//                 the caller (TimeSeries::SampleScores); only the header without scoring.
//
// Rows are sorted and every number is printed from integers, so the same run gives the same bytes.
#ifndef TOOLS_SIM_RESULTS_H_
#define TOOLS_SIM_RESULTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/memory_transport.h"
#include "tools/sim/plan.h"
#include "tools/sim/sim_node.h"

namespace libp2p::sim {

// Milliseconds with three decimals ("12.345"), from integer nanoseconds.
std::string Millis(Duration d);

// Mesh degrees and peer scores over time, as the rows of mesh.csv and scores.csv.
class TimeSeries {
 public:
  // One row per node and topic it subscribed to.
  void SampleMesh(Duration since_start, const std::vector<std::unique_ptr<SimNode>>& nodes);
  // One row per online node and pubsub peer it scores (none without scoring).
  void SampleScores(Duration since_start, const Plan& plan, const std::vector<std::unique_ptr<SimNode>>& nodes);
  const std::string& mesh_csv() const { return mesh_csv_; }
  const std::string& scores_csv() const { return scores_csv_; }

 private:
  std::string mesh_csv_ = "time_ms,node,topic,degree\n";
  std::string scores_csv_ = "time_ms,node,peer,peer_class,score\n";
  std::unordered_map<crypto::PeerId, size_t> index_of_;  // Filled on the first score sample.
};

// Deliveries of the measured messages to a set of nodes, summed up.
struct DeliveryStats {
  uint64_t expected = 0;   // Deliveries the subscriptions call for.
  uint64_t delivered = 0;  // Of those, made.
  Duration p50{}, p99{}, max{};
  double mean_duplicates = 0;  // Per delivery.
};

// The measured messages, summed up: those published from plan.measure_from on, and early enough that
// plan.max_latency ends within the run. A node is expected to receive a message when it subscribes to its
// topic, is not its publisher or an attacker, and is online from plan.settle before the publish until
// plan.max_latency after it.
struct Summary {
  size_t messages = 0;
  DeliveryStats all;      // Every honest node.
  DeliveryStats victims;  // The plan's victims alone (nothing expected when it has none).
  // The honest nodes' failures; attackers' dials fail when their targets refuse them, which is no failure.
  size_t failed_dials = 0;
  size_t failed_publishes = 0;
  size_t failed_subscribes = 0;
  size_t attacker_failed_dials = 0;
};

// Writes the CSV files above into `dir` (which must exist) and returns the summary. kInternal when a file
// cannot be written.
StatusOr<Summary> WriteResults(const Plan& plan, const std::vector<std::unique_ptr<SimNode>>& nodes,
                               const stream::MemoryNetwork& network, MonoTime start, const TimeSeries& series,
                               const std::string& dir);

// One line: messages, deliveries, latency percentiles, duplicates, failures.
std::string Describe(const Summary& s);

// OK when every measured message reached every node it should, each within plan.max_latency, and no dial,
// publish or subscription failed; else kFailedPrecondition saying what was missed.
Status CheckSummary(const Plan& plan, const Summary& s);

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_RESULTS_H_
