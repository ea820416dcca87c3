#include "libp2p/base/log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "libp2p/base/utf8.h"

namespace libp2p {

namespace log_internal {

// Constant-initialized: statements in static initializers of other files see the default already.
std::atomic<uint8_t> min_level{static_cast<uint8_t>(LogLevel::kWarn)};

}  // namespace log_internal

namespace {

// Serializes the sink's calls and guards g_sink. Never destroyed (nor is the default sink): threads may log
// while the process exits.
std::mutex& SinkMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

StderrJsonLogSink& DefaultSink() {
  static StderrJsonLogSink* sink = new StderrJsonLogSink();
  return *sink;
}

LogSink* g_sink = nullptr;  // Null: DefaultSink(). Guarded by SinkMutex().

// Set while this thread is inside a sink's Write(): a record it logs meanwhile is dropped.
thread_local bool g_in_sink = false;

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\n') {
      out->append("\\n");
      ++i;
    } else if (c == '\t') {
      out->append("\\t");
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (const size_t n = Utf8SequenceLength(s, i); n > 0) {
      out->append(s.substr(i, n));
      i += n;
    } else {
      out->append("\\ufffd");
      ++i;
    }
  }
  out->push_back('"');
}

void AppendJsonValue(const LogValue& v, std::string* out) {
  char buf[32];
  switch (v.kind()) {
    case LogValue::Kind::kString: return AppendJsonString(v.string(), out);
    case LogValue::Kind::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case LogValue::Kind::kInt: {
      const auto r = std::to_chars(buf, buf + sizeof(buf), v.int_value());
      out->append(buf, r.ptr);
      return;
    }
    case LogValue::Kind::kUint: {
      const auto r = std::to_chars(buf, buf + sizeof(buf), v.uint_value());
      out->append(buf, r.ptr);
      return;
    }
    case LogValue::Kind::kDouble: {
      const double d = v.double_value();
      if (std::isnan(d)) {
        out->append("\"NaN\"");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        // The shortest text that reads back as the same double.
        const auto r = std::to_chars(buf, buf + sizeof(buf), d);
        out->append(buf, r.ptr);
      }
      return;
    }
  }
}

// "2026-12-01T09:30:00.123456Z".
void AppendTimestamp(std::chrono::system_clock::time_point t, std::string* out) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  long frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) {  // Before 1970: floor, not truncation.
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  if (n > 0) out->append(buf, std::min(static_cast<size_t>(n), sizeof(buf) - 1));
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "off";
}

StatusOr<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                     LogLevel::kOff}) {
    if (name == LogLevelName(l)) return l;
  }
  return InvalidArgumentError("expected trace, debug, info, warn, error or off, got '" + std::string(name) + "'");
}

void AppendLogJson(const LogRecord& record, std::string* out) {
  out->append("{\"ts\":\"");
  AppendTimestamp(record.time, out);
  out->append("\",\"level\":\"");
  out->append(LogLevelName(record.level));
  out->append("\",\"component\":");
  AppendJsonString(record.component, out);
  out->append(",\"msg\":");
  AppendJsonString(record.message, out);
  for (const LogField& f : record.fields) {
    out->push_back(',');
    AppendJsonString(f.key, out);
    out->push_back(':');
    AppendJsonValue(f.value, out);
  }
  out->append("}\n");
}

void StderrJsonLogSink::Write(const LogRecord& record) {
  std::string line;
  line.reserve(256);
  AppendLogJson(record, &line);
  // One write() for the whole line; another only if the descriptor took part of it.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void SetLogLevel(LogLevel level) {
  log_internal::min_level.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() {
  return static_cast<LogLevel>(log_internal::min_level.load(std::memory_order_relaxed));
}

LogSink* SetLogSink(LogSink* new_sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  LogSink* previous = g_sink;
  g_sink = new_sink;
  return previous;
}

namespace log_internal {

void Emit(LogLevel level, std::string_view component, std::string_view message, uint64_t suppressed,
          std::initializer_list<LogField> fields) {
  if (level >= LogLevel::kOff || g_in_sink) return;
  LogField all[kMaxFields + 1];
  size_t n = 0;
  for (const LogField& f : fields) {
    if (n == kMaxFields) break;
    all[n++] = f;
  }
  if (suppressed > 0) all[n++] = LogField{"suppressed", suppressed};
  LogRecord record;
  record.level = level;
  record.time = std::chrono::system_clock::now();
  record.component = component;
  record.message = message;
  record.fields = std::span<const LogField>(all, n);
  std::lock_guard<std::mutex> lock(SinkMutex());
  struct InSink {
    InSink() { g_in_sink = true; }
    ~InSink() { g_in_sink = false; }
  } in_sink_scope;
  (g_sink != nullptr ? *g_sink : DefaultSink()).Write(record);
}

}  // namespace log_internal

}  // namespace libp2p
