#include "libp2p/base/multibase.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

Bytes B(std::initializer_list<uint8_t> bytes) { return Bytes(bytes); }

void ExpectInvalid(const StatusOr<Bytes>& result, std::string_view needle) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().ToString();
}

Bytes RandomBytes(std::mt19937& rng, size_t size, bool leading_zeros) {
  Bytes out(size);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  for (size_t i = 0; leading_zeros && i < size && i < 3; ++i) out[i] = 0;
  return out;
}

TEST(Base58Test, KnownAnswers) {
  const std::vector<std::pair<Bytes, std::string>> cases = {
      {{}, ""},
      {B({0x00}), "1"},
      {B({0x00, 0x00, 0x00}), "111"},
      {ToBytes("hello world"), "StV1DL6CwTryKyV"},
      {B({0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd}), "11233QC4"},
      {B({0x39}), "z"},
      {B({0x3a}), "21"},
      {B({0xff}), "5Q"},
      {B({0x00, 0x01}), "12"},
  };
  for (const auto& [bytes, text] : cases) {
    EXPECT_EQ(Base58BtcEncode(bytes), text);
    const StatusOr<Bytes> decoded = Base58BtcDecode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, bytes) << text;
  }
}

TEST(Base58Test, RejectsCharactersOutsideTheAlphabet) {
  for (const char* text : {"0", "O", "I", "l", "abc+", "ab c", "-"}) {
    ExpectInvalid(Base58BtcDecode(text), "invalid character");
  }
  ExpectInvalid(Base58BtcDecode("12l4"), "'l' at position 2");
  ExpectInvalid(Base58BtcDecode(std::string("1\xff", 2)), "byte 0xff at position 1");
  ExpectInvalid(Base58BtcDecode(std::string("1\0", 2)), "byte 0x00 at position 1");
}

TEST(Base58Test, LengthLimit) {
  const StatusOr<Bytes> ones = Base58BtcDecode(std::string(kMaxMultibaseTextLength, '1'));
  ASSERT_TRUE(ones.ok());
  EXPECT_EQ(*ones, Bytes(kMaxMultibaseTextLength, 0));
  const std::string zs(kMaxMultibaseTextLength, 'z');
  const StatusOr<Bytes> big = Base58BtcDecode(zs);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(Base58BtcEncode(*big), zs);
  EXPECT_EQ(Base58BtcDecode(zs + "z").status().code(), StatusCode::kOutOfRange);
}

TEST(Base58Test, RandomRoundTrips) {
  std::mt19937 rng(58);
  for (int i = 0; i < 500; ++i) {
    const Bytes data = RandomBytes(rng, rng() % 80, i % 4 == 0);
    const std::string text = Base58BtcEncode(data);
    const StatusOr<Bytes> decoded = Base58BtcDecode(text);
    ASSERT_TRUE(decoded.ok()) << text;
    EXPECT_EQ(*decoded, data) << text;
  }
}

TEST(Base32Test, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"f", "my"},
      {"fo", "mzxq"},
      {"foo", "mzxw6"},
      {"foob", "mzxw6yq"},
      {"fooba", "mzxw6ytb"},
      {"foobar", "mzxw6ytboi"},
  };
  for (const auto& [plain, text] : cases) {
    EXPECT_EQ(Base32Encode(AsBytes(plain)), text);
    const StatusOr<Bytes> lower = Base32Decode(text);
    ASSERT_TRUE(lower.ok()) << text << ": " << lower.status().ToString();
    EXPECT_EQ(ToString(*lower), plain);
    std::string upper = text;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const StatusOr<Bytes> from_upper = Base32Decode(upper);
    ASSERT_TRUE(from_upper.ok()) << upper;
    EXPECT_EQ(ToString(*from_upper), plain);
  }
  const StatusOr<Bytes> mixed = Base32Decode("MzXw6YtBoI");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(ToString(*mixed), "foobar");
}

