// PubSubPeer on its own, without a host: its inbound stream and the outbound streams its opener hands it are
// ends of in-memory connections, and the test plays the remote by writing varint-framed RPCs to the other
// ends and reading what the peer sends. Virtual time (ManualEventLoop) drives every timeout.
#include "libp2p/pubsub/pubsub_peer.h"

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/live_bytes.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

using OpenCallback = std::function<void(StatusOr<std::unique_ptr<stream::Stream>>)>;

PeerId TestPeerId(const std::string& seed) {
  return PeerId::FromPublicKey(
      crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))->public_key());
}

pb::RPC SubscribeRpc(const std::string& topic, bool subscribe = true) {
  pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(subscribe);
  s->set_topicid(topic);
  return rpc;
}

pb::RPC DataRpc(const std::string& topic, const std::string& data) {
  pb::RPC rpc;
  pb::Message* m = rpc.add_publish();
  m->set_topic(topic);
  m->set_data(data);
  return rpc;
}

// A data RPC whose encoding is exactly `size` bytes (7 <= size < 130: the lengths inside stay one byte).
pb::RPC RpcOfSize(size_t size) {
  pb::RPC rpc = DataRpc("t", "");
  rpc.mutable_publish(0)->set_data(std::string(size - rpc.ByteSizeLong(), 'x'));
  return rpc;
}

// The varint-framed encoding of `rpc`, as it travels on a pubsub stream.
std::string Frame(const pb::RPC& rpc) {
  const std::string body = rpc.SerializeAsString();
  std::string out;
  AppendUvarint(body.size(), &out);
  return out + body;
}

// What a remote end of a connection received, and how it ended.
struct RemoteEnd {
  std::unique_ptr<stream::Stream> stream;
  std::string received;
  bool eof = false;
  bool errored = false;

  void Listen() {
    stream->SetHandlers(stream::Stream::Handlers{[this](ByteSpan b) { received.append(AsStringView(b)); },
                                                 [this] { eof = true; },
                                                 [this](const Status&) { errored = true; },
                                                 {}});
  }
  Status Write(const std::string& bytes) { return stream->Write(AsBytes(bytes)); }

  // The RPCs received so far; fails the test on a malformed frame or a partial one at the end.
  std::vector<pb::RPC> Rpcs() const {
    std::vector<pb::RPC> out;
    ByteSpan in = AsBytes(received);
    while (!in.empty()) {
      StatusOr<uint64_t> n = ReadUvarint(&in);
      EXPECT_TRUE(n.ok() && *n <= in.size()) << "bad frame from the peer";
      if (!n.ok() || *n > in.size()) break;
      pb::RPC rpc;
      EXPECT_TRUE(rpc.ParseFromArray(in.data(), static_cast<int>(*n)));
      out.push_back(std::move(rpc));
      in = in.subspan(*n);
    }
    return out;
  }
};

// Stands in for the host: records each open request and answers it when the test says so (or never); a
// request the peer cancelled is never answered.
struct FakeOpener {
  int calls = 0;
  std::vector<OpenCallback> pending;
  std::vector<bool> cancelled;

  PubSubPeer::StreamOpener Get() {
    return [this](OpenCallback done) {
      const size_t i = static_cast<size_t>(calls++);
      pending.push_back(std::move(done));
      cancelled.push_back(false);
      return std::function<void()>([this, i] { cancelled.at(i) = true; });
    };
  }
  // Calls back request `i` with `result`, unless it was cancelled.
  void Answer(size_t i, StatusOr<std::unique_ptr<stream::Stream>> result) {
    if (!cancelled.at(i)) pending.at(i)(std::move(result));
  }
};

// Records what the peer delivers through its callbacks.
struct Delivered {
  std::vector<pb::RPC> rpcs;
  int ready = 0;
  // Tags the remote no longer wants (as after an IDONTWANT), and the tags the peer asked about.
  std::set<std::string> unwanted;
  std::vector<std::string> asked;

  PubSubPeer::Callbacks Callbacks() {
    return PubSubPeer::Callbacks{[this](PubSubPeer&, pb::RPC rpc) { rpcs.push_back(std::move(rpc)); },
                                 [this](PubSubPeer&) { ++ready; },
                                 [this](std::string_view tag) {
                                   asked.emplace_back(tag);
                                   return unwanted.count(std::string(tag)) == 0;
                                 }};
  }
};

class PubSubPeerTest : public ::testing::Test {
 protected:
  PubSubPeerTest() {
    listener_ =
        *transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                            [this](std::unique_ptr<stream::RawConnection> c) { accepted_ = std::move(c); });
  }

  // A fresh connection: the first end is for the peer under test, the second is the remote's (listening).
  std::pair<std::unique_ptr<stream::Stream>, std::unique_ptr<RemoteEnd>> MakePair() {
    std::unique_ptr<stream::Stream> dialed;
    auto dial = transport_->Dial(
        listener_->listen_addr(),
        [&](StatusOr<std::unique_ptr<stream::RawConnection>> c) { dialed = std::move(c).value(); });
    loop_.RunUntilIdle();
    EXPECT_NE(dialed, nullptr);
    EXPECT_NE(accepted_, nullptr);
    auto remote = std::make_unique<RemoteEnd>();
    remote->stream = std::move(accepted_);
    remote->Listen();
    return {std::move(dialed), std::move(remote)};
  }

  // A new peer with `options`, whose opener is `opener_`.
  std::unique_ptr<PubSubPeer> MakePeer(PubSubPeerOptions options = {}) {
    return std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), options,
                                        delivered_.Callbacks());
  }

  // Gives the peer a new inbound stream and returns the remote's end of it.
  std::unique_ptr<RemoteEnd> AttachInbound(PubSubPeer* peer) {
    auto [ours, theirs] = MakePair();
    peer->AttachInbound(std::move(ours));
    return std::move(theirs);
  }

  // The topics of the RPCs delivered from a chunk of two ("a", "b") when on_rpc hands the peer to a deleter
  // at the first, calling StopReading() first or not; the peer must be gone and its stream ended after.
  std::vector<std::string> TopicsReadAsOnRpcLetsThePeerGo(bool stop_reading);

  // Answers the opener's request `i` from the loop (as a host would) with a new connection, returning the
  // remote's end.
  std::unique_ptr<RemoteEnd> AnswerWithStream(size_t i) {
    auto [ours, theirs] = MakePair();
    auto stream = std::make_shared<std::unique_ptr<stream::Stream>>(std::move(ours));
    loop_.Post([this, i, stream] { opener_.Answer(i, std::move(*stream)); });
    loop_.RunUntilIdle();
    return std::move(theirs);
  }
  void AnswerWithError(size_t i) {
    loop_.Post([this, i] { opener_.Answer(i, UnavailableError("no route to peer")); });
    loop_.RunUntilIdle();
  }

  ManualEventLoop loop_;
  // Small write buffers, so that a remote that stops reading soon blocks the writer.
  stream::MemoryNetwork net_{&loop_, stream::WriteLimits{4096, 1024, 1 << 20}};
  std::unique_ptr<stream::Transport> transport_ = net_.CreateTransport();
  std::unique_ptr<stream::Listener> listener_;
  std::unique_ptr<stream::RawConnection> accepted_;
  FakeOpener opener_;
  Delivered delivered_;
};

// ---------------------------------------------------------------------------------------------------------
// Receiving.

// Several RPCs in one write come out of on_rpc decoded, one each, in the order they were sent.
TEST_F(PubSubPeerTest, ReceivedRpcsAreDecodedAndDeliveredInOrder) {
  auto peer = MakePeer();
  auto remote = AttachInbound(peer.get());
  const std::string wire =
      Frame(SubscribeRpc("a")) + Frame(DataRpc("a", "one")) + Frame(DataRpc("b", "two")) + Frame(pb::RPC());
  ASSERT_TRUE(remote->Write(wire).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 4u);
  EXPECT_EQ(delivered_.rpcs[0].subscriptions(0).topicid(), "a");
  EXPECT_EQ(delivered_.rpcs[1].publish(0).data(), "one");
  EXPECT_EQ(delivered_.rpcs[2].publish(0).data(), "two");
  EXPECT_EQ(delivered_.rpcs[3].ByteSizeLong(), 0u);  // An empty frame is an empty RPC.
  EXPECT_EQ(peer->stats().rpcs_received, 4u);
  EXPECT_EQ(peer->stats().bad_frames, 0u);
  EXPECT_EQ(opener_.calls, 0);  // Receiving opens nothing.
}

