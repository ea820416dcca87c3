// Noise transport throughput between two processes over loopback TCP: the parent listens and receives, a
// forked child dials and sends. Reports payload MB/s as seen by the receiver, and each side's CPU time.
//
//   bazel run -c opt //tools/bench:noise_throughput -- [--mib N] [--write-kib K]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/tcp_transport.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Secures a raw connection and hands the secure one to `ready`.
struct Upgrade {
  std::unique_ptr<NoiseHandshake> handshake;
  std::unique_ptr<RawConnection> secure;
};

int RunSender(const Multiaddr& target, size_t total, size_t write_size) {
  auto loop = std::move(LibeventLoop::Create()).value();
  const auto key = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  TcpTransport tcp(loop.get());
  Upgrade up;
  size_t sent = 0;
  const Bytes chunk(write_size, 0x5a);
  std::function<void()> pump = [&] {
    while (sent < total && !up.secure->write_blocked()) {
      const size_t n = std::min(write_size, total - sent);
      if (!up.secure->Write(ByteSpan(chunk).first(n)).ok()) return loop->Stop();
      sent += n;
    }
    if (sent >= total) up.secure->CloseWrite();
  };
  auto dial = tcp.Dial(target, [&](StatusOr<std::unique_ptr<RawConnection>> raw) {
    if (!raw.ok()) return loop->Stop();
    up.handshake = NoiseHandshake::Initiate(loop.get(), std::move(raw).value(), NoiseOptions{&key, {}}, std::nullopt,
                                            [&](StatusOr<NoiseSession> s) {
                                              if (!s.ok()) return loop->Stop();
                                              up.secure = std::move(s->connection);
                                              up.secure->SetHandlers(Stream::Handlers{
                                                  {}, [&] { loop->Stop(); }, [&](const Status&) { loop->Stop(); },
                                                  [&] { pump(); }});
                                              pump();
                                            });
  });
  loop->Run();
  std::fprintf(stderr, "sender: %.2f s CPU\n", CpuSeconds());
  return sent == total ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 2048, write_kib = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--mib") == 0) mib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--write-kib") == 0) write_kib = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const size_t total = mib << 20;
  auto loop = std::move(LibeventLoop::Create()).value();
  const auto key = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 2));
  TcpTransport tcp(loop.get());
  Upgrade up;
  size_t received = 0;
  std::chrono::steady_clock::time_point first, last;
  double cpu_start = 0;
  auto listener = std::move(tcp.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> raw) {
    up.handshake = NoiseHandshake::Respond(loop.get(), std::move(raw), NoiseOptions{&key, {}},
                                           [&](StatusOr<NoiseSession> s) {
                                             if (!s.ok()) return loop->Stop();
                                             up.secure = std::move(s->connection);
                                             up.secure->SetHandlers(Stream::Handlers{
                                                 [&](ByteSpan d) {
                                                   if (received == 0) {
                                                     first = std::chrono::steady_clock::now();
                                                     cpu_start = CpuSeconds();
                                                   }
                                                   received += d.size();
                                                 },
                                                 [&] {
                                                   last = std::chrono::steady_clock::now();
                                                   loop->Stop();
                                                 },
                                                 [&](const Status&) { loop->Stop(); }, {}});
                                           });
  })).value();
  const Multiaddr target = listener->listen_addr();
  const pid_t child = fork();
  if (child == 0) _exit(RunSender(target, total, write_kib << 10));
  loop->Run();
  // Closing our end lets the sender, which waits for it, finish.
  up.secure.reset();
  listener.reset();
  int status = 0;
  waitpid(child, &status, 0);
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf("noise over loopback TCP: %zu MiB in %.3f s = %.0f MB/s (%.2f GiB/s); receiver CPU %.2f s\n",
              received >> 20, seconds, received / seconds / 1e6, received / seconds / (1 << 30), cpu);
  return received == total && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
