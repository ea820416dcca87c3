// N pubsub nodes (10 by default), each in its own process, over loopback TCP + Noise + yamux: node i dials
// nodes i+1, i+2 and i+4 (mod N), a ring plus chords that gives each node six links from N = 9 up. All
// subscribe to one topic; once every node has seen its neighbours' subscriptions (and, under gossipsub, has
// run two heartbeats and filled its mesh), K of them publish. Reports the rate at which messages reached
// every node (first publish to the last node's last message), the end-to-end latency over one or more hops
// (from a send timestamp carried in each payload; all processes read the same monotonic clock), the CPU
// seconds all nodes spent from the first publish on, duplicates and dropped sends, and each node's receive
// count. Exits 1 if any node misses a message.
//
// A publisher goes as fast as the network takes its messages: it pauses while any of its peers has --window
// bytes queued, or while the slowest node lacks --window bytes of its messages (the nodes count what they
// receive in shared memory). The parent only coordinates: each child reports over a pipe when it listens,
// when its mesh is ready, when it has every message, and finally its figures; the parent answers with the
// ports, "go" and "stop".
//
//   bazel run -c opt //tools/bench:pubsub_mesh -- [--nodes N] [--publishers K] [--count N_PER_PUBLISHER]
//                                                 [--size BYTES] [--sign strict|none]
//                                                 [--workers N|auto (each node's validation workers)]
//                                                 [--router gossipsub|floodsub] [--window BYTES]
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/yamux.h"

using namespace libp2p;

namespace {

constexpr char kTopic[] = "bench";
// The whole run, setup included, must end within this.
constexpr int64_t kDeadlineNs = 5 * 60 * 1'000'000'000LL;
// Latency samples each node keeps (every k-th message).
constexpr int64_t kMaxSamplesPerNode = 10000;
// Payload header: send time, publisher index, sequence number.
constexpr size_t kHeaderSize = 3 * sizeof(int64_t);

struct Config {
  int nodes = 10;
  int publishers = 1;
  int64_t count = 20000;
  size_t size = 1024;
  pubsub::SignPolicy sign = pubsub::SignPolicy::kStrictSign;
  bool gossipsub = true;
  // A publisher pauses while any of its peers has this many bytes queued, or while the slowest node lacks
  // this many bytes of its messages.
  size_t window = 1 << 20;
  size_t workers = pubsub::kAutoWorkers;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// --- Topology. ---

// The links as (dialer, listener): i -> i+1, i+2, i+4 (mod n), each pair of nodes linked at most once.
std::vector<std::pair<int, int>> Links(int nodes) {
  std::vector<std::pair<int, int>> links;
  for (int i = 0; i < nodes; ++i) {
    for (int offset : {1, 2, 4}) {
      const int j = (i + offset) % nodes;
      auto joins_i_and_j = [&](const std::pair<int, int>& l) {
        return (l.first == i && l.second == j) || (l.first == j && l.second == i);
      };
      if (j != i && std::none_of(links.begin(), links.end(), joins_i_and_j)) links.emplace_back(i, j);
    }
  }
  return links;
}

// Publishers are spread evenly over the ring.
bool IsPublisher(int index, const Config& cfg) {
  for (int k = 0; k < cfg.publishers; ++k) {
    if (k * cfg.nodes / cfg.publishers == index) return true;
  }
  return false;
}

crypto::Ed25519PrivateKey NodeKey(int index) {
  return *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("node-" + std::to_string(index))));
}

