// The control protocol's framing: unsigned-varint length-prefixed protobufs (p2pd.proto).
#ifndef TOOLS_P2PD_CONTROL_CODEC_H_
#define TOOLS_P2PD_CONTROL_CODEC_H_

#include <cstddef>
#include <optional>
#include <string>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "tools/p2pd/p2pd.pb.h"

namespace libp2p::p2pd {

// The largest request accepted: a PUBLISH of a 1 MiB message with room to spare.
inline constexpr size_t kMaxRequestSize = 2 * 1024 * 1024;

// A complete frame at the start of `buffered`: its body and the bytes it took, prefix included.
struct Frame {
  ByteSpan body;
  size_t consumed = 0;
};

// The first frame of `buffered`, nothing while it is incomplete, or kOutOfRange for a declared length over
// `max_size` (known from the prefix alone, before anything is buffered for it) and kInvalidArgument for a
// malformed prefix.
StatusOr<std::optional<Frame>> NextFrame(ByteSpan buffered, size_t max_size);

// Parses a Request. kInvalidArgument when it is not a Request protobuf or lacks its type (an unknown type
// reads as missing).
StatusOr<pb::Request> DecodeRequest(ByteSpan body);

// Appends `message` with its length prefix.
void AppendDelimited(const google::protobuf::MessageLite& message, Bytes* out);

// The response {type: OK}.
pb::Response OkResponse();
// The response {type: ERROR, error: {msg: message}}.
pb::Response ErrorResponse(const std::string& message);

}  // namespace libp2p::p2pd

#endif  // TOOLS_P2PD_CONTROL_CODEC_H_
