#include "libp2p/pubsub/trace/gzip.h"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "zlib.h"

namespace libp2p::pubsub::trace {
namespace {

// windowBits 15 plus 16: a gzip header and trailer instead of zlib's.
constexpr int kGzipWindowBits = 15 + 16;
// zlib counts in uInt; inputs are fed in pieces no larger than this.
constexpr size_t kMaxPiece = 1 << 30;

Bytef* InPtr(std::string_view s) { return reinterpret_cast<Bytef*>(const_cast<char*>(s.data())); }

}  // namespace

struct GzipWriter::State {
  z_stream z{};
  bool ok = false;
  bool finished = false;
};

GzipWriter::GzipWriter(int level) : state_(std::make_unique<State>()) {
  state_->ok = deflateInit2(&state_->z, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipWriter::~GzipWriter() {
  if (state_->ok) deflateEnd(&state_->z);
}

namespace {

// Runs deflate with `flush` over `in` until zlib has taken all of it and emitted everything `flush` asks for.
Status Deflate(z_stream* z, std::string_view in, int flush, std::string* out) {
  do {
    const size_t piece = std::min(in.size(), kMaxPiece);
    z->next_in = InPtr(in);
    z->avail_in = static_cast<uInt>(piece);
    in.remove_prefix(piece);
    const int piece_flush = in.empty() ? flush : Z_NO_FLUSH;
    for (;;) {
      // deflateBound-sized room is not needed: zlib resumes where it stopped.
      const size_t at = out->size();
      const size_t room = std::max<size_t>(piece / 2 + 64, 4096);
      out->resize(at + room);
      z->next_out = reinterpret_cast<Bytef*>(out->data() + at);
      z->avail_out = static_cast<uInt>(room);
      const int rc = deflate(z, piece_flush);
      out->resize(at + (room - z->avail_out));
      if (rc == Z_STREAM_END) return OkStatus();
      if (rc != Z_OK && rc != Z_BUF_ERROR) return InternalError("deflate failed: " + std::to_string(rc));
      // Done with this piece when zlib took all input and did not fill the output (nothing more to emit).
      if (z->avail_in == 0 && z->avail_out != 0) break;
    }
  } while (!in.empty());
  return OkStatus();
}

}  // namespace

Status GzipWriter::Write(std::string_view data, bool sync_flush, std::string* out) {
  if (!state_->ok) return InternalError("deflateInit2 failed");
  if (state_->finished) return FailedPreconditionError("gzip stream already finished");
  return Deflate(&state_->z, data, sync_flush ? Z_SYNC_FLUSH : Z_NO_FLUSH, out);
}

Status GzipWriter::Finish(std::string* out) {
  if (!state_->ok) return InternalError("deflateInit2 failed");
  if (state_->finished) return FailedPreconditionError("gzip stream already finished");
  state_->finished = true;
  return Deflate(&state_->z, {}, Z_FINISH, out);
}

struct GzipReader::State {
  z_stream z{};
  bool init_ok = false;
  Status error;
  // Inside a member (false before the first header and right after a member's end).
  bool in_member = false;
  char out[kChunkSize];
};

GzipReader::GzipReader() : state_(std::make_unique<State>()) {
  state_->init_ok = inflateInit2(&state_->z, kGzipWindowBits) == Z_OK;
  if (!state_->init_ok) state_->error = InternalError("inflateInit2 failed");
}

GzipReader::~GzipReader() {
  if (state_->init_ok) inflateEnd(&state_->z);
}

bool GzipReader::at_member_end() const { return state_->error.ok() && !state_->in_member; }

Status GzipReader::Feed(std::string_view in, const OutputFn& on_output) {
  State& s = *state_;
  if (!s.error.ok()) return s.error;
  while (!in.empty()) {
    const size_t piece = std::min(in.size(), kMaxPiece);
    s.z.next_in = InPtr(in);
    s.z.avail_in = static_cast<uInt>(piece);
    // Until zlib has taken the whole piece and has nothing left to emit (a full output buffer may mean more
    // is pending inside it even when all input was taken).
    bool output_full = false;
    while (s.z.avail_in > 0 || output_full) {
      if (s.z.avail_in > 0) s.in_member = true;
      s.z.next_out = reinterpret_cast<Bytef*>(s.out);
      s.z.avail_out = sizeof(s.out);
      const int rc = inflate(&s.z, Z_NO_FLUSH);
      const size_t produced = sizeof(s.out) - s.z.avail_out;
      output_full = s.z.avail_out == 0;
      // What was decoded before an error is handed on first, so that the output before an error does not
      // depend on how the input was split.
      if (produced > 0) {
        Status st = on_output(std::string_view(s.out, produced));
        if (!st.ok()) return s.error = st;
      }
      if (rc == Z_BUF_ERROR && s.z.avail_in == 0) break;  // Nothing pending after all.
      if (rc != Z_OK && rc != Z_STREAM_END) {
        s.error = rc == Z_MEM_ERROR ? InternalError("inflate: out of memory")
                                    : InvalidArgumentError(std::string("not a valid gzip stream: ") +
                                                           (s.z.msg != nullptr ? s.z.msg : "inflate failed"));
        return s.error;
      }
      if (rc == Z_STREAM_END) {
        // The next bytes, if any, start another member.
        s.in_member = false;
        output_full = false;
        if (inflateReset(&s.z) != Z_OK) return s.error = InternalError("inflateReset failed");
      }
    }
    in.remove_prefix(piece);
  }
  return OkStatus();
}

StatusOr<std::string> Gunzip(std::string_view in, size_t max_output) {
  GzipReader reader;
  std::string out;
  RETURN_IF_ERROR(reader.Feed(in, [&](std::string_view chunk) {
    if (chunk.size() > max_output - out.size()) return OutOfRangeError("gzip output over the limit");
    out.append(chunk);
    return OkStatus();
  }));
  if (!reader.at_member_end()) return InvalidArgumentError("gzip stream cut short");
  return out;
}

}  // namespace libp2p::pubsub::trace