// How many messages each node has received from each publisher, in memory that all the processes share
// (mapped before the forks), so that a publisher sees how far behind the slowest node is. Backpressure from
// the publisher's own peers is not enough: a relay's queues to a node two hops away grow while those peers
// keep up, until the relay drops sends.
class ReceiveCounts {
 public:
  // Maps a zeroed nodes x nodes table; false when mmap fails. Never unmapped: the processes exit.
  bool Map(int nodes) {
    nodes_ = nodes;
    void* p = mmap(nullptr, sizeof(int64_t) * nodes * nodes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    counts_ = p == MAP_FAILED ? nullptr : static_cast<int64_t*>(p);
    return counts_ != nullptr;
  }
  // Called by `node` only.
  void Add(int node, int publisher) { Slot(node, publisher).fetch_add(1, std::memory_order_relaxed); }
  // The fewest of `publisher`'s messages any other node has received.
  int64_t Slowest(int publisher) const {
    int64_t least = INT64_MAX;
    for (int node = 0; node < nodes_; ++node) {
      if (node != publisher) least = std::min(least, Slot(node, publisher).load(std::memory_order_relaxed));
    }
    return least;
  }

 private:
  std::atomic_ref<int64_t> Slot(int node, int publisher) const {
    return std::atomic_ref<int64_t>(counts_[node * nodes_ + publisher]);
  }

  int nodes_ = 0;
  int64_t* counts_ = nullptr;
};

// --- Pipes between the coordinator and the nodes. ---

// What a node tells the coordinator, in this order: kListening (with its port), kReady (subscriptions seen,
// mesh formed), kDone (it has every message it expects and has published its own), and after "stop" a
// kReport followed by `samples` latencies (int64 ns). Smaller than PIPE_BUF, so each write is atomic.
struct Update {
  enum Kind : int32_t { kListening, kReady, kDone, kReport } kind;
  int32_t port = 0;
  int64_t received = 0, published = 0, duplicates = 0, dropped = 0;
  int64_t first_publish_ns = 0, last_receive_ns = 0;
  double cpu_seconds = 0;
  int64_t samples = 0;
};
// What the coordinator writes to a node after the ports: go (start publishing) and stop.
constexpr char kGo = 'g', kStop = 's';

bool WriteAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const ssize_t n = write(fd, p, len);
    if (n <= 0) return false;
    p += n;
    len -= n;
  }
  return true;
}

// Reads exactly `len` bytes; false on end of file, an error, or when the deadline passes first.
bool ReadAll(int fd, void* out, size_t len, int64_t deadline_ns) {
  char* p = static_cast<char*>(out);
  while (len > 0) {
    pollfd pfd{fd, POLLIN, 0};
    const int64_t left_ms = (deadline_ns - NowNs()) / 1'000'000;
    if (left_ms <= 0 || poll(&pfd, 1, static_cast<int>(left_ms)) <= 0) return false;
    const ssize_t n = read(fd, p, len);
    if (n <= 0) return false;
    p += n;
    len -= n;
  }
  return true;
}

// --- A node. ---

// A listening node with the configured router, on a loop of its own run by the process's main thread.
struct Node {
  Node(int index, const Config& cfg) : loop(std::move(LibeventLoop::Create()).value()) {
    pubsub::NodeOptions o;
    o.key = std::make_shared<crypto::Ed25519PrivateKey>(NodeKey(index));
    o.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
    o.host.muxers = {std::string(stream::kYamuxProtocolId)};
    o.pubsub.sign_policy = cfg.sign;
    o.pubsub.validation_workers = cfg.workers;
    o.router = cfg.gossipsub ? pubsub::RouterKind::kGossipSub : pubsub::RouterKind::kFloodSub;
    node = std::move(pubsub::Node::Create(std::move(o), loop.get())).value();
    started = node->Start();
    if (started.ok()) {
      topic = *node->Join(kTopic);
      gossip = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(node->pubsub().router());
    }
  }
  std::unique_ptr<LibeventLoop> loop;
  std::unique_ptr<pubsub::Node> node;
  Status started;
  std::shared_ptr<pubsub::Topic> topic;
  pubsub::gossipsub::GossipSubRouter* gossip = nullptr;  // Owned by the node; null under floodsub.
};

