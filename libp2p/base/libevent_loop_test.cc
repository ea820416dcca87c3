#include "libp2p/base/libevent_loop.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<LibeventLoop> NewLoop() {
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status().ToString();
  return std::move(loop).value();
}

TEST(LibeventLoopTest, PostFromAnotherThreadRunsOnLoopThread) {
  auto loop = NewLoop();
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::vector<int> order;
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      loop->Post([&, i] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        order.push_back(i);
        if (i == 99) loop->Stop();
      });
    }
  });
  loop->Run();
  poster.join();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(LibeventLoopTest, TimerFiresAfterItsDelay) {
  auto loop = NewLoop();
  const MonoTime start = loop->Now();
  MonoTime fired_at;
  auto timer = loop->CreateTimer([&] {
    fired_at = loop->Now();
    loop->Stop();
  });
  timer->Schedule(milliseconds(5));
  EXPECT_TRUE(timer->IsScheduled());
  loop->Run();
  EXPECT_GE(fired_at - start, milliseconds(5));
  EXPECT_FALSE(timer->IsScheduled());
}

TEST(LibeventLoopTest, CancelInsideAnotherCallbackAtTheSameDeadline) {
  auto loop = NewLoop();
  int second_fired = 0;
  std::unique_ptr<Timer> second = loop->CreateTimer([&] { ++second_fired; });
  auto first = loop->CreateTimer([&] { second->Cancel(); });
  auto stop = loop->CreateTimer([&] { loop->Stop(); });
  // Both become due before the loop runs, so both are active in the same iteration.
  first->Schedule(Duration::zero());
  second->Schedule(Duration::zero());
  stop->Schedule(milliseconds(20));
  loop->Run();
  EXPECT_EQ(second_fired, 0);
}

TEST(LibeventLoopTest, DestroyInsideAnotherCallbackAtTheSameDeadline) {
  auto loop = NewLoop();
  int second_fired = 0;
  std::unique_ptr<Timer> second = loop->CreateTimer([&] { ++second_fired; });
  auto first = loop->CreateTimer([&] { second.reset(); });
  auto stop = loop->CreateTimer([&] { loop->Stop(); });
  first->Schedule(Duration::zero());
  second->Schedule(Duration::zero());
  stop->Schedule(milliseconds(20));
  loop->Run();
  EXPECT_EQ(second_fired, 0);
}

TEST(LibeventLoopTest, RepeatingTimerCancelledInsideItsOwnCallback) {
  auto loop = NewLoop();
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = loop->CreateTimer([&] {
    if (++fired == 3) {
      timer->Cancel();
      loop->Post([&] { loop->Stop(); });
    }
  });
  timer->ScheduleRepeating(milliseconds(1));
  loop->Run();
  EXPECT_EQ(fired, 3);
  EXPECT_FALSE(timer->IsScheduled());
}

TEST(LibeventLoopTest, TimerDestroyedInsideItsOwnCallback) {
  auto loop = NewLoop();
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = loop->CreateTimer([&fired, &timer, &loop] {
    ++fired;
    timer.reset();
    loop->Stop();
  });
  timer->ScheduleRepeating(milliseconds(1));
  loop->Run();
  EXPECT_EQ(fired, 1);
}

TEST(LibeventLoopTest, FdReadinessOnASocketPair) {
  auto loop = NewLoop();
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string received;
  std::unique_ptr<FdWatcher> watcher = loop->WatchFd(fds[0], kFdReadable, [&](uint32_t ready) {
    char buf[64];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n > 0) received.append(buf, n);
    if (n == 0) {
      watcher.reset();
      loop->Stop();
    }
  });
  // The writer side: writable readiness drives the write, then pauses.
  std::unique_ptr<FdWatcher> writer = loop->WatchFd(fds[1], kFdWritable, [&](uint32_t ready) {
    EXPECT_EQ(ready, kFdWritable);
    ASSERT_EQ(::write(fds[1], "hello", 5), 5);
    ::shutdown(fds[1], SHUT_WR);
    writer.reset();  // Last: the callback must not touch its captures after destroying its watcher.
  });
  loop->Run();
  EXPECT_EQ(received, "hello");
  EXPECT_EQ(watcher, nullptr);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LibeventLoopTest, PendingPostsAreDestroyedWithTheLoop) {
  auto flag = std::make_shared<int>(0);
  {
    auto loop = NewLoop();
    loop->Post([flag] { ++*flag; });
  }
  EXPECT_EQ(*flag, 0);
  EXPECT_EQ(flag.use_count(), 1);
}

TEST(LibeventLoopTest, TasksAndPostsRunInOneFifoOrder) {
  auto loop = NewLoop();
  std::vector<std::string> order;
  auto task = loop->CreateTask([&] { order.push_back("task"); });
  auto cancelled = loop->CreateTask([&] { order.push_back("cancelled"); });
  loop->Post([&] {
    cancelled->Post();
    loop->Post([&] { order.push_back("post"); });
    task->Post();
    loop->Post([&] { order.push_back("post2"); });
    cancelled->Cancel();
    loop->Post([&] { loop->Stop(); });
  });
  loop->Run();
  EXPECT_EQ(order, (std::vector<std::string>{"post", "task", "post2"}));
}

TEST(LibeventLoopTest, SelfRepostingTaskDoesNotStarveTimers) {
  auto loop = NewLoop();
  bool fired = false;
  int spins = 0;
  std::unique_ptr<Task> spin;
  spin = loop->CreateTask([&] {
    ++spins;
    if (!fired) spin->Post();
  });
  auto timer = loop->CreateTimer([&] {
    fired = true;
    loop->Stop();
  });
  timer->Schedule(milliseconds(2));
  spin->Post();
  loop->Run();
  EXPECT_TRUE(fired);
  EXPECT_GT(spins, 0);
}

// A closure still queued when the loop is destroyed may own a timer of that loop: it must be destroyed while
// the event base still exists.
TEST(LibeventLoopTest, QueuedClosuresOwningTimersAreDestroyedBeforeTheEventBase) {
  auto loop = NewLoop();
  std::shared_ptr<Timer> timer = loop->CreateTimer([] {});
  timer->Schedule(std::chrono::seconds(5));
  loop->Post([timer] {});
  timer.reset();
  loop.reset();  // Under ASan, freeing the base first was a use-after-free in event_free.
}

}  // namespace
}  // namespace libp2p
