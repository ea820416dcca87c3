#include "libp2p/pubsub/pubsub_metrics.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace libp2p::pubsub {
namespace {

// go's reject reasons, in the order of PubSubMetrics::rejected_by_reason_ (which adds "other" last).
constexpr std::array<std::string_view, 11> kRejectReasons = {
    reject_reason::kBlacklistedPeer,     reject_reason::kBlacklistedSource,
    reject_reason::kMissingSignature,    reject_reason::kUnexpectedSignature,
    reject_reason::kUnexpectedAuthInfo,  reject_reason::kInvalidSignature,
    reject_reason::kValidationQueueFull, reject_reason::kValidationThrottled,
    reject_reason::kValidationFailed,    reject_reason::kValidationIgnored,
    reject_reason::kSelfOrigin,
};
constexpr std::string_view kOtherReason = "other";

size_t ReasonIndex(std::string_view reason) {
  for (size_t i = 0; i < kRejectReasons.size(); ++i) {
    if (kRejectReasons[i] == reason) return i;
  }
  return kRejectReasons.size();
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Adds metrics to a registry and keeps the first failure; after one, adds nothing more.
class Registrar {
 public:
  explicit Registrar(metrics::Registry* registry) : registry_(registry) {}
  const Status& status() const { return status_; }

  metrics::Counter* Counter(std::string name, std::string help) {
    return Keep(registry_->AddCounter(std::move(name), std::move(help)));
  }
  metrics::Gauge* Gauge(std::string name, std::string help) {
    return Keep(registry_->AddGauge(std::move(name), std::move(help)));
  }
  metrics::Histogram* Histogram(std::string name, std::string help, std::vector<double> bounds) {
    return Keep(registry_->AddHistogram(std::move(name), std::move(help), std::move(bounds)));
  }
  metrics::CounterFamily* Counters(std::string name, std::string help, std::string label, size_t max_series) {
    return Keep(
        registry_->AddCounterFamily(std::move(name), std::move(help), {std::move(label)}, max_series));
  }
  metrics::GaugeFamily* Gauges(std::string name, std::string help, std::vector<std::string> labels,
                               size_t max_series) {
    return Keep(registry_->AddGaugeFamily(std::move(name), std::move(help), std::move(labels), max_series));
  }
  metrics::HistogramFamily* Histograms(std::string name, std::string help, std::string label,
                                       std::vector<double> bounds, size_t max_series) {
    return Keep(registry_->AddHistogramFamily(std::move(name), std::move(help), {std::move(label)},
                                              std::move(bounds), max_series));
  }

 private:
  template <typename T>
  T* Keep(StatusOr<T*> added) {
    if (!status_.ok()) return nullptr;
    if (!added.ok()) {
      status_ = added.status();
      return nullptr;
    }
    return *added;
  }

  metrics::Registry* const registry_;
  Status status_;
};

// At most this many protocol or (direction, muxer) label sets: they come from our own lists.
constexpr size_t kMaxSmallLabelSets = 16;

}  // namespace

// The families PubSubMetrics writes through, and its unlabelled series.
struct PubSubMetrics::Families {
  // Per topic.
  metrics::CounterFamily* published = nullptr;
  metrics::CounterFamily* published_bytes = nullptr;
  metrics::CounterFamily* received = nullptr;
  metrics::CounterFamily* accepted = nullptr;
  metrics::CounterFamily* ignored = nullptr;
  metrics::CounterFamily* rejected = nullptr;
  metrics::CounterFamily* delivered = nullptr;
  metrics::CounterFamily* duplicates = nullptr;
  metrics::CounterFamily* undeliverable = nullptr;
  metrics::CounterFamily* grafts = nullptr;
  metrics::CounterFamily* prunes = nullptr;
  metrics::HistogramFamily* validation_seconds = nullptr;
  metrics::GaugeFamily* subscribed = nullptr;
  metrics::GaugeFamily* mesh_peers = nullptr;
  metrics::GaugeFamily* topic_peers = nullptr;
  std::vector<metrics::MetricFamily*> per_topic;  // All of the above, to remove a topic's series.

