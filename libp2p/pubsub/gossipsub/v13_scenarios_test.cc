// GossipSub v1.3 on the in-memory network and virtual time: the Extensions handshake (first RPC of a
// stream, penalties, unknown extensions, the test extension) and the routing rules of partial messages,
// each against a hand-written peer that shows exactly what the node sends.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/extensions.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kV13(kMeshSubV13);
const std::string kV12(kMeshSubV12);

// Records what the library hands the application; answers publishes with `parts` and `metadata`.
class RecordingHandler : public PartialMessagesHandler {
 public:
  void OnPartialRpc(const PeerId& from, const pb::PartialMessagesExtension& rpc, PartialPeerView& view) override {
    rpcs.push_back(rpc);
    view.peer_has = rpc.partsmetadata();
  }
  void OnGossip(const std::string& topic, const std::string& group_id, const std::vector<PeerId>& peers) override {
    gossip.emplace_back(group_id, peers);
  }
  std::vector<pb::PartialMessagesExtension> rpcs;
  std::vector<std::pair<std::string, std::vector<PeerId>>> gossip;
};

PartialSend Send(std::string parts, std::string metadata) { return PartialSend{std::move(parts), std::move(metadata)}; }

// A SUBSCRIBE to `topic` with partial-message flags.
pb::RPC PartialSubscription(const std::string& topic, bool requests, bool supports) {
  pb::RPC rpc = SubscriptionRpc({topic});
  rpc.mutable_subscriptions(0)->set_requestspartial(requests);
  rpc.mutable_subscriptions(0)->set_supportssendingpartial(supports);
  return rpc;
}

// A GRAFT for `topic` alone (JoinRpc subscribes again, without partial flags, which clears them).
pb::RPC GraftRpc(const std::string& topic) {
  pb::RPC rpc;
  rpc.mutable_control()->add_graft()->set_topicid(topic);
  return rpc;
}

pb::RPC WithExtensions(pb::RPC rpc, PeerExtensions ext, const ExtensionOptions& options = {}) {
  WriteExtensions(ext, options, &rpc);
  return rpc;
}

pb::RPC PartialRpc(const std::string& topic, const std::string& group, const std::string& parts,
                   const std::string& metadata) {
  pb::RPC rpc;
  auto* p = rpc.mutable_partial();
  p->set_topicid(topic);
  p->set_groupid(group);
  if (!parts.empty()) p->set_partialmessage(parts);
  if (!metadata.empty()) p->set_partsmetadata(metadata);
  return rpc;
}

size_t RpcsWithExtensions(const RawPeer& peer) {
  size_t n = 0;
  for (const pb::RPC& rpc : peer.received) n += HasExtensions(rpc) ? 1 : 0;
  return n;
}

std::vector<pb::PartialMessagesExtension> PartialsReceived(const RawPeer& peer) {
  std::vector<pb::PartialMessagesExtension> out;
  for (const pb::RPC& rpc : peer.received) {
    if (rpc.has_partial()) out.push_back(rpc.partial());
  }
  return out;
}

class V13Test : public ::testing::Test {
 protected:
  // A node with the partial-messages extension (and the test extension), requesting partials on "t".
  GossipSubOptions PartialOptions(GossipSubOptions go = {}) {
    PartialMessagesOptions pm;
    pm.handler = &handler_;
    go.partial_messages = pm;
    go.partial_topics["t"] = PartialTopicMode{true, true};
    go.extensions.test_extension = true;
    return go;
  }
  void Settle(Duration d = seconds(1)) { loop_.AdvanceTime(d); }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  RecordingHandler handler_;
};

