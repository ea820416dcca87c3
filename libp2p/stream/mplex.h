// The mplex stream muxer (libp2p/specs mplex, /mplex/6.7.0): many streams over one secure connection, each
// message a varint header (stream id and flag), a varint length and up to 1 MiB of data. Mplex has no flow
// control; a stream whose reader falls too far behind is reset.
#ifndef LIBP2P_STREAM_MPLEX_H_
#define LIBP2P_STREAM_MPLEX_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/base/varint.h"
#include "libp2p/stream/muxer.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

inline constexpr std::string_view kMplexProtocolId = "/mplex/6.7.0";

// The largest data of one message; a longer declared length is a protocol error.
inline constexpr size_t kMplexMaxMessageSize = 1024 * 1024;
// Our writes are cut into messages of at most this much data, so that streams interleave fairly.
inline constexpr size_t kMplexWriteChunkSize = 64 * 1024;
// Stream ids fit in the 60 bits left beside the 3-bit flag of a 63-bit varint.
inline constexpr uint64_t kMplexMaxStreamId = (uint64_t{1} << 60) - 1;

// The message types. "Initiator" flags are sent by the side that opened the stream, "Receiver" flags by the
// side that accepted it; each side numbers its own streams, so (id, who opened it) names a stream.
enum class MplexFlag : uint8_t {
  kNewStream = 0,
  kMessageReceiver = 1,
  kMessageInitiator = 2,
  kCloseReceiver = 3,
  kCloseInitiator = 4,
  kResetReceiver = 5,
  kResetInitiator = 6,
};

// One decoded message, owning its data.
struct MplexFrame {
  uint64_t id = 0;
  MplexFlag flag = MplexFlag::kNewStream;
  Bytes data;  // The stream name for kNewStream; empty for close and reset.

  friend bool operator==(const MplexFrame&, const MplexFrame&) = default;
};

// Appends one message to `*out`. `id` must be at most kMplexMaxStreamId and `data` at most
// kMplexMaxMessageSize bytes (both asserted). The encoding is canonical (minimal varints).
void AppendMplexFrame(uint64_t id, MplexFlag flag, ByteSpan data, Bytes* out);
// The encoding of `frame`, under the same preconditions.
Bytes EncodeMplexFrame(const MplexFrame& frame);

// Decodes `in`, which must hold exactly one message. kInvalidArgument for a malformed or non-minimal varint,
// an unknown flag, a truncated message or bytes after it; kOutOfRange for data longer than
// kMplexMaxMessageSize.
StatusOr<MplexFrame> DecodeMplexFrame(ByteSpan in);

// Splits a byte stream into mplex messages. Bytes may arrive split at any offset across any number of calls.
// A declared length above kMplexMaxMessageSize is refused as soon as the length is read, before anything is
// set aside for the data; a partial message is buffered only as far as its bytes have arrived (at most
// kMplexMaxMessageSize plus two varints).
//
// After an error the decoder is failed: every later call returns the same error without reading.
class MplexFrameDecoder {
 public:
  // A decoded message. `data` views either the caller's input or the decoder's own buffer; it is valid until
  // the next call to Next() or the destruction of the decoder or of the input, whichever is first.
  struct View {
    uint64_t id = 0;
    MplexFlag flag = MplexFlag::kNewStream;
    ByteSpan data;
  };

  MplexFrameDecoder() = default;
  MplexFrameDecoder(const MplexFrameDecoder&) = delete;
  MplexFrameDecoder& operator=(const MplexFrameDecoder&) = delete;

  // Consumes bytes from the front of `*in` (advancing it) until one message is complete: then returns true
  // and fills `*frame`. Returns false when `*in` is used up first; the partial message is kept for the next
  // call. Errors as DecodeMplexFrame (kInvalidArgument, kOutOfRange).
  StatusOr<bool> Next(ByteSpan* in, View* frame);

  // Bytes held of a message not yet complete (varints and data).
  size_t buffered_bytes() const { return varint_size_ + body_.size(); }
  bool failed() const { return !error_.ok(); }
  // True between messages: nothing of a next message has been read yet.
  bool at_boundary() const { return stage_ == Stage::kHeader && varint_size_ == 0; }

 private:
  enum class Stage { kHeader, kLength, kBody };

  // Reads a varint that may be split across calls. Returns true with `*value` once it is complete.
  StatusOr<bool> ReadVarint(ByteSpan* in, uint64_t* value);
  Status Fail(Status status);

  Stage stage_ = Stage::kHeader;
  std::array<uint8_t, kMaxUvarintLength> varint_{};
  size_t varint_size_ = 0;
  uint64_t id_ = 0;
  MplexFlag flag_ = MplexFlag::kNewStream;
  size_t length_ = 0;
  Bytes body_;               // The data of the message in progress, when it did not arrive in one piece.
  bool body_ready_ = false;  // body_ holds a complete message returned by the previous call.
  Status error_;
};

// Runs mplex over `secure`, which the returned connection owns (and resets when the remote misbehaves).
// `initiator` says whether we dialed; mplex numbers each side's streams separately, so it only names the
// role. `loop` must outlive the connection and every stream it hands out.
//
// Streams (opened with OpenStream() or passed to on_stream) are owned by their receivers and may outlive the
// connection; once it is closed, failed or destroyed they get on_error (kUnavailable) from the loop and
// their writes fail with kUnavailable. Destroying a stream that is still open sends a reset.
//
// The remote closing or failing the secure connection, and any protocol error (a malformed varint, a
// message over kMplexMaxMessageSize, an unknown flag) end the connection: the secure connection is reset,
// every stream fails and on_closed runs once with the reason (kInvalidArgument or kOutOfRange for protocol
// errors, kUnavailable or the secure connection's code otherwise). A NewStream for a stream id the remote
// has open already is ignored. A NewStream beyond limits.max_inbound_streams is reset at once. A stream
// whose reader leaves more than limits.mplex_max_buffered bytes unread (not counting bytes it gave back with
// Unread()) is reset and fails with kResourceExhausted; so is one whose unread bytes limits.budget (when
// set; it holds them while the stream is with the connection) refuses. The others go on; the connection is
// never paused for one stream.
//
// OpenStream() fails with kUnavailable once the connection has ended (accepts_new_streams() is false then)
// and with kResourceExhausted beyond limits.max_outbound_streams. Close() (and destruction) sends a reset for
// every open stream, ends our side of the secure connection and stops reading from it; on_closed does not
// run for it.
//
// Mplex has no per-stream window, so every stream reports the secure connection's write buffer as its
// own: buffered_bytes() and write_blocked() are the secure connection's, on_writable fires for each stream
// that saw write_blocked() once that buffer drains, and a Write() that would take the buffer past
// limits.stream_write_limits.hard_limit fails with kResourceExhausted and resets that stream.
std::unique_ptr<MuxedConnection> CreateMplexConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                                       bool initiator, MuxedConnection::Handlers handlers,
                                                       MuxerLimits limits = {});

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_MPLEX_H_
