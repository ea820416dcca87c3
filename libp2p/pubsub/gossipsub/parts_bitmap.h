// A set of part indices as parts metadata: the common encoding of partial messages' metadata (go-libp2p-
// pubsub's bitmap and the test-plans vector use it): bit i is bit i % 8 (least significant first) of byte
// i / 8. A value class; the bytes are what goes on the wire.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PARTS_BITMAP_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PARTS_BITMAP_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace libp2p::pubsub::gossipsub {

class PartsBitmap {
 public:
  // An empty set of `parts` parts (parts > 0).
  explicit PartsBitmap(size_t parts) : parts_(parts), bytes_((parts + 7) / 8, '\0') {}
  // The set `metadata` encodes for `parts` parts, or nothing when its length is not (parts + 7) / 8 bytes
  // or it names a part beyond `parts` (a peer's metadata: check before use).
  static std::optional<PartsBitmap> Parse(std::string_view metadata, size_t parts);
  // Every one of `parts` parts.
  static PartsBitmap All(size_t parts);

  size_t parts() const { return parts_; }
  // Indices at or beyond parts() are never set; Set() ignores them.
  bool Get(size_t i) const { return i < parts_ && (bytes_[i / 8] >> (i % 8)) & 1; }
  void Set(size_t i);
  void Clear(size_t i);
  size_t Count() const;
  bool Complete() const { return Count() == parts_; }
  bool Empty() const { return Count() == 0; }

  // Set operations with a bitmap of the same part count (a different count is treated as empty).
  PartsBitmap& operator|=(const PartsBitmap& other);
  // The parts this set has and `other` lacks.
  PartsBitmap Minus(const PartsBitmap& other) const;
  bool operator==(const PartsBitmap& other) const { return parts_ == other.parts_ && bytes_ == other.bytes_; }

  const std::string& bytes() const { return bytes_; }

 private:
  size_t parts_;
  std::string bytes_;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PARTS_BITMAP_H_
