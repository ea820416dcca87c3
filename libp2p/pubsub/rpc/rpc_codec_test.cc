#include "libp2p/pubsub/rpc/rpc_codec.h"

#include <string>

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

TEST(RpcCodecTest, LimitsAreCheckedBeforeDecoding) {
  RpcLimits limits;
  limits.max_subscriptions = 3;
  limits.max_ihave_ids = 10;
  limits.max_prune_peers = 2;
  limits.max_topic_length = 8;
  pb::RPC subs;
  for (int i = 0; i < 4; ++i) subs.add_subscriptions()->set_topicid("t");
  EXPECT_EQ(DecodeRpc(AsBytes(subs.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  pb::RPC ihave;
  for (int i = 0; i < 11; ++i) ihave.mutable_control()->add_ihave()->add_messageids("x");
  EXPECT_EQ(DecodeRpc(AsBytes(ihave.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  pb::RPC prune;
  for (int i = 0; i < 3; ++i) prune.mutable_control()->add_prune()->add_peers();
  EXPECT_EQ(DecodeRpc(AsBytes(prune.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  pb::RPC long_topic;
  long_topic.add_subscriptions()->set_topicid("a-very-long-topic");
  EXPECT_EQ(DecodeRpc(AsBytes(long_topic.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  limits.max_rpc_size = 10;
  pb::RPC big;
  big.add_publish()->set_data(std::string(100, 'x'));
  EXPECT_EQ(DecodeRpc(AsBytes(big.SerializeAsString()), limits).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(EncodeRpc(big, limits).status().code(), StatusCode::kOutOfRange);
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

}  // namespace
}  // namespace libp2p::pubsub