size_t MaxQueuedBytes(pubsub::PubSub& ps) {
  size_t most = 0;
  for (const crypto::PeerId& p : ps.Peers()) {
    if (pubsub::PubSubPeer* peer = ps.FindPeer(p)) most = std::max(most, peer->queued_bytes());
  }
  return most;
}

int64_t DroppedSends(pubsub::PubSub& ps) {
  int64_t dropped = 0;
  for (const crypto::PeerId& p : ps.Peers()) {
    if (pubsub::PubSubPeer* peer = ps.FindPeer(p)) {
      dropped += peer->stats().dropped_full + peer->stats().dropped_timeout;
    }
  }
  return dropped;
}

// Runs node `index` in a child process: reads commands from `commands`, writes Updates to `updates`.
int RunNode(int index, const Config& cfg, ReceiveCounts& counts, int commands, int updates) {
  const int64_t deadline = NowNs() + kDeadlineNs;
  const bool publisher = IsPublisher(index, cfg);
  const int64_t expected = cfg.count * (cfg.publishers - (publisher ? 1 : 0));
  const int64_t quota = publisher ? cfg.count : 0;
  const int64_t sample_every = std::max<int64_t>(1, expected / kMaxSamplesPerNode);
  Update report{Update::kReport};
  std::vector<int64_t> latencies;
  latencies.reserve(kMaxSamplesPerNode + 1);
  bool done_sent = false, failed = false;
  auto send = [&](const Update& u) {
    if (!WriteAll(updates, &u, sizeof(u))) _exit(1);  // The coordinator is gone.
  };
  auto maybe_done = [&] {
    if (done_sent || report.received < expected || report.published < quota) return;
    done_sent = true;
    send(Update{Update::kDone});
  };

  Node n(index, cfg);
  if (!n.started.ok()) return 1;
  auto subscription = n.topic->Subscribe({.on_message = [&](const pubsub::Message& m) {
    const int64_t now = NowNs();
    int64_t sent_ns = 0, publisher_index = 0;
    std::memcpy(&sent_ns, m.data.data(), sizeof(sent_ns));
    std::memcpy(&publisher_index, m.data.data() + 8, sizeof(publisher_index));
    counts.Add(index, static_cast<int>(publisher_index));
    if (report.received % sample_every == 0) latencies.push_back(now - sent_ns);
    if (++report.received == expected) report.last_receive_ns = now;
    maybe_done();
  }});
  Update listening{Update::kListening};
  for (const Multiaddr::Component& c : n.node->listen_addrs()[0].Components()) {
    if (c.code == multiaddr_protocol::kTcp) listening.port = std::atoi(c.text.c_str());
  }
  send(listening);

  // Ready once every neighbour's subscription has arrived and, under gossipsub, two heartbeats have run
  // since and the mesh is as full as the heartbeat makes it.
  const std::vector<std::pair<int, int>> links = Links(cfg.nodes);
  std::set<crypto::PeerId> unsubscribed;
  for (const auto& [a, b] : links) {
    if (a != index && b != index) continue;
    unsubscribed.insert(crypto::PeerId::FromPublicKey(NodeKey(a == index ? b : a).public_key()));
  }
  const size_t full_mesh = std::min<size_t>(unsubscribed.size(), pubsub::gossipsub::GossipSubOptions{}.params.d_lo);
  uint64_t heartbeats_at_subscribed = 0;
  std::unique_ptr<Timer> ready_check;
  ready_check = n.loop->CreateTimer([&] {
    if (n.gossip != nullptr &&
        (n.gossip->stats().heartbeats < heartbeats_at_subscribed + 2 || n.gossip->Mesh(kTopic).size() < full_mesh)) {
      ready_check->Schedule(std::chrono::milliseconds(100));
      return;
    }
    send(Update{Update::kReady});
  });
  n.topic->SetPeerHandler([&](const pubsub::PeerEvent& e) {
    if (!e.joined || unsubscribed.erase(e.peer) == 0 || !unsubscribed.empty()) return;
    if (n.gossip != nullptr) heartbeats_at_subscribed = n.gossip->stats().heartbeats;
    ready_check->Schedule(Duration::zero());
  });

  // As fast as the slowest node takes them: at most cfg.window bytes beyond it, and as much queued for any
  // peer.
  Bytes payload(cfg.size, 'm');
  const int64_t window_messages = std::max<int64_t>(1, cfg.window / cfg.size);
  auto may_publish = [&] {
    return report.published < quota && report.published - counts.Slowest(index) < window_messages &&
           MaxQueuedBytes(n.node->pubsub()) < cfg.window;
  };
  std::unique_ptr<Timer> pump;
  pump = n.loop->CreateTimer([&] {
    while (may_publish()) {
      const int64_t now = NowNs(), publisher_index = index;
      if (report.published == 0) report.first_publish_ns = now;
      std::memcpy(payload.data(), &now, sizeof(now));
      std::memcpy(payload.data() + 8, &publisher_index, sizeof(publisher_index));
      std::memcpy(payload.data() + 16, &report.published, sizeof(report.published));
      if (!n.node->pubsub().Publish(kTopic, payload).status.ok()) {
        failed = true;
        n.loop->Stop();
        return;
      }
      ++report.published;
    }
    if (report.published < quota) {
      // Every millisecond, the period in effect before the loop's timers were precise (a 50 us timer fired
      // after 1 ms); the window lasts far longer.
      pump->Schedule(std::chrono::milliseconds(1));
    } else {
      maybe_done();
    }
  });

  std::vector<int32_t> ports(cfg.nodes);
  if (!ReadAll(commands, ports.data(), ports.size() * sizeof(int32_t), deadline)) return 1;
  for (const auto& [a, b] : links) {
    if (a != index) continue;
    const int peer = b;
    n.node->host().Dial(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/" + std::to_string(ports[peer])),
                 [&, peer](StatusOr<crypto::PeerId> p) {
                   if (p.ok()) return;
                   std::fprintf(stderr, "node %d: dialing node %d failed\n", index, peer);
                   failed = true;
                   n.loop->Stop();
                 });
  }
  double cpu_start = 0;
  std::unique_ptr<FdWatcher> command_watcher = n.loop->WatchFd(commands, kFdReadable, [&](uint32_t) {
    char c = kStop;  // Also when the coordinator is gone.
    if (read(commands, &c, 1) == 1 && c == kGo) {
      cpu_start = CpuSeconds();
      pump->Schedule(Duration::zero());
    } else {
      n.loop->Stop();
    }
  });
  n.loop->Run();
  if (failed) return 1;

  report.cpu_seconds = CpuSeconds() - cpu_start;
  report.duplicates = static_cast<int64_t>(n.node->pubsub().stats().duplicates);
  report.dropped = DroppedSends(n.node->pubsub());
  report.samples = static_cast<int64_t>(latencies.size());
  send(report);
  return WriteAll(updates, latencies.data(), latencies.size() * sizeof(int64_t)) ? 0 : 1;
}

