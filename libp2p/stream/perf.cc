#include "libp2p/stream/perf.h"

#include <algorithm>
#include <string>
#include <utility>

namespace libp2p::stream {

namespace {

// Both sides write from this one buffer of zeros (the specification allows any fixed bytes), so memory stays
// the same whatever the counts.
constexpr size_t kChunkSize = 64 * 1024;
constexpr std::array<uint8_t, kChunkSize> kZeros{};

// The most bytes one side writes in one loop turn before it lets other work run; the stream's write buffer
// usually blocks it much sooner.
constexpr uint64_t kMaxBytesPerTurn = 4 * 1024 * 1024;

// How often a responder that has written everything looks whether the stream's write buffer has drained.
constexpr Duration kFlushPoll = std::chrono::milliseconds(1);

// Writes zeros from the fixed buffer while `*remaining` is above zero and the stream takes them (it is not
// write-blocked), counting them off `*remaining`; after kMaxBytesPerTurn in one call it posts `more` to go on in
// a later loop turn. Returns the bytes written, or the failed write's error (as kUnavailable).
StatusOr<uint64_t> WriteZeros(Stream* stream, uint64_t* remaining, Task* more) {
  uint64_t written = 0;
  while (*remaining > 0 && !stream->write_blocked()) {
    if (written >= kMaxBytesPerTurn) {
      more->Post();
      break;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(*remaining, kChunkSize));
    if (Status s = stream->Write(ByteSpan(kZeros.data(), n)); !s.ok()) {
      return UnavailableError("perf write failed: " + s.message());
    }
    *remaining -= n;
    written += n;
  }
  return written;
}

}  // namespace

std::array<uint8_t, kPerfHeaderSize> EncodePerfHeader(uint64_t download_bytes) {
  std::array<uint8_t, kPerfHeaderSize> out{};
  for (size_t i = 0; i < kPerfHeaderSize; ++i) out[i] = static_cast<uint8_t>(download_bytes >> (56 - 8 * i));
  return out;
}

uint64_t DecodePerfHeader(const std::array<uint8_t, kPerfHeaderSize>& header) {
  uint64_t n = 0;
  for (uint8_t b : header) n = (n << 8) | b;
  return n;
}

// --- The responder. ---

PerfResponder::PerfResponder(EventLoop* loop, Stream* stream, PerfResponderOptions options, DoneCallback on_done)
    : loop_(loop), stream_(stream), options_(options), on_done_(std::move(on_done)), last_progress_(loop->Now()),
      idle_timer_(loop->CreateTimer([this] { OnIdleTimer(); })),
      flush_timer_(loop->CreateTimer([this] { CheckFlushed(); })),
      send_task_(loop->CreateTask([this] { SendMore(); })),
      finish_task_(loop->CreateTask([this] {
        DoneCallback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] { OnEof(); },
      [this](const Status& e) { Finish(UnavailableError("perf stream failed: " + e.message())); },
      [this] {
        Progress();
        if (state_ == State::kSending) SendMore();
      }});
  idle_timer_->Schedule(options_.idle_timeout);
}

PerfResponder::~PerfResponder() {
  if (state_ != State::kDone) stream_->SetHandlers({});
}

void PerfResponder::OnData(ByteSpan data) {
  if (state_ != State::kReading) return;  // The client's end of stream came first: nothing more can come.
  Progress();
  if (header_size_ < kPerfHeaderSize) {
    const size_t take = std::min(kPerfHeaderSize - header_size_, data.size());
    std::copy_n(data.begin(), take, header_.begin() + header_size_);
    header_size_ += take;
    data = data.subspan(take);
    if (header_size_ < kPerfHeaderSize) return;
    to_send_ = DecodePerfHeader(header_);
    if (to_send_ > options_.max_send_bytes) {
      return Finish(ResourceExhaustedError("perf request for " + std::to_string(to_send_) +
                                           " bytes is over the limit of " + std::to_string(options_.max_send_bytes)));
    }
  }
  received_ += data.size();  // The upload: counted and dropped.
}

void PerfResponder::OnEof() {
  if (state_ != State::kReading) return;
  if (header_size_ < kPerfHeaderSize) {
    return Finish(InvalidArgumentError("perf stream ended after " + std::to_string(header_size_) +
                                       " of the header's 8 bytes"));
  }
  Progress();
  state_ = State::kSending;
  SendMore();
}

