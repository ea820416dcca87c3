// Text encodings of bytes used by multiformats: base58btc (peer IDs), base32 (CIDs) and base16, bare or with
// a one-character multibase prefix ('z', 'b'/'B', 'f'/'F').
//
// Every decoder refuses text longer than kMaxMultibaseTextLength with kOutOfRange before it allocates
// anything; base58 decoding is quadratic in the input length, and the limit keeps it cheap. Malformed text
// fails with kInvalidArgument and a message naming the offending character and its position.
#ifndef LIBP2P_BASE_MULTIBASE_H_
#define LIBP2P_BASE_MULTIBASE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p {

// The longest text any decoder here accepts (the multibase prefix not counted).
inline constexpr size_t kMaxMultibaseTextLength = 4096;

// The multibase encodings this library speaks, each named after its prefix character.
enum class Multibase {
  kBase58Btc,    // 'z'
  kBase32,       // 'b': RFC 4648 base32, lower case, no padding.
  kBase32Upper,  // 'B': the same in upper case.
  kBase16,       // 'f': lower-case hex.
  kBase16Upper,  // 'F': upper-case hex.
};

// Encodes `data` in base58btc (the bitcoin alphabet); each leading zero byte becomes a leading '1'.
// Quadratic in data.size(): meant for short values such as multihashes. Never fails; "" for no bytes.
std::string Base58BtcEncode(ByteSpan data);

// Decodes base58btc text; each leading '1' becomes a leading zero byte. Fails with kOutOfRange when `text`
// is longer than kMaxMultibaseTextLength, and with kInvalidArgument on a character outside the alphabet.
// "" decodes to no bytes. Every byte string has exactly one base58btc text, so a success re-encodes to
// `text`.
StatusOr<Bytes> Base58BtcDecode(std::string_view text);

// Encodes `data` in RFC 4648 base32, lower case, without padding. Never fails.
std::string Base32Encode(ByteSpan data);

// Decodes RFC 4648 base32 without padding; letters may be in either case. Fails with kOutOfRange when `text`
// is longer than kMaxMultibaseTextLength, and with kInvalidArgument on a character outside the alphabet
// (padding '=' included), on a length that no byte string encodes to (1, 3 or 6 modulo 8), or when the
// unused bits of the last character are not zero. A success re-encodes to `text` in lower case.
StatusOr<Bytes> Base32Decode(std::string_view text);

// Encodes `data` as lower-case hex. Never fails.
std::string Base16Encode(ByteSpan data);

// Decodes hex digits of either case. Fails with kOutOfRange when `text` is longer than
// kMaxMultibaseTextLength, and with kInvalidArgument on an odd length or a non-hex character.
// A success re-encodes to `text` in lower case.
StatusOr<Bytes> Base16Decode(std::string_view text);

// Encodes `data` in `base` behind its prefix character, e.g. "z" + Base58BtcEncode(data). Never fails.
std::string MultibaseEncode(Multibase base, ByteSpan data);

// Decodes prefixed text: 'z' base58btc, 'b' lower-case base32, 'B' upper-case base32, 'f' lower-case hex,
// 'F' upper-case hex. The case of the payload must match its prefix. Fails with kInvalidArgument on empty
// text, an unknown prefix or a malformed payload, and with kOutOfRange when the payload is longer than
// kMaxMultibaseTextLength. On success `*base` (when not null) receives the encoding, and
// MultibaseEncode(*base, result) equals `text`.
StatusOr<Bytes> MultibaseDecode(std::string_view text, Multibase* base = nullptr);

}  // namespace libp2p

#endif  // LIBP2P_BASE_MULTIBASE_H_
