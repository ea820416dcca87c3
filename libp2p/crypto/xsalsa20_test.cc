// Known answers for Salsa20/20, HSalsa20 and XSalsa20 (the Salsa20 specification's examples, NaCl's tests,
// eSTREAM), and the stream properties: any split of the input, in place or not, gives the same bytes. Every
// expected value here was checked against libsodium 1.0.18 (xsalsa20_libsodium_test compares the two
// implementations on random inputs).
#include "libp2p/crypto/xsalsa20.h"

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::crypto {
namespace {

using Block = std::array<uint8_t, 64>;

Bytes Hex(std::string_view h) { return *HexDecode(h); }

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view h) {
  const Bytes b = Hex(h);
  EXPECT_EQ(b.size(), N);
  std::array<uint8_t, N> out{};
  std::copy(b.begin(), b.begin() + std::min(N, b.size()), out.begin());
  return out;
}

Block Salsa20(const Block& in) {
  Block out;
  Salsa20Core(in.data(), out.data());
  return out;
}

// NaCl's tests/core1.c .. stream.c: the X25519 shared secret of RFC 7748's Alice and Bob, the key HSalsa20
// derives from it ("firstkey"), and the nonce of NaCl's box example.
constexpr std::string_view kShared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
constexpr std::string_view kFirstKey = "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";
constexpr std::string_view kNonce = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";

TEST(Salsa20CoreTest, SpecificationExamples) {
  // Section 8 of "Salsa20 specification": the hash function.
  EXPECT_EQ(Salsa20(Block{}), Block{});
  const Block a = {211, 159, 13,  115, 76,  55,  82,  183, 3,   117, 222, 37,  191, 187, 234, 136,
                   49,  237, 179, 48,  1,   106, 178, 219, 175, 199, 166, 48,  86,  16,  179, 207,
                   31,  240, 32,  63,  15,  83,  93,  161, 116, 147, 48,  113, 238, 55,  204, 36,
                   79,  201, 235, 79,  3,   81,  156, 47,  203, 26,  244, 243, 88,  118, 104, 54};
  const Block a_out = {109, 42,  178, 168, 156, 240, 248, 238, 168, 196, 190, 203, 26,  110, 170, 154,
                       29,  29,  150, 26,  150, 30,  235, 249, 190, 163, 251, 48,  69,  144, 51,  57,
                       118, 40,  152, 157, 180, 57,  27,  94,  107, 42,  236, 35,  27,  111, 114, 114,
                       219, 236, 232, 135, 111, 155, 110, 18,  24,  232, 95,  158, 179, 19,  48,  202};
  EXPECT_EQ(Salsa20(a), a_out);
  const Block b = {88,  118, 104, 54,  79,  201, 235, 79,  3,   81,  156, 47,  203, 26,  244, 243,
                   191, 187, 234, 136, 211, 159, 13,  115, 76,  55,  82,  183, 3,   117, 222, 37,
                   86,  16,  179, 207, 49,  237, 179, 48,  1,   106, 178, 219, 175, 199, 166, 48,
                   238, 55,  204, 36,  31,  240, 32,  63,  15,  83,  93,  161, 116, 147, 48,  113};
  const Block b_out = {179, 19,  48,  202, 219, 236, 232, 135, 111, 155, 110, 18,  24,  232, 95,  158,
                       26,  110, 170, 154, 109, 42,  178, 168, 156, 240, 248, 238, 168, 196, 190, 203,
                       69,  144, 51,  57,  29,  29,  150, 26,  150, 30,  235, 249, 190, 163, 251, 48,
                       27,  111, 114, 114, 118, 40,  152, 157, 180, 57,  27,  94,  107, 42,  236, 35};
  EXPECT_EQ(Salsa20(b), b_out);
}

TEST(Salsa20CoreTest, SpecificationMillionIterations) {
  Block x = {6,   124, 83,  146, 38,  191, 9,   50,  4,   161, 47,  222, 122, 182, 223, 185,
             75,  27,  0,   216, 16,  122, 7,   89,  162, 104, 101, 147, 213, 21,  54,  95,
             225, 253, 139, 176, 105, 132, 23,  116, 76,  41,  176, 207, 221, 34,  157, 108,
             94,  94,  99,  52,  90,  117, 91,  220, 146, 190, 239, 143, 196, 176, 130, 186};
  for (int i = 0; i < 1000000; ++i) Salsa20Core(x.data(), x.data());  // In place.
  const Block expected = {8,   18,  38,  199, 119, 76,  215, 67,  173, 127, 144, 162, 103, 212, 176, 217,
                          192, 19,  233, 33,  159, 197, 154, 160, 128, 243, 219, 65,  171, 136, 135, 225,
                          123, 11,  68,  86,  237, 82,  20,  155, 133, 189, 9,   83,  167, 116, 194, 78,
                          122, 127, 195, 185, 185, 204, 188, 90,  245, 9,   183, 248, 226, 85,  245, 104};
  EXPECT_EQ(x, expected);
}

// Salsa20's input block for a 32-byte key, an 8-byte nonce and a block counter (section 10 of the spec).
Block ExpansionInput(ByteSpan key, ByteSpan nonce, uint64_t counter) {
  static constexpr std::string_view kSigma = "expand 32-byte k";
  Block x{};
  std::copy(kSigma.begin(), kSigma.begin() + 4, x.begin());
  std::copy(key.begin(), key.begin() + 16, x.begin() + 4);
  std::copy(kSigma.begin() + 4, kSigma.begin() + 8, x.begin() + 20);
  std::copy(nonce.begin(), nonce.begin() + 8, x.begin() + 24);
  for (int i = 0; i < 8; ++i) x[32 + i] = static_cast<uint8_t>(counter >> (8 * i));
  std::copy(kSigma.begin() + 8, kSigma.begin() + 12, x.begin() + 40);
  std::copy(key.begin() + 16, key.begin() + 32, x.begin() + 44);
  std::copy(kSigma.begin() + 12, kSigma.end(), x.begin() + 60);
  return x;
}

TEST(Salsa20CoreTest, SpecificationExpansionExample) {
  // Section 9: Salsa20_k(n) with k = (1..16, 201..216) and n = 101..116 (nonce and counter together).
  Bytes key, n;
  for (int i = 0; i < 16; ++i) key.push_back(1 + i);
  for (int i = 0; i < 16; ++i) key.push_back(201 + i);
  for (int i = 0; i < 16; ++i) n.push_back(101 + i);
  uint64_t counter = 0;
  for (int i = 0; i < 8; ++i) counter |= static_cast<uint64_t>(n[8 + i]) << (8 * i);
  const Block expected = {69,  37,  68,  39,  41,  15,  107, 193, 255, 139, 122, 6,   170, 233, 217, 98,
                          89,  144, 182, 106, 21,  51,  200, 65,  239, 49,  222, 34,  215, 114, 40,  126,
                          104, 197, 7,   225, 197, 153, 31,  2,   102, 78,  76,  176, 84,  245, 246, 184,
                          177, 160, 133, 130, 6,   72,  149, 119, 192, 195, 132, 236, 234, 103, 246, 74};
  EXPECT_EQ(Salsa20(ExpansionInput(key, n, counter)), expected);
}

// The XOR of `blocks` consecutive Salsa20 keystream blocks from counter 0 (eSTREAM's "xor-digest").
Block XorDigest(ByteSpan key, ByteSpan iv, uint64_t blocks) {
  Block digest{};
  for (uint64_t i = 0; i < blocks; ++i) {
    const Block b = Salsa20(ExpansionInput(key, iv, i));
    for (size_t j = 0; j < 64; ++j) digest[j] ^= b[j];
  }
  return digest;
}

TEST(Salsa20CoreTest, EstreamVectors) {
  // eSTREAM's Salsa20/20 256-bit-key test vectors. Set 1, vector 0: key 80 00 .. 00, IV 0, 512 bytes.
  Bytes key(32, 0);
  key[0] = 0x80;
  const Bytes iv(8, 0);
  EXPECT_EQ(HexEncode(Salsa20(ExpansionInput(key, iv, 0))),
            "e3be8fdd8beca2e3ea8ef9475b29a6e7003951e1097a5c38d23b7a5fad9f6844"
            "b22c97559e2723c7cbbd3fe4fc8d9a0744652a83e72a9c461876af4d7ef1a117");
  EXPECT_EQ(HexEncode(Salsa20(ExpansionInput(key, iv, 7))),
            "696afcfd0cddcc83c7e77f11a649d79acdc3354e9635ff137e929933a0bd6f53"
            "77efa105a3a4266b7c0d089d08f1e855cc32b15b93784a36e56a76cc64bc8477");
  EXPECT_EQ(HexEncode(XorDigest(key, iv, 8)),
            "50ec2485637db19c6e795e9c739382806f6db320fe3d0444d56707d7b456457f"
            "3db3e8d7065af375a225a70951c8ab744ec4d595e85225f08e2bc03fe1c42567");
  // Set 6, vector 0: the xor-digest of 131072 bytes.
  EXPECT_EQ(HexEncode(XorDigest(Hex("0053a6f94c9ff24598eb3e91e4378add3083d6297ccf2275c81b6ec11467ba0d"),
                                Hex("0d74db42a91077de"), 131072 / 64)),
            "c349b6a51a3ec9b712eaed3f90d8bcee69b7628645f251a996f55260c62ef31f"
            "d6c6b0aea94e136c9d984ad2df3578f78e457527b03a0450580dd874f63b1ab9");
}

TEST(HSalsa20Test, NaclCore1AndCore2) {
  const auto shared = HexArray<32>(kShared);
  const std::array<uint8_t, 16> zero{};
  std::array<uint8_t, 32> first;
  HSalsa20(shared, zero, first);
  EXPECT_EQ(HexEncode(first), kFirstKey);
  const auto nonce = HexArray<24>(kNonce);
  std::array<uint8_t, 32> second;
  HSalsa20(first, std::span<const uint8_t, 16>(nonce.data(), 16), second);
  EXPECT_EQ(HexEncode(second), "dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4");
  // The output may overwrite the key.
  HSalsa20(first, std::span<const uint8_t, 16>(nonce.data(), 16), first);
  EXPECT_EQ(first, second);
  // NaCl's tests/core5.c.
  std::array<uint8_t, 32> out;
  HSalsa20(HexArray<32>("ee304fca27008d8c126f90027901d80f7f1d8b8dc936cf3b9f819692827e5777"),
           HexArray<16>("81918ef2a5e0da9b3e9060521e4bb352"), out);
  EXPECT_EQ(HexEncode(out), "bc1b30fc072cc14075e4baa731b5a845ea9b11e9a5191f94e18cba8fd821a7cd");
}

TEST(XSalsa20Test, NaclStream) {
  const auto key = HexArray<32>(kFirstKey);
  const auto nonce = HexArray<24>(kNonce);
  // NaCl's tests/stream.c: SHA-256 of the first 4,194,304 keystream bytes; stream3.c: the first 32.
  Bytes stream(4194304, 0);
  XSalsa20(key, nonce).Apply(stream);
  EXPECT_EQ(HexEncode(ByteSpan(stream).first(32)),
            "eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880");
  EXPECT_EQ(HexEncode(Sha256(stream)), "662b9d0e3463029156069b12f918691a98f7dfb2ca0393c96bbfc6b1fbd630a2");
}

TEST(XSalsa20Test, GolangVectors) {
  // golang.org/x/crypto/salsa20's xSalsa20TestData.
  const auto key = HexArray<32>(HexEncode(AsBytes("this is 32-byte key for xsalsa20")));
  const auto nonce = HexArray<24>(HexEncode(AsBytes("24-byte nonce for xsalsa")));
  Bytes hello = ToBytes("Hello world!");
  XSalsa20(key, nonce).Apply(hello);
  EXPECT_EQ(HexEncode(hello), "002d4513843fc240c401e541");
  Bytes zeros(64, 0);
  XSalsa20(key, nonce).Apply(zeros);
  EXPECT_EQ(HexEncode(zeros),
            "4848297feb1fb52fb66d81609bd547fabcbe7026edc8b5e5e449d088bfa69c08"
            "8f5d8da1d791267c2c195a7f8cae9c4b4050d08ce6d3a151ec265f3a58e47648");
}

TEST(XSalsa20Test, PnetShapedVector) {
  // Key 00112233..eeff twice, nonce 00 01 .. 17 (checked against libsodium and js xsalsa20@1.2.0): the
  // keystream, and the first multistream-select message encrypted with it.
  const auto key = HexArray<32>("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  std::array<uint8_t, 24> nonce;
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(i);
  Bytes stream(64, 0);
  XSalsa20(key, nonce).Apply(stream);
  EXPECT_EQ(HexEncode(stream),
            "11ed2ab819945700027c4361cdc0858ad0caf5b336ecb9e717af75e34efc76e8"
            "21ed9fc49e9cf2a7fe5866136fefaf92025533b21cbdc7ffd49b4c21ecc432ce");
  Bytes message = ToBytes("\x13/multistream/1.0.0\n");
  XSalsa20(key, nonce).Apply(message);
  EXPECT_EQ(HexEncode(message), "02c247cd75e03e73760e2600a0efb4a4e0e4c5b9");
}

// The keystream assembled block by block from HSalsa20 and Salsa20Core (the scalar definition), from block
// `first_block` on.
Bytes ReferenceKeystream(ByteSpan key, ByteSpan nonce, uint64_t first_block, size_t length) {
  std::array<uint8_t, 32> subkey;
  HSalsa20(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 16>(nonce.data(), 16), subkey);
  Bytes out;
  for (uint64_t block = first_block; out.size() < length; ++block) {
    const Block b = Salsa20(ExpansionInput(subkey, nonce.subspan(16), block));
    out.insert(out.end(), b.begin(), b.end());
  }
  out.resize(length);
  return out;
}

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// The widths LimitBulkBlocksForTesting() can choose: single blocks, four and eight at once (each where the
// machine has it; a wider limit than the machine runs tests the widest path it has).
constexpr size_t kWidths[] = {1, 4, 8};

TEST(XSalsa20Test, MatchesBlockByBlockDefinition) {
  std::mt19937_64 rng(1);
  const Bytes key = RandomBytes(rng, 32), nonce = RandomBytes(rng, 24);
  const std::span<const uint8_t, 32> k(key.data(), 32);
  const std::span<const uint8_t, 24> n(nonce.data(), 24);
  // Counters across the 32-bit boundary: the bulk paths carry into the counter's high word in each lane.
  for (uint64_t first : {uint64_t{0}, uint64_t{5}, uint64_t{0xfffffff9}, uint64_t{0xfffffffd}, uint64_t{0xfffffffe},
                         uint64_t{0xffffffffffffff00}}) {
    for (size_t length : {0, 1, 63, 64, 65, 255, 256, 257, 511, 512, 513, 767, 768, 1024, 1100, 4099}) {
      const Bytes expected = ReferenceKeystream(key, nonce, first, length);
      for (size_t width : kWidths) {
        Bytes data(length, 0);
        XSalsa20 cipher(k, n, first);
        cipher.LimitBulkBlocksForTesting(width);
        cipher.Apply(data);
        EXPECT_EQ(data, expected) << "first block " << first << ", length " << length << ", width " << width;
      }
    }
  }
}

// Applies the keystream to `plain` in pieces of the given sizes (the last piece takes the rest), computing at
// most `width` blocks at once.
Bytes ApplyInPieces(ByteSpan key, ByteSpan nonce, ByteSpan plain, const std::vector<size_t>& pieces,
                    size_t width = 8) {
  XSalsa20 cipher(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 24>(nonce.data(), 24));
  cipher.LimitBulkBlocksForTesting(width);
  Bytes out(plain.size());
  size_t at = 0;
  for (size_t piece : pieces) {
    const size_t n = std::min(piece, plain.size() - at);
    cipher.Apply(plain.subspan(at, n), std::span<uint8_t>(out).subspan(at, n));
    at += n;
  }
  cipher.Apply(plain.subspan(at), std::span<uint8_t>(out).subspan(at));
  return out;
}

TEST(XSalsa20Test, EverySplitEqualsOneCall) {
  std::mt19937_64 rng(2);
  const Bytes key = RandomBytes(rng, 32), nonce = RandomBytes(rng, 24);
  const Bytes plain = RandomBytes(rng, 1100);
  const Bytes whole = ApplyInPieces(key, nonce, plain, {});
  ASSERT_EQ(whole.size(), plain.size());
  Bytes stream = whole;
  for (size_t i = 0; i < plain.size(); ++i) stream[i] ^= plain[i];
  EXPECT_EQ(stream, ReferenceKeystream(key, nonce, 0, plain.size()));
  for (size_t width : kWidths) {
    SCOPED_TRACE(testing::Message() << "width " << width);
    ASSERT_EQ(ApplyInPieces(key, nonce, plain, {}, width), whole);
    // Two calls, split at every offset: across block and bulk boundaries, with and without a partial block
    // carried over.
    for (size_t split = 0; split <= plain.size(); ++split) {
      ASSERT_EQ(ApplyInPieces(key, nonce, plain, {split}, width), whole) << "split at " << split;
    }
    // Three calls: a partial first block, then a middle piece of every length up to 600.
    for (size_t first : {1, 17, 63, 64, 100}) {
      for (size_t middle = 0; middle <= 600; ++middle) {
        ASSERT_EQ(ApplyInPieces(key, nonce, plain, {first, middle}, width), whole) << first << " then " << middle;
      }
    }
    // One byte at a time, and random pieces.
    EXPECT_EQ(ApplyInPieces(key, nonce, plain, std::vector<size_t>(plain.size(), 1), width), whole);
    for (int round = 0; round < 200; ++round) {
      std::vector<size_t> pieces;
      for (size_t total = 0; total < plain.size();) {
        pieces.push_back(rng() % 600);
        total += pieces.back();
      }
      ASSERT_EQ(ApplyInPieces(key, nonce, plain, pieces, width), whole) << "round " << round;
    }
  }
}

TEST(XSalsa20Test, InPlaceEqualsOutOfPlace) {
  std::mt19937_64 rng(3);
  const Bytes key = RandomBytes(rng, 32), nonce = RandomBytes(rng, 24);
  const std::span<const uint8_t, 32> k(key.data(), 32);
  const std::span<const uint8_t, 24> n(nonce.data(), 24);
  for (size_t width : kWidths) {
    for (size_t length : {0, 1, 64, 300, 1024, 5000}) {
      SCOPED_TRACE(testing::Message() << "width " << width << ", length " << length);
      auto cipher = [&] {
        auto c = std::make_unique<XSalsa20>(k, n);
        c->LimitBulkBlocksForTesting(width);
        return c;
      };
      const Bytes plain = RandomBytes(rng, length);
      Bytes out(length);
      cipher()->Apply(plain, out);
      Bytes in_place = plain;
      cipher()->Apply(in_place);
      EXPECT_EQ(in_place, out);
      // Unaligned buffers: the bulk paths load and store 16 bytes at arbitrary addresses.
      Bytes shifted(length + 3);
      std::copy(plain.begin(), plain.end(), shifted.begin() + 3);
      cipher()->Apply(std::span<uint8_t>(shifted).subspan(3));
      EXPECT_TRUE(std::equal(out.begin(), out.end(), shifted.begin() + 3));
      // Applying the same keystream again restores the plaintext.
      cipher()->Apply(in_place);
      EXPECT_EQ(in_place, plain);
    }
  }
}

TEST(XSalsa20Test, KeyAndNonceBothMatter) {
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, 24> nonce{};
  Bytes base(128), other_key(128), other_nonce_prefix(128), other_nonce_suffix(128);
  XSalsa20(key, nonce).Apply(base);
  key[31] = 1;
  XSalsa20(key, nonce).Apply(other_key);
  key[31] = 0;
  nonce[0] = 1;  // Goes into HSalsa20.
  XSalsa20(key, nonce).Apply(other_nonce_prefix);
  nonce[0] = 0;
  nonce[23] = 1;  // Goes into the Salsa20 nonce words.
  XSalsa20(key, nonce).Apply(other_nonce_suffix);
  EXPECT_NE(base, other_key);
  EXPECT_NE(base, other_nonce_prefix);
  EXPECT_NE(base, other_nonce_suffix);
  EXPECT_NE(other_nonce_prefix, other_nonce_suffix);
}

}  // namespace
}  // namespace libp2p::crypto
