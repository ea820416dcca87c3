// The cost of tracing one event, from the core's call to bytes in the writer's buffer (written to /dev/null):
// a DELIVER_MESSAGE and a SEND_RPC carrying one message, as JSON lines, delimited protobuf, and into the
// remote tracer's batch (which the benchmark empties as a send would, without compressing).
//
// bazel run -c opt //libp2p/pubsub/trace:trace_writers_benchmark
#include <fcntl.h>

#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"

namespace libp2p::pubsub::trace {
namespace {

crypto::PeerId IdOf(const std::string& seed) {
  return crypto::PeerId::FromPublicKey(
      crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))->public_key());
}

std::unique_ptr<TraceFile> DevNull() { return std::make_unique<TraceFile>(::open("/dev/null", O_WRONLY), true); }

pb::Message Msg(const crypto::PeerId& from) {
  pb::Message m;
  m.set_from(std::string(AsStringView(from.bytes())));
  m.set_seqno(std::string("\0\0\0\0\0\0\0\x2a", 8));
  m.set_topic("/eth2/4a26c58b/beacon_block/ssz_snappy");
  m.set_data(std::string(1024, 'x'));
  return m;
}

template <typename Writer>
void BM_Deliver(benchmark::State& state) {
  Writer writer(DevNull());
  const crypto::PeerId self = IdOf("self"), peer = IdOf("peer");
  TraceEventTracer tracer(self, GoDefaultMessageId, &writer);
  const pb::Message m = Msg(peer);
  const std::string id = GoDefaultMessageId(m);
  for (auto _ : state) tracer.DeliverMessage({m, id, peer});
  state.SetItemsProcessed(state.iterations());
}

template <typename Writer>
void BM_SendRpc(benchmark::State& state) {
  Writer writer(DevNull());
  const crypto::PeerId self = IdOf("self"), peer = IdOf("peer");
  TraceEventTracer tracer(self, GoDefaultMessageId, &writer);
  pb::RPC rpc;
  *rpc.add_publish() = Msg(peer);
  for (auto _ : state) tracer.SendRpc(peer, rpc);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_TEMPLATE(BM_Deliver, JsonTraceWriter);
BENCHMARK_TEMPLATE(BM_Deliver, PbTraceWriter);
BENCHMARK_TEMPLATE(BM_SendRpc, JsonTraceWriter);
BENCHMARK_TEMPLATE(BM_SendRpc, PbTraceWriter);

}  // namespace
}  // namespace libp2p::pubsub::trace

BENCHMARK_MAIN();
