// The node program's events: building and writing the event of a received message, as pubsub_node does for
// each one.
//
//   bazel run -c opt //tools/node:event_writer_benchmark
#include <cstdio>
#include <string>

#include "benchmark/benchmark.h"
#include "tools/node/event_writer.h"

namespace libp2p::node {
namespace {

Event MessageEvent(const std::string& data) {
  Event e("message");
  e.Str("topic", "bench")
      .Str("from", "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
      .Str("seqno", "187a2c4be2f0a3d1")
      .Str("id", "0024080112203f4c2d8e1a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c187a2c4be2f0a3d1")
      .Int("size", static_cast<int64_t>(data.size()))
      .Str("data", data);
  return e;
}

void BM_MessageEventBuild(benchmark::State& state) {
  const std::string data = "msg-12345-WeQAJU5SA-" + std::string(44, 'x');
  for (auto _ : state) {
    Event e = MessageEvent(data);
    benchmark::DoNotOptimize(e.json());
  }
}
BENCHMARK(BM_MessageEventBuild);

// Built and written with its flush, to /dev/null: the share of the write.
void BM_MessageEventEmit(benchmark::State& state) {
  std::FILE* out = std::fopen("/dev/null", "w");
  const std::string data = "msg-12345-WeQAJU5SA-" + std::string(44, 'x');
  for (auto _ : state) MessageEvent(data).Emit(out);
  std::fclose(out);
}
BENCHMARK(BM_MessageEventEmit);

}  // namespace
}  // namespace libp2p::node

BENCHMARK_MAIN();