// Our first RPC on the stream to a v1.3 peer carries the Extensions message with our subscriptions (and the
// partial flags in them); no later RPC carries it; a v1.2 peer never gets one.
TEST_F(V13Test, HelloCarriesExtensionsAndSubscriptionsFirstAndOnlyThere) {
  Node node(&loop_, &net_, 1, PartialOptions());
  node.Join("t");
  node.Join("u");
  RawPeer peer(&loop_, &net_, "v13", kV13);
  RawPeer old(&loop_, &net_, "v12", kV12);
  peer.ConnectTo(node);
  old.ConnectTo(node);
  peer.Send(WithExtensions(SubscriptionRpc({"t"}), {}));
  Settle(seconds(3));
  ASSERT_FALSE(peer.received.empty());
  const pb::RPC& first = peer.received[0];
  ASSERT_TRUE(HasExtensions(first));
  const PeerExtensions ext = ReadExtensions(first, PartialOptions().extensions);
  EXPECT_TRUE(ext.partial_messages);
  EXPECT_TRUE(ext.test_extension);
  ASSERT_EQ(first.subscriptions_size(), 2);
  EXPECT_EQ(first.subscriptions(0).topicid(), "t");
  EXPECT_TRUE(first.subscriptions(0).requestspartial());
  EXPECT_TRUE(first.subscriptions(0).supportssendingpartial());
  EXPECT_FALSE(first.subscriptions(1).requestspartial());
  EXPECT_EQ(RpcsWithExtensions(peer), 1u);
  EXPECT_GT(peer.received.size(), 1u);  // The GRAFT at least came later.
  EXPECT_EQ(RpcsWithExtensions(old), 0u);
}

// The peer's first RPC on a stream fixes its extensions (none there is none); an Extensions message later on
// that stream costs the behaviour penalty go charges, and is otherwise ignored; the first RPC of a new
// stream may carry them again.
TEST_F(V13Test, LateExtensionsArePenalisedAndANewStreamStartsAfresh) {
  GossipSubOptions go = PartialOptions(ScoredOptions("t"));
  Node node(&loop_, &net_, 1, go);
  node.Join("t");
  RawPeer peer(&loop_, &net_, "late", kV13);
  peer.ConnectTo(node);
  peer.Send(SubscriptionRpc({"t"}));  // First RPC: no extensions.
  peer.Send(WithExtensions(pb::RPC(), {true, false}));
  Settle();
  EXPECT_EQ(node.router->stats().extensions_misplaced, 1u);
  EXPECT_FALSE(node.router->ExtensionsOf(peer.id())->partial_messages);
  EXPECT_LT(node.router->Score(peer.id()), 0);

  RawPeer good(&loop_, &net_, "good", kV13);
  good.ConnectTo(node);
  good.Send(WithExtensions(SubscriptionRpc({"t"}), {true, false}));
  good.OpenStream(*node.host);  // A reconnecting peer's new stream.
  good.Send(WithExtensions(SubscriptionRpc({"t"}), {true, false}));
  Settle();
  EXPECT_EQ(node.router->stats().extensions_misplaced, 1u);
  EXPECT_TRUE(node.router->ExtensionsOf(good.id())->partial_messages);
  EXPECT_GE(node.router->Score(good.id()), 0);
}

// Unknown extensions are ignored: a flag at a number we do not use changes nothing and costs nothing.
TEST_F(V13Test, UnknownExtensionsAreIgnored) {
  Node node(&loop_, &net_, 1, PartialOptions(ScoredOptions("t")));
  node.Join("t");
  RawPeer peer(&loop_, &net_, "unknown", kV13);
  peer.ConnectTo(node);
  ExtensionOptions other;
  other.test_extension_field = 4820938;
  pb::RPC rpc = WithExtensions(SubscriptionRpc({"t"}), {false, true}, other);
  peer.Send(rpc);
  Settle();
  ASSERT_TRUE(node.router->ExtensionsOf(peer.id()).has_value());
  EXPECT_FALSE(node.router->ExtensionsOf(peer.id())->test_extension);
  EXPECT_FALSE(node.router->ExtensionsOf(peer.id())->partial_messages);
  EXPECT_EQ(node.router->stats().extensions_misplaced, 0u);
  EXPECT_EQ(node.router->stats().test_extension_sent, 0u);
}

