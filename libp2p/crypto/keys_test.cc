#include "libp2p/crypto/keys.h"

#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <secp256k1.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "libp2p/base/proto_wire.h"
#include "libp2p/crypto/test_vectors.h"

namespace libp2p::crypto {
namespace {

Bytes Hex(std::string_view h) { return *HexDecode(h); }

// The Data field of a key protobuf vector.
Bytes DataOf(std::string_view hex) {
  const Bytes msg = Hex(hex);
  proto::Reader r(msg);
  proto::Field f;
  EXPECT_TRUE(r.Next(&f).ok());
  EXPECT_TRUE(r.Next(&f).ok());
  return Bytes(f.bytes.begin(), f.bytes.end());
}

Bytes MarshalPkix(EVP_PKEY* pkey) {
  CBB cbb;
  CBB_init(&cbb, 0);
  EXPECT_EQ(EVP_marshal_public_key(&cbb, pkey), 1);
  uint8_t* data;
  size_t len;
  CBB_finish(&cbb, &data, &len);
  Bytes out(data, data + len);
  OPENSSL_free(data);
  return out;
}

// Every single-bit flip of the message, the signature and the key's bytes must fail verification.
void ExpectFlipsFail(const PublicKey& key, const Bytes& message, const Bytes& signature) {
  ASSERT_TRUE(key.Verify(message, signature));
  for (size_t i = 0; i < message.size() * 8; i += 7) {
    Bytes m = message;
    m[i / 8] ^= 1 << (i % 8);
    EXPECT_FALSE(key.Verify(m, signature)) << "message bit " << i;
  }
  for (size_t i = 0; i < signature.size() * 8; ++i) {
    Bytes s = signature;
    s[i / 8] ^= 1 << (i % 8);
    EXPECT_FALSE(key.Verify(message, s)) << "signature bit " << i;
  }
  const Bytes raw(key.raw().begin(), key.raw().end());
  for (size_t i = 0; i < raw.size() * 8; i += (raw.size() > 100 ? 61 : 3)) {
    Bytes k = raw;
    k[i / 8] ^= 1 << (i % 8);
    StatusOr<PublicKey> other = PublicKey::FromRaw(key.type(), k);
    if (other.ok()) {
      EXPECT_FALSE(other->Verify(message, signature)) << "key bit " << i;
    }
  }
  EXPECT_FALSE(key.Verify(message, Bytes()));
}

const Bytes kMessage = ToBytes("libp2p-pubsub:a message to sign");

TEST(KeysTest, Ed25519VectorsAndSignatures) {
  StatusOr<Ed25519PrivateKey> priv = Ed25519PrivateKey::FromProtobuf(Hex(test_vectors::kEd25519Private));
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  EXPECT_EQ(priv->public_key().ToProtobuf(), Hex(test_vectors::kEd25519Public));
  EXPECT_EQ(priv->ToProtobuf(), Hex(test_vectors::kEd25519Private));
  StatusOr<PublicKey> pub = PublicKey::FromProtobuf(Hex(test_vectors::kEd25519Public));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->type(), KeyType::kEd25519);
  EXPECT_TRUE(*pub == priv->public_key());
  const Bytes sig = priv->Sign(kMessage);
  ExpectFlipsFail(*pub, kMessage, Bytes(sig.begin(), sig.end()));
}

TEST(KeysTest, Ed25519Rfc8032Test1) {
  // RFC 8032 section 7.1, TEST 1: the empty message.
  auto key = Ed25519PrivateKey::FromSeed(Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(HexEncode(key->public_key_bytes()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Bytes sig = key->Sign(ByteSpan());
  EXPECT_EQ(HexEncode(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595"
            "bbe24655141438e7a100b");
}

TEST(KeysTest, Ed25519LegacyNinetySixByteForm) {
  const Bytes data = DataOf(test_vectors::kEd25519Private);
  Bytes legacy = data;
  legacy.insert(legacy.end(), data.begin() + 32, data.end());
  Bytes msg;
  proto::AppendVarintField(1, 1, &msg);
  proto::AppendBytesField(2, legacy, &msg);
  ASSERT_TRUE(Ed25519PrivateKey::FromProtobuf(msg).ok());
  legacy.back() ^= 1;
  Bytes bad;
  proto::AppendVarintField(1, 1, &bad);
  proto::AppendBytesField(2, legacy, &bad);
  EXPECT_FALSE(Ed25519PrivateKey::FromProtobuf(bad).ok());
}

TEST(KeysTest, Ed25519MismatchedPublicHalfRefused) {
  Bytes data = DataOf(test_vectors::kEd25519Private);
  data[40] ^= 1;
  Bytes msg;
  proto::AppendVarintField(1, 1, &msg);
  proto::AppendBytesField(2, data, &msg);
  EXPECT_FALSE(Ed25519PrivateKey::FromProtobuf(msg).ok());
}

TEST(KeysTest, EcdsaVectorsAndSignatures) {
  // The private key is SEC1 DER; derive its public key and compare with the vector.
  const Bytes priv_der = DataOf(test_vectors::kEcdsaPrivate);
  CBS cbs;
  CBS_init(&cbs, priv_der.data(), priv_der.size());
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_parse_private_key(&cbs, nullptr));
  ASSERT_NE(ec, nullptr);
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  EVP_PKEY_set1_EC_KEY(pkey.get(), ec.get());
  EXPECT_EQ(MarshalPkix(pkey.get()), DataOf(test_vectors::kEcdsaPublic));

  StatusOr<PublicKey> pub = PublicKey::FromProtobuf(Hex(test_vectors::kEcdsaPublic));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type(), KeyType::kEcdsa);
  EXPECT_EQ(pub->ToProtobuf(), Hex(test_vectors::kEcdsaPublic));
  uint8_t digest[32];
  SHA256(kMessage.data(), kMessage.size(), digest);
  Bytes sig(ECDSA_size(ec.get()));
  unsigned int sig_len = 0;
  ASSERT_EQ(ECDSA_sign(0, digest, 32, sig.data(), &sig_len, ec.get()), 1);
  sig.resize(sig_len);
  ExpectFlipsFail(*pub, kMessage, sig);
}

TEST(KeysTest, Secp256k1VectorsAndSignatures) {
  const Bytes secret = DataOf(test_vectors::kSecp256k1Private);
  ASSERT_EQ(secret.size(), 32u);
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_pubkey pk;
  ASSERT_EQ(secp256k1_ec_pubkey_create(ctx, &pk, secret.data()), 1);
  uint8_t compressed[33];
  size_t len = sizeof(compressed);
  secp256k1_ec_pubkey_serialize(ctx, compressed, &len, &pk, SECP256K1_EC_COMPRESSED);
  EXPECT_EQ(Bytes(compressed, compressed + 33), DataOf(test_vectors::kSecp256k1Public));

  StatusOr<PublicKey> pub = PublicKey::FromProtobuf(Hex(test_vectors::kSecp256k1Public));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type(), KeyType::kSecp256k1);
  uint8_t digest[32];
  SHA256(kMessage.data(), kMessage.size(), digest);
  secp256k1_ecdsa_signature sig;
  ASSERT_EQ(secp256k1_ecdsa_sign(ctx, &sig, digest, secret.data(), nullptr, nullptr), 1);
  uint8_t der[72];
  size_t der_len = sizeof(der);
  secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_len, &sig);
  secp256k1_context_destroy(ctx);
  ExpectFlipsFail(*pub, kMessage, Bytes(der, der + der_len));
}

TEST(KeysTest, RsaVectorsAndSignatures) {
  const Bytes priv_der = DataOf(test_vectors::kRsaPrivate);
  bssl::UniquePtr<RSA> rsa(RSA_private_key_from_bytes(priv_der.data(), priv_der.size()));
  ASSERT_NE(rsa, nullptr);
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  EVP_PKEY_set1_RSA(pkey.get(), rsa.get());
  EXPECT_EQ(MarshalPkix(pkey.get()), DataOf(test_vectors::kRsaPublic));

  StatusOr<PublicKey> pub = PublicKey::FromProtobuf(Hex(test_vectors::kRsaPublic));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type(), KeyType::kRsa);
  uint8_t digest[32];
  SHA256(kMessage.data(), kMessage.size(), digest);
  Bytes sig(RSA_size(rsa.get()));
  unsigned int sig_len = 0;
  ASSERT_EQ(RSA_sign(NID_sha256, digest, 32, sig.data(), &sig_len, rsa.get()), 1);
  sig.resize(sig_len);
  ExpectFlipsFail(*pub, kMessage, sig);
}

