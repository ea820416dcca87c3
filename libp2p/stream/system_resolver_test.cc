#include "libp2p/stream/system_resolver.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using testing::RunUntil;

std::vector<std::string> Texts(const std::vector<Multiaddr>& addrs) {
  std::vector<std::string> out;
  for (const Multiaddr& a : addrs) out.push_back(a.ToString());
  return out;
}

TEST(LookUpHostTest, LocalhostComesFromTheHostsFile) {
  StatusOr<std::vector<Multiaddr>> found = LookUpHost("localhost", IpFamily::kIp4);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const std::vector<std::string> texts = Texts(*found);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "/ip4/127.0.0.1"), texts.end());
  for (const std::string& t : texts) EXPECT_EQ(t.rfind("/ip4/", 0), 0u) << "an IPv4 lookup answered " << t;
}

TEST(LookUpHostTest, NumericAddresses) {
  StatusOr<std::vector<Multiaddr>> v4 = LookUpHost("127.0.0.2", IpFamily::kIp4);
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(Texts(*v4), std::vector<std::string>{"/ip4/127.0.0.2"});
  StatusOr<std::vector<Multiaddr>> v6 = LookUpHost("2001:db8::7", IpFamily::kAny);
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(Texts(*v6), std::vector<std::string>{"/ip6/2001:db8::7"});
}

TEST(LookUpHostTest, NotAHostName) {
  EXPECT_EQ(LookUpHost("", IpFamily::kAny).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LookUpHost(std::string("local\0host", 10), IpFamily::kAny).status().code(),
            StatusCode::kInvalidArgument);
}

// A lookup function for the worker threads that blocks each lookup until the test lets it finish, and
// records what ran. Waits are bounded only so that a broken test fails instead of hanging.
class Gate {
 public:
  SystemResolverOptions::LookUp Function() {
    return [this](const std::string& host, IpFamily) -> StatusOr<std::vector<Multiaddr>> {
      std::unique_lock<std::mutex> lock(mutex_);
      started_.push_back(host);
      ++running_;
      max_running_ = std::max(max_running_, running_);
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_ || released_.count(host) > 0; });
      --running_;
      return std::vector<Multiaddr>{*Multiaddr::FromString("/ip4/10.0.0.1")};
    };
  }
  // Lets the lookup of `host` finish.
  void Release(const std::string& host) {
    std::lock_guard<std::mutex> lock(mutex_);
    released_.insert(host);
    changed_.notify_all();
  }
  // Lets every lookup finish.
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits until `n` lookups have started.
  bool WaitForStarted(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return started_.size() >= n; });
  }
  std::vector<std::string> started() {
    std::lock_guard<std::mutex> lock(mutex_);
    return started_;
  }
  size_t max_running() {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_running_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> started_;
  std::set<std::string> released_;
  bool open_ = false;
  size_t running_ = 0;
  size_t max_running_ = 0;
};

// One lookup's outcome.
struct Outcome {
  bool done = false;
  Status status;
  std::vector<Multiaddr> addrs;
  std::thread::id thread;

  Resolver::ResolveCallback Callback() {
    return [this](StatusOr<std::vector<Multiaddr>> r) {
      done = true;
      status = r.status();
      if (r.ok()) addrs = *r;
      thread = std::this_thread::get_id();
    };
  }
};

class SystemResolverTest : public ::testing::Test {
 protected:
  std::unique_ptr<LibeventLoop> loop_ = std::move(LibeventLoop::Create()).value();
  Gate gate_;
};

TEST_F(SystemResolverTest, ResolvesLocalhostOnAWorkerAndAnswersOnTheLoopThread) {
  SystemResolver resolver(loop_.get());
  Outcome outcome;
  auto pending = resolver.Resolve("localhost", IpFamily::kIp4, outcome.Callback());
  EXPECT_FALSE(outcome.done) << "called back from inside Resolve()";
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return outcome.done; }));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  const std::vector<std::string> texts = Texts(outcome.addrs);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "/ip4/127.0.0.1"), texts.end());
  EXPECT_EQ(outcome.thread, std::this_thread::get_id());
}

TEST_F(SystemResolverTest, AtMostMaxConcurrentLookupsRunAtOnce) {
  SystemResolver resolver(loop_.get(), {.max_concurrent = 2, .look_up = gate_.Function()});
  std::vector<Outcome> outcomes(5);
  std::vector<std::unique_ptr<PendingResolve>> pending;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    pending.push_back(resolver.Resolve("h" + std::to_string(i), IpFamily::kAny, outcomes[i].Callback()));
  }
  ASSERT_TRUE(gate_.WaitForStarted(2));
  gate_.Open();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] {
    return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.done; });
  }));
  EXPECT_EQ(gate_.max_running(), 2u);
  EXPECT_EQ(gate_.started().size(), 5u);
  for (const Outcome& o : outcomes) EXPECT_EQ(Texts(o.addrs), std::vector<std::string>{"/ip4/10.0.0.1"});
}

