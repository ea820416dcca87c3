#include "libp2p/base/clock.h"

#include <cassert>

namespace libp2p {

MonoTime RealClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

void ManualClock::Advance(Duration d) {
  assert(d >= Duration::zero());
  if (d > Duration::zero()) now_ += d;
}

void ManualClock::AdvanceTo(MonoTime t) {
  if (t > now_) now_ = t;
}

}  // namespace libp2p
