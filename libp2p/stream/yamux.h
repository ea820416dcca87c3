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
// Every stream starts with this receive window in each direction.
inline constexpr uint32_t kYamuxInitialWindow = 256 * 1024;
// Data frames we send carry at most this much, so that streams share the connection fairly.
inline constexpr uint32_t kYamuxMaxDataFrame = 64 * 1024;
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
  MuxerLimits limits;
  // A keep-alive ping is sent at this interval; the connection is closed when one stays unanswered for two
  // intervals. Zero disables keep-alive.
  Duration keepalive_interval = std::chrono::seconds(30);
};

// Creates a yamux connection over `secure` (which it then owns). `initiator` is the side that dialed: it
// opens odd stream ids, the other side even ones. Protocol violations by the remote (a frame beyond the
// receive window, a window overflow, a bad header, a reused stream id) close the connection with a GoAway
// carrying the protocol-error code and call on_closed with kInvalidArgument.
std::unique_ptr<MuxedConnection> CreateYamuxConnection(EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                                       bool initiator, MuxedConnection::Handlers handlers,
                                                       YamuxOptions options = {});

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_YAMUX_H_
