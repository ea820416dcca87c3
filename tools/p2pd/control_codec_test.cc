#include "tools/p2pd/control_codec.h"

#include "gtest/gtest.h"
#include "libp2p/base/varint.h"

namespace libp2p::p2pd {
namespace {

Bytes RequestFrame(const pb::Request& r) {
  Bytes out;
  AppendDelimited(r, &out);
  return out;
}

TEST(ControlCodecTest, AFrameIsReadOnceComplete) {
  pb::Request r;
  r.set_type(pb::Request::PUBSUB);
  r.mutable_pubsub()->set_type(pb::PSRequest::PUBLISH);
  r.mutable_pubsub()->set_topic("t");
  r.mutable_pubsub()->set_data(std::string(300, 'x'));  // A two-byte length prefix.
  Bytes wire = RequestFrame(r);
  wire.push_back(0x42);  // What follows the request (a stream's first byte).
  for (size_t n = 0; n + 1 < wire.size(); ++n) {
    StatusOr<std::optional<Frame>> partial = NextFrame(ByteSpan(wire).first(n), kMaxRequestSize);
    ASSERT_TRUE(partial.ok());
    EXPECT_FALSE(partial->has_value()) << n;
  }
  StatusOr<std::optional<Frame>> frame = NextFrame(wire, kMaxRequestSize);
  ASSERT_TRUE(frame.ok() && frame->has_value());
  EXPECT_EQ((*frame)->consumed, wire.size() - 1);
  StatusOr<pb::Request> decoded = DecodeRequest((*frame)->body);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->pubsub().data(), std::string(300, 'x'));
}

TEST(ControlCodecTest, OversizedAndMalformedFramesAreRefusedFromThePrefix) {
  Bytes huge;
  AppendUvarint(kMaxRequestSize + 1, &huge);  // Nothing of the body needs to arrive.
  EXPECT_EQ(NextFrame(huge, kMaxRequestSize).status().code(), StatusCode::kOutOfRange);
  const Bytes non_minimal = {0x80, 0x00};
  EXPECT_EQ(NextFrame(non_minimal, kMaxRequestSize).status().code(), StatusCode::kInvalidArgument);
}

TEST(ControlCodecTest, RequestsWithoutAKnownTypeAreRefused) {
  EXPECT_FALSE(DecodeRequest(AsBytes("\xff\xff\xff")).ok());  // Not a protobuf.
  EXPECT_FALSE(DecodeRequest(ByteSpan()).ok());                // No type.
  const Bytes unknown_type = {0x08, 0x0a};                     // type = 10.
  EXPECT_FALSE(DecodeRequest(unknown_type).ok());
  const Bytes identify = {0x08, 0x00};
  StatusOr<pb::Request> r = DecodeRequest(identify);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type(), pb::Request::IDENTIFY);
}

TEST(ControlCodecTest, ResponsesAlwaysCarryTheirType) {
  Bytes ok;
  AppendDelimited(OkResponse(), &ok);
  EXPECT_EQ(ok, (Bytes{0x02, 0x08, 0x00}));  // OK is 0, and still written.
  pb::Response error = ErrorResponse("no");
  EXPECT_EQ(error.type(), pb::Response::ERROR);
  EXPECT_EQ(error.error().msg(), "no");
}

}  // namespace
}  // namespace libp2p::p2pd
