// pubsub_node: one libp2p node that listens, dials, answers identify and ping, and reports what happens as
// NDJSON on standard output. Its flags and events are a contract: docs/cli.md.
//
// Routers: gossipsub (the default; /meshsub/1.2.0, 1.1.0, 1.0.0) and floodsub.
// Beyond the contract: `--direct MULTIADDR` (repeatable, ending in /p2p/<peer id>) makes that peer a gossipsub
// direct peer, dialed one second after start and redialed every 300 heartbeats while disconnected.
#include <fcntl.h>
#include <cerrno>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/log.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/metrics/http_server.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/params_json.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/pubsub/subscription_filter.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"
#include "libp2p/pubsub/trace/remote_tracer.h"
#include "libp2p/stream/access_list.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/perf_service.h"
#include "libp2p/stream/pnet.h"
#include "libp2p/stream/yamux.h"
#include "libp2p/version.h"
#include "tools/node/event_writer.h"
#include "tools/node/flags.h"
#include "tools/node/interop_mode.h"
#include "tools/node/paced_publisher.h"

namespace libp2p::node {
namespace {

// What --help prints: every flag of docs/cli.md, one line each (node_cli_test.mjs checks that the two agree).
constexpr char kUsage[] =
    "Usage: pubsub_node [FLAG]...\n"
    "One libp2p pubsub node. It prints its events as NDJSON on standard output (docs/cli.md).\n"
    "\n"
    "  --listen MULTIADDR            listen address, repeatable (/ip4/127.0.0.1/tcp/0 picks a free port)\n"
    "  --dial MULTIADDR              peer to connect to at start, repeatable\n"
    "  --seed STRING                 deterministic identity (default: a random key)\n"
    "  --key FILE                    the identity: a libp2p PrivateKey protobuf (Ed25519, secp256k1, ECDSA, RSA)\n"
    "  --topic NAME                  subscribe to NAME, repeatable\n"
    "  --router gossipsub|floodsub   the pubsub router (default gossipsub)\n"
    "  --sign strict|none            StrictSign (default) or StrictNoSign\n"
    "  --msg-id go|js|sha256         the message id function (default js, or sha256 with --sign none)\n"
    "  --validation-workers N|auto   threads that check message signatures (0: on the event loop; default auto)\n"
    "  --muxer yamux|mplex           the stream muxer to offer (default yamux)\n"
    "  --publish-count N             messages to publish (default 0)\n"
    "  --publish-size BYTES          the size of each (default 64)\n"
    "  --publish-interval-ms MS      the time between two (default 100; 0: as fast as the peers take them)\n"
    "  --publish-delay-ms MS         the time before the first (default 1000)\n"
    "  --publish-topic NAME          the topic to publish to (default: the first --topic)\n"
    "  --batch N                     publish the --publish-count messages N at a time, as one batch each\n"
    "  --stdin                       publish each line read from standard input\n"
    "  --ping MULTIADDR              ping that peer (ending in /p2p/<peer id>) and report the round trip\n"
    "  --perf MULTIADDR              measure throughput to that peer's perf server (/perf/1.0.0), then exit\n"
    "  --perf-upload-bytes N         with --perf: the bytes to upload (default 0)\n"
    "  --perf-download-bytes N       with --perf: the bytes to download (default 0)\n"
    "  --perf-server                 answer /perf/1.0.0 (off by default: only towards trusted peers)\n"
    "  --perf-max-bytes N            with --perf-server: the most bytes one perf stream may ask for\n"
    "  --duration-s S                exit with status 0 after S seconds (default: run until a signal)\n"
    "  --px                          gossipsub peer exchange (off by default)\n"
    "  --direct MULTIADDR            a gossipsub direct peer (ending in /p2p/<peer id>), repeatable\n"
    "  --gossipsub-params FILE       gossipsub and score parameters, JSON with go-libp2p-pubsub's field names\n"
    "  --trace-json FILE             write go's JSON trace of pubsub events to FILE\n"
    "  --trace-pb FILE               write go's protobuf trace (varint-delimited TraceEvents) to FILE\n"
    "  --trace-remote MULTIADDR      stream go's remote trace to a collector (ending in /p2p/<peer id>)\n"
    "  --metrics MULTIADDR           serve Prometheus metrics at http://<address>:<port>/metrics\n"
    "  --allow-peer PEER_ID          accept connections only with the listed peers, repeatable\n"
    "  --deny-peer PEER_ID           refuse connections with that peer, repeatable (deny wins over allow)\n"
    "  --allow-cidr CIDR             accept connections only with the listed IP ranges, repeatable\n"
    "  --deny-cidr CIDR              refuse connections with that IP range, repeatable (deny wins over allow)\n"
    "  --swarm-key FILE              join the private network of that pre-shared key (swarm.key, PSK v1)\n"
    "  --allowed-topic NAME          the only topics that may be subscribed to, by us or peers, repeatable\n"
    "  --log-level LEVEL             trace, debug, info, warn (default), error or off: logs on stderr, JSON lines\n"
    "  --params FILE                 run a libp2p/test-plans gossipsub-interop script (its own output)\n"
    "  --node-id N                   with --params: this node's id (default: from the hostname node<N>)\n"
    "  --base-port P                 with --params: listen on 127.0.0.1:P+N and dial 127.0.0.1:P+M\n"
    "  --start-time-ms T             with --params: the instant (ms since the epoch) waitUntil counts from\n"
    "  --help                        print this help and exit\n"
    "  --version                     print the version and exit\n";

struct Flags {
  std::vector<Multiaddr> listen;
  std::vector<Multiaddr> dial;
  std::vector<Multiaddr> ping;
  // --perf: the peer to measure against, and what to move each way.
  std::optional<Multiaddr> perf;
  uint64_t perf_upload_bytes = 0;
  uint64_t perf_download_bytes = 0;
  // --perf-server, and its cap (none by default).
  bool perf_server = false;
  std::optional<uint64_t> perf_max_bytes;
  std::vector<Multiaddr> direct;  // GossipSub direct peers (an extension of the contract).
  std::optional<std::string> seed;
  std::shared_ptr<const crypto::PrivateKey> key;  // --key FILE, read.
  std::string muxer = "yamux";
  int duration_s = 0;
  std::vector<std::string> topics;
  std::string router = "gossipsub";
  std::string sign = "strict";
  std::optional<std::string> msg_id;  // go, js or sha256; by default js when signing, sha256 when not.
  // --validation-workers: threads that check signatures; none: one per hardware thread.
  std::optional<size_t> validation_workers;
  int64_t publish_count = 0;
  int64_t publish_size = 64;
  int64_t publish_interval_ms = 100;
  int64_t publish_delay_ms = 1000;
  std::optional<std::string> publish_topic;
  int64_t batch = 0;  // --batch N: 0 publishes one by one.
  bool stdin_lines = false;
  bool px = false;  // Peer exchange: offered in our PRUNEs, followed in the peers'.
  std::optional<pubsub::gossipsub::GossipSubJsonResult> gossipsub_params;  // --gossipsub-params FILE, read.
  LogLevel log_level = LogLevel::kWarn;
  // --metrics: where to serve the Prometheus metrics (an IP literal and a TCP port).
  std::optional<std::pair<std::string, uint16_t>> metrics;
  // --trace-json FILE, --trace-pb FILE: go's trace formats; --trace-remote: go's remote tracer's collector.
  std::optional<std::string> trace_json;
  std::optional<std::string> trace_pb;
  std::optional<Multiaddr> trace_remote;
  // The gossipsub-interop mode: --params and the flags that go with it.
  std::optional<std::string> params;
  std::optional<uint64_t> node_id;
  std::optional<int64_t> base_port;
  std::optional<int64_t> start_time_ms;
  // Who may connect (--allow-peer, --deny-peer, --allow-cidr, --deny-cidr), the private network's key
  // (--swarm-key FILE, read), and the topics that may exist (--allowed-topic; none: every topic).
  std::vector<crypto::PeerId> allow_peers;
  std::vector<crypto::PeerId> deny_peers;
  std::vector<stream::IpRange> allow_cidrs;
  std::vector<stream::IpRange> deny_cidrs;
  std::optional<stream::SwarmKey> swarm_key;
  std::vector<std::string> allowed_topics;
  std::vector<std::string> given;  // Every flag given, in order.
};

[[noreturn]] void Usage(const std::string& message) { tools::FlagError("pubsub_node", message); }

// The largest count the --perf-* flags take (2^62: beyond anything a run can move).
constexpr int64_t kMaxPerfBytes = int64_t{1} << 62;

int64_t Number(const std::string& flag, const std::string& value, int64_t min, int64_t max) {
  return tools::WholeNumberFlag("pubsub_node", flag, value, min, max);
}

// --gossipsub-params FILE: the file's parameters, or a usage error naming the file and the field.
pubsub::gossipsub::GossipSubJsonResult ReadGossipSubParams(const std::string& path) {
  StatusOr<pubsub::gossipsub::GossipSubJsonResult> r = pubsub::gossipsub::ReadGossipSubJsonFile(path);
  if (!r.ok()) Usage("--gossipsub-params: " + r.status().message());
  return std::move(r).value();
}

// --metrics MULTIADDR: the IP literal and port of /ip4/A/tcp/P or /ip6/A/tcp/P, or a usage error.
std::pair<std::string, uint16_t> MetricsAddress(const Multiaddr& addr) {
  const std::vector<Multiaddr::Component> c = addr.Components();
  if (c.size() != 2 || (c[0].code != multiaddr_protocol::kIp4 && c[0].code != multiaddr_protocol::kIp6) ||
      c[1].code != multiaddr_protocol::kTcp) {
    Usage("--metrics: must be /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>, not " + addr.ToString());
  }
  return {c[0].text, static_cast<uint16_t>(std::stoi(c[1].text))};
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--stdin") {
      f.stdin_lines = true;
      continue;
    }
    if (flag == "--px") {
      f.px = true;
      continue;
    }
    if (flag == "--perf-server") {
      f.perf_server = true;
      f.given.push_back(flag);
      continue;
    }
    // The two exceptions to "stdout is NDJSON": plain text, exit status 0, nothing started.
    if (flag == "--help" || flag == "--version") {
      if (flag == "--help") {
        std::fputs(kUsage, stdout);
      } else {
        std::printf("pubsub_node %.*s\n", static_cast<int>(kVersion.size()), kVersion.data());
      }
      std::exit(std::fflush(stdout) == 0 ? 0 : 1);
    }
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
    f.given.push_back(flag);
    auto addr = [&]() {
      StatusOr<Multiaddr> m = Multiaddr::FromString(value);
      if (!m.ok()) Usage(flag + ": " + m.status().message());
      return *m;
    };
    if (flag == "--listen") {
      f.listen.push_back(addr());
    } else if (flag == "--dial") {
      f.dial.push_back(addr());
    } else if (flag == "--ping") {
      f.ping.push_back(addr());
      if (!f.ping.back().PeerIdMultihash()) Usage("--ping: the address must end in /p2p/<peer id>");
    } else if (flag == "--perf") {
      if (f.perf) Usage("--perf: one measurement per run");
      f.perf = addr();
      const std::optional<Bytes> id = f.perf->PeerIdMultihash();
      if (!id || !crypto::PeerId::FromBytes(*id).ok()) Usage("--perf: the address must end in /p2p/<peer id>");
    } else if (flag == "--perf-upload-bytes" || flag == "--perf-download-bytes" || flag == "--perf-max-bytes") {
      const auto n = static_cast<uint64_t>(Number(flag, value, 0, kMaxPerfBytes));
      if (flag == "--perf-upload-bytes") {
        f.perf_upload_bytes = n;
      } else if (flag == "--perf-download-bytes") {
        f.perf_download_bytes = n;
      } else {
        f.perf_max_bytes = n;
      }
    } else if (flag == "--direct") {
      f.direct.push_back(addr());
      const std::optional<Bytes> id = f.direct.back().PeerIdMultihash();
      if (!id || !crypto::PeerId::FromBytes(*id).ok()) Usage("--direct: the address must end in /p2p/<peer id>");
    } else if (flag == "--allow-peer" || flag == "--deny-peer") {
      StatusOr<crypto::PeerId> id = crypto::PeerId::FromString(value);
      if (!id.ok()) Usage(flag + ": not a peer id: " + id.status().message());
      (flag == "--allow-peer" ? f.allow_peers : f.deny_peers).push_back(*id);
    } else if (flag == "--allow-cidr" || flag == "--deny-cidr") {
      StatusOr<stream::IpRange> range = stream::IpRange::Parse(value);
      if (!range.ok()) Usage(flag + ": " + range.status().message());
      (flag == "--allow-cidr" ? f.allow_cidrs : f.deny_cidrs).push_back(*range);
    } else if (flag == "--swarm-key") {
      if (f.swarm_key) Usage("--swarm-key: one key per node");
      StatusOr<stream::SwarmKey> key = stream::ReadSwarmKeyFile(value);
      if (!key.ok()) Usage("--swarm-key: " + key.status().message());
      f.swarm_key = *key;
    } else if (flag == "--allowed-topic") {
      if (value.empty() || value.size() > 1024) Usage("--allowed-topic: a topic is 1 to 1024 bytes");
      f.allowed_topics.push_back(value);
    } else if (flag == "--seed") {
      f.seed = value;
    } else if (flag == "--key") {
      StatusOr<std::unique_ptr<crypto::PrivateKey>> key = pubsub::ReadKeyFile(value);
      if (!key.ok()) Usage("--key: " + key.status().message());
      f.key = std::move(key).value();
    } else if (flag == "--muxer") {
      if (value != "yamux" && value != "mplex") Usage("--muxer: must be yamux or mplex, not " + value);
      f.muxer = value;
    } else if (flag == "--duration-s") {
      f.duration_s = static_cast<int>(Number(flag, value, 0, 365L * 24 * 3600));
    } else if (flag == "--topic") {
      if (value.empty() || value.size() > 1024) Usage("--topic: a topic is 1 to 1024 bytes");
      f.topics.push_back(value);
    } else if (flag == "--router") {
      if (value != "gossipsub" && value != "floodsub") Usage("--router: must be gossipsub or floodsub, not " + value);
      f.router = value;
    } else if (flag == "--sign") {
      if (value != "strict" && value != "none") Usage("--sign: must be strict or none, not " + value);
      f.sign = value;
    } else if (flag == "--msg-id") {
      if (value != "go" && value != "js" && value != "sha256") {
        Usage("--msg-id: must be go, js or sha256, not " + value);
      }
      f.msg_id = value;
    } else if (flag == "--validation-workers") {
      f.validation_workers = value == "auto" ? pubsub::kAutoWorkers : static_cast<size_t>(Number(flag, value, 0, 256));
    } else if (flag == "--publish-count") {
      f.publish_count = Number(flag, value, 0, 1'000'000'000);
    } else if (flag == "--publish-size") {
      f.publish_size = Number(flag, value, 0, 1 << 20);
    } else if (flag == "--publish-interval-ms") {
      f.publish_interval_ms = Number(flag, value, 0, 3'600'000);
    } else if (flag == "--publish-delay-ms") {
      f.publish_delay_ms = Number(flag, value, 0, 3'600'000);
    } else if (flag == "--batch") {
      f.batch = Number(flag, value, 1, 1 << 16);
    } else if (flag == "--gossipsub-params") {
      f.gossipsub_params = ReadGossipSubParams(value);
    } else if (flag == "--trace-json" || flag == "--trace-pb") {
      if (value.empty()) Usage(flag + ": needs a file name");
      (flag == "--trace-json" ? f.trace_json : f.trace_pb) = value;
    } else if (flag == "--trace-remote") {
      f.trace_remote = addr();
      const std::optional<Bytes> id = f.trace_remote->PeerIdMultihash();
      if (!id || !crypto::PeerId::FromBytes(*id).ok()) Usage("--trace-remote: the address must end in /p2p/<peer id>");
    } else if (flag == "--metrics") {
      f.metrics = MetricsAddress(addr());
    } else if (flag == "--log-level") {
      f.log_level = tools::LogLevelFlag("pubsub_node", flag, value);
    } else if (flag == "--params") {
      f.params = value;
    } else if (flag == "--node-id") {
      f.node_id = static_cast<uint64_t>(Number(flag, value, 0, UINT32_MAX));
    } else if (flag == "--base-port") {
      f.base_port = Number(flag, value, 1, 65535);
    } else if (flag == "--start-time-ms") {
      f.start_time_ms = Number(flag, value, 0, int64_t{1} << 50);
    } else if (flag == "--publish-topic") {
      if (value.empty() || value.size() > 1024) Usage("--publish-topic: a topic is 1 to 1024 bytes");
      f.publish_topic = value;
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (f.seed && f.key) Usage("--key: give --key or --seed, not both");
  if (f.params) {
    // Its own identity, addresses, pubsub and output: only these go with it.
    for (const std::string& flag : f.given) {
      if (flag != "--params" && flag != "--node-id" && flag != "--base-port" && flag != "--start-time-ms" &&
          flag != "--duration-s" && flag != "--muxer" && flag != "--log-level") {
        Usage(flag + ": not with --params (the script decides)");
      }
    }
    if (f.stdin_lines || f.px) Usage(std::string(f.px ? "--px" : "--stdin") + ": not with --params (the script decides)");
    if (f.base_port && *f.base_port + static_cast<int64_t>(f.node_id.value_or(0)) > 65535) {
      Usage("--base-port: the node's port (base + node id) is beyond 65535");
    }
    return f;
  }
  for (const char* flag : {"--node-id", "--base-port", "--start-time-ms"}) {
    if (std::find(f.given.begin(), f.given.end(), flag) != f.given.end()) Usage(std::string(flag) + ": needs --params");
  }
  for (const char* flag : {"--perf-upload-bytes", "--perf-download-bytes"}) {
    if (!f.perf && std::find(f.given.begin(), f.given.end(), flag) != f.given.end()) {
      Usage(std::string(flag) + ": needs --perf");
    }
  }
  if (f.perf_max_bytes && !f.perf_server) Usage("--perf-max-bytes: needs --perf-server");
  if (!f.direct.empty() && f.router != "gossipsub") Usage("--direct: direct peers need --router gossipsub");
  if (f.px && f.router != "gossipsub") Usage("--px: peer exchange needs --router gossipsub");
  if (f.gossipsub_params && f.router != "gossipsub") Usage("--gossipsub-params: needs --router gossipsub");
  if (f.sign == "none" && f.msg_id && *f.msg_id != "sha256") {
    Usage("--msg-id: " + *f.msg_id +
          " ids need signed messages (--sign none sends neither author nor seqno); use sha256");
  }
  if (f.batch > 0 && f.publish_count == 0) Usage("--batch: needs --publish-count");
  if (!f.allowed_topics.empty()) {
    auto allowed = [&f](const std::string& t) {
      return std::find(f.allowed_topics.begin(), f.allowed_topics.end(), t) != f.allowed_topics.end();
    };
    for (const std::string& t : f.topics) {
      if (!allowed(t)) Usage("--topic: " + t + " is not an --allowed-topic");
    }
    if (f.publish_topic && !allowed(*f.publish_topic)) {
      Usage("--publish-topic: " + *f.publish_topic + " is not an --allowed-topic");
    }
  }
  if ((f.publish_count > 0 || f.stdin_lines) && !f.publish_topic && f.topics.empty()) {
    Usage("--publish-topic: publishing needs a topic (--publish-topic or a --topic)");
  }
  // Once every flag is good, so that a usage error stays the only line.
  if (f.gossipsub_params) {
    for (const std::string& w : f.gossipsub_params->warnings) {
      std::fprintf(stderr, "pubsub_node: warning: --gossipsub-params: %s\n", w.c_str());
    }
  }
  return f;
}

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

// The node program: a pubsub::Node on the main thread's loop, which also watches the signals, standard input
// and the publishing timer. Everything runs on that one thread, so events come out in the order they happen.
class NodeProgram {
 public:
  NodeProgram(LibeventLoop* loop, const Flags& flags) : loop_(loop), flags_(flags) {
    for (const crypto::PeerId& p : flags_.allow_peers) access_list_->AllowPeer(p);
    for (const crypto::PeerId& p : flags_.deny_peers) access_list_->DenyPeer(p);
    for (const stream::IpRange& r : flags_.allow_cidrs) access_list_->AllowRange(r);
    for (const stream::IpRange& r : flags_.deny_cidrs) access_list_->DenyRange(r);
    if (!flags_.allowed_topics.empty()) {
      filter_ = std::make_unique<pubsub::AllowlistSubscriptionFilter>(flags_.allowed_topics);
    }
  }

  int Run() {
    pubsub::NodeOptions options = Options();
    options.events.on_inbound_failed = [this](const Multiaddr& remote, const Status& why) {
      ReportInboundError(remote, why);
    };
    if (flags_.metrics) {
      registry_ = std::make_unique<metrics::Registry>();
      options.metrics = registry_.get();
    }
    if (Status s = AddTracers(&options); !s.ok()) return Fatal(s.ToString());
    StatusOr<std::unique_ptr<pubsub::Node>> node = pubsub::Node::Create(std::move(options), loop_);
    if (!node.ok()) return Fatal(node.status().ToString());
    node_ = std::move(node).value();
    if (Status s = node_->Start(); !s.ok()) return Fatal(s.ToString());
    stream::Host& host = node_->host();
    if (flags_.perf_server) {
      stream::PerfServerOptions perf;
      if (flags_.perf_max_bytes) perf.responder.max_send_bytes = *flags_.perf_max_bytes;
      perf_server_ = std::make_unique<stream::PerfServer>(&host, perf);
    }
    // What the node advertises: a wildcard listener shows as the interface addresses.
    std::vector<std::string> addrs;
    for (const Multiaddr& a : host.advertised_addrs()) addrs.push_back(a.ToString() + "/p2p/" + node_->id().ToBase58());
    Event started("started");
    started.Str("peer_id", node_->id().ToBase58()).StrList("listen_addrs", addrs).StrList("protocols", host.protocols());
    if (flags_.swarm_key) started.Str("swarm_key_fingerprint", stream::SwarmKeyFingerprint(*flags_.swarm_key));
    started.Emit();
    if (remote_) remote_->Start(&host);
    if (flags_.metrics) {
      const auto& [ip, port] = *flags_.metrics;
      StatusOr<std::unique_ptr<metrics::MetricsHttpServer>> server =
          metrics::MetricsHttpServer::Start(loop_, registry_.get(), {.host = ip, .port = port});
      if (!server.ok()) return Fatal("--metrics: " + server.status().ToString());
      metrics_server_ = std::move(server).value();
      const bool v6 = ip.find(':') != std::string::npos;
      Event("metrics_listening")
          .Str("addr", std::string(v6 ? "/ip6/" : "/ip4/") + ip + "/tcp/" + std::to_string(metrics_server_->port()))
          .Emit();
    }

    for (const Multiaddr& a : flags_.dial) {
      host.Dial(a, [a](StatusOr<crypto::PeerId> peer) {
        if (!peer.ok()) Event("dial_error").Str("addr", a.ToString()).Str("error", peer.status().ToString()).Emit();
      });
    }
    for (const Multiaddr& a : flags_.ping) Ping(a);
    if (flags_.perf) Perf(*flags_.perf);
    for (const std::string& name : flags_.topics) {
      std::shared_ptr<pubsub::Topic> topic = *node_->Join(name);  // The flag's checks match Join's.
      subscriptions_.push_back(topic->Subscribe({.on_message = [this](const pubsub::Message& m) { Report(m); }}));
    }
    publish_topic_ = flags_.publish_topic.value_or(flags_.topics.empty() ? std::string() : flags_.topics[0]);
    if (flags_.publish_count > 0) {
      publish_timer_ = loop_->CreateTimer([this] {
        if (flags_.publish_interval_ms > 0) return PublishNext();
        // Back to back, as fast as the topic's peers take the messages.
        paced_ = std::make_unique<PacedPublisher>(loop_, &node_->pubsub(), publish_topic_, PacedPublisherOptions{},
                                                  [this] {
                                                    PublishOne();
                                                    return published_attempts_ < flags_.publish_count;
                                                  });
        paced_->Start();
      });
      publish_timer_->Schedule(std::chrono::milliseconds(flags_.publish_delay_ms));
    }
    if (flags_.stdin_lines) stdin_watcher_ = loop_->WatchFd(0, kFdReadable, [this](uint32_t) { ReadStdin(); });

    auto stop = loop_->CreateTimer([this] { loop_->Stop(); });
    if (flags_.duration_s > 0) stop->Schedule(std::chrono::seconds(flags_.duration_s));
    auto signals = loop_->WatchFd(g_signal_pipe[0], kFdReadable, [this](uint32_t) { loop_->Stop(); });
    loop_->Run();

    if (flags_.perf && !perf_done_) PerfFailed(*flags_.perf, UnavailableError("no result before the node stopped"));
    Event summary = Summary();
    if (remote_) {
      // What is buffered goes out, the gzip stream ends, and the collector closes its side (or we give up).
      remote_->Close();
      loop_->RunUntil([this] { return !remote_->connected(); }, std::chrono::seconds(2));
      remote_->Stop();
    }
    metrics_server_.reset();
    perf_run_.reset();
    perf_server_.reset();
    paced_.reset();
    publish_timer_.reset();
    stdin_watcher_.reset();
    subscriptions_.clear();
    node_->Stop();
    summary.Emit();
    return perf_failed_ ? 1 : 0;
  }

 private:
  // With the --trace-* flags: the tracers writing go's traces, in `options`' tracers. The identity is decided
  // here (a random one when no flag gives it), since a trace names the node. kInternal for a trace file that
  // cannot be created.
  Status AddTracers(pubsub::NodeOptions* options) {
    if (!flags_.trace_json && !flags_.trace_pb && !flags_.trace_remote) return OkStatus();
    if (!options->key) options->key = std::make_shared<crypto::Ed25519PrivateKey>(crypto::Ed25519PrivateKey::Generate());
    const crypto::PeerId self = crypto::PeerId::FromPublicKey(options->key->public_key());
    auto add = [&](std::unique_ptr<pubsub::trace::TraceSink> sink) {
      tracers_.push_back(std::make_unique<pubsub::trace::TraceEventTracer>(self, options->pubsub.message_id, sink.get()));
      options->pubsub.tracers.push_back(tracers_.back().get());
      trace_sinks_.push_back(std::move(sink));
    };
    for (const auto& [path, json] : {std::pair{flags_.trace_json, true}, std::pair{flags_.trace_pb, false}}) {
      if (!path) continue;
      StatusOr<std::unique_ptr<pubsub::trace::TraceFile>> file = pubsub::trace::TraceFile::Create(*path);
      if (!file.ok()) return InternalError((json ? "--trace-json: " : "--trace-pb: ") + file.status().message());
      if (json) {
        add(std::make_unique<pubsub::trace::JsonTraceWriter>(std::move(file).value()));
      } else {
        add(std::make_unique<pubsub::trace::PbTraceWriter>(std::move(file).value()));
      }
    }
    if (flags_.trace_remote) {
      const crypto::PeerId collector = *crypto::PeerId::FromBytes(*flags_.trace_remote->PeerIdMultihash());
      auto remote = std::make_unique<pubsub::trace::RemoteTracer>(collector, std::vector{*flags_.trace_remote});
      remote_ = remote.get();
      add(std::move(remote));
    }
    return OkStatus();
  }

  pubsub::NodeOptions Options() const {
    pubsub::NodeOptions o;
    if (flags_.seed) {
      o.key = std::make_shared<crypto::Ed25519PrivateKey>(
          *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(*flags_.seed))));
    }
    if (flags_.key) o.key = flags_.key;
    o.listen_addrs = flags_.listen;
    if (!flags_.allow_peers.empty() || !flags_.deny_peers.empty() || !flags_.allow_cidrs.empty() ||
        !flags_.deny_cidrs.empty()) {
      o.host.gater = access_list_.get();
    }
    o.host.swarm_key = flags_.swarm_key;
    if (filter_) o.pubsub.subscription_filter = filter_.get();
    o.host.muxers = {flags_.muxer == "mplex" ? std::string(stream::kMplexProtocolId)
                                             : std::string(stream::kYamuxProtocolId)};
    o.pubsub.sign_policy =
        flags_.sign == "none" ? pubsub::SignPolicy::kStrictNoSign : pubsub::SignPolicy::kStrictSign;
    if (flags_.validation_workers) o.pubsub.validation_workers = *flags_.validation_workers;
    const std::string msg_id = flags_.msg_id.value_or(flags_.sign == "none" ? "sha256" : "js");
    o.pubsub.message_id = msg_id == "go"   ? pubsub::MessageIdFn(pubsub::GoDefaultMessageId)
                          : msg_id == "js" ? pubsub::MessageIdFn(pubsub::JsDefaultMessageId)
                                           : pubsub::MessageIdFn(pubsub::Sha256MessageId);
    o.router = flags_.router == "floodsub" ? pubsub::RouterKind::kFloodSub : pubsub::RouterKind::kGossipSub;
    pubsub::gossipsub::GossipSubOptions& go = o.gossipsub;
    if (flags_.px) {
      // The node runs without scoring: with --px it trusts every peer's offers.
      go.do_px = true;
      go.thresholds.accept_px_threshold = 0;
    }
    if (flags_.gossipsub_params) {
      // The file's thresholds, when it has them, replace the ones --px set.
      const pubsub::gossipsub::GossipSubJsonConfig& c = flags_.gossipsub_params->config;
      go.params = c.params;
      go.px_connector = c.px_connector;
      if (c.score_params) go.score_params = c.score_params;
      if (c.thresholds) go.thresholds = *c.thresholds;
    }
    for (const Multiaddr& a : flags_.direct) {
      go.direct_peers[*crypto::PeerId::FromBytes(*a.PeerIdMultihash())].push_back(a);
    }

    pubsub::NodeEvents& ev = o.events;
    ev.on_connected = [](const stream::ConnectionInfo& c) { ConnectionEvent("connected", c).Emit(); };
    ev.on_disconnected = [](const stream::ConnectionInfo& c, const Status& why) {
      ConnectionEvent("disconnected", c).Str("reason", why.ToString()).Emit();
    };
    ev.on_identified = [](const crypto::PeerId& peer, const stream::IdentifyInfo& info) {
      Event("identified").Str("peer_id", peer.ToBase58()).Str("agent_version", info.agent_version)
          .StrList("protocols", info.protocols).Emit();
    };
    ev.on_peer_subscribed = [](const crypto::PeerId& peer, const std::string& topic, bool on) {
      Event("peer_subscribed").Str("peer_id", peer.ToBase58()).Str("topic", topic).Bool("subscribed", on).Emit();
    };
    ev.on_graft = [](const crypto::PeerId& peer, const std::string& topic) {
      Event("graft").Str("peer_id", peer.ToBase58()).Str("topic", topic).Emit();
    };
    ev.on_prune = [](const crypto::PeerId& peer, const std::string& topic) {
      Event("prune").Str("peer_id", peer.ToBase58()).Str("topic", topic).Emit();
    };
    return o;
  }

