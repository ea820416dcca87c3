#include "libp2p/pubsub/rpc/rpc_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/proto_wire.h"

namespace libp2p::pubsub {
namespace {

pb::RPC SampleRpc() {
  pb::RPC rpc;
  auto* sub = rpc.add_subscriptions();
  sub->set_subscribe(true);
  sub->set_topicid("blocks");
  auto* m = rpc.add_publish();
  m->set_from(std::string("\x00\x24\x08\x01", 4));
  m->set_data("payload");
  m->set_seqno(std::string("\x00\x00\x00\x00\x00\x00\x00\x01", 8));
  m->set_topic("blocks");
  auto* ihave = rpc.mutable_control()->add_ihave();
  ihave->set_topicid("blocks");
  ihave->add_messageids(std::string("\xff\x00\xfe", 3));  // Not UTF-8: ids are bytes.
  rpc.mutable_control()->add_iwant()->add_messageids("id-1");
  rpc.mutable_control()->add_graft()->set_topicid("blocks");
  auto* prune = rpc.mutable_control()->add_prune();
  prune->set_topicid("blocks");
  prune->set_backoff(60);
  prune->add_peers()->set_peerid("peer");
  rpc.mutable_control()->add_idontwant()->add_messageids("id-2");
  return rpc;
}

TEST(RpcCodecTest, RoundTripKeepsEveryField) {
  const RpcLimits limits;
  const pb::RPC rpc = SampleRpc();
  StatusOr<std::string> encoded = EncodeRpc(rpc, limits);
  ASSERT_TRUE(encoded.ok());
  StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(*encoded), limits);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->SerializeAsString(), *encoded);
  EXPECT_EQ(decoded->control().ihave(0).messageids(0), std::string("\xff\x00\xfe", 3));
  EXPECT_EQ(decoded->control().prune(0).backoff(), 60u);
  StatusOr<RpcCounts> counts = CheckRpcLimits(AsBytes(*encoded), limits);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->subscriptions, 1u);
  EXPECT_EQ(counts->messages, 1u);
  EXPECT_EQ(counts->control_entries, 5u);
  EXPECT_EQ(counts->ihave_ids, 1u);
  EXPECT_EQ(counts->prune_peers, 1u);
}

TEST(RpcCodecTest, FieldNumbersMatchTheSpec) {
  // A hand-made RPC: subscriptions = 1 {subscribe = 1, topicid = 2}, control = 3 {idontwant = 5 {ids = 1}}.
  Bytes sub;
  proto::AppendVarintField(1, 1, &sub);
  proto::AppendBytesField(2, std::string_view("t"), &sub);
  Bytes idw;
  proto::AppendBytesField(1, std::string_view("mid"), &idw);
  Bytes control;
  proto::AppendBytesField(5, idw, &control);
  Bytes rpc;
  proto::AppendBytesField(1, sub, &rpc);
  proto::AppendBytesField(3, control, &rpc);
  StatusOr<pb::RPC> decoded = DecodeRpc(rpc, RpcLimits{});
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->subscriptions(0).subscribe());
  EXPECT_EQ(decoded->subscriptions(0).topicid(), "t");
  EXPECT_EQ(decoded->control().idontwant(0).messageids(0), "mid");
}

