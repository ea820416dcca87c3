#include "libp2p/base/log.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/testing/capturing_log_sink.h"
#include "nlohmann/json.hpp"

namespace libp2p {
namespace {

using testing::CapturingLogSink;

TEST(LogLevelTest, NamesParseBack) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                     LogLevel::kOff}) {
    StatusOr<LogLevel> parsed = ParseLogLevel(LogLevelName(l));
    ASSERT_TRUE(parsed.ok()) << LogLevelName(l);
    EXPECT_EQ(*parsed, l);
  }
  for (const char* bad : {"", "WARN", "warning", "verbose", "3", "debug "}) {
    StatusOr<LogLevel> parsed = ParseLogLevel(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(LogTest, DefaultLevelIsWarn) { EXPECT_EQ(GetLogLevel(), LogLevel::kWarn); }

TEST(LogTest, RecordsBelowTheLevelAreDropped) {
  CapturingLogSink sink(LogLevel::kInfo);
  LIBP2P_LOG(LogLevel::kTrace, "test", "trace");
  LIBP2P_LOG(LogLevel::kDebug, "test", "debug");
  LIBP2P_LOG(LogLevel::kInfo, "test", "info");
  LIBP2P_LOG(LogLevel::kWarn, "test", "warn");
  LIBP2P_LOG(LogLevel::kError, "test", "error");
  std::vector<std::string> got;
  for (const auto& r : sink.records()) got.push_back(r.message);
  EXPECT_EQ(got, (std::vector<std::string>{"info", "warn", "error"}));

  SetLogLevel(LogLevel::kOff);
  LIBP2P_LOG(LogLevel::kError, "test", "off");
  EXPECT_EQ(sink.size(), 3u);
  EXPECT_FALSE(LogEnabled(LogLevel::kError));
  SetLogLevel(LogLevel::kTrace);
  EXPECT_TRUE(LogEnabled(LogLevel::kTrace));
}

TEST(LogTest, RecordCarriesComponentMessageAndFieldsInOrder) {
  CapturingLogSink sink;
  const std::string topic = "blocks";
  LIBP2P_LOG(LogLevel::kInfo, "pubsub", "message rejected",
             {{"peer", std::string("12D3KooW")}, {"topic", topic}, {"count", 3}, {"big", uint64_t{1} << 63},
              {"score", -2.5}, {"flood", true}});
  ASSERT_EQ(sink.size(), 1u);
  const auto r = sink.records()[0];
  EXPECT_EQ(r.level, LogLevel::kInfo);
  EXPECT_EQ(r.component, "pubsub");
  EXPECT_EQ(r.message, "message rejected");
  const std::vector<std::pair<std::string, std::string>> want{{"peer", "12D3KooW"}, {"topic", "blocks"},
                                                              {"count", "3"},       {"big", "9223372036854775808"},
                                                              {"score", "-2.500000"}, {"flood", "true"}};
  EXPECT_EQ(r.fields, want);
}

TEST(LogTest, DisabledStatementEvaluatesNothing) {
  CapturingLogSink sink(LogLevel::kInfo);
  int evaluated = 0;
  auto field = [&] {
    ++evaluated;
    return std::string("value");
  };
  auto message = [&] {
    ++evaluated;
    return "message";
  };
  LIBP2P_LOG(LogLevel::kDebug, "test", message(), {{"a", field()}, {"b", field()}});
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(sink.size(), 0u);
  LIBP2P_LOG(LogLevel::kInfo, "test", message(), {{"a", field()}, {"b", field()}});
  EXPECT_EQ(evaluated, 3);
  EXPECT_EQ(sink.size(), 1u);
}

TEST(LogTest, TooManyFieldsAreCut) {
  CapturingLogSink sink;
  LIBP2P_LOG(LogLevel::kInfo, "test", "many",
             {{"f0", 0}, {"f1", 1}, {"f2", 2}, {"f3", 3}, {"f4", 4}, {"f5", 5}, {"f6", 6}, {"f7", 7}, {"f8", 8},
              {"f9", 9}, {"f10", 10}, {"f11", 11}, {"f12", 12}, {"f13", 13}, {"f14", 14}, {"f15", 15}, {"f16", 16}});
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.records()[0].fields.size(), log_internal::kMaxFields);
}

// A sink that logs from inside Write(): the inner record is dropped instead of deadlocking.
class ReentrantSink final : public LogSink {
 public:
  void Write(const LogRecord& record) override {
    ++writes;
    LIBP2P_LOG(LogLevel::kError, "test", "from inside the sink");
  }
  int writes = 0;
};

TEST(LogTest, LoggingFromInsideTheSinkIsDropped) {
  ReentrantSink reentrant;
  CapturingLogSink restore;  // Restores the level and sink when the test ends.
  SetLogSink(&reentrant);
  LIBP2P_LOG(LogLevel::kInfo, "test", "outer");
  EXPECT_EQ(reentrant.writes, 1);
}

LogRecord FixedRecord(std::span<const LogField> fields) {
  LogRecord r;
  r.level = LogLevel::kWarn;
  // 2026-12-01T09:30:00.123456Z
  r.time = std::chrono::system_clock::time_point(std::chrono::seconds(1796117400) + std::chrono::microseconds(123456));
  r.component = "gossipsub";
  r.message = "graft during backoff";
  r.fields = fields;
  return r;
}

TEST(LogJsonTest, OneLineWithTheFixedKeysThenTheFields) {
  const LogField fields[] = {{"peer", "12D3KooWabc"}, {"topic", "t"}, {"n", -7}, {"ok", false}, {"x", 0.25}};
  std::string line;
  AppendLogJson(FixedRecord(fields), &line);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-12-01T09:30:00.123456Z\",\"level\":\"warn\",\"component\":\"gossipsub\","
            "\"msg\":\"graft during backoff\",\"peer\":\"12D3KooWabc\",\"topic\":\"t\",\"n\":-7,\"ok\":false,"
            "\"x\":0.25}\n");
}