TEST_F(SystemResolverTest, ALookupCancelledWhileQueuedNeverRuns) {
  SystemResolver resolver(loop_.get(), {.max_concurrent = 1, .look_up = gate_.Function()});
  Outcome first, cancelled, last;
  auto p1 = resolver.Resolve("first", IpFamily::kAny, first.Callback());
  ASSERT_TRUE(gate_.WaitForStarted(1));
  auto p2 = resolver.Resolve("cancelled", IpFamily::kAny, cancelled.Callback());
  auto p3 = resolver.Resolve("last", IpFamily::kAny, last.Callback());
  p2.reset();
  gate_.Open();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return first.done && last.done; }));
  EXPECT_FALSE(cancelled.done);
  EXPECT_EQ(gate_.started(), (std::vector<std::string>{"first", "last"}));
}

TEST_F(SystemResolverTest, ALookupCancelledWhileRunningIsNeverAnswered) {
  SystemResolver resolver(loop_.get(), {.max_concurrent = 1, .look_up = gate_.Function()});
  Outcome cancelled, next;
  auto p1 = resolver.Resolve("cancelled", IpFamily::kAny, cancelled.Callback());
  ASSERT_TRUE(gate_.WaitForStarted(1));
  auto p2 = resolver.Resolve("next", IpFamily::kAny, next.Callback());
  p1.reset();
  gate_.Open();
  // One worker answers in order: by the time the next lookup's answer arrives, the cancelled one's has too.
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return next.done; }));
  EXPECT_FALSE(cancelled.done);
  EXPECT_EQ(gate_.started(), (std::vector<std::string>{"cancelled", "next"}));
}

TEST_F(SystemResolverTest, LookupsBeyondMaxPendingFailFromTheLoop) {
  SystemResolver resolver(loop_.get(), {.max_concurrent = 1, .max_pending = 2, .look_up = gate_.Function()});
  Outcome a, b, refused;
  auto pa = resolver.Resolve("a", IpFamily::kAny, a.Callback());
  auto pb = resolver.Resolve("b", IpFamily::kAny, b.Callback());
  auto pc = resolver.Resolve("c", IpFamily::kAny, refused.Callback());
  EXPECT_FALSE(refused.done) << "called back from inside Resolve()";
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return refused.done; }));
  EXPECT_EQ(refused.status.code(), StatusCode::kResourceExhausted);
  gate_.Open();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return a.done && b.done; }));
  // Finished lookups no longer count.
  Outcome later;
  auto pd = resolver.Resolve("d", IpFamily::kAny, later.Callback());
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return later.done; }));
  EXPECT_TRUE(later.status.ok()) << later.status.ToString();
}

TEST_F(SystemResolverTest, DestroyingTheResolverCancelsAndJoins) {
  Outcome running, queued;
  std::unique_ptr<PendingResolve> p1, p2;
  {
    SystemResolver resolver(loop_.get(), {.max_concurrent = 1, .look_up = gate_.Function()});
    p1 = resolver.Resolve("running", IpFamily::kAny, running.Callback());
    ASSERT_TRUE(gate_.WaitForStarted(1));
    p2 = resolver.Resolve("queued", IpFamily::kAny, queued.Callback());
    gate_.Open();
    // The destructor waits for the running lookup (and for the queued one, should the worker have taken it
    // first), whose answers may already be posted.
  }
  bool marker = false;
  loop_->Post([&] { marker = true; });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return marker; }));
  EXPECT_FALSE(running.done);
  EXPECT_FALSE(queued.done);
  // Handles may outlive the resolver.
  p1.reset();
  p2.reset();
}

TEST_F(SystemResolverTest, ACallbackMayDestroyTheResolver) {
  auto resolver = std::make_unique<SystemResolver>(loop_.get());
  bool done = false;
  std::unique_ptr<PendingResolve> pending = resolver->Resolve("localhost", IpFamily::kIp4, [&](auto) {
    pending.reset();
    resolver.reset();
    done = true;
  });
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return done; }));
  EXPECT_EQ(resolver, nullptr);
}

}  // namespace
}  // namespace libp2p::stream
