// A log sink for tests: it keeps copies of the records it receives. While it exists it is the process's sink,
// at the level it was made with; the sink and level before it come back when it goes.
#ifndef LIBP2P_BASE_TESTING_CAPTURING_LOG_SINK_H_
#define LIBP2P_BASE_TESTING_CAPTURING_LOG_SINK_H_

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libp2p/base/log.h"

namespace libp2p::testing {

// A record with its own copies of the texts; each field's value as text (numbers in decimal, booleans as
// true/false).
struct CapturedLogRecord {
  LogLevel level = LogLevel::kInfo;
  std::string component;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of the first field named `key`, if any.
  std::optional<std::string> Field(std::string_view key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
};

// Thread-safe: records may arrive from any thread while a test reads them.
class CapturingLogSink final : public LogSink {
 public:
  explicit CapturingLogSink(LogLevel level = LogLevel::kTrace) : previous_level_(GetLogLevel()) {
    // In the body: other threads may call Write() as soon as it is set, so every member must exist.
    previous_sink_ = SetLogSink(this);
    SetLogLevel(level);
  }
  ~CapturingLogSink() override {
    SetLogLevel(previous_level_);
    SetLogSink(previous_sink_);
  }
  CapturingLogSink(const CapturingLogSink&) = delete;
  CapturingLogSink& operator=(const CapturingLogSink&) = delete;

  void Write(const LogRecord& record) override {
    CapturedLogRecord c{record.level, std::string(record.component), std::string(record.message), {}};
    for (const LogField& f : record.fields) c.fields.emplace_back(std::string(f.key), Text(f.value));
    std::lock_guard<std::mutex> lock(mu_);
    records_.push_back(std::move(c));
  }

  // Copies of the records received so far, oldest first.
  std::vector<CapturedLogRecord> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  // The records whose message is `message`.
  std::vector<CapturedLogRecord> WithMessage(std::string_view message) const {
    std::vector<CapturedLogRecord> out;
    for (CapturedLogRecord& r : records()) {
      if (r.message == message) out.push_back(std::move(r));
    }
    return out;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_.size();
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    records_.clear();
  }

 private:
  static std::string Text(const LogValue& v) {
    switch (v.kind()) {
      case LogValue::Kind::kString: return std::string(v.string());
      case LogValue::Kind::kInt: return std::to_string(v.int_value());
      case LogValue::Kind::kUint: return std::to_string(v.uint_value());
      case LogValue::Kind::kDouble: return std::to_string(v.double_value());
      case LogValue::Kind::kBool: return v.bool_value() ? "true" : "false";
    }
    return "";
  }

  const LogLevel previous_level_;
  LogSink* previous_sink_ = nullptr;
  mutable std::mutex mu_;
  std::vector<CapturedLogRecord> records_;
};

}  // namespace libp2p::testing

#endif  // LIBP2P_BASE_TESTING_CAPTURING_LOG_SINK_H_
