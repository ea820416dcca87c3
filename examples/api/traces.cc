// docs/api.md, "Traces": Alice writes her pubsub events to a file as go's JSONTracer does; Bob streams his to
// a collector as go's RemoteTracer does, and the collector writes them as go's protobuf trace.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>

#include "libp2p/pubsub/node.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"
#include "libp2p/pubsub/trace/remote_tracer.h"
#include "libp2p/pubsub/trace/trace_collector.h"

// trace.pb.h declares go's package `pubsub.pb` as the global namespace ::pubsub, so `pubsub` alone is
// ambiguous after a global `using namespace libp2p;`: this code lives inside namespace libp2p instead.
namespace libp2p {
using namespace pubsub::trace;

// Runs `fn` on the node's loop thread and waits for it: the host exists only there, once started.
void OnLoop(pubsub::Node& node, const std::function<void()>& fn) {
  std::promise<void> done;
  node.Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

int Run() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : ".";
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};

  // The collector: a node whose host takes tracing streams; their events go to collected.pb.
  auto collector_node = *pubsub::Node::Create(options);
  if (!collector_node->Start().ok()) return 1;
  PbTraceWriter collected(*TraceFile::Create(dir + "/collected.pb"));
  std::unique_ptr<TraceCollector> collector;
  OnLoop(*collector_node, [&] { collector = std::make_unique<TraceCollector>(&collector_node->host(), &collected); });

  // A tracer is given to the node before it exists, and stamps events with the node's peer id: the key
  // comes first.
  auto alice_key = std::make_shared<crypto::Ed25519PrivateKey>(crypto::Ed25519PrivateKey::Generate());
  JsonTraceWriter alice_file(*TraceFile::Create(dir + "/alice.json"));
  TraceEventTracer alice_tracer(crypto::PeerId::FromPublicKey(alice_key->public_key()), options.pubsub.message_id,
                                &alice_file);
  pubsub::NodeOptions alice_options = options;
  alice_options.key = alice_key;
  alice_options.pubsub.tracers = {&alice_tracer};
  auto alice = *pubsub::Node::Create(alice_options);

  // Bob's events go to a remote tracer, which connects once his host exists (Start) and buffers until then.
  auto bob_key = std::make_shared<crypto::Ed25519PrivateKey>(crypto::Ed25519PrivateKey::Generate());
  RemoteTracer bob_remote(collector_node->id(), collector_node->listen_addrs());
  TraceEventTracer bob_tracer(crypto::PeerId::FromPublicKey(bob_key->public_key()), options.pubsub.message_id,
                              &bob_remote);
  pubsub::NodeOptions bob_options = options;
  bob_options.key = bob_key;
  bob_options.pubsub.tracers = {&bob_tracer};
  auto bob = *pubsub::Node::Create(bob_options);

  if (!alice->Start().ok() || !bob->Start().ok()) return 1;
  OnLoop(*bob, [&] { bob_remote.Start(&bob->host()); });

  std::shared_ptr<pubsub::Topic> bob_news = *bob->Join("news");
  std::unique_ptr<pubsub::Subscription> inbox = bob_news->Subscribe();
  std::shared_ptr<pubsub::Topic> alice_news = *alice->Join("news");
  std::unique_ptr<pubsub::Subscription> alice_in = alice_news->Subscribe();  // Alice is in the topic too.
  std::promise<void> bob_joined;
  alice_news->SetPeerHandler([&bob_joined](const pubsub::PeerEvent& e) {
    if (e.joined) bob_joined.set_value();
  });
  if (!alice->Connect(bob->listen_addrs()[0]).get().ok()) return 1;
  if (bob_joined.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  alice_news->SetPeerHandler(nullptr);
  if (!alice_news->Publish(AsBytes("hello, bob")).get().status.ok()) return 1;
  if (!inbox->Next(std::chrono::seconds(10))) return 1;

  // Bob's tracer sends what it holds and ends its stream; once the collector has it all, it stops, before
  // Bob's host goes.
  uint64_t sent = 0;
  OnLoop(*bob, [&] {
    bob_remote.Close();
    sent = bob_remote.stats().events_sent;
  });
  uint64_t received = 0;
  for (int i = 0; i < 1000 && received < sent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    OnLoop(*collector_node, [&] { received = collector->stats().events; });
  }
  OnLoop(*bob, [&] { bob_remote.Stop(); });
  bob->Stop();
  alice->Stop();
  OnLoop(*collector_node, [&] { collector.reset(); });
  collector_node->Stop();

  // The loops have stopped: the writers may be used from here.
  if (!alice_file.Flush().ok() || !collected.Flush().ok() || received != sent) return 1;
  std::printf("alice.json: %llu events; collected.pb: %llu of Bob's events\n",
              static_cast<unsigned long long>(alice_file.file().stats().records),
              static_cast<unsigned long long>(collected.file().stats().records));
  return 0;
}

}  // namespace libp2p

int main() { return libp2p::Run(); }
