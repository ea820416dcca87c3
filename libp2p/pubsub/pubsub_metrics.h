// Prometheus metrics of a pubsub node, from its tracer events (PubSubTracer) and from samples of its state
// that the owner takes on the loop thread. Names follow js-libp2p-gossipsub (prefix `gossipsub_`; counters
// end in `_total`), so existing dashboards need few changes; js's gauges named `..._count` drop that suffix
// (gossipsub_mesh_peers, gossipsub_topic_peers, gossipsub_peers), which promtool's lint keeps for histograms.
//
// With a Node, give it the registry (NodeOptions::metrics): it creates the tracer and samples its state every
// NodeOptions::metrics_interval. Serve the registry with MetricsHttpServer on the node's loop, or render it
// from any thread. Without a Node (everything on the loop thread, or before the loop runs):
//
//   metrics::Registry registry;  // Outlives everything below.
//   auto m = PubSubMetrics::Create(&registry, &loop->clock(), host->id());  // Fails if names are taken.
//   PubSubOptions po;
//   po.tracers.push_back(m->get());  // The tracer must outlive the PubSub.
//   ... create the PubSub (or Node) with po ...
//   auto server = metrics::MetricsHttpServer::Start(loop, &registry, {});
//   // At every heartbeat (or before each scrape), on the loop thread, the state gauges:
//   PubSubMetricsSample sample;
//   ... fill it from PubSub::StateCounts(), GossipSubRouter::Mesh()/Score()/StateCounts(),
//   ... PubSubPeer::queued_bytes()/stats(), stream::Host::connections_of() ...
//   (*m)->Sample(sample);
//
// Bounded cardinality: per-topic series exist only for topics we joined (the Join and Leave events say which,
// and a Graft implies one: the router meshes only joined topics; a topic left keeps its series until the next
// Sample(), so that PRUNEs reported after the Leave still count), at most max_topics of them; every other
// topic, however many names peers send, is counted under the one label value `other_topic`. Reject reasons
// are go's fixed strings (anything else is "other"); protocol and muxer labels come from our own lists and
// are capped too. Nothing a peer sends creates a series.
//
// Metrics (label in braces; "topic" means a joined topic or `other_topic`):
//   Messages, per topic: gossipsub_msg_publish_count_total, gossipsub_msg_publish_bytes_total (payload
//     bytes), gossipsub_msg_received_prevalidation_total (peers' messages seen first, going to validation),
//     gossipsub_accepted_messages_total, gossipsub_ignored_messages_total, gossipsub_rejected_messages_total
//     (the outcomes of those), gossipsub_msg_delivered_total (as go's DeliverMessage: our own published
//     messages included), gossipsub_msg_duplicate_total, gossipsub_msg_undeliverable_total,
//     gossipsub_validation_duration_seconds (histogram: ValidateMessage to its outcome, peers' messages).
//   gossipsub_msg_rejected_total{reason}: every RejectMessage (ours included) by go's reason string.
//   Mesh, per topic: gossipsub_mesh_peer_inclusion_events_total (grafts),
//     gossipsub_mesh_peer_churn_events_total (prunes); gossipsub_topic_subscription_status (1 while joined).
//   RPCs: gossipsub_rpc_{recv,sent}_{count,bytes,subscription,message,control,ihave,iwant,idontwant,graft,
//     prune}_total (bytes: the encoded RPC; ihave/iwant/...: control entries), gossipsub_{ihave,iwant,
//     idontwant}_{rcv,sent}_msgids_total, gossipsub_rpc_drop_{count,bytes}_total (a peer's queue was full).
//   gossipsub_iwant_promise_broken_total, gossipsub_peers_throttled_total,
//   gossipsub_heartbeat_duration_seconds (histogram), gossipsub_outbound_streams_opened_total{protocol},
//   gossipsub_outbound_streams_closed_total.
//   From Sample(): gossipsub_mesh_peers{topic}, gossipsub_topic_peers{topic} (joined topics only),
//     gossipsub_peers, gossipsub_peers_per_protocol{protocol}, gossipsub_peer_score (histogram of every
//     peer's score at each sample), gossipsub_send_queue_bytes, gossipsub_peer_send_queue_bytes_max,
//     gossipsub_peer_queue_dropped_total{reason="timeout"|"unwanted"}, gossipsub_pending_validations,
//     gossipsub_pending_validation_bytes, gossipsub_seen_cache_entries, gossipsub_mcache_size,
//     gossipsub_mcache_bytes, gossipsub_iwant_promises, gossipsub_backoff_entries,
//     libp2p_host_connections{direction,muxer}.
#ifndef LIBP2P_PUBSUB_PUBSUB_METRICS_H_
#define LIBP2P_PUBSUB_PUBSUB_METRICS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"
#include "libp2p/pubsub/tracer.h"

