// Where trace events go: the interface between the tracer that makes events (TraceEventTracer) and what keeps
// them (a JSON or protobuf file, the remote tracer's stream, a test's recorder).
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_SINK_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_SINK_H_

#include "libp2p/pubsub/trace/trace.pb.h"

namespace libp2p::pubsub::trace {

// go-libp2p-pubsub's trace messages (package pubsub.pb, so C++ namespace ::pubsub::pb). Inside
// libp2p::pubsub, `pb` names the RPC messages; this alias keeps the two apart.
namespace tracepb = ::pubsub::pb;

// Receives trace events, one call per event, in the order they happened. Called on the thread of the tracer
// that made the event (the pubsub loop thread), synchronously: an implementation must not block and must not
// call back into pubsub. `event` is valid for the call only; a sink copies what it keeps.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void Write(const tracepb::TraceEvent& event) = 0;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_SINK_H_
