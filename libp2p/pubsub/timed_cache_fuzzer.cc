// Drives a TimedCache with an operation sequence decoded from the input and checks every answer against a
// simple reference model (a map with linear scans). Aborts on any disagreement or broken bound.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "libp2p/pubsub/timed_cache.h"

using libp2p::Duration;
using libp2p::ManualClock;
using libp2p::MonoTime;
using libp2p::SeededHash;
using libp2p::pubsub::TimedCache;

namespace {

struct Model {
  size_t max_entries;
  Duration ttl;
  std::map<std::string, std::pair<uint64_t, MonoTime>> entries;
  uint64_t order = 0;

  void Expire(MonoTime now) {
    for (auto it = entries.begin(); it != entries.end();) {
      it = it->second.second <= now ? entries.erase(it) : std::next(it);
    }
  }
  bool Insert(const std::string& key, MonoTime now) {
    Expire(now);
    if (entries.count(key)) return false;
    if (entries.size() >= max_entries) {
      auto oldest = entries.begin();
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (it->second.first < oldest->second.first) oldest = it;
      }
      entries.erase(oldest);
    }
    entries[key] = {order++, now + ttl};
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Header: capacity 1..64, TTL 1..256 ticks of 1 ms. A fixed hash key makes collisions likely.
  const size_t max_entries = 1 + data[0] % 64;
  const Duration ttl = std::chrono::milliseconds(1 + data[1]);
  ManualClock clock;
  TimedCache cache(&clock, ttl, max_entries, SeededHash(0, 0));
  Model model{max_entries, ttl, {}};
  size_t i = 2;
  while (i < size) {
    const uint8_t op = data[i++];
    switch (op % 4) {
      case 0:
      case 1: {
        // A key of 0..7 bytes taken from the input.
        const size_t len = (op >> 2) % 8;
        if (i + len > size) return 0;
        const std::string key(reinterpret_cast<const char*>(data + i), len);
        i += len;
        const bool inserted = op % 4 == 0 ? cache.Insert(key) : cache.Contains(key);
        const bool expected =
            op % 4 == 0 ? model.Insert(key, clock.Now()) : (model.Expire(clock.Now()), model.entries.count(key) == 1);
        if (inserted != expected) abort();
        break;
      }
      case 2:
        clock.Advance(std::chrono::milliseconds(op >> 2));
        break;
      case 3:
        model.Expire(clock.Now());
        if (cache.size() != model.entries.size()) abort();
        if (cache.size() > max_entries) abort();
        break;
    }
  }
  return 0;
}
