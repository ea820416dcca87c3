// A TraceSink that writes go's protobuf trace: each TraceEvent encoded and preceded by its length as a
// varint (go-libp2p-pubsub's PBTracer, NewPBTracer; protoio's delimited format), which go's tools and
// `protoc --decode` of each record read.
#ifndef LIBP2P_PUBSUB_TRACE_PB_TRACE_WRITER_H_
#define LIBP2P_PUBSUB_TRACE_PB_TRACE_WRITER_H_

#include <memory>
#include <string>

#include "libp2p/base/status.h"
#include "libp2p/pubsub/trace/trace_file.h"
#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

// Appends `event` to `out` as one delimited record: its length (a varint), then its encoding.
void AppendDelimitedEvent(const tracepb::TraceEvent& event, std::string* out);

// Encodes each event straight into the file's reused buffer. Errors never reach the caller of Write():
// they are counted in file().stats() and kept in file().last_error(). Not thread-safe.
class PbTraceWriter final : public TraceSink {
 public:
  // Writes to `out`, which it owns (and flushes and closes when destroyed, if `out` owns its descriptor).
  explicit PbTraceWriter(std::unique_ptr<TraceFile> out) : out_(std::move(out)) {}

  void Write(const tracepb::TraceEvent& event) override;
  // Writes out the buffered records; the write's error, if any.
  Status Flush() { return out_->Flush(); }
  TraceFile& file() { return *out_; }

 private:
  std::unique_ptr<TraceFile> out_;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_PB_TRACE_WRITER_H_
