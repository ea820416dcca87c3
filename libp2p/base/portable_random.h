// Uniform integers, uniform reals and shuffles drawn from a 64-bit generator by algorithms this file fixes,
// so that a seed gives the same choices with every standard library. std::uniform_int_distribution,
// std::uniform_real_distribution and std::shuffle leave their algorithms to the implementation (libstdc++
// and libc++ differ, and a release may change), while a generator's raw output (std::mt19937_64's included)
// is specified exactly. The library uses these instead of the std ones.
//
// `Rng` is any generator whose operator() returns uint64_t over the full range [0, 2^64), such as
// std::mt19937_64 (checked at compile time). The functions draw from it only, in the order documented.
#ifndef LIBP2P_BASE_PORTABLE_RANDOM_H_
#define LIBP2P_BASE_PORTABLE_RANDOM_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace libp2p {
namespace portable_random_internal {

template <typename Rng>
constexpr void CheckGenerator() {
  static_assert(std::is_same_v<decltype(std::declval<Rng&>()()), uint64_t>, "the generator must return uint64_t");
  static_assert(Rng::min() == 0 && Rng::max() == std::numeric_limits<uint64_t>::max(),
                "the generator must cover the full 64-bit range");
}

}  // namespace portable_random_internal

// A uniform integer in [0, n), without bias: draws until a value falls below the largest multiple of n
// that fits in 2^64 (values below 2^64 mod n are rejected; at most half the draws are, usually almost
// none), and returns it modulo n. `n` must be positive (asserted).
template <typename Rng>
uint64_t UniformIndex(Rng& rng, uint64_t n) {
  portable_random_internal::CheckGenerator<Rng>();
  assert(n > 0);
  // 2^64 mod n, computed in 64 bits: (2^64 - n) mod n.
  const uint64_t reject_below = (0 - n) % n;
  for (;;) {
    const uint64_t x = rng();
    if (x >= reject_below) return x % n;
  }
}

// A uniform real in [0, 1): the high 53 bits of one draw, times 2^-53 (every value is a multiple of 2^-53).
template <typename Rng>
double UniformReal01(Rng& rng) {
  portable_random_internal::CheckGenerator<Rng>();
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Puts `v` in a uniformly random order (Fisher-Yates): for i from size-1 down to 1, swaps v[i] with
// v[UniformIndex(rng, i + 1)]. Draws size-1 indices (none for fewer than two elements).
template <typename Rng, typename T>
void Shuffle(Rng& rng, std::vector<T>* v) {
  portable_random_internal::CheckGenerator<Rng>();
  for (size_t i = v->size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(UniformIndex(rng, i));
    if (j != i - 1) {
      using std::swap;
      swap((*v)[i - 1], (*v)[j]);
    }
  }
}

}  // namespace libp2p

#endif  // LIBP2P_BASE_PORTABLE_RANDOM_H_
