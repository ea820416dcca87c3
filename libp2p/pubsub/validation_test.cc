#include "libp2p/pubsub/validation.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/worker_pool.h"

namespace libp2p::pubsub {
namespace {

using std::chrono::seconds;

pb::Message MessageOn(const std::string& topic, size_t data_size = 10) {
  pb::Message m;
  m.set_topic(topic);
  m.set_data(std::string(data_size, 'x'));
  return m;
}

class ValidationTest : public ::testing::Test {
 protected:
  // Runs `msg`, recording its verdict and returned message in `verdict_` and `back_`.
  void Run(pb::Message msg) {
    validation_.Run(std::move(msg), [this](pb::Message& m, Verdict v) {
      back_ = std::move(m);
      verdict_ = v;
      ++verdicts_;
    });
  }
  // A validator that keeps its `done` in `held_`, to answer later.
  Validator Holding() {
    return [this](const pb::Message&, std::function<void(ValidationResult)> done) { held_.push_back(std::move(done)); };
  }
  static Validator Answering(ValidationResult r) {
    return [r](const pb::Message&, std::function<void(ValidationResult)> done) { done(r); };
  }

  ManualEventLoop loop_;
  ValidationLimits limits_{/*max_pending=*/4, /*max_pending_per_topic=*/2, /*max_pending_bytes=*/1000, seconds(5)};
  OffloadQueue inline_{&loop_, nullptr};
  Validation validation_{&loop_, &inline_, limits_};
  std::optional<Verdict> verdict_;
  std::optional<pb::Message> back_;
  int verdicts_ = 0;
  std::vector<std::function<void(ValidationResult)>> held_;
};

TEST_F(ValidationTest, SynchronousValidatorsDecideBeforeRunReturnsAndTheMessageComesBack) {
  validation_.Add("t", Answering(ValidationResult::kAccept));
  validation_.Add("t", Answering(ValidationResult::kAccept));
  ASSERT_TRUE(validation_.HasValidators("t"));
  EXPECT_FALSE(validation_.HasValidators("u"));
  Run(MessageOn("t"));
  ASSERT_EQ(verdict_, Verdict::kAccept);
  EXPECT_EQ(back_->topic(), "t");
  EXPECT_EQ(back_->data(), std::string(10, 'x'));
  EXPECT_EQ(validation_.pending(), 0u);
  EXPECT_EQ(validation_.pending_bytes(), 0u);
  EXPECT_EQ(validation_.pending_topics(), 0u);
}

TEST_F(ValidationTest, ARejectDecidesAtOnceAndLaterValidatorsDoNotRun) {
  int later_runs = 0;
  validation_.Add("t", Answering(ValidationResult::kReject));
  validation_.Add("t", [&](const pb::Message&, auto done) {
    ++later_runs;
    done(ValidationResult::kAccept);
  });
  Run(MessageOn("t"));
  EXPECT_EQ(verdict_, Verdict::kReject);
  EXPECT_EQ(later_runs, 0);
}

TEST_F(ValidationTest, AnIgnoreWaitsForTheOthersAndARejectAmongThemWins) {
  validation_.Add("t", Answering(ValidationResult::kIgnore));
  validation_.Add("t", Holding());
  Run(MessageOn("t"));
  ASSERT_FALSE(verdict_.has_value());
  held_[0](ValidationResult::kReject);
  EXPECT_EQ(verdict_, Verdict::kReject);

  validation_.Add("u", Answering(ValidationResult::kIgnore));
  validation_.Add("u", Answering(ValidationResult::kAccept));
  Run(MessageOn("u"));
  EXPECT_EQ(verdict_, Verdict::kIgnore);
}

TEST_F(ValidationTest, AnUnansweredValidationTimesOutAndALateAnswerIsIgnored) {
  validation_.Add("t", Holding());
  Run(MessageOn("t"));
  loop_.AdvanceTime(seconds(4));
  ASSERT_FALSE(verdict_.has_value());
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(verdict_, Verdict::kTimedOut);
  EXPECT_EQ(validation_.pending(), 0u);
  held_[0](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_EQ(verdicts_, 1);
}

TEST_F(ValidationTest, EachValidationTimesOutAtItsOwnDeadlineOnOneTimer) {
  validation_.Add("t", Holding());
  Run(MessageOn("t"));  // Times out at 5 s.
  loop_.AdvanceTime(seconds(1));
  Run(MessageOn("t"));  // Decided at 2 s.
  loop_.AdvanceTime(seconds(1));
  Run(MessageOn("t"));  // Times out at 7 s.
  EXPECT_EQ(loop_.scheduled_timers(), 1u);
  held_[1](ValidationResult::kAccept);
  ASSERT_EQ(verdicts_, 1);
  loop_.AdvanceTime(std::chrono::milliseconds(2999));
  EXPECT_EQ(verdicts_, 1);
  loop_.AdvanceTime(std::chrono::milliseconds(1));  // 5 s.
  EXPECT_EQ(verdicts_, 2);
  EXPECT_EQ(verdict_, Verdict::kTimedOut);
  loop_.AdvanceTime(std::chrono::milliseconds(1999));
  EXPECT_EQ(verdicts_, 2);
  loop_.AdvanceTime(std::chrono::milliseconds(1));  // 7 s.
  EXPECT_EQ(verdicts_, 3);
  EXPECT_EQ(verdict_, Verdict::kTimedOut);
  EXPECT_EQ(validation_.pending(), 0u);
  EXPECT_EQ(validation_.deadlines_held(), 0u);
  EXPECT_EQ(loop_.scheduled_timers(), 0u);
}

TEST_F(ValidationTest, DecidedValidationsBehindASlowOneLeaveBoundedRecords) {
  validation_.Add("slow", Holding());
  validation_.Add("fast", Answering(ValidationResult::kAccept));
  Run(MessageOn("slow"));
  for (int i = 0; i < 1000; ++i) {
    Run(MessageOn("fast"));
    ASSERT_LE(validation_.deadlines_held(), 2 * limits_.max_pending + 1);
  }
  EXPECT_EQ(verdicts_, 1000);
  loop_.AdvanceTime(seconds(5));
  EXPECT_EQ(verdicts_, 1001);
  EXPECT_EQ(verdict_, Verdict::kTimedOut);
  EXPECT_EQ(back_->topic(), "slow");
  EXPECT_EQ(validation_.deadlines_held(), 0u);
}

TEST_F(ValidationTest, LimitsHoldInAllPerTopicAndInBytesAndFreeWithTheVerdicts) {
  validation_.Add("a", Holding());
  validation_.Add("b", Holding());
  validation_.Add("c", Holding());
  // Per topic: two on "a", the third is refused while "b" still has room.
  Run(MessageOn("a"));
  Run(MessageOn("a"));
  EXPECT_EQ(validation_.pending("a"), 2u);
  const Status per_topic = validation_.CheckRoom("a", 10);
  EXPECT_EQ(per_topic.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(per_topic.message().find("topic a"), std::string::npos) << per_topic.message();
  ASSERT_TRUE(validation_.CheckRoom("b", 10).ok());
  // In all: four, whichever topics.
  Run(MessageOn("b"));
  Run(MessageOn("c"));
  EXPECT_EQ(validation_.pending(), 4u);
  EXPECT_EQ(validation_.CheckRoom("c", 10).code(), StatusCode::kResourceExhausted);
  held_[0](ValidationResult::kAccept);
  EXPECT_EQ(validation_.pending(), 3u);
  EXPECT_EQ(validation_.pending("a"), 1u);
  EXPECT_TRUE(validation_.CheckRoom("a", 10).ok());
  // In bytes: what is pending plus the newcomer must fit in 1000.
  const size_t pending_bytes = validation_.pending_bytes();
  EXPECT_EQ(pending_bytes, 3 * MessageOn("a").ByteSizeLong());
  EXPECT_TRUE(validation_.CheckRoom("b", 1000 - pending_bytes).ok());
  EXPECT_EQ(validation_.CheckRoom("b", 1000 - pending_bytes + 1).code(), StatusCode::kResourceExhausted);
  for (size_t i = 1; i < held_.size(); ++i) held_[i](ValidationResult::kIgnore);
  EXPECT_EQ(validation_.pending(), 0u);
  EXPECT_EQ(validation_.pending_bytes(), 0u);
  EXPECT_EQ(validation_.pending_topics(), 0u);
}

// A validator that answers and then reads the message reads live memory (the sanitizers check this): the
// message is destroyed from the loop, not inside `done`; what `done` did not move away is still there.
TEST_F(ValidationTest, AValidatorThatAnswersAndThenReadsTheMessageReadsLiveMemory) {
  size_t read_after = 0;
  validation_.Add("t", [&](const pb::Message& m, auto done) {
    done(ValidationResult::kReject);
    read_after = m.topic().size() + m.data().size();
  });
  validation_.Run(MessageOn("t"), [](pb::Message&, Verdict) {});
  EXPECT_EQ(read_after, 11u);
  loop_.RunUntilIdle();
  validation_.Add("u", [&](const pb::Message& m, auto done) {
    done(ValidationResult::kAccept);
    read_after = m.topic().size() + m.data().size();
  });
  Run(MessageOn("u"));
  EXPECT_EQ(back_->data().size(), 10u);
  EXPECT_EQ(read_after, 0u);  // Moved away by `done`: empty, not freed.
  loop_.RunUntilIdle();
}

TEST_F(ValidationTest, AValidatorAddedWhileValidatingDoesNotRunOnThatMessage) {
  int added_runs = 0;
  validation_.Add("t", [&](const pb::Message&, auto done) {
    validation_.Add("t", [&](const pb::Message&, auto d) {
      ++added_runs;
      d(ValidationResult::kAccept);
    });
    done(ValidationResult::kAccept);
  });
  Run(MessageOn("t"));
  EXPECT_EQ(verdict_, Verdict::kAccept);
  EXPECT_EQ(added_runs, 0);
}

// Destroying the validation with messages pending calls no one back.
TEST_F(ValidationTest, PendingValidationsDieWithoutAVerdictWhenDestroyed) {
  auto v = std::make_unique<Validation>(&loop_, &inline_, limits_);
  v->Add("t", Holding());
  bool called = false;
  v->Run(MessageOn("t"), [&](pb::Message&, Verdict) { called = true; });
  v.reset();  // Its validator must not answer now (see Validator): its `done` is dropped unused.
  held_.clear();
  loop_.AdvanceTime(seconds(10));
  EXPECT_FALSE(called);
}

TEST_F(ValidationTest, WithoutWorkersAThreadSafeValidatorDecidesInsideRun) {
  std::thread::id ran_on;
  validation_.AddThreadSafe("t", [&](const pb::Message& m) {
    ran_on = std::this_thread::get_id();
    return m.data().size() > 5 ? ValidationResult::kAccept : ValidationResult::kReject;
  });
  ASSERT_TRUE(validation_.HasValidators("t"));
  Run(MessageOn("t"));
  EXPECT_EQ(verdict_, Verdict::kAccept);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  Run(MessageOn("t", 3));
  EXPECT_EQ(verdict_, Verdict::kReject);
}

// Thread-safe validators on real workers, with a real loop that takes their answers back.
class ThreadSafeValidationTest : public ::testing::Test {
 protected:
  ThreadSafeValidationTest() : loop_(std::move(LibeventLoop::Create()).value()) {}

  // Runs the loop until every job submitted so far has had its continuation run: the continuations run in
  // submission order, so one submitted last stops the loop.
  void RunLoopUntilOffloadDone() {
    offload_.Submit([this]() -> OffloadQueue::Continuation { return [this] { loop_->Stop(); }; });
    auto give_up = loop_->CreateTimer([&] { loop_->Stop(); });
    give_up->Schedule(std::chrono::seconds(30));
    loop_->Run();
  }

  std::unique_ptr<LibeventLoop> loop_;
  WorkerPool pool_{2};
  OffloadQueue offload_{loop_.get(), &pool_};
  Validation validation_{loop_.get(), &offload_, ValidationLimits{}};
};

TEST_F(ThreadSafeValidationTest, MessagesOfPeersAreValidatedOnWorkersAndOurOwnInline) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::atomic<int> on_workers{0};
  std::atomic<int> on_loop{0};
  validation_.AddThreadSafe("t", [&](const pb::Message& m) {
    (std::this_thread::get_id() == loop_thread ? on_loop : on_workers)++;
    return m.data()[0] == 'x' ? ValidationResult::kAccept : ValidationResult::kIgnore;
  });
  std::vector<Verdict> verdicts;
  for (int i = 0; i < 50; ++i) {
    validation_.Run(MessageOn("t"), [&](pb::Message& m, Verdict v) { verdicts.push_back(v); }, /*offload=*/true);
  }
  EXPECT_EQ(validation_.pending(), 50u);  // The answers come back through the loop.
  RunLoopUntilOffloadDone();
  ASSERT_EQ(verdicts.size(), 50u);
  for (Verdict v : verdicts) EXPECT_EQ(v, Verdict::kAccept);
  EXPECT_EQ(on_workers, 50);
  EXPECT_EQ(on_loop, 0);
  EXPECT_EQ(validation_.pending(), 0u);

  std::optional<Verdict> own;
  validation_.Run(MessageOn("t"), [&](pb::Message& m, Verdict v) { own = v; }, /*offload=*/false);
  EXPECT_EQ(own, Verdict::kAccept);
  EXPECT_EQ(on_loop, 1);
}

TEST_F(ThreadSafeValidationTest, AVerdictReachedWhileAWorkerStillReadsTheMessageHandsOverACopy) {
  std::mutex mu;
  std::condition_variable cv;
  bool reading = false;
  bool release = false;
  std::string read_back;
  validation_.AddThreadSafe("t", [&](const pb::Message& m) {
    std::unique_lock<std::mutex> lock(mu);
    reading = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    read_back = m.data();  // Still reading after the loop decided.
    return ValidationResult::kAccept;
  });
  std::function<void(ValidationResult)> reject;
  validation_.Add("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) { reject = done; });
  std::optional<pb::Message> handed;
  validation_.Run(MessageOn("t", 100), [&](pb::Message& m, Verdict v) {
    EXPECT_EQ(v, Verdict::kReject);
    handed = std::move(m);  // The receiver may move it away while the worker reads.
  }, /*offload=*/true);
  // The job goes to the workers as the loop turn ends.
  loop_->Post([&] { loop_->Stop(); });
  loop_->Run();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return reading; });
  }
  reject(ValidationResult::kReject);
  ASSERT_TRUE(handed.has_value());
  EXPECT_EQ(handed->data(), std::string(100, 'x'));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
  RunLoopUntilOffloadDone();
  EXPECT_EQ(offload_.in_flight(), 0u);
  EXPECT_EQ(read_back, std::string(100, 'x'));
}

}  // namespace
}  // namespace libp2p::pubsub
