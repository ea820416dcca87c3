#include "libp2p/base/manual_event_loop.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ManualEventLoopTest, PostedClosuresRunInOrderOnlyWhenRun) {
  ManualEventLoop loop;
  std::vector<int> order;
  loop.Post([&] { order.push_back(1); });
  loop.Post([&] {
    order.push_back(2);
    loop.Post([&] { order.push_back(4); });
  });
  loop.Post([&] { order.push_back(3); });
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(loop.RunUntilIdle(), 4u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(ManualEventLoopTest, OneShotTimerFiresExactlyAtDeadline) {
  ManualEventLoop loop;
  int fired = 0;
  MonoTime fired_at;
  auto timer = loop.CreateTimer([&] {
    ++fired;
    fired_at = loop.Now();
  });
  const MonoTime start = loop.Now();
  timer->Schedule(seconds(2));
  EXPECT_TRUE(timer->IsScheduled());
  loop.AdvanceTime(seconds(2) - Duration(1));
  EXPECT_EQ(fired, 0);
  loop.AdvanceTime(Duration(1));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(fired_at, start + seconds(2));
  EXPECT_FALSE(timer->IsScheduled());
  loop.AdvanceTime(seconds(10));
  EXPECT_EQ(fired, 1);
}

TEST(ManualEventLoopTest, ZeroDelayTimerFiresOnRunUntilIdle) {
  ManualEventLoop loop;
  int fired = 0;
  auto timer = loop.CreateTimer([&] { ++fired; });
  timer->Schedule(Duration::zero());
  loop.RunUntilIdle();
  EXPECT_EQ(fired, 1);
}

TEST(ManualEventLoopTest, RepeatingTimerFiresEveryPeriodAtItsDeadlines) {
  ManualEventLoop loop;
  const MonoTime start = loop.Now();
  std::vector<Duration> at;
  auto timer = loop.CreateTimer([&] { at.push_back(loop.Now() - start); });
  timer->ScheduleRepeating(milliseconds(700));
  loop.AdvanceTime(seconds(3));
  EXPECT_EQ(at, (std::vector<Duration>{milliseconds(700), milliseconds(1400), milliseconds(2100),
                                       milliseconds(2800)}));
  EXPECT_TRUE(timer->IsScheduled());
}

TEST(ManualEventLoopTest, TimersWithEqualDeadlinesFireInSchedulingOrder) {
  ManualEventLoop loop;
  std::vector<int> order;
  auto a = loop.CreateTimer([&] { order.push_back(1); });
  auto b = loop.CreateTimer([&] { order.push_back(2); });
  auto c = loop.CreateTimer([&] { order.push_back(3); });
  b->Schedule(seconds(1));
  a->Schedule(seconds(1));
  c->Schedule(milliseconds(500));
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
}

TEST(ManualEventLoopTest, ManyTimersScheduledMovedAndCancelledFireInDeadlineThenSchedulingOrder) {
  ManualEventLoop loop;
  constexpr int kTimers = 2000;
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < kTimers; ++i) timers.push_back(loop.CreateTimer([&fired, i] { fired.push_back(i); }));
  // What each timer should do: its deadline (in ms, few distinct values so that ties are common) and the
  // order of its last scheduling; -1 when cancelled.
  std::vector<std::pair<int64_t, int>> expected(kTimers, {-1, 0});
  uint64_t x = 12345;
  auto next = [&x](uint64_t n) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    return (x >> 33) % n;
  };
  int order = 0;
  for (int round = 0; round < 3 * kTimers; ++round) {
    const int i = static_cast<int>(next(kTimers));
    if (next(5) == 0) {
      timers[i]->Cancel();
      expected[i] = {-1, 0};
    } else {
      const int64_t ms = 1 + static_cast<int64_t>(next(50));
      timers[i]->Schedule(milliseconds(ms));
      expected[i] = {ms, order++};
    }
  }
  std::vector<std::tuple<int64_t, int, int>> sorted;
  for (int i = 0; i < kTimers; ++i) {
    if (expected[i].first >= 0) sorted.emplace_back(expected[i].first, expected[i].second, i);
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> want;
  for (const auto& t : sorted) want.push_back(std::get<2>(t));
  EXPECT_EQ(loop.scheduled_timers(), want.size());
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(fired, want);
}

