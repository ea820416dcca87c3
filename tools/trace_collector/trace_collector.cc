// trace_collector: the receiving end of go-libp2p-pubsub's remote tracer (/libp2p/pubsub/tracer/1.0.0), like
// go's traced but writing one trace file: every event of every tracing stream, as JSON lines or delimited
// protobuf, which trace_stat and go's tools read. Usage:
//   trace_collector [--listen ADDR] [--seed TEXT] [--format json|pb] [--out FILE|-] [--flush-ms N]
// Prints "listening <addr>/p2p/<id>" on standard error once it listens (the address a node's RemoteTracer
// dials), and runs until SIGINT or SIGTERM, then writes out what is buffered and a summary on standard error.
#include "libp2p/pubsub/trace/trace_collector.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

namespace {

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

int Usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "trace_collector: %s\n", error.c_str());
  std::fprintf(stderr,
               "usage: trace_collector [--listen ADDR] [--seed TEXT] [--format json|pb] [--out FILE|-] "
               "[--flush-ms N]\n"
               "  --listen ADDR   where to listen (default /ip4/127.0.0.1/tcp/4001; port 0 picks one)\n"
               "  --seed TEXT     derive the Ed25519 identity from TEXT (default: a new random one)\n"
               "  --format F      json (go's JSONTracer lines) or pb (delimited TraceEvents; default)\n"
               "  --out FILE      the trace file, created or truncated; - for standard output (default)\n"
               "  --flush-ms N    write out buffered events at least this often (default 1000)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace libp2p;
  using namespace libp2p::pubsub::trace;
  std::string listen = "/ip4/127.0.0.1/tcp/4001", seed, format = "pb", out = "-";
  long flush_ms = 1000;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return Usage("");
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--seed") {
      seed = value;
    } else if (flag == "--format" && (value == "json" || value == "pb")) {
      format = value;
    } else if (flag == "--out") {
      out = value;
    } else if (flag == "--flush-ms") {
      flush_ms = std::strtol(value.c_str(), nullptr, 10);
      if (flush_ms <= 0) return Usage("--flush-ms must be positive");
    } else {
      return Usage("unknown flag or value: " + flag + " " + value);
    }
  }
  StatusOr<Multiaddr> listen_addr = Multiaddr::FromString(listen);
  if (!listen_addr.ok()) return Usage("--listen: " + listen_addr.status().ToString());

  std::unique_ptr<TraceFile> file;
  if (out == "-") {
    file = std::make_unique<TraceFile>(STDOUT_FILENO, /*owned=*/false);
  } else {
    StatusOr<std::unique_ptr<TraceFile>> f = TraceFile::Create(out);
    if (!f.ok()) return Usage(f.status().ToString());
    file = std::move(f).value();
  }
  TraceFile* file_ptr = file.get();
  std::unique_ptr<TraceSink> sink;
  if (format == "json") {
    sink = std::make_unique<JsonTraceWriter>(std::move(file));
  } else {
    sink = std::make_unique<PbTraceWriter>(std::move(file));
  }

  if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGPIPE, SIG_IGN);

  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  if (!loop.ok()) return Usage(loop.status().ToString());
  const crypto::Ed25519PrivateKey key = seed.empty()
                                            ? crypto::Ed25519PrivateKey::Generate()
                                            : *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)));
  int rc = 0;
  {
    stream::TcpTransport transport(loop->get());
    stream::HostOptions ho;
    ho.identity = &key;
    stream::Host host(loop->get(), &transport, ho);
    Status listening = host.Listen(*listen_addr);
    if (!listening.ok()) {
      std::fprintf(stderr, "trace_collector: %s\n", listening.ToString().c_str());
      return 1;
    }
    TraceCollector collector(&host, sink.get());
    for (const Multiaddr& a : host.listen_addrs()) {
      std::fprintf(stderr, "listening %s/p2p/%s\n", a.ToString().c_str(), host.peer_id().ToBase58().c_str());
    }
    std::fflush(stderr);
    auto flush = (*loop)->CreateTimer([file_ptr] { file_ptr->Flush().IgnoreError(); });
    flush->ScheduleRepeating(std::chrono::milliseconds(flush_ms));
    auto signals = (*loop)->WatchFd(g_signal_pipe[0], kFdReadable, [&](uint32_t) { (*loop)->Stop(); });
    (*loop)->Run();
    Status flushed = file_ptr->Flush();
    const TraceCollectorStats& s = collector.stats();
    std::fprintf(stderr,
                 "trace_collector: %llu events in %llu batches from %llu streams (%llu refused, %llu failed); "
                 "%llu events lost writing%s%s\n",
                 static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.batches),
                 static_cast<unsigned long long>(s.streams_accepted),
                 static_cast<unsigned long long>(s.streams_refused), static_cast<unsigned long long>(s.streams_failed),
                 static_cast<unsigned long long>(file_ptr->stats().records_lost),
                 file_ptr->last_error().ok() ? "" : "; last error: ",
                 file_ptr->last_error().ok() ? "" : file_ptr->last_error().ToString().c_str());
    if (!flushed.ok() || file_ptr->stats().write_errors > 0) rc = 1;
  }
  return rc;
}
