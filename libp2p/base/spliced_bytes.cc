#include "libp2p/base/spliced_bytes.h"

#include <cassert>

namespace libp2p {

SplicedBytes::SplicedBytes(Bytes own, std::vector<Splice> splices)
    : own_(std::move(own)), splices_(std::move(splices)) {
  size_t last_at = 0;
  for (const Splice& s : splices_) {
    assert(s.at >= last_at && s.at <= own_.size());
    last_at = s.at;
    spliced_ += s.data.size();
  }
  (void)last_at;
}

Bytes SplicedBytes::Flat() && {
  if (splices_.empty()) return std::move(own_);
  Bytes out;
  out.reserve(size());
  ForEachPiece([&out](ByteSpan piece) { out.insert(out.end(), piece.begin(), piece.end()); });
  own_.clear();
  splices_.clear();
  spliced_ = 0;
  return out;
}

}  // namespace libp2p
