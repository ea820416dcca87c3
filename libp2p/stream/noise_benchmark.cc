// The CPU of one whole Noise XX handshake (both sides, over the in-memory network), with a static key made
// for each handshake against one shared by all of them (as a host shares its own); and of sending a large
// message written as a muxer writes it (a run of 64 KiB frames, each after its header), with and without
// announcing the run first (RawConnection::ExpectWrites).
//
// bazel run -c opt //libp2p/stream:noise_benchmark
#include <memory>
#include <optional>
#include <vector>

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

// state.range(0): 1 when the run is announced with ExpectWrites(); state.range(1): the message's size;
// state.range(2): 1 for the simulation's null cipher (a modelled network without delays), which leaves the
// buffer handling alone to be measured.
void BM_NoiseMuxerFramesOfALargeMessage(benchmark::State& state) {
  const bool announce = state.range(0) == 1;
  const size_t size = static_cast<size_t>(state.range(1));
  ManualEventLoop loop;
  LinkModel model;
  model.null_cipher = state.range(2) == 1;
  MemoryNetwork network(&loop, WriteLimits{}, model);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> accepted, dialed;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(),
                              [&](StatusOr<std::unique_ptr<RawConnection>> c) { dialed = *std::move(c); });
  loop.RunUntilIdle();
  const crypto::Ed25519PrivateKey client_key = crypto::Ed25519PrivateKey::Generate();
  const crypto::Ed25519PrivateKey server_key = crypto::Ed25519PrivateKey::Generate();
  std::unique_ptr<RawConnection> client, server;
  auto client_handshake = NoiseHandshake::Initiate(&loop, std::move(dialed), NoiseOptions{&client_key, {}},
                                                   std::nullopt, [&](StatusOr<NoiseSession> s) {
                                                     if (s.ok()) client = std::move(s->connection);
                                                   });
  auto server_handshake = NoiseHandshake::Respond(&loop, std::move(accepted), NoiseOptions{&server_key, {}},
                                                  [&](StatusOr<NoiseSession> s) {
                                                    if (s.ok()) server = std::move(s->connection);
                                                  });
  loop.RunUntilIdle();
  if (client == nullptr || server == nullptr) return state.SkipWithError("handshake failed");
  size_t received = 0;
  server->SetHandlers(Stream::Handlers{[&](ByteSpan d) { received += d.size(); }, {}, {}, {}});
  constexpr size_t kFrame = 64 * 1024, kHeader = 12;
  const std::vector<uint8_t> message(size, 0x5a);
  const uint8_t header[kHeader] = {};
  for (auto _ : state) {
    if (announce) client->ExpectWrites(size + (size / kFrame + 1) * kHeader, /*shared=*/false);
    for (size_t at = 0; at < size; at += kFrame) {
      (void)client->Write(ByteSpan(header, kHeader));
      (void)client->Write(ByteSpan(message).subspan(at, std::min(kFrame, size - at)));
    }
    loop.RunUntilIdle();
  }
  if (received != state.iterations() * (size + (size + kFrame - 1) / kFrame * kHeader)) {
    state.SkipWithError("bytes lost");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_NoiseMuxerFramesOfALargeMessage)
    ->ArgNames({"announced", "bytes", "null_cipher"})
    ->ArgsProduct({{0, 1}, {131072 + 512, 200000}, {0, 1}});

}  // namespace
}  // namespace libp2p::stream