void PerfResponder::SendMore() {
  if (state_ != State::kSending) return;
  StatusOr<uint64_t> written = WriteZeros(stream_, &to_send_, send_task_.get());
  if (!written.ok()) return Finish(written.status());
  sent_ += *written;
  if (to_send_ > 0) return;  // Blocked (on_writable goes on), or more in a later turn.
  stream_->CloseWrite();
  state_ = State::kFlushing;
  last_buffered_ = stream_->buffered_bytes();
  CheckFlushed();
}

void PerfResponder::CheckFlushed() {
  if (state_ != State::kFlushing) return;
  const size_t buffered = stream_->buffered_bytes();
  if (buffered == 0) return Finish(OkStatus());
  if (buffered < last_buffered_) Progress();
  last_buffered_ = buffered;
  flush_timer_->Schedule(kFlushPoll);
}

void PerfResponder::OnIdleTimer() {
  if (state_ == State::kDone) return;
  const Duration quiet = loop_->Now() - last_progress_;
  if (quiet < options_.idle_timeout) {
    idle_timer_->Schedule(options_.idle_timeout - quiet);
    return;
  }
  Finish(DeadlineExceededError("perf stream idle for " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count()) +
                               " ms"));
}

void PerfResponder::Finish(Status status) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  idle_timer_->Cancel();
  flush_timer_->Cancel();
  send_task_->Cancel();
  stream_->SetHandlers({});
  result_ = std::move(status);
  finish_task_->Post();
}

// --- The client. ---

PerfClient::PerfClient(EventLoop* loop, Stream* stream, PerfRequest request, PerfClientOptions options,
                       Callback on_done)
    : loop_(loop), stream_(stream), request_(request), on_done_(std::move(on_done)),
      to_upload_(request.upload_bytes), started_(loop->Now()),
      timeout_(loop->CreateTimer([this] { Complete(DeadlineExceededError("perf measurement timed out")); })),
      send_task_(loop->CreateTask([this] { SendMore(); })),
      finish_task_(loop->CreateTask([this] {
        Callback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] { OnEof(); },
      [this](const Status& e) { Complete(UnavailableError("perf stream failed: " + e.message())); },
      [this] { SendMore(); }});
  if (options.timeout > Duration::zero()) timeout_->Schedule(options.timeout);
  const std::array<uint8_t, kPerfHeaderSize> header = EncodePerfHeader(request_.download_bytes);
  if (Status s = stream_->Write(header); !s.ok()) {
    Complete(UnavailableError("perf write failed: " + s.message()));
    return;
  }
  SendMore();
}

PerfClient::~PerfClient() { stream_->SetHandlers({}); }

void PerfClient::SendMore() {
  if (done_ || closed_) return;
  StatusOr<uint64_t> written = WriteZeros(stream_, &to_upload_, send_task_.get());
  if (!written.ok()) return Complete(written.status());
  progress_.uploaded += *written;
  if (to_upload_ > 0) return;  // Blocked (on_writable goes on), or more in a later turn.
  closed_ = true;
  stream_->CloseWrite();
}

void PerfClient::OnData(ByteSpan data) {
  if (done_ || data.empty()) return;
  if (!got_first_) {
    got_first_ = true;
    first_byte_ = loop_->Now();
  }
  if (data.size() > request_.download_bytes - progress_.downloaded) {
    return Complete(InvalidArgumentError("the perf server sent more than the " +
                                         std::to_string(request_.download_bytes) + " bytes asked for"));
  }
  progress_.downloaded += data.size();
}

void PerfClient::OnEof() {
  if (done_) return;
  if (!closed_ || progress_.downloaded < request_.download_bytes) {
    return Complete(InvalidArgumentError(
        "the perf server ended its answer after " + std::to_string(progress_.downloaded) + " of " +
        std::to_string(request_.download_bytes) + " bytes" + (closed_ ? "" : ", before our upload ended")));
  }
  const MonoTime now = loop_->Now();
  PerfResult r = progress_;
  r.total_time = now - started_;
  r.upload_time = (got_first_ ? first_byte_ : now) - started_;
  r.download_time = got_first_ ? now - first_byte_ : Duration::zero();
  Complete(r);
}

void PerfClient::Complete(StatusOr<PerfResult> result) {
  if (done_) return;
  done_ = true;
  timeout_->Cancel();
  send_task_->Cancel();
  stream_->SetHandlers({});
  result_ = std::move(result);
  finish_task_->Post();
}

}  // namespace libp2p::stream
