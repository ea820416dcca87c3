// The pubsub core with signature checks and thread-safe validators on validation workers: real threads,
// driven deterministically. The tests hold the pool's one worker busy while messages arrive, so what waits for
// it is known, then let it go and wait until it has finished everything before running the loop.
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/base/worker_pool.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

// Holds a one-thread pool's worker in a job until Release(), so that jobs submitted meanwhile wait. The job
// shares its state, so it may still be leaving after the gate is gone.
class WorkerGate {
 public:
  explicit WorkerGate(WorkerPool* pool) : state_(std::make_shared<State>()) {
    pool->Submit([state = state_] {
      std::unique_lock<std::mutex> lock(state->mu);
      state->cv.wait(lock, [&] { return state->released; });
    });
  }
  ~WorkerGate() { Release(); }
  void Release() {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool released = false;
  };
  std::shared_ptr<State> state_;
};

// Returns once the one-thread pool has run every job submitted before (and so posted their results).
void WaitForWorker(WorkerPool* pool) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  pool->Submit([done] { done->set_value(); });
  finished.wait();
}

class PubSubWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stream::HostOptions ho;
    ho.identity = &key_;
    host_ = std::make_unique<stream::Host>(&loop_, transport_.get(), ho);
    ASSERT_TRUE(host_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }

  // The receiving core, on pool_; `tune` adjusts its options.
  void StartReceiver(const std::function<void(PubSubOptions&)>& tune = {}) {
    PubSubOptions po;
    po.identity = &key_;
    po.validation_pool = &pool_;
    if (tune) tune(po);
    pubsub_ = std::make_unique<PubSub>(&loop_, host_.get(), std::make_unique<FloodSubRouter>(), po);
    ASSERT_TRUE(pubsub_->Subscribe("t", [this](const pb::Message& m, const std::string&, const PeerId&) {
      received_.push_back(m.data());
    }).ok());
    // The sender: a bare host that writes RPCs of its own making on a floodsub stream.
    stream::HostOptions ho;
    ho.identity = &sender_key_;
    sender_ = std::make_unique<stream::Host>(&loop_, sender_transport_.get(), ho);
    sender_->SetStreamHandler(std::string(kFloodSubProtocolId), [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
      held_.push_back(std::move(s));
    });
    sender_->Dial(host_->listen_addrs()[0], [](auto) {});
    loop_.RunUntilIdle();
    sender_->NewStream(host_->peer_id(), {std::string(kFloodSubProtocolId)},
                       [this](auto s, auto&) { out_ = std::move(s).value(); });
    loop_.RunUntilIdle();
    ASSERT_NE(out_, nullptr);
    pb::RPC sub;
    sub.add_subscriptions()->set_subscribe(true);
    sub.mutable_subscriptions(0)->set_topicid("t");
    Send(sub);
    loop_.RunUntilIdle();
    ASSERT_EQ(pubsub_->PeerTopics(sender_->peer_id()).count("t"), 1u);
  }

  // A message on "t" by the author key, signed, with `seqno`.
  pb::Message Signed(const std::string& data, uint64_t seqno) {
    pb::Message m;
    m.set_topic("t");
    m.set_data(data);
    SignMessage(author_key_, seqno, SignPolicy::kStrictSign, &m);
    return m;
  }

  void Send(const pb::RPC& rpc) {
    Bytes frame;
    const std::string enc = rpc.SerializeAsString();
    AppendUvarint(enc.size(), &frame);
    frame.insert(frame.end(), enc.begin(), enc.end());
    ASSERT_TRUE(out_->Write(frame).ok());
  }
  void Send(const std::vector<pb::Message>& msgs) {
    pb::RPC rpc;
    for (const pb::Message& m : msgs) *rpc.add_publish() = m;
    Send(rpc);
  }

  // Lets the worker run everything waiting, then the loop take the results.
  void Finish() {
    WaitForWorker(&pool_);
    loop_.RunUntilIdle();
  }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  std::unique_ptr<stream::Transport> transport_ = net_.CreateTransport();
  std::unique_ptr<stream::Transport> sender_transport_ = net_.CreateTransport();
  Ed25519PrivateKey key_ = *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("receiver")));
  Ed25519PrivateKey sender_key_ = *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("sender")));
  Ed25519PrivateKey author_key_ = *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("author")));
  std::unique_ptr<stream::Host> host_;
  std::unique_ptr<stream::Host> sender_;
  std::unique_ptr<stream::Stream> out_;
  std::vector<std::unique_ptr<stream::Stream>> held_;
  std::vector<std::string> received_;
  // Declared after what its jobs' results touch through the loop, before the core: destroyed after the core,
  // waiting for its worker, before the loop.
  WorkerPool pool_{1};
  std::unique_ptr<PubSub> pubsub_;
};

