// Two pubsub nodes in two processes over loopback TCP + Noise + yamux: the child publishes, the parent
// subscribes. Reports delivered messages/s, one-hop latency percentiles (from a send timestamp carried in
// each payload; both processes read the same monotonic clock), CPU seconds of each side, and the
// subscriber's resident memory before and after.
//
//   bazel run -c opt //tools/bench:pubsub_throughput -- [--sign strict|none] [--count N] [--size BYTES]
//                                                       [--rate MSGS_PER_S (0 = as fast as it goes)]
//                                                       [--router floodsub|gossipsub]
//                                                       [--metrics on (both nodes count into a registry)]
//                                                       [--trace-json FILE (the subscriber writes go's JSON trace)]
//                                                       [--presigned on (the publisher signs every message before
//                                                        the run and replays them: what is measured is the
//                                                        subscriber's checking; no latency figures then)]
//                                                       [--workers N|auto (the subscriber's validation workers;
//                                                        default auto, one per hardware thread)]
//                                                       [--latency-csv FILE (each latency sample as a line
//                                                        "send time since the first send in ms,latency in ms",
//                                                        to see when the slow ones happened)]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/stream/yamux.h"

// Inside namespace libp2p rather than `using namespace libp2p`: trace.pb.h declares go's package as the
// global namespace ::pubsub, which would make `pubsub` ambiguous.
namespace libp2p {

namespace {

struct Config {
  pubsub::SignPolicy sign = pubsub::SignPolicy::kStrictSign;
  int64_t count = 100000;
  size_t size = 1024;
  int64_t rate = 0;
  bool gossipsub = false;
  bool metrics = false;  // Each node counts its metrics into a Prometheus registry (NodeOptions::metrics).
  std::string trace_json;  // The subscriber writes go's JSON trace of its events to this file.
  bool presigned = false;
  size_t workers = pubsub::kAutoWorkers;
  std::string latency_csv;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

size_t ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoul(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A node on a loop of its own, run by the process's main thread.
struct Node {
  Node(const std::string& seed, const Config& cfg, pubsub::NodeEvents events = {}, bool listen = false,
       const std::string& trace_json = "")
      : loop(std::move(LibeventLoop::Create()).value()) {
    pubsub::NodeOptions o;
    if (cfg.metrics) {
      registry = std::make_unique<metrics::Registry>();
      o.metrics = registry.get();
    }
    o.key = std::make_shared<crypto::Ed25519PrivateKey>(
        *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))));
    if (listen) o.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
    o.host.muxers = {std::string(stream::kYamuxProtocolId)};
    o.pubsub.sign_policy = cfg.sign;
    o.pubsub.validation_workers = cfg.workers;
    o.router = cfg.gossipsub ? pubsub::RouterKind::kGossipSub : pubsub::RouterKind::kFloodSub;
    o.events = std::move(events);
    if (!trace_json.empty()) {
      auto key = o.key;
      trace_writer = std::make_unique<pubsub::trace::JsonTraceWriter>(*pubsub::trace::TraceFile::Create(trace_json));
      tracer = std::make_unique<pubsub::trace::TraceEventTracer>(crypto::PeerId::FromPublicKey(key->public_key()),
                                                                  o.pubsub.message_id, trace_writer.get());
      o.pubsub.tracers = {tracer.get()};
    }
    node = std::move(pubsub::Node::Create(std::move(o), loop.get())).value();
    if (Status s = node->Start(); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", seed.c_str(), s.ToString().c_str());
      std::exit(1);
    }
    topic = *node->Join("bench");
  }
  std::unique_ptr<LibeventLoop> loop;
  std::unique_ptr<metrics::Registry> registry;  // With --metrics on; outlives the node.
  // With --trace-json: the file and the tracer writing to it; both outlive the node.
  std::unique_ptr<pubsub::trace::JsonTraceWriter> trace_writer;
  std::unique_ptr<pubsub::trace::TraceEventTracer> tracer;
  std::unique_ptr<pubsub::Node> node;
  std::shared_ptr<pubsub::Topic> topic;
};

int RunPublisher(const Multiaddr& target, const Config& cfg) {
  LibeventLoop* loop = nullptr;
  pubsub::NodeEvents events;
  // The subscriber closes the connection when it has everything.
  events.on_disconnected = [&loop](const stream::ConnectionInfo&, const Status&) { loop->Stop(); };
  Node n("publisher", cfg, events);
  loop = n.loop.get();
  int64_t sent = 0;
  std::optional<crypto::PeerId> subscriber;
  std::unique_ptr<Timer> pump;
  Bytes payload(cfg.size, 'p');
  // --presigned: every message made (and signed) now, 64 to a batch, each batch published whole.
  std::vector<pubsub::MessageBatch> batches;
  size_t next_batch = 0;
  if (cfg.presigned) {
    const int64_t zero = 0;  // No send time: latency is not measured.
    std::memcpy(payload.data(), &zero, sizeof(zero));
    for (int64_t i = 0; i < cfg.count; ++i) {
      if (i % 64 == 0) batches.emplace_back();
      std::memcpy(payload.data() + 8, &i, sizeof(i));
      if (!n.node->pubsub().AddToBatch(&batches.back(), "bench", payload).status.ok()) return 1;
    }
    std::fprintf(stderr, "publisher: %lld messages signed in advance\n", static_cast<long long>(cfg.count));
  }
  const int64_t start_ns = NowNs();
  auto publish_one = [&] {
    const int64_t now = NowNs();
    std::memcpy(payload.data(), &now, sizeof(now));
    std::memcpy(payload.data() + 8, &sent, sizeof(sent));
    n.node->pubsub().Publish("bench", payload);
    ++sent;
  };
  pump = n.loop->CreateTimer([&] {
    if (cfg.rate > 0) {
      // Paced: publish what the schedule says is due.
      const int64_t due = (NowNs() - start_ns) * cfg.rate / 1'000'000'000;
      while (sent < std::min(due, cfg.count)) publish_one();
      if (sent < cfg.count) pump->Schedule(std::chrono::microseconds(200));
      return;
    }
    // As fast as the subscriber takes them: keep about 1 MiB queued for it.
    pubsub::PubSubPeer* peer = subscriber ? n.node->pubsub().FindPeer(*subscriber) : nullptr;
    while (sent < cfg.count && (peer == nullptr || peer->queued_bytes() < (1u << 20))) {
      if (!cfg.presigned) {
        publish_one();
        continue;
      }
      sent += static_cast<int64_t>(batches[next_batch].entries().size());
      n.node->pubsub().PublishBatch(std::move(batches[next_batch++]));
    }
    // Rechecked every millisecond: 1 MiB lasts the subscriber far longer (this was the period in effect before
    // the loop's timers were precise, when a 50 us timer fired after 1 ms).
    if (sent < cfg.count) pump->Schedule(std::chrono::milliseconds(1));
  });
  n.topic->SetPeerHandler([&](const pubsub::PeerEvent& e) {
    if (!e.joined || pump->IsScheduled() || sent > 0) return;
    subscriber = e.peer;
    pump->Schedule(Duration::zero());
  });
  n.node->host().Dial(target, [&](StatusOr<crypto::PeerId> p) {
    if (p.ok()) return;
    std::fprintf(stderr, "publisher: dial %s: %s\n", target.ToString().c_str(), p.status().ToString().c_str());
    n.loop->Stop();
  });
  n.loop->Run();
  std::fprintf(stderr, "publisher: %lld messages, %.2f s CPU\n", static_cast<long long>(sent), CpuSeconds());
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--sign") cfg.sign = value == "none" ? pubsub::SignPolicy::kStrictNoSign : pubsub::SignPolicy::kStrictSign;
    if (flag == "--count") cfg.count = std::atoll(value.c_str());
    if (flag == "--size") cfg.size = std::max<size_t>(16, std::strtoul(value.c_str(), nullptr, 10));
    if (flag == "--rate") cfg.rate = std::atoll(value.c_str());
    if (flag == "--router") cfg.gossipsub = value == "gossipsub";
    if (flag == "--metrics") cfg.metrics = value == "on";
    if (flag == "--trace-json") cfg.trace_json = value;
    if (flag == "--presigned") cfg.presigned = value == "on";
    if (flag == "--latency-csv") cfg.latency_csv = value;
    if (flag == "--workers") {
      cfg.workers = value == "auto" ? pubsub::kAutoWorkers : std::strtoul(value.c_str(), nullptr, 10);
    }
  }
  Node n("subscriber", cfg, {}, /*listen=*/true, cfg.trace_json);
  const Multiaddr target = n.node->listen_addrs()[0];
  int64_t received = 0;
  std::vector<int64_t> latencies_ns;
  std::vector<int64_t> sent_times_ns;  // With --latency-csv: the send time of each sample, in step.
  // Latency of every k-th message, at most 100,000 samples, so the samples do not weigh on the RSS figures.
  const int64_t sample_every = std::max<int64_t>(1, cfg.count / 100000);
  latencies_ns.reserve(100001);
  int64_t first_ns = 0, last_ns = 0;
  double cpu_start = 0;
  size_t rss_start = 0;
  std::vector<size_t> rss_samples;  // At each quarter of the run.
  std::unique_ptr<pubsub::Subscription> subscription = n.topic->Subscribe({.on_message = [&](const pubsub::Message& m) {
    const int64_t now = NowNs();
    if (received == 0) {
      first_ns = now;
      cpu_start = CpuSeconds();
      rss_start = ResidentKiB();
    }
    int64_t sent_ns = 0;
    std::memcpy(&sent_ns, m.data.data(), sizeof(sent_ns));
    if (received % sample_every == 0 && sent_ns != 0) {
      latencies_ns.push_back(now - sent_ns);
      if (!cfg.latency_csv.empty()) sent_times_ns.push_back(sent_ns);
    }
    ++received;
    if (received % std::max<int64_t>(1, cfg.count / 4) == 0) rss_samples.push_back(ResidentKiB());
    if (received == cfg.count) {
      last_ns = now;
      n.loop->Stop();
    }
  }});
  const pid_t child = fork();
  if (child == 0) {
    // The child leaves its copy of the subscriber untouched: its loop shares the parent's epoll instance, so
    // closing the copy's sockets would unregister the parent's.
    _exit(RunPublisher(target, cfg));
  }
  auto give_up = n.loop->CreateTimer([&] { n.loop->Stop(); });
  give_up->Schedule(std::chrono::minutes(5));
  n.loop->Run();
  const double cpu = CpuSeconds() - cpu_start;
  const size_t rss_end = ResidentKiB();
  for (const crypto::PeerId& p : n.node->host().connected_peers()) n.node->host().Disconnect(p);
  int status = 0;
  waitpid(child, &status, 0);
  if (!cfg.latency_csv.empty()) {
    std::ofstream csv(cfg.latency_csv);
    for (size_t i = 0; i < latencies_ns.size(); ++i) {
      csv << (sent_times_ns[i] - sent_times_ns[0]) / 1e6 << ',' << latencies_ns[i] / 1e6 << '\n';
    }
  }
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto pct = [&](double q) {
    return latencies_ns.empty() ? 0.0 : latencies_ns[static_cast<size_t>(q * (latencies_ns.size() - 1))] / 1e6;
  };
  const double seconds = (last_ns - first_ns) / 1e9;
  std::printf("%s %s, %zu-byte messages%s%s: %lld of %lld delivered in %.2f s = %.0f msg/s; one-hop latency "
              "p50 %.3f ms, p99 %.3f ms; subscriber CPU %.2f s; subscriber RSS %zu -> %zu KiB\n",
              cfg.gossipsub ? "gossipsub" : "floodsub",
              cfg.sign == pubsub::SignPolicy::kStrictSign ? "StrictSign" : "StrictNoSign", cfg.size,
              cfg.rate > 0 ? (", paced at " + std::to_string(cfg.rate) + "/s").c_str() : "",
              cfg.presigned ? ", presigned" : "",
              static_cast<long long>(received), static_cast<long long>(cfg.count), seconds,
              seconds > 0 ? received / seconds : 0.0, pct(0.5), pct(0.99), cpu, rss_start, rss_end);
  std::printf("subscriber RSS at each quarter of the run:");
  for (size_t kib : rss_samples) std::printf(" %zu KiB", kib);
  std::printf(" (the seen cache holds ids for 2 min, at most %zu)\n", pubsub::PubSubOptions{}.seen_max_entries);
  return received == cfg.count ? 0 : 1;
}

}  // namespace libp2p

int main(int argc, char** argv) { return libp2p::Main(argc, argv); }
