#include "libp2p/crypto/keys.h"

#include <openssl/base.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/curve25519.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <secp256k1.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>
#include <utility>

#include "libp2p/base/proto_wire.h"
#include "libp2p/base/random.h"

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p::crypto {
namespace {

// libsecp256k1's static context suffices for parsing and verification, and needs no allocation.
const secp256k1_context* Secp256k1Context() { return secp256k1_context_static; }

// Signing and deriving public keys need a context of their own: one for the process, made at first use and
// randomized against side channels; libsecp256k1 allows concurrent use of a context through const calls.
// The randomization blinds the computation only (signatures are RFC 6979, keys and signatures do not depend
// on it), so it comes from RAND_bytes even under a ScopedDeterministicRandom.
const secp256k1_context* Secp256k1SigningContext() {
  static const secp256k1_context* const context = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    RAND_bytes(seed, sizeof(seed));
    (void)secp256k1_context_randomize(c, seed);
    OPENSSL_cleanse(seed, sizeof(seed));
    return c;
  }();
  return context;
}

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

void Sha256(ByteSpan message, uint8_t digest[SHA256_DIGEST_LENGTH]) {
  SHA256(message.data(), message.size(), digest);
}

// The PKIX SubjectPublicKeyInfo DER of `pkey` (the public key Data of RSA and ECDSA keys).
StatusOr<Bytes> MarshalPublicKey(const EVP_PKEY* pkey) {
  CBB cbb;
  uint8_t* der = nullptr;
  size_t len = 0;
  if (!CBB_init(&cbb, 256) || !EVP_marshal_public_key(&cbb, pkey) || !CBB_finish(&cbb, &der, &len)) {
    CBB_cleanup(&cbb);
    return InternalError("cannot encode a public key");
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// Turns what a BoringSSL marshal function wrote into `cbb` into bytes, wiping BoringSSL's copy (a secret).
StatusOr<Bytes> FinishSecret(CBB* cbb, bool marshalled) {
  uint8_t* der = nullptr;
  size_t len = 0;
  if (!marshalled || !CBB_finish(cbb, &der, &len)) {
    CBB_cleanup(cbb);
    return InternalError("cannot encode a private key");
  }
  Bytes out(der, der + len);
  OPENSSL_cleanse(der, len);
  OPENSSL_free(der);
  return out;
}

Bytes PrivateKeyProtobuf(KeyType type, ByteSpan data) {
  Bytes out;
  out.reserve(data.size() + 8);
  proto::AppendVarintField(1, static_cast<uint64_t>(type), &out);
  proto::AppendBytesField(2, data, &out);
  return out;
}

// A secp256k1 identity: the 32-byte secret scalar; the public key is the compressed point.
class Secp256k1PrivateKey final : public PrivateKey {
 public:
  static StatusOr<std::unique_ptr<PrivateKey>> FromSecret(ByteSpan secret) {
    if (secret.size() != 32) {
      return InvalidArgumentError("secp256k1 private key must be 32 bytes, got " + std::to_string(secret.size()));
    }
    const secp256k1_context* ctx = Secp256k1SigningContext();
    secp256k1_pubkey point;
    if (secp256k1_ec_seckey_verify(ctx, secret.data()) != 1 || secp256k1_ec_pubkey_create(ctx, &point, secret.data()) != 1) {
      return InvalidArgumentError("secp256k1 private key is not a valid secret (zero or not below the order)");
    }
    uint8_t compressed[33];
    size_t len = sizeof(compressed);
    secp256k1_ec_pubkey_serialize(ctx, compressed, &len, &point, SECP256K1_EC_COMPRESSED);
    ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromRaw(KeyType::kSecp256k1, ByteSpan(compressed, len)));
    return std::unique_ptr<PrivateKey>(new Secp256k1PrivateKey(secret, std::move(public_key)));
  }
  ~Secp256k1PrivateKey() override { OPENSSL_cleanse(secret_.data(), secret_.size()); }

  const PublicKey& public_key() const override { return public_key_; }
  Bytes Sign(ByteSpan message) const override {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    Sha256(message, digest);
    secp256k1_ecdsa_signature sig;
    // RFC 6979 nonces; the signature comes out in the low-S form that verifiers (and BIP 62) want.
    (void)secp256k1_ecdsa_sign(Secp256k1SigningContext(), &sig, digest, secret_.data(), nullptr, nullptr);
    Bytes der(72);
    size_t len = der.size();
    secp256k1_ecdsa_signature_serialize_der(Secp256k1Context(), der.data(), &len, &sig);
    der.resize(len);
    return der;
  }
  Bytes ToProtobuf() const override { return PrivateKeyProtobuf(KeyType::kSecp256k1, ByteSpan(secret_)); }

 private:
  Secp256k1PrivateKey(ByteSpan secret, PublicKey public_key) : public_key_(std::move(public_key)) {
    std::memcpy(secret_.data(), secret.data(), secret_.size());
  }
  std::array<uint8_t, 32> secret_;
  PublicKey public_key_;
};

// An RSA or ECDSA identity, held by BoringSSL (which wipes it when freed).
class EvpPrivateKey final : public PrivateKey {
 public:
  // Takes `pkey` (an RSA or EC key with its private half), after the checks of its type.
  static StatusOr<std::unique_ptr<PrivateKey>> Adopt(KeyType type, EVP_PKEY* pkey) {
    std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> owned(pkey);
    ASSIGN_OR_RETURN(Bytes der, MarshalPublicKey(owned.get()));
    ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromRaw(type, der));
    return std::unique_ptr<PrivateKey>(new EvpPrivateKey(std::move(owned), std::move(public_key)));
  }

  const PublicKey& public_key() const override { return public_key_; }
  Bytes Sign(ByteSpan message) const override {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    Sha256(message, digest);
    if (type() == KeyType::kRsa) {
      const RSA* rsa = EVP_PKEY_get0_RSA(pkey_.get());
      Bytes sig(RSA_size(rsa));
      unsigned len = 0;
      (void)RSA_sign(NID_sha256, digest, sizeof(digest), sig.data(), &len, const_cast<RSA*>(rsa));
      sig.resize(len);
      return sig;
    }
    const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(pkey_.get());
    Bytes sig(ECDSA_size(ec));
    unsigned len = 0;
    (void)ECDSA_sign(0, digest, sizeof(digest), sig.data(), &len, const_cast<EC_KEY*>(ec));
    sig.resize(len);
    return sig;
  }
  // Empty only when BoringSSL cannot allocate.
  Bytes ToProtobuf() const override {
    CBB cbb;
    if (!CBB_init(&cbb, 2048)) return {};
    StatusOr<Bytes> der =
        type() == KeyType::kRsa
            ? FinishSecret(&cbb, RSA_marshal_private_key(&cbb, EVP_PKEY_get0_RSA(pkey_.get())) == 1)
            : FinishSecret(&cbb, EC_KEY_marshal_private_key(&cbb, EVP_PKEY_get0_EC_KEY(pkey_.get()), 0) == 1);
    if (!der.ok()) return {};
    Bytes out = PrivateKeyProtobuf(type(), *der);
    OPENSSL_cleanse(der->data(), der->size());
    return out;
  }

 private:
  EvpPrivateKey(std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> pkey, PublicKey public_key)
      : pkey_(std::move(pkey)), public_key_(std::move(public_key)) {}
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> pkey_;
  PublicKey public_key_;
};

StatusOr<std::unique_ptr<PrivateKey>> AdoptRsa(RSA* rsa) {
  const unsigned bits = RSA_bits(rsa);
  if (bits < kMinRsaBits || bits > kMaxRsaBits || RSA_check_key(rsa) != 1) {
    RSA_free(rsa);
    return InvalidArgumentError("RSA private key of " + std::to_string(bits) +
                                " bits: not a consistent key of 2048 to 8192 bits");
  }
  EVP_PKEY* pkey = EVP_PKEY_new();
  if (pkey == nullptr || !EVP_PKEY_assign_RSA(pkey, rsa)) {
    EVP_PKEY_free(pkey);
    RSA_free(rsa);
    return InternalError("cannot hold an RSA key");
  }
  return EvpPrivateKey::Adopt(KeyType::kRsa, pkey);
}

StatusOr<std::unique_ptr<PrivateKey>> AdoptEc(EC_KEY* ec) {
  const int curve = EC_GROUP_get_curve_name(EC_KEY_get0_group(ec));
  if ((curve != NID_X9_62_prime256v1 && curve != NID_secp384r1 && curve != NID_secp521r1) ||
      EC_KEY_check_key(ec) != 1) {
    EC_KEY_free(ec);
    return InvalidArgumentError("ECDSA private key: not a consistent key on P-256, P-384 or P-521");
  }
  EVP_PKEY* pkey = EVP_PKEY_new();
  if (pkey == nullptr || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
    EVP_PKEY_free(pkey);
    EC_KEY_free(ec);
    return InternalError("cannot hold an ECDSA key");
  }
  return EvpPrivateKey::Adopt(KeyType::kEcdsa, pkey);
}

// A P-256 key (owned by the caller; null on failure) whose secret scalar is 32 bytes of RandomBytes, drawn
// again while it is not in [1, n) (each draw is out of range with probability below 2^-32), rather than
// EC_KEY_generate_key, which draws from BoringSSL's generator directly.
EC_KEY* GenerateP256() {
  EC_KEY* ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (ec == nullptr) return nullptr;
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  BIGNUM* scalar = BN_new();
  EC_POINT* point = EC_POINT_new(group);
  bool in_range = false;
  for (int attempt = 0; scalar != nullptr && !in_range && attempt < 8; ++attempt) {
    uint8_t secret[32];
    RandomBytes(MutableByteSpan(secret));
    in_range = BN_bin2bn(secret, sizeof(secret), scalar) != nullptr && !BN_is_zero(scalar) &&
               BN_cmp(scalar, EC_GROUP_get0_order(group)) < 0;
    OPENSSL_cleanse(secret, sizeof(secret));
  }
  const bool made = in_range && point != nullptr && EC_KEY_set_private_key(ec, scalar) &&
                    EC_POINT_mul(group, point, scalar, nullptr, nullptr, nullptr) &&
                    EC_KEY_set_public_key(ec, point);
  BN_clear_free(scalar);
  EC_POINT_free(point);
  if (!made) {
    EC_KEY_free(ec);
    return nullptr;
  }
  return ec;
}

}  // namespace