  metrics::CounterFamily* rejected_by_reason = nullptr;
  metrics::CounterFamily* streams_opened = nullptr;
  metrics::Counter* streams_closed = nullptr;
  metrics::Counter* drop_count = nullptr;
  metrics::Counter* drop_bytes = nullptr;
  metrics::Counter* broken_promises = nullptr;
  metrics::Counter* throttled = nullptr;
  metrics::Histogram* heartbeat_seconds = nullptr;

  // Set by Sample().
  metrics::Gauge* peers = nullptr;
  metrics::GaugeFamily* peers_per_protocol = nullptr;
  metrics::Histogram* peer_score = nullptr;
  metrics::Gauge* send_queue_bytes = nullptr;
  metrics::Gauge* peer_queue_max = nullptr;
  metrics::Counter* queue_dropped_timeout = nullptr;
  metrics::Counter* queue_dropped_unwanted = nullptr;
  metrics::Gauge* pending_validations = nullptr;
  metrics::Gauge* pending_validation_bytes = nullptr;
  metrics::Gauge* seen_entries = nullptr;
  metrics::Gauge* mcache_messages = nullptr;
  metrics::Gauge* mcache_bytes = nullptr;
  metrics::Gauge* promises = nullptr;
  metrics::Gauge* backoff_entries = nullptr;
  metrics::GaugeFamily* connections = nullptr;
};

StatusOr<std::unique_ptr<PubSubMetrics>> PubSubMetrics::Create(metrics::Registry* registry,
                                                               const Clock* clock, const crypto::PeerId& self,
                                                               PubSubMetricsOptions options) {
  if (options.max_topics == 0) return InvalidArgumentError("PubSubMetricsOptions::max_topics is 0");
  if (options.validation_timing_every == 0) {
    return InvalidArgumentError("PubSubMetricsOptions::validation_timing_every is 0");
  }
  if (options.other_topic.empty()) return InvalidArgumentError("PubSubMetricsOptions::other_topic is empty");

  auto f = std::make_unique<Families>();
  Registrar r(registry);
  // Every joined topic and other_topic: the per-topic families never refuse a series.
  const size_t topics = options.max_topics + 1;
  f->published = r.Counters("gossipsub_msg_publish_count_total", "Messages we published.", "topic", topics);
  f->published_bytes = r.Counters("gossipsub_msg_publish_bytes_total",
                                  "Payload bytes of the messages we published.", "topic", topics);
  f->received = r.Counters("gossipsub_msg_received_prevalidation_total",
                           "Peers' messages seen for the first time, going to validation.", "topic", topics);
  f->accepted = r.Counters("gossipsub_accepted_messages_total", "Peers' messages that passed validation.",
                           "topic", topics);
  f->ignored =
      r.Counters("gossipsub_ignored_messages_total",
                 "Peers' messages a validator ignored, timed out on or was throttled for.", "topic", topics);
  f->rejected = r.Counters("gossipsub_rejected_messages_total", "Peers' messages a validator rejected.",
                           "topic", topics);
  f->delivered = r.Counters(
      "gossipsub_msg_delivered_total",
      "Messages delivered after validation (ours included, as go's tracer reports them).", "topic", topics);
  f->duplicates = r.Counters("gossipsub_msg_duplicate_total", "Copies of messages already seen, received.",
                             "topic", topics);
  f->undeliverable =
      r.Counters("gossipsub_msg_undeliverable_total",
                 "Delivered messages a full subscription queue could not take.", "topic", topics);
  f->grafts =
      r.Counters("gossipsub_mesh_peer_inclusion_events_total", "Peers added to our mesh.", "topic", topics);
  f->prunes =
      r.Counters("gossipsub_mesh_peer_churn_events_total", "Peers removed from our mesh.", "topic", topics);
  f->validation_seconds = r.Histograms("gossipsub_validation_duration_seconds",
                                       "Time from a peer's message going to validation to its outcome (a sample: one message in "
                                       "validation_timing_every, 16 by default).",
                                       "topic", options.validation_buckets, topics);
  f->subscribed =
      r.Gauges("gossipsub_topic_subscription_status", "1 for each topic we joined.", {"topic"}, topics);
  f->mesh_peers =
      r.Gauges("gossipsub_mesh_peers", "Peers in our mesh, at the last sample.", {"topic"}, topics);
  f->topic_peers =
      r.Gauges("gossipsub_topic_peers", "Connected peers subscribed to the topic, at the last sample.",
               {"topic"}, topics);
  f->per_topic = {f->published, f->published_bytes,    f->received,   f->accepted,      f->ignored,
                  f->rejected,  f->delivered,          f->duplicates, f->undeliverable, f->grafts,
                  f->prunes,    f->validation_seconds, f->subscribed, f->mesh_peers,    f->topic_peers};

  f->rejected_by_reason = r.Counters("gossipsub_msg_rejected_total", "Messages rejected, by go's reason.",
                                     "reason", kRejectReasons.size() + 1);
  f->streams_opened = r.Counters("gossipsub_outbound_streams_opened_total", "Outbound pubsub streams opened.",
                                 "protocol", kMaxSmallLabelSets);
  f->streams_closed = r.Counter("gossipsub_outbound_streams_closed_total", "Outbound pubsub streams closed.");
  f->drop_count =
      r.Counter("gossipsub_rpc_drop_count_total", "RPCs dropped unqueued: the peer's queue had no room.");
  f->drop_bytes = r.Counter("gossipsub_rpc_drop_bytes_total", "Encoded bytes of the RPCs dropped unqueued.");
  f->broken_promises =
      r.Counter("gossipsub_iwant_promise_broken_total",
                "Messages advertised (IHAVE) and asked for (IWANT) that did not arrive in time.");
  f->throttled =
      r.Counter("gossipsub_peers_throttled_total", "Times the peer gater dropped a peer's messages unread.");
  f->heartbeat_seconds = r.Histogram("gossipsub_heartbeat_duration_seconds", "Time a heartbeat took.",
                                     options.heartbeat_buckets);

  f->peers = r.Gauge("gossipsub_peers", "Pubsub peers, at the last sample.");
  f->peers_per_protocol =
      r.Gauges("gossipsub_peers_per_protocol", "Pubsub peers by protocol, at the last sample.", {"protocol"},
               kMaxSmallLabelSets);
  f->peer_score = r.Histogram("gossipsub_peer_score", "Every peer's score, observed at each sample.",
                              options.peer_score_buckets);
  f->send_queue_bytes =
      r.Gauge("gossipsub_send_queue_bytes", "Bytes queued to all peers, at the last sample.");
  f->peer_queue_max =
      r.Gauge("gossipsub_peer_send_queue_bytes_max", "Bytes queued to the fullest peer, at the last sample.");
  metrics::CounterFamily* queue_dropped = r.Counters(
      "gossipsub_peer_queue_dropped_total",
      "Queued RPCs dropped unsent: expired (timeout) or cancelled by an IDONTWANT (unwanted).", "reason", 2);
  f->pending_validations = r.Gauge("gossipsub_pending_validations", "Messages being validated.");
  f->pending_validation_bytes =
      r.Gauge("gossipsub_pending_validation_bytes", "Bytes of messages being validated.");
  f->seen_entries = r.Gauge("gossipsub_seen_cache_entries", "Message ids in the seen cache.");
  f->mcache_messages = r.Gauge("gossipsub_mcache_size", "Messages in the message cache.");
  f->mcache_bytes = r.Gauge("gossipsub_mcache_bytes", "Encoded bytes of the messages in the message cache.");
  f->promises = r.Gauge("gossipsub_iwant_promises", "Open IWANT promises.");
  f->backoff_entries = r.Gauge("gossipsub_backoff_entries", "(peer, topic) PRUNE backoff entries.");
  f->connections = r.Gauges("libp2p_host_connections", "Connections of the host, at the last sample.",
                            {"direction", "muxer"}, kMaxSmallLabelSets);

  RpcSeries recv;
  RpcSeries sent;
  RpcSeries* directions[] = {&recv, &sent};
  const char* prefixes[] = {"gossipsub_rpc_recv_", "gossipsub_rpc_sent_"};
  const char* words[] = {"received", "sent"};
  for (int d = 0; d < 2; ++d) {
    RpcSeries& s = *directions[d];
    const std::string p = prefixes[d];
    const std::string w = words[d];
    s.count = r.Counter(p + "count_total", "RPCs " + w + ".");
    s.bytes = r.Counter(p + "bytes_total", "Encoded bytes of the RPCs " + w + ".");
    s.subscriptions = r.Counter(p + "subscription_total", "Subscription changes in the RPCs " + w + ".");
    s.messages = r.Counter(p + "message_total", "Messages in the RPCs " + w + ".");
    s.control = r.Counter(p + "control_total", "RPCs " + w + " with a control part.");
    s.ihave = r.Counter(p + "ihave_total", "IHAVE entries " + w + ".");
    s.iwant = r.Counter(p + "iwant_total", "IWANT entries " + w + ".");
    s.idontwant = r.Counter(p + "idontwant_total", "IDONTWANT entries " + w + ".");
    s.graft = r.Counter(p + "graft_total", "GRAFT entries " + w + ".");
    s.prune = r.Counter(p + "prune_total", "PRUNE entries " + w + ".");
    const std::string ids = d == 0 ? "_rcv_msgids_total" : "_sent_msgids_total";
    s.ihave_ids = r.Counter("gossipsub_ihave" + ids, "Message ids in the IHAVEs " + w + ".");
    s.iwant_ids = r.Counter("gossipsub_iwant" + ids, "Message ids in the IWANTs " + w + ".");
    s.idontwant_ids = r.Counter("gossipsub_idontwant" + ids, "Message ids in the IDONTWANTs " + w + ".");
  }
  if (!r.status().ok()) return r.status();

  f->queue_dropped_timeout = &queue_dropped->WithLabels({"timeout"});
  f->queue_dropped_unwanted = &queue_dropped->WithLabels({"unwanted"});
  auto m = std::unique_ptr<PubSubMetrics>(new PubSubMetrics(clock, self, std::move(options), std::move(f)));
  m->recv_ = recv;
  m->sent_ = sent;
  for (size_t i = 0; i < kRejectReasons.size(); ++i) {
    m->rejected_by_reason_[i] = &m->families_->rejected_by_reason->WithLabels({kRejectReasons[i]});
  }
  m->rejected_by_reason_[kRejectReasons.size()] =
      &m->families_->rejected_by_reason->WithLabels({kOtherReason});
  m->other_ = m->MakeTopicSeries(m->options_.other_topic, /*joined=*/false);
  return m;
}

PubSubMetrics::PubSubMetrics(const Clock* clock, const crypto::PeerId& self, PubSubMetricsOptions options,
                             std::unique_ptr<Families> families)
    : clock_(clock), self_(self), options_(std::move(options)), families_(std::move(families)) {}

PubSubMetrics::~PubSubMetrics() = default;

PubSubMetrics::TopicSeries PubSubMetrics::MakeTopicSeries(const std::string& topic, bool joined) {
  const Families& f = *families_;
  TopicSeries s;
  s.published = &f.published->WithLabels({topic});
  s.published_bytes = &f.published_bytes->WithLabels({topic});
  s.received = &f.received->WithLabels({topic});
  s.accepted = &f.accepted->WithLabels({topic});
  s.ignored = &f.ignored->WithLabels({topic});
  s.rejected = &f.rejected->WithLabels({topic});
  s.delivered = &f.delivered->WithLabels({topic});
  s.duplicates = &f.duplicates->WithLabels({topic});
  s.undeliverable = &f.undeliverable->WithLabels({topic});
  s.grafts = &f.grafts->WithLabels({topic});
  s.prunes = &f.prunes->WithLabels({topic});
  s.validation_seconds = &f.validation_seconds->WithLabels({topic});
  if (joined) {
    s.subscribed = &f.subscribed->WithLabels({topic});
    s.subscribed->Set(1);
    s.mesh_peers = &f.mesh_peers->WithLabels({topic});
    s.topic_peers = &f.topic_peers->WithLabels({topic});
  }
  s.joined = joined;
  return s;
}

PubSubMetrics::TopicSeries& PubSubMetrics::SeriesOf(const std::string& topic) {
  auto it = topics_.find(topic);
  return it != topics_.end() ? it->second : other_;
}

PubSubMetrics::TopicSeries* PubSubMetrics::Adopt(const std::string& topic) {
  // A topic named like other_topic would share its series, which a Leave must not remove.
  if (topic == options_.other_topic) return nullptr;
  if (topics_.size() >= options_.max_topics) PurgeLeft();
  if (topics_.size() >= options_.max_topics) return nullptr;
  return &topics_.emplace(topic, MakeTopicSeries(topic, /*joined=*/true)).first->second;
}

void PubSubMetrics::PurgeLeft() {
  for (auto it = topics_.begin(); it != topics_.end();) {
    if (it->second.joined) {
      ++it;
      continue;
    }
    for (metrics::MetricFamily* family : families_->per_topic) family->Remove({it->first});
    it = topics_.erase(it);
  }
}

void PubSubMetrics::Join(const std::string& topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    Adopt(topic);
    return;
  }
  it->second.joined = true;
  it->second.subscribed->Set(1);
}

