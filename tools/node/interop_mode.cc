#include "tools/node/interop_mode.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/gossipsub/extensions.h"
#include "libp2p/pubsub/node.h"
#include "libp2p/stream/mplex.h"
#include "libp2p/stream/yamux.h"
#include "tools/node/event_writer.h"
#include "tools/node/flags.h"
#include "tools/node/interop_partial.h"
#include "tools/node/interop_script.h"

namespace libp2p::node {
namespace {

using crypto::PeerId;
using SystemTime = std::chrono::system_clock::time_point;

// How long a connect instruction keeps dialing a node that does not listen yet, and how often.
constexpr Duration kConnectPatience = std::chrono::seconds(30);
constexpr Duration kConnectRetry = std::chrono::milliseconds(200);

[[noreturn]] void Usage(const std::string& message) { tools::FlagError("pubsub_node", message); }

// RFC 3339 in UTC with milliseconds, one width for every line (the harness orders lines by this text).
std::string Rfc3339(SystemTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

// One line of the harness's log: {"time": ..., "msg": ..., fields...}, compact, flushed.
void Log(const std::string& msg, const std::function<void(std::string*)>& fields = {}) {
  std::string line = "{\"time\":";
  AppendJsonString(Rfc3339(std::chrono::system_clock::now()), &line);
  line += ",\"msg\":";
  AppendJsonString(msg, &line);
  if (fields) fields(&line);
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Field(std::string* line, const char* key, const std::string& value) {
  *line += ",";
  AppendJsonString(key, line);
  *line += ":";
  AppendJsonString(value, line);
}

// "Received Message" for every copy in every RPC, as it arrives (before dedup and validation).
class ReceivedMessageLog : public pubsub::RpcObserver {
 public:
  void OnReceive(const PeerId& peer, pubsub::pb::RPC* rpc) override {
    for (const pubsub::pb::Message& m : rpc->publish()) {
      const std::optional<uint64_t> id = InteropMessageId(m.data());
      if (!id) continue;
      Log("Received Message", [&](std::string* line) {
        Field(line, "id", std::to_string(*id));
        Field(line, "from", peer.ToBase58());
        Field(line, "topic", m.topic());
      });
    }
  }
  bool ObservesSends() const override { return false; }
};

// "Send RPC" and "Received RPC" for the RPCs that carry v1.3's extensions, the test extension's message or a
// partial message (what test-plans' extension checks read: its `rpc` field names them), with the peer.
class ExtensionRpcLog : public pubsub::RpcObserver {
 public:
  explicit ExtensionRpcLog(const pubsub::gossipsub::ExtensionOptions& options) : options_(options) {}
  void OnReceive(const PeerId& peer, pubsub::pb::RPC* rpc) override { Write("Received RPC", "from", peer, *rpc); }
  void OnSend(const PeerId& peer, pubsub::pb::RPC* rpc) override { Write("Send RPC", "to", peer, *rpc); }

 private:
  void Write(const char* msg, const char* direction, const PeerId& peer, const pubsub::pb::RPC& rpc) {
    const bool extensions = pubsub::gossipsub::HasExtensions(rpc);
    const bool test = pubsub::gossipsub::HasTestExtensionMessage(rpc, options_);
    if (!extensions && !test && !rpc.has_partial()) return;
    Log(msg, [&](std::string* line) {
      Field(line, direction, peer.ToBase58());
      *line += ",\"rpc\":{";
      const char* comma = "";
      if (extensions) {
        const pubsub::gossipsub::PeerExtensions e = pubsub::gossipsub::ReadExtensions(rpc, options_);
        *line += std::string("\"control\":{\"extensions\":{\"partialMessages\":") +
                 (e.partial_messages ? "true" : "false") + ",\"testExtension\":" + (e.test_extension ? "true" : "false") +
                 "}}";
        comma = ",";
      }
      if (test) {
        *line += std::string(comma) + "\"testExtension\":{}";
        comma = ",";
      }
      if (rpc.has_partial()) {
        const auto& p = rpc.partial();
        *line += std::string(comma) + "\"partial\":{\"topicID\":";
        AppendJsonString(p.topicid(), line);
        *line += ",\"groupID\":" + std::to_string(InteropGroupNumber(p.groupid()).value_or(0)) +
                 ",\"partialMessageBytes\":" + std::to_string(p.partialmessage().size()) +
                 ",\"partsMetadataBytes\":" + std::to_string(p.partsmetadata().size()) + "}";
      }
      *line += "}";
    });
  }

  const pubsub::gossipsub::ExtensionOptions options_;
};

class InteropRun {
 public:
  InteropRun(LibeventLoop* loop, const InteropModeOptions& options, uint64_t node_id, InteropScript script)
      : loop_(loop), options_(options), node_id_(node_id), script_(std::move(script)),
        start_(options.start_time_ms ? SystemTime(std::chrono::milliseconds(*options.start_time_ms))
                                     : std::chrono::system_clock::now()),
        wait_(loop->CreateTimer([this] { Step(); })),
        partial_app_([](const std::string&, uint64_t group) {
          Log("All parts received", [&](std::string* line) { *line += ",\"group id\":" + std::to_string(group); });
        }),
        rpc_log_(ExtensionOptionsOfRun()) {}

  // Every node of the harness speaks the test extension and partial messages, as the go reference does.
  static pubsub::gossipsub::ExtensionOptions ExtensionOptionsOfRun() {
    pubsub::gossipsub::ExtensionOptions o;
    o.test_extension = true;
    return o;
  }

  int Run() {
    for (const std::string& w : script_.gossipsub.warnings) {
      std::fprintf(stderr, "pubsub_node: warning: --params: %s\n", w.c_str());
    }
    pubsub::NodeOptions o;
    o.key = std::make_shared<crypto::Ed25519PrivateKey>(InteropNodeKey(node_id_));
    o.listen_addrs = {*Multiaddr::FromString(options_.base_port ? "/ip4/127.0.0.1/tcp/" +
                                                                     std::to_string(*options_.base_port + node_id_)
                                                               : std::string("/ip4/0.0.0.0/tcp/9000"))};
    o.host.muxers = {options_.muxer == "mplex" ? std::string(stream::kMplexProtocolId)
                                               : std::string(stream::kYamuxProtocolId)};
    // The harness's pubsub: anonymous messages, ids their first 8 bytes, up to 10 MiB.
    o.pubsub.sign_policy = pubsub::SignPolicy::kStrictNoSign;
    o.pubsub.message_id = [](const pubsub::pb::Message& m) { return m.data().substr(0, 8); };
    o.pubsub.peer.limits.max_rpc_size = kMaxInteropMessageSize + 64 * 1024;
    o.pubsub.rpc_observers = {&received_log_, &rpc_log_};
    const pubsub::gossipsub::GossipSubJsonConfig& c = script_.gossipsub.config;
    o.gossipsub.params = c.params;
    o.gossipsub.px_connector = c.px_connector;
    if (c.score_params) o.gossipsub.score_params = c.score_params;
    if (c.thresholds) o.gossipsub.thresholds = *c.thresholds;
    o.gossipsub.extensions = ExtensionOptionsOfRun();
    o.gossipsub.partial_messages = pubsub::gossipsub::PartialMessagesOptions{};
    o.gossipsub.partial_messages->handler = &partial_app_;
    StatusOr<std::unique_ptr<pubsub::Node>> node = pubsub::Node::Create(std::move(o), loop_);
    if (!node.ok()) Usage("--params: " + node.status().message());
    node_ = std::move(node).value();
    if (Status s = node_->Start(); !s.ok()) {
      std::fprintf(stderr, "pubsub_node: %s\n", s.ToString().c_str());
      return 1;
    }
    // The loop has not run yet: no RPC reached the router before the app knows it.
    router_ = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(node_->pubsub().router());
    partial_app_.SetRouter(router_);
    Log("PeerID", [&](std::string* line) {
      Field(line, "id", node_->id().ToBase58());
      *line += ",\"node_id\":" + std::to_string(node_id_);
    });
    Step();
    auto stop = loop_->CreateTimer([this] { loop_->Stop(); });
    if (options_.duration_s > 0) stop->Schedule(std::chrono::seconds(options_.duration_s));
    auto signals = loop_->WatchFd(options_.signal_fd, kFdReadable, [this](uint32_t) { loop_->Stop(); });
    loop_->Run();
    subscriptions_.clear();
    retries_.clear();
    node_->Stop();
    return 0;
  }

 private:
  // Runs the steps until a waitUntil that is not due yet, or the end.
  void Step() {
    while (next_ < script_.steps.size()) {
      const ScriptStep& step = script_.steps[next_];
      if (step.kind == ScriptStep::Kind::kWaitUntil) {
        const auto due = start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(step.elapsed);
        const auto now = std::chrono::system_clock::now();
        if (due > now) {
          wait_->Schedule(std::chrono::duration_cast<Duration>(due - now));
          return;  // Step() again when it is due.
        }
        ++next_;
        continue;
      }
      ++next_;
      Do(step);
    }
  }

  void Do(const ScriptStep& step) {
    switch (step.kind) {
      case ScriptStep::Kind::kConnect:
        for (uint64_t peer : step.connect_to) Connect(peer, std::chrono::steady_clock::now() + kConnectPatience);
        return;
      case ScriptStep::Kind::kSubscribe: {
        if (step.partial) {
          // Before subscribing: the flags travel in the SUBSCRIBE.
          if (Status s = router_->SetPartialTopic(step.topic, {true, true}); !s.ok()) {
            return Warn("subscribe " + step.topic + ": " + s.ToString());
          }
        }
        StatusOr<std::shared_ptr<pubsub::Topic>> topic = node_->Join(step.topic);
        if (!topic.ok()) return Warn("subscribe " + step.topic + ": " + topic.status().ToString());
        subscriptions_.push_back((*topic)->Subscribe({.on_message = [](const pubsub::Message&) {}}));
        return;
      }
      case ScriptStep::Kind::kPublish: {
        const std::string topic = step.topic;
        const uint64_t id = step.message_id;
        auto report = [topic, id](const pubsub::PublishResult& r) {
          if (!r.status.ok()) Warn("publish " + std::to_string(id) + " to " + topic + ": " + r.status.ToString());
        };
        pubsub::PublishResult r = node_->pubsub().Publish(topic, InteropPayload(id, step.message_size), report);
        if (!r.pending) report(r);
        return;
      }
      case ScriptStep::Kind::kSetTopicValidationDelay:
        AddValidationDelay(step.topic, step.delay);
        return;
      case ScriptStep::Kind::kAddPartialMessage:
        partial_app_.Add(step.topic, step.group_id, step.parts);
        return;
      case ScriptStep::Kind::kPublishPartial: {
        std::vector<PeerId> to;
        for (uint64_t n : step.publish_to) to.push_back(PeerId::FromPublicKey(InteropNodeKey(n).public_key()));
        StatusOr<size_t> sent = partial_app_.Publish(step.topic, step.group_id, to);
        if (!sent.ok()) Warn("publishPartial " + std::to_string(step.group_id) + ": " + sent.status().ToString());
        return;
      }
      case ScriptStep::Kind::kWaitUntil:
        return;  // Step() handles it.
    }
  }

  // Node `peer`'s address: 127.0.0.1:base+peer in the local mode (kOutOfRange past port 65535), else
  // node<peer>:9000 by name.
  StatusOr<Multiaddr> AddressOf(uint64_t peer) const {
    const std::string id = PeerId::FromPublicKey(InteropNodeKey(peer).public_key()).ToBase58();
    if (options_.base_port) {
      const uint64_t port = static_cast<uint64_t>(*options_.base_port) + peer;
      if (port > 65535) return OutOfRangeError("node" + std::to_string(peer) + "'s port " + std::to_string(port));
      return Multiaddr::FromString("/ip4/127.0.0.1/tcp/" + std::to_string(port) + "/p2p/" + id);
    }
    return Multiaddr::FromString("/dns4/node" + std::to_string(peer) + "/tcp/9000/p2p/" + id);
  }

  // Dials `peer`, again every kConnectRetry while it does not answer, until `deadline`.
  void Connect(uint64_t peer, std::chrono::steady_clock::time_point deadline) {
    StatusOr<Multiaddr> addr = AddressOf(peer);
    if (!addr.ok()) return Warn("connect to node" + std::to_string(peer) + ": " + addr.status().ToString());
    node_->host().Dial(*addr, [this, peer, deadline](StatusOr<PeerId> r) {
      if (r.ok()) return;
      if (std::chrono::steady_clock::now() >= deadline) {
        return Warn("connect to node" + std::to_string(peer) + ": " + r.status().ToString());
      }
      auto timer = loop_->CreateTimer([this, peer, deadline] { Connect(peer, deadline); });
      timer->Schedule(kConnectRetry);
      retries_.push_back(std::move(timer));
    });
  }

  // A validator that accepts each message of `topic` after `delay` (the harness's model of validation cost).
  void AddValidationDelay(const std::string& topic, Duration delay) {
    auto queue = std::make_shared<DelayQueue>();
    queue->timer = loop_->CreateTimer([queue] { queue->Release(); });
    delay_queues_.push_back(queue);
    node_->AddValidator(topic, [queue, delay](const pubsub::pb::Message&, std::function<void(pubsub::ValidationResult)> done) {
      queue->Add(std::chrono::steady_clock::now() + delay, std::move(done));
    });
  }

  // Decisions due in order (one delay per topic, so arrival order is due order).
  struct DelayQueue {
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::function<void(pubsub::ValidationResult)>>> pending;
    std::unique_ptr<Timer> timer;
    void Add(std::chrono::steady_clock::time_point due, std::function<void(pubsub::ValidationResult)> done) {
      pending.emplace_back(due, std::move(done));
      if (!timer->IsScheduled()) Arm();
    }
    void Release() {
      const auto now = std::chrono::steady_clock::now();
      while (!pending.empty() && pending.front().first <= now) {
        auto done = std::move(pending.front().second);
        pending.pop_front();
        done(pubsub::ValidationResult::kAccept);
      }
      if (!pending.empty()) Arm();
    }
    void Arm() {
      timer->Schedule(std::max(Duration::zero(), std::chrono::duration_cast<Duration>(
                                                     pending.front().first - std::chrono::steady_clock::now())));
    }
  };

  static void Warn(const std::string& message) { std::fprintf(stderr, "pubsub_node: %s\n", message.c_str()); }

  LibeventLoop* const loop_;
  const InteropModeOptions options_;
  const uint64_t node_id_;
  const InteropScript script_;
  const SystemTime start_;
  ReceivedMessageLog received_log_;
  InteropPartialApp partial_app_;
  ExtensionRpcLog rpc_log_;
  std::unique_ptr<pubsub::Node> node_;
  pubsub::gossipsub::GossipSubRouter* router_ = nullptr;  // The node's; set once it started.
  std::unique_ptr<Timer> wait_;
  size_t next_ = 0;
  std::vector<std::unique_ptr<pubsub::Subscription>> subscriptions_;
  std::vector<std::unique_ptr<Timer>> retries_;
  std::vector<std::shared_ptr<DelayQueue>> delay_queues_;
};

// node<N> from the hostname, as the harness names its hosts.
std::optional<uint64_t> NodeIdFromHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return std::nullopt;
  unsigned long long id = 0;
  char rest = 0;
  if (std::sscanf(name, "node%llu%c", &id, &rest) != 1) return std::nullopt;
  return id;
}

}  // namespace

int RunInteropMode(const InteropModeOptions& options) {
  const std::optional<uint64_t> node_id = options.node_id ? options.node_id : NodeIdFromHostname();
  if (!node_id) Usage("--params: no --node-id, and the hostname is not node<N>");
  if (options.base_port && static_cast<uint64_t>(*options.base_port) + *node_id > 65535) {
    Usage("--base-port: the node's port (base + node id) is beyond 65535");
  }
  StatusOr<InteropScript> script = ReadInteropScript(options.params_path, *node_id);
  if (!script.ok()) Usage("--params: " + script.status().message());
  StatusOr<std::unique_ptr<LibeventLoop>> loop = LibeventLoop::Create();
  if (!loop.ok()) {
    std::fprintf(stderr, "pubsub_node: %s\n", loop.status().ToString().c_str());
    return 1;
  }
  InteropRun run(loop->get(), options, *node_id, std::move(script).value());
  return run.Run();
}

}  // namespace libp2p::node
