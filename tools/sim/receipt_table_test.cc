#include "tools/sim/receipt_table.h"

#include <map>

#include "gtest/gtest.h"

namespace libp2p::sim {
namespace {

TEST(ReceiptTableTest, CountsCopiesPerMessageAcrossGrowth) {
  ReceiptTable table;
  std::map<uint64_t, uint32_t> expected;
  // Consecutive ids, ids that share low bits, and the id 0: several growths of the table.
  for (uint64_t round = 0; round < 3; ++round) {
    for (uint64_t i = 0; i < 1000; ++i) {
      for (uint64_t id : {i, i << 32, i * 4096 + 7}) {
        Receipt& r = table[id];
        if (r.copies++ == 0) r.first = MonoTime(std::chrono::milliseconds(round * 1000 + i));
        ++expected[id];
      }
    }
  }
  EXPECT_EQ(table.size(), expected.size());
  std::map<uint64_t, Receipt> seen;
  table.ForEach([&](uint64_t id, const Receipt& r) { EXPECT_TRUE(seen.emplace(id, r).second) << id; });
  ASSERT_EQ(seen.size(), expected.size());
  for (const auto& [id, copies] : expected) {
    ASSERT_TRUE(seen.count(id)) << id;
    EXPECT_EQ(seen[id].copies, copies) << id;
  }
  // The first copy's time stays the first one's (round 0), however many copies followed.
  EXPECT_EQ(seen[5].first, MonoTime(std::chrono::milliseconds(5)));
  EXPECT_EQ(seen[uint64_t{999} << 32].first, MonoTime(std::chrono::milliseconds(999)));
}

TEST(ReceiptTableTest, EmptyTableHasNothing) {
  ReceiptTable table;
  size_t calls = 0;
  table.ForEach([&](uint64_t, const Receipt&) { ++calls; });
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace libp2p::sim
