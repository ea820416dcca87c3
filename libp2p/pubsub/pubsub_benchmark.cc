// The pubsub core's CPU per message: a publisher and a subscriber with floodsub, over in-memory hosts on one
// thread (so Noise and yamux are included, sockets and the kernel are not), 1 KiB StrictNoSign messages.
//
// Also the pieces of checking a StrictSign message (what the validation workers run per message), to set
// against crypto_benchmark's bare Ed25519 verify.
//
// bazel run -c opt //libp2p/pubsub:pubsub_benchmark
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed)
      : key(*Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    if (!host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok()) std::abort();
    PubSubOptions po;
    po.identity = &key;
    po.sign_policy = SignPolicy::kStrictNoSign;
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::make_unique<FloodSubRouter>(), po);
  }
  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<PubSub> pubsub;
};

// Messages published per loop run: the publisher's RPCs of one turn go out together, as under load.
constexpr int kBurst = 64;

// Publishing kBurst messages and delivering them at the subscriber (publish, encode, send; receive, decode,
// id, seen cache, deliver), both sides on this thread: items are messages delivered.
void BM_FloodsubPublishDeliver(benchmark::State& state) {
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop);
  Node publisher(&loop, &net, "publisher");
  Node subscriber(&loop, &net, "subscriber");
  int64_t delivered = 0;
  if (!subscriber.pubsub->Subscribe("bench", [&](const pb::Message&, const std::string&, const PeerId&) {
    ++delivered;
  }).ok()) {
    std::abort();
  }
  publisher.host->Dial(subscriber.host->listen_addrs()[0], [](auto) {});
  loop.RunUntilIdle();
  Bytes payload(static_cast<size_t>(state.range(0)), 'p');
  uint64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBurst; ++i) {
      // Distinct payloads: StrictNoSign ids are the data's hash.
      std::memcpy(payload.data(), &n, sizeof(n));
      ++n;
      if (publisher.pubsub->Publish("bench", payload).peers != 1) std::abort();
    }
    loop.RunUntilIdle();
  }
  if (delivered != static_cast<int64_t>(n)) std::abort();
  state.SetItemsProcessed(delivered);
}
BENCHMARK(BM_FloodsubPublishDeliver)->Arg(1024);

// A 1 KiB StrictSign message, as peers send it.
pb::Message SignedMessage() {
  const Ed25519PrivateKey key = *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("author")));
  pb::Message m;
  m.set_topic("bench");
  m.set_data(std::string(1024, 'd'));
  SignMessage(key, 42, SignPolicy::kStrictSign, &m);
  return m;
}

// The whole check of a received message: fields, author key, signature.
void BM_VerifyMessage(benchmark::State& state) {
  const pb::Message m = SignedMessage();
  for (auto _ : state) {
    Status s = VerifyMessage(m, SignPolicy::kStrictSign);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyMessage);

// The bytes the signature covers, made again for each check.
void BM_SigningBytes(benchmark::State& state) {
  const pb::Message m = SignedMessage();
  for (auto _ : state) {
    std::string b = SigningBytes(m);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigningBytes);

// The js message id of a signed message (the author's key protobuf and the seqno), computed per copy.
void BM_JsDefaultMessageId(benchmark::State& state) {
  const pb::Message m = SignedMessage();
  for (auto _ : state) {
    std::string id = JsDefaultMessageId(m);
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsDefaultMessageId);

}  // namespace
}  // namespace libp2p::pubsub

BENCHMARK_MAIN();
