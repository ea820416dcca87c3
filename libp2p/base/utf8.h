// Well-formed UTF-8 (RFC 3629), for the writers of JSON and of Prometheus' text that must not pass on bytes a
// peer sent as they are.
#ifndef LIBP2P_BASE_UTF8_H_
#define LIBP2P_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace libp2p {

// The length of the well-formed UTF-8 sequence at s[i] (1 to 4; `i` < s.size()), or 0 when there is none there:
// a stray continuation byte, an overlong form, a surrogate, a code point above U+10FFFF, or a sequence cut by
// the end of `s`.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Whether all of `s` is well-formed UTF-8.
bool IsUtf8(std::string_view s);

}  // namespace libp2p

#endif  // LIBP2P_BASE_UTF8_H_
