// Text encodings of bytes used by multiformats: base58btc (peer IDs), base32 (CIDs), base16 and base64
// (certificate hashes), bare or with a one-character multibase prefix ('z', 'b'/'B', 'f'/'F', 'm'/'M',
// 'u'/'U').
//
// Every decoder refuses text longer than kMaxMultibaseTextLength with kOutOfRange before it allocates
// anything; base58 decoding is quadratic in the input length, and the limit keeps it cheap. Malformed text
// fails with kInvalidArgument and a message naming the offending character and its position. Decoding is
// strict: only the canonical text of a byte string is accepted (no non-zero unused trailing bits, padding
// exactly where the encoding requires it), so every success re-encodes to its input.
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
  kBase58Btc,     // 'z'
  kBase32,        // 'b': RFC 4648 base32, lower case, no padding.
  kBase32Upper,   // 'B': the same in upper case.
  kBase16,        // 'f': lower-case hex.
  kBase16Upper,   // 'F': upper-case hex.
  kBase64,        // 'm': RFC 4648 base64, no padding.
  kBase64Pad,     // 'M': RFC 4648 base64 with '=' padding.
  kBase64Url,     // 'u': RFC 4648 base64url ('-' and '_' for 62 and 63), no padding.
  kBase64UrlPad,  // 'U': base64url with '=' padding.
};

// The 64-character alphabets Base64Encode() and Base64Decode() speak.
enum class Base64Alphabet {
  kStandard,  // RFC 4648 section 4: A-Z a-z 0-9 '+' '/'.
  kUrl,       // RFC 4648 section 5: A-Z a-z 0-9 '-' '_'.
  kI2p,       // I2P's destinations (multiaddr garlic64): A-Z a-z 0-9 '-' '~'.
};

// Whether base64 text ends in '=' padding to a multiple of four characters.
enum class Base64Padding { kNone, kPadded };

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

// Encodes `data` in base64 with `alphabet`, padded with '=' to a multiple of four characters when `padding`
// is kPadded. Never fails; "" for no bytes.
std::string Base64Encode(ByteSpan data, Base64Alphabet alphabet, Base64Padding padding);

// Decodes base64 text in `alphabet`. Fails with kOutOfRange when `text` is longer than
// kMaxMultibaseTextLength, and with kInvalidArgument on a character outside the alphabet, on a length that
// no byte string encodes to (1 modulo 4 without padding, not a multiple of 4 with it), on missing, extra or
// misplaced '=' padding, or when the unused bits of the last character are not zero. A success re-encodes
// to `text`.
StatusOr<Bytes> Base64Decode(std::string_view text, Base64Alphabet alphabet, Base64Padding padding);

// Encodes `data` in `base` behind its prefix character, e.g. "z" + Base58BtcEncode(data). Never fails.
std::string MultibaseEncode(Multibase base, ByteSpan data);

// Decodes prefixed text: 'z' base58btc, 'b' lower-case base32, 'B' upper-case base32, 'f' lower-case hex,
// 'F' upper-case hex, 'm' base64, 'M' padded base64, 'u' base64url, 'U' padded base64url. The case of a
// base32 or hex payload must match its prefix. Fails with kInvalidArgument on empty
// text, an unknown prefix or a malformed payload, and with kOutOfRange when the payload is longer than
// kMaxMultibaseTextLength. On success `*base` (when not null) receives the encoding, and
// MultibaseEncode(*base, result) equals `text`.
StatusOr<Bytes> MultibaseDecode(std::string_view text, Multibase* base = nullptr);

}  // namespace libp2p

#endif  // LIBP2P_BASE_MULTIBASE_H_