// The same two frames, cut into two reads at every byte offset (including inside the two-byte length of the
// first one and inside the second one's prefix), decode to the same RPCs.
TEST_F(PubSubPeerTest, FrameSplitAtEveryOffsetIsReassembled) {
  const std::string wire = Frame(DataRpc("t", std::string(200, 'd'))) + Frame(SubscribeRpc("s"));
  ASSERT_GT(wire[0] & 0x80, 0);  // The first length takes two bytes.
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    delivered_.rpcs.clear();
    auto peer = MakePeer();
    auto remote = AttachInbound(peer.get());
    ASSERT_TRUE(remote->Write(wire.substr(0, cut)).ok());
    loop_.RunUntilIdle();  // Separate reads: the memory connection would merge writes made back to back.
    ASSERT_TRUE(remote->Write(wire.substr(cut)).ok());
    loop_.RunUntilIdle();
    ASSERT_EQ(delivered_.rpcs.size(), 2u);
    EXPECT_EQ(delivered_.rpcs[0].publish(0).data(), std::string(200, 'd'));
    EXPECT_EQ(delivered_.rpcs[1].subscriptions(0).topicid(), "s");
    EXPECT_EQ(peer->stats().bad_frames, 0u);
  }
}

// A frame one byte over max_rpc_size is refused on its length prefix alone (no body sent): the stream is
// reset, the frame counted, nothing delivered. A frame exactly at the limit passes. The peer keeps working
// with the next inbound stream the remote opens.
TEST_F(PubSubPeerTest, OversizedFrameResetsTheStreamAndThePeerStays) {
  PubSubPeerOptions options;
  options.limits.max_rpc_size = 100;
  auto peer = MakePeer(options);

  const pb::RPC at_limit = RpcOfSize(100);
  ASSERT_EQ(at_limit.ByteSizeLong(), 100u);
  auto first = AttachInbound(peer.get());
  ASSERT_TRUE(first->Write(Frame(at_limit)).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 1u);

  std::string header;
  AppendUvarint(101, &header);
  ASSERT_TRUE(first->Write(header).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(first->errored);
  EXPECT_EQ(peer->stats().bad_frames, 1u);
  EXPECT_EQ(delivered_.rpcs.size(), 1u);
  EXPECT_FALSE(first->Write(Frame(SubscribeRpc("late"))).ok());  // That stream is gone.

  auto second = AttachInbound(peer.get());
  ASSERT_TRUE(second->Write(Frame(SubscribeRpc("again"))).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 2u);
  EXPECT_EQ(delivered_.rpcs[1].subscriptions(0).topicid(), "again");
  EXPECT_EQ(peer->stats().bad_frames, 1u);
  EXPECT_EQ(peer->stats().rpcs_received, 2u);
}

// A frame whose body is not a protobuf RPC, and one that decodes but exceeds a count limit, each reset their
// stream: RPCs before the bad frame in the same read are delivered, those after it are not.
TEST_F(PubSubPeerTest, UndecodableFramesResetTheStreamAndAreCountedButOverLimitOnesDoNot) {
  PubSubPeerOptions options;
  options.limits.max_subscriptions = 2;
  auto peer = MakePeer(options);

  auto first = AttachInbound(peer.get());
  const std::string garbage = "\x0b\xff\xff\xff";  // Field 1, wire type 3 (a group): not an RPC.
  std::string bad_frame;
  AppendUvarint(garbage.size(), &bad_frame);
  ASSERT_TRUE(
      first->Write(Frame(SubscribeRpc("before")) + bad_frame + garbage + Frame(SubscribeRpc("after"))).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(first->errored);
  ASSERT_EQ(delivered_.rpcs.size(), 1u);
  EXPECT_EQ(delivered_.rpcs[0].subscriptions(0).topicid(), "before");
  EXPECT_EQ(peer->stats().bad_frames, 1u);

  // Over a count limit is not undecodable: the elements beyond it are left out, the stream stays.
  pb::RPC too_many = SubscribeRpc("1");
  *too_many.add_subscriptions() = too_many.subscriptions(0);
  *too_many.add_subscriptions() = too_many.subscriptions(0);
  auto second = AttachInbound(peer.get());
  ASSERT_TRUE(second->Write(Frame(too_many)).ok());
  loop_.RunUntilIdle();
  EXPECT_FALSE(second->errored);
  ASSERT_EQ(delivered_.rpcs.size(), 2u);
  EXPECT_EQ(delivered_.rpcs[1].subscriptions_size(), 2);
  EXPECT_EQ(peer->stats().bad_frames, 1u);
  EXPECT_EQ(peer->stats().elements_left_out, 1u);

  auto third = AttachInbound(peer.get());
  ASSERT_TRUE(third->Write(Frame(SubscribeRpc("fine"))).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 3u);
  EXPECT_EQ(delivered_.rpcs[2].subscriptions(0).topicid(), "fine");
  EXPECT_FALSE(third->errored);
  EXPECT_EQ(peer->stats().bad_frames, 1u);
}

// A new inbound stream replaces the old one (which is closed); the remote closing its stream is not a fault.
TEST_F(PubSubPeerTest, NewInboundStreamReplacesTheOldOne) {
  auto peer = MakePeer();
  auto first = AttachInbound(peer.get());
  auto second = AttachInbound(peer.get());
  loop_.RunUntilIdle();
  EXPECT_TRUE(first->eof || first->errored);
  ASSERT_TRUE(second->Write(Frame(SubscribeRpc("x"))).ok());
  second->stream->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 1u);
  EXPECT_EQ(peer->stats().bad_frames, 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Sending.

// The node-wide budget bounds what all peers' lanes hold together, whatever each peer's own caps allow; a
// peer that goes gives its bytes back.
TEST_F(PubSubPeerTest, AllPeersLanesTogetherStayWithinTheNodeBudget) {
  SendBudget budget(8 * 1024);
  MemoryBudget& node = budget.bytes();
  PubSubPeerOptions options;
  options.send_budget = &budget;
  auto first = MakePeer(options);
  auto second = MakePeer(options);
  pb::RPC rpc = SubscribeRpc(std::string(1000, 't'));
  size_t queued = 0;
  for (int i = 0; i < 10; ++i) {
    for (PubSubPeer* p : {first.get(), second.get()}) queued += p->Send(rpc, SendLane::kPublish) == SendResult::kQueued;
  }
  EXPECT_EQ(queued, 8u) << "no stream opens here: everything waits";
  EXPECT_EQ(node.used(), first->queued_bytes() + second->queued_bytes());
  EXPECT_LE(node.used(), node.limit());
  EXPECT_EQ(first->stats().dropped_full + second->stats().dropped_full, 12u);
  // Each within its share (one largest RPC): the room was gone, not the peers slow.
  EXPECT_EQ(first->stats().dropped_no_room + second->stats().dropped_no_room, 12u);
  EXPECT_EQ(budget.own_drops(), 0u);
  first.reset();
  EXPECT_EQ(node.used(), second->queued_bytes());
  EXPECT_EQ(second->Send(rpc, SendLane::kPublish), SendResult::kQueued);
}

// A peer that does not read holds at most its share of the node budget (limit / peers, at least one largest
// RPC), so the others keep theirs.
TEST_F(PubSubPeerTest, ASlowPeerHoldsAtMostItsShareOfTheNodeBudget) {
  SendBudget budget(64 * 1024);
  PubSubPeerOptions options;
  options.limits.max_rpc_size = 4 * 1024;
  options.send_budget = &budget;
  std::vector<std::unique_ptr<PubSubPeer>> peers;
  for (int i = 0; i < 4; ++i) peers.push_back(MakePeer(options));
  ASSERT_EQ(budget.peers(), 4u);
  EXPECT_EQ(budget.share(4 * 1024 + 2), 16u * 1024);
  const pb::RPC rpc = SubscribeRpc(std::string(1000, 't'));
  while (peers[0]->Send(rpc, SendLane::kPublish) == SendResult::kQueued) {
  }
  EXPECT_LE(peers[0]->queued_bytes(), 16u * 1024);
  EXPECT_GT(peers[0]->queued_bytes(), 15u * 1024);
  // Over its own share: a drop of its own doing, which the budget counts.
  EXPECT_EQ(peers[0]->stats().dropped_full, 1u);
  EXPECT_EQ(peers[0]->stats().dropped_no_room, 0u);
  EXPECT_EQ(budget.own_drops(), 1u);
  // The other three still get their shares, 48 KiB together.
  size_t others = 0;
  for (int i = 1; i < 4; ++i) {
    while (peers[i]->Send(rpc, SendLane::kPublish) == SendResult::kQueued) {
    }
    others += peers[i]->queued_bytes();
  }
  EXPECT_GT(others, 45u * 1024);
  // With two peers left, each may hold half.
  peers.resize(2);
  EXPECT_EQ(budget.peers(), 2u);
  EXPECT_EQ(peers[0]->Send(rpc, SendLane::kPublish), SendResult::kQueued);
  // A share is never smaller than one largest RPC.
  EXPECT_EQ(SendBudget(1024).share(4098), 4098u);
}

// Send() returns at once while the stream is being opened; many sends ask the opener once. When the stream
// comes, on_ready fires and the queue goes out in order, the control lane ahead of data.
TEST_F(PubSubPeerTest, SendOpensOneStreamAndFlushesControlBeforeData) {
  auto peer = MakePeer();
  EXPECT_FALSE(peer->ready());
  EXPECT_EQ(peer->Send(DataRpc("t", "d1"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->Send(SubscribeRpc("c1"), SendLane::kControl), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "d2"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->Send(SubscribeRpc("c2"), SendLane::kControl), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "d3"), SendLane::kPublish), SendResult::kQueued);
  loop_.RunUntilIdle();
  EXPECT_EQ(opener_.calls, 1);
  EXPECT_EQ(delivered_.ready, 0);
  const size_t expected_bytes = Frame(DataRpc("t", "d1")).size() * 3 + Frame(SubscribeRpc("c1")).size() * 2;
  EXPECT_EQ(peer->queued_bytes(), expected_bytes);

  auto remote = AnswerWithStream(0);
  EXPECT_EQ(delivered_.ready, 1);
  EXPECT_TRUE(peer->ready());
  EXPECT_EQ(peer->queued_bytes(), 0u);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].subscriptions(0).topicid(), "c1");
  EXPECT_EQ(got[1].subscriptions(0).topicid(), "c2");
  EXPECT_EQ(got[2].publish(0).data(), "d1");
  EXPECT_EQ(got[3].publish(0).data(), "d2");
  EXPECT_EQ(got[4].publish(0).data(), "d3");
  EXPECT_EQ(peer->stats().rpcs_sent, 5u);

  // Once open, sends go straight out on the same stream.
  EXPECT_EQ(peer->Send(DataRpc("t", "d4"), SendLane::kPublish), SendResult::kQueued);
  loop_.RunUntilIdle();
  EXPECT_EQ(remote->Rpcs().size(), 6u);
  EXPECT_EQ(opener_.calls, 1);
  EXPECT_EQ(delivered_.ready, 1);
}

// An urgent RPC (an IDONTWANT) queued after control and data RPCs, all waiting for the stream, is written
// first; control still goes ahead of data.
TEST_F(PubSubPeerTest, AnUrgentRpcQueuedLastGoesOutFirst) {
  auto peer = MakePeer();
  pb::RPC idontwant;
  idontwant.mutable_control()->add_idontwant()->add_messageids("m1");
  ASSERT_EQ(peer->Send(DataRpc("t", "d1"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(peer->Send(SubscribeRpc("c1"), SendLane::kControl), SendResult::kQueued);
  ASSERT_EQ(peer->Send(idontwant, SendLane::kUrgent, "tags-are-ignored-here"), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 3u);
  ASSERT_EQ(got[0].control().idontwant_size(), 1);
  EXPECT_EQ(got[0].control().idontwant(0).messageids(0), "m1");
  EXPECT_EQ(got[1].subscriptions(0).topicid(), "c1");
  EXPECT_EQ(got[2].publish(0).data(), "d1");
  EXPECT_TRUE(delivered_.asked.empty());  // A tag on the urgent lane is not shown to `wanted`.
}

// The urgent lane has its own cap: full, it drops (and counts) while the other lanes still take RPCs.
TEST_F(PubSubPeerTest, TheUrgentLaneIsBoundedOnItsOwn) {
  pb::RPC idontwant;
  idontwant.mutable_control()->add_idontwant()->add_messageids("m1");
  const size_t frame = Frame(idontwant).size();
  PubSubPeerOptions options;
  options.max_urgent_bytes = 2 * frame;
  auto peer = MakePeer(options);
  EXPECT_EQ(peer->Send(idontwant, SendLane::kUrgent), SendResult::kQueued);
  EXPECT_EQ(peer->Send(idontwant, SendLane::kUrgent), SendResult::kQueued);
  EXPECT_EQ(peer->Send(idontwant, SendLane::kUrgent), SendResult::kDroppedFull);
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->stats().dropped_full, 1u);
  EXPECT_EQ(peer->queued_bytes(), 2 * frame + Frame(SubscribeRpc("c")).size() + Frame(DataRpc("t", "d")).size());
}

// A remote that stops reading fills the stream's write buffer; Send() still returns at once, the surplus
// waits in the peer's queue, and everything arrives in order once the remote reads again.
TEST_F(PubSubPeerTest, SendNeverBlocksOnASlowReader) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("first"), SendLane::kControl), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  ASSERT_EQ(remote->Rpcs().size(), 1u);
  remote->stream->PauseReading(true);
  // More than one write's worth (kBatchBytes): the stream takes one batch, then is full.
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(peer->Send(DataRpc("t", std::to_string(i) + std::string(500, '.')), SendLane::kPublish),
              SendResult::kQueued);
  }
  loop_.RunUntilIdle();
  EXPECT_GT(peer->queued_bytes(), 0u);  // The stream's buffer is full; the rest waits in the data lane.
  EXPECT_LT(peer->stats().rpcs_sent, static_cast<uint64_t>(kCount + 1));
  remote->stream->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->queued_bytes(), 0u);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), static_cast<size_t>(kCount + 1));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(got[i + 1].publish(0).data(), std::to_string(i) + std::string(500, '.'));
  }
  EXPECT_EQ(peer->stats().rpcs_sent, static_cast<uint64_t>(kCount + 1));
  EXPECT_EQ(opener_.calls, 1);
}

