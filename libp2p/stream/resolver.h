// Name resolution for dialing /dns, /dns4 and /dns6 multiaddrs. Implementations: SystemResolver (the
// system's resolver on worker threads) and, for tests, FakeResolver.
#ifndef LIBP2P_STREAM_RESOLVER_H_
#define LIBP2P_STREAM_RESOLVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"

namespace libp2p::stream {

// Which addresses a lookup wants: /dns4 takes IPv4 answers only, /dns6 IPv6 only, /dns both.
enum class IpFamily { kIp4, kIp6, kAny };

// A lookup in progress; destroying it cancels the lookup, and its callback then never runs.
class PendingResolve {
 public:
  virtual ~PendingResolve() = default;
};

// Used on the loop thread only.
class Resolver {
 public:
  // Receives the addresses found, each /ip4/A, /ip6/A or /ip6zone/Z/ip6/A, in the order to try them and
  // never empty; or why there are none: kNotFound (the name has no address of the family asked for),
  // kUnavailable (the lookup itself failed, e.g. no DNS server answered), kResourceExhausted (too many lookups
  // waiting), kInvalidArgument (not a host name).
  using ResolveCallback = std::function<void(StatusOr<std::vector<Multiaddr>>)>;

  virtual ~Resolver() = default;

  // Starts looking up the addresses of `host` (a DNS name, as in /dns4/<host>) of `family`. The callback runs
  // at most once, from the event loop, never from inside Resolve(), and may destroy the handle. The returned
  // handle must be kept until then; destroying it earlier cancels.
  virtual std::unique_ptr<PendingResolve> Resolve(const std::string& host, IpFamily family,
                                                  ResolveCallback on_done) = 0;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_RESOLVER_H_
