// The byte-stream interface shared by every layer of the connection stack: a TCP connection, a Noise
// session on top of it, and each stream of a muxer are all Streams.
#ifndef LIBP2P_STREAM_STREAM_H_
#define LIBP2P_STREAM_STREAM_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::stream {

// An ordered, reliable, bidirectional byte stream driven by one event loop. All methods and callbacks run
// on that loop's thread.
//
// Reading: bytes arrive through Handlers::on_data. A reader that cannot keep up calls PauseReading(true);
// the stream then stops pulling from the layer below (the TCP window, the muxer's flow-control window fills),
// so memory stays bounded. Bytes given back with Unread() are delivered first when reading resumes.
//
// Writing: Write() never blocks. Bytes the layer below cannot take yet are buffered; once buffered_bytes()
// reaches the high-water mark, write_blocked() is true and the writer should stop until on_writable, which
// fires when the buffer drains below the low-water mark. Writes beyond the hard limit (or beyond a memory
// budget) fail with kResourceExhausted and reset the stream (for a raw connection: the whole connection,
// silently, as Reset() is; the caller sees the failed Write()).
//
// Ending: CloseWrite() sends an end-of-stream after the buffered bytes (half-close); the remote's
// end-of-stream arrives as on_eof. Reset() aborts both directions at once and drops buffered bytes. After
// on_error or Reset(), no callback runs again. Destroying a stream that is still open resets it.
//
// Callbacks may destroy the stream (its owner is told through them); the stream never touches itself after
// a callback that destroyed it.
class Stream {
 public:
  struct Handlers {
    // Bytes received; the view is valid only during the call.
    std::function<void(ByteSpan data)> on_data;
    // The remote ended its writing side. No more on_data follows.
    std::function<void()> on_eof;
    // The stream failed or was reset by the remote; it is dead. The status says why.
    std::function<void(const Status& error)> on_error;
    // The write buffer drained below the low-water mark after write_blocked() had been true.
    std::function<void()> on_writable;
  };

  virtual ~Stream() = default;

  // Replaces the handlers. Bytes already received but not delivered (including Unread() bytes) are
  // delivered from the event loop soon after, not from inside this call.
  virtual void SetHandlers(Handlers handlers) = 0;

  // Queues `data` for sending. Fails with kFailedPrecondition after CloseWrite() or Reset(), with
  // kUnavailable once the stream has failed, and with kResourceExhausted (resetting the stream) when the
  // buffer would exceed its hard limit.
  virtual Status Write(ByteSpan data) = 0;
  // Write() of bytes that lie in `owner`, a buffer others may share and no one changes once shared (an
  // encoded message sent to many peers). A layer that queues what it is given may keep a reference to
  // `owner` instead of a copy of `data`: Noise with the simulation's null cipher does, down to the in-memory
  // connection, so that a message forwarded to many peers waits in their queues once rather than once
  // each. The other layers copy, as this default does. Fails as Write() does.
  virtual Status WriteShared(ByteSpan data, const std::shared_ptr<const Bytes>& owner) { return Write(data); }

  // Bytes accepted by Write() and not yet handed to the layer below.
  virtual size_t buffered_bytes() const = 0;
  // True while buffered_bytes() is at or above the high-water mark.
  virtual bool write_blocked() const = 0;

  // Stops (true) or resumes (false) delivery of received bytes.
  virtual void PauseReading(bool paused) = 0;
  // Gives bytes back to be delivered again, before anything newer.
  virtual void Unread(ByteSpan data) = 0;

  // Half-close: end our writing side once buffered bytes are sent. Idempotent.
  virtual void CloseWrite() = 0;
  // Abort both directions now. Idempotent; no callback runs afterwards.
  virtual void Reset() = 0;
};

// Write-buffer marks shared by the stream implementations.
struct WriteLimits {
  size_t high_water = 256 * 1024;
  size_t low_water = 64 * 1024;
  size_t hard_limit = 16 * 1024 * 1024;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_STREAM_H_