TEST(RpcCodecTest, ElementsOverALimitAreLeftOutAndTheRestIsKept) {
  RpcLimits limits;
  limits.max_subscriptions = 3;
  limits.max_ihave_ids = 10;
  limits.max_prune_peers = 2;
  limits.max_topic_length = 8;
  limits.max_message_id_length = 4;
  pb::RPC rpc;
  for (int i = 0; i < 4; ++i) rpc.add_subscriptions()->set_topicid("t" + std::to_string(i));
  rpc.add_subscriptions()->set_topicid("a-very-long-topic");
  rpc.add_publish()->set_topic("a-very-long-topic");
  rpc.add_publish()->set_topic("ok");
  for (int i = 0; i < 6; ++i) {
    auto* ihave = rpc.mutable_control()->add_ihave();
    ihave->set_topicid("t");
    ihave->add_messageids("a" + std::to_string(i));
    ihave->add_messageids("b" + std::to_string(i));
  }
  rpc.mutable_control()->mutable_ihave(0)->add_messageids("too-long");
  rpc.mutable_control()->add_graft()->set_topicid("a-very-long-topic");
  for (int i = 0; i < 2; ++i) {
    auto* prune = rpc.mutable_control()->add_prune();
    prune->set_topicid("t");
    prune->set_backoff(30);
    for (int k = 0; k < 2; ++k) prune->add_peers()->set_peerid("p" + std::to_string(i * 2 + k));
  }
  RpcCounts counts;
  StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(rpc.SerializeAsString()), limits, &counts);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  // The first three subscriptions; the fourth is over the count, the fifth's topic is too long.
  ASSERT_EQ(decoded->subscriptions_size(), 3);
  EXPECT_EQ(decoded->subscriptions(2).topicid(), "t2");
  ASSERT_EQ(decoded->publish_size(), 1);
  EXPECT_EQ(decoded->publish(0).topic(), "ok");
  // Ten IHAVE ids in all, the over-long one left out; the GRAFT with its long topic goes.
  size_t ids = 0;
  for (const auto& ihave : decoded->control().ihave()) ids += static_cast<size_t>(ihave.messageids_size());
  EXPECT_EQ(ids, 10u);
  EXPECT_EQ(decoded->control().ihave(0).messageids_size(), 2);
  EXPECT_EQ(decoded->control().graft_size(), 0);
  // The PRUNEs stay, with their backoff; two offered peers in all.
  ASSERT_EQ(decoded->control().prune_size(), 2);
  EXPECT_EQ(decoded->control().prune(0).peers_size(), 2);
  EXPECT_EQ(decoded->control().prune(1).peers_size(), 0);
  EXPECT_EQ(decoded->control().prune(1).backoff(), 30u);
  EXPECT_EQ(counts.subscriptions, 3u);
  EXPECT_EQ(counts.ihave_ids, 10u);
  EXPECT_EQ(counts.left_out, 2u + 1u + 3u + 1u + 2u);  // Subscriptions, message, ids, GRAFT, peers.
}

TEST(RpcCodecTest, AControlPartOverItsLimitIsLeftOutWhole) {
  RpcLimits limits;
  limits.max_control_size = 100;
  pb::RPC rpc;
  rpc.add_subscriptions()->set_topicid("t");
  auto* iwant = rpc.mutable_control()->add_iwant();
  for (int i = 0; i < 20; ++i) iwant->add_messageids("id-" + std::to_string(i));
  RpcCounts counts;
  StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(rpc.SerializeAsString()), limits, &counts);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->subscriptions_size(), 1);
  EXPECT_FALSE(decoded->has_control());
  EXPECT_EQ(counts.left_out, 1u);
}

TEST(RpcCodecTest, UnknownFieldsAreLeftOutButAMessageIsKeptWhole) {
  // A message's own unknown fields are part of the bytes its signature covers: kept. Elsewhere: left out.
  pb::Message m;
  m.set_topic("t");
  m.set_data("d");
  Bytes message;
  const std::string m_bytes = m.SerializeAsString();
  message.assign(m_bytes.begin(), m_bytes.end());
  proto::AppendVarintField(77, 5, &message);
  Bytes rpc;
  proto::AppendBytesField(2, message, &rpc);
  proto::AppendVarintField(9, 1, &rpc);
  RpcCounts counts;
  StatusOr<pb::RPC> decoded = DecodeRpc(rpc, RpcLimits{}, &counts);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(counts.left_out, 1u);
  ASSERT_EQ(decoded->publish_size(), 1);
  const std::string again = decoded->publish(0).SerializeAsString();
  EXPECT_EQ(Bytes(again.begin(), again.end()), message);
}