TEST(ManualEventLoopTest, CancelledTimerNeverRuns) {
  ManualEventLoop loop;
  int fired = 0;
  auto timer = loop.CreateTimer([&] { ++fired; });
  timer->Schedule(seconds(1));
  timer->Cancel();
  EXPECT_FALSE(timer->IsScheduled());
  loop.AdvanceTime(seconds(5));
  EXPECT_EQ(fired, 0);
}

TEST(ManualEventLoopTest, CancelInsideAnotherCallbackAtTheSameDeadline) {
  // Both timers are due; the first to run cancels the second, which must then not run.
  ManualEventLoop loop;
  int second_fired = 0;
  std::unique_ptr<Timer> second = loop.CreateTimer([&] { ++second_fired; });
  auto first = loop.CreateTimer([&] { second->Cancel(); });
  first->Schedule(seconds(1));
  second->Schedule(seconds(1));
  loop.AdvanceTime(seconds(2));
  EXPECT_EQ(second_fired, 0);
}

TEST(ManualEventLoopTest, DestroyInsideAnotherCallbackAtTheSameDeadline) {
  ManualEventLoop loop;
  int second_fired = 0;
  std::unique_ptr<Timer> second = loop.CreateTimer([&] { ++second_fired; });
  auto first = loop.CreateTimer([&] { second.reset(); });
  first->Schedule(seconds(1));
  second->Schedule(seconds(1));
  loop.AdvanceTime(seconds(2));
  EXPECT_EQ(second_fired, 0);
}

TEST(ManualEventLoopTest, RepeatingTimerCancelledInsideItsOwnCallback) {
  ManualEventLoop loop;
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = loop.CreateTimer([&] {
    if (++fired == 3) timer->Cancel();
  });
  timer->ScheduleRepeating(seconds(1));
  loop.AdvanceTime(seconds(10));
  EXPECT_EQ(fired, 3);
  EXPECT_FALSE(timer->IsScheduled());
}

TEST(ManualEventLoopTest, TimerDestroyedInsideItsOwnCallback) {
  ManualEventLoop loop;
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = loop.CreateTimer([&fired, &timer] {
    ++fired;
    timer.reset();
  });
  timer->ScheduleRepeating(seconds(1));
  loop.AdvanceTime(seconds(5));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(timer, nullptr);
}

TEST(ManualEventLoopTest, RescheduleInsideOwnCallback) {
  ManualEventLoop loop;
  const MonoTime start = loop.Now();
  std::vector<Duration> at;
  std::unique_ptr<Timer> timer;
  timer = loop.CreateTimer([&] {
    at.push_back(loop.Now() - start);
    if (at.size() < 3) timer->Schedule(seconds(at.size() * 10));
  });
  timer->Schedule(seconds(1));
  loop.AdvanceTime(seconds(100));
  EXPECT_EQ(at, (std::vector<Duration>{seconds(1), seconds(11), seconds(31)}));
}

TEST(ManualEventLoopTest, RescheduleReplacesEarlierDeadline) {
  ManualEventLoop loop;
  int fired = 0;
  auto timer = loop.CreateTimer([&] { ++fired; });
  timer->Schedule(seconds(1));
  timer->Schedule(seconds(5));
  loop.AdvanceTime(seconds(4));
  EXPECT_EQ(fired, 0);
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(fired, 1);
}