  // An inbound connection that failed before it was up, as an inbound_error event: at most
  // kInboundErrorsPerSecond a second, so that a flood cannot flood standard output; the first event after a
  // quiet spell counts the ones left out (`suppressed`), and the summary counts them all.
  void ReportInboundError(const Multiaddr& remote, const Status& why) {
    ++inbound_errors_;
    const MonoTime now = loop_->Now();
    if (now - inbound_window_start_ >= std::chrono::seconds(1)) {
      inbound_window_start_ = now;
      inbound_in_window_ = 0;
    }
    if (++inbound_in_window_ > kInboundErrorsPerSecond) {
      ++inbound_suppressed_;
      return;
    }
    Event("inbound_error").Str("addr", remote.ToString()).Str("error", why.ToString())
        .Num("suppressed", static_cast<double>(inbound_suppressed_)).Emit();
    inbound_suppressed_ = 0;
  }

  static Event ConnectionEvent(const char* name, const stream::ConnectionInfo& c) {
    Event e(name);
    e.Str("peer_id", c.peer.ToBase58())
        .Str("direction", c.inbound ? "inbound" : "outbound")
        .Str("security", c.security)
        .Str("muxer", c.muxer);
    return e;
  }

  // --ping: dial, then ping. A failure is reported and the node goes on.
  void Ping(const Multiaddr& addr) {
    const crypto::PeerId id = *crypto::PeerId::FromBytes(*addr.PeerIdMultihash());
    auto failed = [addr, id](const Status& s) {
      Event("ping_error").Str("peer_id", id.ToBase58()).Str("addr", addr.ToString()).Str("error", s.ToString()).Emit();
    };
    node_->host().Dial(addr, [this, id, failed](StatusOr<crypto::PeerId> peer) {
      if (!peer.ok()) return failed(peer.status());
      node_->host().Ping(id, [id, failed](StatusOr<Duration> rtt) {
        if (!rtt.ok()) return failed(rtt.status());
        Event("ping").Str("peer_id", id.ToBase58())
            .Num("rtt_ms", std::chrono::duration<double, std::milli>(*rtt).count()).Emit();
      });
    });
  }

