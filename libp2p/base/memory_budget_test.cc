#include "libp2p/base/memory_budget.h"

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(MemoryBudgetTest, ReservationsMustFitEveryAncestor) {
  MemoryBudget node(100);
  MemoryBudget a(60, &node), b(60, &node);
  EXPECT_TRUE(a.TryReserve(50));
  EXPECT_FALSE(a.TryReserve(11));  // Over a's own limit.
  EXPECT_EQ(b.available(), 50u);   // The node has 50 left.
  EXPECT_FALSE(b.TryReserve(51));  // Over the node's limit.
  EXPECT_EQ(b.used(), 0u);         // A refused reservation reserves nothing.
  EXPECT_TRUE(b.TryReserve(50));
  EXPECT_EQ(node.used(), 100u);
  a.Release(20);
  EXPECT_EQ(node.used(), 80u);
  EXPECT_EQ(a.used(), 30u);
}

TEST(MemoryBudgetTest, ReleasingMoreThanReservedReleasesWhatIsThere) {
  MemoryBudget node(100);
  MemoryBudget a(100, &node);
  ASSERT_TRUE(a.TryReserve(10));
  a.Release(1000);
  EXPECT_EQ(a.used(), 0u);
  EXPECT_EQ(node.used(), 0u);
}

TEST(MemoryBudgetTest, DestroyedChildGivesItsReservationBack) {
  MemoryBudget node(100);
  {
    MemoryBudget a(100, &node);
    ASSERT_TRUE(a.TryReserve(70));
    EXPECT_EQ(node.used(), 70u);
  }
  EXPECT_EQ(node.used(), 0u);
}

}  // namespace
}  // namespace libp2p
