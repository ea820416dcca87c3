// Traces of real nodes: three gossipsub nodes on the in-memory network and virtual time, traced through
// PubSubOptions::tracers. A scripted run (subscribe, publish, a duplicate, a message a validator rejects)
// gives the expected events in order; one node's events also stream through the remote tracer to a collector,
// which decodes the very same events in the same order.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/remote_tracer.h"
#include "libp2p/pubsub/trace/test_tools/recording_sink.h"
#include "libp2p/pubsub/trace/trace_collector.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::trace {
namespace {

using crypto::PeerId;
using gossipsub::KeyOf;
using gossipsub::Node;
using std::chrono::milliseconds;
using std::chrono::seconds;
using tracepb::TraceEvent;

constexpr int64_t kUnixBase = 1'700'000'000'000'000'000;

PeerId IdOfNode(int n) { return PeerId::FromPublicKey(KeyOf(std::to_string(n)).public_key()); }

// Hands every event to two sinks.
class Tee final : public TraceSink {
 public:
  Tee(TraceSink* a, TraceSink* b) : a_(a), b_(b) {}
  void Write(const TraceEvent& e) override {
    a_->Write(e);
    b_->Write(e);
  }

 private:
  TraceSink* a_;
  TraceSink* b_;
};

class TraceEndToEndTest : public ::testing::Test {
 protected:
  TraceEndToEndTest() {
    for (int n = 0; n < 3; ++n) {
      ids_.push_back(IdOfNode(n));
      names_[std::string(AsStringView(ids_.back().bytes()))] = std::string(1, static_cast<char>('a' + n));
    }
  }

  UnixNanosFn WallClock() {
    return [this] { return kUnixBase + (loop_.Now() - start_).count(); };
  }
  std::string Name(const std::string& id_bytes) const {
    auto it = names_.find(id_bytes);
    return it == names_.end() ? "?" : it->second;
  }
  // The message events of `events` as lines: type, the message's data (by id), where it came from, the topic,
  // and the reason of a reject.
  std::vector<std::string> MessageLines(const std::vector<TraceEvent>& events) const {
    std::vector<std::string> out;
    for (const TraceEvent& e : events) {
      const auto data = [&](const std::string& id) {
        auto it = data_by_id_.find(id);
        return it == data_by_id_.end() ? std::string("?") : it->second;
      };
      switch (e.type()) {
        case TraceEvent::JOIN:
          out.push_back("join " + e.join().topic());
          break;
        case TraceEvent::PUBLISH_MESSAGE:
          out.push_back("publish " + data(e.publishmessage().messageid()) + " " + e.publishmessage().topic());
          break;
        case TraceEvent::DELIVER_MESSAGE:
          out.push_back("deliver " + data(e.delivermessage().messageid()) + " " +
                        Name(e.delivermessage().receivedfrom()) + " " + e.delivermessage().topic());
          break;
        case TraceEvent::DUPLICATE_MESSAGE:
          out.push_back("duplicate " + data(e.duplicatemessage().messageid()) + " " +
                        Name(e.duplicatemessage().receivedfrom()) + " " + e.duplicatemessage().topic());
          break;
        case TraceEvent::REJECT_MESSAGE:
          out.push_back("reject " + data(e.rejectmessage().messageid()) + " " + Name(e.rejectmessage().receivedfrom()) +
                        " " + e.rejectmessage().topic() + " " + e.rejectmessage().reason());
          break;
        default:
          break;
      }
    }
    return out;
  }
  void Publish(Node& n, const std::string& data) {
    PublishResult r = n.pubsub->Publish("t", AsBytes(data));
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    data_by_id_[r.id] = data;
  }

