#include "libp2p/stream/test_util.h"

namespace libp2p::stream::testing {

bool RunUntil(LibeventLoop* loop, const std::function<bool()>& done, Duration limit) {
  // Checking every 100 microseconds costs little and reacts quickly; the condition decides, not the clock.
  return loop->RunUntil(done, limit, std::chrono::microseconds(100));
}

}  // namespace libp2p::stream::testing
