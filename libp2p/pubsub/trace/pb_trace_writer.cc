#include "libp2p/pubsub/trace/pb_trace_writer.h"

#include "libp2p/base/varint.h"

namespace libp2p::pubsub::trace {

void AppendDelimitedEvent(const tracepb::TraceEvent& event, std::string* out) {
  const size_t size = event.ByteSizeLong();
  AppendUvarint(size, out);
  const size_t at = out->size();
  out->resize(at + size);
  event.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
}

void PbTraceWriter::Write(const tracepb::TraceEvent& event) {
  AppendDelimitedEvent(event, out_->buffer());
  out_->EndRecord();
}

}  // namespace libp2p::pubsub::trace
