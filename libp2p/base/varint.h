// Multiformats unsigned-varint: LEB128 limited to 9 bytes (63 bits of value), minimal encoding required.
#ifndef LIBP2P_BASE_VARINT_H_
#define LIBP2P_BASE_VARINT_H_

#include <cstddef>
#include <cstdint>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p {

// The longest valid encoding, and the largest value it can carry (2^63 - 1).
inline constexpr size_t kMaxUvarintLength = 9;
inline constexpr uint64_t kMaxUvarintValue = (uint64_t{1} << 63) - 1;

enum class UvarintError {
  kNone = 0,
  kIncomplete,  // The input ended inside the varint; more bytes may complete it.
  kNonMinimal,  // A trailing zero byte (e.g. 0x80 0x00 for 0): the spec forbids it.
  kOverflow,    // More than 9 bytes, or a value above 2^63 - 1.
};

struct UvarintDecode {
  uint64_t value = 0;
  size_t length = 0;  // Bytes consumed; 0 unless error == kNone.
  UvarintError error = UvarintError::kNone;
};

// Decodes the varint at the start of `in`. Never reads past `in`.
UvarintDecode DecodeUvarint(ByteSpan in);

// Bytes needed to encode `value` (which must be <= kMaxUvarintValue).
size_t UvarintLength(uint64_t value);

// Writes `value` (<= kMaxUvarintValue, asserted) to `out`, which must have room for kMaxUvarintLength bytes.
// Returns the number of bytes written.
size_t EncodeUvarint(uint64_t value, uint8_t* out);

// Appends the encoding of `value` (<= kMaxUvarintValue, asserted).
void AppendUvarint(uint64_t value, Bytes* out);
void AppendUvarint(uint64_t value, std::string* out);

// Reads a whole varint from the front of `*in` and advances it. An incomplete varint is an error here,
// since `*in` is expected to hold a complete message.
StatusOr<uint64_t> ReadUvarint(ByteSpan* in);

// A message for `error`, for Status values.
const char* UvarintErrorMessage(UvarintError error);

}  // namespace libp2p

#endif  // LIBP2P_BASE_VARINT_H_