// on_drained tells a sender pacing itself by queued_bytes() when the lanes, held up by a slow reader, are
// empty again; never from inside Send().
TEST_F(PubSubPeerTest, DrainedIsToldWhenHeldRpcsHaveLeft) {
  int drained = 0;
  size_t queued_when_told = 1;
  PubSubPeer::Callbacks callbacks = delivered_.Callbacks();
  PubSubPeer* observed = nullptr;
  callbacks.on_drained = [&](PubSubPeer& p) {
    ++drained;
    queued_when_told = p.queued_bytes();
    EXPECT_EQ(&p, observed);
  };
  auto peer = std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), PubSubPeerOptions{},
                                           std::move(callbacks));
  observed = peer.get();
  ASSERT_EQ(peer->Send(SubscribeRpc("first"), SendLane::kControl), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  const int after_open = drained;  // The first RPC waited for the stream: its opening drained the lanes.
  EXPECT_EQ(after_open, 1);
  remote->stream->PauseReading(true);
  for (int i = 0; i < 200; ++i) {
    const int before = drained;
    ASSERT_EQ(peer->Send(DataRpc("t", std::string(500, '.')), SendLane::kPublish), SendResult::kQueued);
    EXPECT_EQ(drained, before);  // Never from inside Send().
  }
  loop_.RunUntilIdle();
  ASSERT_GT(peer->queued_bytes(), 0u);
  const int while_held = drained;
  loop_.RunUntilIdle();
  EXPECT_EQ(drained, while_held);  // Nothing left while the reader is stopped.
  remote->stream->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(drained, while_held + 1);
  EXPECT_EQ(queued_when_told, 0u);
  EXPECT_EQ(remote->Rpcs().size(), 201u);
}

