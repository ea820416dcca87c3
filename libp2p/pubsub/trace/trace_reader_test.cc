// Reading traces back: format detection, delimited protobuf and JSON lines with their errors, gzip files.
#include "libp2p/pubsub/trace/trace_reader.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/pubsub/trace/gzip.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"
#include "libp2p/pubsub/trace/trace_json.h"

namespace libp2p::pubsub::trace {
namespace {

using tracepb::TraceEvent;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

std::vector<TraceEvent> Events() {
  std::vector<TraceEvent> out;
  for (int i = 0; i < 3; ++i) {
    TraceEvent e;
    e.set_type(TraceEvent::DELIVER_MESSAGE);
    e.set_peerid("p");
    e.set_timestamp(1000 + i);
    e.mutable_delivermessage()->set_messageid(std::string("\x00\xff", 2) + std::to_string(i));
    e.mutable_delivermessage()->set_topic("a<b>");
    out.push_back(e);
  }
  return out;
}

std::string AsPb(const std::vector<TraceEvent>& events) {
  std::string out;
  for (const TraceEvent& e : events) AppendDelimitedEvent(e, &out);
  return out;
}

std::string AsJson(const std::vector<TraceEvent>& events) {
  std::string out;
  for (const TraceEvent& e : events) AppendTraceEventJsonLine(e, &out);
  return out;
}

std::vector<std::string> Read(const std::string& path, std::optional<TraceFormat> format = std::nullopt,
                              Status* status = nullptr) {
  std::vector<std::string> got;
  Status s = ReadTraceFile(path, format, [&](const TraceEvent& e) { got.push_back(e.SerializeAsString()); });
  if (status != nullptr) *status = s;
  EXPECT_TRUE(status != nullptr || s.ok()) << s.ToString();
  return got;
}

std::vector<std::string> Serialized(const std::vector<TraceEvent>& events) {
  std::vector<std::string> out;
  for (const TraceEvent& e : events) out.push_back(e.SerializeAsString());
  return out;
}

TEST(TraceReaderTest, DetectsTheFormat) {
  EXPECT_EQ(DetectTraceFormat(AsJson(Events())), TraceFormat::kJson);
  EXPECT_EQ(DetectTraceFormat(AsPb(Events())), TraceFormat::kPb);
  EXPECT_EQ(DetectTraceFormat(""), TraceFormat::kPb);
  // A protobuf record of 123 bytes starts with '{' too, but then with the type's tag.
  EXPECT_EQ(DetectTraceFormat(std::string("{\x08\x03", 3)), TraceFormat::kPb);
}

TEST(TraceReaderTest, ReadsEachFormatPlainAndCompressed) {
  const std::vector<TraceEvent> events = Events();
  WriteFile(TempPath("t.pb"), AsPb(events));
  WriteFile(TempPath("t.json"), AsJson(events));
  GzipWriter gz;
  std::string compressed;
  ASSERT_TRUE(gz.Write(AsPb(events), false, &compressed).ok());
  ASSERT_TRUE(gz.Finish(&compressed).ok());
  WriteFile(TempPath("t.pb.gz"), compressed);
  EXPECT_EQ(Read(TempPath("t.pb")), Serialized(events));
  EXPECT_EQ(Read(TempPath("t.json")), Serialized(events));
  EXPECT_EQ(Read(TempPath("t.pb.gz")), Serialized(events));
  EXPECT_EQ(Read(TempPath("t.json"), TraceFormat::kJson), Serialized(events));
}

TEST(TraceReaderTest, JsonSkipsEmptyLinesAndNamesTheBadOne) {
  std::vector<std::string> got;
  const auto add = [&](const TraceEvent& e) { got.push_back(e.SerializeAsString()); };
  EXPECT_TRUE(ReadJsonTrace("\n" + AsJson(Events()) + "\r\n\n", add).ok());
  EXPECT_EQ(got, Serialized(Events()));
  got.clear();
  Status s = ReadJsonTrace(AsJson({Events()[0]}) + "{\"type\":\n", add);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_EQ(got.size(), 1u);
  // Fields go does not know (a newer schema) are ignored.
  got.clear();
  EXPECT_TRUE(ReadJsonTrace(R"({"type":9,"future":1,"join":{"topic":"t"}})", add).ok());
  EXPECT_EQ(got.size(), 1u);
}

TEST(TraceReaderTest, PbErrors) {
  const auto ignore = [](const TraceEvent&) {};
  const std::string pb = AsPb(Events());
  EXPECT_EQ(ReadPbTrace(pb.substr(0, pb.size() - 1), ignore).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPbTrace(pb, ignore, /*max_event_size=*/4).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ReadPbTrace(std::string("\x02\xff\xff", 3), ignore).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPbTrace(std::string("\x80", 1), ignore).code(), StatusCode::kInvalidArgument);
  Status missing;
  Read(TempPath("does-not-exist"), std::nullopt, &missing);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
