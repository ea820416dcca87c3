#include "libp2p/pubsub/message.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub {
namespace {

crypto::Ed25519PrivateKey Key(uint8_t fill) {
  const Bytes seed(crypto::Ed25519PrivateKey::kSeedSize, fill);
  return *crypto::Ed25519PrivateKey::FromSeed(seed);
}

pb::Message Signed(const crypto::Ed25519PrivateKey& key, uint64_t seqno) {
  pb::Message msg;
  msg.set_topic("t");
  msg.set_data("payload");
  SignMessage(key, seqno, SignPolicy::kStrictSign, &msg);
  return msg;
}

// Re-signs `msg` as its author would after setting `seqno` (bytes as they go on the wire).
void ResignWithSeqno(const crypto::Ed25519PrivateKey& key, std::string seqno, pb::Message* msg) {
  msg->set_seqno(std::move(seqno));
  const Bytes sig = key.Sign(AsBytes(SigningBytes(*msg)));
  msg->set_signature(std::string(sig.begin(), sig.end()));
}

TEST(MessageTest, SignedMessagesVerifyAndTamperedOnesDoNot) {
  const auto key = Key(1);
  pb::Message msg = Signed(key, 42);
  EXPECT_EQ(msg.seqno(), std::string("\0\0\0\0\0\0\0\x2a", 8));
  EXPECT_TRUE(VerifyMessage(msg, SignPolicy::kStrictSign).ok());
  msg.set_data("other");
  EXPECT_EQ(VerifyMessage(msg, SignPolicy::kStrictSign).code(), StatusCode::kUnauthenticated);
}

TEST(MessageTest, StrictSignAcceptsASeqnoWithoutLeadingZeroBytes) {
  // js-libp2p floodsub writes its random 64-bit seqno without leading zero bytes: one message in 256 carries
  // a seqno of 7 bytes or fewer. Such a seqno is still a 64-bit number and its signature covers it as sent.
  const auto key = Key(2);
  for (const std::string seqno : {std::string("\x01", 1), std::string("\x7f\x01\x02\x03\x04\x05\x06", 7)}) {
    pb::Message msg = Signed(key, 0);
    ResignWithSeqno(key, seqno, &msg);
    EXPECT_TRUE(VerifyMessage(msg, SignPolicy::kStrictSign).ok()) << seqno.size() << " bytes";
  }
}

TEST(MessageTest, StrictSignRefusesAnEmptyOrOverlongSeqno) {
  const auto key = Key(3);
  for (const std::string seqno : {std::string(), std::string(9, '\x01')}) {
    pb::Message msg = Signed(key, 0);
    ResignWithSeqno(key, seqno, &msg);
    EXPECT_EQ(VerifyMessage(msg, SignPolicy::kStrictSign).code(), StatusCode::kPermissionDenied)
        << seqno.size() << " bytes";
  }
}

TEST(MessageTest, StrictSignRefusesMissingFieldsAndStrictNoSignRefusesPresentOnes) {
  const auto key = Key(4);
  pb::Message msg = Signed(key, 7);
  EXPECT_EQ(VerifyMessage(msg, SignPolicy::kStrictNoSign).code(), StatusCode::kPermissionDenied);
  pb::Message no_signature = msg;
  no_signature.clear_signature();
  EXPECT_EQ(VerifyMessage(no_signature, SignPolicy::kStrictSign).code(), StatusCode::kPermissionDenied);
  pb::Message bare;
  bare.set_data("x");
  bare.set_topic("t");
  EXPECT_TRUE(VerifyMessage(bare, SignPolicy::kStrictNoSign).ok());
  EXPECT_EQ(VerifyMessage(bare, SignPolicy::kStrictSign).code(), StatusCode::kPermissionDenied);
}

TEST(MessageTest, JsDefaultIdReadsTheSeqnoAsANumber) {
  // js computes the id from the seqno as a 64-bit number, so a short seqno names the same message as its
  // eight-byte form.
  const auto key = Key(5);
  pb::Message full = Signed(key, 0x0102);
  pb::Message short_form = full;
  short_form.set_seqno(std::string("\x01\x02", 2));
  EXPECT_EQ(JsDefaultMessageId(short_form), JsDefaultMessageId(full));
  const Bytes pk = key.public_key().ToProtobuf();
  EXPECT_EQ(JsDefaultMessageId(full), std::string(pk.begin(), pk.end()) + full.seqno());
}

TEST(MessageTest, GoDefaultIdIsFromAndSeqnoAsSent) {
  const auto key = Key(6);
  pb::Message msg = Signed(key, 9);
  EXPECT_EQ(GoDefaultMessageId(msg), msg.from() + msg.seqno());
  msg.set_seqno("\x09");
  EXPECT_EQ(GoDefaultMessageId(msg), msg.from() + "\x09");
}

TEST(MessageTest, Sha256IdIsTheDigestOfTheDataAndJsUsesItForAnonymousMessages) {
  pb::Message msg;
  msg.set_topic("t");
  msg.set_data("abc");
  const crypto::Sha256Digest d = crypto::Sha256(AsBytes(std::string("abc")));
  EXPECT_EQ(Sha256MessageId(msg), std::string(d.begin(), d.end()));
  EXPECT_EQ(JsDefaultMessageId(msg), Sha256MessageId(msg));
}

}  // namespace
}  // namespace libp2p::pubsub