// The parsed form of a public key: its bytes and whatever the verifier of its type needs.
struct PublicKey::Parsed {
  Bytes raw;
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> pkey;  // RSA and ECDSA.
  secp256k1_pubkey secp{};                         // Secp256k1.
};

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kRsa: return "RSA";
    case KeyType::kEd25519: return "Ed25519";
    case KeyType::kSecp256k1: return "Secp256k1";
    case KeyType::kEcdsa: return "ECDSA";
  }
  return "unknown";
}

StatusOr<PublicKey> PublicKey::FromRaw(KeyType type, ByteSpan data) {
  auto parsed = std::make_shared<Parsed>();
  switch (type) {
    case KeyType::kEd25519:
      if (data.size() != 32) {
        return InvalidArgumentError("Ed25519 public key must be 32 bytes, got " + std::to_string(data.size()));
      }
      break;
    case KeyType::kSecp256k1:
      if (data.size() != 33 && data.size() != 65) {
        return InvalidArgumentError("secp256k1 public key must be 33 or 65 bytes, got " +
                                    std::to_string(data.size()));
      }
      if (secp256k1_ec_pubkey_parse(Secp256k1Context(), &parsed->secp, data.data(), data.size()) != 1) {
        return InvalidArgumentError("secp256k1 public key is not a valid curve point");
      }
      break;
    case KeyType::kRsa:
    case KeyType::kEcdsa: {
      CBS cbs;
      CBS_init(&cbs, data.data(), data.size());
      parsed->pkey.reset(EVP_parse_public_key(&cbs));
      if (parsed->pkey == nullptr || CBS_len(&cbs) != 0) {
        return InvalidArgumentError(std::string(KeyTypeName(type)) + " public key is not valid PKIX DER");
      }
      const int id = EVP_PKEY_id(parsed->pkey.get());
      if (type == KeyType::kRsa) {
        if (id != EVP_PKEY_RSA) return InvalidArgumentError("RSA key type carries a non-RSA key");
        const unsigned bits = EVP_PKEY_bits(parsed->pkey.get());
        if (bits < kMinRsaBits || bits > kMaxRsaBits) {
          return InvalidArgumentError("RSA key of " + std::to_string(bits) + " bits is outside 2048..8192");
        }
      } else if (id != EVP_PKEY_EC) {
        return InvalidArgumentError("ECDSA key type carries a non-EC key");
      }
      break;
    }
    default:
      return InvalidArgumentError("unknown key type " + std::to_string(static_cast<int>(type)));
  }
  parsed->raw.assign(data.begin(), data.end());
  return PublicKey(type, std::move(parsed));
}

