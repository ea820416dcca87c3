#include "libp2p/crypto/xsalsa20.h"

#include <openssl/mem.h>

#include <algorithm>
#include <cassert>
#include <cstring>

// The bulk paths compute several blocks at once, one per lane of vectors of 32-bit words (GCC and clang
// vector extensions, no intrinsics): four lanes everywhere (SSE2 on x86-64, NEON on arm64), and on x86-64
// CPUs with AVX2 eight lanes, in a function compiled for AVX2 and chosen at run time. Lanes are stored as
// little-endian words, so big-endian machines take the scalar path only.
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define LIBP2P_XSALSA20_VECTOR 1
#if defined(__x86_64__)
#define LIBP2P_XSALSA20_AVX2 1
#endif
#endif
#endif

namespace libp2p::crypto {
namespace {

// "expand 32-byte k", as four little-endian words: words 0, 5, 10 and 15 of every input block.
constexpr uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

inline uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// The rounds are written once for a word type W: uint32_t (one block) or a vector of them (one block per
// lane; shifting a vector by a scalar shifts every lane). Vectors pass by reference only: a 32-byte vector
// passed by value outside AVX code would change the calling convention (GCC's -Wpsabi). Always inlined, so
// that they compile for the instruction set of the kernel they are used in.
#define LIBP2P_XSALSA20_INLINE inline __attribute__((always_inline))

// b ^= (a + d) <<< 7, and so on: one quarter round (a, b, c, d).
template <typename W>
LIBP2P_XSALSA20_INLINE void QuarterRound(W& a, W& b, W& c, W& d) {
  W t = a + d;
  b ^= (t << 7) | (t >> 25);
  t = b + a;
  c ^= (t << 9) | (t >> 23);
  t = c + b;
  d ^= (t << 13) | (t >> 19);
  t = d + c;
  a ^= (t << 18) | (t >> 14);
}

// Salsa20's 20 rounds (10 column rounds, each followed by a row round) on the 4x4 word matrix `x`.
template <typename W>
LIBP2P_XSALSA20_INLINE void TwentyRounds(W (&x)[16]) {
  for (int i = 0; i < 10; ++i) {
    QuarterRound(x[0], x[4], x[8], x[12]);
    QuarterRound(x[5], x[9], x[13], x[1]);
    QuarterRound(x[10], x[14], x[2], x[6]);
    QuarterRound(x[15], x[3], x[7], x[11]);
    QuarterRound(x[0], x[1], x[2], x[3]);
    QuarterRound(x[5], x[6], x[7], x[4]);
    QuarterRound(x[10], x[11], x[8], x[9]);
    QuarterRound(x[15], x[12], x[13], x[14]);
  }
}

// One keystream block: Salsa20 of `input` with its words 8 and 9 replaced by `counter`.
void KeystreamBlock(const std::array<uint32_t, 16>& input, uint64_t counter, uint8_t out[64]) {
  uint32_t x[16];
  std::copy(input.begin(), input.end(), x);
  x[8] = static_cast<uint32_t>(counter);
  x[9] = static_cast<uint32_t>(counter >> 32);
  uint32_t j[16];
  std::copy(x, x + 16, j);
  TwentyRounds(x);
  for (int i = 0; i < 16; ++i) Store32(out + 4 * i, x[i] + j[i]);
  OPENSSL_cleanse(x, sizeof(x));
  OPENSSL_cleanse(j, sizeof(j));
}

#ifdef LIBP2P_XSALSA20_VECTOR
typedef uint32_t U32x4 __attribute__((vector_size(16)));

// Lanes 4 * kQuarter .. 4 * kQuarter + 3 of `v`.
template <int kQuarter, typename V>
LIBP2P_XSALSA20_INLINE U32x4 LanesOf(const V& v) {
  if constexpr (sizeof(V) == sizeof(U32x4)) {
    static_assert(kQuarter == 0);
    return v;
  } else {
    return __builtin_shufflevector(v, v, 4 * kQuarter, 4 * kQuarter + 1, 4 * kQuarter + 2, 4 * kQuarter + 3);
  }
}

LIBP2P_XSALSA20_INLINE void XorChunk(const uint8_t* in, uint8_t* out, const U32x4& keystream) {
  U32x4 v;
  std::memcpy(&v, in, sizeof(v));
  v ^= keystream;
  std::memcpy(out, &v, sizeof(v));
}

// Stores lanes 4 * kQuarter .. + 3 of the finished state `x`: the keystream of four consecutive blocks,
// XORed onto 256 bytes of `in`, into `out`. Lane k of x[i] is word i of block k; transposing each group of
// four words (i = 4g .. 4g + 3) gives 16 consecutive keystream bytes of each of the four blocks.
template <int kQuarter, typename V>
LIBP2P_XSALSA20_INLINE void XorFourFinished(const V (&x)[16], const uint8_t* in, uint8_t* out) {
  for (int g = 0; g < 4; ++g) {
    const U32x4 a = LanesOf<kQuarter>(x[4 * g]), b = LanesOf<kQuarter>(x[4 * g + 1]);
    const U32x4 c = LanesOf<kQuarter>(x[4 * g + 2]), d = LanesOf<kQuarter>(x[4 * g + 3]);
    const U32x4 ab_lo = __builtin_shufflevector(a, b, 0, 4, 1, 5);  // a0 b0 a1 b1
    const U32x4 ab_hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);  // a2 b2 a3 b3
    const U32x4 cd_lo = __builtin_shufflevector(c, d, 0, 4, 1, 5);
    const U32x4 cd_hi = __builtin_shufflevector(c, d, 2, 6, 3, 7);
    const size_t at = 16 * g;
    XorChunk(in + at, out + at, __builtin_shufflevector(ab_lo, cd_lo, 0, 1, 4, 5));
    XorChunk(in + 64 + at, out + 64 + at, __builtin_shufflevector(ab_lo, cd_lo, 2, 3, 6, 7));
    XorChunk(in + 128 + at, out + 128 + at, __builtin_shufflevector(ab_hi, cd_hi, 0, 1, 4, 5));
    XorChunk(in + 192 + at, out + 192 + at, __builtin_shufflevector(ab_hi, cd_hi, 2, 3, 6, 7));
  }
}

// XORs the keystream blocks `counter` .. `counter` + kLanes - 1 onto 64 * kLanes bytes of `in`, into `out`
// (the same memory or disjoint), computing block `counter` + k in lane k of V.
template <typename V, int kLanes>
LIBP2P_XSALSA20_INLINE void XorBlocks(const std::array<uint32_t, 16>& input, uint64_t counter, const uint8_t* in,
                                      uint8_t* out) {
  static_assert(sizeof(V) == kLanes * sizeof(uint32_t) && (kLanes == 4 || kLanes == 8));
  V j[16];
  for (int i = 0; i < 16; ++i) {
    for (int k = 0; k < kLanes; ++k) j[i][k] = input[i];
  }
  for (int k = 0; k < kLanes; ++k) {
    j[8][k] = static_cast<uint32_t>(counter + k);
    j[9][k] = static_cast<uint32_t>((counter + k) >> 32);
  }
  V x[16];
  for (int i = 0; i < 16; ++i) x[i] = j[i];
  TwentyRounds(x);
  for (int i = 0; i < 16; ++i) x[i] += j[i];
  XorFourFinished<0>(x, in, out);
  if constexpr (kLanes == 8) XorFourFinished<1>(x, in + 256, out + 256);
}

void XorFourBlocks(const std::array<uint32_t, 16>& input, uint64_t counter, const uint8_t* in, uint8_t* out) {
  XorBlocks<U32x4, 4>(input, counter, in, out);
}

#ifdef LIBP2P_XSALSA20_AVX2
typedef uint32_t U32x8 __attribute__((vector_size(32)));

// The same kernel on eight lanes, compiled for AVX2 (the helpers above are inlined into it as AVX2 code).
// Called only when the CPU and the operating system support AVX2.
__attribute__((target("avx2"))) void XorEightBlocks(const std::array<uint32_t, 16>& input, uint64_t counter,
                                                    const uint8_t* in, uint8_t* out) {
  XorBlocks<U32x8, 8>(input, counter, in, out);
}

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif  // LIBP2P_XSALSA20_AVX2
#endif  // LIBP2P_XSALSA20_VECTOR

}  // namespace

