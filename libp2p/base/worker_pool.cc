#include "libp2p/base/worker_pool.h"

#include <cassert>
#include <utility>

namespace libp2p {

WorkerPool::WorkerPool(size_t threads) {
  assert(threads > 0);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(jobs_);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  // `dropped` goes here, outside the lock: a job's captures may take locks of their own as they die.
}

void WorkerPool::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void WorkerPool::SubmitAll(std::vector<std::function<void()>>* jobs) {
  const size_t n = jobs->size();
  if (n == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::function<void()>& job : *jobs) jobs_.push_back(std::move(job));
  }
  jobs->clear();
  if (n >= workers_.size()) {
    wake_.notify_all();
  } else {
    for (size_t i = 0; i < n; ++i) wake_.notify_one();
  }
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

size_t WorkerPool::HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace libp2p
