// TraceEventTracer fed the core's events directly: each becomes go's TraceEvent with our peer id, the
// injected wall-clock time and the fields go fills in (trace.go).
#include "libp2p/pubsub/trace/event_tracer.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/trace/test_tools/recording_sink.h"

namespace libp2p::pubsub::trace {
namespace {

using crypto::PeerId;
using tracepb::TraceEvent;

PeerId IdOf(const std::string& seed) {
  return PeerId::FromPublicKey(crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))->public_key());
}
std::string B(const PeerId& p) { return std::string(AsStringView(p.bytes())); }

class EventTracerTest : public ::testing::Test {
 protected:
  EventTracerTest() : tracer_(self_, GoDefaultMessageId, &sink_, [this] { return now_ += 1000; }) {}

  const TraceEvent& Only() {
    EXPECT_EQ(sink_.events.size(), 1u);
    return sink_.events.back();
  }

  const PeerId self_ = IdOf("self");
  const PeerId other_ = IdOf("other");
  int64_t now_ = 1'700'000'000'000'000'000;
  RecordingSink sink_;
  TraceEventTracer tracer_;
};

TEST_F(EventTracerTest, EveryEventCarriesOurPeerIdAndTheClocksTime) {
  tracer_.Join("t");
  tracer_.Leave("t");
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].type(), TraceEvent::JOIN);
  EXPECT_EQ(sink_.events[0].peerid(), B(self_));
  EXPECT_EQ(sink_.events[0].timestamp(), 1'700'000'000'000'001'000);
  EXPECT_EQ(sink_.events[0].join().topic(), "t");
  EXPECT_EQ(sink_.events[1].type(), TraceEvent::LEAVE);
  EXPECT_EQ(sink_.events[1].timestamp(), 1'700'000'000'000'002'000);
  EXPECT_EQ(sink_.events[1].leave().topic(), "t");
  EXPECT_FALSE(sink_.events[1].has_join());  // The reused event was cleared.
  EXPECT_EQ(tracer_.events(), 2u);
}

TEST_F(EventTracerTest, MessageEvents) {
  pb::Message msg;
  msg.set_topic("t");
  msg.set_data("x");
  const std::string id = "the-id";
  tracer_.PublishMessage({msg, id, self_});
  tracer_.DeliverMessage({msg, id, other_});
  tracer_.RejectMessage({msg, id, other_}, reject_reason::kValidationFailed);
  tracer_.DuplicateMessage({msg, id, other_});
  ASSERT_EQ(sink_.events.size(), 4u);

  const TraceEvent& pub = sink_.events[0];
  EXPECT_EQ(pub.type(), TraceEvent::PUBLISH_MESSAGE);
  EXPECT_EQ(pub.publishmessage().messageid(), id);
  EXPECT_EQ(pub.publishmessage().topic(), "t");

  const TraceEvent& del = sink_.events[1];
  EXPECT_EQ(del.type(), TraceEvent::DELIVER_MESSAGE);
  EXPECT_EQ(del.delivermessage().messageid(), id);
  EXPECT_EQ(del.delivermessage().topic(), "t");
  EXPECT_EQ(del.delivermessage().receivedfrom(), B(other_));

  const TraceEvent& rej = sink_.events[2];
  EXPECT_EQ(rej.type(), TraceEvent::REJECT_MESSAGE);
  EXPECT_EQ(rej.rejectmessage().messageid(), id);
  EXPECT_EQ(rej.rejectmessage().receivedfrom(), B(other_));
  EXPECT_EQ(rej.rejectmessage().reason(), "validation failed");
  EXPECT_EQ(rej.rejectmessage().topic(), "t");

  const TraceEvent& dup = sink_.events[3];
  EXPECT_EQ(dup.type(), TraceEvent::DUPLICATE_MESSAGE);
  EXPECT_EQ(dup.duplicatemessage().messageid(), id);
  EXPECT_EQ(dup.duplicatemessage().receivedfrom(), B(other_));
  EXPECT_EQ(dup.duplicatemessage().topic(), "t");
}

// go copies the message's topic pointer: a message without a topic gives an event without one.
TEST_F(EventTracerTest, AMessageWithoutATopicGivesNoTopic) {
  pb::Message msg;
  const std::string id = "i";
  tracer_.DeliverMessage({msg, id, other_});
  EXPECT_FALSE(Only().delivermessage().has_topic());
}

TEST_F(EventTracerTest, PeerEvents) {
  tracer_.OnNewOutboundStream(other_, "/meshsub/1.1.0");
  tracer_.OnClosedOutboundStream(other_);
  tracer_.Graft(other_, "t");
  tracer_.Prune(other_, "u");
  ASSERT_EQ(sink_.events.size(), 4u);
  EXPECT_EQ(sink_.events[0].type(), TraceEvent::ON_NEW_OUTBOUND_STREAM);
  EXPECT_EQ(sink_.events[0].onnewoutboundstream().peerid(), B(other_));
  EXPECT_EQ(sink_.events[0].onnewoutboundstream().proto(), "/meshsub/1.1.0");
  EXPECT_EQ(sink_.events[1].type(), TraceEvent::ON_CLOSED_OUTBOUND_STREAM);
  EXPECT_EQ(sink_.events[1].onclosedoutboundstream().peerid(), B(other_));
  EXPECT_EQ(sink_.events[2].type(), TraceEvent::GRAFT);
  EXPECT_EQ(sink_.events[2].graft().peerid(), B(other_));
  EXPECT_EQ(sink_.events[2].graft().topic(), "t");
  EXPECT_EQ(sink_.events[3].type(), TraceEvent::PRUNE);
  EXPECT_EQ(sink_.events[3].prune().peerid(), B(other_));
  EXPECT_EQ(sink_.events[3].prune().topic(), "u");
}

