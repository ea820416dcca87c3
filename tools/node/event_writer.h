// NDJSON events of the node program (docs/cli.md): one JSON object per line on standard output,
// flushed per line, each with "event" and "time_ms".
#ifndef TOOLS_NODE_EVENT_WRITER_H_
#define TOOLS_NODE_EVENT_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace libp2p::node {

// Builds one event; Emit() writes it. Strings are escaped as JSON requires; bytes that are not well-formed
// UTF-8 are escaped as \u00XX of the byte, so the output is always valid JSON.
class Event {
 public:
  explicit Event(std::string_view name);
  Event& Str(std::string_view key, std::string_view value);
  Event& Int(std::string_view key, int64_t value);
  Event& Num(std::string_view key, double value);
  Event& Bool(std::string_view key, bool value);
  Event& StrList(std::string_view key, const std::vector<std::string>& values);
  // Writes the line to `out` (stdout by default) and flushes it.
  void Emit(std::FILE* out = stdout) const;
  const std::string& json() const { return json_; }

 private:
  void Key(std::string_view key);
  std::string json_;
};

// Appends `s` as a JSON string literal.
void AppendJsonString(std::string_view s, std::string* out);

// The length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 when there is none there (a stray
// continuation byte, an overlong form, a surrogate, a code point above U+10FFFF, or a cut sequence).
size_t Utf8SequenceLength(std::string_view s, size_t i);
// Whether all of `s` is well-formed UTF-8.
bool IsUtf8(std::string_view s);

}  // namespace libp2p::node

#endif  // TOOLS_NODE_EVENT_WRITER_H_
