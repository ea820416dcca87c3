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

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 section 10, padded; the unpadded forms drop the '='.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, padded] : cases) {
    const std::string bare = padded.substr(0, padded.find('='));
    for (const Base64Alphabet alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl, Base64Alphabet::kI2p}) {
      EXPECT_EQ(Base64Encode(AsBytes(plain), alphabet, Base64Padding::kPadded), padded);
      EXPECT_EQ(Base64Encode(AsBytes(plain), alphabet, Base64Padding::kNone), bare);
      const StatusOr<Bytes> from_padded = Base64Decode(padded, alphabet, Base64Padding::kPadded);
      ASSERT_TRUE(from_padded.ok()) << padded << ": " << from_padded.status().ToString();
      EXPECT_EQ(ToString(*from_padded), plain);
      const StatusOr<Bytes> from_bare = Base64Decode(bare, alphabet, Base64Padding::kNone);
      ASSERT_TRUE(from_bare.ok()) << bare << ": " << from_bare.status().ToString();
      EXPECT_EQ(ToString(*from_bare), plain);
    }
  }
}

TEST(Base64Test, AlphabetsDifferInTheLastTwoDigits) {
  const Bytes data = B({0xfb, 0xff, 0xbf});  // Digits 62, 63, 62, 63.
  EXPECT_EQ(Base64Encode(data, Base64Alphabet::kStandard, Base64Padding::kNone), "+/+/");
  EXPECT_EQ(Base64Encode(data, Base64Alphabet::kUrl, Base64Padding::kNone), "-_-_");
  EXPECT_EQ(Base64Encode(data, Base64Alphabet::kI2p, Base64Padding::kNone), "-~-~");
  ExpectInvalid(Base64Decode("-_-_", Base64Alphabet::kStandard, Base64Padding::kNone), "'-' at position 0");
  ExpectInvalid(Base64Decode("+/+/", Base64Alphabet::kUrl, Base64Padding::kNone), "'+' at position 0");
  ExpectInvalid(Base64Decode("-_-_", Base64Alphabet::kI2p, Base64Padding::kNone), "'_' at position 1");
  ExpectInvalid(Base64Decode("-~-~", Base64Alphabet::kUrl, Base64Padding::kNone), "'~' at position 1");
}

TEST(Base64Test, RejectsNonCanonicalText) {
  constexpr Base64Alphabet kStd = Base64Alphabet::kStandard;
  // Unpadded: no '=', no length of 1 modulo 4, no set bits after the last whole byte.
  ExpectInvalid(Base64Decode("Zg==", kStd, Base64Padding::kNone), "'=' at position 2 (padding is not allowed)");
  ExpectInvalid(Base64Decode("Z", kStd, Base64Padding::kNone), "length 1");
  ExpectInvalid(Base64Decode("Zm9vY", kStd, Base64Padding::kNone), "length 5");
  ExpectInvalid(Base64Decode("Zh", kStd, Base64Padding::kNone), "trailing bits");  // "f" is "Zg".
  ExpectInvalid(Base64Decode("Zm9=", kStd, Base64Padding::kNone), "padding is not allowed");
  ExpectInvalid(Base64Decode("Zm 9", kStd, Base64Padding::kNone), "' ' at position 2");
  // Padded: exactly the padding the length needs, only at the end, and the same trailing-bit rule.
  ExpectInvalid(Base64Decode("Zg", kStd, Base64Padding::kPadded), "padded length 2 is not a multiple of 4");
  ExpectInvalid(Base64Decode("Zg=", kStd, Base64Padding::kPadded), "padded length 3");
  ExpectInvalid(Base64Decode("Z===", kStd, Base64Padding::kPadded), "'=' at position 1 (padding belongs only");
  ExpectInvalid(Base64Decode("Zg=A", kStd, Base64Padding::kPadded), "'=' at position 2");
  ExpectInvalid(Base64Decode("Zm9v====", kStd, Base64Padding::kPadded), "'=' at position 4");
  ExpectInvalid(Base64Decode("Zh==", kStd, Base64Padding::kPadded), "trailing bits");
  ExpectInvalid(Base64Decode("Zm9=", kStd, Base64Padding::kPadded), "trailing bits");  // "fo" is "Zm8=".
  const std::string over_limit(kMaxMultibaseTextLength + 4, 'A');
  EXPECT_EQ(Base64Decode(over_limit, kStd, Base64Padding::kNone).status().code(), StatusCode::kOutOfRange);
  const std::string at_limit_text(kMaxMultibaseTextLength, 'A');
  const StatusOr<Bytes> at_limit = Base64Decode(at_limit_text, kStd, Base64Padding::kPadded);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_EQ(*at_limit, Bytes(kMaxMultibaseTextLength / 4 * 3, 0));
}

TEST(Base64Test, RandomRoundTrips) {
  std::mt19937 rng(64);
  for (int i = 0; i < 300; ++i) {
    const Bytes data = RandomBytes(rng, rng() % 40, false);
    for (const Base64Alphabet alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl, Base64Alphabet::kI2p}) {
      for (const Base64Padding padding : {Base64Padding::kNone, Base64Padding::kPadded}) {
        const std::string text = Base64Encode(data, alphabet, padding);
        const StatusOr<Bytes> decoded = Base64Decode(text, alphabet, padding);
        ASSERT_TRUE(decoded.ok()) << text;
        EXPECT_EQ(*decoded, data) << text;
      }
    }
  }
}

TEST(MultibaseTest, DecodesEachPrefix) {
  const Bytes foobar = ToBytes("foobar");
  const std::vector<std::pair<std::string, Multibase>> cases = {
      {"zt1Zv2yaZ", Multibase::kBase58Btc},       {"bmzxw6ytboi", Multibase::kBase32},
      {"BMZXW6YTBOI", Multibase::kBase32Upper},   {"f666f6f626172", Multibase::kBase16},
      {"F666F6F626172", Multibase::kBase16Upper}, {"mZm9vYmFy", Multibase::kBase64},
      {"MZm9vYmFy", Multibase::kBase64Pad},       {"uZm9vYmFy", Multibase::kBase64Url},
      {"UZm9vYmFy", Multibase::kBase64UrlPad},
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

TEST(MultibaseTest, Base64PrefixesFixAlphabetAndPadding) {
  const Bytes data = B({0xfb, 0xff, 0x66});
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64, data), "m+/9m");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64Url, data), "u-_9m");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64Url, B({0x66})), "uZg");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64UrlPad, B({0x66})), "UZg==");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64Pad, B({0x66, 0x6f})), "MZm8=");
  ExpectInvalid(MultibaseDecode("u+/9m"), "base64url: invalid character '+' at position 0");
  ExpectInvalid(MultibaseDecode("m-_9m"), "base64: invalid character '-' at position 0");
  ExpectInvalid(MultibaseDecode("uZg=="), "padding is not allowed");
  ExpectInvalid(MultibaseDecode("UZg"), "padded length 2");
  ExpectInvalid(MultibaseDecode("MZm8"), "padded length 3");
  ExpectInvalid(MultibaseDecode("uZh"), "trailing bits");
  EXPECT_EQ(MultibaseDecode("u" + std::string(kMaxMultibaseTextLength + 1, 'A')).status().code(),
            StatusCode::kOutOfRange);
}

TEST(MultibaseTest, RejectsUnknownPrefixAndEmptyText) {
  ExpectInvalid(MultibaseDecode(""), "empty");
  ExpectInvalid(MultibaseDecode("k2jmj7l5rsw0yvb3d"), "unsupported prefix 'k'");  // base36, not spoken here.
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
