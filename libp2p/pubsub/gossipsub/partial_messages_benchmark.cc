// Bytes on the wire for a PeerDAS-like column: 64 cells of 2,048 bytes (128 KiB), when the receiver already
// has 63 of them, sent as partial messages (the receiver's metadata, the one missing cell, a metadata update)
// against sending the full message. Two nodes on the in-memory network; every RPC either sends is counted,
// encoded with its length prefix. The time is one whole exchange.
//
//   bazel run -c opt //libp2p/pubsub/gossipsub:partial_messages_benchmark
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/parts_bitmap.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

constexpr size_t kCells = 64;
constexpr size_t kCellSize = 2048;

std::string Cell(size_t i) { return std::string(kCellSize, static_cast<char>('a' + i % 26)); }

// A column's cells, and the application that trades them: metadata is the bitmap of cells held (8 bytes),
// parts are [the bitmap of the cells included][those cells in order].
class ColumnApp final : public PartialMessagesHandler {
 public:
  void Reset(size_t missing) {
    have_ = PartsBitmap::All(kCells);
    if (missing < kCells) have_.Clear(missing);
  }
  bool complete() const { return have_.Complete(); }
  void Publish(const std::string& topic, const std::string& group) {
    (void)router->PublishPartial(topic, group, [&](const crypto::PeerId&, PartialPeerView& view, bool requests) {
      PartialSend send;
      if (requests && view.peer_has) {
        const PartsBitmap theirs = *PartsBitmap::Parse(*view.peer_has, kCells);
        const PartsBitmap missing = have_.Minus(theirs);
        if (!missing.Empty()) {
          send.parts = missing.bytes();
          for (size_t i = 0; i < kCells; ++i) {
            if (missing.Get(i)) send.parts += Cell(i);
          }
          PartsBitmap now = theirs;
          now |= missing;
          view.peer_has = now.bytes();
        }
      }
      if (!view.told_peer || *view.told_peer != have_.bytes()) {
        view.told_peer = have_.bytes();
        send.metadata = have_.bytes();
      }
      return send;
    });
  }
  void OnPartialRpc(const crypto::PeerId&, const pb::PartialMessagesExtension& rpc, PartialPeerView& view) override {
    if (auto theirs = PartsBitmap::Parse(rpc.partsmetadata(), kCells)) view.peer_has = theirs->bytes();
    if (rpc.partialmessage().size() >= kCells / 8) {
      auto included = PartsBitmap::Parse(rpc.partialmessage().substr(0, kCells / 8), kCells);
      if (included && rpc.partialmessage().size() == kCells / 8 + included->Count() * kCellSize) have_ |= *included;
    }
    Publish(rpc.topicid(), rpc.groupid());
  }
  void OnGossip(const std::string&, const std::string&, const std::vector<crypto::PeerId>&) override {}

  GossipSubRouter* router = nullptr;

 private:
  PartsBitmap have_{kCells};
};

// Counts the bytes of every RPC sent, as framed on the stream.
struct WireBytes : RpcObserver {
  void OnSend(const crypto::PeerId&, pb::RPC* rpc) override {
    const size_t size = rpc->ByteSizeLong();
    bytes += size + UvarintLength(size);
  }
  size_t bytes = 0;
};

struct Pair {
  Pair() {
    for (int i = 0; i < 2; ++i) {
      GossipSubOptions go;
      PartialMessagesOptions pm;
      pm.handler = &apps[i];
      go.partial_messages = pm;
      go.partial_topics["column"] = PartialTopicMode{true, true};
      PubSubOptions po;
      po.sign_policy = SignPolicy::kStrictNoSign;
      po.rpc_observers = {&wire};
      nodes[i] = std::make_unique<Node>(&loop, &net, 100 + i, go, po);
      apps[i].router = nodes[i]->router;
      nodes[i]->Join("column");
      nodes[i]->Join("full");
    }
    nodes[0]->host->Dial(nodes[1]->host->listen_addrs()[0], [](auto) {});
    loop.AdvanceTime(std::chrono::seconds(2));  // Connected, subscribed, meshes formed.
  }
  ManualEventLoop loop;
  stream::MemoryNetwork net{&loop};
  ColumnApp apps[2];
  WireBytes wire;
  std::unique_ptr<Node> nodes[2];
};

void BM_PartialColumnOneCellMissing(benchmark::State& state) {
  Pair pair;
  size_t bytes = 0, exchanges = 0;
  for (auto _ : state) {
    const std::string group = "block-" + std::to_string(exchanges);
    pair.apps[0].Reset(kCells);  // Has every cell.
    pair.apps[1].Reset(17);      // Lacks one.
    pair.wire.bytes = 0;
    pair.apps[1].Publish("column", group);  // Its metadata; the rest follows from the handlers.
    pair.loop.RunUntilIdle();
    if (!pair.apps[1].complete()) state.SkipWithError("the receiver did not complete the column");
    bytes += pair.wire.bytes;
    ++exchanges;
  }
  state.counters["bytes_on_wire"] = static_cast<double>(bytes) / static_cast<double>(exchanges);
}
BENCHMARK(BM_PartialColumnOneCellMissing);

void BM_FullColumn(benchmark::State& state) {
  Pair pair;
  size_t bytes = 0, exchanges = 0;
  std::string column;
  for (size_t i = 0; i < kCells; ++i) column += Cell(i);
  for (auto _ : state) {
    // A different message each time (the seen cache would drop a repeat).
    column.replace(0, 8, std::to_string(10000000 + exchanges));
    const size_t delivered = pair.nodes[1]->received.size();
    pair.wire.bytes = 0;
    (void)pair.nodes[0]->pubsub->Publish("full", AsBytes(column));
    pair.loop.RunUntilIdle();
    if (pair.nodes[1]->received.size() != delivered + 1) state.SkipWithError("the full column was not delivered");
    bytes += pair.wire.bytes;
    ++exchanges;
  }
  state.counters["bytes_on_wire"] = static_cast<double>(bytes) / static_cast<double>(exchanges);
}
BENCHMARK(BM_FullColumn);

}  // namespace
}  // namespace libp2p::pubsub::gossipsub

BENCHMARK_MAIN();