namespace libp2p::pubsub {

struct PubSubMetricsOptions {
  // Joined topics with a label of their own; further joins are counted under `other_topic`.
  size_t max_topics = 64;
  // The label value of every topic without a label of its own.
  std::string other_topic = "other";
  // One peer's message in this many has its validation timed (1: every one). Reading the clock twice costs
  // about as much as all the other counting of a message together, so by default the latency histogram is a
  // sample; its _count is the sampled validations, not all of them.
  uint32_t validation_timing_every = 16;
  // Validations timed at once (the oldest is forgotten for a new one), and how long one is waited for.
  size_t max_timed_validations = 8192;
  Duration max_validation_time = std::chrono::seconds(30);
  // Histogram bucket bounds, in seconds (scores for peer_score_buckets).
  std::vector<double> validation_buckets = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  std::vector<double> heartbeat_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                           0.025,  0.05,    0.1,    0.25,  0.5,    1};
  std::vector<double> peer_score_buckets = {-1000, -100, -50, -10, -1, 0, 1, 10, 100, 1000};
};

// What Sample() sets the gauges from: plain values the owner reads off the node on the loop thread.
struct PubSubMetricsSample {
  struct Topic {
    std::string name;
    size_t mesh_peers = 0;   // GossipSubRouter::Mesh(name).size().
    size_t topic_peers = 0;  // Connected peers subscribed to the topic.
  };
  struct Peer {
    crypto::PeerId id;
    std::string protocol;         // The pubsub protocol it speaks (one of ours).
    std::optional<double> score;  // GossipSubRouter::Score(id) when scoring is on.
    size_t queued_bytes = 0;      // PubSubPeer::queued_bytes().
    // PubSubPeer::stats(): cumulative for the peer object; PubSubMetrics counts the increase between samples.
    uint64_t dropped_timeout = 0;
    uint64_t dropped_unwanted = 0;
  };
  struct Connection {
    bool inbound = false;
    std::string muxer;  // stream::ConnectionInfo::muxer.
  };
  // Topics with their mesh and peer counts; only those we joined are used.
  std::vector<Topic> topics;
  // Every pubsub peer, and every connection of the host.
  std::vector<Peer> peers;
  std::vector<Connection> connections;
  // From PubSub::StateCounts().
  size_t send_queue_bytes = 0;
  size_t pending_validations = 0;
  size_t pending_validation_bytes = 0;
  size_t seen_entries = 0;
  // From GossipSubRouter::StateCounts() (0 for floodsub).
  size_t mcache_messages = 0;
  size_t mcache_bytes = 0;
  size_t promises = 0;
  size_t backoff_entries = 0;
};

// A PubSubTracer that counts into a Registry. Events and Sample() on the loop thread only (the tracer
// contract); the registry renders from any thread. One per node and registry: a second one in the same
// registry fails to register its names.
class PubSubMetrics final : public PubSubTracer {
 public:
  // Registers the metrics in `registry` and times with `clock`; both are observers that must outlive the
  // object. `self` is our own peer id: our published messages come back as Validate and Deliver events (as go
  // reports them), which are not counted as received nor timed as validations. Fails with the registry's
  // status when a name is taken (kAlreadyExists; the families added before it stay in the registry) and
  // kInvalidArgument for options out of range (bad buckets, max_topics or validation_timing_every 0, an
  // empty other_topic).
  static StatusOr<std::unique_ptr<PubSubMetrics>> Create(metrics::Registry* registry, const Clock* clock,
                                                         const crypto::PeerId& self,
                                                         PubSubMetricsOptions options = {});
  ~PubSubMetrics() override;
  PubSubMetrics(const PubSubMetrics&) = delete;
  PubSubMetrics& operator=(const PubSubMetrics&) = delete;

  // Sets the state gauges from `sample`, and removes the series of topics left since the last call. Loop
  // thread.
  void Sample(const PubSubMetricsSample& sample);

  // Topics with labels of their own now (joined, or left and not yet sampled).
  size_t labelled_topics() const { return topics_.size(); }
  // Validations being timed now.
  size_t timed_validations() const { return validations_.size() + (last_validation_.active ? 1 : 0); }