TEST_F(PubSubWorkersTest, MessagesAreCheckedOnTheWorkerAndDeliveredInArrivalOrder) {
  StartReceiver();
  std::vector<pb::Message> msgs;
  for (int i = 0; i < 100; ++i) msgs.push_back(Signed("m" + std::to_string(i), 1000 + i));
  {
    WorkerGate gate(&pool_);
    Send(msgs);
    loop_.RunUntilIdle();
    // Everything waits for the worker: nothing delivered, nothing seen yet.
    EXPECT_TRUE(received_.empty());
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 100u);
    EXPECT_GT(pubsub_->StateCounts().pending_verification_bytes, 100u * 64);
    EXPECT_EQ(pubsub_->StateCounts().seen_entries, 0u);
  }
  Finish();
  ASSERT_EQ(received_.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(received_[i], "m" + std::to_string(i));
  EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 0u);
  EXPECT_EQ(pubsub_->StateCounts().pending_verification_bytes, 0u);
  EXPECT_EQ(pubsub_->stats().delivered, 100u);
  EXPECT_EQ(pubsub_->stats().rejected, 0u);
}

TEST_F(PubSubWorkersTest, AForgedFirstCopyDoesNotShadowTheGenuineMessage) {
  StartReceiver();
  const pb::Message genuine = Signed("block", 7);
  pb::Message forged = genuine;
  std::string sig = forged.signature();
  sig[0] ^= 1;
  forged.set_signature(sig);
  {
    WorkerGate gate(&pool_);
    // Same id (author and seqno): the genuine copy arrives while the forged one is being checked.
    Send({forged, genuine, Signed("after", 8)});
    loop_.RunUntilIdle();
  }
  Finish();  // The forged copy fails; the genuine one is checked in its turn.
  Finish();
  EXPECT_EQ(received_, (std::vector<std::string>{"after", "block"}));
  EXPECT_EQ(pubsub_->stats().rejected, 1u);
  EXPECT_EQ(pubsub_->stats().duplicates, 0u);
  EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 0u);
  EXPECT_EQ(pubsub_->StateCounts().pending_verification_bytes, 0u);
}

TEST_F(PubSubWorkersTest, CopiesArrivingDuringTheCheckAreDuplicatesOnceItHolds) {
  StartReceiver();
  const pb::Message m = Signed("once", 1);
  {
    WorkerGate gate(&pool_);
    Send({m, m, m});
    loop_.RunUntilIdle();
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 1u);  // One check for the three copies.
  }
  Finish();
  EXPECT_EQ(received_, std::vector<std::string>{"once"});
  EXPECT_EQ(pubsub_->stats().duplicates, 2u);
  EXPECT_EQ(pubsub_->stats().rejected, 0u);
}

