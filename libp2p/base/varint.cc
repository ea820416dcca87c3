#include "libp2p/base/varint.h"

#include <endian.h>

#include <cassert>
#include <cstring>

namespace libp2p {

namespace {

// The byte-at-a-time decoder, for inputs shorter than 8 bytes and for 9-byte varints.
UvarintDecode DecodeSlow(ByteSpan in) {
  UvarintDecode result;
  const size_t limit = in.size() < kMaxUvarintLength ? in.size() : kMaxUvarintLength;
  uint64_t value = 0;
  for (size_t i = 0; i < limit; ++i) {
    const uint8_t b = in[i];
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (b == 0 && i > 0) {
        result.error = UvarintError::kNonMinimal;
        return result;
      }
      result.value = value;
      result.length = i + 1;
      return result;
    }
  }
  // Nine bytes of seven bits hold exactly 63 bits, so only a ninth byte with its continuation bit set can
  // overflow.
  result.error = in.size() >= kMaxUvarintLength ? UvarintError::kOverflow : UvarintError::kIncomplete;
  return result;
}

}  // namespace

UvarintDecode DecodeUvarint(ByteSpan in) {
  UvarintDecode result;
  // One-byte varints (small lengths and tags) are the most common case.
  if (!in.empty() && in[0] < 0x80) {
    result.value = in[0];
    result.length = 1;
    return result;
  }
  if (in.size() < 8) return DecodeSlow(in);
  // Branch-free path for varints of up to 8 bytes: find the first byte without a continuation bit, then
  // gather the 7-bit groups below it.
  uint64_t word;
  std::memcpy(&word, in.data(), 8);
  word = le64toh(word);
  const uint64_t stops = ~word & 0x8080808080808080ull;
  if (stops == 0) return DecodeSlow(in);  // Nine bytes or more.
  const int last_bit = __builtin_ctzll(stops);  // 8 * (length - 1) + 7
  const size_t length = static_cast<size_t>(last_bit / 8 + 1);
  const uint64_t bytes = length == 8 ? word : word & ((uint64_t{1} << (8 * length)) - 1);
  if ((bytes >> (8 * (length - 1))) == 0) {
    result.error = UvarintError::kNonMinimal;
    return result;
  }
  uint64_t value = bytes & 0x7f;
  value |= (bytes >> 1) & (uint64_t{0x7f} << 7);
  value |= (bytes >> 2) & (uint64_t{0x7f} << 14);
  value |= (bytes >> 3) & (uint64_t{0x7f} << 21);
  value |= (bytes >> 4) & (uint64_t{0x7f} << 28);
  value |= (bytes >> 5) & (uint64_t{0x7f} << 35);
  value |= (bytes >> 6) & (uint64_t{0x7f} << 42);
  value |= (bytes >> 7) & (uint64_t{0x7f} << 49);
  result.value = value;
  result.length = length;
  return result;
}

size_t UvarintLength(uint64_t value) {
  assert(value <= kMaxUvarintValue);
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

size_t EncodeUvarint(uint64_t value, uint8_t* out) {
  assert(value <= kMaxUvarintValue);
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<uint8_t>(value) | 0x80;
    value >>= 7;
  }
  out[n++] = static_cast<uint8_t>(value);
  return n;
}

void AppendUvarint(uint64_t value, Bytes* out) {
  uint8_t buf[kMaxUvarintLength];
  const size_t n = EncodeUvarint(value, buf);
  out->insert(out->end(), buf, buf + n);
}

void AppendUvarint(uint64_t value, std::string* out) {
  uint8_t buf[kMaxUvarintLength];
  const size_t n = EncodeUvarint(value, buf);
  out->append(reinterpret_cast<const char*>(buf), n);
}

StatusOr<uint64_t> ReadUvarint(ByteSpan* in) {
  const UvarintDecode d = DecodeUvarint(*in);
  if (d.error != UvarintError::kNone) return InvalidArgumentError(UvarintErrorMessage(d.error));
  *in = in->subspan(d.length);
  return d.value;
}

const char* UvarintErrorMessage(UvarintError error) {
  switch (error) {
    case UvarintError::kNone: return "ok";
    case UvarintError::kIncomplete: return "truncated unsigned varint";
    case UvarintError::kNonMinimal: return "unsigned varint is not minimally encoded";
    case UvarintError::kOverflow: return "unsigned varint longer than 9 bytes";
  }
  return "unknown varint error";
}

}  // namespace libp2p
