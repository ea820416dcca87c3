#include "tools/node/event_writer.h"

#include "gtest/gtest.h"

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

TEST(EventWriterTest, BuildsOneObject) {
  Event e("ping");
  e.Str("peer_id", "12D3").Num("rtt_ms", 0.25).Int("n", -3).Bool("ok", true).StrList("p", {"/a", "/b"});
  const std::string& j = e.json();
  EXPECT_EQ(j.rfind("{\"event\":\"ping\",\"time_ms\":", 0), 0u);
  EXPECT_NE(j.find(",\"peer_id\":\"12D3\",\"rtt_ms\":0.250,\"n\":-3,\"ok\":true,\"p\":[\"/a\",\"/b\"]"),
            std::string::npos);
}

}  // namespace
}  // namespace libp2p::node