  // --perf: dial, then one measurement; the node stops after its event.
  void Perf(const Multiaddr& addr) {
    const crypto::PeerId id = *crypto::PeerId::FromBytes(*addr.PeerIdMultihash());
    node_->host().Dial(addr, [this, id, addr](StatusOr<crypto::PeerId> peer) {
      if (!peer.ok()) return PerfFailed(addr, peer.status());
      const stream::PerfRequest request{.upload_bytes = flags_.perf_upload_bytes,
                                        .download_bytes = flags_.perf_download_bytes};
      perf_run_ = stream::PerfRun::Start(&node_->host(), id, request, {}, [this, id, addr](StatusOr<stream::PerfResult> r) {
        if (!r.ok()) return PerfFailed(addr, r.status());
        perf_done_ = true;
        auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
        // Megabytes (10^6 bytes) a second; 0 for a direction that moved nothing.
        auto mb_s = [](uint64_t bytes, Duration d) {
          const double s = std::chrono::duration<double>(d).count();
          return bytes == 0 || s <= 0 ? 0.0 : static_cast<double>(bytes) / 1e6 / s;
        };
        Event("perf").Str("peer_id", id.ToBase58())
            .Int("upload_bytes", static_cast<int64_t>(r->uploaded))
            .Int("download_bytes", static_cast<int64_t>(r->downloaded))
            .Num("upload_ms", ms(r->upload_time)).Num("download_ms", ms(r->download_time))
            .Num("total_ms", ms(r->total_time))
            .Num("upload_mb_s", mb_s(r->uploaded, r->upload_time))
            .Num("download_mb_s", mb_s(r->downloaded, r->download_time)).Emit();
        loop_->Stop();
      });
    });
  }