// RPCs that expire unsent empty the lanes too: the sender is told.
TEST_F(PubSubPeerTest, DrainedIsToldWhenHeldRpcsExpire) {
  int drained = 0;
  PubSubPeer::Callbacks callbacks = delivered_.Callbacks();
  callbacks.on_drained = [&](PubSubPeer&) { ++drained; };
  PubSubPeerOptions options;
  options.publish_send_timeout = std::chrono::seconds(5);
  auto peer = std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), options,
                                           std::move(callbacks));
  ASSERT_EQ(peer->Send(DataRpc("t", "never opened"), SendLane::kPublish), SendResult::kQueued);
  loop_.AdvanceTime(std::chrono::seconds(4));
  EXPECT_EQ(drained, 0);
  loop_.AdvanceTime(std::chrono::seconds(2));
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 1u);
  EXPECT_EQ(drained, 1);
}

// The first RPC of a loop turn is written at once; the ones after it in the same turn go out together when
// the turn ends (one stream write), in order.
TEST_F(PubSubPeerTest, RpcsOfOneTurnGoOutTogether) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("first"), SendLane::kControl), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  ASSERT_EQ(remote->Rpcs().size(), 1u);
  loop_.Post([&] {
    for (int i = 0; i < 10; ++i) ASSERT_EQ(peer->Send(DataRpc("t", std::to_string(i)), SendLane::kPublish), SendResult::kQueued);
    EXPECT_EQ(peer->stats().rpcs_sent, 2u);  // The first of the turn, at once.
    EXPECT_EQ(peer->queued_bytes(), 9 * Frame(DataRpc("t", "1")).size());
  });
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->stats().rpcs_sent, 11u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 11u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i + 1].publish(0).data(), std::to_string(i));
}

// A peer keeps no buffer between writes: hundreds of peers that once carried a block would each hold one.
TEST_F(PubSubPeerTest, AfterALargeRpcThePeerKeepsNoBufferSizedForIt) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("first"), SendLane::kControl), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  const pb::RPC block = DataRpc("t", std::string(100000, 'b'));
  const size_t block_frame = Frame(block).size();
  std::string().swap(remote->received);
  const size_t before = testing::LiveBytes();
  ASSERT_GT(before, 0u) << "the counting operator new (//libp2p/base:live_bytes) is not linked";
  // Alone, then with a small RPC of the same turn.
  ASSERT_EQ(peer->Send(block, SendLane::kForward), SendResult::kQueued);
  loop_.RunUntilIdle();
  loop_.Post([&] {
    ASSERT_EQ(peer->Send(SubscribeRpc("second"), SendLane::kControl), SendResult::kQueued);
    ASSERT_EQ(peer->Send(DataRpc("t", std::string(30000, 'c')), SendLane::kForward), SendResult::kQueued);
  });
  loop_.RunUntilIdle();
  EXPECT_EQ(remote->Rpcs().size(), 3u);
  EXPECT_GT(remote->received.size(), block_frame + 30000);
  std::string().swap(remote->received);
  EXPECT_LT(testing::LiveBytes(), before + 8 * 1024)
      << "the peer grew by " << testing::LiveBytes() - before << " bytes";
}

// Each lane holds at most its cap in encoded bytes; beyond, Send() drops the RPC, says kDroppedFull and
// counts it. The lanes are independent.
TEST_F(PubSubPeerTest, FullLanesDropAndCount) {
  const size_t control_frame = Frame(SubscribeRpc("c")).size();
  const size_t data_frame = Frame(DataRpc("t", "d")).size();
  PubSubPeerOptions options;
  options.max_control_bytes = 2 * control_frame;
  options.max_data_bytes = 3 * data_frame + data_frame / 2;
  auto peer = MakePeer(options);
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);  // Exactly at the cap.
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kDroppedFull);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish), SendResult::kDroppedFull);
  EXPECT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish), SendResult::kDroppedFull);
  EXPECT_EQ(peer->stats().dropped_full, 3u);
  EXPECT_EQ(peer->queued_bytes(), 2 * control_frame + 3 * data_frame);
  EXPECT_EQ(opener_.calls, 1);

  // What was kept goes out once the stream opens; then the lanes have room again.
  auto remote = AnswerWithStream(0);
  EXPECT_EQ(remote->Rpcs().size(), 5u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
}

// An RPC whose encoding exceeds max_rpc_size is refused with kTooLarge: nothing is queued and no stream is
// opened for it. One exactly at the limit is sent.
TEST_F(PubSubPeerTest, TooLargeRpcIsRefused) {
  PubSubPeerOptions options;
  options.limits.max_rpc_size = 64;
  auto peer = MakePeer(options);
  pb::RPC rpc = RpcOfSize(65);
  ASSERT_EQ(rpc.ByteSizeLong(), 65u);
  EXPECT_EQ(peer->Send(rpc, SendLane::kPublish), SendResult::kTooLarge);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(opener_.calls, 0);
  EXPECT_EQ(peer->stats().dropped_full, 0u);

  rpc.mutable_publish(0)->mutable_data()->pop_back();
  ASSERT_EQ(rpc.ByteSizeLong(), 64u);
  EXPECT_EQ(peer->Send(rpc, SendLane::kPublish), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  EXPECT_EQ(remote->Rpcs().size(), 1u);
}

// A frame encoded by the caller (one encoding for all the peers of a message) is held to the same lane caps
// and size limit as an RPC given to Send(), keeps its tag, and goes out in Send() order with the others.
TEST_F(PubSubPeerTest, CallerEncodedFramesAreQueuedLikeRpcs) {
  pb::Message m1 = DataRpc("t", "m1").publish(0);
  Bytes frame;
  const size_t rpc_size = AppendPublishFrame(m1, &frame);
  ASSERT_EQ(std::string(frame.begin(), frame.end()), Frame(DataRpc("t", "m1")));
  PubSubPeerOptions options;
  options.max_data_bytes = 3 * frame.size();
  options.limits.max_rpc_size = 64;
  auto peer = MakePeer(options);
  EXPECT_FALSE(peer->sends_observed());
  // One buffer, shared by both queued copies; each counts whole.
  const auto shared = std::make_shared<const Bytes>(frame);
  EXPECT_EQ(peer->SendFrame(shared, rpc_size, SendLane::kPublish, "id1"), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "m2"), SendLane::kForward), SendResult::kQueued);
  EXPECT_EQ(peer->SendFrame(shared, rpc_size, SendLane::kForward), SendResult::kQueued);
  EXPECT_EQ(peer->queued_bytes(), 3 * frame.size());
  // The data lanes are full.
  EXPECT_EQ(peer->SendFrame(shared, rpc_size, SendLane::kPublish), SendResult::kDroppedFull);
  EXPECT_EQ(peer->stats().dropped_full, 1u);
  // Too large for the peer's limit: refused, not counted.
  pb::Message big = m1;
  big.set_data(std::string(64, 'x'));
  Bytes big_frame;
  const size_t big_size = AppendPublishFrame(big, &big_frame);
  EXPECT_EQ(peer->SendFrame(std::make_shared<const Bytes>(big_frame), big_size, SendLane::kPublish),
            SendResult::kTooLarge);
  EXPECT_EQ(peer->stats().dropped_full, 1u);

  delivered_.unwanted = {"id1"};
  auto remote = AnswerWithStream(0);
  const std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].publish(0).data(), "m2");
  EXPECT_EQ(got[1].publish(0).data(), "m1");
  EXPECT_EQ(delivered_.asked, std::vector<std::string>{"id1"});
  EXPECT_EQ(peer->stats().dropped_unwanted, 1u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
}

