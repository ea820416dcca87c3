#include "libp2p/pubsub/trace/trace_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace libp2p::pubsub::trace {

StatusOr<std::unique_ptr<TraceFile>> TraceFile::Create(const std::string& path, size_t flush_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InternalError("cannot open " + path + ": " + std::strerror(errno));
  return std::make_unique<TraceFile>(fd, /*owned=*/true, flush_bytes);
}

TraceFile::TraceFile(int fd, bool owned, size_t flush_bytes) : fd_(fd), owned_(owned), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes_ + 1024);
}

TraceFile::TraceFile(std::FILE* file, bool owned, size_t flush_bytes)
    : file_(file), owned_(owned), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes_ + 1024);
}

TraceFile::~TraceFile() {
  Flush().IgnoreError();  // Counted in stats_.
  if (!owned_) return;
  if (file_ != nullptr) std::fclose(file_);
  if (fd_ >= 0) ::close(fd_);
}

void TraceFile::EndRecord() {
  ++stats_.records;
  ++pending_records_;
  if (buffer_.size() >= flush_bytes_) WriteBuffer().IgnoreError();  // Counted in stats_.
}

Status TraceFile::Flush() {
  Status s = WriteBuffer();
  if (s.ok() && file_ != nullptr && std::fflush(file_) != 0) {
    ++stats_.write_errors;
    s = last_error_ = InternalError(std::string("fflush: ") + std::strerror(errno));
  }
  return s;
}

Status TraceFile::WriteBuffer() {
  if (buffer_.empty()) return OkStatus();
  Status s;
  if (file_ != nullptr) {
    const size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
    stats_.bytes_written += n;
    if (n != buffer_.size()) s = InternalError(std::string("fwrite: ") + std::strerror(errno));
  } else {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        s = InternalError(std::string("write: ") + (n < 0 ? std::strerror(errno) : "no progress"));
        break;
      }
      done += static_cast<size_t>(n);
    }
    stats_.bytes_written += done;
  }
  if (!s.ok()) {
    // A partial record may be on disk: readers of the file stop at it, as they would after a crash.
    ++stats_.write_errors;
    stats_.records_lost += pending_records_;
    last_error_ = s;
  }
  buffer_.clear();
  pending_records_ = 0;
  return s;
}

}  // namespace libp2p::pubsub::trace