  ManualEventLoop loop_;
  const MonoTime start_ = loop_.Now();
  stream::MemoryNetwork net_{&loop_, stream::WriteLimits{}, milliseconds(5)};
  std::vector<PeerId> ids_;
  std::map<std::string, std::string> names_;
  std::map<std::string, std::string> data_by_id_;
};

TEST_F(TraceEndToEndTest, AScriptedRunTracedOnEveryNodeAndStreamedToACollector) {
  // The collector: a bare host of its own.
  auto collector_key = KeyOf("collector");
  auto collector_transport = net_.CreateTransport();
  stream::HostOptions cho;
  cho.identity = &collector_key;
  stream::Host collector_host(&loop_, collector_transport.get(), cho);
  ASSERT_TRUE(collector_host.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  RecordingSink collected;
  TraceCollector collector(&collector_host, &collected);

  // Node a's events go to its recording and to the remote tracer; b's and c's to their recordings. The
  // remote tracer exists before the node (its core writes to it) and starts once the node's host does.
  RemoteTracer remote(collector_host.peer_id(), collector_host.listen_addrs());
  RecordingSink local[3];
  Tee tee(&local[0], &remote);
  std::vector<std::unique_ptr<TraceEventTracer>> tracers;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int n = 0; n < 3; ++n) {
    PubSubOptions po;
    tracers.push_back(std::make_unique<TraceEventTracer>(
        ids_[n], po.message_id, n == 0 ? static_cast<TraceSink*>(&tee) : &local[n], WallClock()));
    po.tracers = {tracers.back().get()};
    nodes.push_back(std::make_unique<Node>(&loop_, &net_, n, gossipsub::GossipSubOptions{}, po));
  }
  remote.Start(nodes[0]->host.get());
  Node& a = *nodes[0];
  Node& b = *nodes[1];
  Node& c = *nodes[2];
  int rejected_by_c = 0;
  c.pubsub->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data() == "bad") ++rejected_by_c;
    done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
  });

  for (Node* n : {&a, &b, &c}) n->Join("t");
  a.host->Dial(b.host->listen_addrs()[0], [](auto) {});
  b.host->Dial(c.host->listen_addrs()[0], [](auto) {});
  a.host->Dial(c.host->listen_addrs()[0], [](auto) {});
  loop_.AdvanceTime(seconds(2));  // Connected, subscribed, grafted.
  Publish(a, "m1");
  loop_.AdvanceTime(seconds(1));
  Publish(b, "bad");
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(rejected_by_c, 1);

  // Our own message is delivered to us too (as go's); a copy from the other side is a duplicate; c's
  // validator rejects "bad" with go's reason, and a's later copy of it is a duplicate (rejected messages
  // are seen).
  EXPECT_EQ(MessageLines(local[0].events),
            (std::vector<std::string>{"join t", "publish m1 t", "deliver m1 a t", "deliver bad b t"}));
  EXPECT_EQ(MessageLines(local[1].events), (std::vector<std::string>{"join t", "deliver m1 a t", "duplicate m1 c t",
                                                                     "publish bad t", "deliver bad b t"}));
  EXPECT_EQ(MessageLines(local[2].events),
            (std::vector<std::string>{"join t", "deliver m1 a t", "duplicate m1 b t",
                                      "reject bad b t validation failed", "duplicate bad a t"}));

  // Every event is ours, in time order; each node grafted both others; RPCs were traced both ways.
  for (int n = 0; n < 3; ++n) {
    std::vector<std::string> grafted;
    int64_t last = 0;
    size_t sent = 0, received = 0;
    for (const TraceEvent& e : local[n].events) {
      EXPECT_EQ(e.peerid(), std::string(AsStringView(ids_[n].bytes())));
      EXPECT_GE(e.timestamp(), last);
      last = e.timestamp();
      if (e.type() == TraceEvent::GRAFT) grafted.push_back(Name(e.graft().peerid()) + " " + e.graft().topic());
      sent += e.type() == TraceEvent::SEND_RPC;
      received += e.type() == TraceEvent::RECV_RPC;
    }
    std::sort(grafted.begin(), grafted.end());
    std::vector<std::string> others;
    for (int k = 0; k < 3; ++k) {
      if (k != n) others.push_back(std::string(1, static_cast<char>('a' + k)) + " t");
    }
    EXPECT_EQ(grafted, others) << "node " << n;
    EXPECT_GT(sent, 0u);
    EXPECT_GT(received, 0u);
  }

  // Times are the virtual clock's: m1 was published 2 s in, and reached b one network hop (5 ms) later.
  const auto time_of = [](const std::vector<TraceEvent>& events, TraceEvent::Type type) {
    for (const TraceEvent& e : events) {
      if (e.type() == type) return e.timestamp();
    }
    return int64_t{-1};
  };
  EXPECT_EQ(time_of(local[0].events, TraceEvent::PUBLISH_MESSAGE), kUnixBase + 2'000'000'000);
  EXPECT_EQ(time_of(local[1].events, TraceEvent::DELIVER_MESSAGE), kUnixBase + 2'005'000'000);

  // The collector decoded exactly a's events, in order (those until Close(): later ones are dropped).
  const size_t closed_at = local[0].events.size();
  remote.Close();
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(collected.events.size(), closed_at);
  for (size_t i = 0; i < collected.events.size(); ++i) {
    ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(collected.events[i], local[0].events[i]))
        << i << ": " << collected.events[i].DebugString() << " vs " << local[0].events[i].DebugString();
  }
  EXPECT_EQ(remote.stats().events_dropped, local[0].events.size() - closed_at);
  EXPECT_EQ(remote.stats().streams_opened, 1u);
  remote.Stop();
}

}  // namespace
}  // namespace libp2p::pubsub::trace
