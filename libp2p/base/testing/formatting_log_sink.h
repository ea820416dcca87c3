// A log sink for fuzzers: it formats each record as the default sink would (AppendLogJson) and drops the
// line, so that a fuzzer runs the logging code on hostile input (topics, reasons) without writing anything.
#ifndef LIBP2P_BASE_TESTING_FORMATTING_LOG_SINK_H_
#define LIBP2P_BASE_TESTING_FORMATTING_LOG_SINK_H_

#include <cassert>
#include <string>

#include "libp2p/base/log.h"

namespace libp2p::testing {

class FormattingLogSink final : public LogSink {
 public:
  void Write(const LogRecord& record) override {
    line_.clear();
    AppendLogJson(record, &line_);
    // One line, whatever the fields held.
    assert(line_.find('\n') == line_.size() - 1);
  }

  // Makes a FormattingLogSink the process's sink, at the trace level, for the rest of the process.
  static void InstallForever() {
    static FormattingLogSink* sink = new FormattingLogSink();
    SetLogSink(sink);
    SetLogLevel(LogLevel::kTrace);
  }

 private:
  std::string line_;
};

}  // namespace libp2p::testing

#endif  // LIBP2P_BASE_TESTING_FORMATTING_LOG_SINK_H_
