#include "libp2p/base/proto_wire.h"

#include "gtest/gtest.h"

namespace libp2p::proto {
namespace {

TEST(ProtoWireTest, WritesAndReadsFields) {
  Bytes msg;
  AppendVarintField(1, 1, &msg);
  AppendBytesField(2, std::string_view("abc"), &msg);
  AppendVarintField(3, UINT64_MAX, &msg);
  EXPECT_EQ(msg.size(), BytesFieldSize(2, 3) + 2 + 11);
  Reader r(msg);
  Field f;
  ASSERT_TRUE(r.Next(&f).ok());
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.type, WireType::kVarint);
  EXPECT_EQ(f.varint, 1u);
  ASSERT_TRUE(r.Next(&f).ok());
  EXPECT_EQ(f.number, 2u);
  EXPECT_EQ(f.type, WireType::kLengthDelimited);
  EXPECT_EQ(ToString(f.bytes), "abc");
  ASSERT_TRUE(r.Next(&f).ok());
  EXPECT_EQ(f.varint, UINT64_MAX);
  EXPECT_TRUE(r.done());
  EXPECT_FALSE(r.Next(&f).ok());
}

TEST(ProtoWireTest, FixedWidthFields) {
  const Bytes msg = {0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 0, 0, 0};
  Reader r(msg);
  Field f;
  ASSERT_TRUE(r.Next(&f).ok());
  EXPECT_EQ(f.type, WireType::kFixed64);
  EXPECT_EQ(f.varint, 0x0807060504030201u);
  ASSERT_TRUE(r.Next(&f).ok());
  EXPECT_EQ(f.type, WireType::kFixed32);
  EXPECT_EQ(f.varint, 1u);
}

TEST(ProtoWireTest, RejectsMalformedInput) {
  Field f;
  const Bytes too_long = {0x12, 0x05, 'a', 'b'};
  EXPECT_EQ(Reader(too_long).Next(&f).code(), StatusCode::kInvalidArgument);
  const Bytes group = {0x0b};
  EXPECT_FALSE(Reader(group).Next(&f).ok());
  const Bytes field_zero = {0x02, 0x00};
  EXPECT_FALSE(Reader(field_zero).Next(&f).ok());
  const Bytes non_minimal = {0x08, 0x81, 0x00};
  EXPECT_FALSE(Reader(non_minimal).Next(&f).ok());
  const Bytes overflow = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  EXPECT_FALSE(Reader(overflow).Next(&f).ok());
  const Bytes truncated_fixed = {0x09, 1, 2};
  EXPECT_FALSE(Reader(truncated_fixed).Next(&f).ok());
  const Bytes truncated_varint = {0x08, 0x80};
  EXPECT_FALSE(Reader(truncated_varint).Next(&f).ok());
}

}  // namespace
}  // namespace libp2p::proto