TEST(LogJsonTest, HostileTextStillParsesAsOneLine) {
  // Quotes, backslashes, control characters, newlines, valid multi-byte UTF-8, and bytes that are not UTF-8
  // (a lone continuation byte, a truncated sequence, an overlong form, a surrogate, a byte never valid).
  const std::string topic = std::string("a\"b\\c\nd\te\x01\x7f") + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" +
                            "\x80" + "\xe2\x82" + "\xc0\xaf" + "\xed\xa0\x80" + "\xff" + "end";
  const LogField fields[] = {{"topic", topic},
                             {"nan", std::numeric_limits<double>::quiet_NaN()},
                             {"inf", -std::numeric_limits<double>::infinity()},
                             {"big", std::numeric_limits<int64_t>::min()}};
  std::string line;
  AppendLogJson(FixedRecord(fields), &line);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["topic"], "a\"b\\c\nd\te\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd\xef\xbf\xbd"
                        "end");
  EXPECT_EQ(j["nan"], "NaN");
  EXPECT_EQ(j["inf"], "-Infinity");
  EXPECT_EQ(j["big"], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(j["level"], "warn");
}

TEST(LogJsonTest, SecondsBefore1970AreFloored) {
  LogRecord r = FixedRecord({});
  r.time = std::chrono::system_clock::time_point(-std::chrono::microseconds(1));
  std::string line;
  AppendLogJson(r, &line);
  EXPECT_NE(line.find("\"ts\":\"1969-12-31T23:59:59.999999Z\""), std::string::npos) << line;
}

// Two threads log at once (as two nodes on their loop threads do) while a third changes the level; run under
// --config=tsan, this checks that the level and the sink need no more locking than they have.
TEST(LogThreadsTest, TwoThreadsLogAtOnce) {
  CapturingLogSink sink(LogLevel::kDebug);
  constexpr int kLines = 2000;
  std::atomic<bool> go{false};
  auto logger = [&](int thread) {
    while (!go.load()) {
    }
    for (int i = 0; i < kLines; ++i) {
      LIBP2P_LOG(LogLevel::kInfo, "test", "line", {{"thread", thread}, {"i", i}});
    }
  };
  std::thread a(logger, 0);
  std::thread b(logger, 1);
  std::thread toggler([&] {
    while (!go.load()) {
    }
    for (int i = 0; i < 100; ++i) {
      SetLogLevel(i % 2 == 0 ? LogLevel::kTrace : LogLevel::kDebug);
      (void)GetLogLevel();
    }
  });
  go.store(true);
  a.join();
  b.join();
  toggler.join();
  // Both levels let kInfo through: every line arrived, whole, and each thread's in its order.
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 2u * kLines);
  int next[2] = {0, 0};
  for (const auto& r : records) {
    ASSERT_EQ(r.fields.size(), 2u);
    const int thread = std::stoi(r.fields[0].second);
    EXPECT_EQ(std::stoi(r.fields[1].second), next[thread]++);
  }
}

// The sink can be swapped while threads log: SetLogSink() waits for the sink's current call, so the replaced
// sink (here destroyed at the end of the block) is never called after.
TEST(LogThreadsTest, SwappingTheSinkWhileThreadsLog) {
  CapturingLogSink first(LogLevel::kInfo);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  auto logger = [&] {
    while (!stop.load()) {
      LIBP2P_LOG(LogLevel::kInfo, "test", "swap");
      ++written;
    }
  };
  std::thread a(logger);
  std::thread b(logger);
  while (written.load() < 100) {
  }
  {
    CapturingLogSink second(LogLevel::kInfo);
    const int before = written.load();
    while (written.load() < before + 100) {
    }
    EXPECT_GT(second.size(), 0u);
  }
  stop.store(true);
  a.join();
  b.join();
  EXPECT_GT(first.size(), 0u);
}

}  // namespace
}  // namespace libp2p