StatusOr<PublicKey> PublicKey::FromProtobuf(ByteSpan encoded) {
  if (encoded.size() > kMaxPublicKeyProtobufSize) {
    return OutOfRangeError("public key protobuf of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(kMaxPublicKeyProtobufSize));
  }
  proto::Reader reader(encoded);
  proto::Field type_field, data_field;
  RETURN_IF_ERROR(reader.Next(&type_field));
  if (type_field.number != 1 || type_field.type != proto::WireType::kVarint) {
    return InvalidArgumentError("public key protobuf must start with its Type field");
  }
  if (reader.done()) return InvalidArgumentError("public key protobuf lacks its Data field");
  RETURN_IF_ERROR(reader.Next(&data_field));
  if (data_field.number != 2 || data_field.type != proto::WireType::kLengthDelimited) {
    return InvalidArgumentError("public key protobuf's second field must be Data");
  }
  if (!reader.done()) return InvalidArgumentError("public key protobuf has fields beyond Type and Data");
  if (type_field.varint > 3) {
    return InvalidArgumentError("unknown key type " + std::to_string(type_field.varint));
  }
  return FromRaw(static_cast<KeyType>(type_field.varint), data_field.bytes);
}

ByteSpan PublicKey::raw() const { return parsed_->raw; }

Bytes PublicKey::ToProtobuf() const {
  Bytes out;
  out.reserve(proto::BytesFieldSize(2, parsed_->raw.size()) + 2);
  proto::AppendVarintField(1, static_cast<uint64_t>(type_), &out);
  proto::AppendBytesField(2, ByteSpan(parsed_->raw), &out);
  return out;
}

namespace {
thread_local ScopedVerificationMemo* current_memo = nullptr;

void HashWithLength(SHA256_CTX* sha, ByteSpan bytes) {
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(bytes.size()) >> (8 * i));
  SHA256_Update(sha, length, sizeof(length));
  SHA256_Update(sha, bytes.data(), bytes.size());
}
}  // namespace

