// p2pd: a libp2p daemon on this library that a client of go-libp2p-daemon's control protocol drives as it
// would go's p2pd (tools/p2pd/README.md). Flags are go's, written -flag=value or -flag value; booleans
// also as a bare -flag.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/yamux.h"
#include "tools/node/flags.h"
#include "tools/p2pd/daemon.h"

namespace libp2p::p2pd {
namespace {

[[noreturn]] void Usage(const std::string& message) { tools::FlagError("p2pd", message); }

struct Flags {
  Multiaddr listen = *Multiaddr::FromString("/unix/tmp/p2pd.sock");  // go's default.
  std::vector<Multiaddr> host_addrs = {*Multiaddr::FromString("/ip4/0.0.0.0/tcp/0")};
  std::string id;
  bool pubsub = false;
  std::string router = "gossipsub";
  bool sign = true;
  bool sign_strict = true;
  std::optional<Duration> heartbeat_interval;
  std::optional<Duration> heartbeat_initial_delay;
  std::string muxer = "yamux";
  bool quiet = false;
};

bool Bool(const std::string& flag, const std::string& value) {
  if (value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" || value == "True") return true;
  if (value == "false" || value == "0" || value == "f" || value == "F" || value == "FALSE" || value == "False") {
    return false;
  }
  Usage("-" + flag + ": expected true or false, got '" + value + "'");
}

// A go duration: a sequence of decimal numbers, each with a unit (ns, us, ms, s, m, h), e.g. 700ms or 1m30s.
Duration GoDuration(const std::string& flag, const std::string& value) {
  static const std::map<std::string, double> kUnits = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
                                                       {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total_ns = 0;
  size_t i = 0;
  if (value.empty()) Usage("-" + flag + ": an empty duration");
  while (i < value.size()) {
    size_t j = i;
    while (j < value.size() && (std::isdigit(static_cast<unsigned char>(value[j])) || value[j] == '.')) ++j;
    size_t k = j;
    while (k < value.size() && !std::isdigit(static_cast<unsigned char>(value[k])) && value[k] != '.') ++k;
    const auto unit = kUnits.find(value.substr(j, k - j));
    if (j == i || unit == kUnits.end()) Usage("-" + flag + ": not a duration (e.g. 700ms, 1s): '" + value + "'");
    total_ns += std::stod(value.substr(i, j - i)) * unit->second;
    i = k;
  }
  if (total_ns <= 0 || total_ns > 24 * 3600e9) Usage("-" + flag + ": must be above 0 and at most 24h");
  return std::chrono::nanoseconds(static_cast<int64_t>(total_ns));
}

Multiaddr Addr(const std::string& flag, const std::string& value) {
  StatusOr<Multiaddr> a = Multiaddr::FromString(value);
  if (!a.ok()) Usage("-" + flag + ": " + a.status().message());
  return *a;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  const std::set<std::string> kBools = {"pubsub", "pubsubSign", "pubsubSignStrict", "noListenAddrs", "q", "noise",
                                        "tls", "plaintext", "dht", "dhtClient", "dhtServer", "relay", "autonat",
                                        "natPortMap", "connManager", "quic"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') Usage("unexpected argument " + arg);
    arg.erase(0, arg[1] == '-' ? 2 : 1);
    std::string name = arg, value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (kBools.count(name)) {
      const bool on = has_value ? Bool(name, value) : true;
      if (name == "pubsub") f.pubsub = on;
      else if (name == "pubsubSign") f.sign = on;
      else if (name == "pubsubSignStrict") f.sign_strict = on;
      else if (name == "noListenAddrs") { if (on) f.host_addrs.clear(); }
      else if (name == "q") f.quiet = on;
      else if (name == "noise") { if (!on) Usage("-noise=false: Noise is the only security this daemon speaks"); }
      else if (on) Usage("-" + name + ": not supported by this daemon (it speaks TCP, Noise, yamux and mplex)");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) Usage("-" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "listen") {
      f.listen = Addr(name, value);
    } else if (name == "hostAddrs") {
      f.host_addrs.clear();
      for (size_t start = 0; start <= value.size();) {
        const size_t comma = std::min(value.find(',', start), value.size());
        if (comma > start) f.host_addrs.push_back(Addr(name, value.substr(start, comma - start)));
        start = comma + 1;
      }
    } else if (name == "id") {
      f.id = value;
    } else if (name == "pubsubRouter") {
      if (value != "gossipsub" && value != "floodsub") Usage("-pubsubRouter: gossipsub or floodsub, not " + value);
      f.router = value;
    } else if (name == "gossipsubHeartbeatInterval") {
      f.heartbeat_interval = GoDuration(name, value);
    } else if (name == "gossipsubHeartbeatInitialDelay") {
      f.heartbeat_initial_delay = GoDuration(name, value);
    } else if (name == "muxer") {
      if (value != "yamux" && value != "mplex") Usage("-muxer: yamux or mplex, not " + value);
      f.muxer = value;
    } else {
      Usage("unknown flag -" + name);
    }
  }
  if (f.sign && !f.sign_strict) Usage("-pubsubSignStrict=false: lax signing is not supported (StrictSign or -pubsubSign=false)");
  return f;
}

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

int Run(const Flags& flags) {
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  if (!loop.ok()) {
    std::fprintf(stderr, "p2pd: %s\n", loop.status().ToString().c_str());
    return 1;
  }
  pubsub::NodeOptions o;
  o.key_file = flags.id;
  o.listen_addrs = flags.host_addrs;
  o.host.muxers = {flags.muxer == "mplex" ? std::string(stream::kMplexProtocolId) : std::string(stream::kYamuxProtocolId)};
  o.router = flags.router == "floodsub" ? pubsub::RouterKind::kFloodSub : pubsub::RouterKind::kGossipSub;
  o.pubsub.sign_policy = flags.sign ? pubsub::SignPolicy::kStrictSign : pubsub::SignPolicy::kStrictNoSign;
  // go's default message id (from || seqno); without signing there is neither, so the data's hash.
  o.pubsub.message_id = flags.sign ? pubsub::MessageIdFn(pubsub::GoDefaultMessageId)
                                   : pubsub::MessageIdFn(pubsub::Sha256MessageId);
  if (flags.heartbeat_interval) o.gossipsub.params.heartbeat_interval = *flags.heartbeat_interval;
  if (flags.heartbeat_initial_delay) o.gossipsub.params.heartbeat_initial_delay = *flags.heartbeat_initial_delay;
  StatusOr<std::unique_ptr<pubsub::Node>> node = pubsub::Node::Create(o, loop->get());
  if (!node.ok()) Usage(node.status().message());
  if (Status s = (*node)->Start(); !s.ok()) {
    std::fprintf(stderr, "p2pd: %s\n", s.ToString().c_str());
    return 1;
  }
  Daemon daemon(loop->get(), node->get(), flags.pubsub);
  if (Status s = daemon.Listen(flags.listen); !s.ok()) {
    std::fprintf(stderr, "p2pd: -listen: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!flags.quiet) {
    std::printf("Control socket: %s\n", daemon.control_addr().ToString().c_str());
    std::printf("Peer ID: %s\n", (*node)->id().ToBase58().c_str());
    std::printf("Peer Addrs:\n");
    for (const Multiaddr& a : (*node)->host().advertised_addrs()) std::printf("%s\n", a.ToString().c_str());
    std::fflush(stdout);
  }
  auto signals = (*loop)->WatchFd(g_signal_pipe[0], kFdReadable, [&](uint32_t) { (*loop)->Stop(); });
  (*loop)->Run();
  return 0;
}

}  // namespace
}  // namespace libp2p::p2pd

int main(int argc, char** argv) {
  using namespace libp2p::p2pd;
  const Flags flags = ParseFlags(argc, argv);
  if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGPIPE, SIG_IGN);
  return Run(flags);
}