// --- The coordinator. ---

struct Child {
  pid_t pid = -1;
  int commands = -1;  // We write to it.
  int updates = -1;   // We read from it.
};

// Forks one process per node. All pipes exist before the first fork, so that each child can close every
// end that is not its own; otherwise a sibling would hold a pipe open after its owner died.
std::vector<Child> SpawnNodes(const Config& cfg, ReceiveCounts& counts) {
  std::vector<std::array<int, 2>> commands(cfg.nodes), updates(cfg.nodes);
  for (int i = 0; i < cfg.nodes; ++i) {
    if (pipe(commands[i].data()) != 0 || pipe(updates[i].data()) != 0) return {};
  }
  std::vector<Child> children(cfg.nodes);
  for (int i = 0; i < cfg.nodes; ++i) {
    children[i].pid = fork();
    if (children[i].pid == 0) {
      for (int j = 0; j < cfg.nodes; ++j) {
        if (j != i) {
          close(commands[j][0]);
          close(updates[j][1]);
        }
        close(commands[j][1]);
        close(updates[j][0]);
      }
      _exit(RunNode(i, cfg, counts, commands[i][0], updates[i][1]));
    }
    children[i].commands = commands[i][1];
    children[i].updates = updates[i][0];
  }
  for (int i = 0; i < cfg.nodes; ++i) {
    close(commands[i][0]);
    close(updates[i][1]);
  }
  return children;
}