TEST(Base32Test, RejectsPaddingBadLengthsAndTrailingBits) {
  ExpectInvalid(Base32Decode("my======"), "padding");
  ExpectInvalid(Base32Decode("m"), "length 1");
  ExpectInvalid(Base32Decode("mzx"), "length 3");
  ExpectInvalid(Base32Decode("mzxw6y"), "length 6");
  ExpectInvalid(Base32Decode("mzxw6yqm1"), "length 9");
  ExpectInvalid(Base32Decode("mz"), "trailing bits");  // "f" is "my": 'z' leaves a 1 in the unused bits.
  ExpectInvalid(Base32Decode("mzxr"), "trailing bits");
  ExpectInvalid(Base32Decode("m1"), "'1' at position 1");
  ExpectInvalid(Base32Decode("m8"), "'8' at position 1");
  EXPECT_EQ(Base32Decode(std::string(kMaxMultibaseTextLength + 1, 'a')).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_TRUE(Base32Decode(std::string(kMaxMultibaseTextLength, 'a')).ok());
}

TEST(Base32Test, RandomRoundTrips) {
  std::mt19937 rng(32);
  for (int i = 0; i < 300; ++i) {
    const Bytes data = RandomBytes(rng, rng() % 40, false);
    const std::string text = Base32Encode(data);
    const StatusOr<Bytes> decoded = Base32Decode(text);
    ASSERT_TRUE(decoded.ok()) << text;
    EXPECT_EQ(*decoded, data) << text;
  }
}

TEST(Base16Test, EncodesAndDecodes) {
  EXPECT_EQ(Base16Encode({}), "");
  EXPECT_EQ(Base16Encode(B({0x00, 0x0a, 0xff, 0x12})), "000aff12");
  const StatusOr<Bytes> lower = Base16Decode("000aff12");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(*lower, B({0x00, 0x0a, 0xff, 0x12}));
  const StatusOr<Bytes> upper = Base16Decode("000AFF12");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, B({0x00, 0x0a, 0xff, 0x12}));
  ExpectInvalid(Base16Decode("abc"), "odd length 3");
  ExpectInvalid(Base16Decode("0g"), "'g' at position 1");
  EXPECT_EQ(Base16Decode(std::string(kMaxMultibaseTextLength + 2, '0')).status().code(),
            StatusCode::kOutOfRange);
}

TEST(MultibaseTest, DecodesEachPrefix) {
  const Bytes foobar = ToBytes("foobar");
  const std::vector<std::pair<std::string, Multibase>> cases = {
      {"zt1Zv2yaZ", Multibase::kBase58Btc},       {"bmzxw6ytboi", Multibase::kBase32},
      {"BMZXW6YTBOI", Multibase::kBase32Upper},   {"f666f6f626172", Multibase::kBase16},
      {"F666F6F626172", Multibase::kBase16Upper},
  };
  for (const auto& [text, base] : cases) {
    Multibase found = Multibase::kBase16;
    const StatusOr<Bytes> decoded = MultibaseDecode(text, &found);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, foobar) << text;
    EXPECT_EQ(found, base) << text;
    EXPECT_EQ(MultibaseEncode(base, foobar), text);
  }
}

TEST(MultibaseTest, PrefixFixesTheCase) {
  ExpectInvalid(MultibaseDecode("bMZXW6YTBOI"), "'M' at position 0 (lower case required)");
  ExpectInvalid(MultibaseDecode("Bmzxw6ytboi"), "'m' at position 0 (upper case required)");
  ExpectInvalid(MultibaseDecode("f666F"), "lower case required");
  ExpectInvalid(MultibaseDecode("F666f"), "upper case required");
}

TEST(MultibaseTest, RejectsUnknownPrefixAndEmptyText) {
  ExpectInvalid(MultibaseDecode(""), "empty");
  ExpectInvalid(MultibaseDecode("m666f"), "unsupported prefix 'm'");
  ExpectInvalid(MultibaseDecode("Qmabc"), "unsupported prefix 'Q'");
  ExpectInvalid(MultibaseDecode("z0"), "'0' at position 0");
  const StatusOr<Bytes> empty = MultibaseDecode("z");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(MultibaseDecode("z" + std::string(kMaxMultibaseTextLength + 1, '1')).status().code(),
            StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace libp2p
