// libp2p keys (peer-ids spec): the PublicKey / PrivateKey protobufs, public keys of every type able to
// verify signatures, and private keys of every type able to sign (our identity).
#ifndef LIBP2P_CRYPTO_KEYS_H_
#define LIBP2P_CRYPTO_KEYS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::crypto {

enum class KeyType : uint8_t { kRsa = 0, kEd25519 = 1, kSecp256k1 = 2, kEcdsa = 3 };

// "RSA", "Ed25519", "Secp256k1", "ECDSA".
std::string_view KeyTypeName(KeyType type);

// The largest encoded PublicKey accepted (an 8192-bit RSA key in PKIX DER is about 1.1 KB).
inline constexpr size_t kMaxPublicKeyProtobufSize = 2048;
// The largest encoded PrivateKey accepted (an 8192-bit RSA key in PKCS#1 DER is about 4.7 KB).
inline constexpr size_t kMaxPrivateKeyProtobufSize = 8192;
// RSA modulus sizes accepted for verification.
inline constexpr unsigned kMinRsaBits = 2048;
inline constexpr unsigned kMaxRsaBits = 8192;


// A public key of any of the four types, parsed once and immutable; copies are cheap and share the parsed
// form. Verification of each type follows the peer-ids spec: Ed25519 (RFC 8032) over the message; RSA
// PKCS#1 v1.5, ECDSA and secp256k1 (DER signatures) over the SHA-256 of the message.
class PublicKey {
 public:
  // Parses the libp2p PublicKey protobuf, which must be deterministically encoded (type then data, minimal
  // varints, no other fields). Fails with kOutOfRange when longer than kMaxPublicKeyProtobufSize and with
  // kInvalidArgument for a malformed message, an unknown type or a key that does not parse.
  static StatusOr<PublicKey> FromProtobuf(ByteSpan encoded);

  // Parses the type-specific key bytes (the protobuf's Data field): 32 raw bytes for Ed25519, a 33-byte
  // compressed (or 65-byte uncompressed) point for secp256k1, PKIX SubjectPublicKeyInfo DER for RSA and ECDSA.
  static StatusOr<PublicKey> FromRaw(KeyType type, ByteSpan data);

  KeyType type() const { return type_; }
  // The type-specific key bytes.
  ByteSpan raw() const;
  // The deterministic PublicKey protobuf.
  Bytes ToProtobuf() const;

  // True when `signature` is a valid signature of `message` by this key. Never allocates for Ed25519 and
  // secp256k1, and never throws, except under a ScopedVerificationMemo (remembering an answer allocates).
  bool Verify(ByteSpan message, ByteSpan signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  bool VerifyWithoutMemo(ByteSpan message, ByteSpan signature) const;

  struct Parsed;
  PublicKey(KeyType type, std::shared_ptr<const Parsed> parsed) : type_(type), parsed_(std::move(parsed)) {}

  KeyType type_;
  std::shared_ptr<const Parsed> parsed_;
};

// For simulations that run many nodes in one process: while it lives, PublicKey::Verify on the thread that
// created it remembers each signature it found valid, by the SHA-256 of the key's type and bytes, the message
// and the signature (each with its length), and answers the same question again without the curve
// arithmetic. Simulated nodes check the same peer's Noise payload and signed peer record once for each of
// their connections to it: the first check answers for the rest, and the answers are the same. A signature
// found invalid is checked again each time. It holds at most `capacity` digests (at least 1; about 64 bytes
// each) and forgets them all when full.
//
// Scopes follow ScopedDeterministicRandom's rules: other threads are unaffected; they nest, the newest on a
// thread being used; each is destroyed on its thread, innermost first (asserted); neither copyable nor
// movable.
class ScopedVerificationMemo {
 public:
  explicit ScopedVerificationMemo(size_t capacity = 1 << 16);
  ~ScopedVerificationMemo();
  ScopedVerificationMemo(const ScopedVerificationMemo&) = delete;
  ScopedVerificationMemo& operator=(const ScopedVerificationMemo&) = delete;

  // Verifications answered from memory, and digests held.
  uint64_t hits() const { return hits_; }
  size_t size() const { return valid_.size(); }