// Reads `child`'s updates until one of `kind` (skipping a late kDone). False when the child died or the
// deadline passed.
bool Await(const Child& child, Update::Kind kind, int64_t deadline_ns, Update* out) {
  do {
    if (!ReadAll(child.updates, out, sizeof(*out), deadline_ns)) return false;
  } while (out->kind != kind);
  return true;
}

// Awaits an update of `kind` from every child, in whatever order they come. False as soon as any child dies,
// or when the deadline passes.
bool AwaitAll(const std::vector<Child>& children, Update::Kind kind, int64_t deadline_ns, std::vector<Update>* out) {
  out->assign(children.size(), Update{});
  std::vector<pollfd> waiting;
  for (const Child& c : children) waiting.push_back(pollfd{c.updates, POLLIN, 0});
  size_t missing = children.size();
  while (missing > 0) {
    const int64_t left_ms = (deadline_ns - NowNs()) / 1'000'000;
    if (left_ms <= 0 || poll(waiting.data(), waiting.size(), static_cast<int>(left_ms)) <= 0) return false;
    for (size_t i = 0; i < children.size(); ++i) {
      if (waiting[i].revents == 0) continue;
      // An update is written whole (it is smaller than PIPE_BUF), so this read does not wait.
      if (!ReadAll(waiting[i].fd, &(*out)[i], sizeof(Update), deadline_ns)) return false;
      if ((*out)[i].kind != kind) continue;
      waiting[i].fd = -1;  // poll() ignores it from now on.
      --missing;
    }
  }
  return true;
}

bool Broadcast(const std::vector<Child>& children, const void* data, size_t len) {
  return std::all_of(children.begin(), children.end(), [&](const Child& c) { return WriteAll(c.commands, data, len); });
}

double Percentile(const std::vector<int64_t>& sorted_ns, double q) {
  return sorted_ns.empty() ? 0.0 : sorted_ns[static_cast<size_t>(q * (sorted_ns.size() - 1))] / 1e6;
}

