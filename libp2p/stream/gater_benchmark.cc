// The CPU that one refused inbound connection costs the host on the production loop (libevent, real TCP on
// loopback): accepting it, the gater's verdict on its address, and the reset. Clients connect from
// 127.0.0.2 to 127.0.0.254, which an AccessList denies; the client's own socket calls run on the same
// thread and are included, so the figure is an upper bound on the host's share.
//
// bazel run -c opt //libp2p/stream:gater_benchmark
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/stream/access_list.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::stream {
namespace {

constexpr int kBatch = 64;  // Connections made before the loop runs.

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void BM_RefusedInboundConnection(benchmark::State& state) {
  auto loop = *LibeventLoop::Create();
  TcpTransport tcp(loop.get());
  AccessList list;
  list.DenyRange(*IpRange::Parse("127.0.0.0/8"));
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  HostOptions options;
  options.identity = &key;
  options.gater = &list;
  Host host(loop.get(), &tcp, std::move(options));
  if (!host.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok()) return state.SkipWithError("listen");
  const auto c = host.listen_addrs()[0].Components();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint32_t source = 2;
  std::vector<int> fds;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in from{};
      from.sin_family = AF_INET;
      from.sin_addr.s_addr = htonl(0x7f000000u | source);
      source = source == 254 ? 2 : source + 1;  // Spread the ports used over many sources.
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
          ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
        return state.SkipWithError("connect");
      }
      fds.push_back(fd);
    }
    const uint64_t want = host.stats().gater_refused_accepts + kBatch;
    if (!loop->RunUntil([&] { return host.stats().gater_refused_accepts >= want; }, std::chrono::seconds(10))) {
      return state.SkipWithError("connections were not refused");
    }
    for (int fd : fds) ::close(fd);
    fds.clear();
  }
  const double connections = static_cast<double>(state.iterations() * kBatch);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["cpu_us_per_connection"] = (ThreadCpuSeconds() - cpu_start) * 1e6 / connections;
}
BENCHMARK(BM_RefusedInboundConnection)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace libp2p::stream