 private:
  friend class PublicKey;
  using Digest = std::array<uint8_t, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const noexcept;
  };

  const size_t capacity_;
  std::unordered_set<Digest, DigestHash> valid_;
  uint64_t hits_ = 0;
  ScopedVerificationMemo* previous_;  // The scope this one replaced on its thread, or null.
};

// Our own identity: a private key of any of the four types, which signs as the peer-ids spec says for its
// type (see PublicKey::Verify). Immutable, so one key may serve several users at once (the host, pubsub);
// each implementation wipes its secret when destroyed.
class PrivateKey {
 public:
  virtual ~PrivateKey() = default;

  // A fresh key of `type`: RSA of 2048 bits, ECDSA on P-256. Ed25519, secp256k1 and ECDSA keys take their
  // secret from RandomBytes (libp2p/base/random.h), so a ScopedDeterministicRandom fixes them; RSA keys come
  // from BoringSSL's own generator and are always fresh. kInternal when generation fails.
  //
  // Signatures of Ed25519, secp256k1 and RSA (PKCS#1 v1.5) keys are deterministic; BoringSSL's ECDSA
  // signatures are not (it draws a fresh nonce itself), even under a ScopedDeterministicRandom.
  static StatusOr<std::unique_ptr<PrivateKey>> Generate(KeyType type);
  // Parses a libp2p PrivateKey protobuf (Type then Data, nothing else) of any type, its Data as the peer-ids
  // spec (and go and js) encode it: Ed25519 as Ed25519PrivateKey::FromProtobuf takes it; secp256k1 the
  // 32-byte secret; ECDSA a SEC1 ECPrivateKey DER naming its curve (P-256, P-384 or P-521); RSA a PKCS#1
  // RSAPrivateKey DER of 2048 to 8192 bits. kOutOfRange over kMaxPrivateKeyProtobufSize, kInvalidArgument
  // for anything else that is wrong.
  static StatusOr<std::unique_ptr<PrivateKey>> FromProtobuf(ByteSpan encoded);

  KeyType type() const { return public_key().type(); }
  virtual const PublicKey& public_key() const = 0;
  // The signature of `message`: Ed25519 (64 bytes) over it, the others DER over its SHA-256.
  virtual Bytes Sign(ByteSpan message) const = 0;
  // The PrivateKey protobuf, in the encoding FromProtobuf reads. Handle with care: it is the secret.
  virtual Bytes ToProtobuf() const = 0;
};

// An Ed25519 identity, the default: the only kind a seed makes.
class Ed25519PrivateKey final : public PrivateKey {
 public:
  static constexpr size_t kSeedSize = 32;

  // A fresh key whose 32-byte seed comes from RandomBytes (libp2p/base/random.h).
  static Ed25519PrivateKey Generate();
  // The key of a 32-byte seed (RFC 8032 private key). kInvalidArgument for any other size.
  static StatusOr<Ed25519PrivateKey> FromSeed(ByteSpan seed);
  // Parses a libp2p PrivateKey protobuf of type Ed25519 whose data is seed || public key (64 bytes) or the
  // legacy seed || public || public (96 bytes); the public key must match the seed. Keys of other types are
  // refused with kInvalidArgument (this node only signs with Ed25519).
  static StatusOr<Ed25519PrivateKey> FromProtobuf(ByteSpan encoded);

  ~Ed25519PrivateKey() override;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = default;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = default;

  // The 64-byte signature of `message`.
  Bytes Sign(ByteSpan message) const override;

  const PublicKey& public_key() const override { return public_key_; }
  // The 32 raw public key bytes.
  ByteSpan public_key_bytes() const { return ByteSpan(key_).subspan(32); }
  // The PrivateKey protobuf with data = seed || public key (64 bytes). Handle with care: it is the secret.
  Bytes ToProtobuf() const override;

 private:
  Ed25519PrivateKey(const std::array<uint8_t, 64>& key, PublicKey public_key)
      : key_(key), public_key_(std::move(public_key)) {}

  std::array<uint8_t, 64> key_;  // BoringSSL's form: seed || public key.
  PublicKey public_key_;
};

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_KEYS_H_