// The test extension: when both sides advertise it, each sends one test-extension message.
TEST_F(V13Test, TestExtensionIsExchangedOnce) {
  Node node(&loop_, &net_, 1, PartialOptions());
  node.Join("t");
  RawPeer peer(&loop_, &net_, "tester", kV13);
  peer.ConnectTo(node);
  ExtensionOptions ours;
  ours.test_extension = true;
  pb::RPC hello = WithExtensions(SubscriptionRpc({"t"}), {false, true}, ours);
  peer.Send(hello);
  pb::RPC test;
  AddTestExtensionMessage(ours, &test);
  peer.Send(test);
  Settle(seconds(3));
  EXPECT_EQ(node.router->stats().test_extension_received, 1u);
  EXPECT_EQ(node.router->stats().test_extension_sent, 1u);
  size_t seen = 0;
  for (const pb::RPC& rpc : peer.received) seen += HasTestExtensionMessage(rpc, ours) ? 1 : 0;
  EXPECT_EQ(seen, 1u);
}

// A peer that asked for partial messages (having advertised the extension) gets no full message and no
// IDONTWANT from us, where a peer that set the flag without advertising the extension is treated as a full
// peer (go's rule reads the flags alone; ours needs both).
TEST_F(V13Test, PartialPeersGetNoFullMessagesAndNoIDontWant) {
  GossipSubOptions go = PartialOptions();
  go.params.idontwant_message_size_threshold = 10;
  Node node(&loop_, &net_, 1, go);
  node.Join("t");
  RawPeer partial(&loop_, &net_, "partial", kV13);
  RawPeer pretender(&loop_, &net_, "pretender", kV13);
  RawPeer sender(&loop_, &net_, "sender", kV13);
  partial.ConnectTo(node);
  pretender.ConnectTo(node);
  sender.ConnectTo(node);
  partial.Send(WithExtensions(PartialSubscription("t", true, true), {true, false}));
  pretender.Send(WithExtensions(PartialSubscription("t", true, true), {}));
  sender.Send(WithExtensions(JoinRpc("t"), {}));
  partial.Send(GraftRpc("t"));
  pretender.Send(GraftRpc("t"));
  Settle(seconds(2));
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  EXPECT_TRUE(node.router->PeerRequestsPartial(partial.id(), "t"));
  EXPECT_FALSE(node.router->PeerRequestsPartial(pretender.id(), "t"));

  ASSERT_TRUE(node.pubsub->Publish("t", AsBytes(std::string("ours"))).status.ok());
  sender.Send(PublishRpc(SignedMessage(KeyOf("author"), "t", std::string(64, 'x'), 1)));
  Settle();
  EXPECT_EQ(partial.MessagesReceived(), 0u);
  EXPECT_EQ(pretender.MessagesReceived(), 2u);
  EXPECT_GE(node.router->stats().full_sends_skipped_partial, 2u);
  size_t idontwant_to_partial = 0, idontwant_to_pretender = 0;
  for (const pb::RPC& rpc : partial.received) idontwant_to_partial += rpc.control().idontwant_size();
  for (const pb::RPC& rpc : pretender.received) idontwant_to_pretender += rpc.control().idontwant_size();
  EXPECT_EQ(idontwant_to_partial, 0u);
  EXPECT_EQ(idontwant_to_pretender, 1u);
}

