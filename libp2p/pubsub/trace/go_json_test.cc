// Go's encoding/json string escaping and base64, from its rules (encode.go, Go 1.22+), byte by byte.
#include "libp2p/pubsub/trace/go_json.h"

#include <string>

#include "gtest/gtest.h"

namespace libp2p::pubsub::trace {
namespace {

std::string Str(std::string_view s) {
  std::string out;
  AppendGoJsonString(s, &out);
  return out;
}

std::string B64(std::string_view s) {
  std::string out;
  AppendBase64(s, &out);
  return out;
}

TEST(GoJsonStringTest, PlainTextIsCopied) {
  EXPECT_EQ(Str(""), R"("")");
  EXPECT_EQ(Str("hello world /meshsub/1.1.0 ~!@#$%^*()"), R"x("hello world /meshsub/1.1.0 ~!@#$%^*()")x");
  EXPECT_EQ(Str("\x7f"), "\"\x7f\"");  // DEL is not escaped.
}

TEST(GoJsonStringTest, QuotesAndBackslash) { EXPECT_EQ(Str(R"(a"b\c)"), R"("a\"b\\c")"); }

TEST(GoJsonStringTest, HtmlCharactersAreEscaped) { EXPECT_EQ(Str("<script>&"), R"("\u003cscript\u003e\u0026")"); }

// Go 1.22 and later: \b and \f by their short escapes; other control characters as \u00XX, lower-case hex.
TEST(GoJsonStringTest, ControlCharacters) {
  EXPECT_EQ(Str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Str(std::string("\0\x01\x1f\x0b\x1b", 5)), R"("\u0000\u0001\u001f\u000b\u001b")");
}

TEST(GoJsonStringTest, LineAndParagraphSeparatorsAreEscaped) {
  EXPECT_EQ(Str("a\u2028b\u2029c"), R"("a\u2028b\u2029c")");
  // Their neighbours are not.
  EXPECT_EQ(Str("\u2027\u202a"), "\"\u2027\u202a\"");
}

TEST(GoJsonStringTest, ValidUtf8IsCopied) {
  EXPECT_EQ(Str("caf\u00e9 \u65e5\u672c \U0001F600 \uFFFD"), "\"caf\u00e9 \u65e5\u672c \U0001F600 \uFFFD\"");
}

// Each byte that does not start a well-formed sequence becomes one U+FFFD, as utf8.DecodeRune's (RuneError, 1).
TEST(GoJsonStringTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(Str("a\xff"
                "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(Str("\x80"), R"("\ufffd")");                                // A stray continuation byte.
  EXPECT_EQ(Str("\xc0\xaf"), R"("\ufffd\ufffd")");                      // An overlong '/'.
  EXPECT_EQ(Str("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // A surrogate (U+D800).
  EXPECT_EQ(Str("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // Above U+10FFFF.
  EXPECT_EQ(Str("\xe2\x82"), R"("\ufffd\ufffd")");                      // Cut at the end.
  EXPECT_EQ(Str("\xe2\x82x"), R"("\ufffd\ufffdx")");                    // Cut before ASCII.
  EXPECT_EQ(Str("\xe2\x82\xac"), "\"\xe2\x82\xac\"");                   // The whole euro sign is fine.
}

// RFC 4648's test vectors.
TEST(Base64Test, StandardAlphabetWithPadding) {
  EXPECT_EQ(B64(""), "");
  EXPECT_EQ(B64("f"), "Zg==");
  EXPECT_EQ(B64("fo"), "Zm8=");
  EXPECT_EQ(B64("foo"), "Zm9v");
  EXPECT_EQ(B64("foob"), "Zm9vYg==");
  EXPECT_EQ(B64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(B64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(B64("\xfb\xff\xbf"), "+/+/");  // '+' and '/', not the URL alphabet.
  EXPECT_EQ(B64(std::string("\0\0", 2)), "AAA=");
}

TEST(Base64Test, AppendsToWhatIsThere) {
  std::string out = "x";
  AppendBase64("hi", &out);
  EXPECT_EQ(out, "xaGk=");
}

}  // namespace
}  // namespace libp2p::pubsub::trace
