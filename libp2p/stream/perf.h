// Perf (/perf/1.0.0), libp2p's benchmarking protocol, on one stream: the client writes the number of bytes it
// wants back (a big-endian uint64), then uploads as many bytes as it likes and closes its writing side; the
// server reads and discards everything up to that end of stream, and only then sends the requested bytes
// (zeros) and closes its own side.
//
// The protocol lets a client make a server work as hard as it likes, so the specification says a server
// SHOULD NOT answer it by default, nor on a publicly reachable node. Ours is bounded all the same: it reads
// by discarding and writes from one fixed buffer, so it holds no more than a stream's write buffer whatever
// the counts; a cap refuses requests for more than the operator allows; and a stream on which nothing moves
// for a while is given up.
#ifndef LIBP2P_STREAM_PERF_H_
#define LIBP2P_STREAM_PERF_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

inline constexpr std::string_view kPerfProtocolId = "/perf/1.0.0";
// The request that opens a perf stream: the number of bytes to send back, big-endian.
inline constexpr size_t kPerfHeaderSize = 8;

std::array<uint8_t, kPerfHeaderSize> EncodePerfHeader(uint64_t download_bytes);
uint64_t DecodePerfHeader(const std::array<uint8_t, kPerfHeaderSize>& header);

struct PerfResponderOptions {
  // The most bytes one stream may ask for. A request for more is refused as soon as its header has been
  // read, before anything is uploaded or sent (the responder ends with kResourceExhausted). The default is no
  // cap: the protocol allows any count up to 2^64 - 1 (a client that downloads for a set time asks for that
  // and resets the stream when its time is up).
  uint64_t max_send_bytes = std::numeric_limits<uint64_t>::max();
  // A stream on which nothing moves for this long (no byte read, no byte of ours leaving the write buffer: a
  // client that neither uploads nor reads what it asked for) is given up with kDeadlineExceeded. Positive.
  Duration idle_timeout = std::chrono::seconds(30);
};

// The server side of one perf stream.
//
// It owns nothing: the stream is an observer that must outlive it, and the responder holds the stream's
// handlers until it is done. Then `on_done` runs once, from the event loop (never from inside the
// constructor), with OK when every requested byte was written, our end of stream queued after them, and the
// stream's write buffer has drained (so the owner can destroy the stream without cutting the answer short);
// or with the failure: kInvalidArgument when the stream ended before a whole header, kResourceExhausted for a
// request over max_send_bytes, kDeadlineExceeded after idle_timeout without progress, kUnavailable when the
// stream failed or refused a write. After a failure the owner should Reset() the stream. The owner may
// destroy the responder from `on_done`; destroying it earlier stops it (it clears the stream's handlers) and
// `on_done` never runs.
class PerfResponder {
 public:
  using DoneCallback = std::function<void(Status status)>;

  PerfResponder(EventLoop* loop, Stream* stream, PerfResponderOptions options, DoneCallback on_done);
  ~PerfResponder();
  PerfResponder(const PerfResponder&) = delete;
  PerfResponder& operator=(const PerfResponder&) = delete;

  // Bytes read after the header (discarded), and bytes of the answer handed to the stream so far.
  uint64_t bytes_received() const { return received_; }
  uint64_t bytes_sent() const { return sent_; }

 private:
  enum class State {
    kReading,   // The header, then the upload, until the client's end of stream.
    kSending,   // The answer, as fast as the stream takes it.
    kFlushing,  // Everything written and our end of stream queued: waiting for the write buffer to drain.
    kDone,
  };

  void OnData(ByteSpan data);
  void OnEof();
  void SendMore();
  // Ends the stream's work once its write buffer is empty; checks again after kFlushPoll meanwhile.
  void CheckFlushed();
  void OnIdleTimer();
  void Progress() { last_progress_ = loop_->Now(); }
  void Finish(Status status);

  EventLoop* const loop_;
  Stream* const stream_;
  const PerfResponderOptions options_;
  DoneCallback on_done_;
  State state_ = State::kReading;
  std::array<uint8_t, kPerfHeaderSize> header_{};
  size_t header_size_ = 0;
  uint64_t to_send_ = 0;  // Of the answer, still to write.
  uint64_t received_ = 0;
  uint64_t sent_ = 0;
  size_t last_buffered_ = 0;  // buffered_bytes() at the last flush check.
  MonoTime last_progress_;
  Status result_;
  std::unique_ptr<Timer> idle_timer_;
  std::unique_ptr<Timer> flush_timer_;
  // Continues sending in a later loop turn, so that one stream never holds the loop for long.
  std::unique_ptr<Task> send_task_;
  std::unique_ptr<Task> finish_task_;
};

// What a perf client asks for: bytes to upload, and bytes to get back.
struct PerfRequest {
  uint64_t upload_bytes = 0;
  uint64_t download_bytes = 0;
};

struct PerfClientOptions {
  // The whole measurement must end within this time, or it fails with kDeadlineExceeded. Zero: no limit.
  Duration timeout = Duration::zero();
};

// One measurement, on the client's clock (the event loop's).
struct PerfResult {
  uint64_t uploaded = 0;
  uint64_t downloaded = 0;
  // From the start to the first byte of the answer, or to the server's end of stream when no byte was asked
  // for. The server answers only once it has read our end of stream, so this covers the whole upload as the
  // server received it (plus the time the first byte of the answer took to come back).
  Duration upload_time{};
  // From the first byte of the answer to its end (zero when no byte was asked for).
  Duration download_time{};
  // From the start to the server's end of stream.
  Duration total_time{};
};

// The client side of one perf stream: writes the request and the upload (respecting the stream's write
// buffer marks), closes its writing side, and counts the answer.
//
// The stream is an observer that must outlive the client; the client holds the stream's handlers from its
// construction (which starts the measurement) until its destruction, and clears them then. `on_done` runs
// once, from the event loop (never from inside the constructor), with the result, or with kInvalidArgument
// when the server sends more bytes than asked for or ends its answer short, kDeadlineExceeded after the
// timeout, or kUnavailable when the stream fails or refuses a write. After success both sides of the stream
// have ended (the owner may destroy it); after a failure the owner should Reset() it. `on_done` may destroy
// the client; destroying it earlier cancels the measurement and `on_done` never runs.
class PerfClient {
 public:
  using Callback = std::function<void(StatusOr<PerfResult> result)>;

  PerfClient(EventLoop* loop, Stream* stream, PerfRequest request, PerfClientOptions options, Callback on_done);
  ~PerfClient();
  PerfClient(const PerfClient&) = delete;
  PerfClient& operator=(const PerfClient&) = delete;

 private:
  void SendMore();
  void OnData(ByteSpan data);
  void OnEof();
  void Complete(StatusOr<PerfResult> result);

  EventLoop* const loop_;
  Stream* const stream_;
  const PerfRequest request_;
  Callback on_done_;
  bool done_ = false;
  bool closed_ = false;       // Our writing side is closed.
  bool got_first_ = false;    // The first byte of the answer arrived.
  uint64_t to_upload_ = 0;
  PerfResult progress_;
  MonoTime started_;
  MonoTime first_byte_;
  StatusOr<PerfResult> result_ = CancelledError("no result");
  std::unique_ptr<Timer> timeout_;
  std::unique_ptr<Task> send_task_;
  std::unique_ptr<Task> finish_task_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_PERF_H_
