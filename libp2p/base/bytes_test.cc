#include "libp2p/base/bytes.h"

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(BytesTest, HexRoundTrip) {
  const Bytes b = {0x00, 0x7f, 0x80, 0xff, 0x12};
  EXPECT_EQ(HexEncode(b), "007f80ff12");
  EXPECT_EQ(*HexDecode("007F80ff12"), b);
  EXPECT_TRUE(HexDecode("")->empty());
}

TEST(BytesTest, HexDecodeRejectsBadInput) {
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("0g").ok());
}

TEST(BytesTest, StringViews) {
  EXPECT_EQ(AsStringView(AsBytes("abc")), "abc");
  EXPECT_EQ(ToString(ToBytes("xyz")), "xyz");
}

}  // namespace
}  // namespace libp2p