void PubSubMetrics::Leave(const std::string& topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return;
  // Kept until the next Sample(): go reports a leave's PRUNEs after the Leave, our core before it.
  it->second.joined = false;
  it->second.subscribed->Set(0);
}

void PubSubMetrics::Graft(const crypto::PeerId&, const std::string& topic) {
  // The router meshes only topics we joined, and our core reports a join's GRAFTs before the Join itself.
  auto it = topics_.find(topic);
  TopicSeries* series = it != topics_.end() ? &it->second : Adopt(topic);
  (series != nullptr ? *series : other_).grafts->Inc();
}

void PubSubMetrics::Prune(const crypto::PeerId&, const std::string& topic) { SeriesOf(topic).prunes->Inc(); }

void PubSubMetrics::PublishMessage(const TracedMessage& m) {
  TopicSeries& s = SeriesOf(m.msg.topic());
  s.published->Inc();
  s.published_bytes->Add(m.msg.data().size());
}

void PubSubMetrics::ValidateMessage(const TracedMessage& m) {
  if (IsOurs(m)) return;
  SeriesOf(m.msg.topic()).received->Inc();
  if (validations_started_++ % options_.validation_timing_every == 0) StartValidation(m.id);
}

void PubSubMetrics::DeliverMessage(const TracedMessage& m) {
  TopicSeries& s = SeriesOf(m.msg.topic());
  s.delivered->Inc();
  if (IsOurs(m)) return;
  s.accepted->Inc();
  EndValidation(m.id, s);
}

