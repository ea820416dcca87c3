// A Resolver that asks the system's resolver (getaddrinfo: /etc/hosts, then DNS, as nsswitch.conf says), on
// worker threads so that the loop thread never blocks.
#ifndef LIBP2P_STREAM_SYSTEM_RESOLVER_H_
#define LIBP2P_STREAM_SYSTEM_RESOLVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/resolver.h"

namespace libp2p::stream {

// The most addresses one lookup returns; a dial tries them one after another.
inline constexpr size_t kMaxResolvedAddresses = 8;

// Looks `host` up with getaddrinfo, blocking: the addresses of `family` in the order getaddrinfo gives them
// (RFC 6724 destination address selection), without duplicates, at most kMaxResolvedAddresses. Fails as
// Resolver::ResolveCallback describes. Thread-safe.
StatusOr<std::vector<Multiaddr>> LookUpHost(const std::string& host, IpFamily family);

struct SystemResolverOptions {
  // A blocking lookup, with LookUpHost()'s contract.
  using LookUp = std::function<StatusOr<std::vector<Multiaddr>>(const std::string& host, IpFamily family)>;

  // Lookups running at once, each on its own worker thread. Threads start when lookups need them and stay
  // until the resolver is destroyed. Positive.
  size_t max_concurrent = 4;
  // Lookups started and not finished (running or queued behind the running ones); Resolve() beyond that
  // fails with kResourceExhausted. Positive.
  size_t max_pending = 256;
  // The blocking lookup, run on the worker threads; tests replace it.
  LookUp look_up = LookUpHost;
};

class SystemResolver final : public Resolver {
 public:
  // The loop is an observer that must outlive the resolver; results are posted to it. Invalid options are a
  // programming error (asserted).
  explicit SystemResolver(EventLoop* loop, SystemResolverOptions options = {});
  // Cancels every lookup (no callback runs afterwards) and joins the worker threads, waiting for lookups
  // that are running to return: up to the system resolver's timeout (resolv.conf: 5 s per attempt) when a
  // DNS server does not answer. Loop thread only.
  ~SystemResolver() override;

  // Queues the lookup; a worker thread runs it, and its result is posted to the loop. PendingResolve handles
  // may outlive the resolver.
  std::unique_ptr<PendingResolve> Resolve(const std::string& host, IpFamily family,
                                          ResolveCallback on_done) override;

 private:
  struct Shared;
  class Pending;

  // Starts a worker when the queued lookups outnumber the idle workers and fewer than max_concurrent run.
  void MaybeStartWorker();

  const SystemResolverOptions options_;
  const std::shared_ptr<Shared> shared_;  // Also held by posted results and by PendingResolve handles.
  std::vector<std::thread> workers_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_SYSTEM_RESOLVER_H_
