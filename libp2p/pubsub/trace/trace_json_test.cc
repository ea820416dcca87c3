// JSON trace lines against lines written by hand from Go's rules for go-libp2p-pubsub's gogo structs
// (field order, omitempty on pointers, []byte and slices, numbers, base64, escaping).
#include "libp2p/pubsub/trace/trace_json.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace libp2p::pubsub::trace {
namespace {

using tracepb::TraceEvent;

std::string Line(const TraceEvent& e) {
  std::string out;
  AppendTraceEventJsonLine(e, &out);
  return out;
}

TraceEvent Base(TraceEvent::Type type) {
  TraceEvent e;
  e.set_type(type);
  e.set_peerid(std::string("\x00\x24\x08\x01", 4));  // "ACQIAQ==".
  e.set_timestamp(1700000000123456789);
  return e;
}

TEST(TraceJsonTest, DeliverWithHtmlCharactersInTheTopic) {
  TraceEvent e = Base(TraceEvent::DELIVER_MESSAGE);
  auto* d = e.mutable_delivermessage();
  d->set_messageid("abc");  // "YWJj"
  d->set_topic("a<b>&c");
  d->set_receivedfrom("\xff\xfe");  // "//4="
  EXPECT_EQ(Line(e), R"({"type":3,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                     R"("deliverMessage":{"messageID":"YWJj","topic":"a\u003cb\u003e\u0026c","receivedFrom":"//4="}})"
                     "\n");
}

// PUBLISH_MESSAGE is 0: a set enum is written even at zero, as is a zero timestamp (both are pointers in Go).
TEST(TraceJsonTest, ZeroValuesThatAreSetAreWritten) {
  TraceEvent e;
  e.set_type(TraceEvent::PUBLISH_MESSAGE);
  e.set_timestamp(0);
  e.mutable_publishmessage()->set_topic("");
  EXPECT_EQ(Line(e), R"({"type":0,"timestamp":0,"publishMessage":{"topic":""}})"
                     "\n");
}

// Unset fields are left out, and so are bytes fields that are set but empty (omitempty on a []byte).
TEST(TraceJsonTest, UnsetAndEmptyBytesFieldsAreLeftOut) {
  TraceEvent e = Base(TraceEvent::REJECT_MESSAGE);
  auto* r = e.mutable_rejectmessage();
  r->set_messageid("");
  r->set_receivedfrom("hi");  // "aGk="
  r->set_reason("validation failed");
  EXPECT_EQ(Line(e), R"({"type":1,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                     R"("rejectMessage":{"receivedFrom":"aGk=","reason":"validation failed"}})"
                     "\n");
  TraceEvent bare;
  EXPECT_EQ(Line(bare), "{}\n");
}

// Leave's topic is field 2 and still named "topic"; Join's is field 1.
TEST(TraceJsonTest, JoinAndLeave) {
  TraceEvent join = Base(TraceEvent::JOIN);
  join.mutable_join()->set_topic("t");
  EXPECT_EQ(Line(join), R"({"type":9,"peerID":"ACQIAQ==","timestamp":1700000000123456789,"join":{"topic":"t"}})"
                        "\n");
  TraceEvent leave = Base(TraceEvent::LEAVE);
  leave.mutable_leave()->set_topic("t");
  EXPECT_EQ(Line(leave), R"({"type":10,"peerID":"ACQIAQ==","timestamp":1700000000123456789,"leave":{"topic":"t"}})"
                         "\n");
}

