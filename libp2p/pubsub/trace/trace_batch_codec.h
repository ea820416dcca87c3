// The remote tracer's wire format (go-libp2p-pubsub's RemoteTracer, /libp2p/pubsub/tracer/1.0.0): one gzip
// stream per libp2p stream, carrying TraceEventBatch messages, each preceded by its length as a varint, the
// gzip stream sync-flushed after each batch so that the collector can read it at once.
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_BATCH_CODEC_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_BATCH_CODEC_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "libp2p/base/status.h"
#include "libp2p/pubsub/trace/gzip.h"
#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

inline constexpr std::string_view kRemoteTracerProtocol = "/libp2p/pubsub/tracer/1.0.0";
// The largest batch go's collector (traced) reads: its delimited reader's limit.
inline constexpr size_t kMaxTraceBatchSize = size_t{1} << 22;

// Appends `event` to `batch`, the encoding of a TraceEventBatch being built (its field 1, repeated): a
// batch is the concatenation of its events' records, so it grows without a TraceEventBatch object.
// Returns the bytes appended.
size_t AppendEventToBatch(const tracepb::TraceEvent& event, std::string* batch);

// Writes one gzip stream of delimited batches. Not thread-safe.
class TraceBatchEncoder {
 public:
  explicit TraceBatchEncoder(int compression_level = 1) : gzip_(compression_level) {}

  // Appends to `out` the compressed record of `batch` (a TraceEventBatch's encoding): its length, the batch,
  // and a sync flush. kInternal when zlib fails; kFailedPrecondition after Finish().
  Status Encode(std::string_view batch, std::string* out);
  // Ends the gzip stream (its trailer) into `out`.
  Status Finish(std::string* out) { return gzip_.Finish(out); }

 private:
  GzipWriter gzip_;
  std::string frame_;  // Reused: one batch's length and bytes before compression.
};

// Reads one stream as TraceBatchEncoder writes it, fed in pieces of any size; calls `on_batch` for each
// complete batch, in order. Memory is bounded: decompressed bytes wait only until their batch is whole, and a
// batch longer than `max_batch_size` is refused before anything is buffered for it. Not thread-safe.
class TraceBatchDecoder {
 public:
  // The batch is valid for the call only.
  using BatchFn = std::function<void(const tracepb::TraceEventBatch& batch)>;

  explicit TraceBatchDecoder(BatchFn on_batch, size_t max_batch_size = kMaxTraceBatchSize);

  // Decompresses and decodes `data`. kInvalidArgument for input that is not gzip, a bad length prefix or a
  // batch that does not parse; kOutOfRange for a batch longer than the limit; kInternal when zlib fails.
  // After an error, every call returns it again.
  Status Feed(std::string_view data);
  // Whether the input so far ends between two batches (nothing is half-read). The gzip stream itself may
  // still be open: the remote tracer keeps it open until it closes.
  bool at_batch_boundary() const { return pending_.size() == consumed_; }
  uint64_t batches() const { return batches_; }

 private:
  Status OnDecompressed(std::string_view bytes);

  const BatchFn on_batch_;
  const size_t max_batch_size_;
  GzipReader gzip_;
  // Decompressed bytes; those before consumed_ were decoded already.
  std::string pending_;
  size_t consumed_ = 0;
  tracepb::TraceEventBatch batch_;  // Reused.
  uint64_t batches_ = 0;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_BATCH_CODEC_H_