TEST_F(PubSubWorkersTest, APeerAheadOfTheWorkersIsNotReadUntilHalfItsMessagesAreDone) {
  StartReceiver([](PubSubOptions& o) { o.max_verifying_per_peer = 8; });
  PubSubPeer* peer = pubsub_->FindPeer(sender_->peer_id());
  ASSERT_NE(peer, nullptr);
  std::vector<pb::Message> first, second;
  for (int i = 0; i < 10; ++i) first.push_back(Signed("a" + std::to_string(i), 100 + i));
  for (int i = 0; i < 5; ++i) second.push_back(Signed("b" + std::to_string(i), 200 + i));
  {
    WorkerGate gate(&pool_);
    Send(first);
    loop_.RunUntilIdle();
    EXPECT_TRUE(peer->inbound_paused());  // The rest of a chunk read is still taken: all ten wait.
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 10u);
    Send(second);
    loop_.RunUntilIdle();
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 10u);  // Not read while paused.
  }
  WaitForWorker(&pool_);
  {
    WorkerGate gate(&pool_);  // Holds the next five, submitted as reading resumes.
    loop_.RunUntilIdle();
    EXPECT_EQ(received_.size(), 10u);
    EXPECT_FALSE(peer->inbound_paused());
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 5u);
  }
  Finish();
  ASSERT_EQ(received_.size(), 15u);
  EXPECT_EQ(received_[14], "b4");
  EXPECT_EQ(pubsub_->stats().throttled, 0u);  // Nothing lost: the peer waited.
}

TEST_F(PubSubWorkersTest, BeyondThePendingLimitMessagesAreThrottledUnseen) {
  StartReceiver([](PubSubOptions& o) { o.max_pending_validations = 4; });
  std::vector<pb::Message> msgs;
  for (int i = 0; i < 10; ++i) msgs.push_back(Signed("m" + std::to_string(i), 300 + i));
  {
    WorkerGate gate(&pool_);
    Send(msgs);
    loop_.RunUntilIdle();
    EXPECT_EQ(pubsub_->StateCounts().pending_verifications, 4u);
  }
  Finish();
  EXPECT_EQ(received_.size(), 4u);
  EXPECT_EQ(pubsub_->stats().throttled, 6u);
  // Not marked seen: a later copy of a throttled message gets its chance.
  Send({msgs[9]});
  loop_.RunUntilIdle();
  Finish();
  EXPECT_EQ(received_.size(), 5u);
  EXPECT_EQ(received_.back(), "m9");
}

TEST_F(PubSubWorkersTest, ThreadSafeValidatorsRunOnTheWorkerForPeersAndInlineForOurOwn) {
  StartReceiver();
  std::atomic<int> calls{0};
  pubsub_->AddThreadSafeValidator("t", [&](const pb::Message& m) {
    ++calls;
    return m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept;
  });
  {
    WorkerGate gate(&pool_);
    Send({Signed("good", 1), Signed("bad", 2)});
    loop_.RunUntilIdle();
    EXPECT_EQ(calls, 0);
  }
  Finish();  // Signatures, then the validators (submitted as the signatures came back).
  Finish();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(received_, std::vector<std::string>{"good"});
  EXPECT_EQ(pubsub_->stats().rejected, 1u);
  // Our own: the verdict comes inside Publish (the worker is held: it would never come otherwise).
  WorkerGate gate(&pool_);
  PublishResult r = pubsub_->Publish("t", AsBytes("bad"));
  EXPECT_FALSE(r.pending);
  EXPECT_EQ(r.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(calls, 3);
}

TEST_F(PubSubWorkersTest, ACoreDestroyedWithChecksInFlightDropsTheirResults) {
  StartReceiver();
  {
    WorkerGate gate(&pool_);
    Send({Signed("x", 1), Signed("y", 2)});
    loop_.RunUntilIdle();
    pubsub_.reset();
  }
  WaitForWorker(&pool_);
  loop_.RunUntilIdle();  // The results posted by the worker find the core gone.
  EXPECT_TRUE(received_.empty());
}

}  // namespace
}  // namespace libp2p::pubsub
