#include "libp2p/base/fifo.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/live_bytes.h"

namespace libp2p {
namespace {

std::vector<int> Drain(Fifo<int>& q) {
  std::vector<int> out;
  while (!q.empty()) {
    out.push_back(q.front());
    q.pop_front();
  }
  return out;
}

TEST(FifoTest, ItemsLeaveInTheOrderTheyCame) {
  Fifo<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 5; ++i) q.push_back(i);
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.front(), 0);
  EXPECT_EQ(q.back(), 4);
  q.pop_front();
  q.pop_front();
  for (int i = 5; i < 100; ++i) q.push_back(i);  // Moves the rest down on the way.
  std::vector<int> expected;
  for (int i = 2; i < 100; ++i) expected.push_back(i);
  EXPECT_EQ(Drain(q), expected);
}

TEST(FifoTest, PushFrontPutsBackBeforeEverything) {
  Fifo<int> q;
  q.push_back(1);
  q.push_back(2);
  q.push_back(3);
  const int taken = q.front();
  q.pop_front();
  q.push_front(taken);  // Into the slot it left.
  q.push_front(0);      // No slot left: inserted.
  EXPECT_EQ(Drain(q), (std::vector<int>{0, 1, 2, 3}));
  q.push_front(7);  // On an empty queue.
  EXPECT_EQ(Drain(q), (std::vector<int>{7}));
}

TEST(FifoTest, MovingTakesTheItemsAndLeavesAnEmptyQueue) {
  Fifo<int> a;
  for (int i = 0; i < 4; ++i) a.push_back(i);
  a.pop_front();
  Fifo<int> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the state after a move is part of the contract.
  a.push_back(9);
  EXPECT_EQ(Drain(a), (std::vector<int>{9}));
  Fifo<int> c;
  c.push_back(7);
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(Drain(c), (std::vector<int>{1, 2, 3}));
  c.push_back(5);
  c.clear();
  EXPECT_TRUE(c.empty());
}

TEST(FifoTest, ATakenItemIsFreedAtOnce) {
  Fifo<std::shared_ptr<int>> q;
  auto item = std::make_shared<int>(1);
  q.push_back(item);
  q.push_back(std::make_shared<int>(2));
  EXPECT_EQ(item.use_count(), 2);
  q.pop_front();
  EXPECT_EQ(item.use_count(), 1);
}

TEST(FifoTest, HoldsNoMemoryUntilUsedAndLittleOnceEmptied) {
  auto queues = std::make_unique<std::vector<Fifo<std::string>>>();
  queues->reserve(100);
  const size_t before = testing::LiveBytes();
  ASSERT_GT(before, 0u) << "the counting operator new (//libp2p/base:live_bytes) is not linked";
  queues->resize(100);
  EXPECT_EQ(testing::LiveBytes(), before);  // Made, and nothing allocated.

  // A queue that once held many items gives their room back when it empties.
  Fifo<std::string>& q = (*queues)[0];
  for (int i = 0; i < 1000; ++i) q.push_back(std::string(100, 'x'));
  EXPECT_GT(testing::LiveBytes(), before + 100000);
  while (!q.empty()) q.pop_front();
  EXPECT_EQ(testing::LiveBytes(), before);
}

TEST(FifoTest, AQueueThatNeverEmptiesStaysBounded) {
  Fifo<int> q;
  q.push_back(0);
  for (int i = 1; i < 100000; ++i) {
    q.push_back(i);
    EXPECT_EQ(q.front(), i - 1);
    q.pop_front();
  }
  EXPECT_EQ(q.size(), 1u);
  const size_t before = testing::LiveBytes();
  ASSERT_GT(before, 0u) << "the counting operator new (//libp2p/base:live_bytes) is not linked";
  for (int i = 0; i < 1000; ++i) {
    q.push_back(i);
    q.pop_front();
  }
  EXPECT_LE(testing::LiveBytes(), before + 64);  // No growth from a steady trickle.
}

}  // namespace
}  // namespace libp2p
