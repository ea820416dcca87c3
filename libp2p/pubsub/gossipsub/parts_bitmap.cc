#include "libp2p/pubsub/gossipsub/parts_bitmap.h"

#include <bit>

namespace libp2p::pubsub::gossipsub {

std::optional<PartsBitmap> PartsBitmap::Parse(std::string_view metadata, size_t parts) {
  PartsBitmap out(parts);
  if (metadata.size() != out.bytes_.size()) return std::nullopt;
  out.bytes_.assign(metadata.data(), metadata.size());
  // The last byte's bits past the part count must be clear.
  if (parts % 8 != 0 && (static_cast<unsigned char>(out.bytes_.back()) >> (parts % 8)) != 0) return std::nullopt;
  return out;
}

PartsBitmap PartsBitmap::All(size_t parts) {
  PartsBitmap out(parts);
  for (size_t i = 0; i < parts; ++i) out.Set(i);
  return out;
}

void PartsBitmap::Set(size_t i) {
  if (i < parts_) bytes_[i / 8] = static_cast<char>(bytes_[i / 8] | (1 << (i % 8)));
}

void PartsBitmap::Clear(size_t i) {
  if (i < parts_) bytes_[i / 8] = static_cast<char>(bytes_[i / 8] & ~(1 << (i % 8)));
}

size_t PartsBitmap::Count() const {
  size_t n = 0;
  for (char c : bytes_) n += static_cast<size_t>(std::popcount(static_cast<unsigned char>(c)));
  return n;
}

PartsBitmap& PartsBitmap::operator|=(const PartsBitmap& other) {
  if (other.parts_ != parts_) return *this;
  for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<char>(bytes_[i] | other.bytes_[i]);
  return *this;
}

PartsBitmap PartsBitmap::Minus(const PartsBitmap& other) const {
  PartsBitmap out = *this;
  if (other.parts_ != parts_) return out;
  for (size_t i = 0; i < bytes_.size(); ++i) out.bytes_[i] = static_cast<char>(bytes_[i] & ~other.bytes_[i]);
  return out;
}

}  // namespace libp2p::pubsub::gossipsub
