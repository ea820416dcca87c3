// NDJSON events of the node program (docs/cli.md): one JSON object per line on standard output,
// flushed per line, each with "event" and "time_ms".
#ifndef TOOLS_NODE_EVENT_WRITER_H_
#define TOOLS_NODE_EVENT_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/utf8.h"

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

}  // namespace libp2p::node

#endif  // TOOLS_NODE_EVENT_WRITER_H_
