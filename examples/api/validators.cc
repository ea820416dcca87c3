// docs/api.md, "Validators": a synchronous check, an asynchronous one answered from a thread of its own, and
// a thread-safe one that the node's validation workers run.
#include <cstdio>
#include <thread>
#include <vector>

#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  auto node = *pubsub::Node::Create(pubsub::NodeOptions{});
  if (!node->Start().ok()) return 1;

  // Synchronous: answers before returning. Messages over 1 KiB are rejected.
  node->AddValidator("prices", [](const pubsub::pb::Message& m, auto done) {
    done(m.data().size() <= 1024 ? pubsub::ValidationResult::kAccept : pubsub::ValidationResult::kReject);
  });
  // Asynchronous: copies what it needs (the message is valid only until `done`) and answers later, here
  // from a thread of its own; `done` may be called from any thread.
  std::vector<std::thread> checks;
  node->AddValidator("prices", [&checks](const pubsub::pb::Message& m, auto done) {
    checks.emplace_back([data = m.data(), done] {
      done(data.find("free") == std::string::npos ? pubsub::ValidationResult::kAccept
                                                  : pubsub::ValidationResult::kIgnore);
    });
  });

  // Thread-safe: reads only the message, answers by returning; peers' messages are checked on the workers.
  node->AddThreadSafeValidator("prices", [](const pubsub::pb::Message& m) {
    return m.data().empty() ? pubsub::ValidationResult::kReject : pubsub::ValidationResult::kAccept;
  });

  // Our own messages pass through the validators too.
  std::shared_ptr<pubsub::Topic> prices = *node->Join("prices");
  pubsub::PublishResult ok = prices->Publish(AsBytes("BTC 1")).get();
  pubsub::PublishResult ignored = prices->Publish(AsBytes("free BTC")).get();
  pubsub::PublishResult rejected = prices->Publish(Bytes(2048, 'x')).get();
  pubsub::PublishResult empty = prices->Publish(Bytes()).get();
  std::printf("%s / %s / %s / %s\n", ok.status.ToString().c_str(), ignored.status.ToString().c_str(),
              rejected.status.ToString().c_str(), empty.status.ToString().c_str());
  node->Stop();  // Validators run on the loop thread: once it has stopped, `checks` is ours alone.
  for (std::thread& t : checks) t.join();
  return ok.status.ok() && ignored.status.code() == StatusCode::kCancelled &&
                 rejected.status.code() == StatusCode::kPermissionDenied &&
                 empty.status.code() == StatusCode::kPermissionDenied
             ? 0
             : 1;
}