void Salsa20Core(const uint8_t in[64], uint8_t out[64]) {
  uint32_t x[16], j[16];
  for (int i = 0; i < 16; ++i) j[i] = x[i] = Load32(in + 4 * i);
  TwentyRounds(x);
  for (int i = 0; i < 16; ++i) Store32(out + 4 * i, x[i] + j[i]);
}

void HSalsa20(std::span<const uint8_t, 32> key, std::span<const uint8_t, 16> input, std::span<uint8_t, 32> out) {
  uint32_t x[16];
  x[0] = kSigma[0];
  x[5] = kSigma[1];
  x[10] = kSigma[2];
  x[15] = kSigma[3];
  for (int i = 0; i < 4; ++i) {
    x[1 + i] = Load32(key.data() + 4 * i);
    x[11 + i] = Load32(key.data() + 16 + 4 * i);
    x[6 + i] = Load32(input.data() + 4 * i);
  }
  TwentyRounds(x);
  static constexpr int kOutputWords[8] = {0, 5, 10, 15, 6, 7, 8, 9};
  for (int i = 0; i < 8; ++i) Store32(out.data() + 4 * i, x[kOutputWords[i]]);
  OPENSSL_cleanse(x, sizeof(x));
}

XSalsa20::XSalsa20(std::span<const uint8_t, kKeySize> key, std::span<const uint8_t, kNonceSize> nonce,
                   uint64_t first_block)
    : counter_(first_block) {
  uint8_t subkey[32];
  HSalsa20(key, nonce.first<16>(), subkey);
  input_[0] = kSigma[0];
  input_[5] = kSigma[1];
  input_[10] = kSigma[2];
  input_[15] = kSigma[3];
  for (int i = 0; i < 4; ++i) {
    input_[1 + i] = Load32(subkey + 4 * i);
    input_[11 + i] = Load32(subkey + 16 + 4 * i);
  }
  input_[6] = Load32(nonce.data() + 16);
  input_[7] = Load32(nonce.data() + 20);
  input_[8] = input_[9] = 0;  // The counter's place; each block fills it in.
  OPENSSL_cleanse(subkey, sizeof(subkey));
#ifdef LIBP2P_XSALSA20_VECTOR
  bulk_blocks_ = 4;
#endif
#ifdef LIBP2P_XSALSA20_AVX2
  if (CpuHasAvx2()) bulk_blocks_ = 8;
#endif
}

