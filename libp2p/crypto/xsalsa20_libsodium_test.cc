// XSalsa20 against libsodium's crypto_stream_xsalsa20_xor_ic, the reference implementation: random keys,
// nonces, lengths 0..1100 and ways of splitting them into calls, starting counters (the 32-bit carry
// included), and a stream of several MiB.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/crypto/xsalsa20.h"

namespace libp2p::crypto {
namespace {

class XSalsa20LibsodiumTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }

  Bytes Random(size_t n) {
    Bytes b(n);
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  std::mt19937_64 rng_{20261203};
};

Bytes Sodium(ByteSpan key, ByteSpan nonce, ByteSpan message, uint64_t first_block = 0) {
  if (message.empty()) return {};  // libsodium declares its pointers non-null; an empty vector has none.
  Bytes out(message.size());
  crypto_stream_xsalsa20_xor_ic(out.data(), message.data(), message.size(), nonce.data(), first_block, key.data());
  return out;
}

// Single blocks, four and eight at once (XSalsa20::LimitBulkBlocksForTesting).
constexpr size_t kWidths[] = {1, 4, 8};

std::span<const uint8_t, 32> Key(const Bytes& b) { return std::span<const uint8_t, 32>(b.data(), 32); }
std::span<const uint8_t, 24> Nonce(const Bytes& b) { return std::span<const uint8_t, 24>(b.data(), 24); }

TEST_F(XSalsa20LibsodiumTest, EveryLengthOneCall) {
  static_assert(crypto_stream_xsalsa20_KEYBYTES == XSalsa20::kKeySize);
  static_assert(crypto_stream_xsalsa20_NONCEBYTES == XSalsa20::kNonceSize);
  for (size_t length = 0; length <= 1100; ++length) {
    const Bytes key = Random(32), nonce = Random(24), message = Random(length);
    const Bytes expected = Sodium(key, nonce, message);
    for (size_t width : kWidths) {
      Bytes ours(length);
      XSalsa20 cipher(Key(key), Nonce(nonce));
      cipher.LimitBulkBlocksForTesting(width);
      cipher.Apply(message, ours);
      ASSERT_EQ(ours, expected) << "length " << length << ", width " << width;
    }
  }
}

TEST_F(XSalsa20LibsodiumTest, RandomSplits) {
  for (int round = 0; round < 2000; ++round) {
    const Bytes key = Random(32), nonce = Random(24);
    const size_t length = rng_() % 1101;
    Bytes data = Random(length);
    const Bytes expected = Sodium(key, nonce, data);
    XSalsa20 cipher(Key(key), Nonce(nonce));
    const size_t width = kWidths[round % std::size(kWidths)];
    cipher.LimitBulkBlocksForTesting(width);
    // Pieces from a distribution that favours the edges: tiny, around a block, around four blocks.
    static constexpr size_t kSizes[] = {0, 1, 2, 31, 63, 64, 65, 127, 128, 191, 255, 256, 257, 320, 511, 513};
    size_t at = 0;
    while (at < length) {
      size_t piece = (rng_() % 2 == 0) ? kSizes[rng_() % std::size(kSizes)] : rng_() % 700;
      piece = std::min(piece, length - at);
      // Alternate in place and out of place.
      if (rng_() % 2 == 0) {
        cipher.Apply(std::span<uint8_t>(data).subspan(at, piece));
      } else {
        const Bytes in(data.begin() + at, data.begin() + at + piece);
        cipher.Apply(in, std::span<uint8_t>(data).subspan(at, piece));
      }
      at += piece;
    }
    ASSERT_EQ(data, expected) << "round " << round << ", length " << length << ", width " << width;
  }
}

TEST_F(XSalsa20LibsodiumTest, StartingCounters) {
  for (uint64_t first : {uint64_t{1}, uint64_t{3}, uint64_t{0x7fffffff}, uint64_t{0xfffffffc},
                         uint64_t{0xfffffffd}, uint64_t{0xffffffff}, uint64_t{0x100000000},
                         uint64_t{0x123456789abcdef}, uint64_t{0xfffffffffffffffd}}) {
    for (size_t length : {1, 64, 200, 256, 700, 1100}) {
      const Bytes key = Random(32), nonce = Random(24), message = Random(length);
      for (size_t width : kWidths) {
        Bytes ours = message;
        XSalsa20 cipher(Key(key), Nonce(nonce), first);
        cipher.LimitBulkBlocksForTesting(width);
        cipher.Apply(ours);
        ASSERT_EQ(ours, Sodium(key, nonce, message, first))
            << "first block " << first << ", length " << length << ", width " << width;
      }
    }
  }
}

TEST_F(XSalsa20LibsodiumTest, LongStream) {
  // 5 MiB plus a little, applied in large uneven pieces (as a connection carries a bulk transfer).
  const Bytes key = Random(32), nonce = Random(24);
  Bytes data = Random(5 * 1024 * 1024 + 77);
  const Bytes expected = Sodium(key, nonce, data);
  XSalsa20 cipher(Key(key), Nonce(nonce));
  for (size_t at = 0; at < data.size();) {
    const size_t piece = std::min<size_t>(data.size() - at, 1 + rng_() % (200 * 1024));
    cipher.Apply(std::span<uint8_t>(data).subspan(at, piece));
    at += piece;
  }
  EXPECT_EQ(data, expected);
}

}  // namespace
}  // namespace libp2p::crypto