// The meta of an RPC as go's traceRPCMeta builds it: message ids from the id function, subscriptions and
// control entries with their optional fields copied only when set.
TEST_F(EventTracerTest, RpcMeta) {
  pb::RPC rpc;
  pb::Message* m = rpc.add_publish();
  m->set_from(B(other_));
  m->set_seqno(std::string("\0\0\0\0\0\0\0\x07", 8));
  m->set_topic("t");
  rpc.add_publish()->set_from("f");  // No topic, no seqno.
  auto* sub = rpc.add_subscriptions();
  sub->set_subscribe(true);
  sub->set_topicid("t");
  rpc.add_subscriptions()->set_subscribe(false);  // No topic.
  auto* c = rpc.mutable_control();
  auto* ihave = c->add_ihave();
  ihave->set_topicid("t");
  ihave->add_messageids("a");
  ihave->add_messageids("b");
  c->add_iwant()->add_messageids("c");
  c->add_graft()->set_topicid("g");
  auto* prune = c->add_prune();
  prune->set_topicid("p");
  prune->set_backoff(60);
  prune->add_peers()->set_peerid(B(self_));
  prune->add_peers()->set_signedpeerrecord("record only");
  c->add_idontwant()->add_messageids("d");
  c->add_graft();  // No topic.

  tracer_.RecvRpc(other_, rpc);
  tracer_.SendRpc(other_, rpc);
  tracer_.DropRpc(other_, rpc);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[0].type(), TraceEvent::RECV_RPC);
  EXPECT_EQ(sink_.events[0].recvrpc().receivedfrom(), B(other_));
  EXPECT_EQ(sink_.events[1].type(), TraceEvent::SEND_RPC);
  EXPECT_EQ(sink_.events[1].sendrpc().sendto(), B(other_));
  EXPECT_EQ(sink_.events[2].type(), TraceEvent::DROP_RPC);
  EXPECT_EQ(sink_.events[2].droprpc().sendto(), B(other_));
  for (const TraceEvent::RPCMeta* meta :
       {&sink_.events[0].recvrpc().meta(), &sink_.events[1].sendrpc().meta(), &sink_.events[2].droprpc().meta()}) {
    ASSERT_EQ(meta->messages_size(), 2);
    EXPECT_EQ(meta->messages(0).messageid(), GoDefaultMessageId(rpc.publish(0)));
    EXPECT_EQ(meta->messages(0).messageid(), B(other_) + std::string("\0\0\0\0\0\0\0\x07", 8));
    EXPECT_EQ(meta->messages(0).topic(), "t");
    EXPECT_EQ(meta->messages(1).messageid(), "f");
    EXPECT_FALSE(meta->messages(1).has_topic());
    ASSERT_EQ(meta->subscription_size(), 2);
    EXPECT_TRUE(meta->subscription(0).subscribe());
    EXPECT_EQ(meta->subscription(0).topic(), "t");
    EXPECT_TRUE(meta->subscription(1).has_subscribe());
    EXPECT_FALSE(meta->subscription(1).subscribe());
    EXPECT_FALSE(meta->subscription(1).has_topic());
    const auto& cm = meta->control();
    ASSERT_EQ(cm.ihave_size(), 1);
    EXPECT_EQ(cm.ihave(0).topic(), "t");
    EXPECT_EQ(std::vector<std::string>(cm.ihave(0).messageids().begin(), cm.ihave(0).messageids().end()),
              (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(cm.iwant_size(), 1);
    EXPECT_EQ(cm.iwant(0).messageids(0), "c");
    ASSERT_EQ(cm.graft_size(), 2);
    EXPECT_EQ(cm.graft(0).topic(), "g");
    EXPECT_FALSE(cm.graft(1).has_topic());
    ASSERT_EQ(cm.prune_size(), 1);
    EXPECT_EQ(cm.prune(0).topic(), "p");
    ASSERT_EQ(cm.prune(0).peers_size(), 2);
    EXPECT_EQ(cm.prune(0).peers(0), B(self_));
    EXPECT_EQ(cm.prune(0).peers(1), "");
    ASSERT_EQ(cm.idontwant_size(), 1);
    EXPECT_EQ(cm.idontwant(0).messageids(0), "d");
  }
}

// An RPC without a control part gives a meta without one; the meta itself is always there.
TEST_F(EventTracerTest, EmptyRpcHasAnEmptyMeta) {
  tracer_.SendRpc(other_, pb::RPC());
  const TraceEvent& e = Only();
  EXPECT_TRUE(e.sendrpc().has_meta());
  EXPECT_FALSE(e.sendrpc().meta().has_control());
  EXPECT_EQ(e.sendrpc().meta().messages_size(), 0);
}

// Events go's EventTracer never gets, and our own, write nothing.
TEST_F(EventTracerTest, EventsOutsideGosTraceAreIgnored) {
  pb::Message msg;
  const std::string id = "i";
  tracer_.ValidateMessage({msg, id, other_});
  tracer_.UndeliverableMessage({msg, id, other_});
  tracer_.ThrottlePeer(other_);
  tracer_.Heartbeat(std::chrono::milliseconds(3));
  tracer_.BrokenPromise(other_);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(tracer_.events(), 0u);
}

TEST(SystemUnixNanosTest, IsAfter2020) { EXPECT_GT(SystemUnixNanos(), int64_t{1'577'836'800} * 1'000'000'000); }

}  // namespace
}  // namespace libp2p::pubsub::trace
