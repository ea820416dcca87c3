// The receiving end of the remote tracer's protocol (/libp2p/pubsub/tracer/1.0.0), as go's traced: accepts
// tracing streams from peers and hands every event they carry to a TraceSink (a JSON or protobuf file).
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_COLLECTOR_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_COLLECTOR_H_

#include <cstdint>
#include <map>
#include <memory>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/trace/trace_batch_codec.h"
#include "libp2p/pubsub/trace/trace_sink.h"
#include "libp2p/stream/host.h"

namespace libp2p::pubsub::trace {

struct TraceCollectorOptions {
  // Tracing streams read at once; a stream beyond it is reset.
  size_t max_streams = 64;
  // The largest batch accepted (go's traced: 4 MiB); a stream that sends a larger one is reset.
  size_t max_batch_size = kMaxTraceBatchSize;
};

struct TraceCollectorStats {
  uint64_t streams_accepted = 0;
  uint64_t streams_refused = 0;  // Over max_streams.
  uint64_t streams_failed = 0;   // Reset for bad data (not gzip, a bad or oversized batch).
  uint64_t batches = 0;
  uint64_t events = 0;
};

// Owns its streams; runs on the loop thread. Events of one stream reach the sink in the order the tracer
// sent them; streams interleave batch by batch as their data arrives. Each event is valid for the sink's call
// only.
class TraceCollector {
 public:
  // Registers the protocol's stream handler with `host` (replacing any); runs on the host's loop thread, where
  // it must also be destroyed. `host` and `sink` are observers that must outlive the collector.
  TraceCollector(stream::Host* host, TraceSink* sink, TraceCollectorOptions options = {});
  // Removes the handler and resets the streams still open.
  ~TraceCollector();
  TraceCollector(const TraceCollector&) = delete;
  TraceCollector& operator=(const TraceCollector&) = delete;

  size_t open_streams() const { return readers_.size(); }
  const TraceCollectorStats& stats() const { return stats_; }

 private:
  struct Reader;

  void Accept(std::unique_ptr<stream::Stream> stream, const crypto::PeerId& peer);
  void OnData(uint64_t id, ByteSpan data);
  // Ends a reader: closes its stream (reset when `reset`), destroyed after the current callback.
  void End(uint64_t id, bool reset);

  stream::Host* const host_;
  TraceSink* const sink_;
  const TraceCollectorOptions options_;
  TraceCollectorStats stats_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Reader>> readers_;
  // Readers ended inside their streams' callbacks. Declared last: destroyed first.
  DeferredDeleter deleter_;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_COLLECTOR_H_