ScopedVerificationMemo::ScopedVerificationMemo(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)), previous_(current_memo) {
  current_memo = this;
}

ScopedVerificationMemo::~ScopedVerificationMemo() {
  assert(current_memo == this);
  current_memo = previous_;
}

size_t ScopedVerificationMemo::DigestHash::operator()(const Digest& d) const noexcept {
  size_t h;
  std::memcpy(&h, d.data(), sizeof(h));
  return h;
}

bool PublicKey::Verify(ByteSpan message, ByteSpan signature) const {
  ScopedVerificationMemo* const memo = current_memo;
  if (memo == nullptr) return VerifyWithoutMemo(message, signature);
  ScopedVerificationMemo::Digest digest;
  SHA256_CTX sha;
  SHA256_Init(&sha);
  const uint8_t type = static_cast<uint8_t>(type_);
  SHA256_Update(&sha, &type, 1);
  HashWithLength(&sha, parsed_->raw);
  HashWithLength(&sha, message);
  HashWithLength(&sha, signature);
  SHA256_Final(digest.data(), &sha);
  if (memo->valid_.contains(digest)) {
    ++memo->hits_;
    return true;
  }
  if (!VerifyWithoutMemo(message, signature)) return false;
  if (memo->valid_.size() >= memo->capacity_) memo->valid_.clear();
  memo->valid_.insert(digest);
  return true;
}