// Passes everything to an inner stream, noting for each write the shared buffer it came with (null for
// Write()).
class WriteRecorder final : public stream::Stream {
 public:
  WriteRecorder(std::unique_ptr<stream::Stream> inner, std::vector<const Bytes*>* owners)
      : inner_(std::move(inner)), owners_(owners) {}
  void SetHandlers(Handlers handlers) override { inner_->SetHandlers(std::move(handlers)); }
  Status Write(ByteSpan data) override {
    owners_->push_back(nullptr);
    return inner_->Write(data);
  }
  Status WriteShared(ByteSpan data, const std::shared_ptr<const Bytes>& owner) override {
    owners_->push_back(owner.get());
    return inner_->WriteShared(data, owner);
  }
  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  bool write_blocked() const override { return inner_->write_blocked(); }
  void PauseReading(bool paused) override { inner_->PauseReading(paused); }
  void Unread(ByteSpan data) override { inner_->Unread(data); }
  void CloseWrite() override { inner_->CloseWrite(); }
  void Reset() override { inner_->Reset(); }

 private:
  std::unique_ptr<stream::Stream> inner_;
  std::vector<const Bytes*>* const owners_;
};

// A frame that goes out alone is written as the shared buffer it was queued as (Stream::WriteShared), so
// that a layer below may keep it rather than a copy; frames batched into one write are copied into it.
TEST_F(PubSubPeerTest, AFrameAloneIsWrittenAsItsSharedBuffer) {
  pb::Message m = DataRpc("t", std::string(1000, 'm')).publish(0);
  Bytes frame;
  const size_t rpc_size = AppendPublishFrame(m, &frame);
  const auto shared = std::make_shared<const Bytes>(frame);
  // Answers open request `i` with a stream that records its writes' owners into `owners`.
  auto answer = [this](size_t i, std::vector<const Bytes*>* owners) {
    auto [ours, theirs] = MakePair();
    auto wrapped = std::make_shared<std::unique_ptr<stream::Stream>>(
        std::make_unique<WriteRecorder>(std::move(ours), owners));
    loop_.Post([this, i, wrapped] { opener_.Answer(i, std::move(*wrapped)); });
    loop_.RunUntilIdle();
    return std::move(theirs);
  };
  auto alone = MakePeer();
  ASSERT_EQ(alone->SendFrame(shared, rpc_size, SendLane::kForward), SendResult::kQueued);
  std::vector<const Bytes*> alone_owners;
  auto alone_remote = answer(0, &alone_owners);
  EXPECT_EQ(alone_owners, std::vector<const Bytes*>{shared.get()});
  EXPECT_EQ(alone_remote->Rpcs().size(), 1u);
  // Two frames that wait together leave together, copied into one write.
  auto batched = MakePeer();
  ASSERT_EQ(batched->SendFrame(shared, rpc_size, SendLane::kForward), SendResult::kQueued);
  ASSERT_EQ(batched->SendFrame(shared, rpc_size, SendLane::kForward), SendResult::kQueued);
  std::vector<const Bytes*> batched_owners;
  auto batched_remote = answer(1, &batched_owners);
  EXPECT_EQ(batched_owners, std::vector<const Bytes*>{nullptr});
  EXPECT_EQ(batched_remote->Rpcs().size(), 2u);
}

// When the outbound stream never opens (the opener never answers), queued RPCs are dropped and counted once
// they have waited past their lane's timeout: data first, control later. The queue then holds nothing and
// no timer is left running.
TEST_F(PubSubPeerTest, RpcsWaitingPastTheirTimeoutAreDropped) {
  SendBudget budget(1024 * 1024);
  PubSubPeerOptions options;
  options.send_budget = &budget;
  options.publish_send_timeout = seconds(10);
  options.control_send_timeout = seconds(60);
  auto peer = MakePeer(options);
  ASSERT_EQ(peer->Send(DataRpc("t", "d1"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(peer->Send(SubscribeRpc("c1"), SendLane::kControl), SendResult::kQueued);
  loop_.AdvanceTime(seconds(5));
  ASSERT_EQ(peer->Send(DataRpc("t", "d2"), SendLane::kPublish), SendResult::kQueued);
  const size_t data_frame = Frame(DataRpc("t", "d1")).size();
  const size_t control_frame = Frame(SubscribeRpc("c1")).size();

  loop_.AdvanceTime(seconds(4) + milliseconds(999));  // 9.999 s after the first send: nothing expired yet.
  EXPECT_EQ(peer->stats().dropped_timeout, 0u);
  EXPECT_EQ(peer->queued_bytes(), 2 * data_frame + control_frame);
  loop_.AdvanceTime(milliseconds(1));  // d1 expires at 10 s.
  EXPECT_EQ(peer->stats().dropped_timeout, 1u);
  EXPECT_EQ(peer->queued_bytes(), data_frame + control_frame);
  loop_.AdvanceTime(seconds(5));  // d2 at 15 s.
  EXPECT_EQ(peer->stats().dropped_timeout, 2u);
  EXPECT_EQ(peer->queued_bytes(), control_frame);
  loop_.AdvanceTime(seconds(45));  // c1 at 60 s.
  EXPECT_EQ(peer->stats().dropped_timeout, 3u);
  EXPECT_EQ(budget.own_drops(), 3u);  // Waiting past a timeout is the peer's own doing.
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(loop_.scheduled_timers(), 0u);
  EXPECT_EQ(opener_.calls, 1);  // A pending open is not asked again.
  EXPECT_FALSE(peer->ready());
}

// Queued data expires by kind: a forwarded message 1 s after Send(), our own publish after 5 s (the
// defaults), each counted in its own stat and in dropped_timeout; control keeps its minute. The timer fires
// at each deadline, not on a coarser tick.
TEST_F(PubSubPeerTest, ForwardedMessagesExpireSoonerThanOurPublishes) {
  auto peer = MakePeer();  // The opener never answers: everything waits.
  ASSERT_EQ(peer->Send(DataRpc("t", "p1"), SendLane::kPublish), SendResult::kQueued);
  loop_.AdvanceTime(milliseconds(500));
  ASSERT_EQ(peer->Send(DataRpc("t", "f1"), SendLane::kForward), SendResult::kQueued);  // Due at 1.5 s.
  ASSERT_EQ(peer->Send(SubscribeRpc("c1"), SendLane::kControl), SendResult::kQueued);
  const size_t data_frame = Frame(DataRpc("t", "p1")).size();
  const size_t control_frame = Frame(SubscribeRpc("c1")).size();

  loop_.AdvanceTime(milliseconds(999));  // 1.499 s.
  EXPECT_EQ(peer->stats().dropped_timeout, 0u);
  loop_.AdvanceTime(milliseconds(1));  // 1.5 s: f1 goes, p1 stays.
  EXPECT_EQ(peer->stats().dropped_timeout_forward, 1u);
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 0u);
  EXPECT_EQ(peer->queued_bytes(), data_frame + control_frame);
  loop_.AdvanceTime(milliseconds(3499));  // 4.999 s.
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 0u);
  loop_.AdvanceTime(milliseconds(1));  // 5 s: p1 goes.
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 1u);
  EXPECT_EQ(peer->stats().dropped_timeout, 2u);
  EXPECT_EQ(peer->queued_bytes(), control_frame);
  loop_.AdvanceTime(seconds(60));
  EXPECT_EQ(peer->stats().dropped_timeout, 3u);
  EXPECT_EQ(peer->stats().dropped_timeout_forward, 1u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(loop_.scheduled_timers(), 0u);
}

// The timeouts are options; a forward queued after a publish can expire before it.
TEST_F(PubSubPeerTest, DataTimeoutsAreConfigurable) {
  PubSubPeerOptions options;
  options.publish_send_timeout = seconds(20);
  options.forward_send_timeout = seconds(3);
  auto peer = MakePeer(options);
  ASSERT_EQ(peer->Send(DataRpc("t", "p1"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "f1"), SendLane::kForward), SendResult::kQueued);
  loop_.AdvanceTime(seconds(3));
  EXPECT_EQ(peer->stats().dropped_timeout_forward, 1u);
  loop_.AdvanceTime(seconds(16));
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 0u);
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(peer->stats().dropped_timeout_publish, 1u);
}

