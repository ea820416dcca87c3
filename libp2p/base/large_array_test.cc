#include "libp2p/base/large_array.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

struct alignas(64) Line {
  uint64_t words[8];
};

TEST(LargeArrayTest, SmallArrayIsZeroedAndAligned) {
  LargeArray<Line> a(3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  for (size_t i = 0; i < a.size(); ++i) {
    for (uint64_t w : a[i].words) EXPECT_EQ(w, 0u);
  }
}

TEST(LargeArrayTest, LargeArrayIsHugePageAligned) {
  LargeArray<uint64_t> a(1 << 20);  // 8 MiB.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % (2 << 20), 0u);
  a[(1 << 20) - 1] = 7;
  EXPECT_EQ(a[(1 << 20) - 1], 7u);
  EXPECT_EQ(a[12345], 0u);
}

TEST(LargeArrayTest, MoveTransfersOwnership) {
  LargeArray<uint64_t> a(10);
  a[3] = 42;
  LargeArray<uint64_t> b = std::move(a);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b[3], 42u);
  a = std::move(b);
  EXPECT_EQ(a[3], 42u);
}

TEST(LargeArrayTest, EmptyArray) {
  LargeArray<uint64_t> a;
  EXPECT_EQ(a.size(), 0u);
  LargeArray<uint64_t> b(0);
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace libp2p
