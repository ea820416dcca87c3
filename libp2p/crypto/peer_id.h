// Peer ids (peer-ids spec): the multihash of a peer's encoded public key, identity for keys of at most 42
// bytes (Ed25519, secp256k1) and SHA-256 for longer ones (RSA, ECDSA).
#ifndef LIBP2P_CRYPTO_PEER_ID_H_
#define LIBP2P_CRYPTO_PEER_ID_H_

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"

namespace libp2p::crypto {

// A peer id, held inline (no allocation): a multihash of at most 44 bytes. Comparable and hashable, for use
// as a map key.
class PeerId {
 public:
  // Encoded public keys up to this size are embedded with the identity multihash.
  static constexpr size_t kMaxInlineKeySize = 42;
  static constexpr size_t kMaxSize = 2 + kMaxInlineKeySize;

  // The peer id of `key`.
  static PeerId FromPublicKey(const PublicKey& key);
  // A binary peer id (a multihash). Only identity (with a digest of at most 42 bytes) and sha2-256 (32
  // bytes) multihashes are peer ids; anything else is kInvalidArgument.
  static StatusOr<PeerId> FromBytes(ByteSpan multihash);
  // Text: a bare base58btc multihash ("12D3KooW...", "Qm...") or a CIDv1 with the libp2p-key codec in any
  // multibase ("bafz..."). kInvalidArgument otherwise. Allocates once, for the decoded bytes.
  static StatusOr<PeerId> FromString(std::string_view text);

  // The multihash.
  ByteSpan bytes() const { return ByteSpan(bytes_.data(), size_); }
  // Base58btc of the multihash: the form peer ids are displayed in.
  std::string ToBase58() const;
  // The CIDv1 form: "b" + base32(0x01 0x72 multihash).
  std::string ToCidString() const;

  // The public key embedded in an identity peer id. kNotFound for a SHA-256 peer id (the key must come
  // from elsewhere), kInvalidArgument when the embedded bytes are not a valid key.
  StatusOr<PublicKey> ExtractPublicKey() const;
  // Whether `key` is the key this peer id names.
  bool Matches(const PublicKey& key) const { return FromPublicKey(key) == *this; }

  friend bool operator==(const PeerId& a, const PeerId& b) {
    return a.size_ == b.size_ && std::equal(a.bytes_.begin(), a.bytes_.begin() + a.size_, b.bytes_.begin());
  }
  friend bool operator<(const PeerId& a, const PeerId& b) {
    return std::lexicographical_compare(a.bytes_.begin(), a.bytes_.begin() + a.size_, b.bytes_.begin(),
                                        b.bytes_.begin() + b.size_);
  }

 private:
  PeerId() = default;
  std::array<uint8_t, kMaxSize> bytes_{};
  uint8_t size_ = 0;
};

}  // namespace libp2p::crypto

// Not noexcept on purpose: libstdc++'s unordered containers then keep each element's hash beside it, and a
// lookup that walks a bucket compares stored hashes instead of hashing each key it passes (38 bytes a time).
// heartbeat_benchmark (1,000 peers) went from about 836 to 760 us with it.
template <>
struct std::hash<libp2p::crypto::PeerId> {
  size_t operator()(const libp2p::crypto::PeerId& id) const {
    // Unkeyed: a peer can grind Ed25519 keys cheaply until ids collide in a table of ours. Kept so that
    // iteration orders, and with them simulations and tests, stay the same from run to run; tables whose
    // keys remote peers choose in bulk (message ids, topics) use SeededHash.
    return std::hash<std::string_view>()(libp2p::AsStringView(id.bytes()));
  }
};

#endif  // LIBP2P_CRYPTO_PEER_ID_H_
