#include "libp2p/stream/system_resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "libp2p/stream/socket_address.h"

namespace libp2p::stream {
namespace {

const char* FamilyName(IpFamily family) {
  switch (family) {
    case IpFamily::kIp4: return "IPv4 ";
    case IpFamily::kIp6: return "IPv6 ";
    case IpFamily::kAny: return "";
  }
  return "";
}

Status LookUpError(int error, const std::string& host, IpFamily family) {
  switch (error) {
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
      return NotFoundError(std::string("no ") + FamilyName(family) + "address for " + host);
    case EAI_SYSTEM:
      return UnavailableError("looking up " + host + ": " + std::strerror(errno));
    default:
      return UnavailableError("looking up " + host + ": " + ::gai_strerror(error));
  }
}

}  // namespace

StatusOr<std::vector<Multiaddr>> LookUpHost(const std::string& host, IpFamily family) {
  if (host.empty() || host.find('\0') != std::string::npos) return InvalidArgumentError("not a host name");
  addrinfo hints{};
  hints.ai_family = family == IpFamily::kIp4 ? AF_INET : family == IpFamily::kIp6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (error != 0) return LookUpError(error, host, family);
  std::vector<Multiaddr> found;
  for (const addrinfo* a = list; a != nullptr && found.size() < kMaxResolvedAddresses; a = a->ai_next) {
    Multiaddr ip = IpMultiaddr(a->ai_addr);
    if (!ip.empty() && std::find(found.begin(), found.end(), ip) == found.end()) found.push_back(std::move(ip));
  }
  ::freeaddrinfo(list);
  if (found.empty()) return LookUpError(EAI_NODATA, host, family);
  return found;
}

// What the resolver shares with its worker threads, its posted results and its PendingResolve handles, so
// that results and handles may outlive the resolver.
struct SystemResolver::Shared {
  struct Request {
    uint64_t id;
    std::string host;
    IpFamily family;
  };

  Shared(EventLoop* loop, SystemResolverOptions::LookUp look_up) : loop(loop), look_up(std::move(look_up)) {}

  // Loop thread: runs the callback of lookup `id` unless it was cancelled (or the resolver destroyed).
  void Deliver(uint64_t id, StatusOr<std::vector<Multiaddr>> result) {
    auto it = waiting.find(id);
    if (it == waiting.end()) return;
    ResolveCallback done = std::move(it->second);
    waiting.erase(it);
    done(std::move(result));  // May destroy the resolver: nothing of it is touched afterwards.
  }

  // Loop thread: forgets lookup `id`, and takes it off the queue if no worker has started it.
  void Cancel(uint64_t id) {
    waiting.erase(id);
    std::lock_guard<std::mutex> lock(mutex);
    auto it = std::find_if(queue.begin(), queue.end(), [id](const Request& r) { return r.id == id; });
    if (it != queue.end()) queue.erase(it);
  }

  // A worker thread's life: takes queued lookups one at a time until the resolver stops.
  static void Work(std::shared_ptr<Shared> shared) {
    std::unique_lock<std::mutex> lock(shared->mutex);
    for (;;) {
      ++shared->idle_workers;
      shared->wake.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
      --shared->idle_workers;
      if (shared->stopping) return;
      Request request = std::move(shared->queue.front());
      shared->queue.pop_front();
      lock.unlock();
      StatusOr<std::vector<Multiaddr>> result = shared->look_up(request.host, request.family);
      shared->loop->Post([shared, id = request.id, result = std::move(result)]() mutable {
        shared->Deliver(id, std::move(result));
      });
      lock.lock();
    }
  }

  EventLoop* const loop;
  const SystemResolverOptions::LookUp look_up;

  // Loop thread only: the callbacks of the lookups neither finished nor cancelled.
  std::unordered_map<uint64_t, ResolveCallback> waiting;
  uint64_t next_id = 1;

  std::mutex mutex;
  std::condition_variable wake;  // Signalled when a lookup is queued and when the resolver stops.
  std::deque<Request> queue;     // Lookups no worker has started. Guarded by mutex, as are:
  size_t idle_workers = 0;
  bool stopping = false;
};

class SystemResolver::Pending final : public PendingResolve {
 public:
  Pending(std::shared_ptr<Shared> shared, uint64_t id) : shared_(std::move(shared)), id_(id) {}
  ~Pending() override { shared_->Cancel(id_); }

 private:
  const std::shared_ptr<Shared> shared_;
  const uint64_t id_;
};

SystemResolver::SystemResolver(EventLoop* loop, SystemResolverOptions options)
    : options_(std::move(options)), shared_(std::make_shared<Shared>(loop, options_.look_up)) {
  assert(options_.max_concurrent > 0);
  assert(options_.max_pending > 0);
  assert(options_.look_up != nullptr);
}

SystemResolver::~SystemResolver() {
  shared_->waiting.clear();
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->stopping = true;
    shared_->queue.clear();
  }
  shared_->wake.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

std::unique_ptr<PendingResolve> SystemResolver::Resolve(const std::string& host, IpFamily family,
                                                        ResolveCallback on_done) {
  const uint64_t id = shared_->next_id++;
  auto pending = std::make_unique<Pending>(shared_, id);
  const bool full = shared_->waiting.size() >= options_.max_pending;
  shared_->waiting.emplace(id, std::move(on_done));
  if (full) {
    shared_->loop->Post([shared = shared_, id, max = options_.max_pending] {
      shared->Deliver(id, ResourceExhaustedError("too many name lookups waiting (" + std::to_string(max) + ")"));
    });
    return pending;
  }
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->queue.push_back(Shared::Request{id, host, family});
  }
  shared_->wake.notify_one();
  MaybeStartWorker();
  return pending;
}

void SystemResolver::MaybeStartWorker() {
  std::deque<Shared::Request> stranded;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    if (shared_->queue.size() <= shared_->idle_workers || workers_.size() >= options_.max_concurrent) return;
    try {
      workers_.emplace_back(&Shared::Work, shared_);
      return;
    } catch (const std::system_error&) {
      // Out of threads. The running workers get to the queue in time; without any, nothing would.
      if (!workers_.empty()) return;
      stranded.swap(shared_->queue);
    }
  }
  for (const Shared::Request& r : stranded) {
    shared_->loop->Post([shared = shared_, id = r.id] {
      shared->Deliver(id, UnavailableError("cannot start a thread for name lookups"));
    });
  }
}

}  // namespace libp2p::stream
