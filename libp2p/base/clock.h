// Monotonic time behind an interface, so that tests and simulations drive time by hand.
#ifndef LIBP2P_BASE_CLOCK_H_
#define LIBP2P_BASE_CLOCK_H_

#include <chrono>

namespace libp2p {

using Duration = std::chrono::nanoseconds;
// A point on a monotonic timeline whose origin is arbitrary; only differences are meaningful.
using MonoTime = std::chrono::time_point<std::chrono::steady_clock, Duration>;

// A source of monotonic time. Implementations never go backwards.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
};

// std::chrono::steady_clock.
class RealClock final : public Clock {
 public:
  MonoTime Now() const override;
};

// A clock that moves only when told to. Not thread-safe: owned by one loop thread.
class ManualClock final : public Clock {
 public:
  // Starts at an arbitrary fixed point, far enough from the origin that `now - ttl` never underflows.
  ManualClock() = default;
  explicit ManualClock(MonoTime start) : now_(start) {}

  MonoTime Now() const override { return now_; }
  // Moves time forward by `d`; a negative `d` is a programming error (asserted) and is ignored.
  void Advance(Duration d);
  // Moves time to `t` if it is later than now.
  void AdvanceTo(MonoTime t);

 private:
  MonoTime now_ = MonoTime(std::chrono::hours(24));
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_CLOCK_H_
