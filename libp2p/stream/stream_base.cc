#include "libp2p/stream/stream_base.h"

#include <utility>

namespace libp2p::stream {

StreamBase::StreamBase(EventLoop* loop)
    : loop_(loop),
      flush_task_(loop->CreateTask([this] { FlushHeld(); })) {}

StreamBase::~StreamBase() = default;

template <typename Fn, typename... Args>
bool StreamBase::Call(Fn Handlers::*which, Args&&... args) {
  Liveness::Scope scope(&liveness_);
  const uint64_t set_before = handlers_set_;
  Fn running = std::move(handlers_.*which);
  running(std::forward<Args>(args)...);
  if (!scope.alive()) return false;
  if (handlers_set_ == set_before) {
    handlers_.*which = std::move(running);
    // A delivery of the same kind from inside the call found no handler and held what it brought.
    if (!held_.empty() || eof_held_ || !error_held_.ok()) flush_task_->Post();
  }
  return true;
}

void StreamBase::SetHandlers(Handlers handlers) {
  handlers_ = std::move(handlers);
  ++handlers_set_;
  if (!held_.empty() || eof_held_ || !error_held_.ok()) flush_task_->Post();
}

void StreamBase::PauseReading(bool paused) {
  if (user_paused_ == paused) return;
  user_paused_ = paused;
  // Pausing with a failure pending: the reader hears of it now, without what was held (see DeliverError).
  if (paused && !error_held_.ok()) {
    held_.clear();
    eof_held_ = false;
  }
  if (!held_.empty() || eof_held_ || !error_held_.ok()) flush_task_->Post();
  OnReadPauseChanged();
}

void StreamBase::Unread(ByteSpan data) {
  // Allowed while a failure waits behind held bytes: a reader may give back part of what it was handed.
  if (reset_ || data.empty()) return;
  const bool was_empty = held_.empty();
  held_.insert(held_.begin(), data.begin(), data.end());
  OnBytesConsumed(-static_cast<int64_t>(data.size()));
  if (!user_paused_) flush_task_->Post();
  if (was_empty) OnReadPauseChanged();
}

bool StreamBase::DeliverData(ByteSpan data) {
  if (dead_ || read_closed_ || eof_held_ || data.empty()) return true;
  if (user_paused_ || !held_.empty() || eof_held_) {
    const bool was_empty = held_.empty();
    held_.insert(held_.end(), data.begin(), data.end());
    if (was_empty) OnReadPauseChanged();
    return true;
  }
  if (!handlers_.on_data) {
    // Nobody reads yet: hold the bytes until handlers are set.
    held_.assign(data.begin(), data.end());
    OnReadPauseChanged();
    return true;
  }
  if (!Call(&Handlers::on_data, data)) return false;
  OnBytesConsumed(static_cast<int64_t>(data.size()));
  return true;
}

bool StreamBase::DeliverEof() {
  if (dead_ || read_closed_ || eof_held_) return true;
  if (user_paused_ || !held_.empty() || !handlers_.on_eof) {
    eof_held_ = true;
    return true;
  }
  read_closed_ = true;
  return Call(&Handlers::on_eof);
}

bool StreamBase::DeliverError(const Status& error) {
  if (dead_) return true;
  dead_ = true;
  // A paused reader hears of the failure at once, losing what it had not taken; a reading one gets the bytes
  // and the end of stream that arrived before the failure first (a peer that sends, closes and goes).
  if (user_paused_) {
    held_.clear();
    eof_held_ = false;
  }
  if (!handlers_.on_error || !held_.empty() || eof_held_) {
    // Nobody listens yet, or held bytes go first: the error follows from the loop.
    error_held_ = error;
    flush_task_->Post();
    return true;
  }
  return Call(&Handlers::on_error, error);
}

bool StreamBase::NotifyWritable() {
  if (dead_ || !handlers_.on_writable) return true;
  return Call(&Handlers::on_writable);
}

void StreamBase::FlushHeld() {
  // Held bytes first (also after a failure: they arrived before it), then a held end of stream, then a held
  // failure.
  // With a failure pending, a reader that takes no bytes or no end of stream hears of the failure alone.
  if (!error_held_.ok() && handlers_.on_error) {
    if (!handlers_.on_data) held_.clear();
    if (!handlers_.on_eof) eof_held_ = false;
  }
  while (!user_paused_ && !held_.empty()) {
    if (!handlers_.on_data) return;
    // Deliver everything held as one chunk; bytes the reader unreads come back to the front.
    Bytes chunk;
    chunk.swap(held_);
    if (!Call(&Handlers::on_data, ByteSpan(chunk))) return;
    OnBytesConsumed(static_cast<int64_t>(chunk.size()));
  }
  if (!held_.empty()) return;  // Paused: OnReadPauseChanged() already told the implementation.
  if (eof_held_) {
    if (user_paused_ || !handlers_.on_eof) return OnReadPauseChanged();
    eof_held_ = false;
    read_closed_ = true;
    if (!Call(&Handlers::on_eof)) return;
  }
  if (!error_held_.ok() && handlers_.on_error) {
    const Status error = std::move(error_held_);
    error_held_ = OkStatus();
    Call(&Handlers::on_error, error);
    return;
  }
  OnReadPauseChanged();
}

}  // namespace libp2p::stream
