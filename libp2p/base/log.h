// Structured, leveled logs: a process-wide level and sink, and the LIBP2P_LOG macro.
//
// A record is a level, a time, a component ("host", "pubsub", "gossipsub", ...), a fixed message and a short
// list of key/value fields (peer ids, topics, reasons). The library writes few of them, where an operator
// cares; the application chooses the level and where records go:
//
//   libp2p::SetLogLevel(libp2p::LogLevel::kDebug);
//   libp2p::SetLogSink(&my_sink);  // Or keep the default: JSON lines on standard error.
//
// A statement whose level is off costs one relaxed atomic load and a compare: its message and fields are not
// evaluated, nothing is formatted or allocated. Records caused by a remote peer's behaviour go through a
// LogRateLimiter (log_rate_limiter.h) as well, so that a hostile peer cannot make us log at line rate.
//
// Threads: the level may be read and set from any thread. Records from all threads go to the sink one at a
// time, under a process-wide mutex, so a sink needs no locking of its own (and must not block for long).
#ifndef LIBP2P_BASE_LOG_H_
#define LIBP2P_BASE_LOG_H_

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "libp2p/base/status.h"

namespace libp2p {

// Levels in increasing severity. kOff is a threshold only (SetLogLevel(kOff) turns every record off); a record
// never has it.
enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "trace", "debug", "info", "warn", "error" or "off".
std::string_view LogLevelName(LogLevel level);
// The level named by one of LogLevelName's words (exactly, lower case); kInvalidArgument for anything else.
StatusOr<LogLevel> ParseLogLevel(std::string_view name);

// A field's value: text, a whole number, a real number or a boolean. Text is held as a view, not copied: a
// LogValue (and a LogField) is meant to live within the LIBP2P_LOG statement that makes it, where a temporary
// such as `peer.ToBase58()` lives to the end of the statement. Do not keep one made from a temporary.
class LogValue {
 public:
  enum class Kind : uint8_t { kString, kInt, kUint, kDouble, kBool };

  LogValue() : LogValue(std::string_view()) {}
  LogValue(std::string_view s) : kind_(Kind::kString), string_(s) {}  // NOLINT: implicit by design
  LogValue(const char* s) : LogValue(std::string_view(s)) {}          // NOLINT: implicit by design
  LogValue(const std::string& s) : LogValue(std::string_view(s)) {}   // NOLINT: implicit by design
  LogValue(bool b) : kind_(Kind::kBool), bool_(b) {}                  // NOLINT: implicit by design
  LogValue(double d) : kind_(Kind::kDouble), double_(d) {}            // NOLINT: implicit by design
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  LogValue(T v) {  // NOLINT: implicit by design
    if constexpr (std::is_signed_v<T>) {
      kind_ = Kind::kInt;
      int_ = static_cast<int64_t>(v);
    } else {
      kind_ = Kind::kUint;
      uint_ = static_cast<uint64_t>(v);
    }
  }

  Kind kind() const { return kind_; }
  // The value as its kind says; reading another kind's value is a programming error.
  std::string_view string() const { return string_; }
  int64_t int_value() const { return int_; }
  uint64_t uint_value() const { return uint_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }

 private:
  Kind kind_;
  std::string_view string_;
  union {
    int64_t int_;
    uint64_t uint_;
    double double_;
    bool bool_;
  };
};

// One key/value pair of a record. Keys are short fixed names ("peer", "topic", "reason"); they should not be
// the default sink's own keys (ts, level, component, msg).
struct LogField {
  std::string_view key;
  LogValue value;
};

// What a sink receives. Every view points into the caller's statement and is valid during LogSink::Write()
// only: a sink that keeps a record copies what it keeps.
struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  std::chrono::system_clock::time_point time;
  std::string_view component;
  std::string_view message;
  std::span<const LogField> fields;
};

// Where records go. Calls are serialized (never two at once, whatever the threads), and a record that the
// library logs while a sink's Write() runs on the same thread (a sink that calls back into the library) is
// dropped rather than deadlocking.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogRecord& record) = 0;
};

// The default sink: each record as one line of JSON on standard error (FormatLogJson), written with a single
// write() so that lines from several threads or processes sharing the descriptor do not interleave. A write
// error loses the line (there is nowhere to report it).
class StderrJsonLogSink final : public LogSink {
 public:
  void Write(const LogRecord& record) override;
};

// One record as one line of JSON, newline included, appended to `out`:
//   {"ts":"2026-12-01T09:30:00.123456Z","level":"info","component":"host","msg":"connection up","peer":"12D3..."}
// `ts` is UTC (RFC 3339, microseconds); the fields follow `msg` in their order, as JSON strings, numbers
// (non-finite reals as the strings "NaN", "Infinity", "-Infinity") or booleans. Text that is not valid
// UTF-8 (topics come from remote peers) has each bad byte replaced by U+FFFD, so every line parses.
void AppendLogJson(const LogRecord& record, std::string* out);

// The process-wide threshold: records below it are off. Default kWarn. Safe from any thread.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// Replaces the process-wide sink and returns the previous one (null for the default). `sink` is an observer
// (null: the default StderrJsonLogSink) that must stay valid until another SetLogSink() call returns: once this
// call returns, no thread is inside the previous sink, nor will be.
LogSink* SetLogSink(LogSink* sink);

namespace log_internal {

// The threshold as a number, read by LogEnabled without a function call.
extern std::atomic<uint8_t> min_level;

// Makes the record (with `suppressed`, when not 0, as a last field "suppressed") and hands it to the sink.
// Fields beyond kMaxFields are left out. Out of line and cold: only enabled statements reach it.
inline constexpr size_t kMaxFields = 16;
[[gnu::cold, gnu::noinline]] void Emit(LogLevel level, std::string_view component, std::string_view message,
                                       uint64_t suppressed, std::initializer_list<LogField> fields = {});

}  // namespace log_internal

// Whether records of `level` are on now.
inline bool LogEnabled(LogLevel level) {
  return static_cast<uint8_t>(level) >= log_internal::min_level.load(std::memory_order_relaxed);
}

}  // namespace libp2p

// Logs `message` (a string) from `component` (a string) at `level` (a LogLevel), with optional fields as a
// braced list of {key, value} pairs:
//
//   LIBP2P_LOG(LogLevel::kDebug, "pubsub", "message rejected",
//              {{"peer", from.ToBase58()}, {"topic", msg.topic()}, {"reason", "invalid"}});
//
// When `level` is off nothing after it is evaluated: no formatting, no allocation, no side effect.
#define LIBP2P_LOG(level, component, message, ...)                                                           \
  do {                                                                                                       \
    if (const ::libp2p::LogLevel libp2p_log_level_ = (level); ::libp2p::LogEnabled(libp2p_log_level_))      \
      [[unlikely]] {                                                                                         \
      ::libp2p::log_internal::Emit(libp2p_log_level_, (component), (message), 0 __VA_OPT__(                  \
                                       , ::std::initializer_list<::libp2p::LogField> __VA_ARGS__));          \
    }                                                                                                        \
  } while (false)

#endif  // LIBP2P_BASE_LOG_H_
