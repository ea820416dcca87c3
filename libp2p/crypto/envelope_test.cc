#include "libp2p/crypto/envelope.h"

#include "gtest/gtest.h"
#include "libp2p/base/proto_wire.h"

namespace libp2p::crypto {
namespace {

const Ed25519PrivateKey& Key() {
  static const Ed25519PrivateKey k = *Ed25519PrivateKey::FromSeed(Bytes(32, 3));
  return k;
}

TEST(EnvelopeTest, SigningBufferLayout) {
  const Bytes buf = EnvelopeSigningBuffer("dom", Bytes{0x03, 0x01}, AsBytes("payload"));
  const Bytes expected = {3, 'd', 'o', 'm', 2, 0x03, 0x01, 7, 'p', 'a', 'y', 'l', 'o', 'a', 'd'};
  EXPECT_EQ(buf, expected);
}

TEST(EnvelopeTest, SealEncodeOpenRoundTrip) {
  auto env = SealEnvelope(Key(), "libp2p-test", Bytes{0x03, 0x01}, AsBytes("hello"));
  ASSERT_TRUE(env.ok());
  const Bytes encoded = env->Encode();
  auto opened = OpenEnvelope(encoded, "libp2p-test");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToString(opened->payload), "hello");
  EXPECT_EQ(opened->payload_type, (Bytes{0x03, 0x01}));
  EXPECT_TRUE(opened->public_key == Key().public_key());
  EXPECT_EQ(opened->Encode(), encoded);
}

TEST(EnvelopeTest, WrongDomainFails) {
  const Bytes encoded = SealEnvelope(Key(), "libp2p-test", Bytes{1}, AsBytes("x"))->Encode();
  EXPECT_EQ(OpenEnvelope(encoded, "libp2p-other").status().code(), StatusCode::kUnauthenticated);
}

TEST(EnvelopeTest, EveryFlippedBitFailsToOpen) {
  const Bytes encoded = SealEnvelope(Key(), "libp2p-test", Bytes{0x03, 0x01}, AsBytes("payload"))->Encode();
  for (size_t i = 0; i < encoded.size() * 8; ++i) {
    Bytes tampered = encoded;
    tampered[i / 8] ^= 1 << (i % 8);
    EXPECT_FALSE(OpenEnvelope(tampered, "libp2p-test").ok()) << "bit " << i;
  }
}

TEST(EnvelopeTest, MalformedEnvelopesRefused) {
  const Bytes encoded = SealEnvelope(Key(), "d", Bytes{1}, AsBytes("p"))->Encode();
  for (size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_FALSE(OpenEnvelope(ByteSpan(encoded).first(n), "d").ok()) << n;
  }
  Bytes repeated = encoded;
  proto::AppendBytesField(3, AsBytes("again"), &repeated);
  EXPECT_FALSE(Envelope::Decode(repeated).ok());
  Bytes unknown = encoded;
  proto::AppendBytesField(9, AsBytes("?"), &unknown);
  EXPECT_FALSE(Envelope::Decode(unknown).ok());
  EXPECT_EQ(Envelope::Decode(Bytes(kMaxEnvelopeSize + 1)).status().code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(SealEnvelope(Key(), "", Bytes{1}, AsBytes("p")).ok());
}

}  // namespace
}  // namespace libp2p::crypto
