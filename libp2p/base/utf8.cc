#include "libp2p/base/utf8.h"

namespace libp2p {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  // The lead byte gives the length and the range of the second byte (which rules out overlong forms,
  // surrogates and code points above U+10FFFF); the others are 80..BF.
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size() || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
  }
  return len;
}

bool IsUtf8(std::string_view s) {
  for (size_t i = 0, len; i < s.size(); i += len) {
    if ((len = Utf8SequenceLength(s, i)) == 0) return false;
  }
  return true;
}

}  // namespace libp2p
