// Throughput of one in-memory connection carrying 64 KiB writes, with the private-network protection on
// both ends against the bare connection: the cost of XSalsa20 on both sides plus the protector's copy.
//
// bazel run -c opt //libp2p/stream:pnet_benchmark
#include <memory>

#include "benchmark/benchmark.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/pnet.h"

namespace libp2p::stream {
namespace {

// state.range(0): 1 for protected connections. state.range(1): the size of each write.
void BM_PnetThroughput(benchmark::State& state) {
  const bool protect = state.range(0) == 1;
  const size_t write_size = static_cast<size_t>(state.range(1));
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> client, server;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { server = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(),
                              [&](StatusOr<std::unique_ptr<RawConnection>> c) { client = *std::move(c); });
  loop.RunUntilIdle();
  if (protect) {
    const SwarmKey key = GenerateSwarmKey();
    client = ProtectConnection(&loop, std::move(client), key);
    server = ProtectConnection(&loop, std::move(server), key);
  }
  size_t received = 0;
  server->SetHandlers(Stream::Handlers{[&](ByteSpan data) { received += data.size(); }});
  client->SetHandlers(Stream::Handlers{[](ByteSpan) {}});
  loop.RunUntilIdle();  // The nonces cross.
  const Bytes payload(write_size, 0x42);
  for (auto _ : state) {
    if (!client->Write(payload).ok()) state.SkipWithError("write failed");
    loop.RunUntilIdle();
  }
  if (received != state.iterations() * write_size) state.SkipWithError("bytes lost");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * write_size));
}
BENCHMARK(BM_PnetThroughput)->ArgNames({"protected", "write"})->Args({0, 64 * 1024})->Args({1, 64 * 1024});

}  // namespace
}  // namespace libp2p::stream