  void PerfFailed(const Multiaddr& addr, const Status& s) {
    perf_done_ = true;
    perf_failed_ = true;
    const crypto::PeerId id = *crypto::PeerId::FromBytes(*addr.PeerIdMultihash());
    Event("perf_error").Str("peer_id", id.ToBase58()).Str("addr", addr.ToString()).Str("error", s.ToString()).Emit();
    loop_->Stop();
  }

  void Report(const pubsub::Message& m) {
    ++received_;
    Event e("message");
    e.Str("topic", m.topic).Str("from", m.from ? m.from->ToBase58() : "");
    e.Str("seqno", HexEncode(AsBytes(m.seqno))).Str("id", HexEncode(AsBytes(m.id)));
    e.Int("size", static_cast<int64_t>(m.data.size()));
    if (m.data.size() <= 256 && IsUtf8(m.data)) e.Str("data", m.data);
    e.Emit();
  }

  Event Summary() {
    pubsub::PubSub& ps = node_->pubsub();
    Event summary("summary");
    summary.Int("published", published_).Int("received", received_)
        .Int("duplicates", static_cast<int64_t>(ps.stats().duplicates))
        .Int("peers", static_cast<int64_t>(node_->host().connected_peers().size()))
        .Int("inbound_errors", static_cast<int64_t>(inbound_errors_))
        .Int("subscriptions_filtered", static_cast<int64_t>(ps.stats().subscriptions_filtered));
    // Beyond the contract's fields: gossipsub's view, for tests and operators.
    if (auto* gs = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(ps.router())) {
      const auto& st = gs->stats();
      summary.Int("graft_received", static_cast<int64_t>(st.graft_received))
          .Int("prune_received", static_cast<int64_t>(st.prune_received))
          .Int("idontwant_sent", static_cast<int64_t>(st.idontwant_sent))
          .Int("idontwant_received", static_cast<int64_t>(st.idontwant_received))
          .Int("sends_skipped_idontwant", static_cast<int64_t>(st.sends_skipped_idontwant + st.sends_cancelled))
          .Int("meshsub_1_2_peers", static_cast<int64_t>(gs->PeersWithProtocol(pubsub::gossipsub::kMeshSubV12)))
          .Int("meshsub_1_3_peers", static_cast<int64_t>(gs->PeersWithProtocol(pubsub::gossipsub::kMeshSubV13)));
    }
    return summary;
  }