// PublishPartial reaches the mesh's partial peers: parts to requesting peers, metadata only to peers that
// merely support partial messages; every partial RPC a peer sends reaches the application.
TEST_F(V13Test, PublishPartialSendsPartsOnlyToRequestingPeers) {
  GossipSubOptions go = PartialOptions();
  go.partial_topics["t"] = PartialTopicMode{true, true};
  Node node(&loop_, &net_, 1, go);
  node.Join("t");
  RawPeer wants(&loop_, &net_, "wants", kV13);
  RawPeer serves(&loop_, &net_, "serves", kV13);
  RawPeer full(&loop_, &net_, "full", kV13);
  for (RawPeer* p : {&wants, &serves, &full}) p->ConnectTo(node);
  wants.Send(WithExtensions(PartialSubscription("t", true, false), {true, false}));
  serves.Send(WithExtensions(PartialSubscription("t", false, true), {true, false}));
  full.Send(WithExtensions(SubscriptionRpc({"t"}), {}));
  for (RawPeer* p : {&wants, &serves, &full}) p->Send(GraftRpc("t"));
  Settle(seconds(2));
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  std::vector<PeerId> asked;
  StatusOr<size_t> sent = node.router->PublishPartial("t", "g1", [&](const PeerId& p, PartialPeerView&, bool requests) {
    asked.push_back(p);
    return Send(requests ? "parts" : "", "meta");
  });
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 2u);
  EXPECT_EQ(asked.size(), 2u);  // The full peer takes no part.
  Settle();
  ASSERT_EQ(PartialsReceived(wants).size(), 1u);
  EXPECT_EQ(PartialsReceived(wants)[0].partialmessage(), "parts");
  EXPECT_EQ(PartialsReceived(wants)[0].groupid(), "g1");
  ASSERT_EQ(PartialsReceived(serves).size(), 1u);
  EXPECT_FALSE(PartialsReceived(serves)[0].has_partialmessage());
  EXPECT_EQ(PartialsReceived(serves)[0].partsmetadata(), "meta");
  EXPECT_TRUE(PartialsReceived(full).empty());

  serves.Send(PartialRpc("t", "g1", "their parts", "theirs"));
  RawPeer stranger(&loop_, &net_, "stranger", kV13);  // Not in our mesh: its RPC still reaches the app.
  stranger.ConnectTo(node);
  stranger.Send(WithExtensions(PartialRpc("t", "g2", "", "x"), {true, false}));
  Settle();
  ASSERT_EQ(handler_.rpcs.size(), 2u);
  EXPECT_EQ(handler_.rpcs[0].partialmessage(), "their parts");
  EXPECT_EQ(handler_.rpcs[1].groupid(), "g2");
  EXPECT_EQ(node.router->stats().partial_received, 2u);
}

// Partial RPCs create no state for topics where we take no part (nor from peers that did not advertise the
// extension); peers can create at most their cap of groups per topic; a peer's views go when it does.
TEST_F(V13Test, PartialStateIsBoundedAndTornDown) {
  Node node(&loop_, &net_, 1, PartialOptions());
  node.Join("t");
  RawPeer flooder(&loop_, &net_, "flooder", kV13);
  RawPeer silent(&loop_, &net_, "silent", kV13);
  flooder.ConnectTo(node);
  silent.ConnectTo(node);
  flooder.Send(WithExtensions(PartialSubscription("t", true, true), {true, false}));
  silent.Send(SubscriptionRpc({"t"}));  // No extensions.
  for (int i = 0; i < 500; ++i) flooder.Send(PartialRpc("t", "group-" + std::to_string(i), "", "m"));
  flooder.Send(PartialRpc("other-topic", "g", "", "m"));
  silent.Send(PartialRpc("t", "from-silent", "", "m"));
  Settle();
  const PartialGroups* groups = node.router->partial_groups();
  EXPECT_EQ(groups->groups(), 8u);  // go's per-peer cap.
  EXPECT_EQ(groups->refused(), 492u);
  EXPECT_EQ(handler_.rpcs.size(), 8u);
  EXPECT_EQ(node.router->stats().partial_dropped, 2u + 492u);
  EXPECT_EQ(node.router->StateCounts().partial_views, 8u);
  flooder.DisconnectFrom(node);
  Settle();
  EXPECT_EQ(node.router->StateCounts().partial_views, 0u);
  Settle(seconds(5));  // Groups with no peer go at the next heartbeat.
  EXPECT_EQ(node.router->StateCounts().partial_groups, 0u);
}

