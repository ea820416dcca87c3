#include "libp2p/pubsub/trace/trace_batch_codec.h"

#include "libp2p/base/varint.h"

namespace libp2p::pubsub::trace {

size_t AppendEventToBatch(const tracepb::TraceEvent& event, std::string* batch) {
  const size_t before = batch->size();
  const size_t size = event.ByteSizeLong();
  batch->push_back(static_cast<char>((1 << 3) | 2));  // Field 1, length-delimited.
  AppendUvarint(size, batch);
  batch->resize(batch->size() + size);
  event.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(batch->data() + batch->size() - size));
  return batch->size() - before;
}

Status TraceBatchEncoder::Encode(std::string_view batch, std::string* out) {
  frame_.clear();
  AppendUvarint(batch.size(), &frame_);
  frame_.append(batch);
  return gzip_.Write(frame_, /*sync_flush=*/true, out);
}

TraceBatchDecoder::TraceBatchDecoder(BatchFn on_batch, size_t max_batch_size)
    : on_batch_(std::move(on_batch)), max_batch_size_(max_batch_size) {}

Status TraceBatchDecoder::Feed(std::string_view data) {
  return gzip_.Feed(data, [this](std::string_view bytes) { return OnDecompressed(bytes); });
}

Status TraceBatchDecoder::OnDecompressed(std::string_view bytes) {
  pending_.append(bytes);
  for (;;) {
    ByteSpan rest = AsBytes(std::string_view(pending_).substr(consumed_));
    if (rest.empty()) break;
    const UvarintDecode len = DecodeUvarint(rest);
    if (len.error == UvarintError::kIncomplete) break;
    if (len.error != UvarintError::kNone) {
      return InvalidArgumentError(std::string("bad batch length: ") + UvarintErrorMessage(len.error));
    }
    if (len.value > max_batch_size_) {
      return OutOfRangeError("trace batch of " + std::to_string(len.value) + " bytes, over the limit of " +
                             std::to_string(max_batch_size_));
    }
    if (rest.size() - len.length < len.value) break;  // The rest of the batch is still to come.
    if (!batch_.ParseFromArray(rest.data() + len.length, static_cast<int>(len.value))) {
      return InvalidArgumentError("trace batch does not parse");
    }
    consumed_ += len.length + len.value;
    ++batches_;
    on_batch_(batch_);
  }
  // Drop what was decoded once it is most of the buffer, so that the buffer holds one batch at most (and
  // one decompressed chunk) without moving bytes for every batch.
  if (consumed_ > 0 && consumed_ >= pending_.size() / 2) {
    pending_.erase(0, consumed_);
    consumed_ = 0;
  }
  return OkStatus();
}

}  // namespace libp2p::pubsub::trace
