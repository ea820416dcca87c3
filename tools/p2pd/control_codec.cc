#include "tools/p2pd/control_codec.h"

#include "libp2p/base/varint.h"

namespace libp2p::p2pd {

StatusOr<std::optional<Frame>> NextFrame(ByteSpan buffered, size_t max_size) {
  const UvarintDecode prefix = DecodeUvarint(buffered);
  if (prefix.error == UvarintError::kIncomplete) return std::optional<Frame>();
  if (prefix.error != UvarintError::kNone) return InvalidArgumentError("malformed length prefix");
  if (prefix.value > max_size) {
    return OutOfRangeError("message of " + std::to_string(prefix.value) + " bytes exceeds " +
                           std::to_string(max_size));
  }
  const size_t total = prefix.length + static_cast<size_t>(prefix.value);
  if (buffered.size() < total) return std::optional<Frame>();
  return std::optional<Frame>(Frame{buffered.subspan(prefix.length, static_cast<size_t>(prefix.value)), total});
}

StatusOr<pb::Request> DecodeRequest(ByteSpan body) {
  pb::Request request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return InvalidArgumentError("not a Request protobuf");
  }
  if (!request.has_type()) return InvalidArgumentError("request without a known type");
  return request;
}

void AppendDelimited(const google::protobuf::MessageLite& message, Bytes* out) {
  const size_t size = message.ByteSizeLong();
  AppendUvarint(size, out);
  const size_t at = out->size();
  out->resize(at + size);
  message.SerializeWithCachedSizesToArray(out->data() + at);
}

pb::Response OkResponse() {
  pb::Response r;
  r.set_type(pb::Response::OK);
  return r;
}

pb::Response ErrorResponse(const std::string& message) {
  pb::Response r;
  r.set_type(pb::Response::ERROR);
  r.mutable_error()->set_msg(message);
  return r;
}

}  // namespace libp2p::p2pd