// Publishes and forwards share the data lane's byte cap, and go out in the order they were queued, after
// control.
TEST_F(PubSubPeerTest, PublishesAndForwardsShareTheDataCapAndTheirOrder) {
  const size_t data_frame = Frame(DataRpc("t", "p1")).size();
  PubSubPeerOptions options;
  options.max_data_bytes = 4 * data_frame;
  auto peer = MakePeer(options);
  ASSERT_EQ(peer->Send(DataRpc("t", "f1"), SendLane::kForward), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "p1"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "f2"), SendLane::kForward), SendResult::kQueued);
  ASSERT_EQ(peer->Send(SubscribeRpc("c1"), SendLane::kControl), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "p2"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "f3"), SendLane::kForward), SendResult::kDroppedFull);
  EXPECT_EQ(peer->Send(DataRpc("t", "p3"), SendLane::kPublish), SendResult::kDroppedFull);
  EXPECT_EQ(peer->stats().dropped_full, 2u);
  auto remote = AnswerWithStream(0);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].subscriptions(0).topicid(), "c1");
  EXPECT_EQ(got[1].publish(0).data(), "f1");
  EXPECT_EQ(got[2].publish(0).data(), "p1");
  EXPECT_EQ(got[3].publish(0).data(), "f2");
  EXPECT_EQ(got[4].publish(0).data(), "p2");
}

// Each failed open is counted, and the next open waits 1 s, then 2, 4, 8, 16 and 30 s (the cap) while RPCs
// wait; Send() during a wait does not open early. The stream that finally opens carries everything queued,
// and resets the wait: when that stream fails (its connection went), the next open is at once, and if
// that one fails, the wait is 1 s again.
TEST_F(PubSubPeerTest, FailedOpensBackOffExponentiallyUpToTheCap) {
  PubSubPeerOptions options;
  options.control_send_timeout = std::chrono::hours(1);  // Nothing expires during the test.
  options.open_retry_initial = seconds(1);
  options.open_retry_max = seconds(30);
  auto peer = MakePeer(options);
  ASSERT_EQ(peer->Send(SubscribeRpc("c0"), SendLane::kControl), SendResult::kQueued);
  ASSERT_EQ(opener_.calls, 1);
  const std::vector<int> waits = {1, 2, 4, 8, 16, 30, 30};
  for (size_t i = 0; i < waits.size(); ++i) {
    SCOPED_TRACE("failure " + std::to_string(i + 1));
    const int calls = static_cast<int>(i) + 1;
    AnswerWithError(i);
    EXPECT_EQ(peer->stats().stream_failures, i + 1);
    EXPECT_FALSE(peer->ready());
    EXPECT_EQ(peer->Send(SubscribeRpc("c" + std::to_string(i + 1)), SendLane::kControl), SendResult::kQueued);
    loop_.AdvanceTime(seconds(waits[i]) - milliseconds(1));
    EXPECT_EQ(opener_.calls, calls);
    loop_.AdvanceTime(milliseconds(1));
    ASSERT_EQ(opener_.calls, calls + 1);
  }
  EXPECT_EQ(delivered_.ready, 0);

  auto remote = AnswerWithStream(waits.size());
  EXPECT_TRUE(peer->ready());
  EXPECT_EQ(delivered_.ready, 1);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), waits.size() + 1);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].subscriptions(0).topicid(), "c" + std::to_string(i));
  EXPECT_EQ(peer->queued_bytes(), 0u);
  loop_.AdvanceTime(seconds(60));
  EXPECT_EQ(opener_.calls, 8);  // Nothing more to retry.

  remote->stream->Reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->stats().stream_failures, 8u);
  ASSERT_EQ(peer->Send(SubscribeRpc("again"), SendLane::kControl), SendResult::kQueued);
  ASSERT_EQ(opener_.calls, 9);
  AnswerWithError(8);
  loop_.AdvanceTime(seconds(1) - milliseconds(1));
  EXPECT_EQ(opener_.calls, 9);
  loop_.AdvanceTime(milliseconds(1));
  EXPECT_EQ(opener_.calls, 10);
}

// The wait after a failure holds even when nothing is queued, but no open happens then: when the wait ends
// with the queue empty (here the RPC timed out), the peer stays idle, and the next Send() opens at once.
// The wait keeps doubling across such idle spells until an open succeeds.
TEST_F(PubSubPeerTest, RetriesOnlyWhileSomethingIsQueued) {
  PubSubPeerOptions options;
  options.publish_send_timeout = seconds(2);
  auto peer = MakePeer(options);
  ASSERT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish), SendResult::kQueued);
  AnswerWithError(0);  // t = 0: wait 1 s.
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(opener_.calls, 2);
  AnswerWithError(1);  // t = 1 s: wait 2 s; the RPC expires at t = 2 s.
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(peer->stats().dropped_timeout, 1u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  loop_.AdvanceTime(seconds(60));
  EXPECT_EQ(opener_.calls, 2);
  EXPECT_EQ(loop_.scheduled_timers(), 0u);

  ASSERT_EQ(peer->Send(DataRpc("t", "later"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(opener_.calls, 3);
  AnswerWithError(2);  // The third failure in a row: wait 4 s.
  EXPECT_EQ(peer->stats().stream_failures, 3u);
  loop_.AdvanceTime(milliseconds(1500));
  ASSERT_EQ(peer->Send(SubscribeRpc("during"), SendLane::kControl), SendResult::kQueued);  // Lasts 60 s.
  loop_.AdvanceTime(milliseconds(2499));
  EXPECT_EQ(opener_.calls, 3);
  EXPECT_EQ(peer->stats().dropped_timeout, 2u);  // "later", before the wait ended.
  loop_.AdvanceTime(milliseconds(1));
  ASSERT_EQ(opener_.calls, 4);
  auto remote = AnswerWithStream(3);
  ASSERT_EQ(remote->Rpcs().size(), 1u);
  EXPECT_EQ(remote->Rpcs()[0].subscriptions(0).topicid(), "during");
}

// When the remote resets our outbound stream (or its connection goes, while the peer may have another), the
// failure is counted and a new stream is opened at once for what is sent next.
TEST_F(PubSubPeerTest, OutboundStreamResetByTheRemoteIsReplaced) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  auto first = AnswerWithStream(0);
  ASSERT_TRUE(peer->ready());
  first->stream->Reset();
  loop_.RunUntilIdle();
  EXPECT_FALSE(peer->ready());
  EXPECT_EQ(peer->stats().stream_failures, 1u);
  EXPECT_EQ(opener_.calls, 1);  // Nothing queued: nothing to open for yet.
  ASSERT_EQ(peer->Send(DataRpc("t", "after"), SendLane::kPublish), SendResult::kQueued);
  ASSERT_EQ(opener_.calls, 2);
  auto second = AnswerWithStream(1);
  ASSERT_EQ(second->Rpcs().size(), 1u);
  EXPECT_EQ(second->Rpcs()[0].publish(0).data(), "after");
}

// A write the stream refuses (here: the remote reset it and our end has not yet been told) fails the
// stream once, and the RPC is not lost: it stays queued (still subject to the wanted check) and goes out
// first on the next stream. Only written RPCs count as sent.
TEST_F(PubSubPeerTest, RpcWhoseWriteFailsStaysQueuedForTheNextStream) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  auto first = AnswerWithStream(0);
  ASSERT_EQ(first->Rpcs().size(), 1u);
  first->stream->Reset();  // The loop does not run: our end learns of it only at its next write.

  ASSERT_EQ(peer->Send(DataRpc("t", "kept"), SendLane::kPublish, "id-kept"), SendResult::kQueued);
  EXPECT_FALSE(peer->ready());
  EXPECT_EQ(opener_.calls, 2);  // Reopened at once for the RPC that stayed queued.
  EXPECT_EQ(peer->stats().stream_failures, 1u);
  EXPECT_EQ(peer->stats().rpcs_sent, 1u);
  EXPECT_EQ(peer->queued_bytes(), Frame(DataRpc("t", "kept")).size());
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->stats().stream_failures, 1u);  // That stream is gone: its error is not counted again.

  ASSERT_EQ(peer->Send(DataRpc("t", "gone"), SendLane::kPublish, "id-gone"), SendResult::kQueued);
  delivered_.unwanted.insert("id-gone");
  EXPECT_EQ(opener_.calls, 2);
  auto second = AnswerWithStream(1);
  std::vector<pb::RPC> got = second->Rpcs();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].publish(0).data(), "kept");
  EXPECT_EQ(peer->stats().rpcs_sent, 2u);
  EXPECT_EQ(peer->stats().dropped_unwanted, 1u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  EXPECT_EQ(peer->stats().stream_failures, 1u);
}