void PubSubMetrics::RejectMessage(const TracedMessage& m, std::string_view reason) {
  const size_t index = ReasonIndex(reason);
  rejected_by_reason_[index]->Inc();
  if (IsOurs(m)) return;
  TopicSeries& s = SeriesOf(m.msg.topic());
  // The outcomes of validation; the other reasons refuse a message before it gets there.
  if (reason == reject_reason::kValidationFailed) {
    s.rejected->Inc();
  } else if (reason == reject_reason::kValidationIgnored || reason == reject_reason::kValidationThrottled) {
    s.ignored->Inc();
  }
  EndValidation(m.id, s);
}

void PubSubMetrics::DuplicateMessage(const TracedMessage& m) { SeriesOf(m.msg.topic()).duplicates->Inc(); }

void PubSubMetrics::UndeliverableMessage(const TracedMessage& m) {
  SeriesOf(m.msg.topic()).undeliverable->Inc();
}

void PubSubMetrics::ThrottlePeer(const crypto::PeerId&) { families_->throttled->Inc(); }

void PubSubMetrics::OnNewOutboundStream(const crypto::PeerId&, const std::string& protocol) {
  families_->streams_opened->WithLabels({protocol}).Inc();
}

void PubSubMetrics::OnClosedOutboundStream(const crypto::PeerId&) { families_->streams_closed->Inc(); }

