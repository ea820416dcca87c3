#include "libp2p/base/offload_queue.h"

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/manual_event_loop.h"

namespace libp2p {
namespace {

std::unique_ptr<LibeventLoop> NewLoop() {
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status().ToString();
  return std::move(loop).value();
}

// Work of uneven length, so that workers finish out of submission order.
uint64_t Spin(int rounds) {
  uint64_t x = 1;
  for (int i = 0; i < rounds; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

TEST(OffloadQueueTest, ContinuationsRunOnTheLoopThreadInSubmissionOrder) {
  auto loop = NewLoop();
  WorkerPool pool(3);
  OffloadQueue queue(loop.get(), &pool);
  EXPECT_TRUE(queue.offloads());
  const std::thread::id loop_thread = std::this_thread::get_id();
  constexpr int kJobs = 2000;
  std::vector<int> order;
  std::atomic<int> on_loop_thread{0};
  std::mt19937 rng(7);
  for (int i = 0; i < kJobs; ++i) {
    const int rounds = static_cast<int>(rng() % 20000);
    queue.Submit([&, i, rounds]() -> OffloadQueue::Continuation {
      if (std::this_thread::get_id() == loop_thread) ++on_loop_thread;
      const uint64_t r = Spin(rounds);
      return [&, i, r] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        EXPECT_NE(r, 0u);
        order.push_back(i);
        if (order.size() == kJobs) loop->Stop();
      };
    });
  }
  EXPECT_EQ(queue.in_flight(), static_cast<size_t>(kJobs));
  auto give_up = loop->CreateTimer([&] { loop->Stop(); });
  give_up->Schedule(std::chrono::seconds(60));
  loop->Run();
  EXPECT_EQ(on_loop_thread, 0);
  ASSERT_EQ(order.size(), static_cast<size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) ASSERT_EQ(order[i], i);
  EXPECT_EQ(queue.in_flight(), 0u);
}

// Results wait for a wake-up of the loop while more jobs run, but never for another queue's jobs: here the
// other queue's jobs cannot finish until this queue's result has reached the loop.
TEST(OffloadQueueTest, AResultDoesNotWaitForTheJobsOfAnotherQueueOnTheSamePool) {
  auto loop = NewLoop();
  WorkerPool pool(1);
  OffloadQueue mine(loop.get(), &pool);
  OffloadQueue other(loop.get(), &pool);
  auto arrived = std::make_shared<std::atomic<bool>>(false);
  mine.Submit([&, arrived]() -> OffloadQueue::Continuation {
    return [&, arrived] { arrived->store(true); };
  });
  int others_done = 0;
  for (int i = 0; i < 20; ++i) {
    other.Submit([arrived]() -> OffloadQueue::Continuation {
      while (!arrived->load()) std::this_thread::yield();
      return nullptr;
    });
  }
  other.Submit([&]() -> OffloadQueue::Continuation {
    return [&] {
      ++others_done;
      loop->Stop();
    };
  });
  auto give_up = loop->CreateTimer([&] { loop->Stop(); });
  give_up->Schedule(std::chrono::seconds(30));
  loop->Run();
  EXPECT_TRUE(arrived->load());
  EXPECT_EQ(others_done, 1);
}

TEST(OffloadQueueTest, WithoutAPoolTheJobAndItsContinuationRunInsideSubmit) {
  ManualEventLoop loop;
  OffloadQueue queue(&loop, nullptr);
  EXPECT_FALSE(queue.offloads());
  std::vector<std::string> steps;
  queue.Submit([&]() -> OffloadQueue::Continuation {
    steps.push_back("job");
    return [&] { steps.push_back("continuation"); };
  });
  steps.push_back("after");
  EXPECT_EQ(steps, (std::vector<std::string>{"job", "continuation", "after"}));
  EXPECT_EQ(queue.in_flight(), 0u);
  queue.Submit([]() -> OffloadQueue::Continuation { return nullptr; });  // An empty continuation is allowed.
}

TEST(OffloadQueueTest, AContinuationMayDestroyTheQueueAndLaterOnesNeverRun) {
  auto loop = NewLoop();
  std::unique_ptr<OffloadQueue> queue;
  int ran = 0;
  auto token = std::make_shared<int>(0);
  {
    WorkerPool pool(2);
    queue = std::make_unique<OffloadQueue>(loop.get(), &pool);
    for (int i = 0; i < 100; ++i) {
      queue->Submit([&, i, token]() -> OffloadQueue::Continuation {
        return [&, i, token] {
          ++ran;
          if (i == 10) {
            queue.reset();
            loop->Stop();
          }
        };
      });
    }
    auto give_up = loop->CreateTimer([&] { loop->Stop(); });
    give_up->Schedule(std::chrono::seconds(60));
    loop->Run();
  }
  // The pool has joined its workers: whatever they posted is in the loop's queue, ahead of this Stop.
  loop->Post([&] { loop->Stop(); });
  loop->Run();
  EXPECT_EQ(queue, nullptr);
  EXPECT_EQ(ran, 11);
  EXPECT_EQ(token.use_count(), 1);  // Jobs and continuations that never ran were destroyed.
}

}  // namespace
}  // namespace libp2p