TEST_F(PubSubPeerTest, RpcsOfABatchWhoseWriteFailsGoOutInTheirOrderOnTheNextStream) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  auto first = AnswerWithStream(0);
  loop_.RunUntilIdle();
  ASSERT_EQ(first->Rpcs().size(), 1u);

  // The first RPC of a turn is written at once; the two after it wait for the turn's end, and go as one
  // write, which fails: the remote reset the stream meanwhile.
  ASSERT_EQ(peer->Send(DataRpc("t", "one"), SendLane::kPublish, "id-1"), SendResult::kQueued);
  first->stream->Reset();
  ASSERT_EQ(peer->Send(DataRpc("t", "two"), SendLane::kPublish, "id-2"), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "three"), SendLane::kPublish, "id-3"), SendResult::kQueued);
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->stats().stream_failures, 1u);
  EXPECT_EQ(peer->stats().rpcs_sent, 2u);
  EXPECT_EQ(peer->queued_bytes(), Frame(DataRpc("t", "two")).size() + Frame(DataRpc("t", "three")).size());
  ASSERT_EQ(opener_.calls, 2);

  auto second = AnswerWithStream(1);
  const std::vector<pb::RPC> got = second->Rpcs();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].publish(0).data(), "two");
  EXPECT_EQ(got[1].publish(0).data(), "three");
  EXPECT_EQ(peer->stats().rpcs_sent, 4u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Unwanted RPCs (IDONTWANT).

// When a tagged data RPC reaches the head of its lane, the peer asks Callbacks::wanted about its tag and drops
// it unsent on a no; untagged RPCs and control RPCs (whose tags are ignored) are never asked about. The rest
// goes out in order, and the dropped ones' bytes leave queued_bytes().
TEST_F(PubSubPeerTest, UnwantedTaggedRpcsAreDroppedWhenTheirTurnComes) {
  auto peer = MakePeer();
  EXPECT_EQ(peer->Send(DataRpc("t", "m1"), SendLane::kPublish, "id1"), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "m2"), SendLane::kPublish, "id2"), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "m1"), SendLane::kPublish, "id1"), SendResult::kQueued);  // Again.
  EXPECT_EQ(peer->Send(DataRpc("t", "m3"), SendLane::kPublish), SendResult::kQueued);
  EXPECT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl, "id2"), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "m5"), SendLane::kPublish, "id5"), SendResult::kQueued);
  delivered_.unwanted = {"id1", "id2"};

  auto remote = AnswerWithStream(0);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].subscriptions(0).topicid(), "c");
  EXPECT_EQ(got[1].publish(0).data(), "m3");
  EXPECT_EQ(got[2].publish(0).data(), "m5");
  EXPECT_EQ(delivered_.asked, (std::vector<std::string>{"id1", "id2", "id1", "id5"}));
  EXPECT_EQ(peer->stats().dropped_unwanted, 3u);
  EXPECT_EQ(peer->stats().rpcs_sent, 3u);
  EXPECT_EQ(peer->queued_bytes(), 0u);

  // Once the stream is open and writable, a send goes out at once, asked about at its turn like any other.
  EXPECT_EQ(peer->Send(DataRpc("t", "m6"), SendLane::kPublish, "id1"), SendResult::kQueued);
  EXPECT_EQ(peer->Send(DataRpc("t", "m7"), SendLane::kPublish, "id7"), SendResult::kQueued);
  loop_.RunUntilIdle();
  got = remote->Rpcs();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].publish(0).data(), "m7");
  EXPECT_EQ(peer->stats().dropped_unwanted, 4u);
}

// A long queue, half of it unwanted: each RPC costs one question at its turn (no scan of the queue per
// IDONTWANT), and the wanted half goes out in order.
TEST_F(PubSubPeerTest, LongQueueHalfUnwanted) {
  constexpr int kQueued = 20000;
  auto peer = MakePeer();
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_EQ(peer->Send(DataRpc("t", std::to_string(i)), SendLane::kPublish, "id" + std::to_string(i)),
              SendResult::kQueued);
    if (i % 2 == 0) delivered_.unwanted.insert("id" + std::to_string(i));
  }
  auto remote = AnswerWithStream(0);
  std::vector<pb::RPC> got = remote->Rpcs();
  ASSERT_EQ(got.size(), static_cast<size_t>(kQueued / 2));
  for (int i = 0; i < kQueued / 2; ++i) ASSERT_EQ(got[i].publish(0).data(), std::to_string(2 * i + 1));
  EXPECT_EQ(delivered_.asked.size(), static_cast<size_t>(kQueued));
  EXPECT_EQ(peer->stats().dropped_unwanted, static_cast<size_t>(kQueued / 2));
  EXPECT_EQ(peer->queued_bytes(), 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Observers.

// Sees every RPC with the peer's id, and rewrites: topics it receives get a prefix, data it sends a suffix.
class Rewriter : public RpcObserver {
 public:
  void OnReceive(const PeerId& peer, pb::RPC* rpc) override {
    peers.push_back(peer);
    ++received;
    for (auto& s : *rpc->mutable_subscriptions()) s.set_topicid("seen:" + s.topicid());
  }
  void OnSend(const PeerId& peer, pb::RPC* rpc) override {
    peers.push_back(peer);
    ++sent;
    for (auto& m : *rpc->mutable_publish()) m.mutable_data()->append("!");
  }
  std::vector<PeerId> peers;
  int received = 0;
  int sent = 0;
};

// Observers run on every RPC received (before on_rpc) and every RPC sent (before it is encoded), and what
// they change is what on_rpc gets and what goes on the wire.
TEST_F(PubSubPeerTest, ObserversSeeAndRewriteRpcs) {
  auto peer = MakePeer();
  Rewriter first, second;
  peer->AddObserver(&first);
  peer->AddObserver(&second);
  auto inbound = AttachInbound(peer.get());
  ASSERT_TRUE(inbound->Write(Frame(SubscribeRpc("t"))).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(delivered_.rpcs.size(), 1u);
  EXPECT_EQ(delivered_.rpcs[0].subscriptions(0).topicid(), "seen:seen:t");  // Both, in the order added.

  ASSERT_EQ(peer->Send(DataRpc("t", "hi"), SendLane::kPublish), SendResult::kQueued);
  auto outbound = AnswerWithStream(0);
  ASSERT_EQ(outbound->Rpcs().size(), 1u);
  EXPECT_EQ(outbound->Rpcs()[0].publish(0).data(), "hi!!");
  EXPECT_EQ(first.received, 1);
  EXPECT_EQ(first.sent, 1);
  EXPECT_EQ(second.received, 1);
  EXPECT_EQ(second.sent, 1);
  for (const PeerId& p : first.peers) EXPECT_EQ(p, TestPeerId("remote"));
}

// ---------------------------------------------------------------------------------------------------------
// Lifetimes.

// Destroying the peer while its opener has not answered cancels the open: the opener never calls back
// into the dead peer. (Run under ASan to see the absence of a use-after-free.)
TEST_F(PubSubPeerTest, DestroyedWhileAnOpenIsPending) {
  auto peer = MakePeer();
  ASSERT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  ASSERT_EQ(peer->Send(DataRpc("t", "d"), SendLane::kPublish, "id"), SendResult::kQueued);
  ASSERT_EQ(opener_.calls, 1);
  EXPECT_FALSE(opener_.cancelled[0]);
  peer.reset();
  EXPECT_TRUE(opener_.cancelled[0]);
  auto remote = AnswerWithStream(0);
  EXPECT_EQ(delivered_.ready, 0);
  EXPECT_TRUE(remote->received.empty());
  loop_.AdvanceTime(seconds(120));
  EXPECT_EQ(opener_.calls, 1);
}

// on_ready may hand the peer to its owner's deleter (as the owner does when the peer goes): it is gone when
// the loop comes back, its stream closed.
TEST_F(PubSubPeerTest, OnReadyMayHandThePeerToADeleter) {
  DeferredDeleter deleter(&loop_);
  std::unique_ptr<PubSubPeer> peer;
  peer = std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), PubSubPeerOptions{},
                                      PubSubPeer::Callbacks{nullptr, [&](PubSubPeer&) { deleter.Delete(std::move(peer)); }});
  ASSERT_EQ(peer->Send(SubscribeRpc("c"), SendLane::kControl), SendResult::kQueued);
  auto remote = AnswerWithStream(0);
  EXPECT_EQ(peer, nullptr);
  loop_.RunUntilIdle();
  EXPECT_TRUE(remote->eof || remote->errored);
}

