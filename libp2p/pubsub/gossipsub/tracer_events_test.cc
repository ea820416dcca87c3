// The tracer events of the core and the gossipsub router (PubSubTracer), on the in-memory network and virtual
// time: which events each step of a scripted run produces, in order, with go's reject reasons.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/tracer.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::seconds;

// Records each event as one line: its name, then the peer (by `names`) and the topic or reason.
class RecordingTracer : public PubSubTracer {
 public:
  std::vector<std::string> events;
  std::map<PeerId, std::string> names;
  size_t heartbeats = 0;
  size_t rpcs_received = 0;
  size_t rpcs_sent = 0;
  size_t rpcs_dropped = 0;

  std::string Name(const PeerId& p) const {
    auto it = names.find(p);
    return it == names.end() ? "?" : it->second;
  }
  void Add(std::string e) { events.push_back(std::move(e)); }

  void OnNewOutboundStream(const PeerId& p, const std::string& protocol) override {
    Add("new_stream " + Name(p) + " " + protocol);
  }
  void OnClosedOutboundStream(const PeerId& p) override { Add("closed_stream " + Name(p)); }
  void Join(const std::string& topic) override { Add("join " + topic); }
  void Leave(const std::string& topic) override { Add("leave " + topic); }
  void Graft(const PeerId& p, const std::string& topic) override { Add("graft " + Name(p) + " " + topic); }
  void Prune(const PeerId& p, const std::string& topic) override { Add("prune " + Name(p) + " " + topic); }
  void PublishMessage(const TracedMessage& m) override { Add("publish " + m.msg.data()); }
  void ValidateMessage(const TracedMessage& m) override { Add("validate " + m.msg.data() + " " + Name(m.from)); }
  void DeliverMessage(const TracedMessage& m) override { Add("deliver " + m.msg.data() + " " + Name(m.from)); }
  void RejectMessage(const TracedMessage& m, std::string_view reason) override {
    Add("reject " + m.msg.data() + " " + Name(m.from) + " " + std::string(reason));
  }
  void DuplicateMessage(const TracedMessage& m) override { Add("duplicate " + m.msg.data() + " " + Name(m.from)); }
  void ThrottlePeer(const PeerId& p) override { Add("throttle " + Name(p)); }
  void RecvRpc(const PeerId&, const pb::RPC&) override { ++rpcs_received; }
  void SendRpc(const PeerId&, const pb::RPC&) override { ++rpcs_sent; }
  void DropRpc(const PeerId&, const pb::RPC&) override { ++rpcs_dropped; }
  void Heartbeat(Duration) override { ++heartbeats; }
};

class TracerEventsTest : public ::testing::Test {
 protected:
  PubSubOptions Traced() {
    PubSubOptions po;
    po.tracers = {&tracer_};
    return po;
  }
  void Connect(Node& a, Node& b) { a.host->Dial(b.host->listen_addrs()[0], [](auto) {}); }
  // The events recorded since the last call.
  std::vector<std::string> Take() { return std::exchange(tracer_.events, {}); }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  RecordingTracer tracer_;
};

TEST_F(TracerEventsTest, AScriptedRunGivesGosEventsInOrder) {
  Node a(&loop_, &net_, 0, {}, Traced());
  Node b(&loop_, &net_, 1);
  RawPeer raw(&loop_, &net_, "raw");
  tracer_.names = {{a.id(), "a"}, {b.id(), "b"}, {raw.id(), "raw"}};
  a.pubsub->AddValidator("t", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
    done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
  });

  a.Join("t");
  EXPECT_EQ(Take(), std::vector<std::string>{"join t"});

  b.Join("t");
  Connect(a, b);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));  // A heartbeat grafts.
  std::vector<std::string> events = Take();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "new_stream b /meshsub/1.3.0");
  EXPECT_NE(std::find(events.begin(), events.end(), "graft b t"), events.end());
  EXPECT_GT(tracer_.heartbeats, 0u);
  EXPECT_GT(tracer_.rpcs_sent, 0u);
  EXPECT_GT(tracer_.rpcs_received, 0u);

  // Our own message: published, validated and delivered (as go's), then sent.
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("mine")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(Take(), (std::vector<std::string>{"publish mine", "validate mine a", "deliver mine a"}));

  // A peer's message, then its copy, then one its validator rejects.
  ASSERT_TRUE(b.pubsub->Publish("t", AsBytes("hers")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(Take(), (std::vector<std::string>{"validate hers b", "deliver hers b"}));
  raw.ConnectTo(a);
  raw.Send(SubscriptionRpc({"t"}));
  EXPECT_EQ(Take(), std::vector<std::string>{"new_stream raw /meshsub/1.1.0"});
  const pb::Message bad = SignedMessage(raw.key, "t", "bad", 1);
  raw.Send(PublishRpc(bad));
  raw.Send(PublishRpc(bad));
  events = Take();
  EXPECT_EQ(events, (std::vector<std::string>{"validate bad raw", "reject bad raw validation failed",
                                              "duplicate bad raw"}));

  // A forged signature, a message without one, and a replay of our own.
  pb::Message forged = SignedMessage(raw.key, "t", "forged", 2);
  forged.set_signature(std::string(64, 'x'));
  raw.Send(PublishRpc(forged));
  pb::Message unsigned_msg = SignedMessage(raw.key, "t", "unsigned", 3);
  unsigned_msg.clear_signature();
  raw.Send(PublishRpc(unsigned_msg));
  pb::Message replay = SignedMessage(a.key, "t", "replay", 4);
  raw.Send(PublishRpc(replay));
  EXPECT_EQ(Take(), (std::vector<std::string>{"reject forged raw invalid signature",
                                              "reject unsigned raw missing signature",
                                              "reject replay raw self originated message"}));

  // Leaving prunes every mesh member, and the disconnect closes our stream to the peer.
  ASSERT_TRUE(a.pubsub->Unsubscribe("t").ok());
  events = Take();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "leave t");
  EXPECT_NE(std::find(events.begin(), events.end(), "prune b t"), events.end());
  raw.DisconnectFrom(a);
  loop_.RunUntilIdle();
  EXPECT_EQ(Take(), std::vector<std::string>{"closed_stream raw"});
}

// Without tracers nothing is recorded anywhere and the core behaves as before (the list is empty).
TEST_F(TracerEventsTest, AnUntracedNodeCallsNoTracer) {
  Node a(&loop_, &net_, 0);
  Node b(&loop_, &net_, 1, {}, Traced());
  a.Join("t");
  Connect(a, b);
  loop_.RunUntilIdle();
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("x")).status.ok());
  loop_.RunUntilIdle();
  // Only b's own events: b never joined, so it neither validates nor delivers the message.
  for (const std::string& e : tracer_.events) EXPECT_EQ(e.rfind("new_stream", 0), 0u) << e;
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
