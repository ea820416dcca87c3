// How late a sleeping thread wakes up on this machine: the floor under every paced latency figure. A thread
// sleeps for the period again and again (as a node between two messages does) and counts the wake-ups that
// come more than 1 ms and 5 ms after their time, with the worst. Run it on an idle machine, then beside a
// benchmark; a virtual machine whose idle vCPUs halt can wake a thread milliseconds late.
//
//   bazel run -c opt //tools/bench:wake_latency -- [--seconds S (default 10)] [--period-us P (default 200)]
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int64_t period_us = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (flag == "--period-us") {
      period_us = std::atoll(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (seconds <= 0 || period_us <= 0) {
    std::fprintf(stderr, "--seconds and --period-us must be positive\n");
    return 2;
  }
  const timespec period{static_cast<time_t>(period_us / 1'000'000), static_cast<long>(period_us % 1'000'000) * 1000};
  const int64_t end = NowNs() + static_cast<int64_t>(seconds * 1e9);
  int64_t sleeps = 0, late_1ms = 0, late_5ms = 0, worst_ns = 0;
  while (NowNs() < end) {
    const int64_t before = NowNs();
    nanosleep(&period, nullptr);
    const int64_t late = NowNs() - before - period_us * 1000;
    ++sleeps;
    if (late > 1'000'000) ++late_1ms;
    if (late > 5'000'000) ++late_5ms;
    if (late > worst_ns) worst_ns = late;
  }
  std::printf("%lld sleeps of %lld us in %.1f s: %lld woke more than 1 ms late (%.1f/s), %lld more than 5 ms; "
              "worst %.2f ms late\n",
              static_cast<long long>(sleeps), static_cast<long long>(period_us), seconds,
              static_cast<long long>(late_1ms), late_1ms / seconds, static_cast<long long>(late_5ms),
              worst_ns / 1e6);
  return 0;
}