TEST(KeysTest, SmallRsaKeyRefused) {
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  BN_set_word(e.get(), RSA_F4);
  ASSERT_EQ(RSA_generate_key_ex(rsa.get(), 1024, e.get(), nullptr), 1);
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  EVP_PKEY_set1_RSA(pkey.get(), rsa.get());
  StatusOr<PublicKey> pub = PublicKey::FromRaw(KeyType::kRsa, MarshalPkix(pkey.get()));
  EXPECT_EQ(pub.status().code(), StatusCode::kInvalidArgument);
}

TEST(KeysTest, MalformedProtobufsRefused) {
  const Bytes good = Hex(test_vectors::kEd25519Public);
  // Truncated at every offset.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(PublicKey::FromProtobuf(ByteSpan(good).first(n)).ok()) << n;
  }
  // Unknown type.
  Bytes unknown = good;
  unknown[1] = 4;
  EXPECT_FALSE(PublicKey::FromProtobuf(unknown).ok());
  // Data before Type.
  Bytes swapped;
  proto::AppendBytesField(2, DataOf(test_vectors::kEd25519Public), &swapped);
  proto::AppendVarintField(1, 1, &swapped);
  EXPECT_FALSE(PublicKey::FromProtobuf(swapped).ok());
  // An extra field.
  Bytes extra = good;
  proto::AppendVarintField(3, 0, &extra);
  EXPECT_FALSE(PublicKey::FromProtobuf(extra).ok());
  // Wrong lengths and types.
  EXPECT_FALSE(PublicKey::FromRaw(KeyType::kEd25519, Bytes(31)).ok());
  Bytes beyond_field(33, 0xff);  // x >= p: not a curve point.
  beyond_field[0] = 0x02;
  EXPECT_FALSE(PublicKey::FromRaw(KeyType::kSecp256k1, beyond_field).ok());
  EXPECT_FALSE(PublicKey::FromRaw(KeyType::kEcdsa, DataOf(test_vectors::kRsaPublic)).ok());
  EXPECT_FALSE(PublicKey::FromRaw(KeyType::kRsa, DataOf(test_vectors::kEcdsaPublic)).ok());
  EXPECT_FALSE(PublicKey::FromRaw(KeyType::kEcdsa, Bytes(10, 0x30)).ok());
  // Oversized.
  Bytes huge;
  proto::AppendVarintField(1, 0, &huge);
  proto::AppendBytesField(2, Bytes(5000, 0x30), &huge);
  EXPECT_EQ(PublicKey::FromProtobuf(huge).status().code(), StatusCode::kOutOfRange);
  // Private key of another type.
  EXPECT_FALSE(Ed25519PrivateKey::FromProtobuf(Hex(test_vectors::kSecp256k1Private)).ok());
}

