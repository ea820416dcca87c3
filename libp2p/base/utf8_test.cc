#include "libp2p/base/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(Utf8SequenceLength("x\xc3\xa9", 1), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF, the last code point.
}

TEST(Utf8Test, IllFormedSequencesHaveNoLength) {
  for (const std::string bad : {
           std::string("\x80"),              // A continuation byte alone.
           std::string("\xc0\xaf"),          // Overlong '/'.
           std::string("\xc1\xbf"),          // Overlong.
           std::string("\xe0\x80\xaf"),      // Overlong, three bytes.
           std::string("\xed\xa0\x80"),      // A surrogate (U+D800).
           std::string("\xf0\x80\x80\xaf"),  // Overlong, four bytes.
           std::string("\xf4\x90\x80\x80"),  // Above U+10FFFF.
           std::string("\xf5\x80\x80\x80"),  // Not a lead byte.
           std::string("\xe2\x82"),          // Cut by the end.
           std::string("\xe2\x28\xa1"),      // A continuation byte missing.
       }) {
    EXPECT_EQ(Utf8SequenceLength(bad, 0), 0u) << testing::PrintToString(bad);
    EXPECT_FALSE(IsUtf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(Utf8Test, WholeStrings) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 text"));
  EXPECT_FALSE(IsUtf8("ends badly \xc3"));
}

}  // namespace
}  // namespace libp2p
