// Yamux (/yamux/1.0.0, hashicorp's spec as libp2p uses it): streams with per-stream flow control over one
// secure connection.
#ifndef LIBP2P_STREAM_YAMUX_H_
#define LIBP2P_STREAM_YAMUX_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/muxer.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

inline constexpr std::string_view kYamuxProtocolId = "/yamux/1.0.0";
// The spec's initial receive window of every stream in each direction, which both sides assume until a
// window update says more.
inline constexpr uint32_t kYamuxInitialWindow = 256 * 1024;
// The default limit of window auto-tuning: a stream's receive window grows up to this much (go-yamux's
// MaxStreamWindowSize).
inline constexpr uint32_t kYamuxMaxStreamWindow = 16 * 1024 * 1024;
// Streams we open that the remote has not yet acknowledged (ACK), at most: the libp2p spec's ACK backlog.
inline constexpr size_t kYamuxMaxAckBacklog = 256;
// Data frames we send carry at most this much, so that streams share the connection fairly.
inline constexpr uint32_t kYamuxMaxDataFrame = 64 * 1024;
// Close() writes queued stream data until the secure connection buffers this much.
inline constexpr size_t kYamuxCloseFlushLimit = 4 * 1024 * 1024;
inline constexpr size_t kYamuxHeaderSize = 12;

enum class YamuxType : uint8_t { kData = 0, kWindowUpdate = 1, kPing = 2, kGoAway = 3 };
enum YamuxFlag : uint16_t { kYamuxSyn = 1, kYamuxAck = 2, kYamuxFin = 4, kYamuxRst = 8 };

// A frame header: version 0, type, flags, stream id and length (for data: the payload size; for a window
// update: the window increment; for ping: an opaque value; for go-away: the error code), big-endian.
struct YamuxHeader {
  YamuxType type = YamuxType::kData;
  uint16_t flags = 0;
  uint32_t stream_id = 0;
  uint32_t length = 0;

  void EncodeTo(uint8_t out[kYamuxHeaderSize]) const;
  // Parses 12 bytes. kInvalidArgument for a version other than 0 or an unknown type.
  static StatusOr<YamuxHeader> Decode(ByteSpan bytes);
  friend bool operator==(const YamuxHeader&, const YamuxHeader&) = default;
};

struct YamuxOptions {
  // limits.stream_receive_window is the initial receive window we grant each stream (raised to
  // kYamuxInitialWindow if lower, lowered to max_stream_window if higher); limits.budget, when set, holds
  // every window byte beyond kYamuxInitialWindow and the streams' queued writes (see CreateYamuxConnection).
  MuxerLimits limits;
  // Window auto-tuning grows a stream's receive window up to this (at least the initial window).
  uint32_t max_stream_window = kYamuxMaxStreamWindow;
  // A keep-alive ping is sent at this interval; the connection is closed when one stays unanswered for two
  // intervals. Zero disables keep-alive. The pings also measure the round-trip time.
  Duration keepalive_interval = std::chrono::seconds(30);
};

// Creates a yamux connection over `secure` (which it then owns). `initiator` is the side that dialed: it
// opens odd stream ids, the other side even ones. `loop` must outlive the connection and its streams;
// options.limits.budget must outlive the connection (its streams give their reservations back when they
// leave it, so they may outlive both).
//
// Flow control. Each stream starts with the spec's 256 KiB window each way; a larger configured window is
// announced with a window update on the SYN (streams we open) or once on_stream has taken the stream (streams
// the remote opens). A window update the remote sends with its SYN or ACK counts from the start. We return
// credit once the reader has consumed half the window, in one update. Auto-tuning (go-yamux's rule): when
// that update comes less than four round-trip times after the previous one (or after the stream began) —
// the sender is waiting on the window, not on our reader — the window doubles, up to max_stream_window, if
// limits.budget grants the growth (all or nothing; without a budget it always does). The round-trip time
// comes from a ping sent when the connection starts and from every keep-alive ping (smoothed, as go does);
// until one is answered the window does not grow. A stream's reservations go back to the budget when it
// leaves the connection (finished both ways, reset, or the connection ended).
//
// Writes. A stream queues what its send window does not let out yet (its outbox), up to
// limits.stream_write_limits.hard_limit; with a budget, the queued bytes are reserved from it too. A Write()
// over either fails with kResourceExhausted and resets the stream (over the budget, after what the window
// allowed of it went out).
//
// Opening streams. Inbound streams are not acknowledged before the application has them: the ACK goes with
// the first frame we send on the stream (data, a window update or a FIN); a stream over
// limits.max_inbound_streams is refused with RST. OpenStream() fails with kResourceExhausted while
// kYamuxMaxAckBacklog streams we opened wait for their ACK (or at limits.max_outbound_streams), and with
// kUnavailable once the remote sent GoAway or the connection ended (accepts_new_streams() is then false).
// Streams already open carry on after the remote's GoAway.
//
// Ending. Close() writes the streams' queued data and FINs as far as their send windows allow (until the
// secure connection buffers kYamuxCloseFlushLimit), then GoAway, then ends the secure connection; open
// streams fail. Protocol violations by the remote (a frame beyond the receive window, a window overflow, a
// bad header, a SYN for a stream id that is not new) close the connection with a GoAway carrying the
// protocol-error code and call on_closed with kInvalidArgument. A write the secure connection refuses (it
// failed, or its hard limit reset it) ends the connection too: on_closed gets kUnavailable. When the
// connection ends, a stream whose remote FIN had arrived delivers its remaining bytes and end-of-stream
// before the failure.
//
// Stream ids must be new: above every id the remote opened before, or one of the last 64 ids it skipped
// (go-yamux opens streams from concurrent goroutines, so their SYNs can cross). Data after the remote's FIN
// on a stream resets that stream (RST; its reader gets kInvalidArgument) rather than the whole connection:
// the spec forbids it, but go-yamux can send it when one goroutine writes while another closes.
std::unique_ptr<MuxedConnection> CreateYamuxConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                                       bool initiator, MuxedConnection::Handlers handlers,
                                                       YamuxOptions options = {});

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_YAMUX_H_
