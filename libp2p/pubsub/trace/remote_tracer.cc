#include "libp2p/pubsub/trace/remote_tracer.h"

#include "libp2p/base/varint.h"

namespace libp2p::pubsub::trace {
namespace {

// Handlers that ignore everything: for a stream we are done with but that is still open.
stream::Stream::Handlers Ignoring() {
  return {[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}};
}

}  // namespace

RemoteTracer::RemoteTracer(const crypto::PeerId& collector, std::vector<Multiaddr> addrs, RemoteTracerOptions options)
    : collector_(collector), addrs_(std::move(addrs)), options_(options) {
  for (Multiaddr& a : addrs_) {
    if (a.PeerIdMultihash().has_value()) continue;
    StatusOr<Multiaddr> p2p = Multiaddr::FromString("/p2p/" + collector_.ToBase58());
    if (p2p.ok()) a = a.Encapsulate(*p2p);
  }
}

RemoteTracer::~RemoteTracer() { Stop(); }

void RemoteTracer::Start(stream::Host* host) {
  if (host_ != nullptr || stopped_) return;
  host_ = host;
  EventLoop* loop = host->loop();
  deleter_ = std::make_unique<DeferredDeleter>(loop);
  connect_task_ = loop->CreateTask([this] { Connect(); });
  send_task_ = loop->CreateTask([this] {
    if (SendOne() && !batches_.empty()) send_task_->Post();
  });
  batch_timer_ = loop->CreateTimer([this] { SendSoon(); });
  retry_timer_ = loop->CreateTimer([this] {
    if (waiting_for_connection_) {
      ++stats_.failures;
      last_error_ = UnavailableError("no connection to the collector");
    }
    Connect();
  });
  stream::Host::Events events;
  events.on_connected = [this](const stream::ConnectionInfo& c) {
    if (c.peer == collector_ && waiting_for_connection_) OpenStream();
  };
  events_handle_ = host_->AddEvents(std::move(events));
  connect_task_->Post();
}

void RemoteTracer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  closed_ = true;
  stats_.events_dropped += buffered_events_;
  batches_.clear();
  buffered_events_ = 0;
  buffered_bytes_ = 0;
  if (host_ == nullptr) return;
  host_->RemoveEvents(events_handle_);
  if (open_handle_ != 0) host_->CancelNewStream(open_handle_);
  open_handle_ = 0;
  waiting_for_connection_ = false;
  if (stream_ != nullptr) {
    stream_->SetHandlers(Ignoring());
    stream_.reset();  // Resets it.
  }
  encoder_.reset();
  // What the loop made goes while the loop still exists; the deleter first (it may hold a stream).
  deleter_.reset();
  connect_task_.reset();
  send_task_.reset();
  batch_timer_.reset();
  retry_timer_.reset();
  host_ = nullptr;
}

void RemoteTracer::Write(const tracepb::TraceEvent& event) {
  const size_t size = event.ByteSizeLong();
  const size_t record = 1 + UvarintLength(size) + size;  // As a TraceEventBatch's field 1.
  if (closed_ || record > options_.max_batch_bytes || buffered_events_ >= options_.max_buffered_events ||
      record > options_.max_buffered_bytes - buffered_bytes_) {
    ++stats_.events_dropped;
    return;
  }
  if (batches_.empty() || batches_.back().bytes.size() + record > options_.max_batch_bytes) {
    batches_.emplace_back();
  }
  Batch& b = batches_.back();
  b.bytes.push_back(static_cast<char>((1 << 3) | 2));  // Field 1, length-delimited.
  AppendUvarint(size, &b.bytes);
  const size_t at = b.bytes.size();
  b.bytes.resize(at + size);
  event.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(b.bytes.data() + at));
  ++b.events;
  ++buffered_events_;
  buffered_bytes_ += record;
  ScheduleSend();
}

void RemoteTracer::Flush() {
  while (SendOne()) {
  }
}