void PubSubMetrics::RecvRpc(const crypto::PeerId&, const pb::RPC& rpc) { CountRpc(rpc, recv_); }

void PubSubMetrics::SendRpc(const crypto::PeerId&, const pb::RPC& rpc) { CountRpc(rpc, sent_); }

void PubSubMetrics::DropRpc(const crypto::PeerId&, const pb::RPC& rpc) {
  families_->drop_count->Inc();
  families_->drop_bytes->Add(rpc.ByteSizeLong());
}

void PubSubMetrics::Heartbeat(Duration took) { families_->heartbeat_seconds->Observe(Seconds(took)); }

void PubSubMetrics::BrokenPromise(const crypto::PeerId&) { families_->broken_promises->Inc(); }

void PubSubMetrics::CountRpc(const pb::RPC& rpc, const RpcSeries& s) {
  s.count->Inc();
  s.bytes->Add(rpc.ByteSizeLong());
  s.subscriptions->Add(static_cast<uint64_t>(rpc.subscriptions_size()));
  s.messages->Add(static_cast<uint64_t>(rpc.publish_size()));
  if (!rpc.has_control()) return;
  const pb::ControlMessage& c = rpc.control();
  s.control->Inc();
  s.ihave->Add(static_cast<uint64_t>(c.ihave_size()));
  s.iwant->Add(static_cast<uint64_t>(c.iwant_size()));
  s.idontwant->Add(static_cast<uint64_t>(c.idontwant_size()));
  s.graft->Add(static_cast<uint64_t>(c.graft_size()));
  s.prune->Add(static_cast<uint64_t>(c.prune_size()));
  uint64_t ids = 0;
  for (const auto& e : c.ihave()) ids += static_cast<uint64_t>(e.messageids_size());
  s.ihave_ids->Add(ids);
  ids = 0;
  for (const auto& e : c.iwant()) ids += static_cast<uint64_t>(e.messageids_size());
  s.iwant_ids->Add(ids);
  ids = 0;
  for (const auto& e : c.idontwant()) ids += static_cast<uint64_t>(e.messageids_size());
  s.idontwant_ids->Add(ids);
}

