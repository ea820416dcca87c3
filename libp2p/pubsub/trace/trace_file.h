// The buffered output behind the trace writers: records (JSON lines, delimited protobufs) are appended into
// one reused buffer, which goes to a file descriptor or a FILE* in large writes.
#ifndef LIBP2P_PUBSUB_TRACE_TRACE_FILE_H_
#define LIBP2P_PUBSUB_TRACE_TRACE_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "libp2p/base/status.h"

namespace libp2p::pubsub::trace {

struct TraceFileStats {
  uint64_t records = 0;        // Records appended (EndRecord calls).
  uint64_t bytes_written = 0;  // Bytes the file took.
  uint64_t write_errors = 0;   // Writes that failed; each dropped what was buffered.
  uint64_t records_lost = 0;   // Records dropped by failed writes.
};

// A write-only trace file. A caller appends one record to buffer() and calls EndRecord(); once the buffer
// holds `flush_bytes` or more it is written out (0: after every record). Flush() writes what is left;
// the destructor does too.
//
// Writes happen on the caller's thread, synchronously (the pubsub loop thread, for the writers of
// event_tracer's events): one write(2) per `flush_bytes`, to a regular file or a blocking pipe. A
// non-blocking descriptor that would block counts as a failure. A failed write never throws or aborts: what
// was buffered is dropped and counted, the error kept in last_error(), and later records are tried again.
// Writing to a pipe whose reader has gone raises SIGPIPE unless the program ignores it (the node program
// does). Not thread-safe.
class TraceFile {
 public:
  static constexpr size_t kDefaultFlushBytes = 64 * 1024;

  // Creates `path` (or truncates it; mode 0644) and writes to it; the destructor closes it. kInternal with
  // the OS's reason when it cannot be opened.
  static StatusOr<std::unique_ptr<TraceFile>> Create(const std::string& path, size_t flush_bytes = kDefaultFlushBytes);
  // Writes to `fd` with write(2); the destructor closes it only when `owned`.
  TraceFile(int fd, bool owned, size_t flush_bytes = kDefaultFlushBytes);
  // Writes to `file` with fwrite(), and fflush() on Flush(); the destructor fcloses it only when `owned`.
  TraceFile(std::FILE* file, bool owned, size_t flush_bytes = kDefaultFlushBytes);
  // Flushes (errors are counted, not reported), then closes what it owns.
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // The buffer to append one record to. Its memory is reused from record to record.
  std::string* buffer() { return &buffer_; }
  // Ends the record appended since the last call; writes the buffer out when it has reached flush_bytes.
  void EndRecord();
  // Writes out everything buffered (and fflush()es a FILE*). Returns this flush's error, if any.
  Status Flush();

  // The most recent write error; OK when there was none.
  const Status& last_error() const { return last_error_; }
  const TraceFileStats& stats() const { return stats_; }

 private:
  // Writes `buffer_` out and clears it; on failure counts the pending records as lost.
  Status WriteBuffer();

  const int fd_ = -1;
  std::FILE* const file_ = nullptr;
  const bool owned_;
  const size_t flush_bytes_;
  std::string buffer_;
  uint64_t pending_records_ = 0;  // Records in buffer_.
  Status last_error_;
  TraceFileStats stats_;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_TRACE_FILE_H_
