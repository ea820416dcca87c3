#include "libp2p/crypto/peer_id.h"

#include <unordered_set>

#include "gtest/gtest.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/test_vectors.h"

namespace libp2p::crypto {
namespace {

PublicKey KeyOf(const char* hex) { return *PublicKey::FromProtobuf(*HexDecode(hex)); }

// Expected strings were computed independently with js-libp2p (@libp2p/peer-id 6.0.15).
TEST(PeerIdTest, Ed25519VectorIsAnIdentityPeerId) {
  const PeerId id = PeerId::FromPublicKey(KeyOf(test_vectors::kEd25519Public));
  EXPECT_EQ(id.ToBase58(), "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  EXPECT_EQ(id.ToCidString(), "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");
  StatusOr<PublicKey> key = id.ExtractPublicKey();
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(*key == KeyOf(test_vectors::kEd25519Public));
}

TEST(PeerIdTest, Secp256k1VectorIsAnIdentityPeerId) {
  const PeerId id = PeerId::FromPublicKey(KeyOf(test_vectors::kSecp256k1Public));
  EXPECT_EQ(id.ToBase58(), "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY");
  EXPECT_EQ(id.ToCidString(), "bafzaajiiaijcca3xo7uzjzcsyilaj6i54cj44qk7kqzpoao5rti2pjx6udtdbp6kte");
}

TEST(PeerIdTest, LongKeysAreHashed) {
  for (const char* hex : {test_vectors::kRsaPublic, test_vectors::kEcdsaPublic}) {
    const PublicKey key = KeyOf(hex);
    const PeerId id = PeerId::FromPublicKey(key);
    ASSERT_EQ(id.bytes().size(), 34u);
    EXPECT_EQ(id.bytes()[0], 0x12);
    EXPECT_EQ(id.bytes()[1], 0x20);
    const Sha256Digest digest = Sha256(key.ToProtobuf());
    EXPECT_TRUE(std::equal(digest.begin(), digest.end(), id.bytes().begin() + 2));
    EXPECT_EQ(id.ToBase58().substr(0, 2), "Qm");
    EXPECT_EQ(id.ExtractPublicKey().status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(id.Matches(key));
  }
}

TEST(PeerIdTest, SpecExamplesParseInBothForms) {
  auto qm = PeerId::FromString("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  auto cid = PeerId::FromString("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  ASSERT_TRUE(qm.ok() && cid.ok());
  EXPECT_TRUE(*qm == *cid);
  EXPECT_EQ(cid->ToBase58(), "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  EXPECT_EQ(qm->ToCidString(), "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  auto ed = PeerId::FromString("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->ToBase58(), "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  ASSERT_TRUE(ed->ExtractPublicKey().ok());
  EXPECT_TRUE(ed->Matches(*ed->ExtractPublicKey()));
}

TEST(PeerIdTest, SeedsMatchJsLibp2p) {
  // js-libp2p's generateKeyPairFromSeed('Ed25519', sha256(seed)) for seeds "a" and "b", which the node
  // program's --seed flag reproduces.
  auto a = Ed25519PrivateKey::FromSeed(Sha256(AsBytes("a")));
  auto b = Ed25519PrivateKey::FromSeed(Sha256(AsBytes("b")));
  EXPECT_EQ(PeerId::FromPublicKey(a->public_key()).ToBase58(), "12D3KooWRdFFg3yTbTsDq5Z1yCvCWbqznEFro9jeVivo7rkayJ4D");
  EXPECT_EQ(PeerId::FromPublicKey(b->public_key()).ToBase58(), "12D3KooWGSrXQQXYp31AUbZ64eJMb3hGywN4dmzpaZW3rWW22EfF");
}

TEST(PeerIdTest, InvalidInputsRefused) {
  EXPECT_FALSE(PeerId::FromString("").ok());
  EXPECT_FALSE(PeerId::FromString("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5").ok());  // Truncated.
  EXPECT_FALSE(PeerId::FromString("12D3KooW0OIl").ok());  // Not base58 characters.
  EXPECT_FALSE(PeerId::FromString("xyz").ok());
  EXPECT_FALSE(PeerId::FromString(std::string(5000, 'Q')).ok());
  // A CID with another codec (dag-pb, 0x70).
  EXPECT_FALSE(PeerId::FromString("bafybeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe").ok());
  // Multihashes that are not peer ids.
  EXPECT_FALSE(PeerId::FromBytes(Bytes{0x13, 0x20}).ok());
  Bytes sha_short = {0x12, 0x10};
  sha_short.resize(18);
  EXPECT_FALSE(PeerId::FromBytes(sha_short).ok());
  Bytes identity_long = {0x00, 43};
  identity_long.resize(45);
  EXPECT_FALSE(PeerId::FromBytes(identity_long).ok());
  // An identity id whose bytes are not a key.
  auto not_a_key = PeerId::FromBytes(Bytes{0x00, 0x02, 0xaa, 0xbb});
  ASSERT_TRUE(not_a_key.ok());
  EXPECT_EQ(not_a_key->ExtractPublicKey().status().code(), StatusCode::kInvalidArgument);
}

TEST(PeerIdTest, UsableAsHashKey) {
  std::unordered_set<PeerId> set;
  set.insert(PeerId::FromPublicKey(KeyOf(test_vectors::kEd25519Public)));
  set.insert(PeerId::FromPublicKey(KeyOf(test_vectors::kRsaPublic)));
  set.insert(PeerId::FromPublicKey(KeyOf(test_vectors::kEd25519Public)));
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace libp2p::crypto
