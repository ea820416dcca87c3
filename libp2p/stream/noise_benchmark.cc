// The CPU of one whole Noise XX handshake (both sides, over the in-memory network), with a static key made
// for each handshake against one shared by all of them (as a host shares its own).
//
// bazel run -c opt //libp2p/stream:noise_benchmark
#include <memory>
#include <optional>

#include "benchmark/benchmark.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"

namespace libp2p::stream {
namespace {

// state.range(0): 1 when both sides present a shared static key.
void BM_NoiseHandshake(benchmark::State& state) {
  const bool shared = state.range(0) == 1;
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> accepted;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  const crypto::Ed25519PrivateKey client_key = crypto::Ed25519PrivateKey::Generate();
  const crypto::Ed25519PrivateKey server_key = crypto::Ed25519PrivateKey::Generate();
  const NoiseStaticKey client_static(client_key), server_static(server_key);
  const NoiseOptions client_options{&client_key, {}, std::chrono::seconds(10), shared ? &client_static : nullptr};
  const NoiseOptions server_options{&server_key, {}, std::chrono::seconds(10), shared ? &server_static : nullptr};
  for (auto _ : state) {
    std::unique_ptr<RawConnection> dialed;
    auto dial = transport->Dial(listener->listen_addr(),
                                [&](StatusOr<std::unique_ptr<RawConnection>> c) { dialed = *std::move(c); });
    loop.RunUntilIdle();
    int done = 0;
    auto on_done = [&](StatusOr<NoiseSession> s) {
      if (!s.ok()) state.SkipWithError("handshake failed");
      ++done;
    };
    auto client = NoiseHandshake::Initiate(&loop, std::move(dialed), client_options, std::nullopt, on_done);
    auto server = NoiseHandshake::Respond(&loop, std::move(accepted), server_options, on_done);
    loop.RunUntilIdle();
    if (done != 2) state.SkipWithError("handshake did not finish");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NoiseHandshake)->ArgName("shared_static_key")->Arg(0)->Arg(1);

}  // namespace
}  // namespace libp2p::stream
