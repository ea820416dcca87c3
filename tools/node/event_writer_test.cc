#include "tools/node/event_writer.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace libp2p::node {
namespace {

TEST(EventWriterTest, EscapesStrings) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
  out.clear();
  AppendJsonString("h\xc3\xa9llo", &out);  // Valid UTF-8 passes through.
  EXPECT_EQ(out, "\"h\xc3\xa9llo\"");
  out.clear();
  AppendJsonString("\xff\xc3", &out);  // Invalid bytes are escaped.
  EXPECT_EQ(out, "\"\\u00ff\\u00c3\"");
}

// Regression: lead bytes used to pass with any continuation bytes, so overlong forms, surrogates and code
// points above U+10FFFF reached the output raw, which JSON parsers refuse.
TEST(EventWriterTest, EscapesIllFormedUtf8ThatLooksWellFormed) {
  for (const std::string bad : {"\xf0\x80\x80\xa0", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_FALSE(IsUtf8(bad));
    std::string out;
    AppendJsonString(bad, &out);
    EXPECT_EQ(out.find_first_of("\x80\x90\xa0\xaf\xc0\xe0\xed\xf0\xf4"), std::string::npos) << out;
  }
  for (const std::string good : {"\xc2\x80", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(IsUtf8(good));
    std::string out;
    AppendJsonString(good, &out);
    EXPECT_EQ(out, "\"" + good + "\"");
  }
}

TEST(EventWriterTest, BuildsOneObject) {
  Event e("ping");
  e.Str("peer_id", "12D3").Num("rtt_ms", 0.25).Int("n", -3).Bool("ok", true).StrList("p", {"/a", "/b"});
  const std::string& j = e.json();
  EXPECT_EQ(j.rfind("{\"event\":\"ping\",\"time_ms\":", 0), 0u);
  EXPECT_NE(j.find(",\"peer_id\":\"12D3\",\"rtt_ms\":0.250,\"n\":-3,\"ok\":true,\"p\":[\"/a\",\"/b\"]"),
            std::string::npos);
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), as JSON
// parsers require.
bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c >> 5) == 6) {
      len = 2, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      len = 3, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

// The writer's output checked by another JSON implementation: every line parses, fields keep their order
// and values, and well-formed UTF-8 strings come back byte for byte, whatever bytes they hold.
TEST(EventWriterTest, NlohmannJsonReadsBackEveryEvent) {
  std::mt19937 rng(20261201);
  // Bytes that exercise the escapes: controls, quotes, backslashes, and the lead and continuation bytes of
  // UTF-8 sequences, valid or not.
  const std::string alphabet = std::string("\0\x01\x1f\"\\/\n\r\tab\x7f", 13) +
                               "\xc2\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xff\xf5\x80\xbf";
  int utf8_strings = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string value(rng() % 24, '\0');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    const int64_t number = static_cast<int64_t>(rng()) - (int64_t{1} << 31);
    Event e("round");
    e.Str("value", value).Int("number", number).Num("ms", (rng() % 100000) / 1000.0).StrList("list", {value, "x"});
    nlohmann::ordered_json j;
    ASSERT_NO_THROW(j = nlohmann::ordered_json::parse(e.json() + "}")) << e.json();
    std::vector<std::string> keys;
    for (const auto& item : j.items()) keys.push_back(item.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"event", "time_ms", "value", "number", "ms", "list"}));
    EXPECT_EQ(j["event"], "round");
    EXPECT_EQ(j["number"].get<int64_t>(), number);
    EXPECT_EQ(j["list"].size(), 2u);
    if (IsUtf8(value)) {
      ++utf8_strings;
      EXPECT_EQ(j["value"].get<std::string>(), value);
      EXPECT_EQ(j["list"][0].get<std::string>(), value);
    }
  }
  EXPECT_GT(utf8_strings, 1000);  // The check above ran often enough to mean something.
}

}  // namespace
}  // namespace libp2p::node
