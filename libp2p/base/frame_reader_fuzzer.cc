// Feeds arbitrary bytes to a FrameReader in chunks chosen by the input, and checks that chunking changes
// nothing: the frames (and the final error) equal those of a single Feed(), and re-framing the frames gives
// back the bytes consumed. A declared length over the limit must fail with nothing buffered.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "libp2p/base/frame_reader.h"

using libp2p::ByteSpan;
using libp2p::FrameReader;
using libp2p::Status;

namespace {

struct Run {
  std::vector<std::string> frames;
  Status status;
  size_t buffered = 0;
};

Run FeedInChunks(ByteSpan stream, size_t max_frame, ByteSpan chunk_sizes) {
  FrameReader reader(max_frame);
  Run run;
  auto on_frame = [&](ByteSpan f) {
    if (f.size() > max_frame) abort();
    run.frames.push_back(libp2p::ToString(f));
    return libp2p::OkStatus();
  };
  size_t k = 0;
  while (!stream.empty() && run.status.ok()) {
    size_t n = chunk_sizes.empty() ? stream.size() : 1 + chunk_sizes[k++ % chunk_sizes.size()] % 64;
    if (n > stream.size()) n = stream.size();
    run.status = reader.Feed(stream.first(n), on_frame);
    stream = stream.subspan(n);
  }
  run.buffered = reader.buffered_bytes();
  if (reader.buffered_bytes() > max_frame + libp2p::kMaxUvarintLength) abort();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Header: the frame limit (0..1023) and the number of chunk-size bytes that follow.
  const size_t max_frame = ((size_t{data[0]} << 8) | data[1]) % 1024;
  if (size < 3) return 0;
  const size_t n_chunks = data[2] % 16;
  if (size < 3 + n_chunks) return 0;
  const ByteSpan chunks(data + 3, n_chunks);
  const ByteSpan stream(data + 3 + n_chunks, size - 3 - n_chunks);

  const Run whole = FeedInChunks(stream, max_frame, ByteSpan());
  const Run split = FeedInChunks(stream, max_frame, chunks);
  if (whole.frames != split.frames) abort();
  if (whole.status.code() != split.status.code()) abort();
  if (whole.status.ok() && whole.buffered != split.buffered) abort();

  if (whole.status.ok()) {
    // Round trip: the frames re-encoded are a prefix of the stream, and what is left is an incomplete frame:
    // alone it yields no frame and no error, and the reader holds no more of it than arrived.
    std::string reencoded;
    for (const auto& f : whole.frames) libp2p::AppendFrame(libp2p::AsBytes(f), &reencoded);
    if (reencoded.size() > stream.size()) abort();
    if (reencoded != libp2p::AsStringView(stream.first(reencoded.size()))) abort();
    const ByteSpan tail = stream.subspan(reencoded.size());
    if (whole.buffered > tail.size()) abort();
    const Run rest = FeedInChunks(tail, max_frame, ByteSpan());
    if (!rest.status.ok() || !rest.frames.empty()) abort();
  }
  return 0;
}
