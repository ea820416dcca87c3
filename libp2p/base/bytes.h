// Byte containers and views shared by every layer.
#ifndef LIBP2P_BASE_BYTES_H_
#define LIBP2P_BASE_BYTES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/status.h"

namespace libp2p {

// An owned byte string.
using Bytes = std::vector<uint8_t>;
// A non-owning view of bytes; the viewed storage must outlive it.
using ByteSpan = std::span<const uint8_t>;
// A non-owning view of writable bytes; the viewed storage must outlive it.
using MutableByteSpan = std::span<uint8_t>;

// Views the bytes of a string (no copy).
inline ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
// Views bytes as a string_view (no copy).
inline std::string_view AsStringView(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteSpan b) { return std::string(AsStringView(b)); }

// Lower-case hex of `b`.
std::string HexEncode(ByteSpan b);
// Decodes hex (either case). kInvalidArgument for an odd length or a non-hex character.
StatusOr<Bytes> HexDecode(std::string_view hex);

}  // namespace libp2p

#endif  // LIBP2P_BASE_BYTES_H_