TEST(ManualEventLoopTest, AdvanceToNextTimer) {
  ManualEventLoop loop;
  EXPECT_FALSE(loop.AdvanceToNextTimer());
  const MonoTime start = loop.Now();
  int fired = 0;
  auto timer = loop.CreateTimer([&] { ++fired; });
  timer->Schedule(seconds(42));
  EXPECT_EQ(loop.scheduled_timers(), 1u);
  EXPECT_TRUE(loop.AdvanceToNextTimer());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop.Now() - start, seconds(42));
  EXPECT_EQ(loop.scheduled_timers(), 0u);
}

TEST(ManualEventLoopTest, FdReadinessOnASocketPair) {
  ManualEventLoop loop;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string received;
  std::unique_ptr<FdWatcher> watcher = loop.WatchFd(fds[0], kFdReadable, [&](uint32_t ready) {
    ASSERT_TRUE(ready & kFdReadable);
    char buf[64];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n > 0) received.append(buf, n);
    if (n == 0) watcher.reset();  // Peer closed: stop watching from inside the callback.
  });
  loop.RunUntilIdle();
  EXPECT_TRUE(received.empty());
  ASSERT_EQ(::write(fds[1], "ping", 4), 4);
  loop.RunUntilIdle();
  EXPECT_EQ(received, "ping");
  ::close(fds[1]);
  loop.RunUntilIdle();
  EXPECT_EQ(watcher, nullptr);
  ::close(fds[0]);
}

TEST(ManualEventLoopTest, PausedWatcherIsNotCalled) {
  ManualEventLoop loop;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  int calls = 0;
  auto watcher = loop.WatchFd(fds[0], kFdWritable, [&](uint32_t ready) {
    EXPECT_EQ(ready, kFdWritable);
    ++calls;
  });
  watcher->SetInterest(0);
  loop.RunUntilIdle();
  EXPECT_EQ(calls, 0);
  watcher.reset();
  ::close(fds[0]);
  ::close(fds[1]);
}

// --- The run queue: posted closures, tasks and deferred deletions in one FIFO order.

TEST(ManualEventLoopTest, TasksAndPostedClosuresRunInOneFifoOrder) {
  ManualEventLoop loop;
  std::vector<std::string> order;
  auto a = loop.CreateTask([&] { order.push_back("a"); });
  auto b = loop.CreateTask([&] { order.push_back("b"); });
  b->Post();
  loop.Post([&] { order.push_back("post1"); });
  a->Post();
  b->Post();  // Already queued: keeps its place, runs once.
  loop.Post([&] { order.push_back("post2"); });
  EXPECT_TRUE(a->IsPending());
  loop.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"b", "post1", "a", "post2"}));
  EXPECT_FALSE(a->IsPending());
}

TEST(ManualEventLoopTest, AClosureThatRunsTheLoopAgainRunsWhatWasQueuedAfterItFirst) {
  ManualEventLoop loop;
  std::vector<std::string> order;
  loop.Post([&] {
    order.push_back("outer");
    loop.Post([&] { order.push_back("posted by outer"); });
    loop.RunUntilIdle();  // Runs the batch after this one from inside it, then returns here.
    order.push_back("outer again");
  });
  loop.Post([&] { order.push_back("second"); });
  loop.RunUntilIdle();
  // "second" was in the outer batch already: it runs when that batch resumes, after the nested run.
  EXPECT_EQ(order, (std::vector<std::string>{"outer", "posted by outer", "outer again", "second"}));
  // Batches after that reuse the queue's vectors as before.
  for (int round = 0; round < 3; ++round) {
    order.clear();
    for (int i = 0; i < 100; ++i) loop.Post([&order, i] { order.push_back(std::to_string(i)); });
    loop.RunUntilIdle();
    ASSERT_EQ(order.size(), 100u);
    EXPECT_EQ(order.front(), "0");
    EXPECT_EQ(order.back(), "99");
  }
}

