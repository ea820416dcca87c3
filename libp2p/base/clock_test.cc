#include "libp2p/base/clock.h"

#include "gtest/gtest.h"

namespace libp2p {
namespace {

using std::chrono::milliseconds;

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  const MonoTime start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now() - start, milliseconds(1500));
  clock.AdvanceTo(start);  // Never backwards.
  EXPECT_EQ(clock.Now() - start, milliseconds(1500));
  clock.AdvanceTo(start + milliseconds(2000));
  EXPECT_EQ(clock.Now() - start, milliseconds(2000));
}

TEST(RealClockTest, IsMonotonic) {
  RealClock clock;
  MonoTime prev = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    const MonoTime now = clock.Now();
    ASSERT_GE(now, prev);
    prev = now;
  }
}

}  // namespace
}  // namespace libp2p
