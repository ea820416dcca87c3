// The JSON and protobuf trace writers on the events of one scripted sequence, each output checked by an
// independent reader: protobuf's delimited parser and `protoc --decode` for the protobuf file, protobuf's
// JSON parser for the JSON lines, which must give the same events.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"

namespace libp2p::pubsub::trace {
namespace {

using crypto::PeerId;
using tracepb::TraceEvent;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

PeerId IdOf(const std::string& seed) {
  return PeerId::FromPublicKey(crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))->public_key());
}

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

// One event of each kind, with bytes that are not UTF-8 and a topic that needs escaping.
void Script(TraceEventTracer& t, const PeerId& peer) {
  pb::Message msg;
  msg.set_from(std::string(AsStringView(peer.bytes())));
  msg.set_seqno(std::string("\0\0\0\0\0\0\0\x01", 8));
  msg.set_topic("blocks <&> \u2028");
  msg.set_data("payload");
  const std::string id = GoDefaultMessageId(msg);
  t.Join("blocks <&> \u2028");
  t.OnNewOutboundStream(peer, "/meshsub/1.1.0");
  t.Graft(peer, "blocks <&> \u2028");
  t.PublishMessage({msg, id, peer});
  t.DeliverMessage({msg, id, peer});
  t.DuplicateMessage({msg, id, peer});
  t.RejectMessage({msg, id, peer}, reject_reason::kInvalidSignature);
  pb::RPC rpc;
  *rpc.add_publish() = msg;
  rpc.add_subscriptions()->set_subscribe(true);
  rpc.mutable_subscriptions(0)->set_topicid("x");
  rpc.mutable_control()->add_ihave()->add_messageids(std::string("\xff\x00", 2));
  rpc.mutable_control()->add_prune()->add_peers()->set_peerid("p");
  t.RecvRpc(peer, rpc);
  t.SendRpc(peer, rpc);
  t.DropRpc(peer, pb::RPC());
  t.Prune(peer, "blocks <&> \u2028");
  t.OnClosedOutboundStream(peer);
  t.Leave("blocks <&> \u2028");
}

class TraceWritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto jf = TraceFile::Create(json_path_);
    auto pf = TraceFile::Create(pb_path_);
    ASSERT_TRUE(jf.ok() && pf.ok());
    JsonTraceWriter json(std::move(*jf));
    PbTraceWriter pbw(std::move(*pf));
    Tee tee(&json, &pbw);
    int64_t now = 1'700'000'000'000'000'000;
    TraceEventTracer tracer(IdOf("self"), GoDefaultMessageId, &tee, [&] { return now += 1'000'000; });
    Script(tracer, IdOf("peer"));
    ASSERT_TRUE(json.Flush().ok());
    ASSERT_TRUE(pbw.Flush().ok());
    EXPECT_EQ(json.file().stats().records, 13u);
    EXPECT_EQ(pbw.file().stats().records, 13u);

    // The protobuf file, read with protobuf's own delimited reader.
    const std::string data = ReadAll(pb_path_);
    google::protobuf::io::ArrayInputStream in(data.data(), static_cast<int>(data.size()));
    for (;;) {
      TraceEvent e;
      bool clean_eof = false;
      if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&e, &in, &clean_eof)) {
        ASSERT_TRUE(clean_eof);
        break;
      }
      pb_events_.push_back(std::move(e));
    }
  }

  const std::string json_path_ = TempPath("trace.json");
  const std::string pb_path_ = TempPath("trace.pb");
  std::vector<TraceEvent> pb_events_;
};

TEST_F(TraceWritersTest, ProtobufFileHoldsTheEventsInOrder) {
  ASSERT_EQ(pb_events_.size(), 13u);
  const std::vector<TraceEvent::Type> types = {TraceEvent::JOIN,
                                               TraceEvent::ON_NEW_OUTBOUND_STREAM,
                                               TraceEvent::GRAFT,
                                               TraceEvent::PUBLISH_MESSAGE,
                                               TraceEvent::DELIVER_MESSAGE,
                                               TraceEvent::DUPLICATE_MESSAGE,
                                               TraceEvent::REJECT_MESSAGE,
                                               TraceEvent::RECV_RPC,
                                               TraceEvent::SEND_RPC,
                                               TraceEvent::DROP_RPC,
                                               TraceEvent::PRUNE,
                                               TraceEvent::ON_CLOSED_OUTBOUND_STREAM,
                                               TraceEvent::LEAVE};
  for (size_t i = 0; i < types.size(); ++i) EXPECT_EQ(pb_events_[i].type(), types[i]) << i;
  EXPECT_EQ(pb_events_.back().type(), TraceEvent::LEAVE);
  EXPECT_EQ(pb_events_[0].timestamp(), 1'700'000'000'001'000'000);
  EXPECT_EQ(pb_events_[6].rejectmessage().reason(), "invalid signature");
  EXPECT_EQ(pb_events_[12].leave().topic(), "blocks <&> \u2028");
}

// Every JSON line parses (go's field names, enum numbers, base64) into the event of the protobuf file.
TEST_F(TraceWritersTest, JsonLinesAreTheSameEvents) {
  std::istringstream lines(ReadAll(json_path_));
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, pb_events_.size());
    TraceEvent e;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, pb_events_[i]))
        << "line " << i << ": " << line << "\nvs " << pb_events_[i].DebugString();
    ++i;
  }
  EXPECT_EQ(i, pb_events_.size());
  // The topic is escaped as Go escapes it.
  EXPECT_NE(ReadAll(json_path_).find(R"("join":{"topic":"blocks \u003c\u0026\u003e \u2028"})"), std::string::npos);
}

// `protoc --decode=pubsub.pb.TraceEvent` with the schema alone decodes each record to what protobuf's text
// printer prints for the event.
TEST_F(TraceWritersTest, ProtocDecodesEachRecord) {
  const std::string record_path = TempPath("record.bin");
  for (size_t i = 0; i < pb_events_.size(); ++i) {
    std::ofstream(record_path, std::ios::binary) << pb_events_[i].SerializeAsString();
    const std::string cmd =
        "/usr/bin/protoc --decode=pubsub.pb.TraceEvent --proto_path=libp2p/pubsub/trace "
        "trace.proto < " +
        record_path;
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string decoded;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) decoded.append(buf, n);
    ASSERT_EQ(::pclose(p), 0) << cmd;
    std::string expected;
    ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(pb_events_[i], &expected));
    EXPECT_EQ(decoded, expected) << "record " << i;
  }
  // Spot checks of the names the schema gives.
  std::string text;
  google::protobuf::TextFormat::PrintToString(pb_events_[4], &text);
  EXPECT_NE(text.find("type: DELIVER_MESSAGE"), std::string::npos) << text;
  EXPECT_NE(text.find("deliverMessage {"), std::string::npos) << text;
}

}  // namespace
}  // namespace libp2p::pubsub::trace
