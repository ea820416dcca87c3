#include "libp2p/stream/fake_resolver.h"

namespace libp2p::stream {

class FakeResolver::Pending final : public PendingResolve {
 public:
  Pending(FakeResolver* resolver, uint64_t id) : resolver_(resolver), id_(id) {}
  ~Pending() override { resolver_->waiting_.erase(id_); }

 private:
  FakeResolver* const resolver_;
  const uint64_t id_;
};

std::unique_ptr<PendingResolve> FakeResolver::Resolve(const std::string& host, IpFamily family,
                                                      ResolveCallback on_done) {
  const uint64_t id = next_id_++;
  waiting_.emplace(id, Lookup{host, family, std::move(on_done)});
  return std::make_unique<Pending>(this, id);
}

std::vector<std::pair<std::string, IpFamily>> FakeResolver::waiting() const {
  std::vector<std::pair<std::string, IpFamily>> out;
  for (const auto& [id, lookup] : waiting_) out.emplace_back(lookup.host, lookup.family);
  return out;
}

bool FakeResolver::Answer(const std::string& host, StatusOr<std::vector<Multiaddr>> result) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->second.host != host) continue;
    ResolveCallback done = std::move(it->second.on_done);
    waiting_.erase(it);
    done(std::move(result));
    return true;
  }
  return false;
}

}  // namespace libp2p::stream