TEST(RpcCodecTest, AnRpcOverItsSizeLimitIsAnError) {
  RpcLimits limits;
  limits.max_rpc_size = 10;
  pb::RPC big;
  big.add_publish()->set_data(std::string(100, 'x'));
  EXPECT_EQ(DecodeRpc(AsBytes(big.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(EncodeRpc(big, limits).status().code(), StatusCode::kOutOfRange);
}

TEST(RpcCodecTest, SplitControlKeepsEachPartWithinItsSizeAndLosesNothing) {
  pb::ControlMessage control;
  auto* ihave = control.add_ihave();
  ihave->set_topicid("blocks");
  for (int i = 0; i < 5000; ++i) ihave->add_messageids(std::string(44, static_cast<char>('a' + i % 26)) + std::to_string(i));
  auto* iwant = control.add_iwant();
  for (int i = 0; i < 1000; ++i) iwant->add_messageids("want-" + std::to_string(i));
  control.add_graft()->set_topicid("blocks");
  control.add_prune()->set_topicid("other");
  const std::vector<pb::ControlMessage> parts = SplitControl(control, kMaxControlBytesPerRpc);
  ASSERT_GT(parts.size(), 10u);
  EXPECT_EQ(parts[0].graft_size(), 1) << "GRAFT and PRUNE go first";
  EXPECT_EQ(parts[0].prune_size(), 1);
  std::vector<std::string> ihave_ids, iwant_ids;
  for (const pb::ControlMessage& part : parts) {
    EXPECT_LE(part.ByteSizeLong(), kMaxControlBytesPerRpc);
    for (const auto& e : part.ihave()) {
      EXPECT_EQ(e.topicid(), "blocks");
      ihave_ids.insert(ihave_ids.end(), e.messageids().begin(), e.messageids().end());
    }
    for (const auto& e : part.iwant()) iwant_ids.insert(iwant_ids.end(), e.messageids().begin(), e.messageids().end());
  }
  EXPECT_EQ(ihave_ids, std::vector<std::string>(ihave->messageids().begin(), ihave->messageids().end()));
  EXPECT_EQ(iwant_ids, std::vector<std::string>(iwant->messageids().begin(), iwant->messageids().end()));
  // A small control message stays whole; an empty one makes no part.
  pb::ControlMessage small;
  small.add_graft()->set_topicid("t");
  small.add_idontwant()->add_messageids("x");
  ASSERT_EQ(SplitControl(small).size(), 1u);
  EXPECT_EQ(SplitControl(small)[0].SerializeAsString(), small.SerializeAsString());
  EXPECT_TRUE(SplitControl(pb::ControlMessage()).empty());
}

TEST(RpcCodecTest, MalformedBytesAreRefused) {
  const std::string encoded = SampleRpc().SerializeAsString();
  for (size_t n = 1; n < encoded.size(); ++n) {
    // Every strict prefix cuts a field short somewhere, except at field boundaries.
    (void)DecodeRpc(AsBytes(std::string_view(encoded).substr(0, n)), RpcLimits{});
  }
  EXPECT_FALSE(DecodeRpc(Bytes{0x0a, 0x05, 0x01}, RpcLimits{}).ok());
  EXPECT_FALSE(DecodeRpc(Bytes{0x0b}, RpcLimits{}).ok());
}

// The publish frame written without a pb::RPC is the frame of the pb::RPC holding the message, for messages
// with every field, none, and a payload whose length takes a multi-byte varint at each level.
TEST(RpcCodecTest, PublishFrameIsTheEncodedRpcOfTheMessage) {
  std::vector<pb::Message> messages;
  messages.push_back(SampleRpc().publish(0));
  messages.emplace_back();
  pb::Message large;
  large.set_topic("t");
  large.set_data(std::string(300000, 'd'));
  large.set_signature(std::string(64, 's'));
  large.set_key(std::string(36, 'k'));
  messages.push_back(large);
  for (const pb::Message& m : messages) {
    pb::RPC rpc;
    *rpc.add_publish() = m;
    const std::string encoded = rpc.SerializeAsString();
    Bytes want;
    proto::AppendVarint(encoded.size(), &want);
    want.insert(want.end(), encoded.begin(), encoded.end());
    Bytes got = {0xaa};  // Appended after what is there.
    EXPECT_EQ(AppendPublishFrame(m, &got), encoded.size());
    ASSERT_EQ(got.size(), want.size() + 1);
    EXPECT_EQ(got[0], 0xaa);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin() + 1));
  }
}

}  // namespace
}  // namespace libp2p::pubsub
