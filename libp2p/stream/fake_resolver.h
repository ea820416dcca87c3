// A Resolver for tests: lookups wait until the test answers them.
#ifndef LIBP2P_STREAM_FAKE_RESOLVER_H_
#define LIBP2P_STREAM_FAKE_RESOLVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "libp2p/stream/resolver.h"

namespace libp2p::stream {

// Used on one thread. Handles it returns must not outlive it.
class FakeResolver final : public Resolver {
 public:
  std::unique_ptr<PendingResolve> Resolve(const std::string& host, IpFamily family,
                                          ResolveCallback on_done) override;

  // The lookups started and neither answered nor cancelled, oldest first.
  std::vector<std::pair<std::string, IpFamily>> waiting() const;

  // Answers the oldest waiting lookup of `host`: calls its callback now, on the caller's stack (call it from
  // the test, not from inside another callback). Returns false when no lookup of `host` waits.
  bool Answer(const std::string& host, StatusOr<std::vector<Multiaddr>> result);

 private:
  class Pending;
  struct Lookup {
    std::string host;
    IpFamily family;
    ResolveCallback on_done;
  };

  uint64_t next_id_ = 1;
  std::map<uint64_t, Lookup> waiting_;  // By id, so oldest first.
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_FAKE_RESOLVER_H_
