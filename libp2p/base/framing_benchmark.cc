// Varint decoding and frame reading throughput.
//
// bazel run -c opt //libp2p/base:framing_benchmark
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/varint.h"

namespace libp2p {
namespace {

void BM_DecodeUvarint(benchmark::State& state) {
  // Values of mixed lengths (1 to 5 bytes), as in protobuf lengths and tags.
  std::mt19937_64 rng(1);
  Bytes buf;
  size_t count = 0;
  while (buf.size() < (1 << 16)) {
    AppendUvarint(rng() >> (64 - 7 * (1 + rng() % 5)), &buf);
    ++count;
  }
  for (auto _ : state) {
    ByteSpan in(buf);
    uint64_t sum = 0;
    while (!in.empty()) {
      const UvarintDecode d = DecodeUvarint(in);
      sum += d.value;
      in = in.subspan(d.length);
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * buf.size());
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_DecodeUvarint);

// A stream of frames of state.range(0) bytes, fed in 64 KiB reads (frames cross read boundaries).
void BM_FrameReader(benchmark::State& state) {
  const size_t frame_size = state.range(0);
  Bytes stream;
  const Bytes payload(frame_size, 0xab);
  while (stream.size() < (4 << 20)) AppendFrame(payload, &stream);
  FrameReader reader(1 << 20);
  size_t frames = 0;
  const FrameReader::FrameCallback on_frame = [&](ByteSpan f) {
    benchmark::DoNotOptimize(f.data());
    ++frames;
    return OkStatus();
  };
  for (auto _ : state) {
    for (size_t off = 0; off < stream.size(); off += 65536) {
      const size_t n = std::min<size_t>(65536, stream.size() - off);
      if (!reader.Feed(ByteSpan(stream).subspan(off, n), on_frame).ok()) state.SkipWithError("feed failed");
    }
  }
  state.SetBytesProcessed(state.iterations() * stream.size());
  state.counters["frames"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FrameReader)->Arg(64)->Arg(1024)->Arg(16 * 1024)->Arg(256 * 1024);

}  // namespace
}  // namespace libp2p

BENCHMARK_MAIN();
