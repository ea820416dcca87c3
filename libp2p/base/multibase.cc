#include "libp2p/base/multibase.h"

#include <cstring>

#include <array>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace libp2p {

namespace {

constexpr std::string_view kBase58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase16Lower = "0123456789abcdef";
constexpr std::string_view kBase16Upper = "0123456789ABCDEF";
constexpr std::string_view kBase64Standard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kBase64I2p = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";

// Maps each byte to its digit value in `alphabet`, or -1.
constexpr std::array<int8_t, 256> DigitTable(std::string_view alphabet) {
  std::array<int8_t, 256> table{};
  for (int8_t& v : table) v = -1;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kBase58Digits = DigitTable(kBase58Alphabet);
constexpr std::array<int8_t, 256> kBase32LowerDigits = DigitTable(kBase32Lower);
constexpr std::array<int8_t, 256> kBase32UpperDigits = DigitTable(kBase32Upper);
constexpr std::array<int8_t, 256> kBase16LowerDigits = DigitTable(kBase16Lower);
constexpr std::array<int8_t, 256> kBase16UpperDigits = DigitTable(kBase16Upper);
constexpr std::array<int8_t, 256> kBase64StandardDigits = DigitTable(kBase64Standard);
constexpr std::array<int8_t, 256> kBase64UrlDigits = DigitTable(kBase64Url);
constexpr std::array<int8_t, 256> kBase64I2pDigits = DigitTable(kBase64I2p);

// Short names for the base64 flavours behind the multibase prefixes.
constexpr Base64Alphabet kStandard = Base64Alphabet::kStandard;
constexpr Base64Alphabet kUrl = Base64Alphabet::kUrl;
constexpr Base64Padding kNoPadding = Base64Padding::kNone;
constexpr Base64Padding kPadded = Base64Padding::kPadded;

// Which letter case a decoder accepts: the bare decoders take either, a multibase prefix fixes one.
enum class LetterCase { kEither, kLower, kUpper };

// A digit table pair for a case-sensitive alphabet.
struct CasedAlphabet {
  const char* name;
  const std::array<int8_t, 256>* lower;
  const std::array<int8_t, 256>* upper;
};

constexpr CasedAlphabet kBase32{"base32", &kBase32LowerDigits, &kBase32UpperDigits};
constexpr CasedAlphabet kBase16{"base16", &kBase16LowerDigits, &kBase16UpperDigits};

// "'x'" for a printable character, "byte 0xNN" for anything else.
std::string DescribeChar(char c) {
  char buf[16];
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    std::snprintf(buf, sizeof(buf), "'%c'", c);
  } else {
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", u);
  }
  return buf;
}

Status BadCharacter(std::string_view encoding, char c, size_t position, std::string_view hint = "") {
  std::string message = std::string(encoding) + ": invalid character " + DescribeChar(c) + " at position " +
                        std::to_string(position);
  if (hint.empty() && c == '=') hint = " (padding is not allowed)";
  message += hint;
  return InvalidArgumentError(std::move(message));
}

Status CheckLength(std::string_view encoding, std::string_view text) {
  if (text.size() <= kMaxMultibaseTextLength) return OkStatus();
  return OutOfRangeError(std::string(encoding) + ": input of " + std::to_string(text.size()) +
                         " characters exceeds the limit of " + std::to_string(kMaxMultibaseTextLength));
}

// The value of `c` in `alphabet` under `letter_case`, or a kInvalidArgument status naming it.
StatusOr<int> CasedDigit(const CasedAlphabet& alphabet, LetterCase letter_case, char c, size_t position) {
  const int lower = (*alphabet.lower)[static_cast<uint8_t>(c)];
  const int upper = (*alphabet.upper)[static_cast<uint8_t>(c)];
  if (lower >= 0 && letter_case != LetterCase::kUpper) return lower;
  if (upper >= 0 && letter_case != LetterCase::kLower) return upper;
  if (lower >= 0) return BadCharacter(alphabet.name, c, position, " (upper case required)");
  if (upper >= 0) return BadCharacter(alphabet.name, c, position, " (lower case required)");
  return BadCharacter(alphabet.name, c, position);
}

std::string EncodeBase32(ByteSpan data, std::string_view alphabet) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t acc = 0;
  int bits = 0;
  for (const uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(alphabet[(acc >> bits) & 0x1f]);
    }
    acc &= (1u << bits) - 1;  // Keep only the bits not yet written, so `acc` never overflows.
  }
  if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 0x1f]);
  return out;
}

