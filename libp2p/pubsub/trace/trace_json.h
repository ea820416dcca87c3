// Trace events as JSON lines, byte for byte as go-libp2p-pubsub's JSONTracer writes them: Go's encoding/json
// applied to the gogo-protobuf struct of each message. The protobuf library's own JSON printer follows the
// proto3 JSON mapping instead (int64 as strings, enum names, lowerCamel names, every set field), so it is not
// used for writing.
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_JSON_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_JSON_H_

#include <string>

#include "google/protobuf/message.h"
#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

// Appends `message` (any proto2 message; the trace schema uses bool, int64, enum, string, bytes and message
// fields) as one JSON object, as Go marshals its generated struct, whose fields are pointers, []byte and
// slices tagged `json:"<proto name>,omitempty"`:
// - fields in declaration order (the struct's order), named exactly as in the .proto ("peerID");
// - a singular field when it is set (a non-nil pointer), even to "" or 0 or false; a bytes field only when
//   it is set and not empty (omitempty leaves out a []byte of length 0);
// - a repeated field when it has elements;
// - enums and integers as decimal numbers, bool as true/false, bytes as standard base64 with padding,
//   strings escaped by AppendGoJsonString (go_json.h);
// - unknown fields never (Go's XXX_unrecognized is tagged json:"-").
// No spaces; nothing is appended after the closing brace.
void AppendGoJsonMessage(const google::protobuf::Message& message, std::string* out);

// Appends one line of go's JSONTracer: the event as AppendGoJsonMessage writes it, then '\n'.
void AppendTraceEventJsonLine(const tracepb::TraceEvent& event, std::string* out);

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_JSON_H_
