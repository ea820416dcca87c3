// Ping (/ipfs/ping/1.0.0): the dialer writes 32 random bytes and the listener echoes them back, as often as
// the dialer likes on the same stream; the time to the echo is the round-trip time.
#ifndef LIBP2P_STREAM_PING_H_
#define LIBP2P_STREAM_PING_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

inline constexpr std::string_view kPingProtocolId = "/ipfs/ping/1.0.0";
// The size of one ping and of its echo.
inline constexpr size_t kPingSize = 32;

// The listener side: echoes every complete 32-byte block it reads, for as long as the stream lives and pings
// keep coming (a dialer silent for `idle_timeout` ends it with kDeadlineExceeded), and closes its write side
// when the dialer closes its own. A partial block left at end-of-stream is dropped.
// While the stream's write buffer is over its high-water mark (a dialer that writes without reading), it
// stops reading until the buffer drains, so memory stays bounded.
//
// It owns nothing: the stream is an observer that must outlive it, and the responder holds the stream's
// handlers until the stream ends. Then `on_done` runs once, from the event loop, with OK when the dialer
// closed (our own close is then queued) or the error that ended the stream (kUnavailable when it failed,
// or the write error). The owner may then destroy the responder, and the stream once what was queued has
// left (destroying a stream may drop or reset what it has not sent). Destroying the responder earlier
// stops it (it clears the stream's handlers) and `on_done` never runs.
class PingResponder {
 public:
  using DoneCallback = std::function<void(Status status)>;

  // go-libp2p's responder gives up after a minute without a ping, too.
  static constexpr Duration kDefaultIdleTimeout = std::chrono::seconds(60);

  PingResponder(EventLoop* loop, Stream* stream, DoneCallback on_done, Duration idle_timeout = kDefaultIdleTimeout);
  ~PingResponder();
  PingResponder(const PingResponder&) = delete;
  PingResponder& operator=(const PingResponder&) = delete;

 private:
  void OnData(ByteSpan data);
  void Finish(Status status);

  Stream* const stream_;
  DoneCallback on_done_;
  std::array<uint8_t, kPingSize> block_{};
  size_t block_size_ = 0;
  bool finished_ = false;
  Status result_;
  const Duration idle_timeout_;
  std::unique_ptr<Timer> idle_timer_;
  std::unique_ptr<Task> finish_task_;
};

// Fills its argument with random bytes.
using PingRandomSource = std::function<void(std::span<uint8_t> out)>;

struct PingerOptions {
  // How long a ping waits for its echo.
  Duration timeout = std::chrono::seconds(10);
  // The source of the ping payloads; empty means RandomBytes (libp2p/base/random.h). Tests inject their own.
  PingRandomSource random;
};

// The dialer side: sends pings on one stream, one at a time, and measures each round trip on the event
// loop's clock (from the write to the arrival of the echo's last byte).
//
// The stream is an observer that must outlive the pinger; the pinger holds the stream's handlers from its
// construction until its destruction, and clears them then. It never closes or resets the stream: after a
// failed ping the owner should Reset() it (the stream is out of step, or dead), and when done pinging it
// should CloseWrite() and destroy it (a responder answers by closing too).
class Pinger {
 public:
  using Callback = std::function<void(StatusOr<Duration> rtt)>;

  Pinger(EventLoop* loop, Stream* stream, PingerOptions options = {});
  ~Pinger();
  Pinger(const Pinger&) = delete;
  Pinger& operator=(const Pinger&) = delete;

  // Sends one ping. `on_done` then runs exactly once, from the event loop (never from inside Ping()), with
  // the round-trip time, or with kInvalidArgument when the echo differs from what was sent (or the peer
  // sends bytes it was not asked for), kDeadlineExceeded when no full echo arrives within the timeout,
  // kUnavailable when the stream fails or ends first or the write fails. After any failure the pinger is
  // unusable. `on_done` may destroy the pinger; destroying the pinger earlier cancels the ping and
  // `on_done` never runs.
  //
  // Returns without sending (and without ever calling `on_done`) kFailedPrecondition while an earlier
  // ping is in flight (its callback has not run yet) or after a failed ping, and kUnavailable once the
  // stream has ended or failed.
  Status Ping(Callback on_done);

 private:
  void OnData(ByteSpan data);
  // Ends the ping in flight with `result`; a failure makes the pinger unusable with `lasting_error`.
  void Complete(StatusOr<Duration> result, Status lasting_error = OkStatus());

  EventLoop* const loop_;
  Stream* const stream_;
  const PingerOptions options_;
  bool in_flight_ = false;  // From Ping() until its callback runs.
  bool awaiting_ = false;   // From Ping() until the echo is complete or the ping fails.
  Status lasting_error_;    // Non-OK once the pinger is unusable.
  std::array<uint8_t, kPingSize> sent_{};
  std::array<uint8_t, kPingSize> echo_{};
  size_t echo_size_ = 0;
  MonoTime sent_at_;
  Callback on_done_;
  StatusOr<Duration> result_ = CancelledError("no ping");
  std::unique_ptr<Timer> timeout_;
  std::unique_ptr<Task> finish_task_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_PING_H_