void PubSubMetrics::StartValidation(const std::string& id) {
  const MonoTime now = clock_->Now();
  if (last_validation_.active && options_.max_timed_validations > 0) {
    // Another validation began before the last one ended: the last one moves to the map.
    while (!validation_order_.empty() &&
           (validations_.size() >= options_.max_timed_validations ||
            now - validation_order_.front().second > options_.max_validation_time)) {
      validations_.erase(validation_order_.front().first);
      validation_order_.pop_front();
    }
    validation_order_.emplace_back(std::move(last_validation_.id), last_validation_.start);
    auto [it, inserted] =
        validations_.emplace(validation_order_.back().first, std::prev(validation_order_.end()));
    if (!inserted) {  // The same id again (not expected: the core validates a message once).
      validation_order_.erase(it->second);
      it->second = std::prev(validation_order_.end());
    }
  }
  last_validation_.active = true;
  last_validation_.id.assign(id);  // Reuses the string's buffer.
  last_validation_.start = now;
}

void PubSubMetrics::EndValidation(const std::string& id, TopicSeries& series) {
  if (last_validation_.active && last_validation_.id == id) {
    last_validation_.active = false;
    series.validation_seconds->Observe(Seconds(clock_->Now() - last_validation_.start));
    return;
  }
  if (validations_.empty()) return;
  auto it = validations_.find(id);
  if (it == validations_.end()) return;
  series.validation_seconds->Observe(Seconds(clock_->Now() - it->second->second));
  validation_order_.erase(it->second);
  validations_.erase(it);
}

