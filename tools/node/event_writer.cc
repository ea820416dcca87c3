#include "tools/node/event_writer.h"

#include <chrono>
#include <cmath>

namespace libp2p::node {

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
