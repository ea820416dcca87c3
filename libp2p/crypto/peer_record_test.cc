#include "libp2p/crypto/peer_record.h"

#include "gtest/gtest.h"
#include "libp2p/base/proto_wire.h"
#include "libp2p/crypto/envelope.h"

namespace libp2p::crypto {
namespace {

const Ed25519PrivateKey& Key(uint8_t n) {
  static const Ed25519PrivateKey a = *Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  static const Ed25519PrivateKey b = *Ed25519PrivateKey::FromSeed(Bytes(32, 2));
  return n == 1 ? a : b;
}

PeerRecord RecordOf(const Ed25519PrivateKey& key) {
  return PeerRecord{PeerId::FromPublicKey(key.public_key()), 1700000000000000000ull,
                    {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001"), *Multiaddr::FromString("/ip6/::1/tcp/4002")}};
}

TEST(PeerRecordTest, SignAndOpen) {
  const PeerRecord record = RecordOf(Key(1));
  StatusOr<Bytes> signed_record = SignPeerRecord(Key(1), record);
  ASSERT_TRUE(signed_record.ok());
  StatusOr<PeerRecord> opened = OpenSignedPeerRecord(*signed_record);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(opened->peer_id == record.peer_id);
  EXPECT_EQ(opened->seq, record.seq);
  ASSERT_EQ(opened->addresses.size(), 2u);
  EXPECT_EQ(opened->addresses[1].ToString(), "/ip6/::1/tcp/4002");
  EXPECT_EQ(opened->Encode(), record.Encode());
}

TEST(PeerRecordTest, OnlyItsOwnPeerMaySign) {
  EXPECT_FALSE(SignPeerRecord(Key(2), RecordOf(Key(1))).ok());
  // An envelope signed by key 2 around a record naming peer 1 is refused when opened.
  auto env = SealEnvelope(Key(2), kPeerRecordDomain, kPeerRecordPayloadType, RecordOf(Key(1)).Encode());
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(OpenSignedPeerRecord(env->Encode()).status().code(), StatusCode::kUnauthenticated);
}

TEST(PeerRecordTest, WrongDomainOrPayloadTypeRefused) {
  auto other_domain = SealEnvelope(Key(1), "libp2p-routing-state", kPeerRecordPayloadType, RecordOf(Key(1)).Encode());
  EXPECT_FALSE(OpenSignedPeerRecord(other_domain->Encode()).ok());
  const uint8_t other_type[] = {0x03, 0x02};
  auto wrong_type = SealEnvelope(Key(1), kPeerRecordDomain, other_type, RecordOf(Key(1)).Encode());
  EXPECT_FALSE(OpenSignedPeerRecord(wrong_type->Encode()).ok());
}

TEST(PeerRecordTest, MalformedRecordsRefused) {
  EXPECT_FALSE(PeerRecord::Decode(Bytes{}).ok());  // No peer id.
  Bytes bad_addr;
  proto::AppendBytesField(1, RecordOf(Key(1)).peer_id.bytes(), &bad_addr);
  Bytes info;
  proto::AppendBytesField(1, Bytes{0xff, 0xff, 0x03}, &info);
  proto::AppendBytesField(3, info, &bad_addr);
  EXPECT_FALSE(PeerRecord::Decode(bad_addr).ok());
  Bytes too_many;
  proto::AppendBytesField(1, RecordOf(Key(1)).peer_id.bytes(), &too_many);
  Bytes one;
  proto::AppendBytesField(1, Multiaddr::FromString("/ip4/1.2.3.4/tcp/1")->bytes(), &one);
  for (size_t i = 0; i <= kMaxPeerRecordAddresses; ++i) proto::AppendBytesField(3, one, &too_many);
  EXPECT_FALSE(PeerRecord::Decode(too_many).ok());
}

TEST(PeerRecordTest, UnknownFieldsSkipped) {
  Bytes encoded = RecordOf(Key(1)).Encode();
  proto::AppendBytesField(7, AsBytes("future"), &encoded);
  StatusOr<PeerRecord> r = PeerRecord::Decode(encoded);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Encode(), RecordOf(Key(1)).Encode());
}

}  // namespace
}  // namespace libp2p::crypto