bool PublicKey::VerifyWithoutMemo(ByteSpan message, ByteSpan signature) const {
  switch (type_) {
    case KeyType::kEd25519:
      return signature.size() == 64 &&
             ED25519_verify(message.data(), message.size(), signature.data(), parsed_->raw.data()) == 1;
    case KeyType::kSecp256k1: {
      secp256k1_ecdsa_signature sig;
      // libsecp256k1 aborts on a null input pointer, which an empty span may carry.
      if (signature.empty()) return false;
      if (secp256k1_ecdsa_signature_parse_der(Secp256k1Context(), &sig, signature.data(), signature.size()) != 1) {
        return false;
      }
      // libsecp256k1 accepts only low-S signatures; other libp2p implementations accept both forms.
      secp256k1_ecdsa_signature_normalize(Secp256k1Context(), &sig, &sig);
      uint8_t digest[SHA256_DIGEST_LENGTH];
      SHA256(message.data(), message.size(), digest);
      return secp256k1_ecdsa_verify(Secp256k1Context(), &sig, digest, &parsed_->secp) == 1;
    }
    case KeyType::kEcdsa: {
      uint8_t digest[SHA256_DIGEST_LENGTH];
      SHA256(message.data(), message.size(), digest);
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(parsed_->pkey.get());
      return ec != nullptr && ECDSA_verify(0, digest, sizeof(digest), signature.data(), signature.size(),
                                           const_cast<EC_KEY*>(ec)) == 1;
    }
    case KeyType::kRsa: {
      uint8_t digest[SHA256_DIGEST_LENGTH];
      SHA256(message.data(), message.size(), digest);
      const RSA* rsa = EVP_PKEY_get0_RSA(parsed_->pkey.get());
      return rsa != nullptr && RSA_verify(NID_sha256, digest, sizeof(digest), signature.data(), signature.size(),
                                          const_cast<RSA*>(rsa)) == 1;
    }
  }
  return false;
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  return a.type_ == b.type_ && a.parsed_->raw == b.parsed_->raw;
}

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  uint8_t seed[kSeedSize];
  RandomBytes(MutableByteSpan(seed));
  Ed25519PrivateKey key = *FromSeed(ByteSpan(seed, kSeedSize));
  OPENSSL_cleanse(seed, sizeof(seed));
  return key;
}

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteSpan seed) {
  if (seed.size() != kSeedSize) {
    return InvalidArgumentError("Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  std::array<uint8_t, 64> key;
  uint8_t pub[32];
  ED25519_keypair_from_seed(pub, key.data(), seed.data());
  StatusOr<PublicKey> public_key = PublicKey::FromRaw(KeyType::kEd25519, ByteSpan(pub, 32));
  if (!public_key.ok()) return public_key.status();
  Ed25519PrivateKey out(key, std::move(public_key).value());
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

namespace {

// The Type and Data of a PrivateKey protobuf.
StatusOr<std::pair<KeyType, ByteSpan>> ParsePrivateKeyProtobuf(ByteSpan encoded) {
  if (encoded.size() > kMaxPrivateKeyProtobufSize) {
    return OutOfRangeError("private key protobuf of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(kMaxPrivateKeyProtobufSize));
  }
  proto::Reader reader(encoded);
  proto::Field type_field, data_field;
  RETURN_IF_ERROR(reader.Next(&type_field));
  if (type_field.number != 1 || type_field.type != proto::WireType::kVarint) {
    return InvalidArgumentError("private key protobuf must start with its Type field");
  }
  if (type_field.varint > 3) return InvalidArgumentError("unknown key type " + std::to_string(type_field.varint));
  if (reader.done()) return InvalidArgumentError("private key protobuf lacks its Data field");
  RETURN_IF_ERROR(reader.Next(&data_field));
  if (data_field.number != 2 || data_field.type != proto::WireType::kLengthDelimited || !reader.done()) {
    return InvalidArgumentError("private key protobuf must hold exactly Type and Data");
  }
  return std::make_pair(static_cast<KeyType>(type_field.varint), data_field.bytes);
}

// The Data of an Ed25519 PrivateKey: seed || public key, or the legacy seed || public || public.
StatusOr<Ed25519PrivateKey> Ed25519FromData(ByteSpan data) {
  if (data.size() != 64 && data.size() != 96) {
    return InvalidArgumentError("Ed25519 private key data must be 64 or 96 bytes, got " +
                                std::to_string(data.size()));
  }
  if (data.size() == 96 && std::memcmp(data.data() + 32, data.data() + 64, 32) != 0) {
    return InvalidArgumentError("Ed25519 private key in the 96-byte form repeats two different public keys");
  }
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::FromSeed(data.first(32)));
  if (std::memcmp(key.public_key_bytes().data(), data.data() + 32, 32) != 0) {
    return InvalidArgumentError("Ed25519 private key's public half does not match its seed");
  }
  return key;
}

}  // namespace

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromProtobuf(ByteSpan encoded) {
  ASSIGN_OR_RETURN(auto parsed, ParsePrivateKeyProtobuf(encoded));
  if (parsed.first != KeyType::kEd25519) {
    return InvalidArgumentError(std::string(KeyTypeName(parsed.first)) + " private key where Ed25519 is needed");
  }
  return Ed25519FromData(parsed.second);
}

StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::FromProtobuf(ByteSpan encoded) {
  ASSIGN_OR_RETURN(auto parsed, ParsePrivateKeyProtobuf(encoded));
  const auto [type, data] = parsed;
  switch (type) {
    case KeyType::kEd25519: {
      ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519FromData(data));
      return std::unique_ptr<PrivateKey>(new Ed25519PrivateKey(std::move(key)));
    }
    case KeyType::kSecp256k1:
      return Secp256k1PrivateKey::FromSecret(data);
    case KeyType::kRsa: {
      CBS cbs;
      CBS_init(&cbs, data.data(), data.size());
      RSA* rsa = RSA_parse_private_key(&cbs);
      if (rsa == nullptr || CBS_len(&cbs) != 0) {
        RSA_free(rsa);
        return InvalidArgumentError("RSA private key is not PKCS#1 DER");
      }
      return AdoptRsa(rsa);
    }
    case KeyType::kEcdsa: {
      CBS cbs;
      CBS_init(&cbs, data.data(), data.size());
      EC_KEY* ec = EC_KEY_parse_private_key(&cbs, nullptr);  // The curve comes from the key's parameters.
      if (ec == nullptr || CBS_len(&cbs) != 0) {
        EC_KEY_free(ec);
        return InvalidArgumentError("ECDSA private key is not SEC1 DER with its curve");
      }
      return AdoptEc(ec);
    }
  }
  return InvalidArgumentError("unknown key type");
}

StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::Generate(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return std::unique_ptr<PrivateKey>(new Ed25519PrivateKey(Ed25519PrivateKey::Generate()));
    case KeyType::kSecp256k1:
      for (int attempt = 0; attempt < 8; ++attempt) {  // A random 256-bit number is almost always a secret.
        uint8_t secret[32];
        RandomBytes(MutableByteSpan(secret));
        StatusOr<std::unique_ptr<PrivateKey>> key = Secp256k1PrivateKey::FromSecret(ByteSpan(secret, 32));
        OPENSSL_cleanse(secret, sizeof(secret));
        if (key.ok()) return key;
      }
      return InternalError("cannot generate a secp256k1 key");
    case KeyType::kRsa: {
      RSA* rsa = RSA_new();
      BIGNUM* e = BN_new();
      const bool made = rsa != nullptr && e != nullptr && BN_set_word(e, RSA_F4) &&
                        RSA_generate_key_ex(rsa, 2048, e, nullptr);
      BN_free(e);
      if (!made) {
        RSA_free(rsa);
        return InternalError("cannot generate an RSA key");
      }
      return AdoptRsa(rsa);
    }
    case KeyType::kEcdsa: {
      EC_KEY* ec = GenerateP256();
      if (ec == nullptr) return InternalError("cannot generate an ECDSA key");
      return AdoptEc(ec);
    }
  }
  return InvalidArgumentError("unknown key type");
}

Ed25519PrivateKey::~Ed25519PrivateKey() { OPENSSL_cleanse(key_.data(), key_.size()); }

Bytes Ed25519PrivateKey::Sign(ByteSpan message) const {
  Bytes sig(64);
  ED25519_sign(sig.data(), message.data(), message.size(), key_.data());
  return sig;
}

Bytes Ed25519PrivateKey::ToProtobuf() const { return PrivateKeyProtobuf(KeyType::kEd25519, ByteSpan(key_)); }

}  // namespace libp2p::crypto