  // The event comes when the outcome is known: at once, or when the topic's validators have decided.
  void Publish(ByteSpan data) {
    const auto size = static_cast<int64_t>(data.size());
    pubsub::PublishResult r = node_->pubsub().Publish(publish_topic_, data,
                                               [this, size](const pubsub::PublishResult& later) { Report(later, size); });
    if (!r.pending) Report(r, size);
  }

  void Report(const pubsub::PublishResult& r, int64_t size) {
    if (!r.status.ok()) {
      Event("publish_error").Str("topic", publish_topic_).Str("error", r.status.ToString()).Emit();
      return;
    }
    ++published_;
    Event("published").Str("topic", publish_topic_).Str("seqno", SeqnoHex(r.seqno)).Str("id", HexEncode(AsBytes(r.id)))
        .Int("size", size).Emit();
  }

  // The next --publish-count payload.
  std::string NextPayload() {
    // Each payload differs, from those of other nodes too (the index, then the end of our peer id), so that
    // content ids (sha256) differ as well.
    if (payload_tag_.empty()) {
      const std::string self = node_->id().ToBase58();
      payload_tag_ = "-" + self.substr(self.size() - 8) + "-";
    }
    std::string payload = "msg-" + std::to_string(published_attempts_) + payload_tag_;
    payload.resize(static_cast<size_t>(flags_.publish_size), 'x');
    ++published_attempts_;
    return payload;
  }

