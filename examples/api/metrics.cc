// docs/api.md, "Metrics and logs": Bob counts into a Prometheus registry that the application owns and
// serves it over HTTP on his loop; the application also reads it itself, from its own thread.
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/log.h"
#include "libp2p/metrics/http_server.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  SetLogLevel(LogLevel::kWarn);  // The library's logs on stderr: warnings and errors only (the default).

  // Bob runs on a loop of ours, so that the HTTP server can share it.
  auto loop = std::move(LibeventLoop::Create()).value();
  metrics::Registry registry;  // Outlives Bob and the server.
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  pubsub::NodeOptions bob_options = options;
  bob_options.metrics = &registry;
  auto bob = *pubsub::Node::Create(bob_options, loop.get());
  std::unique_ptr<metrics::MetricsHttpServer> server;
  std::unique_ptr<pubsub::Subscription> inbox;
  std::promise<void> started;
  std::thread bob_thread([&] {
    if (bob->Start().ok()) {
      // Scraped at http://127.0.0.1:<port>/metrics; port 0 picks a free port.
      server = std::move(metrics::MetricsHttpServer::Start(loop.get(), &registry, {.host = "127.0.0.1", .port = 0}))
                   .value();
      inbox = (*bob->Join("news"))->Subscribe();
    }
    started.set_value();
    loop->Run();
    inbox.reset();
    server.reset();  // On the loop thread, before the node stops.
    bob->Stop();
  });
  started.get_future().wait();
  if (server == nullptr) return 1;
  std::printf("metrics at http://127.0.0.1:%u/metrics\n", static_cast<unsigned>(server->port()));

  // Alice (a node with a loop of its own) publishes three messages to Bob.
  auto alice = *pubsub::Node::Create(options);
  if (!alice->Start().ok()) return 1;
  std::shared_ptr<pubsub::Topic> news = *alice->Join("news");
  std::unique_ptr<pubsub::Subscription> alice_in = news->Subscribe();
  std::promise<void> bob_joined;
  news->SetPeerHandler([&bob_joined](const pubsub::PeerEvent& e) {
    if (e.joined) bob_joined.set_value();
  });
  if (!alice->Connect(bob->listen_addrs()[0]).get().ok()) return 1;
  if (bob_joined.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  news->SetPeerHandler(nullptr);
  for (int i = 0; i < 3; ++i) {
    if (!news->Publish(AsBytes("hello " + std::to_string(i))).get().status.ok()) return 1;
  }
  for (int i = 0; i < 3; ++i) {
    if (!inbox->Next(std::chrono::seconds(10))) return 1;
  }

  // The registry renders from any thread: here, the application's own.
  const std::string text = registry.Render();
  const std::string delivered = "gossipsub_msg_delivered_total{topic=\"news\"} 3\n";
  const bool counted = text.find(delivered) != std::string::npos;
  std::printf("%s", counted ? delivered.c_str() : text.c_str());

  loop->Stop();
  bob_thread.join();
  return counted ? 0 : 1;
}
