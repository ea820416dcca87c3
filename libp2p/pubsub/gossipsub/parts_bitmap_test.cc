#include "libp2p/pubsub/gossipsub/parts_bitmap.h"

#include <gtest/gtest.h>

namespace libp2p::pubsub::gossipsub {
namespace {

// The test-plans vector's encoding: part i is bit i of byte i / 8, least significant first.
TEST(PartsBitmapTest, EncodesPartsLeastSignificantBitFirst) {
  PartsBitmap b(8);
  b.Set(0);
  b.Set(3);
  EXPECT_EQ(b.bytes(), std::string("\x09", 1));
  PartsBitmap wide(12);
  wide.Set(9);
  EXPECT_EQ(wide.bytes(), std::string("\x00\x02", 2));
  EXPECT_TRUE(wide.Get(9));
  EXPECT_FALSE(wide.Get(8));
  EXPECT_EQ(wide.Count(), 1u);
}

TEST(PartsBitmapTest, SetOperations) {
  PartsBitmap a(8), b(8);
  a.Set(1);
  a.Set(2);
  b.Set(2);
  b.Set(5);
  EXPECT_EQ(a.Minus(b).bytes(), std::string("\x02", 1));
  a |= b;
  EXPECT_EQ(a.Count(), 3u);
  a.Clear(1);
  EXPECT_FALSE(a.Get(1));
  EXPECT_TRUE(PartsBitmap::All(8).Complete());
  EXPECT_TRUE(PartsBitmap(8).Empty());
  // Out of range indices are never set.
  a.Set(8);
  EXPECT_FALSE(a.Get(8));
}

// A peer's metadata is checked: its length, and no bit beyond the part count.
TEST(PartsBitmapTest, ParseRejectsMalformedMetadata) {
  EXPECT_TRUE(PartsBitmap::Parse(std::string("\xff", 1), 8).has_value());
  EXPECT_FALSE(PartsBitmap::Parse("", 8).has_value());
  EXPECT_FALSE(PartsBitmap::Parse(std::string("\x01\x00", 2), 8).has_value());
  EXPECT_TRUE(PartsBitmap::Parse(std::string("\x0f", 1), 4).has_value());
  EXPECT_FALSE(PartsBitmap::Parse(std::string("\x10", 1), 4).has_value());
  auto b = PartsBitmap::Parse(std::string("\x81", 1), 8);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->Get(0));
  EXPECT_TRUE(b->Get(7));
  EXPECT_EQ(b->Count(), 2u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