StatusOr<Bytes> DecodeBase32(std::string_view text, LetterCase letter_case) {
  RETURN_IF_ERROR(CheckLength("base32", text));
  // 8 characters carry 5 bytes; a tail of 1, 3 or 6 characters would hold a whole unused character.
  const size_t tail = text.size() % 8;
  if (tail == 1 || tail == 3 || tail == 6) {
    return InvalidArgumentError("base32: length " + std::to_string(text.size()) +
                                " is not the length of any encoding (1, 3 or 6 modulo 8)");
  }
  Bytes out;
  out.reserve(text.size() * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    ASSIGN_OR_RETURN(const int digit, CasedDigit(kBase32, letter_case, text[i], i));
    acc = (acc << 5) | static_cast<uint32_t>(digit);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  // Only the canonical encoding is accepted, so decoding is one-to-one.
  if (acc != 0) {
    return InvalidArgumentError("base32: the unused trailing bits of the last character are not zero");
  }
  return out;
}

std::string EncodeBase16(ByteSpan data, std::string_view digits) {
  std::string out(data.size() * 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

StatusOr<Bytes> DecodeBase16(std::string_view text, LetterCase letter_case) {
  RETURN_IF_ERROR(CheckLength("base16", text));
  if (text.size() % 2 != 0) {
    return InvalidArgumentError("base16: odd length " + std::to_string(text.size()));
  }
  Bytes out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSIGN_OR_RETURN(const int high, CasedDigit(kBase16, letter_case, text[2 * i], 2 * i));
    ASSIGN_OR_RETURN(const int low, CasedDigit(kBase16, letter_case, text[2 * i + 1], 2 * i + 1));
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return out;
}

// One base64 flavour: its alphabet, the digit table of that alphabet, and a name for messages.
struct Base64Spec {
  const char* name;
  std::string_view alphabet;
  const std::array<int8_t, 256>* digits;
};

Base64Spec SpecOf(Base64Alphabet alphabet) {
  switch (alphabet) {
    case Base64Alphabet::kStandard: return {"base64", kBase64Standard, &kBase64StandardDigits};
    case Base64Alphabet::kUrl: return {"base64url", kBase64Url, &kBase64UrlDigits};
    case Base64Alphabet::kI2p: return {"i2p base64", kBase64I2p, &kBase64I2pDigits};
  }
  assert(false);
  return {"base64", kBase64Standard, &kBase64StandardDigits};
}

std::string EncodeBase64(ByteSpan data, std::string_view alphabet, Base64Padding padding) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (const uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3f]);
    }
    acc &= (1u << bits) - 1;  // Keep only the bits not yet written, so `acc` never overflows.
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
  if (padding == Base64Padding::kPadded) {
    while (out.size() % 4 != 0) out.push_back('=');
  }
  return out;
}

StatusOr<Bytes> DecodeBase64(std::string_view text, const Base64Spec& spec, Base64Padding padding) {
  RETURN_IF_ERROR(CheckLength(spec.name, text));
  std::string_view digits = text;
  if (padding == Base64Padding::kPadded) {
    if (text.size() % 4 != 0) {
      return InvalidArgumentError(std::string(spec.name) + ": padded length " + std::to_string(text.size()) +
                                  " is not a multiple of 4");
    }
    // At most two '=' end a group; a third one is reported below as a misplaced '='.
    for (int i = 0; i < 2 && !digits.empty() && digits.back() == '='; ++i) digits.remove_suffix(1);
  }
  // 4 characters carry 3 bytes; a tail of 1 character would hold no whole byte.
  if (digits.size() % 4 == 1) {
    return InvalidArgumentError(std::string(spec.name) + ": length " + std::to_string(text.size()) +
                                " is not the length of any encoding");
  }
  const std::string_view misplaced =
      padding == Base64Padding::kPadded ? " (padding belongs only at the end)" : "";
  Bytes out;
  out.reserve(digits.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    const int digit = (*spec.digits)[static_cast<uint8_t>(digits[i])];
    if (digit < 0) return BadCharacter(spec.name, digits[i], i, digits[i] == '=' ? misplaced : "");
    acc = (acc << 6) | static_cast<uint32_t>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  // Only the canonical encoding is accepted, so decoding is one-to-one.
  if (acc != 0) {
    return InvalidArgumentError(std::string(spec.name) +
                                ": the unused trailing bits of the last character are not zero");
  }
  return out;
}

std::optional<Multibase> BaseOfPrefix(char prefix) {
  switch (prefix) {
    case 'z': return Multibase::kBase58Btc;
    case 'b': return Multibase::kBase32;
    case 'B': return Multibase::kBase32Upper;
    case 'f': return Multibase::kBase16;
    case 'F': return Multibase::kBase16Upper;
    case 'm': return Multibase::kBase64;
    case 'M': return Multibase::kBase64Pad;
    case 'u': return Multibase::kBase64Url;
    case 'U': return Multibase::kBase64UrlPad;
    default: return std::nullopt;
  }
}

StatusOr<Bytes> DecodePayload(Multibase base, std::string_view payload) {
  switch (base) {
    case Multibase::kBase58Btc: return Base58BtcDecode(payload);
    case Multibase::kBase32: return DecodeBase32(payload, LetterCase::kLower);
    case Multibase::kBase32Upper: return DecodeBase32(payload, LetterCase::kUpper);
    case Multibase::kBase16: return DecodeBase16(payload, LetterCase::kLower);
    case Multibase::kBase16Upper: return DecodeBase16(payload, LetterCase::kUpper);
    case Multibase::kBase64: return Base64Decode(payload, kStandard, kNoPadding);
    case Multibase::kBase64Pad: return Base64Decode(payload, kStandard, kPadded);
    case Multibase::kBase64Url: return Base64Decode(payload, kUrl, kNoPadding);
    case Multibase::kBase64UrlPad: return Base64Decode(payload, kUrl, kPadded);
  }
  return InternalError("unknown multibase");
}

}  // namespace

