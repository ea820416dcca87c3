// SplicedBytes: a run of bytes held as a buffer of its own with views of shared buffers spliced in, so that
// a message written to many peers can wait in each peer's queue without a copy per peer.
#ifndef LIBP2P_BASE_SPLICED_BYTES_H_
#define LIBP2P_BASE_SPLICED_BYTES_H_

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "libp2p/base/bytes.h"

namespace libp2p {

// The bytes are own() with each splice's bytes inserted before own()[at] (at own().size(): at the end), in
// the order of the splices. A splice views a buffer that others may share and that no one changes once it
// is shared; the splice holds it alive (shared ownership), so a SplicedBytes may be moved to another thread
// with the buffer (its count is atomic). Movable, not copyable: copies are what it exists to avoid.
class SplicedBytes {
 public:
  struct Splice {
    size_t at = 0;   // Before own()[at].
    ByteSpan data;   // Within *owner.
    std::shared_ptr<const Bytes> owner;
  };

  SplicedBytes() = default;
  explicit SplicedBytes(Bytes own) : own_(std::move(own)) {}
  // `splices` must be in order of `at`, each at most own.size() (asserted in debug builds).
  SplicedBytes(Bytes own, std::vector<Splice> splices);
  SplicedBytes(SplicedBytes&&) noexcept = default;
  SplicedBytes& operator=(SplicedBytes&&) noexcept = default;
  SplicedBytes(const SplicedBytes&) = delete;
  SplicedBytes& operator=(const SplicedBytes&) = delete;

  size_t size() const { return own_.size() + spliced_; }
  bool empty() const { return size() == 0; }
  bool has_splices() const { return !splices_.empty(); }
  const Bytes& own() const { return own_; }
  Bytes& own() { return own_; }

  // All the bytes in one buffer: own() itself when nothing is spliced (no copy), else a new buffer.
  Bytes Flat() &&;

  // Calls `f(ByteSpan)` with each piece of the bytes in order, own bytes and splices (empty pieces left out).
  template <typename F>
  void ForEachPiece(F f) const {
    ForEachPiece(0, size(), f);
  }
  // The same for the `count` bytes from byte `from` on (from + count at most size()): the pieces cut to them.
  template <typename F>
  void ForEachPiece(size_t from, size_t count, F f) const {
    assert(from <= size() && count <= size() - from);
    size_t start = 0;  // Where the next piece begins among all the bytes.
    auto visit = [&](ByteSpan piece) {
      const size_t begin = std::max(start, from), end = std::min(start + piece.size(), from + count);
      if (begin < end) f(piece.subspan(begin - start, end - begin));
      start += piece.size();
    };
    size_t own_from = 0;  // Of own_, visited up to here.
    for (const Splice& s : splices_) {
      if (start >= from + count) return;
      visit(ByteSpan(own_).subspan(own_from, s.at - own_from));
      visit(s.data);
      own_from = s.at;
    }
    visit(ByteSpan(own_).subspan(own_from));
  }

 private:
  Bytes own_;
  std::vector<Splice> splices_;
  size_t spliced_ = 0;  // The splices' bytes.
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_SPLICED_BYTES_H_