  // --batch: the next (up to) N messages as one batch. A message refused is reported and left out; the
  // others go. Batches wait for no validator (PubSub::AddToBatch), so each event comes at once.
  void PublishBatch() {
    pubsub::PubSub& ps = node_->pubsub();
    pubsub::MessageBatch batch;
    std::vector<std::pair<pubsub::PublishResult, int64_t>> added;  // The event of each message in the batch.
    for (int64_t i = 0; i < flags_.batch && published_attempts_ < flags_.publish_count; ++i) {
      const std::string payload = NextPayload();
      pubsub::BatchAddResult a = ps.AddToBatch(&batch, publish_topic_, AsBytes(payload));
      pubsub::PublishResult r;
      r.status = a.status;
      r.id = a.id;
      r.seqno = a.seqno;
      if (!r.status.ok()) {
        Report(r, static_cast<int64_t>(payload.size()));
      } else if (!a.duplicate) {
        added.emplace_back(std::move(r), static_cast<int64_t>(payload.size()));
      }
    }
    ps.PublishBatch(std::move(batch));
    for (const auto& [r, size] : added) Report(r, size);
  }

  // The next --publish-count message, or batch with --batch.
  void PublishOne() {
    if (flags_.batch > 0) {
      PublishBatch();
    } else {
      Publish(AsBytes(NextPayload()));
    }
  }

