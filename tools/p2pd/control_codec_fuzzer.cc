// Reads arbitrary bytes as the control connection's first bytes: a length-prefixed Request. A frame never
// claims more than it has or more than the limit, and an accepted request re-encodes to bytes that decode
// to the same request.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/p2pd/control_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libp2p;
  using namespace libp2p::p2pd;
  const ByteSpan input(data, size);
  StatusOr<std::optional<Frame>> frame = NextFrame(input, kMaxRequestSize);
  if (!frame.ok() || !frame->has_value()) return 0;
  if ((*frame)->consumed > size || (*frame)->body.size() > kMaxRequestSize) abort();
  StatusOr<pb::Request> request = DecodeRequest((*frame)->body);
  if (!request.ok()) return 0;
  Bytes wire;
  AppendDelimited(*request, &wire);
  StatusOr<std::optional<Frame>> again = NextFrame(wire, kMaxRequestSize);
  if (!again.ok() || !again->has_value() || (*again)->consumed != wire.size()) abort();
  StatusOr<pb::Request> decoded = DecodeRequest((*again)->body);
  if (!decoded.ok() || decoded->SerializeAsString() != request->SerializeAsString()) abort();
  return 0;
}