TEST(KeysTest, GeneratedKeysDifferAndSign) {
  const Ed25519PrivateKey a = Ed25519PrivateKey::Generate();
  const Ed25519PrivateKey b = Ed25519PrivateKey::Generate();
  EXPECT_FALSE(a.public_key() == b.public_key());
  const Bytes sig = a.Sign(kMessage);
  EXPECT_TRUE(a.public_key().Verify(kMessage, sig));
  EXPECT_FALSE(b.public_key().Verify(kMessage, sig));
  auto copy = Ed25519PrivateKey::FromProtobuf(a.ToProtobuf());
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(copy->public_key() == a.public_key());
}

// Under a ScopedVerificationMemo a valid signature is checked once and then answered from memory; an invalid
// one, or the same signature over another message or under another key, is never taken for it.
TEST(KeysTest, AVerificationMemoRemembersOnlyValidSignatures) {
  const Ed25519PrivateKey a = Ed25519PrivateKey::Generate();
  const Ed25519PrivateKey b = Ed25519PrivateKey::Generate();
  const Bytes sig = a.Sign(kMessage);
  Bytes forged = sig;
  forged[0] ^= 1;
  const std::string other = "another message";
  ScopedVerificationMemo memo(/*capacity=*/2);
  EXPECT_TRUE(a.public_key().Verify(kMessage, sig));
  EXPECT_EQ(memo.hits(), 0u);
  EXPECT_TRUE(a.public_key().Verify(kMessage, sig));
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.size(), 1u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(a.public_key().Verify(kMessage, forged));
    EXPECT_FALSE(b.public_key().Verify(kMessage, sig));
    EXPECT_FALSE(a.public_key().Verify(AsBytes(other), sig));
  }
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.size(), 1u);
  // Full: a new valid signature makes it forget the old ones.
  EXPECT_TRUE(b.public_key().Verify(kMessage, b.Sign(kMessage)));
  EXPECT_TRUE(a.public_key().Verify(AsBytes(other), a.Sign(AsBytes(other))));
  EXPECT_EQ(memo.size(), 1u);
  {
    // An inner scope is used while it lives; the outer one is back after it.
    ScopedVerificationMemo inner;
    EXPECT_TRUE(a.public_key().Verify(kMessage, sig));
    EXPECT_EQ(inner.size(), 1u);
  }
  EXPECT_TRUE(a.public_key().Verify(kMessage, sig));
  EXPECT_EQ(memo.size(), 2u);
  // Another thread has no memo: its checks are its own.
  std::thread([&] { EXPECT_TRUE(b.public_key().Verify(AsBytes(other), b.Sign(AsBytes(other)))); }).join();
  EXPECT_EQ(memo.size(), 2u);
  EXPECT_EQ(memo.hits(), 1u);
}