TEST(ManualEventLoopTest, CancelledTaskDoesNotRunAndRepostGoesToTheTail) {
  ManualEventLoop loop;
  std::vector<std::string> order;
  auto a = loop.CreateTask([&] { order.push_back("a"); });
  a->Post();
  loop.Post([&] { order.push_back("post"); });
  a->Cancel();
  EXPECT_FALSE(a->IsPending());
  loop.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"post"}));
  a->Post();
  loop.Post([&] { order.push_back("post2"); });
  a->Cancel();
  a->Post();
  loop.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"post", "post2", "a"}));
}

TEST(ManualEventLoopTest, DestroyedTaskDoesNotRunEvenWhenItsSlotIsReused) {
  ManualEventLoop loop;
  int old_runs = 0, new_runs = 0;
  auto old_task = loop.CreateTask([&] { ++old_runs; });
  old_task->Post();
  old_task.reset();
  auto new_task = loop.CreateTask([&] { ++new_runs; });  // Takes the freed slot.
  loop.RunUntilIdle();
  EXPECT_EQ(old_runs, 0);
  EXPECT_EQ(new_runs, 0);
  new_task->Post();
  loop.RunUntilIdle();
  EXPECT_EQ(new_runs, 1);
}

TEST(ManualEventLoopTest, TaskCancelledByAnEarlierEntryOfTheSameBatchDoesNotRun) {
  ManualEventLoop loop;
  int runs = 0;
  auto task = loop.CreateTask([&] { ++runs; });
  loop.Post([&] { task->Cancel(); });
  task->Post();
  loop.RunUntilIdle();
  EXPECT_EQ(runs, 0);
  loop.Post([&] { task.reset(); });
  auto other = loop.CreateTask([] {});
  task->Post();
  loop.RunUntilIdle();
  EXPECT_EQ(runs, 0);
}

TEST(ManualEventLoopTest, TaskMayRepostCancelOrDestroyItselfInItsCallback) {
  ManualEventLoop loop;
  int runs = 0;
  std::unique_ptr<Task> task;
  auto marker = std::make_shared<int>(7);
  task = loop.CreateTask([&, marker] {
    ++runs;
    if (runs < 3) return task->Post();
    task.reset();
    EXPECT_EQ(*marker, 7);  // The captures outlive the task until the callback returns.
  });
  task->Post();
  loop.RunUntilIdle();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(task, nullptr);
  EXPECT_EQ(marker.use_count(), 1);
}

TEST(ManualEventLoopTest, SelfRepostingTaskDoesNotStarveTimers) {
  ManualEventLoop loop;
  int spins = 0;
  bool fired = false;
  std::unique_ptr<Task> spin;
  spin = loop.CreateTask([&] {
    if (!fired) ++spins, spin->Post();
  });
  auto timer = loop.CreateTimer([&] { fired = true; });
  timer->Schedule(Duration::zero());
  spin->Post();
  loop.RunUntilIdle();
  EXPECT_TRUE(fired);
  EXPECT_LE(spins, 2);
}

// A closure still queued when the loop is destroyed may own timers and tasks of the loop: it is destroyed
// first thing in the loop's destructor.
TEST(ManualEventLoopTest, QueuedClosuresOwningLoopObjectsAreDestroyedWithTheLoop) {
  int destroyed = 0;
  {
    ManualEventLoop loop;
    struct OwnsLoopObjects {
      OwnsLoopObjects(EventLoop* loop, int* destroyed)
          : timer(loop->CreateTimer([] {})), task(loop->CreateTask([] {})), destroyed(destroyed) {
        timer->Schedule(seconds(5));
        task->Post();
      }
      ~OwnsLoopObjects() { ++*destroyed; }
      std::unique_ptr<Timer> timer;
      std::unique_ptr<Task> task;
      int* destroyed;
    };
    auto shared = std::make_shared<OwnsLoopObjects>(&loop, &destroyed);
    loop.Post([shared] {});
  }  // The loop's destructor asserts that no timer or watcher is left.
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace libp2p
