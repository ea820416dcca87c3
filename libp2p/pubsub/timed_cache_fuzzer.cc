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
  // Header: capacity 1..256 (past 8, the entries move from a ring to blocks of 8 to 32), TTL 1..256 ticks of
  // 1 ms. A fixed hash key makes collisions likely.
  const size_t max_entries = 1 + data[0];
  const Duration ttl = std::chrono::milliseconds(1 + data[1]);
  ManualClock clock;
  TimedCache cache(&clock, ttl, max_entries, SeededHash(0, 0));
  Model model{max_entries, ttl, {}};
  size_t i = 2;
  while (i < size) {
    const uint8_t op = data[i++];
    switch (op % 5) {
      case 0:
      case 1:
      case 4: {
        // A key of 0..7 bytes taken from the input; with the op's top bit, repeated past the inline size, so
        // that it lives on the heap.
        const size_t len = (op >> 3) % 8;
        if (i + len > size) return 0;
        std::string key(reinterpret_cast<const char*>(data + i), len);
        i += len;
        if ((op & 0x80) != 0) {
          const std::string unit = key + "#";
          while (key.size() <= TimedCache::kInlineKeyBytes) key += unit;
        }
        bool answer;
        bool expected;
        if (op % 5 == 0) {
          answer = cache.Insert(key);
          expected = model.Insert(key, clock.Now());
        } else if (op % 5 == 1) {
          answer = cache.Contains(key);
          model.Expire(clock.Now());
          expected = model.entries.count(key) == 1;
        } else {
          // A lookup, then the insert it allows, as the pubsub core does with a message's id.
          const TimedCache::Lookup lookup = cache.Find(key);
          model.Expire(clock.Now());
          if (lookup.found != (model.entries.count(key) == 1)) abort();
          answer = cache.Insert(lookup);
          expected = model.Insert(key, clock.Now());
        }
        if (answer != expected) abort();
        break;
      }
      case 2:
        clock.Advance(std::chrono::milliseconds(op >> 2));
        break;
      case 3:
        model.Expire(clock.Now());
        if (cache.size() != model.entries.size()) abort();
        if (cache.size() > max_entries) abort();
        // What the entries hold stays within a few blocks of what the live ones need (a block is at most an
        // eighth of the largest ring, and the ring at most twice the entries).
        if (cache.MemoryUsage() > 64 * (2 * max_entries + 64) + 16 * 1024 + 64 * 1024) abort();
        break;
    }
  }
  return 0;
}
