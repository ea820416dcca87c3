// A TraceSink for tests: keeps a copy of every event, in order.
#ifndef LIBP2P_PUBSUB_TRACE_TEST_TOOLS_RECORDING_SINK_H_
#define LIBP2P_PUBSUB_TRACE_TEST_TOOLS_RECORDING_SINK_H_

#include <vector>

#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

class RecordingSink final : public TraceSink {
 public:
  void Write(const tracepb::TraceEvent& event) override { events.push_back(event); }
  std::vector<tracepb::TraceEvent> events;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TEST_TOOLS_RECORDING_SINK_H_
