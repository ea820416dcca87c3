#include "libp2p/pubsub/trace/trace_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "google/protobuf/util/json_util.h"
#include "libp2p/base/varint.h"
#include "libp2p/pubsub/trace/gzip.h"

namespace libp2p::pubsub::trace {

TraceFormat DetectTraceFormat(std::string_view data) {
  return data.size() >= 2 && data[0] == '{' && data[1] == '"' ? TraceFormat::kJson : TraceFormat::kPb;
}

Status ReadPbTrace(std::string_view data, const TraceEventFn& on_event, size_t max_event_size) {
  tracepb::TraceEvent event;
  size_t offset = 0;
  while (offset < data.size()) {
    ByteSpan rest = AsBytes(data.substr(offset));
    const UvarintDecode len = DecodeUvarint(rest);
    if (len.error != UvarintError::kNone) {
      return InvalidArgumentError("bad record length at byte " + std::to_string(offset) + ": " +
                                  UvarintErrorMessage(len.error));
    }
    if (len.value > max_event_size) {
      return OutOfRangeError("record of " + std::to_string(len.value) + " bytes at byte " + std::to_string(offset));
    }
    if (rest.size() - len.length < len.value) {
      return InvalidArgumentError("record cut short at byte " + std::to_string(offset));
    }
    if (!event.ParseFromArray(rest.data() + len.length, static_cast<int>(len.value))) {
      return InvalidArgumentError("record at byte " + std::to_string(offset) + " does not parse");
    }
    on_event(event);
    offset += len.length + len.value;
  }
  return OkStatus();
}

Status ReadJsonTrace(std::string_view data, const TraceEventFn& on_event) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  tracepb::TraceEvent event;
  size_t line_number = 0;
  while (!data.empty()) {
    ++line_number;
    const size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    event.Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &event, options);
    if (!status.ok()) {
      return InvalidArgumentError("line " + std::to_string(line_number) + ": " + status.ToString());
    }
    on_event(event);
  }
  return OkStatus();
}

Status ReadTraceFile(const std::string& path, std::optional<TraceFormat> format, const TraceEventFn& on_event) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return InternalError("cannot read " + path);
  std::string data = std::move(buffer).str();
  if (data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f && static_cast<uint8_t>(data[1]) == 0x8b) {
    ASSIGN_OR_RETURN(data, Gunzip(data, kMaxTraceFileSize));
  }
  const TraceFormat f = format.value_or(DetectTraceFormat(data));
  Status s = f == TraceFormat::kJson ? ReadJsonTrace(data, on_event) : ReadPbTrace(data, on_event);
  if (!s.ok()) return Status(s.code(), path + ": " + s.message());
  return OkStatus();
}

}  // namespace libp2p::pubsub::trace
