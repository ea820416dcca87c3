// Keys drawn under a ScopedDeterministicRandom: the same seed gives the same keys, another seed others, and
// the keys are as good as BoringSSL's own.
#include <openssl/curve25519.h>

#include <array>
#include <memory>

#include "gtest/gtest.h"
#include "libp2p/base/bytes.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/x25519.h"

namespace libp2p::crypto {
namespace {

// The private key protobufs of two keys of `type`, each drawn after the other under `seed`.
std::array<Bytes, 2> KeysUnder(uint64_t seed, KeyType type) {
  ScopedDeterministicRandom scope(seed);
  std::array<Bytes, 2> out;
  for (Bytes& key : out) {
    StatusOr<std::unique_ptr<PrivateKey>> made = PrivateKey::Generate(type);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (made.ok()) key = (*made)->ToProtobuf();
  }
  return out;
}

std::array<X25519PublicKey, 2> X25519Under(uint64_t seed) {
  ScopedDeterministicRandom scope(seed);
  const X25519KeyPair a = X25519KeyPair::Generate();
  const X25519KeyPair b = X25519KeyPair::Generate();
  return {a.public_key(), b.public_key()};
}

class DeterministicKeysTest : public testing::TestWithParam<KeyType> {};

TEST_P(DeterministicKeysTest, SameSeedSameKeysOtherSeedOtherKeys) {
  const std::array<Bytes, 2> first = KeysUnder(1, GetParam());
  const std::array<Bytes, 2> again = KeysUnder(1, GetParam());
  const std::array<Bytes, 2> other = KeysUnder(2, GetParam());
  EXPECT_EQ(first, again);
  EXPECT_NE(first[0], first[1]);
  EXPECT_NE(first[0], other[0]);
  EXPECT_NE(first[1], other[1]);
}

TEST_P(DeterministicKeysTest, SeededKeysSignAndVerify) {
  ScopedDeterministicRandom scope(3);
  StatusOr<std::unique_ptr<PrivateKey>> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  // A round trip through the protobuf checks the key's consistency (the parsers check the public part).
  StatusOr<std::unique_ptr<PrivateKey>> parsed = PrivateKey::FromProtobuf((*key)->ToProtobuf());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)->public_key(), (*key)->public_key());
  const Bytes message = ToBytes("message");
  EXPECT_TRUE((*key)->public_key().Verify(message, (*key)->Sign(message)));
}

INSTANTIATE_TEST_SUITE_P(Types, DeterministicKeysTest,
                         testing::Values(KeyType::kEd25519, KeyType::kSecp256k1, KeyType::kEcdsa));

TEST(DeterministicKeysTest, RsaKeysStayFresh) {
  // BoringSSL generates RSA keys from its own generator: a seed does not fix them (keys.h says so).
  auto under = [](uint64_t seed) {
    ScopedDeterministicRandom scope(seed);
    StatusOr<std::unique_ptr<PrivateKey>> key = PrivateKey::Generate(KeyType::kRsa);
    EXPECT_TRUE(key.ok());
    return key.ok() ? (*key)->ToProtobuf() : Bytes();
  };
  EXPECT_NE(under(4), under(4));
}

TEST(DeterministicKeysTest, Ed25519GenerateFollowsTheSeed) {
  auto under = [](uint64_t seed) {
    ScopedDeterministicRandom scope(seed);
    return Ed25519PrivateKey::Generate().ToProtobuf();
  };
  EXPECT_EQ(under(5), under(5));
  EXPECT_NE(under(5), under(6));
}

TEST(DeterministicX25519Test, SameSeedSameKeyPairsOtherSeedOtherPairs) {
  const std::array<X25519PublicKey, 2> first = X25519Under(1);
  const std::array<X25519PublicKey, 2> again = X25519Under(1);
  const std::array<X25519PublicKey, 2> other = X25519Under(2);
  EXPECT_EQ(first, again);
  EXPECT_NE(first[0], first[1]);
  EXPECT_NE(first[0], other[0]);
  EXPECT_NE(first[1], other[1]);
}

TEST(DeterministicX25519Test, AgreesWithBoringSslBothWays) {
  for (uint64_t seed : {0, 1, 7}) {
    ScopedDeterministicRandom scope(seed);
    const X25519KeyPair ours = X25519KeyPair::Generate();
    uint8_t their_public[32], their_private[32];
    X25519_keypair(their_public, their_private);
    StatusOr<X25519SharedSecret> ours_with_theirs = ours.Agree(ByteSpan(their_public, 32));
    ASSERT_TRUE(ours_with_theirs.ok());
    X25519SharedSecret theirs_with_ours;
    ASSERT_EQ(X25519(theirs_with_ours.data(), their_private, ours.public_key().data()), 1);
    EXPECT_EQ(*ours_with_theirs, theirs_with_ours);
    EXPECT_NE(*ours_with_theirs, X25519SharedSecret{});
  }
}

TEST(DeterministicX25519Test, GenerateMatchesFromPrivateKeyOfTheSameDraw) {
  std::array<uint8_t, 32> drawn;
  {
    ScopedDeterministicRandom scope(9);
    RandomBytes(MutableByteSpan(drawn));
  }
  ScopedDeterministicRandom scope(9);
  const X25519KeyPair generated = X25519KeyPair::Generate();
  // Clamping changes no bit that X25519 reads differently, so the unclamped draw gives the same public key.
  EXPECT_EQ(generated.public_key(), X25519KeyPair::FromPrivateKey(drawn).public_key());
}

}  // namespace
}  // namespace libp2p::crypto
