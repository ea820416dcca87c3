#include "libp2p/crypto/peer_record.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  Bytes wrong_type;
  proto::AppendBytesField(1, RecordOf(Key(1)).peer_id.bytes(), &wrong_type);
  proto::AppendVarintField(3, 7, &wrong_type);  // addresses as a varint.
  EXPECT_EQ(PeerRecord::Decode(wrong_type).status().code(), StatusCode::kInvalidArgument);
  Bytes truncated = RecordOf(Key(1)).Encode();
  truncated.pop_back();
  EXPECT_EQ(PeerRecord::Decode(truncated).status().code(), StatusCode::kInvalidArgument);
}

// A PeerRecord payload with the peer id of `key` and one AddressInfo per entry of `addresses`, each holding
// those bytes as its multiaddr (an AddressInfo without one for std::nullopt).
Bytes PayloadWithAddresses(const Ed25519PrivateKey& key, const std::vector<std::optional<Bytes>>& addresses) {
  Bytes payload;
  proto::AppendBytesField(1, PeerId::FromPublicKey(key.public_key()).bytes(), &payload);
  proto::AppendVarintField(2, 5, &payload);
  for (const std::optional<Bytes>& address : addresses) {
    Bytes info;
    if (address.has_value()) proto::AppendBytesField(1, *address, &info);
    proto::AppendBytesField(3, info, &payload);
  }
  return payload;
}

Bytes AddressBytes(std::string_view text) { return Multiaddr::FromString(text)->bytes(); }

// A default go-libp2p node lists /webrtc-direct and /certhash addresses; a whole record used to fail on them
// (and identify then disconnected the peer). Addresses we cannot parse are now skipped one by one.
TEST(PeerRecordTest, AddressesThatDoNotParseAreSkipped) {
  constexpr char kWebTransport[] =
      "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ";
  const Bytes unknown_code = {0xff, 0x7f};              // Protocol code 0x3fff, in no table.
  const Bytes truncated_ip4 = {0x04, 1, 2, 3};          // An ip4 value one byte short.
  const Bytes bad_peer_id = {0xa5, 0x03, 0x02, 0x13, 0x00};  // /p2p with a sha2-512 multihash.
  const Bytes unix_then_tcp = {0x90, 0x03, 0x02, '/', 'a', 0x06, 0x00, 0x01};
  const Bytes malformed_info_field = {0x0a, 0x05, 0x04};  // AddressInfo.multiaddr claims 5 bytes, has 1.
  const Bytes payload = PayloadWithAddresses(
      Key(1), {AddressBytes("/ip4/1.2.3.4/tcp/4001"), AddressBytes("/ip4/1.2.3.4/udp/4001/webrtc-direct"),
               unknown_code, truncated_ip4, std::nullopt, bad_peer_id, unix_then_tcp, Bytes{},
               AddressBytes(kWebTransport),
               AddressBytes("/ip6/::1/tcp/4002")});
  // An AddressInfo whose own protobuf is malformed is skipped too.
  Bytes with_malformed_info = payload;
  proto::AppendBytesField(3, malformed_info_field, &with_malformed_info);

  for (const Bytes& encoded : {payload, with_malformed_info}) {
    auto env = SealEnvelope(Key(1), kPeerRecordDomain, kPeerRecordPayloadType, encoded);
    ASSERT_TRUE(env.ok());
    StatusOr<PeerRecord> opened = OpenSignedPeerRecord(env->Encode());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->seq, 5u);
    ASSERT_EQ(opened->addresses.size(), 4u);
    EXPECT_EQ(opened->addresses[0].ToString(), "/ip4/1.2.3.4/tcp/4001");
    EXPECT_EQ(opened->addresses[1].ToString(), "/ip4/1.2.3.4/udp/4001/webrtc-direct");
    EXPECT_EQ(opened->addresses[2].ToString(), kWebTransport);
    EXPECT_EQ(opened->addresses[3].ToString(), "/ip6/::1/tcp/4002");
  }

  // A record whose only address is of an unknown protocol opens with no addresses.
  auto only_unknown = SealEnvelope(Key(1), kPeerRecordDomain, kPeerRecordPayloadType,
                                   PayloadWithAddresses(Key(1), {unknown_code}));
  ASSERT_TRUE(only_unknown.ok());
  StatusOr<PeerRecord> empty = OpenSignedPeerRecord(only_unknown->Encode());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->addresses.empty());
}

TEST(PeerRecordTest, KeepsTheFirstParseableAddressesUpToTheCap) {
  std::vector<std::optional<Bytes>> addresses = {Bytes{0xff, 0x7f}};  // Skipped: not counted against the cap.
  for (size_t i = 0; i < kMaxPeerRecordAddresses + 10; ++i) {
    addresses.push_back(AddressBytes("/ip4/10.0.0.1/tcp/" + std::to_string(1000 + i)));
  }
  const Bytes payload = PayloadWithAddresses(Key(1), addresses);
  auto env = SealEnvelope(Key(1), kPeerRecordDomain, kPeerRecordPayloadType, payload);
  ASSERT_TRUE(env.ok());
  StatusOr<PeerRecord> opened = OpenSignedPeerRecord(env->Encode());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->addresses.size(), kMaxPeerRecordAddresses);
  for (size_t i = 0; i < kMaxPeerRecordAddresses; ++i) {
    EXPECT_EQ(opened->addresses[i].ToString(), "/ip4/10.0.0.1/tcp/" + std::to_string(1000 + i));
  }
}

TEST(PeerRecordTest, ReEncodingADecodedRecordIsNotTheSignedPayload) {
  // The signature covers the payload as sent; the decoded record holds only what we could parse. Its
  // Encode() differs from the payload, so it must never stand in for the payload when checking signatures.
  const Bytes payload =
      PayloadWithAddresses(Key(1), {AddressBytes("/ip4/1.2.3.4/tcp/1"), Bytes{0xff, 0x7f}});
  auto env = SealEnvelope(Key(1), kPeerRecordDomain, kPeerRecordPayloadType, payload);
  ASSERT_TRUE(env.ok());
  StatusOr<PeerRecord> opened = OpenSignedPeerRecord(env->Encode());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_NE(opened->Encode(), payload);
  EXPECT_EQ(opened->addresses.size(), 1u);
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
