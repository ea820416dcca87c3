// The read side that every Stream implementation shares: handler dispatch, pausing, Unread() bytes, and
// safety against callbacks that destroy the stream.
#ifndef LIBP2P_STREAM_STREAM_BASE_H_
#define LIBP2P_STREAM_STREAM_BASE_H_

#include <cstdint>
#include <memory>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/liveness.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

// Implementations call the Deliver*/Notify* functions; each returns false when a callback destroyed the
// stream, in which case the caller must return without touching any member. The loop is an observer and
// must outlive the stream.
class StreamBase : public virtual Stream {
 public:
  explicit StreamBase(EventLoop* loop);
  ~StreamBase() override;

  void SetHandlers(Handlers handlers) override;
  void PauseReading(bool paused) override;
  void Unread(ByteSpan data) override;

 protected:
  // Received bytes: handed to on_data now, or held while reading is paused or earlier bytes wait.
  bool DeliverData(ByteSpan data);
  // End of the remote's writing side; delivered after any held bytes.
  bool DeliverEof();
  // A failure: on_error runs once, after the bytes and end of stream that arrived before it and are still
  // held (unless the reader is paused: then at once, and those are dropped), as soon as it is set; later
  // deliveries are ignored.
  bool DeliverError(const Status& error);
  // Calls on_writable.
  bool NotifyWritable();

  // True when the implementation should stop pulling bytes from below: the user paused, or bytes are
  // still held for delivery.
  bool want_pause() const { return user_paused_ || !held_.empty(); }
  // Called whenever want_pause() may have changed; implementations start or stop reading from below.
  virtual void OnReadPauseChanged() {}
  // Called after on_data consumed `n` bytes (positive), or when the reader gave `-n` bytes back with
  // Unread() (negative). Flow-controlled streams credit their receive window from it. Not called when the
  // callback destroyed the stream.
  virtual void OnBytesConsumed(int64_t n) {}

  // Marks the stream dead without a callback (after Reset()): nothing is delivered any more.
  void MarkDead() {
    dead_ = true;
    reset_ = true;
    held_.clear();
    eof_held_ = false;
    error_held_ = OkStatus();
    flush_task_->Cancel();
  }
  bool dead() const { return dead_; }
  // True once the remote's end-of-stream has been delivered.
  bool read_closed() const { return read_closed_; }
  EventLoop* loop() const { return loop_; }

 private:
  // Delivers held bytes and a held end-of-stream while not paused.
  void FlushHeld();
  // Runs one of the handlers with `args`. The function is moved onto the stack for the call, so that the
  // callback may replace the handlers or destroy the stream; it is put back afterwards unless SetHandlers()
  // ran meanwhile. Returns false when the callback destroyed the stream.
  template <typename Fn, typename... Args>
  bool Call(Fn Handlers::*which, Args&&... args);

  EventLoop* const loop_;
  Liveness liveness_;
  Handlers handlers_;  // A handler that is running (Call()) is missing from here for the call.
  uint64_t handlers_set_ = 0;  // SetHandlers() calls so far.
  bool user_paused_ = false;
  Bytes held_;
  bool eof_held_ = false;
  Status error_held_;  // A failure waiting for held bytes or end of stream, or for on_error to be set.
  bool read_closed_ = false;
  bool dead_ = false;   // Failed or reset: nothing new is taken from below.
  bool reset_ = false;  // Reset: nothing at all is delivered any more.
  std::unique_ptr<Task> flush_task_;  // Delivers held bytes, EOF or error.
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_STREAM_BASE_H_