// Runs the phases; returns the exit code. On a setup failure the caller kills the children.
int Coordinate(const Config& cfg, const std::vector<Child>& children) {
  const int64_t deadline = NowNs() + kDeadlineNs;
  std::vector<Update> updates;
  if (!AwaitAll(children, Update::kListening, deadline, &updates)) {
    std::fprintf(stderr, "a node failed to start\n");
    return 1;
  }
  std::vector<int32_t> ports;
  for (const Update& u : updates) ports.push_back(u.port);
  if (!Broadcast(children, ports.data(), ports.size() * sizeof(int32_t)) ||
      !AwaitAll(children, Update::kReady, deadline, &updates) || !Broadcast(children, &kGo, 1)) {
    std::fprintf(stderr, "the nodes failed to connect and form the mesh\n");
    return 1;
  }
  const bool all_done = AwaitAll(children, Update::kDone, deadline, &updates);
  if (!all_done) std::fprintf(stderr, "a node died, or the deadline passed before every node had every message\n");

  // Stop, then collect each node's figures.
  if (!Broadcast(children, &kStop, 1)) return 1;
  const int64_t report_deadline = NowNs() + 30 * 1'000'000'000LL;
  std::vector<int64_t> latencies;
  int64_t first_publish = INT64_MAX, last_receive = 0, duplicates = 0, dropped = 0;
  double cpu = 0;
  int missing = 0;
  std::string per_node;
  for (int i = 0; i < cfg.nodes; ++i) {
    Update r{};
    if (!Await(children[i], Update::kReport, report_deadline, &r)) return 1;
    const size_t old_size = latencies.size();
    latencies.resize(old_size + r.samples);
    if (!ReadAll(children[i].updates, latencies.data() + old_size, r.samples * sizeof(int64_t), report_deadline)) {
      return 1;
    }
    if (r.published > 0) first_publish = std::min(first_publish, r.first_publish_ns);
    last_receive = std::max(last_receive, r.last_receive_ns);
    duplicates += r.duplicates;
    dropped += r.dropped;
    cpu += r.cpu_seconds;
    per_node += " " + std::to_string(r.received);
    const int64_t expected = cfg.count * (cfg.publishers - (IsPublisher(i, cfg) ? 1 : 0));
    if (r.received != expected) {
      std::fprintf(stderr, "node %d received %lld of %lld messages\n", i, static_cast<long long>(r.received),
                   static_cast<long long>(expected));
      ++missing;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds = all_done ? (last_receive - first_publish) / 1e9 : 0.0;
  const int64_t total = cfg.count * cfg.publishers;
  std::printf(
      "%s %s, %d nodes (%zu links), %d publisher(s) x %lld messages of %zu bytes: at every node in "
      "%.2f s = %.0f msg/s; end-to-end latency p50 %.3f ms, p99 %.3f ms; CPU %.2f s over the nodes; "
      "%lld duplicates received, %lld sends dropped\n",
      cfg.gossipsub ? "gossipsub" : "floodsub",
      cfg.sign == pubsub::SignPolicy::kStrictSign ? "StrictSign" : "StrictNoSign", cfg.nodes, Links(cfg.nodes).size(),
      cfg.publishers, static_cast<long long>(cfg.count), cfg.size, seconds, seconds > 0 ? total / seconds : 0.0,
      Percentile(latencies, 0.5), Percentile(latencies, 0.99), cpu, static_cast<long long>(duplicates),
      static_cast<long long>(dropped));
  std::printf("received per node:%s\n", per_node.c_str());
  return all_done && missing == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--nodes") cfg.nodes = std::atoi(value.c_str());
    if (flag == "--publishers") cfg.publishers = std::atoi(value.c_str());
    if (flag == "--count") cfg.count = std::atoll(value.c_str());
    if (flag == "--size") cfg.size = std::max<size_t>(kHeaderSize, std::strtoul(value.c_str(), nullptr, 10));
    if (flag == "--sign") {
      cfg.sign = value == "none" ? pubsub::SignPolicy::kStrictNoSign : pubsub::SignPolicy::kStrictSign;
    }
    if (flag == "--router") cfg.gossipsub = value != "floodsub";
    if (flag == "--window") cfg.window = std::max<size_t>(1, std::strtoul(value.c_str(), nullptr, 10));
    if (flag == "--workers") {
      cfg.workers = value == "auto" ? pubsub::kAutoWorkers : std::strtoul(value.c_str(), nullptr, 10);
    }
  }
  if (cfg.nodes < 2 || cfg.publishers < 1 || cfg.publishers > cfg.nodes || cfg.count < 1) {
    std::fprintf(stderr, "need --nodes >= 2, 1 <= --publishers <= nodes, --count >= 1\n");
    return 2;
  }
  // A node that dies must fail the run, not kill the coordinator with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  ReceiveCounts counts;
  if (!counts.Map(cfg.nodes)) return 1;
  std::vector<Child> children = SpawnNodes(cfg, counts);
  if (children.empty()) return 1;
  int rc = Coordinate(cfg, children);
  if (rc != 0) {
    for (const Child& c : children) {
      if (c.pid > 0) kill(c.pid, SIGKILL);
    }
  }
  for (const Child& c : children) {
    int status = 0;
    if (c.pid > 0 && (waitpid(c.pid, &status, 0) != c.pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
      rc = 1;
    }
  }
  return rc;
}
