#include "libp2p/base/frame_reader.h"

#include <algorithm>
#include <string>

namespace libp2p {
namespace {

// A partial frame's buffer grows with the bytes that arrive, starting at most this large, so a peer cannot
// make us reserve a whole maximum-size frame by sending only its prefix.
constexpr size_t kInitialBodyReserve = 64 * 1024;
// How much a partial frame's buffer grows when it is full (up to the frame's size).
constexpr size_t kBodyGrowth = 4;

}  // namespace

FrameReader::FrameReader(size_t max_frame_size) : max_frame_size_(max_frame_size) {}

Status FrameReader::Fail(Status status) {
  error_ = status;
  header_size_ = 0;
  in_body_ = false;
  Bytes().swap(body_);
  return status;
}

Status FrameReader::CheckLength(uint64_t length) const {
  if (length > max_frame_size_) {
    return OutOfRangeError("frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                           std::to_string(max_frame_size_));
  }
  return OkStatus();
}

Status FrameReader::Feed(ByteSpan data, const FrameCallback& on_frame) {
  if (!error_.ok()) return error_;
  while (!data.empty()) {
    if (in_body_) {
      // Completing a frame that started in an earlier Feed().
      const size_t take = std::min(expected_ - body_.size(), data.size());
      if (body_.size() + take > body_.capacity()) {
        // Four times larger at each step, but never past the frame: the buffer stays within four times the
        // bytes that arrived, and a large frame arriving in reads of 64 KiB is moved once or twice on the way
        // (doubling a vector moves a frame of just over twice the first read twice, and reserves twice it).
        body_.reserve(std::min(expected_, std::max(body_.size() + take, kBodyGrowth * body_.capacity())));
      }
      body_.insert(body_.end(), data.begin(), data.begin() + take);
      data = data.subspan(take);
      if (body_.size() < expected_) return OkStatus();
      in_body_ = false;
      Status s = on_frame(ByteSpan(body_));
      body_.clear();
      if (body_.capacity() > kInitialBodyReserve) Bytes().swap(body_);
      if (!s.ok()) return Fail(std::move(s));
      continue;
    }
    if (header_size_ > 0) {
      // A prefix split across reads: gather it byte by byte (at most 9 bytes, so this is not a hot path).
      header_[header_size_++] = data[0];
      data = data.subspan(1);
      const UvarintDecode d = DecodeUvarint(ByteSpan(header_.data(), header_size_));
      if (d.error == UvarintError::kIncomplete) continue;
      if (d.error != UvarintError::kNone) return Fail(InvalidArgumentError(UvarintErrorMessage(d.error)));
      header_size_ = 0;
      if (Status s = CheckLength(d.value); !s.ok()) return Fail(std::move(s));
      expected_ = static_cast<size_t>(d.value);
      if (expected_ == 0) {
        if (Status s2 = on_frame(ByteSpan()); !s2.ok()) return Fail(std::move(s2));
        continue;
      }
      in_body_ = true;
      body_.reserve(std::min(expected_, kInitialBodyReserve));
      continue;
    }
    // At a frame boundary: deliver whole frames straight from `data`, without copying.
    const UvarintDecode d = DecodeUvarint(data);
    if (d.error == UvarintError::kIncomplete) {
      std::copy(data.begin(), data.end(), header_.begin());
      header_size_ = data.size();
      return OkStatus();
    }
    if (d.error != UvarintError::kNone) return Fail(InvalidArgumentError(UvarintErrorMessage(d.error)));
    if (Status s = CheckLength(d.value); !s.ok()) return Fail(std::move(s));
    const size_t length = static_cast<size_t>(d.value);
    data = data.subspan(d.length);
    if (data.size() >= length) {
      if (Status s = on_frame(data.first(length)); !s.ok()) return Fail(std::move(s));
      data = data.subspan(length);
      continue;
    }
    expected_ = length;
    in_body_ = true;
    // Room for four times what arrived (at least kInitialBodyReserve), as the growth below would give: a
    // frame of up to four of its first reads is never moved.
    body_.reserve(std::min(expected_, std::max(kInitialBodyReserve, kBodyGrowth * data.size())));
    body_.assign(data.begin(), data.end());
    return OkStatus();
  }
  return OkStatus();
}

void AppendFrame(ByteSpan payload, Bytes* out) {
  AppendUvarint(payload.size(), out);
  out->insert(out->end(), payload.begin(), payload.end());
}

void AppendFrame(ByteSpan payload, std::string* out) {
  AppendUvarint(payload.size(), out);
  out->append(reinterpret_cast<const char*>(payload.data()), payload.size());
}

}  // namespace libp2p
