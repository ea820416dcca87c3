// Stream throughput between two processes over loopback TCP + Noise, optionally through a muxer (one yamux
// or mplex stream) and optionally in a private network (--pnet: both ends protect the TCP connection with a
// pre-shared key below Noise, pnet.h): the parent listens and receives, a forked child dials and sends.
// Reports payload MB/s as seen by the receiver and each side's CPU time.
//
//   bazel run -c opt //tools/bench:stream_throughput -- [--muxer none|yamux|mplex] [--mib N] [--write-kib K]
//       [--pnet]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/pnet.h"
#include "libp2p/stream/tcp_transport.h"
#include "libp2p/stream/yamux.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::unique_ptr<MuxedConnection> Mux(const std::string& muxer, EventLoop* loop, std::unique_ptr<RawConnection> secure,
                                     bool initiator, MuxedConnection::Handlers handlers) {
  if (muxer == "yamux") return CreateYamuxConnection(loop, std::move(secure), initiator, std::move(handlers));
  return CreateMplexConnection(loop, std::move(secure), initiator, std::move(handlers));
}

// The private network's key of --pnet, the same for both ends.
SwarmKey BenchSwarmKey() {
  SwarmKey k;
  k.key.fill(0x42);
  return k;
}

// `raw`, protected with the bench key when `pnet` is set.
std::unique_ptr<RawConnection> MaybeProtect(EventLoop* loop, std::unique_ptr<RawConnection> raw, bool pnet) {
  return pnet ? ProtectConnection(loop, std::move(raw), BenchSwarmKey()) : std::move(raw);
}

// The secured connection, its muxer (if any) and the stream the data flows on.
struct Session {
  std::unique_ptr<NoiseHandshake> handshake;
  std::unique_ptr<RawConnection> secure;
  std::unique_ptr<MuxedConnection> muxed;
  std::unique_ptr<Stream> stream_holder;
  Stream* stream = nullptr;
};

int RunSender(const Multiaddr& target, const std::string& muxer, size_t total, size_t write_size, bool pnet) {
  auto loop = std::move(LibeventLoop::Create()).value();
  const auto key = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  TcpTransport tcp(loop.get());
  Session s;
  size_t sent = 0;
  const Bytes chunk(write_size, 0x5a);
  std::function<void()> pump = [&] {
    while (sent < total && !s.stream->write_blocked()) {
      const size_t n = std::min(write_size, total - sent);
      if (!s.stream->Write(ByteSpan(chunk).first(n)).ok()) return loop->Stop();
      sent += n;
    }
    if (sent >= total) s.stream->CloseWrite();
  };
  auto dial = tcp.Dial(target, [&](StatusOr<std::unique_ptr<RawConnection>> raw) {
    if (!raw.ok()) return loop->Stop();
    s.handshake = NoiseHandshake::Initiate(loop.get(), MaybeProtect(loop.get(), std::move(raw).value(), pnet),
                                           NoiseOptions{&key, {}}, std::nullopt,
                                           [&](StatusOr<NoiseSession> session) {
      if (!session.ok()) return loop->Stop();
      if (muxer == "none") {
        s.secure = std::move(session->connection);
        s.stream = s.secure.get();
      } else {
        s.muxed = Mux(muxer, loop.get(), std::move(session->connection), true, {nullptr, [&](const Status&) { loop->Stop(); }});
        s.stream_holder = std::move(s.muxed->OpenStream()).value();
        s.stream = s.stream_holder.get();
      }
      s.stream->SetHandlers(Stream::Handlers{{}, [&] { loop->Stop(); }, [&](const Status&) { loop->Stop(); },
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
  std::string muxer = "none";
  bool pnet = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--pnet") == 0) pnet = true;
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0) mib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--write-kib") == 0) write_kib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--muxer") == 0) muxer = argv[i + 1];
  }
  if (muxer != "none" && muxer != "yamux" && muxer != "mplex") {
    std::fprintf(stderr, "--muxer must be none, yamux or mplex\n");
    return 2;
  }
  const size_t total = mib << 20;
  auto loop = std::move(LibeventLoop::Create()).value();
  const auto key = *crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 2));
  TcpTransport tcp(loop.get());
  Session s;
  size_t received = 0;
  std::chrono::steady_clock::time_point first, last;
  double cpu_start = 0;
  auto on_stream = [&](Stream* stream) {
    stream->SetHandlers(Stream::Handlers{
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
  };
  auto listener = std::move(tcp.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> raw) {
    s.handshake = NoiseHandshake::Respond(loop.get(), MaybeProtect(loop.get(), std::move(raw), pnet), NoiseOptions{&key, {}},
                                          [&](StatusOr<NoiseSession> session) {
      if (!session.ok()) return loop->Stop();
      if (muxer == "none") {
        s.secure = std::move(session->connection);
        on_stream(s.secure.get());
        return;
      }
      s.muxed = Mux(muxer, loop.get(), std::move(session->connection), false,
                    {[&](std::unique_ptr<Stream> st) {
                       s.stream_holder = std::move(st);
                       on_stream(s.stream_holder.get());
                     },
                     [&](const Status&) { loop->Stop(); }});
    });
  })).value();
  const Multiaddr target = listener->listen_addr();
  const pid_t child = fork();
  if (child == 0) _exit(RunSender(target, muxer, total, write_kib << 10, pnet));
  loop->Run();
  // Closing our end lets the sender, which waits for it, finish.
  s.stream_holder.reset();
  s.muxed.reset();
  s.secure.reset();
  listener.reset();
  int status = 0;
  waitpid(child, &status, 0);
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf("%s over noise over %sloopback TCP: %zu MiB in %.3f s = %.0f MB/s; receiver CPU %.2f s\n",
              muxer == "none" ? "raw stream" : (muxer + " stream").c_str(), pnet ? "pnet over " : "", received >> 20,
              seconds,
              received / seconds / 1e6, cpu);
  return received == total && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