// Gossip: partial-requesting peers outside the mesh get partial gossip (the application is asked, once per
// group and peer) instead of IHAVE, and the others IHAVEs as before.
TEST_F(V13Test, PartialGossipReplacesIHaveForPartialPeers) {
  GossipSubOptions go = PartialOptions();
  go.params.d = 1;
  go.params.d_lo = 1;
  go.params.d_hi = 1;
  go.params.d_score = 0;
  go.params.d_out = 0;
  go.params.d_lazy = 6;
  Node node(&loop_, &net_, 1, go);
  node.Join("t");
  RawPeer mesh_peer(&loop_, &net_, "mesh", kV13);
  mesh_peer.ConnectTo(node);
  mesh_peer.Send(WithExtensions(JoinRpc("t"), {}));
  Settle(seconds(2));
  RawPeer partial(&loop_, &net_, "gossip-partial", kV13);
  RawPeer full(&loop_, &net_, "gossip-full", kV13);
  partial.ConnectTo(node);
  full.ConnectTo(node);
  partial.Send(WithExtensions(PartialSubscription("t", true, true), {true, false}));
  full.Send(WithExtensions(SubscriptionRpc({"t"}), {}));
  Settle();
  ASSERT_EQ(node.router->Mesh("t").count(mesh_peer.id()), 1u);
  ASSERT_TRUE(node.router->PublishPartial("t", "g", [](const PeerId&, PartialPeerView&, bool) {
    return Send("", "m");
  }).ok());
  ASSERT_TRUE(node.pubsub->Publish("t", AsBytes(std::string("full message"))).status.ok());
  Settle(seconds(3));
  ASSERT_EQ(handler_.gossip.size(), 1u);  // Once: the peer then has a view in the group.
  EXPECT_EQ(handler_.gossip[0].first, "g");
  EXPECT_EQ(handler_.gossip[0].second, std::vector<PeerId>{partial.id()});
  EXPECT_TRUE(partial.IHaveIds("t").empty());
  EXPECT_FALSE(full.IHaveIds("t").empty());
}

// Not in the topic: PublishPartial goes through a fanout of partial peers, chosen at the first publish.
TEST_F(V13Test, PartialPublishUsesTheFanoutWithoutAMesh) {
  Node node(&loop_, &net_, 1, PartialOptions());
  RawPeer a(&loop_, &net_, "fan-a", kV13), b(&loop_, &net_, "fan-b", kV13), c(&loop_, &net_, "fan-c", kV13);
  for (RawPeer* p : {&a, &b}) {
    p->ConnectTo(node);
    p->Send(WithExtensions(PartialSubscription("t", true, true), {true, false}));
  }
  c.ConnectTo(node);
  c.Send(WithExtensions(SubscriptionRpc({"t"}), {}));
  Settle();
  StatusOr<size_t> sent = node.router->PublishPartial("t", "g", [](const PeerId&, PartialPeerView&, bool requests) {
    return Send(requests ? "p" : "", "m");
  });
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 2u);
  EXPECT_EQ(node.router->Fanout("t").size(), 2u);
  Settle();
  EXPECT_EQ(PartialsReceived(a).size(), 1u);
  EXPECT_EQ(PartialsReceived(b).size(), 1u);
  EXPECT_TRUE(PartialsReceived(c).empty());
  // And to chosen peers only, when told.
  ASSERT_TRUE(node.router->PublishPartial("t", "h", [](const PeerId&, PartialPeerView&, bool) {
    return Send("p", "");
  }, {a.id()}).ok());
  Settle();
  EXPECT_EQ(PartialsReceived(a).size(), 2u);
  EXPECT_EQ(PartialsReceived(b).size(), 1u);
}

// The application's verdicts feed the score: useful parts count as first deliveries (P2), invalid ones as
// invalid messages (P4).
TEST_F(V13Test, ApplicationFeedbackFeedsTheScore) {
  GossipSubOptions go = ScoredOptions("t");
  go.score_params->topics["t"].first_message_deliveries_weight = 1;
  go.score_params->topics["t"].first_message_deliveries_decay = 0.9;
  go.score_params->topics["t"].first_message_deliveries_cap = 100;
  Node node(&loop_, &net_, 1, PartialOptions(go));
  node.Join("t");
  RawPeer good(&loop_, &net_, "useful", kV13), bad(&loop_, &net_, "invalid", kV13);
  good.ConnectTo(node);
  bad.ConnectTo(node);
  Settle();
  node.router->ReportPartial(good.id(), "t", PartialFeedback::kUseful);
  node.router->ReportPartial(bad.id(), "t", PartialFeedback::kInvalid);
  EXPECT_GT(node.router->Score(good.id()), 0);
  EXPECT_LT(node.router->Score(bad.id()), 0);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
