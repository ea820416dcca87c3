// pubsub_node: one libp2p node that listens, dials, answers identify and ping, and reports what happens as
// NDJSON on standard output. Its flags and events are a contract: shared/docs/cli.md.
//
// Today: --listen, --dial, --seed, --muxer, --ping, --duration-s and the events started, connected,
// disconnected, identified, ping, error and summary. The pubsub flags arrive with the pubsub router.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/tcp_transport.h"
#include "libp2p/stream/yamux.h"
#include "tools/node/event_writer.h"

namespace libp2p::node {
namespace {

struct Flags {
  std::vector<Multiaddr> listen;
  std::vector<Multiaddr> dial;
  std::vector<Multiaddr> ping;
  std::optional<std::string> seed;
  std::string muxer = "yamux";
  int duration_s = 0;
};

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "pubsub_node: %s\n", message.c_str());
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
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
    } else if (flag == "--seed") {
      f.seed = value;
    } else if (flag == "--muxer") {
      if (value != "yamux" && value != "mplex") Usage("--muxer: must be yamux or mplex, not " + value);
      f.muxer = value;
    } else if (flag == "--duration-s") {
      char* end = nullptr;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || v < 0 || v > 365L * 24 * 3600) {
        Usage("--duration-s: not a number of seconds: " + value);
      }
      f.duration_s = static_cast<int>(v);
    } else if (flag == "--topic" || flag == "--router" || flag == "--sign" || flag.rfind("--publish-", 0) == 0 ||
               flag == "--stdin") {
      Usage(flag + ": pubsub is not available in this version yet");
    } else {
      Usage("unknown flag " + flag);
    }
  }
  return f;
}

int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

class Node {
 public:
  Node(LibeventLoop* loop, const Flags& flags, crypto::Ed25519PrivateKey key)
      : loop_(loop), flags_(flags), key_(std::move(key)), tcp_(loop),
        host_(loop, &tcp_, Options()) {}

  int Run() {
    host_.AddEvents(stream::Host::Events{
        [this](const stream::ConnectionInfo& c) {
          Event("connected")
              .Str("peer_id", c.peer.ToBase58())
              .Str("direction", c.inbound ? "inbound" : "outbound")
              .Str("security", c.security)
              .Str("muxer", c.muxer)
              .Emit();
        },
        [](const crypto::PeerId& peer, const stream::IdentifyInfo& info) {
          Event("identified")
              .Str("peer_id", peer.ToBase58())
              .Str("agent_version", info.agent_version)
              .StrList("protocols", info.protocols)
              .Emit();
        },
        [](const stream::ConnectionInfo& c, const Status& why) {
          Event("disconnected")
              .Str("peer_id", c.peer.ToBase58())
              .Str("direction", c.inbound ? "inbound" : "outbound")
              .Str("security", c.security)
              .Str("muxer", c.muxer)
              .Str("reason", why.ToString())
              .Emit();
        }});
    for (const Multiaddr& a : flags_.listen) {
      if (Status s = host_.Listen(a); !s.ok()) return Fatal("listen on " + a.ToString() + ": " + s.ToString());
    }
    std::vector<std::string> addrs;
    for (const Multiaddr& a : host_.listen_addrs()) addrs.push_back(a.ToString() + "/p2p/" + host_.peer_id().ToBase58());
    Event("started").Str("peer_id", host_.peer_id().ToBase58()).StrList("listen_addrs", addrs)
        .StrList("protocols", host_.protocols()).Emit();

    for (const Multiaddr& a : flags_.dial) {
      host_.Dial(a, [a](StatusOr<crypto::PeerId> peer) {
        if (!peer.ok()) Event("error").Str("message", "dial " + a.ToString() + ": " + peer.status().ToString()).Emit();
      });
    }
    for (const Multiaddr& a : flags_.ping) {
      host_.Dial(a, [this, a](StatusOr<crypto::PeerId> peer) {
        if (!peer.ok()) {
          Event("error").Str("message", "ping " + a.ToString() + ": " + peer.status().ToString()).Emit();
          return;
        }
        const crypto::PeerId id = *peer;
        host_.Ping(id, [id](StatusOr<Duration> rtt) {
          if (!rtt.ok()) {
            Event("error").Str("message", "ping " + id.ToBase58() + ": " + rtt.status().ToString()).Emit();
            return;
          }
          Event("ping").Str("peer_id", id.ToBase58())
              .Num("rtt_ms", std::chrono::duration<double, std::milli>(*rtt).count()).Emit();
        });
      });
    }

    auto stop = loop_->CreateTimer([this] { loop_->Stop(); });
    if (flags_.duration_s > 0) stop->Schedule(std::chrono::seconds(flags_.duration_s));
    auto signals = loop_->WatchFd(g_signal_pipe[0], kFdReadable, [this](uint32_t) { loop_->Stop(); });
    loop_->Run();
    Event("summary").Int("published", 0).Int("received", 0).Int("duplicates", 0)
        .Int("peers", static_cast<int64_t>(host_.connected_peers().size())).Emit();
    return 0;
  }

 private:
  stream::HostOptions Options() {
    stream::HostOptions o;
    o.identity = &key_;
    o.muxers = {flags_.muxer == "mplex" ? std::string(stream::kMplexProtocolId) : std::string(stream::kYamuxProtocolId)};
    return o;
  }

  int Fatal(const std::string& message) {
    Event("error").Str("message", message).Emit();
    return 1;
  }

  LibeventLoop* const loop_;
  const Flags flags_;
  const crypto::Ed25519PrivateKey key_;
  stream::TcpTransport tcp_;
  stream::Host host_;
};

}  // namespace
}  // namespace libp2p::node

int main(int argc, char** argv) {
  using namespace libp2p;
  const node::Flags flags = node::ParseFlags(argc, argv);
  std::optional<crypto::Ed25519PrivateKey> key;
  if (flags.seed) {
    key.emplace(*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(*flags.seed))));
  } else {
    key.emplace(crypto::Ed25519PrivateKey::Generate());
  }
  if (::pipe2(node::g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  ::signal(SIGINT, node::OnSignal);
  ::signal(SIGTERM, node::OnSignal);
  ::signal(SIGPIPE, SIG_IGN);
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  if (!loop.ok()) {
    node::Event("error").Str("message", loop.status().ToString()).Emit();
    return 1;
  }
  node::Node n(loop->get(), flags, std::move(*key));
  return n.Run();
}