void XSalsa20::LimitBulkBlocksForTesting(size_t blocks) { bulk_blocks_ = std::min(bulk_blocks_, blocks); }

XSalsa20::~XSalsa20() {
  OPENSSL_cleanse(input_.data(), sizeof(input_));
  OPENSSL_cleanse(block_.data(), sizeof(block_));
}

void XSalsa20::NextBlock() {
  KeystreamBlock(input_, counter_, block_.data());
  ++counter_;
  used_ = 0;
}

void XSalsa20::Apply(ByteSpan in, std::span<uint8_t> out) {
  assert(in.size() == out.size());
  size_t n = std::min(in.size(), out.size());
  const uint8_t* src = in.data();
  uint8_t* dst = out.data();
  auto xor_from_block = [&](size_t count) {
    for (size_t i = 0; i < count; ++i) dst[i] = src[i] ^ block_[used_ + i];
    used_ += count;
    src += count;
    dst += count;
    n -= count;
  };
  // First what is left of the block the previous call began.
  if (used_ < kBlockSize) xor_from_block(std::min(n, kBlockSize - used_));
#ifdef LIBP2P_XSALSA20_AVX2
  while (bulk_blocks_ >= 8 && n >= 8 * kBlockSize) {
    XorEightBlocks(input_, counter_, src, dst);
    counter_ += 8;
    src += 8 * kBlockSize;
    dst += 8 * kBlockSize;
    n -= 8 * kBlockSize;
  }
#endif
#ifdef LIBP2P_XSALSA20_VECTOR
  while (bulk_blocks_ >= 4 && n >= 4 * kBlockSize) {
    XorFourBlocks(input_, counter_, src, dst);
    counter_ += 4;
    src += 4 * kBlockSize;
    dst += 4 * kBlockSize;
    n -= 4 * kBlockSize;
  }
#endif
  // The tail, a block at a time; the unused end of the last block stays for the next call.
  while (n > 0) {
    NextBlock();
    xor_from_block(std::min(n, kBlockSize));
  }
}

}  // namespace libp2p::crypto
