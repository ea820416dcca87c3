#include "libp2p/pubsub/trace/go_json.h"

#include <cstdint>

#include "libp2p/base/utf8.h"

namespace libp2p::pubsub::trace {
namespace {

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

void AppendGoJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t start = 0;  // The first byte not yet copied.
  size_t i = 0;
  const auto copy_pending = [&] { out->append(s.data() + start, i - start); };
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') {
        ++i;
        continue;
      }
      copy_pending();
      switch (b) {
        case '"':
        case '\\':
          out->push_back('\\');
          out->push_back(static_cast<char>(b));
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 0xf]);
      }
      start = ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      copy_pending();
      out->append("\\ufffd");
      start = ++i;
      continue;
    }
    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
    if (len == 3 && b == 0xe2 && static_cast<uint8_t>(s[i + 1]) == 0x80 &&
        (static_cast<uint8_t>(s[i + 2]) & 0xfe) == 0xa8) {
      copy_pending();
      out->append("\\u202");
      out->push_back(kHex[static_cast<uint8_t>(s[i + 2]) & 0xf]);
      start = i += 3;
      continue;
    }
    i += len;
  }
  copy_pending();
  out->push_back('"');
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  const size_t begin = out->size();
  out->resize(begin + (n + 2) / 3 * 4);
  char* w = out->data() + begin;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 | p[i + 2];
    *w++ = kAlphabet[v >> 18];
    *w++ = kAlphabet[(v >> 12) & 63];
    *w++ = kAlphabet[(v >> 6) & 63];
    *w++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    *w++ = kAlphabet[v >> 18];
    *w++ = kAlphabet[(v >> 12) & 63];
    *w++ = '=';
    *w++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8;
    *w++ = kAlphabet[v >> 18];
    *w++ = kAlphabet[(v >> 12) & 63];
    *w++ = kAlphabet[(v >> 6) & 63];
    *w++ = '=';
  }
}

}  // namespace libp2p::pubsub::trace
