// The pieces of Go's encoding/json output that a JSON trace line is made of, byte for byte as go's
// JSONTracer writes them (a json.Encoder with its default HTML escaping), so that files are identical.
#ifndef LIBP2P_PUBSUB_TRACE_GO_JSON_H_
#define LIBP2P_PUBSUB_TRACE_GO_JSON_H_

#include <string>
#include <string_view>

namespace libp2p::pubsub::trace {

// Appends `s` as a quoted JSON string, escaped as Go 1.22 and later escape (encoding/json with
// SetEscapeHTML(true), the Encoder's default):
// - `"` and `\` as \" and \\; \b \f \n \r \t by their short escapes (Go 1.21 and older wrote \b and \f as
//   \u0008 and \u000c: the one difference between versions);
// - the other bytes below 0x20, and `<`, `>`, `&`, as \u00XX with lower-case hex (\u003c \u003e \u0026);
// - U+2028 and U+2029 as \u2028 and \u2029;
// - each byte that does not start a well-formed UTF-8 sequence (a stray continuation byte, an overlong form,
//   a surrogate, a code point above U+10FFFF, a cut sequence) as \ufffd, one per byte;
// - everything else (DEL included) as is.
void AppendGoJsonString(std::string_view s, std::string* out);

// Appends `bytes` in standard base64 (RFC 4648, '+' and '/', '=' padding), unquoted: how Go marshals []byte.
void AppendBase64(std::string_view bytes, std::string* out);

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_GO_JSON_H_
