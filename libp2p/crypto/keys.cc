#include "libp2p/crypto/keys.h"

#include <openssl/base.h>
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

#include <cstring>
#include <string>

#include "libp2p/base/proto_wire.h"

#ifndef OPENSSL_IS_BORINGSSL
#error "BoringSSL's headers are required: depend on @boringssl//:crypto"
#endif

namespace libp2p::crypto {
namespace {

// libsecp256k1's static context suffices for parsing and verification, and needs no allocation.
const secp256k1_context* Secp256k1Context() { return secp256k1_context_static; }

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

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

bool PublicKey::Verify(ByteSpan message, ByteSpan signature) const {
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
  RAND_bytes(seed, sizeof(seed));
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

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromProtobuf(ByteSpan encoded) {
  if (encoded.size() > 256) return OutOfRangeError("Ed25519 private key protobuf too long");
  proto::Reader reader(encoded);
  proto::Field type_field, data_field;
  RETURN_IF_ERROR(reader.Next(&type_field));
  if (type_field.number != 1 || type_field.type != proto::WireType::kVarint) {
    return InvalidArgumentError("private key protobuf must start with its Type field");
  }
  if (type_field.varint != static_cast<uint64_t>(KeyType::kEd25519)) {
    return InvalidArgumentError("only Ed25519 private keys are supported");
  }
  if (reader.done()) return InvalidArgumentError("private key protobuf lacks its Data field");
  RETURN_IF_ERROR(reader.Next(&data_field));
  if (data_field.number != 2 || data_field.type != proto::WireType::kLengthDelimited || !reader.done()) {
    return InvalidArgumentError("private key protobuf must hold exactly Type and Data");
  }
  const ByteSpan data = data_field.bytes;
  if (data.size() != 64 && data.size() != 96) {
    return InvalidArgumentError("Ed25519 private key data must be 64 or 96 bytes, got " +
                                std::to_string(data.size()));
  }
  if (data.size() == 96 && std::memcmp(data.data() + 32, data.data() + 64, 32) != 0) {
    return InvalidArgumentError("Ed25519 private key in the 96-byte form repeats two different public keys");
  }
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, FromSeed(data.first(32)));
  if (std::memcmp(key.public_key_bytes().data(), data.data() + 32, 32) != 0) {
    return InvalidArgumentError("Ed25519 private key's public half does not match its seed");
  }
  return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { OPENSSL_cleanse(key_.data(), key_.size()); }

Ed25519Signature Ed25519PrivateKey::Sign(ByteSpan message) const {
  Ed25519Signature sig;
  ED25519_sign(sig.data(), message.data(), message.size(), key_.data());
  return sig;
}

Bytes Ed25519PrivateKey::ToProtobuf() const {
  Bytes out;
  proto::AppendVarintField(1, static_cast<uint64_t>(KeyType::kEd25519), &out);
  proto::AppendBytesField(2, ByteSpan(key_), &out);
  return out;
}

}  // namespace libp2p::crypto
