#include "libp2p/base/varint.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

Bytes Encode(uint64_t v) {
  Bytes out;
  AppendUvarint(v, &out);
  return out;
}

TEST(VarintTest, KnownEncodings) {
  // The examples of the multiformats unsigned-varint spec.
  EXPECT_EQ(Encode(1), (Bytes{0x01}));
  EXPECT_EQ(Encode(127), (Bytes{0x7f}));
  EXPECT_EQ(Encode(128), (Bytes{0x80, 0x01}));
  EXPECT_EQ(Encode(255), (Bytes{0xff, 0x01}));
  EXPECT_EQ(Encode(300), (Bytes{0xac, 0x02}));
  EXPECT_EQ(Encode(16384), (Bytes{0x80, 0x80, 0x01}));
  EXPECT_EQ(Encode(0), (Bytes{0x00}));
}

TEST(VarintTest, LengthBoundaries) {
  for (int bits = 0; bits <= 63; ++bits) {
    const uint64_t v = bits == 0 ? 0 : (uint64_t{1} << bits) - 1;
    const size_t expected = bits <= 7 ? 1 : (bits + 6) / 7;
    EXPECT_EQ(UvarintLength(v), expected) << bits;
    EXPECT_EQ(Encode(v).size(), expected) << bits;
  }
  EXPECT_EQ(UvarintLength(kMaxUvarintValue), 9u);
}

TEST(VarintTest, MaximumValueIsNineBytes) {
  const Bytes max = Encode(kMaxUvarintValue);
  EXPECT_EQ(max, (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}));
  const UvarintDecode d = DecodeUvarint(max);
  ASSERT_EQ(d.error, UvarintError::kNone);
  EXPECT_EQ(d.value, kMaxUvarintValue);
  EXPECT_EQ(d.length, 9u);
}

TEST(VarintTest, NinthByteWithContinuationOverflows) {
  const Bytes ten = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  EXPECT_EQ(DecodeUvarint(ten).error, UvarintError::kOverflow);
  // Exactly nine bytes, all with continuation: no tenth byte could make it valid.
  EXPECT_EQ(DecodeUvarint(ByteSpan(ten).first(9)).error, UvarintError::kOverflow);
}

TEST(VarintTest, NonMinimalEncodingsRejected) {
  EXPECT_EQ(DecodeUvarint(Bytes{0x80, 0x00}).error, UvarintError::kNonMinimal);
  EXPECT_EQ(DecodeUvarint(Bytes{0x81, 0x00}).error, UvarintError::kNonMinimal);
  EXPECT_EQ(DecodeUvarint(Bytes{0xff, 0x80, 0x00}).error, UvarintError::kNonMinimal);
  EXPECT_EQ(DecodeUvarint(Bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}).error,
            UvarintError::kNonMinimal);
  // A lone zero is the minimal encoding of 0.
  EXPECT_EQ(DecodeUvarint(Bytes{0x00}).error, UvarintError::kNone);
}

TEST(VarintTest, IncompleteInput) {
  EXPECT_EQ(DecodeUvarint(ByteSpan()).error, UvarintError::kIncomplete);
  EXPECT_EQ(DecodeUvarint(Bytes{0x80}).error, UvarintError::kIncomplete);
  EXPECT_EQ(DecodeUvarint(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).error,
            UvarintError::kIncomplete);
  EXPECT_EQ(DecodeUvarint(Bytes{0x80}).length, 0u);
}

TEST(VarintTest, DecodeStopsAtEndOfVarint) {
  const UvarintDecode d = DecodeUvarint(Bytes{0xac, 0x02, 0xff, 0xff});
  ASSERT_EQ(d.error, UvarintError::kNone);
  EXPECT_EQ(d.value, 300u);
  EXPECT_EQ(d.length, 2u);
}

TEST(VarintTest, RandomRoundTrips) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = (rng() & kMaxUvarintValue) >> (rng() % 63);
    const Bytes b = Encode(v);
    const UvarintDecode d = DecodeUvarint(b);
    ASSERT_EQ(d.error, UvarintError::kNone);
    ASSERT_EQ(d.value, v);
    ASSERT_EQ(d.length, b.size());
  }
}

TEST(VarintTest, ReadUvarintAdvances) {
  const Bytes b = {0x05, 0xac, 0x02, 0x80};
  ByteSpan in(b);
  EXPECT_EQ(*ReadUvarint(&in), 5u);
  EXPECT_EQ(*ReadUvarint(&in), 300u);
  StatusOr<uint64_t> bad = ReadUvarint(&in);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(in.size(), 1u);  // Not advanced on failure.
}

TEST(VarintTest, StringAppend) {
  std::string s;
  AppendUvarint(300, &s);
  EXPECT_EQ(s, std::string("\xac\x02"));
}

}  // namespace
}  // namespace libp2p

namespace libp2p {
namespace {

// The decoder has a word-at-a-time path for inputs of 8 bytes or more and a byte-at-a-time path otherwise:
// both must agree on every length, with and without trailing bytes.
TEST(VarintTest, FastAndSlowPathsAgree) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = (rng() & kMaxUvarintValue) >> (rng() % 63);
    Bytes b = Encode(v);
    const size_t n = b.size();
    Bytes padded = b;
    for (int k = 0; k < 8; ++k) padded.push_back(static_cast<uint8_t>(rng()));
    const UvarintDecode short_input = DecodeUvarint(b);
    const UvarintDecode long_input = DecodeUvarint(padded);
    ASSERT_EQ(short_input.error, UvarintError::kNone);
    ASSERT_EQ(long_input.error, UvarintError::kNone);
    ASSERT_EQ(short_input.value, v);
    ASSERT_EQ(long_input.value, v);
    ASSERT_EQ(long_input.length, n);
  }
}

TEST(VarintTest, NonMinimalOnTheWordPath) {
  for (size_t len = 2; len <= 9; ++len) {
    Bytes b(len, 0x80);
    b[len - 1] = 0x00;
    for (int k = 0; k < 8; ++k) b.push_back(0x01);
    EXPECT_EQ(DecodeUvarint(b).error, UvarintError::kNonMinimal) << len;
  }
}

}  // namespace
}  // namespace libp2p
