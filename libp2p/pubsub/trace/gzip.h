// gzip streams (RFC 1952) on zlib, incremental both ways: what the remote tracer's protocol is wrapped in
// (go's compress/gzip on the tracer's side, gzip.NewReader on the collector's).
#ifndef LIBP2P_PUBSUB_TRACE_GZIP_H_
#define LIBP2P_PUBSUB_TRACE_GZIP_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "libp2p/base/status.h"

namespace libp2p::pubsub::trace {

// Compresses one gzip member: header, deflate blocks, and (after Finish) the CRC-32 and length trailer.
// Not thread-safe; movable only through a pointer.
class GzipWriter {
 public:
  // `level`: zlib's 0 (store) to 9 (smallest); 1, the fastest, is the default here because the remote tracer
  // compresses on the loop thread (go's gzip.NewWriter uses 6).
  explicit GzipWriter(int level = 1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // Compresses `data`, appending what zlib emits to `out`. With `sync_flush` the output ends on a byte
  // boundary with an empty stored block (Z_SYNC_FLUSH, Go's Flush()), so that a reader can decompress all
  // of `data` from what was appended so far. kInternal when zlib failed (it only fails for lack of memory);
  // kFailedPrecondition after Finish().
  Status Write(std::string_view data, bool sync_flush, std::string* out);
  // Ends the member, appending the last blocks and the trailer. kFailedPrecondition when already finished.
  Status Finish(std::string* out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Decompresses gzip input fed in pieces of any size, handing the output on in pieces of at most kChunkSize
// bytes, so that memory stays bounded whatever the compression ratio. Accepts several members one after
// another (as Go's gzip.Reader does). Not thread-safe.
class GzipReader {
 public:
  static constexpr size_t kChunkSize = 64 * 1024;
  // Receives decompressed bytes (valid for the call); a non-OK status stops decompression and is returned by
  // Feed().
  using OutputFn = std::function<Status(std::string_view)>;

  GzipReader();
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Decompresses `in`, calling `on_output` for the output. kInvalidArgument when the input is not gzip or is
  // corrupt (bad header, bad deflate data, a CRC or length mismatch), kInternal when zlib ran out of memory,
  // or `on_output`'s error. After a failure every call returns the same error.
  Status Feed(std::string_view in, const OutputFn& on_output);
  // Whether the input so far ends exactly at the end of a member (nothing is cut).
  bool at_member_end() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Decompresses a whole gzip file into a string, refusing output beyond `max_output` (kOutOfRange).
StatusOr<std::string> Gunzip(std::string_view in, size_t max_output);

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_GZIP_H_
