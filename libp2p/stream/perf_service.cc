#include "libp2p/stream/perf_service.h"

#include <string>
#include <utility>
#include <vector>

namespace libp2p::stream {

// --- The server. ---

PerfServer::PerfServer(Host* host, PerfServerOptions options)
    : host_(host), options_(options), deleter_(host->loop()) {
  host_->SetStreamHandler(std::string(kPerfProtocolId),
                          [this](std::unique_ptr<Stream> stream, const crypto::PeerId&, const std::string&) {
                            OnStream(std::move(stream));
                          });
}

PerfServer::~PerfServer() {
  host_->RemoveStreamHandler(std::string(kPerfProtocolId));
  for (auto& [id, session] : sessions_) {
    session->responder.reset();
    session->stream->Reset();
  }
}

void PerfServer::OnStream(std::unique_ptr<Stream> stream) {
  if (sessions_.size() >= options_.max_streams) {
    ++stats_.refused_busy;
    stream->Reset();
    return;
  }
  const uint64_t id = next_id_++;
  auto session = std::make_unique<Session>();
  session->stream = std::move(stream);
  session->responder = std::make_unique<PerfResponder>(host_->loop(), session->stream.get(), options_.responder,
                                                       [this, id](Status s) { OnDone(id, s); });
  sessions_.emplace(id, std::move(session));
}

void PerfServer::OnDone(uint64_t id, const Status& status) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> session = std::move(it->second);
  sessions_.erase(it);
  stats_.bytes_received += session->responder->bytes_received();
  stats_.bytes_sent += session->responder->bytes_sent();
  if (status.ok()) {
    // Both ends of the stream are closed and our bytes have left it: destroying it drops nothing.
    ++stats_.completed;
  } else {
    ++stats_.failed;
    session->stream->Reset();
  }
  // The responder is inside its own callback: it goes from the loop.
  deleter_.Delete(std::move(session));
}

// --- One measurement. ---

std::unique_ptr<PerfRun> PerfRun::Start(Host* host, const crypto::PeerId& peer, PerfRequest request,
                                        PerfClientOptions options, PerfClient::Callback on_done) {
  std::unique_ptr<PerfRun> run(new PerfRun(host, request, options, std::move(on_done)));
  PerfRun* r = run.get();
  r->open_handle_ = host->NewStream(peer, {std::string(kPerfProtocolId)},
                                    [r](StatusOr<std::unique_ptr<Stream>> stream, const std::string&) {
                                      r->OnStream(std::move(stream));
                                    });
  return run;
}

PerfRun::PerfRun(Host* host, PerfRequest request, PerfClientOptions options, PerfClient::Callback on_done)
    : host_(host), request_(request), options_(options), on_done_(std::move(on_done)) {}

PerfRun::~PerfRun() {
  if (open_handle_ != 0) host_->CancelNewStream(open_handle_);
  client_.reset();
  if (stream_ != nullptr) stream_->Reset();
}

void PerfRun::OnStream(StatusOr<std::unique_ptr<Stream>> stream) {
  open_handle_ = 0;
  if (!stream.ok()) {
    PerfClient::Callback done = std::move(on_done_);
    done(stream.status());  // May destroy this.
    return;
  }
  stream_ = std::move(stream).value();
  client_ = std::make_unique<PerfClient>(host_->loop(), stream_.get(), request_, options_,
                                         [this](StatusOr<PerfResult> r) { OnResult(std::move(r)); });
}

void PerfRun::OnResult(StatusOr<PerfResult> result) {
  // The client is inside its own callback, which it allows to destroy it (it touches nothing afterwards).
  client_.reset();
  // After success both ends have closed and the stream holds nothing; after a failure it is out of step.
  if (!result.ok()) stream_->Reset();
  stream_.reset();
  PerfClient::Callback done = std::move(on_done_);
  done(std::move(result));  // May destroy this.
}

}  // namespace libp2p::stream
