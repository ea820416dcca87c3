#include "tools/node/event_writer.h"

#include <chrono>
#include <cmath>

namespace libp2p::node {

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': *out += "\\\""; continue;
      case '\\': *out += "\\\\"; continue;
      case '\n': *out += "\\n"; continue;
      case '\r': *out += "\\r"; continue;
      case '\t': *out += "\\t"; continue;
      default: break;
    }
    if (c >= 0x80) {
      // Well-formed UTF-8 passes through; anything else is escaped byte by byte.
      if (const size_t len = Utf8SequenceLength(s, i); len > 0) {
        out->append(s.substr(i, len));
        i += len - 1;
        continue;
      }
    }
    if (c < 0x20 || c >= 0x80) {
      *out += "\\u00";
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
      continue;
    }
    out->push_back(static_cast<char>(c));
  }
  out->push_back('"');
}

Event::Event(std::string_view name) {
  json_ = "{\"event\":";
  AppendJsonString(name, &json_);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  json_ += ",\"time_ms\":" + std::to_string(ms);
}

void Event::Key(std::string_view key) {
  json_.push_back(',');
  AppendJsonString(key, &json_);
  json_.push_back(':');
}

Event& Event::Str(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(value, &json_);
  return *this;
}

Event& Event::Int(std::string_view key, int64_t value) {
  Key(key);
  json_ += std::to_string(value);
  return *this;
}

Event& Event::Num(std::string_view key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    json_ += "null";
    return *this;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", value);
  json_ += buf;
  return *this;
}

Event& Event::Bool(std::string_view key, bool value) {
  Key(key);
  json_ += value ? "true" : "false";
  return *this;
}

Event& Event::StrList(std::string_view key, const std::vector<std::string>& values) {
  Key(key);
  json_.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) json_.push_back(',');
    AppendJsonString(values[i], &json_);
  }
  json_.push_back(']');
  return *this;
}

void Event::Emit(std::FILE* out) const {
  std::fwrite(json_.data(), 1, json_.size(), out);
  std::fputc('}', out);
  std::fputc('\n', out);
  std::fflush(out);
}

}  // namespace libp2p::node
