#include "libp2p/stream/test_util.h"

namespace libp2p::stream::testing {

bool RunUntil(LibeventLoop* loop, const std::function<bool()>& done, Duration limit) {
  if (done()) return true;
  bool timed_out = false;
  auto check = loop->CreateTimer([&] {
    if (done()) loop->Stop();
  });
  auto give_up = loop->CreateTimer([&] {
    timed_out = true;
    loop->Stop();
  });
  // Checking every 100 microseconds costs little and reacts quickly; the condition decides, not the clock.
  check->ScheduleRepeating(std::chrono::microseconds(100));
  give_up->Schedule(limit);
  loop->Run();
  return !timed_out && done();
}

}  // namespace libp2p::stream::testing
