#include "libp2p/pubsub/trace/json_trace_writer.h"

#include "libp2p/pubsub/trace/trace_json.h"

namespace libp2p::pubsub::trace {

void JsonTraceWriter::Write(const tracepb::TraceEvent& event) {
  AppendTraceEventJsonLine(event, out_->buffer());
  out_->EndRecord();
}

}  // namespace libp2p::pubsub::trace