  // PubSubTracer.
  void OnNewOutboundStream(const crypto::PeerId& peer, const std::string& protocol) override;
  void OnClosedOutboundStream(const crypto::PeerId& peer) override;
  void Join(const std::string& topic) override;
  void Leave(const std::string& topic) override;
  void Graft(const crypto::PeerId& peer, const std::string& topic) override;
  void Prune(const crypto::PeerId& peer, const std::string& topic) override;
  void PublishMessage(const TracedMessage& m) override;
  void ValidateMessage(const TracedMessage& m) override;
  void DeliverMessage(const TracedMessage& m) override;
  void RejectMessage(const TracedMessage& m, std::string_view reason) override;
  void DuplicateMessage(const TracedMessage& m) override;
  void UndeliverableMessage(const TracedMessage& m) override;
  void ThrottlePeer(const crypto::PeerId& peer) override;
  void RecvRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;
  void SendRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;
  void DropRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;
  void Heartbeat(Duration took) override;
  void BrokenPromise(const crypto::PeerId& peer) override;

 private:
  struct Families;
  // The series of one topic label (a joined topic, or other_topic).
  struct TopicSeries {
    metrics::Counter* published = nullptr;
    metrics::Counter* published_bytes = nullptr;
    metrics::Counter* received = nullptr;
    metrics::Counter* accepted = nullptr;
    metrics::Counter* ignored = nullptr;
    metrics::Counter* rejected = nullptr;
    metrics::Counter* delivered = nullptr;
    metrics::Counter* duplicates = nullptr;
    metrics::Counter* undeliverable = nullptr;
    metrics::Counter* grafts = nullptr;
    metrics::Counter* prunes = nullptr;
    metrics::Histogram* validation_seconds = nullptr;
    // Joined topics only (null for other_topic).
    metrics::Gauge* subscribed = nullptr;
    metrics::Gauge* mesh_peers = nullptr;
    metrics::Gauge* topic_peers = nullptr;
    bool joined = false;  // False once left: removed at the next Sample().
  };
  // The counters of one direction of RPCs.
  struct RpcSeries {
    metrics::Counter* count = nullptr;
    metrics::Counter* bytes = nullptr;
    metrics::Counter* subscriptions = nullptr;
    metrics::Counter* messages = nullptr;
    metrics::Counter* control = nullptr;
    metrics::Counter* ihave = nullptr;
    metrics::Counter* iwant = nullptr;
    metrics::Counter* idontwant = nullptr;
    metrics::Counter* graft = nullptr;
    metrics::Counter* prune = nullptr;
    metrics::Counter* ihave_ids = nullptr;
    metrics::Counter* iwant_ids = nullptr;
    metrics::Counter* idontwant_ids = nullptr;
  };
  // The message whose validation started last, kept apart from the map: most validations end before the next
  // one starts (no validator, or a synchronous one), and then the map is never touched.
  struct LastValidation {
    bool active = false;
    std::string id;
    MonoTime start;
  };
  struct PeerDrops {
    uint64_t timeout = 0;
    uint64_t unwanted = 0;
  };

  PubSubMetrics(const Clock* clock, const crypto::PeerId& self, PubSubMetricsOptions options,
                std::unique_ptr<Families> families);
  // Creates the series of `topic` (joined, or other_topic when `joined` is false).
  TopicSeries MakeTopicSeries(const std::string& topic, bool joined);
  // The series of the message's topic: its own when we joined it, else other_topic's.
  TopicSeries& SeriesOf(const std::string& topic);
  // Gives `topic` series of its own, if there is room (topics left are purged first when there is not).
  TopicSeries* Adopt(const std::string& topic);
  // Removes the series of the topics left.
  void PurgeLeft();
  void CountRpc(const pb::RPC& rpc, const RpcSeries& series);
  // Starts or ends the timing of a peer's message's validation; End observes into `series` when it was timed.
  void StartValidation(const std::string& id);
  void EndValidation(const std::string& id, TopicSeries& series);
  bool IsOurs(const TracedMessage& m) const { return m.from == self_; }

  const Clock* const clock_;
  const crypto::PeerId self_;
  const PubSubMetricsOptions options_;
  const std::unique_ptr<Families> families_;
  TopicSeries other_;
  std::unordered_map<std::string, TopicSeries> topics_;
  RpcSeries recv_;
  RpcSeries sent_;
  // The reject reasons (reject_reason::*), and "other" last.
  std::array<metrics::Counter*, 12> rejected_by_reason_{};
  // Validations being timed: ids in start order, and where each one is in that order.
  LastValidation last_validation_;
  uint64_t validations_started_ = 0;  // Peers' messages gone to validation, for validation_timing_every.
  std::list<std::pair<std::string, MonoTime>> validation_order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, MonoTime>>::iterator> validations_;
  // Per-peer drop counts of the last sample, to count their increase.
  std::unordered_map<crypto::PeerId, PeerDrops> last_drops_;
  // Label values of gauges set at the last sample, set to 0 when absent from the next.
  std::vector<std::string> last_protocols_;
  std::vector<std::pair<std::string, std::string>> last_connection_labels_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_PUBSUB_METRICS_H_
