// Decodes arbitrary bytes as a remote tracer stream (gzip of delimited TraceEventBatches) under a small batch
// limit. Invariants: decoding does not depend on how the input is split into pieces (the same batches and the
// same outcome in one piece as in two); every batch decoded re-encodes (TraceBatchEncoder) to a stream that
// decodes to the same batch; and the input read as one TraceEventBatch, when it parses, goes through the
// encoder and the decoder unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "libp2p/pubsub/trace/trace_batch_codec.h"

namespace {

using libp2p::Status;
using libp2p::pubsub::trace::TraceBatchDecoder;
using libp2p::pubsub::trace::TraceBatchEncoder;
using libp2p::pubsub::trace::tracepb::TraceEventBatch;

constexpr size_t kMaxBatch = 64 * 1024;

// Fuzzed topics are not UTF-8: keep protobuf's debug-build warnings about it out of the output.
const bool kQuiet = (google::protobuf::SetLogHandler(nullptr), true);

struct Decoded {
  std::vector<std::string> batches;  // Each re-serialized.
  libp2p::StatusCode code = libp2p::StatusCode::kOk;
};

Decoded Decode(std::string_view input, size_t split) {
  Decoded d;
  TraceBatchDecoder dec([&](const TraceEventBatch& b) { d.batches.push_back(b.SerializeAsString()); }, kMaxBatch);
  Status s = dec.Feed(input.substr(0, split));
  if (s.ok()) s = dec.Feed(input.substr(split));
  d.code = s.code();
  return d;
}

// Encodes `batch` (a serialized TraceEventBatch) alone in a stream and decodes it; aborts unless it comes back.
void RoundTrip(const std::string& batch) {
  TraceBatchEncoder enc;
  std::string stream;
  if (!enc.Encode(batch, &stream).ok()) abort();
  std::vector<std::string> back;
  // (Twice the limit: re-encoding a parsed batch never grows it much, but need not keep its size.)
  TraceBatchDecoder dec([&](const TraceEventBatch& b) { back.push_back(b.SerializeAsString()); }, 2 * kMaxBatch);
  if (!dec.Feed(stream).ok()) abort();
  if (back.size() != 1) abort();
  TraceEventBatch reparsed;
  if (!reparsed.ParseFromString(batch) || reparsed.SerializeAsString() != back[0]) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)kQuiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Decoded whole = Decode(input, input.size());
  const Decoded split = Decode(input, size == 0 ? 0 : data[0] % size);
  if (whole.code != split.code || whole.batches != split.batches) abort();
  for (const std::string& b : whole.batches) RoundTrip(b);

  if (size <= kMaxBatch) {
    TraceEventBatch direct;
    if (direct.ParseFromArray(data, static_cast<int>(size))) RoundTrip(direct.SerializeAsString());
  }
  return 0;
}