// The spec's private key vectors of every type: each parses, derives the vector's public key, writes itself
// back as it was read, and signs what its public key verifies (and nothing else).
TEST(KeysTest, PrivateKeysOfEveryTypeFromTheSpecVectors) {
  const struct {
    const char* private_hex;
    const char* public_hex;
    KeyType type;
  } vectors[] = {
      {test_vectors::kEd25519Private, test_vectors::kEd25519Public, KeyType::kEd25519},
      {test_vectors::kSecp256k1Private, test_vectors::kSecp256k1Public, KeyType::kSecp256k1},
      {test_vectors::kEcdsaPrivate, test_vectors::kEcdsaPublic, KeyType::kEcdsa},
      {test_vectors::kRsaPrivate, test_vectors::kRsaPublic, KeyType::kRsa},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(std::string(KeyTypeName(v.type)));
    StatusOr<std::unique_ptr<PrivateKey>> key = PrivateKey::FromProtobuf(Hex(v.private_hex));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ((*key)->type(), v.type);
    EXPECT_EQ((*key)->public_key().ToProtobuf(), Hex(v.public_hex));
    EXPECT_EQ((*key)->ToProtobuf(), Hex(v.private_hex));
    ExpectFlipsFail((*key)->public_key(), kMessage, (*key)->Sign(kMessage));
  }
}

