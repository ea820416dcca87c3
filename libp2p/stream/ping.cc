#include "libp2p/stream/ping.h"

#include <algorithm>
#include <utility>

#include "libp2p/base/random.h"

namespace libp2p::stream {

PingResponder::PingResponder(EventLoop* loop, Stream* stream, DoneCallback on_done, Duration idle_timeout)
    : stream_(stream), on_done_(std::move(on_done)), idle_timeout_(idle_timeout),
      idle_timer_(loop->CreateTimer([this] { Finish(DeadlineExceededError("no ping within the idle timeout")); })),
      finish_task_(loop->CreateTask([this] {
        DoneCallback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] {
        stream_->CloseWrite();
        Finish(OkStatus());
      },
      [this](const Status& e) { Finish(UnavailableError("ping stream failed: " + e.message())); },
      [this] { stream_->PauseReading(false); }});
  idle_timer_->Schedule(idle_timeout_);
}

PingResponder::~PingResponder() {
  if (!finished_) stream_->SetHandlers({});
}

void PingResponder::OnData(ByteSpan data) {
  while (!finished_ && !data.empty()) {
    const size_t take = std::min(kPingSize - block_size_, data.size());
    std::copy_n(data.begin(), take, block_.begin() + block_size_);
    block_size_ += take;
    data = data.subspan(take);
    if (block_size_ < kPingSize) return;
    block_size_ = 0;
    idle_timer_->Schedule(idle_timeout_);
    if (Status s = stream_->Write(block_); !s.ok()) return Finish(std::move(s));
  }
  // A dialer that pings without reading the echoes: stop reading until it catches up (on_writable).
  if (!finished_ && stream_->write_blocked()) stream_->PauseReading(true);
}

void PingResponder::Finish(Status status) {
  if (finished_) return;
  finished_ = true;
  idle_timer_->Cancel();
  stream_->SetHandlers({});
  result_ = std::move(status);
  finish_task_->Post();
}

Pinger::Pinger(EventLoop* loop, Stream* stream, PingerOptions options)
    : loop_(loop), stream_(stream), options_(std::move(options)), timeout_(loop->CreateTimer([this] {
        Complete(DeadlineExceededError("no ping echo within the timeout"),
                 FailedPreconditionError("an earlier ping timed out"));
      })),
      finish_task_(loop->CreateTask([this] {
        in_flight_ = false;
        Callback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] {
        const Status ended = UnavailableError("ping stream ended");
        if (awaiting_) return Complete(ended, ended);
        if (lasting_error_.ok()) lasting_error_ = ended;
      },
      [this](const Status& e) {
        const Status failed = UnavailableError("ping stream failed: " + e.message());
        if (awaiting_) return Complete(failed, failed);
        lasting_error_ = failed;
      },
      {}});
}

Pinger::~Pinger() { stream_->SetHandlers({}); }

Status Pinger::Ping(Callback on_done) {
  if (in_flight_) return FailedPreconditionError("a ping is already in flight");
  if (!lasting_error_.ok()) return lasting_error_;
  in_flight_ = true;
  awaiting_ = true;
  on_done_ = std::move(on_done);
  echo_size_ = 0;
  if (options_.random) {
    options_.random(sent_);
  } else {
    RandomBytes(sent_);
  }
  sent_at_ = loop_->Now();
  if (Status s = stream_->Write(sent_); !s.ok()) {
    const Status failed = UnavailableError("ping write failed: " + s.message());
    Complete(failed, failed);
    return OkStatus();
  }
  timeout_->Schedule(options_.timeout);
  return OkStatus();
}

void Pinger::OnData(ByteSpan data) {
  if (awaiting_) {
    const size_t take = std::min(kPingSize - echo_size_, data.size());
    std::copy_n(data.begin(), take, echo_.begin() + echo_size_);
    echo_size_ += take;
    data = data.subspan(take);
    if (echo_size_ < kPingSize) return;
    if (echo_ != sent_) {
      return Complete(InvalidArgumentError("ping echo differs from the ping"),
                      FailedPreconditionError("an earlier ping echo was wrong"));
    }
    Complete(loop_->Now() - sent_at_);
  }
  // Bytes nobody asked for: the peer does not speak ping, and the stream can no longer be trusted to be in
  // step. The ping that just completed (if any) keeps its result.
  if (!data.empty() && lasting_error_.ok()) {
    lasting_error_ = FailedPreconditionError("the peer sent bytes that answer no ping");
  }
}

void Pinger::Complete(StatusOr<Duration> result, Status lasting_error) {
  if (!awaiting_) return;
  awaiting_ = false;
  timeout_->Cancel();
  if (!lasting_error.ok()) lasting_error_ = std::move(lasting_error);
  result_ = std::move(result);
  finish_task_->Post();
}

}  // namespace libp2p::stream
