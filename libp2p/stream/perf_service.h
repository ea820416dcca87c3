// Perf (/perf/1.0.0, perf.h) on a Host: a server that answers perf streams, and one measurement against a
// connected peer.
#ifndef LIBP2P_STREAM_PERF_SERVICE_H_
#define LIBP2P_STREAM_PERF_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/perf.h"

namespace libp2p::stream {

struct PerfServerOptions {
  PerfResponderOptions responder;
  // Perf streams answered at once; a stream beyond is reset as it arrives (counted in refused_busy).
  size_t max_streams = 16;
};

struct PerfServerStats {
  uint64_t completed = 0;        // Streams answered in full.
  uint64_t failed = 0;           // Streams that failed, were refused by the responder or timed out (reset).
  uint64_t refused_busy = 0;     // Streams reset on arrival, over max_streams.
  uint64_t bytes_received = 0;   // Uploaded bytes read (and dropped), of finished streams.
  uint64_t bytes_sent = 0;       // Bytes of answers written, of finished streams.
};

// Answers /perf/1.0.0 streams on a host: registers the handler when constructed (replacing any earlier one)
// and removes it when destroyed, resetting the streams still in progress. It owns those streams and their
// responders. The host is an observer that must outlive the server; used on the host's loop thread only.
// Enable it only towards trusted peers (see perf.h).
class PerfServer {
 public:
  PerfServer(Host* host, PerfServerOptions options = {});
  ~PerfServer();
  PerfServer(const PerfServer&) = delete;
  PerfServer& operator=(const PerfServer&) = delete;

  size_t active_streams() const { return sessions_.size(); }
  const PerfServerStats& stats() const { return stats_; }

 private:
  // A stream and its responder, which observes it (declared after it, destroyed first).
  struct Session {
    std::unique_ptr<Stream> stream;
    std::unique_ptr<PerfResponder> responder;
  };

  void OnStream(std::unique_ptr<Stream> stream);
  void OnDone(uint64_t id, const Status& status);

  Host* const host_;
  const PerfServerOptions options_;
  PerfServerStats stats_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  // Sessions that ended inside their responders' callbacks. Declared last: destroyed first.
  DeferredDeleter deleter_;
};

// One perf measurement against a connected peer: opens a /perf/1.0.0 stream on the host and runs a
// PerfClient on it (its clock starts once the stream has been negotiated). Owns the stream while it runs.
// The host is an observer that must outlive the run; used on the host's loop thread only.
class PerfRun {
 public:
  // `on_done` runs once, from the loop, with the result or the failure: the host's NewStream error
  // (kNotFound when not connected or when the peer does not speak perf) or PerfClient's. It may destroy the
  // run. Destroying the run earlier cancels the measurement (resetting its stream) and `on_done` never runs.
  static std::unique_ptr<PerfRun> Start(Host* host, const crypto::PeerId& peer, PerfRequest request,
                                        PerfClientOptions options, PerfClient::Callback on_done);
  ~PerfRun();
  PerfRun(const PerfRun&) = delete;
  PerfRun& operator=(const PerfRun&) = delete;

 private:
  PerfRun(Host* host, PerfRequest request, PerfClientOptions options, PerfClient::Callback on_done);
  void OnStream(StatusOr<std::unique_ptr<Stream>> stream);
  void OnResult(StatusOr<PerfResult> result);

  Host* const host_;
  const PerfRequest request_;
  const PerfClientOptions options_;
  PerfClient::Callback on_done_;
  uint64_t open_handle_ = 0;  // The NewStream() in progress; 0 once it called back.
  std::unique_ptr<Stream> stream_;
  std::unique_ptr<PerfClient> client_;  // Observes stream_: declared after it, destroyed first.
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_PERF_SERVICE_H_
