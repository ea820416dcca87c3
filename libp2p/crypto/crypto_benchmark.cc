// Ed25519 sign and verify through our API next to BoringSSL called directly, the X25519 operations of a Noise
// handshake, and SHA-256, ChaCha20-Poly1305 and XSalsa20 (the private-network cipher) throughput.
//
// bazel run -c opt //libp2p/crypto:crypto_benchmark
#include <openssl/curve25519.h>
#include <openssl/sha.h>

#include "benchmark/benchmark.h"
#include "libp2p/crypto/chacha20_poly1305.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/x25519.h"
#include "libp2p/crypto/xsalsa20.h"

namespace libp2p::crypto {
namespace {

// A pubsub-sized signing input: "libp2p-pubsub:" + a marshalled message with 1 KiB of data.
const Bytes& Message() {
  static const Bytes m(1100, 0x42);
  return m;
}

const Ed25519PrivateKey& Key() {
  static const Ed25519PrivateKey k = *Ed25519PrivateKey::FromSeed(Bytes(32, 7));
  return k;
}

void BM_Ed25519Sign(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Key().Sign(Message()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519SignBoringSslDirect(benchmark::State& state) {
  uint8_t pub[32], priv[64], sig[64];
  ED25519_keypair_from_seed(pub, priv, Bytes(32, 7).data());
  for (auto _ : state) {
    ED25519_sign(sig, Message().data(), Message().size(), priv);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519SignBoringSslDirect);

void BM_Ed25519Verify(benchmark::State& state) {
  const Bytes sig = Key().Sign(Message());
  const PublicKey& pub = Key().public_key();
  for (auto _ : state) {
    if (!pub.Verify(Message(), sig)) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

void BM_Ed25519VerifyBoringSslDirect(benchmark::State& state) {
  uint8_t pub[32], priv[64], sig[64];
  ED25519_keypair_from_seed(pub, priv, Bytes(32, 7).data());
  ED25519_sign(sig, Message().data(), Message().size(), priv);
  for (auto _ : state) {
    if (ED25519_verify(Message().data(), Message().size(), sig, pub) != 1) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519VerifyBoringSslDirect);

// A Noise XX handshake makes an ephemeral key pair and three agreements on each side.
void BM_X25519Generate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(X25519KeyPair::Generate());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Generate);

void BM_X25519Agree(benchmark::State& state) {
  const X25519KeyPair ours = X25519KeyPair::Generate();
  const X25519KeyPair theirs = X25519KeyPair::Generate();
  for (auto _ : state) benchmark::DoNotOptimize(ours.Agree(theirs.public_key()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Agree);

void BM_Sha256(benchmark::State& state) {
  const Bytes data(state.range(0), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(1024)->Arg(64 * 1024);

void BM_ChaCha20Poly1305Seal(benchmark::State& state) {
  auto aead = *ChaCha20Poly1305::Create(Bytes(32, 1));
  Bytes buf(state.range(0) + ChaCha20Poly1305::kTagSize);
  std::array<uint8_t, 12> nonce{};
  for (auto _ : state) {
    benchmark::DoNotOptimize(aead.Seal(nonce, ByteSpan(buf).first(state.range(0)), ByteSpan(), buf));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ChaCha20Poly1305Seal)->Arg(1024)->Arg(65519);

// One keystream over every iteration, in place, as a protected connection applies it to each write. The
// widest path this CPU has (eight blocks at once with AVX2), then the portable four-block path alone.
void BM_XSalsa20(benchmark::State& state) {
  const std::array<uint8_t, 32> key{1};
  const std::array<uint8_t, 24> nonce{2};
  XSalsa20 cipher(key, nonce);
  if (state.range(1) != 0) cipher.LimitBulkBlocksForTesting(state.range(1));
  Bytes buf(state.range(0), 0x5a);
  for (auto _ : state) {
    cipher.Apply(buf);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_XSalsa20)
    ->ArgNames({"bytes", "max_blocks"})
    ->Args({1024, 0})
    ->Args({65536, 0})
    ->Args({1024, 4})
    ->Args({65536, 4});

}  // namespace
}  // namespace libp2p::crypto

BENCHMARK_MAIN();
