#include "libp2p/base/worker_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(WorkerPoolTest, RunsEveryJobOnAWorker) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::set<std::thread::id> threads;
  {
    WorkerPool pool(3);
    EXPECT_EQ(pool.threads(), 3u);
    for (int i = 0; i < 1000; ++i) {
      pool.Submit([&] {
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == 1000; });
  }
  EXPECT_EQ(done, 1000);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(threads.size(), 3u);
}

TEST(WorkerPoolTest, DestructionWaitsForRunningJobsAndDestroysQueuedOnes) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  std::atomic<bool> running_finished{false};
  std::atomic<int> dropped_ran{0};
  auto dropped_token = std::make_shared<int>(0);
  {
    WorkerPool pool(1);
    pool.Submit([&] {
      std::unique_lock<std::mutex> lock(mu);
      started = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      running_finished = true;
    });
    for (int i = 0; i < 10; ++i) pool.Submit([&, dropped_token] { ++dropped_ran; });
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return started; });
    }
    std::thread releaser([&] {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
      cv.notify_all();
    });
    releaser.join();
  }
  EXPECT_TRUE(running_finished);
  // Whether the queued jobs ran before the destructor stopped the worker depends on timing; either way each
  // ran at most once and their captures are gone.
  EXPECT_LE(dropped_ran, 10);
  EXPECT_EQ(dropped_token.use_count(), 1);
}

TEST(WorkerPoolTest, HardwareThreadsIsAtLeastOne) { EXPECT_GE(WorkerPool::HardwareThreads(), 1u); }

}  // namespace
}  // namespace libp2p