void PubSubMetrics::Sample(const PubSubMetricsSample& sample) {
  PurgeLeft();
  Families& f = *families_;
  for (const PubSubMetricsSample::Topic& t : sample.topics) {
    auto it = topics_.find(t.name);
    if (it == topics_.end() || !it->second.joined) continue;
    it->second.mesh_peers->Set(static_cast<double>(t.mesh_peers));
    it->second.topic_peers->Set(static_cast<double>(t.topic_peers));
  }

  f.peers->Set(static_cast<double>(sample.peers.size()));
  std::map<std::string, size_t> by_protocol;
  size_t queue_max = 0;
  std::unordered_map<crypto::PeerId, PeerDrops> drops;
  drops.reserve(sample.peers.size());
  for (const PubSubMetricsSample::Peer& p : sample.peers) {
    ++by_protocol[p.protocol];
    if (p.score) f.peer_score->Observe(*p.score);
    queue_max = std::max(queue_max, p.queued_bytes);
    // A peer object's counts only grow; smaller counts are a new object for the same peer (it reconnected).
    PeerDrops before;
    if (auto it = last_drops_.find(p.id); it != last_drops_.end()) before = it->second;
    f.queue_dropped_timeout->Add(p.dropped_timeout >= before.timeout ? p.dropped_timeout - before.timeout
                                                                     : p.dropped_timeout);
    f.queue_dropped_unwanted->Add(p.dropped_unwanted >= before.unwanted ? p.dropped_unwanted - before.unwanted
                                                                        : p.dropped_unwanted);
    drops[p.id] = PeerDrops{p.dropped_timeout, p.dropped_unwanted};
  }
  last_drops_ = std::move(drops);
  for (const std::string& protocol : last_protocols_) {
    if (by_protocol.count(protocol) == 0) f.peers_per_protocol->WithLabels({protocol}).Set(0);
  }
  last_protocols_.clear();
  for (const auto& [protocol, n] : by_protocol) {
    f.peers_per_protocol->WithLabels({protocol}).Set(static_cast<double>(n));
    last_protocols_.push_back(protocol);
  }

  std::map<std::pair<std::string, std::string>, size_t> by_connection;
  for (const PubSubMetricsSample::Connection& c : sample.connections) {
    ++by_connection[{c.inbound ? "inbound" : "outbound", c.muxer}];
  }
  for (const auto& labels : last_connection_labels_) {
    if (by_connection.count(labels) == 0) f.connections->WithLabels({labels.first, labels.second}).Set(0);
  }
  last_connection_labels_.clear();
  for (const auto& [labels, n] : by_connection) {
    f.connections->WithLabels({labels.first, labels.second}).Set(static_cast<double>(n));
    last_connection_labels_.push_back(labels);
  }

  f.send_queue_bytes->Set(static_cast<double>(sample.send_queue_bytes));
  f.peer_queue_max->Set(static_cast<double>(queue_max));
  f.pending_validations->Set(static_cast<double>(sample.pending_validations));
  f.pending_validation_bytes->Set(static_cast<double>(sample.pending_validation_bytes));
  f.seen_entries->Set(static_cast<double>(sample.seen_entries));
  f.mcache_messages->Set(static_cast<double>(sample.mcache_messages));
  f.mcache_bytes->Set(static_cast<double>(sample.mcache_bytes));
  f.promises->Set(static_cast<double>(sample.promises));
  f.backoff_entries->Set(static_cast<double>(sample.backoff_entries));
}

}  // namespace libp2p::pubsub
