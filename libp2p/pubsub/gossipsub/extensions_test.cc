#include "libp2p/pubsub/gossipsub/extensions.h"

#include <gtest/gtest.h>

#include "libp2p/base/bytes.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"

namespace libp2p::pubsub::gossipsub {
namespace {

// What we write, the codec keeps (with the experimental number configured) and reads back.
TEST(ExtensionsTest, RoundTripThroughTheCodec) {
  ExtensionOptions options;
  options.test_extension = true;
  pb::RPC rpc;
  WriteExtensions(PeerExtensions{true, true}, options, &rpc);
  AddTestExtensionMessage(options, &rpc);
  const std::string wire = rpc.SerializeAsString();
  RpcLimits limits;
  limits.experimental_fields = ExperimentalFields(options);
  RpcCounts counts;
  StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(wire), limits, &counts);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(counts.left_out, 0u);
  EXPECT_TRUE(HasExtensions(*decoded));
  const PeerExtensions read = ReadExtensions(*decoded, options);
  EXPECT_TRUE(read.partial_messages);
  EXPECT_TRUE(read.test_extension);
  EXPECT_TRUE(HasTestExtensionMessage(*decoded, options));
}

// The test extension's bytes on the wire: the flag is field 6492434 of ControlExtensions, and the message an
// empty field 6492434 of the RPC (libp2p/specs extensions.proto).
TEST(ExtensionsTest, TestExtensionWireBytes) {
  ExtensionOptions options;
  options.test_extension = true;
  pb::RPC rpc;
  AddTestExtensionMessage(options, &rpc);
  // Tag (6492434 << 3 | 2) as a varint, then length 0.
  EXPECT_EQ(rpc.SerializeAsString(), std::string("\x92\x91\xe2\x18\x00", 5));
  pb::RPC flag;
  WriteExtensions(PeerExtensions{false, true}, options, &flag);
  // control = 3 {extensions = 6 {6492434: varint 1}}.
  EXPECT_EQ(flag.SerializeAsString(), std::string("\x1a\x07\x32\x05\x90\x91\xe2\x18\x01", 9));
}

// Unknown extensions are ignored: a flag at a number we do not use is left out by the codec and reads as
// nothing; and without the test extension configured, its number is unknown too.
TEST(ExtensionsTest, UnknownExtensionsAreIgnored) {
  ExtensionOptions other;
  other.test_extension = true;
  other.test_extension_field = 4820938;  // Another draft's number.
  pb::RPC rpc;
  WriteExtensions(PeerExtensions{false, true}, other, &rpc);
  AddTestExtensionMessage(other, &rpc);
  const std::string wire = rpc.SerializeAsString();
  ExtensionOptions ours;
  ours.test_extension = true;
  RpcLimits limits;
  limits.experimental_fields = ExperimentalFields(ours);
  StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(wire), limits);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(HasExtensions(*decoded));  // An Extensions message, advertising nothing we know.
  const PeerExtensions read = ReadExtensions(*decoded, ours);
  EXPECT_FALSE(read.partial_messages);
  EXPECT_FALSE(read.test_extension);
  EXPECT_FALSE(HasTestExtensionMessage(*decoded, ours));
  EXPECT_TRUE(ExperimentalFields(ExtensionOptions{}).empty());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