// A present but empty meta is written as {} (a non-nil pointer); empty repeated fields are left out; bool
// false is written when set; lists of bytes are base64 strings.
TEST(TraceJsonTest, RpcMeta) {
  TraceEvent e = Base(TraceEvent::SEND_RPC);
  e.mutable_sendrpc()->set_sendto("hi");
  e.mutable_sendrpc()->mutable_meta();
  EXPECT_EQ(Line(e), R"({"type":7,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                     R"("sendRPC":{"sendTo":"aGk=","meta":{}}})"
                     "\n");

  TraceEvent r = Base(TraceEvent::RECV_RPC);
  auto* meta = r.mutable_recvrpc()->mutable_meta();
  r.mutable_recvrpc()->set_receivedfrom("hi");
  auto* m = meta->add_messages();
  m->set_messageid("foo");  // "Zm9v"
  m->set_topic("t");
  meta->add_subscription()->set_subscribe(false);
  meta->mutable_subscription(0)->set_topic("t");
  meta->add_subscription()->set_topic("u");  // subscribe unset: left out.
  auto* c = meta->mutable_control();
  auto* ihave = c->add_ihave();
  ihave->set_topic("t");
  ihave->add_messageids("f");              // "Zg=="
  ihave->add_messageids("fo");             // "Zm8="
  c->add_iwant()->add_messageids("foob");  // "Zm9vYg=="
  c->add_graft()->set_topic("t");
  auto* prune = c->add_prune();
  prune->set_topic("t");
  prune->add_peers("fooba");  // "Zm9vYmE="
  prune->add_peers("");       // An empty element stays in the list.
  c->add_prune()->set_topic("u");
  c->add_idontwant()->add_messageids("foobar");  // "Zm9vYmFy"
  c->add_iwant();                                // No ids: {}.
  EXPECT_EQ(Line(r),
            R"({"type":6,"peerID":"ACQIAQ==","timestamp":1700000000123456789,"recvRPC":{"receivedFrom":"aGk=",)"
            R"("meta":{"messages":[{"messageID":"Zm9v","topic":"t"}],)"
            R"("subscription":[{"subscribe":false,"topic":"t"},{"topic":"u"}],)"
            R"("control":{"ihave":[{"topic":"t","messageIDs":["Zg==","Zm8="]}],)"
            R"("iwant":[{"messageIDs":["Zm9vYg=="]},{}],"graft":[{"topic":"t"}],)"
            R"("prune":[{"topic":"t","peers":["Zm9vYmE=",""]},{"topic":"u"}],)"
            R"("idontwant":[{"messageIDs":["Zm9vYmFy"]}]}}}})"
            "\n");
}

TEST(TraceJsonTest, StreamsGraftAndPrune) {
  TraceEvent open = Base(TraceEvent::ON_NEW_OUTBOUND_STREAM);
  open.mutable_onnewoutboundstream()->set_peerid("hi");
  open.mutable_onnewoutboundstream()->set_proto("/meshsub/1.1.0");
  EXPECT_EQ(Line(open), R"({"type":4,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                        R"("onNewOutboundStream":{"peerID":"aGk=","proto":"/meshsub/1.1.0"}})"
                        "\n");
  TraceEvent closed = Base(TraceEvent::ON_CLOSED_OUTBOUND_STREAM);
  closed.mutable_onclosedoutboundstream()->set_peerid("hi");
  EXPECT_EQ(Line(closed), R"({"type":5,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                          R"("onClosedOutboundStream":{"peerID":"aGk="}})"
                          "\n");
  TraceEvent prune = Base(TraceEvent::PRUNE);
  prune.mutable_prune()->set_peerid("hi");
  prune.mutable_prune()->set_topic("t\n");
  EXPECT_EQ(Line(prune), R"({"type":12,"peerID":"ACQIAQ==","timestamp":1700000000123456789,)"
                         R"("prune":{"peerID":"aGk=","topic":"t\n"}})"
                         "\n");
}

// A negative timestamp (before 1970) is a plain negative number.
TEST(TraceJsonTest, NegativeTimestamp) {
  TraceEvent e;
  e.set_timestamp(-5);
  EXPECT_EQ(Line(e), R"({"timestamp":-5})"
                     "\n");
}

// protobuf's JSON parser reads our lines back into the same events (go's names, enum numbers, base64).
TEST(TraceJsonTest, ProtobufJsonParserReadsTheLinesBack) {
  TraceEvent e = Base(TraceEvent::DUPLICATE_MESSAGE);
  e.mutable_duplicatemessage()->set_messageid(std::string("\x00\xff<>", 4));
  e.mutable_duplicatemessage()->set_receivedfrom("peer");
  e.mutable_duplicatemessage()->set_topic("\u2028<&>\b\x01");
  std::string line = Line(e);
  TraceEvent back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &back).ok()) << line;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, back)) << back.DebugString();
}

}  // namespace
}  // namespace libp2p::pubsub::trace