  void PublishNext() {
    PublishOne();
    if (published_attempts_ < flags_.publish_count) {
      publish_timer_->Schedule(std::chrono::milliseconds(flags_.publish_interval_ms));
    }
  }

  void ReadStdin() {
    char buf[65536];
    const ssize_t n = ::read(0, buf, sizeof(buf));
    if (n <= 0) {
      stdin_watcher_.reset();
      if (!partial_line_.empty()) Publish(AsBytes(partial_line_));
      partial_line_.clear();
      if (flags_.duration_s == 0) loop_->Stop();
      return;
    }
    partial_line_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_line_.find('\n', start)) != std::string::npos; start = nl + 1) {
      Publish(AsBytes(std::string_view(partial_line_).substr(start, nl - start)));
    }
    partial_line_.erase(0, start);
  }

  static std::string SeqnoHex(uint64_t seqno) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(seqno));
    return buf;
  }

  int Fatal(const std::string& message) {
    Event("error").Str("message", message).Emit();
    return 1;
  }

  LibeventLoop* const loop_;
  const Flags flags_;
  // With the gater flags, and with --allowed-topic: observed by the node's host and pubsub, so they outlive
  // the node (declared before it).
  std::unique_ptr<stream::AccessList> access_list_ = std::make_unique<stream::AccessList>();
  std::unique_ptr<pubsub::AllowlistSubscriptionFilter> filter_;
  std::unique_ptr<metrics::Registry> registry_;  // With --metrics; outlives the node and the server.
  // With --trace-*: where the traces go (files are flushed as they are destroyed, after the node), and the
  // tracers writing to them; both outlive the node. remote_ is the remote tracer among the sinks.
  std::vector<std::unique_ptr<pubsub::trace::TraceSink>> trace_sinks_;
  std::vector<std::unique_ptr<pubsub::trace::TraceEventTracer>> tracers_;
  pubsub::trace::RemoteTracer* remote_ = nullptr;
  std::unique_ptr<pubsub::Node> node_;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_server_;
  // --perf-server's server and --perf's measurement; both observe the node's host.
  std::unique_ptr<stream::PerfServer> perf_server_;
  std::unique_ptr<stream::PerfRun> perf_run_;
  bool perf_done_ = false;
  bool perf_failed_ = false;
  std::vector<std::unique_ptr<pubsub::Subscription>> subscriptions_;
  std::string publish_topic_;
  std::unique_ptr<Timer> publish_timer_;
  std::unique_ptr<PacedPublisher> paced_;  // With --publish-interval-ms 0; observes the node's pubsub.
  std::unique_ptr<FdWatcher> stdin_watcher_;
  std::string partial_line_;
  std::string payload_tag_;  // "-<the end of our peer id>-", computed on the first publish.
  int64_t published_attempts_ = 0;
  int64_t published_ = 0;
  int64_t received_ = 0;
  static constexpr int kInboundErrorsPerSecond = 10;
  uint64_t inbound_errors_ = 0;
  uint64_t inbound_suppressed_ = 0;
  int inbound_in_window_ = 0;
  MonoTime inbound_window_start_{};
};

}  // namespace
}  // namespace libp2p::node

int main(int argc, char** argv) {
  using namespace libp2p;
  const node::Flags flags = node::ParseFlags(argc, argv);
  SetLogLevel(flags.log_level);
  if (::pipe2(node::g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  ::signal(SIGINT, node::OnSignal);
  ::signal(SIGTERM, node::OnSignal);
  ::signal(SIGPIPE, SIG_IGN);
  if (flags.params) {
    return node::RunInteropMode({.params_path = *flags.params,
                                 .node_id = flags.node_id,
                                 .base_port = flags.base_port,
                                 .start_time_ms = flags.start_time_ms,
                                 .duration_s = flags.duration_s,
                                 .muxer = flags.muxer,
                                 .signal_fd = node::g_signal_pipe[0]});
  }
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  if (!loop.ok()) {
    node::Event("error").Str("message", loop.status().ToString()).Emit();
    return 1;
  }
  return node::NodeProgram(loop->get(), flags).Run();
}
