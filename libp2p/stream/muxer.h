// Stream multiplexing over one secure connection (yamux, mplex): the interface the host uses.
#ifndef LIBP2P_STREAM_MUXER_H_
#define LIBP2P_STREAM_MUXER_H_

#include <functional>
#include <memory>
#include <string_view>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/stream.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

// A muxed connection. It owns the secure connection beneath it. Streams it hands out are owned by their
// receivers and may outlive it: once the connection is gone they fail (on_error) and refuse writes.
//
// Lifetime: the owner destroys a muxed connection only through its DeferredDeleter (deferred_deleter.h),
// after Close() or on_closed, so it never dies while its own code is on the stack. Callbacks (on_stream,
// on_closed, and the streams' callbacks) run on the event loop; they may destroy streams and hand the
// connection to the deleter.
class MuxedConnection {
 public:
  struct Handlers {
    // A stream the remote opened. The callee owns it; dropping it resets the stream.
    std::function<void(std::unique_ptr<Stream>)> on_stream;
    // The connection ended: the remote went away or misbehaved (the status says which), or the secure
    // connection failed. Called once; no stream is accepted afterwards.
    std::function<void(const Status&)> on_closed;
  };

  virtual ~MuxedConnection() = default;

  // The muxer's protocol id, e.g. "/yamux/1.0.0".
  virtual std::string_view protocol() const = 0;

  // Opens a stream to the remote. Writing may start at once. Fails with kUnavailable once
  // accepts_new_streams() is false, and with kResourceExhausted at the limit of concurrent streams (yamux
  // also while kYamuxMaxAckBacklog of its streams wait for the remote's acknowledgement).
  virtual StatusOr<std::unique_ptr<Stream>> OpenStream() = 0;

  // False once OpenStream() cannot succeed any more on this connection: it was closed or failed, or (yamux)
  // the remote sent GoAway. Open new streams on another connection then; streams already open carry on until
  // the connection ends.
  virtual bool accepts_new_streams() const = 0;

  // Streams currently open in either direction.
  virtual size_t stream_count() const = 0;

  // Ends the connection politely (yamux first writes its streams' queued data and FINs as far as their send
  // windows allow, then GoAway; mplex resets its streams) and closes the secure connection. Open streams
  // fail. on_closed is not called for a Close() of our own.
  virtual void Close() = 0;

  // The secure connection's addresses.
  virtual const Multiaddr& local_addr() const = 0;
  virtual const Multiaddr& remote_addr() const = 0;
};

// Limits shared by both muxers.
struct MuxerLimits {
  // Streams open at once in each direction; a remote that opens more has the extra ones reset.
  size_t max_inbound_streams = 1024;
  size_t max_outbound_streams = 1024;
  // Bytes a stream buffers for a reader that does not keep up: yamux's initial receive window (which the
  // remote must respect; at least the spec's 256 KiB, and auto-tuning may grow it, see yamux.h), mplex's
  // limit (beyond which the stream is reset, mplex having no flow control).
  size_t stream_receive_window = 256 * 1024;
  size_t mplex_max_buffered = 4 * 1024 * 1024;
  // Write-buffer marks of each stream.
  WriteLimits stream_write_limits{};
  // The connection's budget of buffered bytes; null for none (unbounded). Yamux reserves from it every
  // receive-window byte beyond 256 KiB per stream (a larger stream_receive_window, auto-tuning) and the bytes
  // its writers queue beyond the send window; mplex reserves the bytes its streams hold for slow readers.
  // What the budget refuses is not buffered: a yamux window does not grow, a yamux Write() fails with
  // kResourceExhausted and resets its stream, an mplex stream is reset. An observer that must outlive the
  // connection; a stream gives its reservations back when it leaves the connection, so streams may outlive
  // the budget.
  MemoryBudget* budget = nullptr;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_MUXER_H_
