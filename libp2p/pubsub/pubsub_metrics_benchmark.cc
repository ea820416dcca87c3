// What PubSubMetrics adds per message, to weigh against the budget (metrics at most 3% of a two-node delivery
// benchmark): the tracer events of one message received, validated, delivered and forwarded to range(0) peers
// (0: the subscriber of a two-node run; 6: a mesh), and of one duplicate; and a Sample() of a node with 50
// peers in 10 topics (once a heartbeat).
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "libp2p/base/bytes.h"
#include "libp2p/base/clock.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/pubsub_metrics.h"

namespace libp2p::pubsub {
namespace {

using crypto::PeerId;

PeerId Id(const std::string& name) {
  std::string bytes = {'\0', static_cast<char>(name.size())};
  bytes += name;
  return *PeerId::FromBytes(AsBytes(bytes));
}

struct Fixture {
  Fixture() {
    metrics = *PubSubMetrics::Create(&registry, &clock, Id("self"));
    metrics->Join("blocks");
    for (int i = 0; i < 4; ++i) metrics->Join("topic-" + std::to_string(i));
    pb::Message* m = rpc.add_publish();
    m->set_topic("blocks");
    m->set_from(std::string(38, 'f'));
    m->set_seqno(std::string(8, 's'));
    m->set_data(std::string(1024, 'd'));
    m->set_signature(std::string(64, 'g'));
  }

  RealClock clock;
  metrics::Registry registry;
  std::unique_ptr<PubSubMetrics> metrics;
  pb::RPC rpc;
  const PeerId peer = Id("peer");
};

void BM_ReceiveValidateDeliverForward(benchmark::State& state) {
  Fixture f;
  const pb::Message& msg = f.rpc.publish(0);
  std::string id = std::string(46, 'i');
  uint64_t n = 0;
  for (auto _ : state) {
    id.replace(38, 8, reinterpret_cast<const char*>(&++n), 8);
    f.metrics->RecvRpc(f.peer, f.rpc);
    f.metrics->ValidateMessage(TracedMessage{msg, id, f.peer});
    f.metrics->DeliverMessage(TracedMessage{msg, id, f.peer});
    for (int64_t i = 0; i < state.range(0); ++i) f.metrics->SendRpc(f.peer, f.rpc);
  }
}
BENCHMARK(BM_ReceiveValidateDeliverForward)->Arg(0)->Arg(6);

void BM_Duplicate(benchmark::State& state) {
  Fixture f;
  const pb::Message& msg = f.rpc.publish(0);
  const std::string id(46, 'i');
  for (auto _ : state) {
    f.metrics->RecvRpc(f.peer, f.rpc);
    f.metrics->DuplicateMessage(TracedMessage{msg, id, f.peer});
  }
}
BENCHMARK(BM_Duplicate);

void BM_Sample(benchmark::State& state) {
  Fixture f;
  PubSubMetricsSample sample;
  for (int i = 0; i < 10; ++i) sample.topics.push_back({"topic-" + std::to_string(i), 6, 20});
  for (int i = 0; i < 50; ++i) {
    sample.peers.push_back({Id("peer-" + std::to_string(i)), "/meshsub/1.2.0", i * 1.5 - 20, 1000, 0, 0});
    sample.connections.push_back({i % 2 == 0, "/yamux/1.0.0"});
  }
  for (auto _ : state) f.metrics->Sample(sample);
}
BENCHMARK(BM_Sample);

}  // namespace
}  // namespace libp2p::pubsub
