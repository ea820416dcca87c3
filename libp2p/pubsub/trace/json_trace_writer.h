// A TraceSink that writes go's JSON trace: one JSON object per line (go-libp2p-pubsub's JSONTracer,
// NewJSONTracer), byte for byte as Go's encoding/json (trace_json.h).
#ifndef LIBP2P_PUBSUB_TRACE_JSON_TRACE_WRITER_H_
#define LIBP2P_PUBSUB_TRACE_JSON_TRACE_WRITER_H_

#include <memory>

#include "libp2p/base/status.h"
#include "libp2p/pubsub/trace/trace_file.h"
#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

// Formats each event straight into the file's reused buffer: one line per event, no allocation once the
// buffer has grown. Errors never reach the caller of Write(): they are counted in file().stats() and kept in
// file().last_error(). Runs on the thread that calls Write() (the loop thread); not thread-safe.
class JsonTraceWriter final : public TraceSink {
 public:
  // Writes to `out`, which it owns (and flushes and closes when destroyed, if `out` owns its descriptor).
  explicit JsonTraceWriter(std::unique_ptr<TraceFile> out) : out_(std::move(out)) {}

  void Write(const tracepb::TraceEvent& event) override;
  // Writes out the buffered lines; the write's error, if any.
  Status Flush() { return out_->Flush(); }
  TraceFile& file() { return *out_; }

 private:
  std::unique_ptr<TraceFile> out_;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_JSON_TRACE_WRITER_H_
