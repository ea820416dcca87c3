// Memory of idle connections: one listening host and N client hosts in one process, each client connected
// (TCP + Noise + muxer, identified) to the listener. Reports the heap bytes each connection costs, both
// ends together, beyond the kernel's socket buffers; and the process's resident size.
//
//   bazel run -c opt //tools/bench:idle_connections -- [--connections N] [--muxer yamux|mplex]
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/tcp_transport.h"
#include "libp2p/stream/yamux.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

size_t ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoul(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

struct Node {
  crypto::Ed25519PrivateKey key;
  std::unique_ptr<TcpTransport> tcp;
  std::unique_ptr<Host> host;
};

// `admit` is how many inbound connections the node must take at once (the listener's): its admission limits
// are raised to it, since every client dials in the same instant and the default limits would turn most of
// them away (a defence against floods, not what this program measures).
std::unique_ptr<Node> MakeNode(EventLoop* loop, int n, const std::string& muxer, size_t admit = 0) {
  auto node = std::make_unique<Node>(Node{*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(std::to_string(n)))),
                                          std::make_unique<TcpTransport>(loop), nullptr});
  HostOptions options;
  options.identity = &node->key;
  options.muxers = {muxer == "mplex" ? std::string(kMplexProtocolId) : std::string(kYamuxProtocolId)};
  if (admit > 0) {
    options.max_inbound_upgrades = std::max(options.max_inbound_upgrades, admit);
    options.max_connections = std::max(options.max_connections, admit);
    options.connection_manager.high_water = std::max(options.connection_manager.high_water, admit);
    options.connection_manager.low_water = std::max(options.connection_manager.low_water, admit);
  }
  node->host = std::make_unique<Host>(loop, node->tcp.get(), options);
  return node;
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 200;
  std::string muxer = "yamux";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--connections") == 0) connections = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--muxer") == 0) muxer = argv[i + 1];
  }
  auto loop = std::move(LibeventLoop::Create()).value();
  if (connections <= 0) {
    std::fprintf(stderr, "--connections must be positive\n");
    return 2;
  }
  auto server = MakeNode(loop.get(), -1, muxer, static_cast<size_t>(connections));
  if (!server->host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok()) return 1;
  const Multiaddr target = server->host->listen_addrs()[0];
  std::vector<std::unique_ptr<Node>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(MakeNode(loop.get(), i, muxer));

  auto settle = [&](const std::function<bool()>& done) {
    auto check = loop->CreateTimer([&] {
      if (done()) loop->Stop();
    });
    check->ScheduleRepeating(std::chrono::milliseconds(5));
    loop->Run();
  };
  // Let everything created so far settle, then measure the connections alone.
  malloc_trim(0);
  const size_t heap_before = HeapBytes();
  const size_t rss_before = ResidentKiB();
  int identified = 0;
  int failed = 0;
  server->host->AddEvents(Host::Events{{}, [&](const crypto::PeerId&, const IdentifyInfo&) { ++identified; }, {}});
  for (auto& c : clients) {
    c->host->Dial(target, [&failed](StatusOr<crypto::PeerId> p) {
      if (p.ok()) return;
      std::fprintf(stderr, "dial: %s\n", p.status().ToString().c_str());
      ++failed;
    });
  }
  settle([&] { return identified + failed == connections; });
  if (failed > 0) {
    std::fprintf(stderr, "%d of %d dials failed: no figure\n", failed, connections);
    return 1;
  }
  // Give lingering identify streams time to close, as on an idle node.
  auto wait = loop->CreateTimer([&] { loop->Stop(); });
  wait->Schedule(std::chrono::seconds(11));
  loop->Run();
  malloc_trim(0);
  const size_t heap_after = HeapBytes();
  const size_t rss_after = ResidentKiB();
  std::printf("%d idle %s connections: %.1f KiB of heap per connection (both ends), %.1f KiB per end; "
              "RSS %zu -> %zu KiB\n",
              connections, muxer.c_str(), (heap_after - heap_before) / 1024.0 / connections,
              (heap_after - heap_before) / 2048.0 / connections, rss_before, rss_after);
  return 0;
}
