#include "libp2p/base/deferred_deleter.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"

namespace libp2p {
namespace {

using std::chrono::seconds;

// An object that records its destruction.
struct Tracked {
  Tracked(std::vector<std::string>* log, std::string name) : log(log), name(std::move(name)) {}
  ~Tracked() { log->push_back("~" + name); }
  std::vector<std::string>* log;
  std::string name;
};

TEST(DeferredDeleterTest, DestroysAfterTheCurrentCallbackInOrder) {
  ManualEventLoop loop;
  std::vector<std::string> log;
  DeferredDeleter deleter(&loop);
  loop.Post([&] {
    deleter.Delete(std::make_unique<Tracked>(&log, "x"));
    log.push_back("after Delete");
    deleter.Delete(std::make_unique<Tracked>(&log, "y"));
    EXPECT_EQ(deleter.pending(), 2u);
  });
  loop.RunUntilIdle();
  EXPECT_EQ(log, (std::vector<std::string>{"after Delete", "~x", "~y"}));
  deleter.Delete(std::unique_ptr<Tracked>());  // Nothing to delete: ignored.
  EXPECT_EQ(deleter.pending(), 0u);
}

// An object whose destructor hands another object over: both go.
struct HandsOver {
  HandsOver(DeferredDeleter* deleter, std::vector<std::string>* log) : deleter(deleter), log(log) {}
  ~HandsOver() { deleter->Delete(std::make_unique<Tracked>(log, "handed over")); }
  DeferredDeleter* deleter;
  std::vector<std::string>* log;
};

TEST(DeferredDeleterTest, WhatDestructorsHandOverGoesToo) {
  ManualEventLoop loop;
  std::vector<std::string> log;
  DeferredDeleter deleter(&loop);
  deleter.Delete(std::make_unique<HandsOver>(&deleter, &log));
  loop.RunUntilIdle();
  EXPECT_EQ(log, std::vector<std::string>{"~handed over"});
}

// Scoped to its owner: what still waits when the deleter goes is destroyed then, while what the doomed
// objects use (here, timers of the loop) still exists.
TEST(DeferredDeleterTest, WhatStillWaitsGoesWithTheDeleter) {
  ManualEventLoop loop;
  std::vector<std::string> log;
  struct OwnsATimer {
    OwnsATimer(EventLoop* loop, std::vector<std::string>* log) : timer(loop->CreateTimer([] {})), log(log) {
      timer->Schedule(seconds(5));
    }
    ~OwnsATimer() { log->push_back("~timer owner"); }
    std::unique_ptr<Timer> timer;
    std::vector<std::string>* log;
  };
  {
    DeferredDeleter deleter(&loop);
    deleter.Delete(std::make_unique<OwnsATimer>(&loop, &log));
    deleter.Delete(std::make_unique<Tracked>(&log, "z"));
  }
  EXPECT_EQ(log, (std::vector<std::string>{"~timer owner", "~z"}));
  loop.RunUntilIdle();  // Nothing left to run.
  EXPECT_EQ(loop.scheduled_timers(), 0u);
}

}  // namespace
}  // namespace libp2p