void RemoteTracer::Close() {
  if (closed_) return;
  Flush();
  closed_ = true;
  if (host_ == nullptr) {
    stats_.events_dropped += buffered_events_;
    batches_.clear();
    buffered_events_ = 0;
    buffered_bytes_ = 0;
    return;
  }
  stats_.events_dropped += buffered_events_;
  batches_.clear();
  buffered_events_ = 0;
  buffered_bytes_ = 0;
  connect_task_->Cancel();
  send_task_->Cancel();
  batch_timer_->Cancel();
  retry_timer_->Cancel();
  waiting_for_connection_ = false;
  if (open_handle_ != 0) {
    host_->CancelNewStream(open_handle_);
    open_handle_ = 0;
  }
  if (stream_ == nullptr) return;
  out_.clear();
  if (encoder_->Finish(&out_).ok()) stream_->Write(AsBytes(out_)).IgnoreError();  // Best effort.
  stream_->CloseWrite();
  stream_->SetHandlers(Ignoring());
}

void RemoteTracer::Connect() {
  connect_task_->Cancel();
  retry_timer_->Cancel();
  if (closed_ || stream_ != nullptr || open_handle_ != 0) return;
  if (host_->IsConnected(collector_)) {
    OpenStream();
    return;
  }
  // on_connected opens the stream when a connection comes, from this dial or any other; without one by the
  // time the timer fires, the next attempt dials the next address.
  waiting_for_connection_ = true;
  if (!addrs_.empty()) {
    host_->Dial(addrs_[next_addr_++ % addrs_.size()], [](StatusOr<crypto::PeerId>) {});
  }
  retry_timer_->Schedule(options_.reconnect_delay);
}

void RemoteTracer::OpenStream() {
  waiting_for_connection_ = false;
  retry_timer_->Cancel();
  if (open_handle_ != 0 || stream_ != nullptr) return;
  open_handle_ = host_->NewStream(collector_, {std::string(kRemoteTracerProtocol)},
                                  [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
                                    open_handle_ = 0;
                                    if (!s.ok()) {
                                      Fail(s.status());
                                      return;
                                    }
                                    Attach(std::move(s).value());
                                  });
}

void RemoteTracer::Attach(std::unique_ptr<stream::Stream> stream) {
  stream_ = std::move(stream);
  encoder_ = std::make_unique<TraceBatchEncoder>(options_.compression_level);
  ++stats_.streams_opened;
  // The collector sends nothing; its end of stream is no reason to stop writing.
  stream_->SetHandlers({[](ByteSpan) {}, [] {}, [this](const Status& e) { Fail(e); }, [this] { SendSoon(); }});
  if (!batches_.empty()) ScheduleSend();
}

void RemoteTracer::Fail(const Status& why) {
  ++stats_.failures;
  last_error_ = why;
  if (stream_ != nullptr) {
    // We may be inside one of its callbacks.
    stream_->SetHandlers(Ignoring());
    stream_->Reset();
    deleter_->Delete(std::move(stream_));
  }
  encoder_.reset();
  send_task_->Cancel();
  batch_timer_->Cancel();
  if (!closed_) retry_timer_->Schedule(options_.reconnect_delay);
}

void RemoteTracer::ScheduleSend() {
  if (stream_ == nullptr) return;  // Attach() schedules once connected.
  if (buffered_events_ >= options_.min_batch_events) {
    SendSoon();
  } else if (!batch_timer_->IsScheduled()) {
    batch_timer_->Schedule(options_.max_batch_delay);
  }
}

void RemoteTracer::SendSoon() {
  if (stream_ != nullptr && !batches_.empty()) send_task_->Post();
}

bool RemoteTracer::SendOne() {
  if (stream_ == nullptr || batches_.empty() || stream_->write_blocked()) return false;
  Batch b = std::move(batches_.front());
  batches_.pop_front();
  buffered_events_ -= b.events;
  buffered_bytes_ -= b.bytes.size();
  if (batches_.empty()) batch_timer_->Cancel();
  out_.clear();
  Status s = encoder_->Encode(b.bytes, &out_);
  if (s.ok()) s = stream_->Write(AsBytes(out_));
  if (!s.ok()) {
    if (stream_ != nullptr) Fail(s);  // (A stream that failed inside Write has been handled already.)
    return false;
  }
  ++stats_.batches_sent;
  stats_.events_sent += b.events;
  stats_.bytes_sent += out_.size();
  return true;
}

}  // namespace libp2p::pubsub::trace
