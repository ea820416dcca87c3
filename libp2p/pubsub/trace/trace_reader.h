// Reads trace files back: go's JSON lines or delimited protobufs, plain or gzip-compressed (go's traced
// writes .pb.gz files). For the trace tools and tests; a node only writes traces.
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_READER_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_READER_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "libp2p/base/status.h"
#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

enum class TraceFormat { kJson, kPb };

// Receives each event read; valid for the call only.
using TraceEventFn = std::function<void(const tracepb::TraceEvent& event)>;

// The longest event the readers accept (go's tracestat reads events of up to 1 MiB).
inline constexpr size_t kMaxTraceEventSize = size_t{1} << 20;
// The largest decompressed trace file ReadTraceFile accepts.
inline constexpr size_t kMaxTraceFileSize = size_t{4} << 30;

// JSON when the data starts as a JSON trace line does ('{' then '"'), protobuf otherwise. (A protobuf
// record of 123 bytes also starts with '{', but then with field 1's tag 0x08, not '"'.)
TraceFormat DetectTraceFormat(std::string_view data);

// Reads varint-delimited TraceEvents. kInvalidArgument for a record that is cut or does not parse,
// kOutOfRange for one longer than `max_event_size`; the events before it have been handed on.
Status ReadPbTrace(std::string_view data, const TraceEventFn& on_event, size_t max_event_size = kMaxTraceEventSize);

// Reads JSON lines (empty lines are skipped) with protobuf's JSON parser, which takes go's field names,
// enum numbers, numbers for int64 and base64 for bytes; unknown fields are ignored. kInvalidArgument naming
// the first line that does not parse; the events before it have been handed on.
Status ReadJsonTrace(std::string_view data, const TraceEventFn& on_event);

// Reads a whole file: decompressed first when it starts with gzip's magic bytes, then read as `format`, or
// as DetectTraceFormat says when none is given. kNotFound / kInternal when the file cannot be read, else
// the readers' errors.
Status ReadTraceFile(const std::string& path, std::optional<TraceFormat> format, const TraceEventFn& on_event);

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_READER_H_