std::string Base58BtcEncode(ByteSpan data) {
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // A big-endian base-58 number filled from the back; log(256) / log(58) < 1.38 digits per byte.
  const size_t capacity = (data.size() - zeros) * 138 / 100 + 1;
  std::string digits(capacity, '\0');
  size_t used = 0;  // Significant digits at the back of `digits`.
  for (size_t i = zeros; i < data.size(); ++i) {
    uint32_t carry = data[i];
    size_t j = 0;
    for (; j < used || carry != 0; ++j) {
      assert(j < capacity);
      char& digit = digits[capacity - 1 - j];
      carry += static_cast<uint32_t>(static_cast<uint8_t>(digit)) << 8;
      digit = static_cast<char>(carry % 58);
      carry /= 58;
    }
    used = j;
  }
  std::string out(zeros, '1');
  out.reserve(zeros + used);
  for (size_t j = capacity - used; j < capacity; ++j) {
    out.push_back(kBase58Alphabet[static_cast<size_t>(digits[j])]);
  }
  return out;
}

StatusOr<Bytes> Base58BtcDecode(std::string_view text) {
  RETURN_IF_ERROR(CheckLength("base58btc", text));
  size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '1') ++zeros;
  // A big-endian base-256 number filled from the back; log(58) / log(256) < 0.733 bytes per digit.
  const size_t capacity = (text.size() - zeros) * 733 / 1000 + 1;
  // One allocation: the number is built at the back of the output, then moved down behind the zeros.
  Bytes out(zeros + capacity, 0);
  uint8_t* number = out.data() + zeros;
  size_t used = 0;  // Significant bytes at the back of `number`.
  for (size_t i = zeros; i < text.size(); ++i) {
    const int digit = kBase58Digits[static_cast<uint8_t>(text[i])];
    if (digit < 0) return BadCharacter("base58btc", text[i], i);
    uint32_t carry = static_cast<uint32_t>(digit);
    size_t j = 0;
    for (; j < used || carry != 0; ++j) {
      assert(j < capacity);
      uint8_t& byte = number[capacity - 1 - j];
      carry += 58u * byte;
      byte = static_cast<uint8_t>(carry);
      carry >>= 8;
    }
    used = j;
  }
  std::memmove(number, number + capacity - used, used);
  out.resize(zeros + used);
  return out;
}

std::string Base32Encode(ByteSpan data) { return EncodeBase32(data, kBase32Lower); }

StatusOr<Bytes> Base32Decode(std::string_view text) { return DecodeBase32(text, LetterCase::kEither); }

std::string Base16Encode(ByteSpan data) { return EncodeBase16(data, kBase16Lower); }

StatusOr<Bytes> Base16Decode(std::string_view text) { return DecodeBase16(text, LetterCase::kEither); }

std::string Base64Encode(ByteSpan data, Base64Alphabet alphabet, Base64Padding padding) {
  return EncodeBase64(data, SpecOf(alphabet).alphabet, padding);
}

StatusOr<Bytes> Base64Decode(std::string_view text, Base64Alphabet alphabet, Base64Padding padding) {
  return DecodeBase64(text, SpecOf(alphabet), padding);
}

std::string MultibaseEncode(Multibase base, ByteSpan data) {
  switch (base) {
    case Multibase::kBase58Btc: return "z" + Base58BtcEncode(data);
    case Multibase::kBase32: return "b" + EncodeBase32(data, kBase32Lower);
    case Multibase::kBase32Upper: return "B" + EncodeBase32(data, kBase32Upper);
    case Multibase::kBase16: return "f" + EncodeBase16(data, kBase16Lower);
    case Multibase::kBase16Upper: return "F" + EncodeBase16(data, kBase16Upper);
    case Multibase::kBase64: return "m" + Base64Encode(data, kStandard, kNoPadding);
    case Multibase::kBase64Pad: return "M" + Base64Encode(data, kStandard, kPadded);
    case Multibase::kBase64Url: return "u" + Base64Encode(data, kUrl, kNoPadding);
    case Multibase::kBase64UrlPad: return "U" + Base64Encode(data, kUrl, kPadded);
  }
  assert(false);
  return "";
}

StatusOr<Bytes> MultibaseDecode(std::string_view text, Multibase* base) {
  if (text.empty()) return InvalidArgumentError("multibase: empty text");
  const std::optional<Multibase> found = BaseOfPrefix(text[0]);
  if (!found.has_value()) {
    return InvalidArgumentError("multibase: unsupported prefix " + DescribeChar(text[0]));
  }
  StatusOr<Bytes> result = DecodePayload(*found, text.substr(1));
  if (!result.ok()) {
    return Status(result.status().code(), "multibase payload after prefix " + DescribeChar(text[0]) + ": " +
                                              result.status().message());
  }
  if (base != nullptr) *base = *found;
  return result;
}

}  // namespace libp2p
