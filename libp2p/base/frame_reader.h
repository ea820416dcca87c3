// Reading and writing unsigned-varint length-prefixed frames, the framing of multistream-select, pubsub RPCs
// and identify messages.
#ifndef LIBP2P_BASE_FRAME_READER_H_
#define LIBP2P_BASE_FRAME_READER_H_

#include <array>
#include <cstddef>
#include <functional>
#include <string>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/base/varint.h"

namespace libp2p {

// Splits a byte stream into length-prefixed frames. Bytes may arrive split at any offset across any number of
// Feed() calls. A declared length above `max_frame_size` is refused as soon as its prefix is read, before any
// memory is set aside for it; a partial frame's buffer grows with its bytes as they arrive (never beyond 64 KiB
// or four times those bytes, whichever is more, nor beyond the frame).
//
// After an error the reader is failed: every later Feed() returns the same error without reading. The owner
// is expected to reset the stream.
class FrameReader {
 public:
  // Called once per complete frame, in order. The view is valid only during the call. A non-OK return stops
  // Feed(), which returns that status and leaves the reader failed.
  using FrameCallback = std::function<Status(ByteSpan frame)>;

  explicit FrameReader(size_t max_frame_size);

  // Consumes all of `data`, calling `on_frame` for each frame it completes. Returns kOutOfRange for an
  // oversized frame, kInvalidArgument for a malformed length prefix, or the callback's error.
  Status Feed(ByteSpan data, const FrameCallback& on_frame);

  // Bytes held of a frame not yet complete (prefix and body).
  size_t buffered_bytes() const { return header_size_ + body_.size(); }
  // Bytes set aside for the frame in progress (its buffer's capacity).
  size_t reserved_bytes() const { return body_.capacity(); }
  bool failed() const { return !error_.ok(); }
  size_t max_frame_size() const { return max_frame_size_; }

 private:
  Status Fail(Status status);
  // Checks a declared frame length against the limit.
  Status CheckLength(uint64_t length) const;

  const size_t max_frame_size_;
  // A length prefix split across reads.
  std::array<uint8_t, kMaxUvarintLength> header_{};
  size_t header_size_ = 0;
  // The frame in progress, once its prefix is known: `expected_` bytes, of which body_ holds those arrived.
  bool in_body_ = false;
  size_t expected_ = 0;
  Bytes body_;
  Status error_;
};

// Appends `payload` with its varint length prefix.
void AppendFrame(ByteSpan payload, Bytes* out);
void AppendFrame(ByteSpan payload, std::string* out);

}  // namespace libp2p

#endif  // LIBP2P_BASE_FRAME_READER_H_
