// Decodes a varint from arbitrary bytes. On success the value must re-encode to exactly the bytes consumed
// (minimal encoding, so decoding is a bijection); on failure nothing may be consumed.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "libp2p/base/varint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const libp2p::ByteSpan in(data, size);
  const libp2p::UvarintDecode d = libp2p::DecodeUvarint(in);
  if (d.error != libp2p::UvarintError::kNone) {
    if (d.length != 0) abort();
    return 0;
  }
  if (d.length == 0 || d.length > libp2p::kMaxUvarintLength || d.length > size) abort();
  if (d.value > libp2p::kMaxUvarintValue) abort();
  uint8_t buf[libp2p::kMaxUvarintLength];
  const size_t n = libp2p::EncodeUvarint(d.value, buf);
  if (n != d.length || std::memcmp(buf, data, n) != 0) abort();
  if (libp2p::UvarintLength(d.value) != n) abort();
  return 0;
}
