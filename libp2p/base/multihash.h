// Multihash: a self-describing digest, <varint hash code><varint digest length><digest>. Peer IDs are
// multihashes (identity of a small public key, or sha2-256 of a larger one). This library only frames and
// validates; computing digests belongs to //libp2p/crypto.
#ifndef LIBP2P_BASE_MULTIHASH_H_
#define LIBP2P_BASE_MULTIHASH_H_

#include <cstddef>
#include <cstdint>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p {

// Hash function codes of the multicodec table.
inline constexpr uint64_t kMultihashIdentity = 0x00;
inline constexpr uint64_t kMultihashSha2_256 = 0x12;

// The digest length a sha2-256 multihash must have.
inline constexpr size_t kSha256DigestLength = 32;

// The longest multihash accepted, framing included.
inline constexpr size_t kMaxMultihashLength = 128;

// The longest digest IdentityMultihash() takes: one byte of code and one of length leave 126.
inline constexpr size_t kMaxIdentityDigestLength = kMaxMultihashLength - 2;

// A parsed multihash; `digest` points into the parsed input, which must outlive it.
struct MultihashView {
  uint64_t code = 0;
  ByteSpan digest;
};

// Parses `in`, which must hold exactly one multihash. Any hash code is accepted; a sha2-256 digest must be
// 32 bytes. Fails with kOutOfRange when `in` is longer than kMaxMultihashLength, and with kInvalidArgument
// on a malformed or non-minimal varint, or a declared digest length that differs from the bytes that follow.
StatusOr<MultihashView> ParseMultihash(ByteSpan in);

// Returns the identity multihash of `data` (the data is its own digest). `data` must be at most
// kMaxIdentityDigestLength bytes (asserted), so that the result parses.
Bytes IdentityMultihash(ByteSpan data);

// Returns the sha2-256 multihash of an already computed 32-byte digest.
Bytes Sha256Multihash(const uint8_t digest[kSha256DigestLength]);

}  // namespace libp2p

#endif  // LIBP2P_BASE_MULTIHASH_H_