TEST(KeysTest, GeneratedKeysOfEveryTypeSignAndRoundTrip) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kSecp256k1, KeyType::kEcdsa, KeyType::kRsa}) {
    SCOPED_TRACE(std::string(KeyTypeName(type)));
    StatusOr<std::unique_ptr<PrivateKey>> a = PrivateKey::Generate(type);
    StatusOr<std::unique_ptr<PrivateKey>> b = PrivateKey::Generate(type);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ((*a)->type(), type);
    EXPECT_FALSE((*a)->public_key() == (*b)->public_key());
    const Bytes sig = (*a)->Sign(kMessage);
    EXPECT_TRUE((*a)->public_key().Verify(kMessage, sig));
    EXPECT_FALSE((*b)->public_key().Verify(kMessage, sig));
    StatusOr<std::unique_ptr<PrivateKey>> copy = PrivateKey::FromProtobuf((*a)->ToProtobuf());
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_TRUE((*copy)->public_key() == (*a)->public_key());
    EXPECT_TRUE((*a)->public_key().Verify(kMessage, (*copy)->Sign(kMessage)));
  }
}

TEST(KeysTest, BadPrivateKeysRefused) {
  auto encode = [](uint64_t type, const Bytes& data) {
    Bytes out;
    proto::AppendVarintField(1, type, &out);
    proto::AppendBytesField(2, data, &out);
    return out;
  };
  auto code = [](const Bytes& encoded) { return PrivateKey::FromProtobuf(encoded).status().code(); };
  const Bytes secp = Hex(test_vectors::kSecp256k1Private);
  for (size_t n = 0; n < secp.size(); ++n) EXPECT_FALSE(PrivateKey::FromProtobuf(ByteSpan(secp).first(n)).ok()) << n;
  EXPECT_EQ(code(encode(4, Bytes(32, 1))), StatusCode::kInvalidArgument);           // Unknown type.
  EXPECT_EQ(code(encode(2, Bytes(32, 0))), StatusCode::kInvalidArgument);           // Zero is no secret.
  EXPECT_EQ(code(encode(2, Bytes(32, 0xff))), StatusCode::kInvalidArgument);        // Not below the order.
  EXPECT_EQ(code(encode(2, Bytes(31, 1))), StatusCode::kInvalidArgument);           // Short.
  EXPECT_EQ(code(encode(0, DataOf(test_vectors::kEcdsaPrivate))), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(encode(3, DataOf(test_vectors::kRsaPrivate))), StatusCode::kInvalidArgument);
  Bytes trailing = DataOf(test_vectors::kRsaPrivate);
  trailing.push_back(0);
  EXPECT_EQ(code(encode(0, trailing)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(encode(0, Bytes(9000, 0x30))), StatusCode::kOutOfRange);
  // RSA below 2048 bits.
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  BN_set_word(e.get(), RSA_F4);
  ASSERT_EQ(RSA_generate_key_ex(rsa.get(), 1024, e.get(), nullptr), 1);
  uint8_t* der = nullptr;
  size_t der_len = 0;
  ASSERT_EQ(RSA_private_key_to_bytes(&der, &der_len, rsa.get()), 1);
  EXPECT_EQ(code(encode(0, Bytes(der, der + der_len))), StatusCode::kInvalidArgument);
  OPENSSL_free(der);
  // ECDSA on a curve other than P-256, P-384 and P-521.
  bssl::UniquePtr<EC_KEY> p224(EC_KEY_new_by_curve_name(NID_secp224r1));
  ASSERT_EQ(EC_KEY_generate_key(p224.get()), 1);
  CBB cbb;
  CBB_init(&cbb, 0);
  ASSERT_EQ(EC_KEY_marshal_private_key(&cbb, p224.get(), 0), 1);
  CBB_finish(&cbb, &der, &der_len);
  EXPECT_EQ(code(encode(3, Bytes(der, der + der_len))), StatusCode::kInvalidArgument);
  OPENSSL_free(der);
}

}  // namespace
}  // namespace libp2p::crypto
