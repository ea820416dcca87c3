// A TraceSink that streams events to a collector peer, as go-libp2p-pubsub's RemoteTracer does: protocol
// /libp2p/pubsub/tracer/1.0.0, a gzip stream of varint-delimited TraceEventBatch messages, lossy when the
// collector cannot keep up. go's collectors (traced) and ours (TraceCollector) read it.
#ifndef LIBP2P_PUBSUB_TRACE_REMOTE_TRACER_H_
#define LIBP2P_PUBSUB_TRACE_REMOTE_TRACER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/trace/trace_batch_codec.h"
#include "libp2p/pubsub/trace/trace_sink.h"
#include "libp2p/stream/host.h"

namespace libp2p::pubsub::trace {

struct RemoteTracerOptions {
  // Events waiting to be sent; beyond it new events are dropped and counted (go's TraceBufferSize).
  size_t max_buffered_events = 65536;
  // Their encoded bytes together; beyond it too (go bounds only the count, but one RPC's meta can hold
  // thousands of message ids).
  size_t max_buffered_bytes = 64 * 1024 * 1024;
  // Waiting events go out once there are this many (go's MinTraceBatchSize), at the end of the loop turn,
  // or else max_batch_delay after the first of them (go waits up to a second for 16).
  size_t min_batch_events = 16;
  Duration max_batch_delay = std::chrono::seconds(1);
  // The largest batch sent, well below the 4 MiB go's collector reads (kMaxTraceBatchSize); an event larger
  // than this alone is dropped. One batch is compressed and written per loop turn.
  size_t max_batch_bytes = 1024 * 1024;
  // After a failed dial, stream or write, the next attempt waits this long (go: a minute).
  Duration reconnect_delay = std::chrono::minutes(1);
  // zlib's level; GzipWriter says why 1.
  int compression_level = 1;
};

struct RemoteTracerStats {
  uint64_t events_dropped = 0;  // Refused: the buffer was full (or the tracer closed, or the event too big).
  uint64_t events_sent = 0;     // Written to a stream.
  uint64_t batches_sent = 0;
  uint64_t bytes_sent = 0;  // Compressed bytes written.
  uint64_t streams_opened = 0;
  uint64_t failures = 0;  // Failed dials, stream openings, writes and streams.
};

// Runs on the loop thread of its host and never blocks it: Write() only encodes the event into a bounded
// buffer, and batches are compressed and written one per loop turn while the stream takes them (a collector
// that reads slowly leaves events in the buffer, whose bounds then drop new ones, as go's does).
//
// Connecting (from Start()): when the host has no connection to the collector, it dials the collector's
// addresses in turn (one per attempt), then opens a stream; every failure (a dial that brings no connection
// within reconnect_delay, a refused stream, a stream error, a failed write) waits reconnect_delay before the
// next attempt. Events keep being buffered meanwhile. Each new stream starts a new gzip stream. Events
// written to a stream that then fails may be lost (as in go).
//
// Lifetime: the tracer is a sink, so it exists before the pubsub core whose tracer writes to it, while the
// host may be built later (Node builds its host in Start): construct it first, Start() it with the host once
// there is one (events written before wait in the buffer), and Stop() it before the host goes. Start, Stop,
// Close and the destructor (after Start) run on the host's loop thread.
class RemoteTracer final : public TraceSink {
 public:
  // Traces to `collector`, dialed at `addrs` when not connected (a /p2p/ suffix is added where missing;
  // empty when something else connects the host to it). Nothing happens until Start().
  RemoteTracer(const crypto::PeerId& collector, std::vector<Multiaddr> addrs, RemoteTracerOptions options = {});
  // Stops (see Stop()).
  ~RemoteTracer() override;
  RemoteTracer(const RemoteTracer&) = delete;
  RemoteTracer& operator=(const RemoteTracer&) = delete;

  // Starts connecting through `host` (an observer that must outlive the tracer, or until Stop()), on its loop,
  // after this call returns. Once only; a second call is ignored.
  void Start(stream::Host* host);
  // Cancels what is under way, resets an open stream (Close() first ends it cleanly, if the loop then runs
  // long enough to send it), and lets go of the host and its loop. Later events are dropped (counted).
  // Idempotent.
  void Stop();

  void Write(const tracepb::TraceEvent& event) override;

  // Sends every buffered event now, without waiting for a batch to fill, as far as the stream takes them;
  // a no-op while not connected.
  void Flush();
  // Flushes, ends the gzip stream and closes our side of the stream. The tracer then stays idle: later
  // events are dropped (counted), and it never reconnects. Events the stream did not take are dropped. The
  // stream stays until the collector closes its side, Stop() or the destructor.
  void Close();

  // Whether a stream to the collector is open.
  bool connected() const { return stream_ != nullptr; }
  size_t buffered_events() const { return buffered_events_; }
  const RemoteTracerStats& stats() const { return stats_; }
  // Why the last attempt or stream failed; OK when none did.
  const Status& last_error() const { return last_error_; }

 private:
  struct Batch {
    std::string bytes;  // A TraceEventBatch's encoding.
    size_t events = 0;
  };

  void Connect();
  void OpenStream();
  void Attach(std::unique_ptr<stream::Stream> stream);
  void Fail(const Status& why);
  // Queues sending (end of turn) when a batch is due, or arms the batch timer.
  void ScheduleSend();
  // Compresses and writes the oldest batch; false when nothing was sent (not connected, blocked, empty, or
  // the write failed).
  bool SendOne();
  void SendSoon();

  const crypto::PeerId collector_;
  std::vector<Multiaddr> addrs_;
  const RemoteTracerOptions options_;
  stream::Host* host_ = nullptr;  // From Start() to Stop().
  bool stopped_ = false;

  std::deque<Batch> batches_;  // Oldest first; only the last one grows.
  size_t buffered_events_ = 0;
  size_t buffered_bytes_ = 0;
  std::string out_;  // Reused: one batch compressed.
  RemoteTracerStats stats_;
  Status last_error_;
  bool closed_ = false;

  size_t next_addr_ = 0;
  bool waiting_for_connection_ = false;
  uint64_t events_handle_ = 0;
  uint64_t open_handle_ = 0;  // Of the NewStream under way; 0 when none.
  std::unique_ptr<stream::Stream> stream_;
  std::unique_ptr<TraceBatchEncoder> encoder_;  // The open stream's gzip stream.

  std::unique_ptr<Task> connect_task_;
  std::unique_ptr<Task> send_task_;
  std::unique_ptr<Timer> batch_timer_;
  std::unique_ptr<Timer> retry_timer_;
  // Streams that failed inside their own callbacks. Declared last: destroyed first.
  std::unique_ptr<DeferredDeleter> deleter_;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_REMOTE_TRACER_H_