std::vector<std::string> PubSubPeerTest::TopicsReadAsOnRpcLetsThePeerGo(bool stop_reading) {
  DeferredDeleter deleter(&loop_);
  std::unique_ptr<PubSubPeer> peer;
  std::vector<std::string> topics;
  peer = std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), PubSubPeerOptions{},
                                      PubSubPeer::Callbacks{[&](PubSubPeer& p, pb::RPC rpc) {
                                                              topics.push_back(rpc.subscriptions(0).topicid());
                                                              if (stop_reading) p.StopReading();
                                                              if (peer != nullptr) deleter.Delete(std::move(peer));
                                                            },
                                                            nullptr});
  auto remote = AttachInbound(peer.get());
  EXPECT_TRUE(remote->Write(Frame(SubscribeRpc("a")) + Frame(SubscribeRpc("b"))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(peer, nullptr);
  loop_.RunUntilIdle();
  EXPECT_TRUE(remote->eof || remote->errored);
  return topics;
}

// on_rpc may hand the peer to a deleter; the Feed() in progress finishes on the live reader (on_rpc
// destroying the peer inline once left Feed() running on a freed reader). The chunk read before the
// deletion is delivered whole.
TEST_F(PubSubPeerTest, OnRpcMayHandThePeerToADeleter) {
  EXPECT_EQ(TopicsReadAsOnRpcLetsThePeerGo(false), (std::vector<std::string>{"a", "b"}));
}

// An owner letting the peer go that stops its reading first hears nothing more, not even the rest of the
// chunk.
TEST_F(PubSubPeerTest, StopReadingDeliversNothingMore) {
  EXPECT_EQ(TopicsReadAsOnRpcLetsThePeerGo(true), std::vector<std::string>{"a"});
}

// Regression: on_rpc replacing the inbound stream once destroyed the FrameReader whose Feed() was running
// (a use after free), and bytes read from the old stream after the replacement were still delivered.
// The old stream and its reader now go to the deleter, and reading stops when the stream changed.
TEST_F(PubSubPeerTest, OnRpcMayReplaceTheInboundStream) {
  std::vector<std::string> topics;
  std::unique_ptr<stream::Stream> replacement;
  std::unique_ptr<RemoteEnd> replacement_remote;
  auto on_rpc = [&](PubSubPeer& p, pb::RPC rpc) {
    topics.push_back(rpc.subscriptions(0).topicid());
    if (replacement != nullptr) p.AttachInbound(std::move(replacement));
  };
  auto peer = std::make_unique<PubSubPeer>(&loop_, TestPeerId("remote"), opener_.Get(), PubSubPeerOptions{},
                                           PubSubPeer::Callbacks{on_rpc, nullptr});
  std::tie(replacement, replacement_remote) = MakePair();
  auto remote = AttachInbound(peer.get());
  ASSERT_TRUE(remote->Write(Frame(SubscribeRpc("a")) + Frame(SubscribeRpc("b"))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(topics, std::vector<std::string>{"a"});
  ASSERT_TRUE(replacement_remote->Write(Frame(SubscribeRpc("c"))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(topics, (std::vector<std::string>{"a", "c"}));
}

// ---------------------------------------------------------------------------------------------------------
// The hello (gossipsub v1.3's Extensions go in it) and the first RPC of a stream.

// The hello is written first on every outbound stream the peer opens, ahead of what was queued before the
// stream opened, and again on the stream that replaces it after a new connection.
TEST_F(PubSubPeerTest, HelloGoesFirstOnEveryNewOutboundStream) {
  int hellos = 0;
  PubSubPeer::Callbacks callbacks = delivered_.Callbacks();
  callbacks.hello = [&](PubSubPeer&) { return std::vector<pb::RPC>{SubscribeRpc("hello-" + std::to_string(++hellos))}; };
  PubSubPeer peer(&loop_, TestPeerId("remote"), opener_.Get(), {}, std::move(callbacks));
  ASSERT_EQ(peer.Send(DataRpc("t", "queued"), SendLane::kPublish), SendResult::kQueued);
  auto first = AnswerWithStream(0);
  loop_.RunUntilIdle();
  std::vector<pb::RPC> got = first->Rpcs();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].subscriptions(0).topicid(), "hello-1");
  EXPECT_EQ(got[1].publish(0).data(), "queued");
  EXPECT_EQ(peer.stats().rpcs_sent, 2u);

  peer.OnNewConnection();
  auto second = AnswerWithStream(1);
  ASSERT_EQ(peer.Send(DataRpc("t", "later"), SendLane::kPublish), SendResult::kQueued);
  loop_.RunUntilIdle();
  got = second->Rpcs();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].subscriptions(0).topicid(), "hello-2");
  EXPECT_EQ(got[1].publish(0).data(), "later");
}

// Open() opens the stream for the hello alone; with nothing to say (an empty hello) nothing is written.
TEST_F(PubSubPeerTest, OpenSendsTheHelloWithoutASend) {
  std::vector<pb::RPC> hello;
  PubSubPeer::Callbacks callbacks = delivered_.Callbacks();
  callbacks.hello = [&](PubSubPeer&) { return hello; };
  PubSubPeer peer(&loop_, TestPeerId("remote"), opener_.Get(), {}, std::move(callbacks));
  hello = {SubscribeRpc("a")};
  peer.Open();
  auto remote = AnswerWithStream(0);
  loop_.RunUntilIdle();
  ASSERT_EQ(remote->Rpcs().size(), 1u);
  EXPECT_EQ(delivered_.ready, 1);
  peer.Open();  // Already open: nothing more.
  EXPECT_EQ(opener_.calls, 1);
}

// While on_rpc runs, first_rpc_on_stream() says whether its RPC is the first of its inbound stream.
TEST_F(PubSubPeerTest, FirstRpcOfEachInboundStreamIsMarked) {
  std::vector<bool> firsts;
  PubSubPeer::Callbacks callbacks = delivered_.Callbacks();
  callbacks.on_rpc = [&](PubSubPeer& p, pb::RPC) { firsts.push_back(p.first_rpc_on_stream()); };
  PubSubPeer peer(&loop_, TestPeerId("remote"), opener_.Get(), {}, std::move(callbacks));
  auto one = AttachInbound(&peer);
  ASSERT_TRUE(one->Write(Frame(SubscribeRpc("a")) + Frame(SubscribeRpc("b"))).ok());
  loop_.RunUntilIdle();
  auto two = AttachInbound(&peer);
  ASSERT_TRUE(two->Write(Frame(SubscribeRpc("c"))).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(firsts, (std::vector<bool>{true, false, true}));
  EXPECT_FALSE(peer.first_rpc_on_stream());
}

}  // namespace
}  // namespace libp2p::pubsub
