#include "libp2p/base/run_queue.h"

#include <cassert>
#include <utility>

#include "libp2p/base/owned_callback.h"

namespace libp2p {

class RunQueue::QueuedTask final : public Task {
 public:
  QueuedTask(RunQueue* queue, uint32_t slot, std::function<void()> callback)
      : queue_(queue), slot_(slot), generation_(queue->slots_[slot].generation), callback_(std::move(callback)) {}
  ~QueuedTask() override {
    Slot& s = queue_->slots_[slot_];
    s.task = nullptr;
    ++s.generation;
    queue_->free_slots_.push_back(slot_);
  }

  void Post() override {
    if (pending_) return;
    pending_ = true;
    queue_->Push(Entry{nullptr, slot_, generation_});
  }
  void Cancel() override {
    if (!pending_) return;
    pending_ = false;
    queue_->slots_[slot_].generation = ++generation_;
  }
  bool IsPending() const override { return pending_; }

  // The queue reached a live run of this task.
  void Run() {
    pending_ = false;
    callback_.Run();  // May destroy this.
  }

 private:
  RunQueue* const queue_;
  const uint32_t slot_;
  // The slot's generation while this task lives (kept here too, so that Post() reads no slot).
  uint32_t generation_;
  OwnedCallback<> callback_;
  bool pending_ = false;
};

RunQueue::RunQueue(std::function<void()> wake) : wake_(std::move(wake)) {}

RunQueue::~RunQueue() {
  Clear();
  assert(free_slots_.size() == slots_.size());  // Every task was destroyed before its loop.
}

void RunQueue::Push(Entry entry) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_empty = queue_.empty();
    queue_.push_back(std::move(entry));
  }
  if (was_empty && wake_) wake_();
}

void RunQueue::Post(std::function<void()> fn) { Push(Entry{std::move(fn), 0, 0}); }

std::unique_ptr<Task> RunQueue::CreateTask(std::function<void()> callback) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto task = std::make_unique<QueuedTask>(this, slot, std::move(callback));
  slots_[slot].task = task.get();
  return task;
}

size_t RunQueue::RunBatch() {
  // The batch takes the queue's place by a swap with the spare vector, which is kept for the next batch:
  // once both have grown to the usual batch size, posting and running allocate nothing. (A callback that
  // runs the loop again finds no spare here and swaps in an empty vector.)
  std::vector<Entry> batch = std::move(spare_);
  batch.clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.empty()) {
      spare_ = std::move(batch);
      return 0;
    }
    batch.swap(queue_);
  }
  size_t ran = 0;
  for (Entry& e : batch) {
    if (e.fn) {
      e.fn();
      e.fn = nullptr;  // Its captures go now, in order.
    } else {
      const Slot& s = slots_[e.slot];
      if (s.task == nullptr || s.generation != e.generation) continue;
      s.task->Run();
    }
    ++ran;
  }
  batch.clear();
  if (batch.capacity() <= kKeptBatchCapacity) spare_ = std::move(batch);
  return ran;
}

void RunQueue::Clear() {
  for (;;) {
    std::vector<Entry> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    // Destroyed in queue order; destructors may queue more, which the next round takes.
    for (Entry& e : batch) e.fn = nullptr;
  }
}

bool RunQueue::empty() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.empty();
}

}  // namespace libp2p
