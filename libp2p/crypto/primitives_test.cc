// Known-answer tests of the BoringSSL wrappers: SHA-256, HMAC, HKDF, X25519 and ChaCha20-Poly1305.
#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/chacha20_poly1305.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/x25519.h"

namespace libp2p::crypto {
namespace {

Bytes Hex(std::string_view h) { return *HexDecode(h); }

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256(ByteSpan())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256Hasher h;
  h.Update(AsBytes("a"));
  h.Update(AsBytes("bc"));
  EXPECT_EQ(h.Finish(), Sha256(AsBytes("abc")));
}

TEST(HmacTest, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacTest, Rfc4231Case6KeyLongerThanABlock) {
  const Bytes key(131, 0xaa);
  EXPECT_EQ(HexEncode(HmacSha256(key, AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacTest, EmptyKeyAndMessage) {
  EXPECT_EQ(HexEncode(HmacSha256(ByteSpan(), ByteSpan())),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HkdfTest, Rfc5869Case3EmptySaltAndInfo) {
  const Bytes ikm(22, 0x0b);
  Bytes okm(42);
  ASSERT_TRUE(HkdfSha256(ikm, ByteSpan(), ByteSpan(), okm).ok());
  EXPECT_EQ(HexEncode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfTest, OutputOfEveryLengthIsAPrefixOfTheLongest) {
  const Bytes ikm(32, 0x42), salt(32, 0x07);
  const ByteSpan info = AsBytes("noise");
  Bytes longest(255 * 32);
  ASSERT_TRUE(HkdfSha256(ikm, salt, info, longest).ok());
  for (size_t n : {0, 1, 31, 32, 33, 64, 65, 1000, 255 * 32}) {
    Bytes out(n);
    ASSERT_TRUE(HkdfSha256(ikm, salt, info, out).ok());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), longest.begin())) << n;
  }
}

TEST(HkdfTest, Rfc5869Case1) {
  const Bytes ikm = Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const Bytes salt = Hex("000102030405060708090a0b0c");
  const Bytes info = Hex("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm(42);
  ASSERT_TRUE(HkdfSha256(ikm, salt, info, okm).ok());
  EXPECT_EQ(HexEncode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  Bytes too_long(255 * 32 + 1);
  EXPECT_FALSE(HkdfSha256(ikm, salt, info, too_long).ok());
}

TEST(X25519Test, Rfc7748Section61) {
  std::array<uint8_t, 32> alice_priv, bob_priv;
  const Bytes a = Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const Bytes b = Hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  std::copy(a.begin(), a.end(), alice_priv.begin());
  std::copy(b.begin(), b.end(), bob_priv.begin());
  const X25519KeyPair alice = X25519KeyPair::FromPrivateKey(alice_priv);
  const X25519KeyPair bob = X25519KeyPair::FromPrivateKey(bob_priv);
  EXPECT_EQ(HexEncode(alice.public_key()), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(HexEncode(bob.public_key()), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto s1 = alice.Agree(bob.public_key());
  const auto s2 = bob.Agree(alice.public_key());
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(HexEncode(*s1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*s1, *s2);
}

TEST(X25519Test, LowOrderAndBadSizeRefused) {
  const X25519KeyPair k = X25519KeyPair::Generate();
  EXPECT_EQ(k.Agree(Bytes(32, 0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(k.Agree(Bytes(31, 9)).ok());
}

TEST(ChaCha20Poly1305Test, Rfc8439Section282) {
  const Bytes key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const Bytes nonce_bytes = Hex("070000004041424344454647");
  std::array<uint8_t, 12> nonce;
  std::copy(nonce_bytes.begin(), nonce_bytes.end(), nonce.begin());
  const Bytes ad = Hex("50515253c0c1c2c3c4c5c6c7");
  const std::string plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
      "would be it.";
  auto aead = ChaCha20Poly1305::Create(key);
  ASSERT_TRUE(aead.ok());
  Bytes sealed(plaintext.size() + 16);
  ASSERT_EQ(*aead->Seal(nonce, AsBytes(plaintext), ad, sealed), sealed.size());
  EXPECT_EQ(HexEncode(ByteSpan(sealed).last(16)), "1ae10b594f09e26a7e902ecbd0600691");
  EXPECT_EQ(HexEncode(ByteSpan(sealed).first(16)), "d31a8d34648e60db7b86afbc53ef7ec2");

  Bytes opened(plaintext.size());
  ASSERT_EQ(*aead->Open(nonce, sealed, ad, opened), plaintext.size());
  EXPECT_EQ(ToString(opened), plaintext);

  // In place, then a flipped bit anywhere fails authentication.
  Bytes buf = sealed;
  ASSERT_TRUE(aead->Open(nonce, buf, ad, buf).ok());
  for (size_t i = 0; i < sealed.size(); i += 5) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_EQ(aead->Open(nonce, tampered, ad, opened).status().code(), StatusCode::kUnauthenticated) << i;
  }
  std::array<uint8_t, 12> other_nonce = nonce;
  other_nonce[11] ^= 1;
  EXPECT_FALSE(aead->Open(other_nonce, sealed, ad, opened).ok());
  EXPECT_FALSE(aead->Open(nonce, ByteSpan(sealed).first(15), ad, opened).ok());
}

TEST(ChaCha20Poly1305Test, BadKeyAndSmallBuffers) {
  EXPECT_FALSE(ChaCha20Poly1305::Create(Bytes(31)).ok());
  auto aead = ChaCha20Poly1305::Create(Bytes(32, 1));
  ASSERT_TRUE(aead.ok());
  std::array<uint8_t, 12> nonce{};
  Bytes out(10);
  EXPECT_FALSE(aead->Seal(nonce, Bytes(10), ByteSpan(), out).ok());
  ChaCha20Poly1305 moved = std::move(aead).value();
  Bytes sealed(26);
  EXPECT_TRUE(moved.Seal(nonce, Bytes(10), ByteSpan(), sealed).ok());
}

}  // namespace
}  // namespace libp2p::crypto
