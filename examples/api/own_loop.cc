// docs/api.md, "On your own loop": the node runs on an event loop the application already runs.
#include <cstdio>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  std::unique_ptr<LibeventLoop> loop = *LibeventLoop::Create();
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  // Start, Stop and the destructor run on the loop's thread (here, this one); the rest may come from any.
  auto node = *pubsub::Node::Create(options, loop.get());
  if (!node->Start().ok()) return 1;
  std::printf("listening on %s\n", node->listen_addrs()[0].ToString().c_str());

  std::shared_ptr<pubsub::Topic> topic = *node->Join("status");
  std::future<pubsub::PublishResult> sent = topic->Publish(AsBytes("up"));
  // Never wait on a future on the loop's thread: run the loop until it is ready.
  loop->RunUntil([&] { return sent.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
                 std::chrono::seconds(10));
  const bool ok = sent.get().status.ok();
  node->Stop();
  return ok ? 0 : 1;
}
