// pubsub_attacks: known attacks on a gossipsub node, run against a real node process over loopback TCP
// (Noise, yamux). Measures, per attack, whether the node still delivers every honest message and how far its
// memory grows: its peak RSS (VmHWM) against a bound of its idle RSS plus its caches' documented caps plus
// 64 MiB.
//
// Each attack gets a fresh victim: the pubsub_node program (--router gossipsub, its default options, subscribed
// to one topic). An honest publisher, a second pubsub_node fed through --stdin, connects and joins the topic;
// once the victim has grafted it and delivered a warm-up message, the victim's VmRSS is its idle RSS. Then the
// hostile peer (this process: our host, Noise and yamux, writing varint-framed RPCs by hand on a
// /meshsub/1.2.0 stream, as fast as the victim takes them) floods the victim while the publisher publishes
// --honest messages. The flood stops once it has sent its volume (scaled by --scale) and every honest
// message is published, or after --max-attack-s; the victim then has 15 s to deliver what it still owes.
// Delivery is read from the victim's `message` events (docs/cli.md), the peak from /proc/<pid>/status.
//
// The attacks (--attack NAME, or all, each in turn):
//   subscriptions       1,000,000 topic subscriptions, 1,000 per RPC
//   graft               1,000,000 GRAFTs for topics the victim is not in, 1,000 per RPC
//   prune               1,000,000 PRUNEs with backoff 2^64-1 and 2^63 (the topic's among made-up ones), each
//                       RPC opening with a GRAFT for the victim's topic
//   ihave               1,000,000 made-up message ids in IHAVEs (the victim's topic and made-up ones)
//   iwant               1,000,000 ids in IWANTs: the honest messages' ids, asked for again and again, and
//                       made-up ones
//   idontwant           1,000,000 made-up ids in IDONTWANTs
//   invalid-signatures  messages of --message-size bytes with bad signatures, half of them claiming the
//                       honest publisher as author with the seqnos it is about to use
//   oversized           frames announcing 2 MiB (sent in full) or 4 GiB, over the 1 MiB RPC limit; the stream
//                       is reopened whenever the victim resets it
//   promises            IHAVEs for the victim's topic with ids never served: the honest publisher's coming
//                       ids, and made-up ones (the victim's IWANT promises go unkept)
//   duplicates          16 valid signed messages of --message-size bytes, sent over and over
//   many-peers          --peers peers (from 127.0.0.2, 127.0.0.3, ...: each dial bound to its own source
//                       address), each in the topic's mesh, publishing valid messages of --message-size
//   never-reads         a peer joins the mesh and stops reading its socket while a second peer publishes
//                       valid messages of --message-size bytes, which the victim forwards to both
//
// The bound: idle RSS + the seen cache's cap (PubSubOptions::seen_max_entries entries of about 84 bytes,
// pubsub.h) + the message cache's (MessageCache::kDefaultMaxBytes of messages plus at most a quarter of it
// in spare chunks, message_cache.h) + 64 MiB, from the library's defaults, which the node uses. Exit 1 when
// any attack exceeds its bound or loses an honest message (or cannot be run), 2 on bad flags.
//
//   bazel run -c opt //tools/bench:pubsub_attacks -- [--attack NAME|all] [--scale X] [--honest N]
//       [--honest-interval-ms MS] [--honest-size BYTES] [--message-size BYTES] [--peers N]
//       [--max-attack-s S] [--node PATH] [--verbose]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/message.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"
#include "tools/node/flags.h"

using namespace libp2p;

namespace {

constexpr char kTopic[] = "bench";
constexpr size_t kMiB = 1024 * 1024;
// pubsub.h: a seen-cache entry costs about 84 bytes.
constexpr size_t kSeenEntryBytes = 84;

const std::vector<std::string>& AttackNames() {
  static const std::vector<std::string> names = {
      "subscriptions", "graft",  "prune",    "ihave",      "iwant",     "idontwant",  "invalid-signatures",
      "oversized",     "promises", "duplicates", "many-peers", "never-reads"};
  return names;
}

struct Config {
  std::string node;  // The pubsub_node binary.
  std::vector<std::string> attacks;
  double scale = 1.0;
  int honest = 50;
  int honest_interval_ms = 50;
  size_t honest_size = 1024;
  size_t message_size = 64 * 1024;
  int peers = 100;
  int max_attack_s = 20;
  bool verbose = false;
};

[[noreturn]] void Usage(const std::string& message) { tools::FlagError("pubsub_attacks", message); }

int64_t Number(const std::string& flag, const std::string& value, int64_t min, int64_t max) {
  return tools::WholeNumberFlag("pubsub_attacks", flag, value, min, max);
}

bool IsExecutable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

// The node program from our runfiles (bazel run, or the binary run from bazel-bin), else from bazel-bin.
std::string DefaultNodePath(const char* argv0) {
  std::vector<std::string> candidates;
  if (const char* dir = std::getenv("RUNFILES_DIR")) candidates.push_back(std::string(dir) + "/libp2p_pubsub/tools/pubsub_node");
  candidates.push_back(std::string(argv0) + ".runfiles/libp2p_pubsub/tools/pubsub_node");
  candidates.push_back("tools/pubsub_node");
  candidates.push_back("bazel-bin/tools/pubsub_node");
  for (const std::string& c : candidates) {
    if (IsExecutable(c)) return c;
  }
  return "";
}

Config ParseFlags(int argc, char** argv) {
  Config cfg;
  std::string attack = "all";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--verbose") {  // The nodes' standard error on ours.
      cfg.verbose = true;
      continue;
    }
    if (flag == "--help") {
      std::printf(
          "pubsub_attacks [--attack NAME|all] [--scale X] [--honest N] [--honest-interval-ms MS]\n"
          "               [--honest-size BYTES] [--message-size BYTES] [--peers N] [--max-attack-s S]\n"
          "               [--node PATH] [--verbose]\n"
          "Runs gossipsub attacks against a pubsub_node over loopback TCP; see tools/bench/pubsub_attacks.cc.\n");
      std::exit(0);
    }
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--attack") {
      attack = value;
    } else if (flag == "--scale") {
      char* end = nullptr;
      cfg.scale = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(cfg.scale > 0 && cfg.scale <= 100)) {
        Usage("--scale: expected a number above 0 and at most 100, got '" + value + "'");
      }
    } else if (flag == "--honest") {
      cfg.honest = static_cast<int>(Number(flag, value, 1, 100000));
    } else if (flag == "--honest-interval-ms") {
      cfg.honest_interval_ms = static_cast<int>(Number(flag, value, 1, 10000));
    } else if (flag == "--honest-size") {
      cfg.honest_size = static_cast<size_t>(Number(flag, value, 32, 60000));
    } else if (flag == "--message-size") {
      cfg.message_size = static_cast<size_t>(Number(flag, value, 16, 64 * 1024));
    } else if (flag == "--peers") {
      cfg.peers = static_cast<int>(Number(flag, value, 1, 250));
    } else if (flag == "--max-attack-s") {
      cfg.max_attack_s = static_cast<int>(Number(flag, value, 1, 3600));
    } else if (flag == "--node") {
      cfg.node = value;
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (attack == "all") {
    cfg.attacks = AttackNames();
  } else if (std::find(AttackNames().begin(), AttackNames().end(), attack) != AttackNames().end()) {
    cfg.attacks = {attack};
  } else {
    std::string all;
    for (const std::string& n : AttackNames()) all += " " + n;
    Usage("--attack: must be all or one of" + all + ", not " + attack);
  }
  if (cfg.node.empty()) cfg.node = DefaultNodePath(argv[0]);
  if (!IsExecutable(cfg.node)) {
    Usage("--node: no executable pubsub_node" + (cfg.node.empty() ? std::string(" found; give its path") : " at " + cfg.node));
  }
  return cfg;
}

// --- Waiting on the loop, always with a deadline. ---

// Runs the loop until `done` holds (checked every 5 ms) or `limit` passes; whether `done` held.
bool RunUntil(LibeventLoop* loop, const std::function<bool()>& done, Duration limit) {
  return loop->RunUntil(done, limit, std::chrono::milliseconds(5));
}

// --- The node processes. ---

// The value of "key":"value" (or "key":number) in one NDJSON line of the node; empty when absent. The
// fields read here (ids, addresses, hex, event names) never contain escapes.
std::string Field(std::string_view line, std::string_view key) {
  const std::string pattern = "\"" + std::string(key) + "\":";
  const size_t at = line.find(pattern);
  if (at == std::string_view::npos) return "";
  size_t begin = at + pattern.size();
  if (begin < line.size() && line[begin] == '[') ++begin;  // A list: its first element.
  if (begin < line.size() && line[begin] == '"') {
    const size_t end = line.find('"', begin + 1);
    return end == std::string_view::npos ? "" : std::string(line.substr(begin + 1, end - begin - 1));
  }
  const size_t end = line.find_first_of(",}", begin);
  return std::string(line.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
}

// A pubsub_node child: its stdout read line by line on the loop, its stdin (when asked for) written by us.
class NodeProcess {
 public:
  ~NodeProcess() { Stop(); }

  // Starts `path args...`; false with `error` set when it cannot.
  bool Start(const std::string& path, const std::vector<std::string>& args, bool with_stdin, bool verbose,
             std::string* error) {
    int out[2], in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || (with_stdin && ::pipe2(in, O_CLOEXEC) != 0)) {
      *error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    ::fcntl(out[0], F_SETPIPE_SZ, 1 << 20);  // Room for bursts of events while we are busy; best effort.
    pid_ = ::fork();
    if (pid_ < 0) {
      *error = std::string("fork: ") + std::strerror(errno);
      return false;
    }
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      if (with_stdin) ::dup2(in[0], 0);
      if (!verbose) {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, 2);
      }
      std::vector<char*> argv{const_cast<char*>(path.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      _exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    if (with_stdin) {
      ::close(in[0]);
      in_ = in[1];
      ::fcntl(in_, F_SETFL, O_NONBLOCK);
    }
    return true;
  }

  // Delivers each line of its stdout to `on_line` from `loop` until end of file.
  void Watch(LibeventLoop* loop, std::function<void(std::string_view)> on_line) {
    on_line_ = std::move(on_line);
    watcher_ = loop->WatchFd(out_, kFdReadable, [this](uint32_t) { Read(); });
  }

  // Writes a line to its stdin; false when the pipe does not take it whole at once (the node is not reading).
  bool WriteLine(const std::string& line) {
    const std::string data = line + "\n";
    return in_ >= 0 && ::write(in_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }

  // Whether it has exited (reaped here).
  bool Exited() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }

  // Peak and current resident set (VmHWM, VmRSS) in bytes; 0 when unreadable.
  size_t MemoryField(const char* field) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    const std::string prefix = std::string(field) + ":";
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) == 0) return std::strtoull(line.c_str() + prefix.size(), nullptr, 10) * 1024;
    }
    return 0;
  }

  // SIGTERM, 5 s to exit, then SIGKILL; what it wrote until then (its summary event) still goes to the
  // line handler.
  void Stop() {
    watcher_.reset();
    if (in_ >= 0) ::close(in_);
    in_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 500 && !Exited(); ++i) {
        Read();  // So that it never blocks on a full pipe while exiting.
        ::usleep(10000);
      }
      if (!Exited()) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        pid_ = -1;
      }
    }
    if (out_ >= 0) {
      Read();
      ::close(out_);
    }
    out_ = -1;
  }

  pid_t pid() const { return pid_; }

 private:
  void Read() {
    char buf[65536];
    while (true) {
      const ssize_t n = ::read(out_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) watcher_.reset();  // End of file.
        return;
      }
      if (!on_line_) continue;
      partial_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
        on_line_(std::string_view(partial_).substr(start, nl - start));
      }
      partial_.erase(0, start);
    }
  }

  pid_t pid_ = -1;
  int status_ = 0;
  int out_ = -1;
  int in_ = -1;
  std::string partial_;
  std::function<void(std::string_view)> on_line_;
  std::unique_ptr<FdWatcher> watcher_;
};

// --- Hostile peers. ---

// A TCP connection that can be made to stop reading for good (Freeze): the layers above may pause and
// resume it, but once frozen it stays paused, so the remote's writes pile up in its own buffers.
class FreezableConnection final : public stream::RawConnection {
 public:
  FreezableConnection(std::unique_ptr<stream::RawConnection> inner,
                      std::shared_ptr<std::set<FreezableConnection*>> live)
      : inner_(std::move(inner)), live_(std::move(live)) {
    live_->insert(this);
  }
  ~FreezableConnection() override { live_->erase(this); }
  void Freeze() {
    frozen_ = true;
    inner_->PauseReading(true);
  }
  void SetHandlers(Handlers handlers) override { inner_->SetHandlers(std::move(handlers)); }
  Status Write(ByteSpan data) override { return inner_->Write(data); }
  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  bool write_blocked() const override { return inner_->write_blocked(); }
  void PauseReading(bool paused) override { inner_->PauseReading(paused || frozen_); }
  void Unread(ByteSpan data) override { inner_->Unread(data); }
  void CloseWrite() override { inner_->CloseWrite(); }
  void Reset() override { inner_->Reset(); }
  const Multiaddr& local_addr() const override { return inner_->local_addr(); }
  const Multiaddr& remote_addr() const override { return inner_->remote_addr(); }

 private:
  const std::unique_ptr<stream::RawConnection> inner_;
  const std::shared_ptr<std::set<FreezableConnection*>> live_;  // May outlive the transport.
  bool frozen_ = false;
};

// TCP dials (from `source`, when not empty) whose connections can be frozen.
class FreezableTransport final : public stream::Transport {
 public:
  FreezableTransport(EventLoop* loop, const Multiaddr& source)
      : tcp_(loop, [&] {
          stream::TcpTransportOptions o;
          o.dial_source = source;
          return o;
        }()) {}
  bool CanDial(const Multiaddr& addr) const override { return tcp_.CanDial(addr); }
  StatusOr<std::unique_ptr<stream::Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) override {
    return tcp_.Listen(addr, std::move(on_accept));
  }
  std::unique_ptr<stream::PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) override {
    return tcp_.Dial(addr, [this, on_done = std::move(on_done)](StatusOr<std::unique_ptr<stream::RawConnection>> c) {
      if (!c.ok()) return on_done(c.status());
      on_done(std::unique_ptr<stream::RawConnection>(std::make_unique<FreezableConnection>(std::move(*c), live_)));
    });
  }
  void FreezeAll() {
    for (FreezableConnection* c : *live_) c->Freeze();
  }

 private:
  stream::TcpTransport tcp_;
  std::shared_ptr<std::set<FreezableConnection*>> live_ = std::make_shared<std::set<FreezableConnection*>>();
};

void AppendFrame(const pubsub::pb::RPC& rpc, std::string* out) {
  const std::string encoded = rpc.SerializeAsString();
  AppendUvarint(encoded.size(), out);
  out->append(encoded);
}

// Produces the next frame(s) of the attack into `out`; false when it has none to give now.
using Producer = std::function<bool(std::string* out)>;

// One hostile peer: dials the victim, opens /meshsub/1.2.0 (again whenever the victim resets it, redialing
// if the connection went), writes `hello` first on each stream, then frames from its producer for as long as
// the stream takes them. Streams the victim opens to it are read and discarded (unless frozen).
class HostilePeer {
 public:
  HostilePeer(LibeventLoop* loop, const std::string& seed, const Multiaddr& source, Multiaddr victim_addr,
              crypto::PeerId victim)
      : loop_(loop), key_(*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("attacker-" + seed)))),
        transport_(loop, source), victim_addr_(std::move(victim_addr)), victim_(std::move(victim)) {
    stream::HostOptions ho;
    ho.identity = &key_;
    ho.muxers = {std::string(stream::kYamuxProtocolId)};
    host_ = std::make_unique<stream::Host>(loop, &transport_, ho);
    for (std::string_view p : {pubsub::gossipsub::kMeshSubV12, pubsub::gossipsub::kMeshSubV11,
                               pubsub::gossipsub::kMeshSubV10}) {
      host_->SetStreamHandler(std::string(p), [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
        const uint64_t id = next_inbound_++;
        s->SetHandlers(stream::Stream::Handlers{[](ByteSpan) {}, {}, [this, id](const libp2p::Status&) {
                                                  inbound_.erase(id);
                                                }, {}});
        inbound_[id] = std::move(s);
      });
    }
    pump_timer_ = loop->CreateTimer([this] { Pump(); });
    reopen_timer_ = loop->CreateTimer([this] { Open(); });
  }
  ~HostilePeer() {
    out_.reset();
    inbound_.clear();
    host_.reset();
  }

  // Connects and opens the stream, writing `hello` on it.
  void Connect(std::string hello) {
    hello_ = std::move(hello);
    Open();
  }
  // Starts the flood.
  void Flood(Producer producer) {
    producer_ = std::move(producer);
    Pump();
  }
  // Stops reading every connection of this peer, for good.
  void Freeze() { transport_.FreezeAll(); }

  bool opened() const { return opened_; }
  uint64_t reopens() const { return reopens_; }
  const std::string& last_error() const { return last_error_; }
  const crypto::Ed25519PrivateKey& key() const { return key_; }

 private:
  void Open() {
    if (out_ != nullptr || opening_) return;
    opening_ = true;
    if (!host_->IsConnected(victim_)) {
      host_->Dial(victim_addr_, [this](StatusOr<crypto::PeerId> p) {
        opening_ = false;
        if (!p.ok()) return Retry("dial: " + p.status().ToString());
        Open();
      });
      return;
    }
    host_->NewStream(victim_, {std::string(pubsub::gossipsub::kMeshSubV12)},
                     [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
                       opening_ = false;
                       if (!s.ok()) return Retry("stream: " + s.status().ToString());
                       out_ = std::move(s).value();
                       out_->SetHandlers(stream::Stream::Handlers{
                           [](ByteSpan) {}, [] {},
                           [this](const libp2p::Status& why) {
                             out_.reset();  // Allowed from its own callback.
                             Lost("stream failed: " + why.ToString());
                           },
                           [this] { Pump(); }});
                       if (opened_) ++reopens_;
                       opened_ = true;
                       if (!out_->Write(AsBytes(hello_)).ok()) {
                         out_.reset();
                         return Lost("hello refused");
                       }
                       Pump();
                     });
  }

  void Retry(const std::string& why) {
    last_error_ = why;
    reopen_timer_->Schedule(std::chrono::milliseconds(50));
  }
  void Lost(const std::string& why) {
    last_error_ = why;
    reopen_timer_->Schedule(Duration::zero());
  }

  // Writes frames until the stream pushes back, the producer has none, or a turn's share is written (then
  // the loop gets a turn before more).
  void Pump() {
    std::string frame;
    for (int turn = 0; out_ != nullptr && !out_->write_blocked(); ++turn) {
      if (turn == 64) return pump_timer_->Schedule(Duration::zero());
      frame.clear();
      if (!producer_(&frame)) return pump_timer_->Schedule(std::chrono::milliseconds(1));
      if (!out_->Write(AsBytes(frame)).ok()) {
        out_.reset();
        return Lost("write refused");
      }
    }
  }

  LibeventLoop* const loop_;
  const crypto::Ed25519PrivateKey key_;
  FreezableTransport transport_;
  const Multiaddr victim_addr_;
  const crypto::PeerId victim_;
  std::unique_ptr<stream::Host> host_;
  std::unique_ptr<stream::Stream> out_;
  std::map<uint64_t, std::unique_ptr<stream::Stream>> inbound_;
  uint64_t next_inbound_ = 0;
  std::string hello_;
  Producer producer_ = [](std::string*) { return false; };
  std::unique_ptr<Timer> pump_timer_, reopen_timer_;
  bool opening_ = false, opened_ = false;
  uint64_t reopens_ = 0;
  std::string last_error_;
};

// --- The attacks. ---

// What an attack's producers share with the run: the volume to send, what is sent, and what is known of
// the honest publisher (its id and the ids and seqnos of its published messages).
struct AttackState {
  std::string name;
  std::string unit;  // What `sent` counts.
  int64_t volume = 0;
  int64_t sent = 0;
  bool active = true;
  std::string honest_from;  // The honest publisher's peer id, as bytes.
  uint64_t honest_seqno = 0;  // Its latest published seqno.
  std::vector<std::string> honest_ids;
  std::mt19937_64 rng{12345};

  // A made-up id shaped like a js message id (a key of 36 bytes and a seqno of 8).
  std::string RandomId() {
    std::string id(44, '\0');
    for (size_t i = 0; i < id.size(); i += 8) {
      const uint64_t r = rng();
      std::memcpy(id.data() + i, &r, std::min<size_t>(8, id.size() - i));
    }
    return id;
  }
};

std::string SeqnoBytes(uint64_t seqno) {
  std::string s(pubsub::kSeqnoSize, '\0');
  for (size_t i = 0; i < pubsub::kSeqnoSize; ++i) s[i] = static_cast<char>(seqno >> (56 - 8 * i));
  return s;
}

pubsub::pb::RPC SubscribeRpc(bool graft) {
  pubsub::pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(true);
  s->set_topicid(kTopic);
  if (graft) rpc.mutable_control()->add_graft()->set_topicid(kTopic);
  return rpc;
}

std::string Hello(bool graft) {
  std::string out;
  AppendFrame(SubscribeRpc(graft), &out);
  return out;
}

// A fresh valid message of `size` bytes on the topic by `key`.
std::string SignedMessageFrame(const crypto::Ed25519PrivateKey& key, uint64_t seqno, size_t size) {
  pubsub::pb::RPC rpc;
  pubsub::pb::Message* m = rpc.add_publish();
  m->set_topic(kTopic);
  std::string data(size, 'a');
  std::memcpy(data.data(), &seqno, std::min(size, sizeof(seqno)));
  m->set_data(std::move(data));
  pubsub::SignMessage(key, seqno, pubsub::SignPolicy::kStrictSign, m);
  std::string out;
  AppendFrame(rpc, &out);
  return out;
}

// Makes `peer`'s producer for the single-peer attack `st->name`.
Producer MakeProducer(AttackState* st, const Config& cfg, const HostilePeer& peer) {
  const std::string& name = st->name;
  auto limited = [st](auto body) {
    return [st, body](std::string* out) mutable {
      if (!st->active) return false;
      body(out);
      return true;
    };
  };
  if (name == "subscriptions") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      for (int i = 0; i < 1000; ++i) {
        auto* s = rpc.add_subscriptions();
        s->set_subscribe(true);
        s->set_topicid("s-" + std::to_string(st->sent++));
      }
      AppendFrame(rpc, out);
    });
  }
  if (name == "graft") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      for (int i = 0; i < 1000; ++i) rpc.mutable_control()->add_graft()->set_topicid("g-" + std::to_string(st->sent++));
      AppendFrame(rpc, out);
    });
  }
  if (name == "prune") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      rpc.mutable_control()->add_graft()->set_topicid(kTopic);
      for (int i = 0; i < 999; ++i) {
        auto* p = rpc.mutable_control()->add_prune();
        p->set_topicid(i % 2 == 0 ? std::string(kTopic) : "p-" + std::to_string(st->sent));
        p->set_backoff((st->sent++ / 2) % 2 == 0 ? UINT64_MAX : uint64_t{1} << 63);
      }
      AppendFrame(rpc, out);
    });
  }
  if (name == "ihave") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      for (int t = 0; t < 5; ++t) {
        auto* h = rpc.mutable_control()->add_ihave();
        h->set_topicid(t == 0 ? std::string(kTopic) : "h-" + std::to_string(st->sent));
        for (int i = 0; i < 1000; ++i) h->add_messageids(st->RandomId());
        st->sent += 1000;
      }
      AppendFrame(rpc, out);
    });
  }
  if (name == "iwant") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      auto* w = rpc.mutable_control()->add_iwant();
      for (int i = 0; i < 5000; ++i) {
        // Half the known honest ids, over and over; the rest made up.
        if (i % 2 == 0 && !st->honest_ids.empty()) {
          w->add_messageids(st->honest_ids[(st->sent + i) % st->honest_ids.size()]);
        } else {
          w->add_messageids(st->RandomId());
        }
      }
      st->sent += 5000;
      AppendFrame(rpc, out);
    });
  }
  if (name == "idontwant") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      auto* d = rpc.mutable_control()->add_idontwant();
      for (int i = 0; i < 5000; ++i) d->add_messageids(st->RandomId());
      st->sent += 5000;
      AppendFrame(rpc, out);
    });
  }
  if (name == "promises") {
    return limited([st](std::string* out) {
      pubsub::pb::RPC rpc;
      auto* h = rpc.mutable_control()->add_ihave();
      h->set_topicid(kTopic);
      // The honest publisher's next 100 ids (as the victim computes them), then made-up ones.
      for (uint64_t k = 1; k <= 100 && !st->honest_from.empty(); ++k) {
        pubsub::pb::Message m;
        m.set_from(st->honest_from);
        m.set_seqno(SeqnoBytes(st->honest_seqno + k));
        h->add_messageids(pubsub::JsDefaultMessageId(m));
      }
      while (h->messageids_size() < 5000) h->add_messageids(st->RandomId());
      st->sent += 5000;
      AppendFrame(rpc, out);
    });
  }
  if (name == "invalid-signatures") {
    auto data = std::make_shared<std::string>(cfg.message_size, 'i');
    const crypto::Ed25519PrivateKey* key = &peer.key();
    return limited([st, data, key](std::string* out) {
      pubsub::pb::RPC rpc;
      pubsub::pb::Message* m = rpc.add_publish();
      m->set_topic(kTopic);
      m->set_data(*data);
      const uint64_t n = static_cast<uint64_t>(st->sent++);
      std::string signature(64, '\0');
      for (size_t i = 0; i < 64; i += 8) {
        const uint64_t r = st->rng();
        std::memcpy(signature.data() + i, &r, 8);
      }
      if (n % 2 == 0 && !st->honest_from.empty()) {
        // Forged author: the honest publisher, with one of the seqnos it is about to use.
        m->set_from(st->honest_from);
        m->set_seqno(SeqnoBytes(st->honest_seqno + 1 + (n / 2) % 64));
      } else {
        m->set_from(std::string(AsStringView(crypto::PeerId::FromPublicKey(key->public_key()).bytes())));
        m->set_seqno(SeqnoBytes(n));
      }
      m->set_signature(signature);
      AppendFrame(rpc, out);
    });
  }
  if (name == "oversized") {
    // Alternately a 2 MiB frame sent whole and a 4 GiB announcement followed by 64 KiB.
    auto whole = std::make_shared<std::string>();
    AppendUvarint(2 * kMiB, whole.get());
    whole->append(2 * kMiB, '\x0a');
    auto claim = std::make_shared<std::string>();
    AppendUvarint(uint64_t{4} << 30, claim.get());
    claim->append(64 * 1024, '\x0a');
    return limited([st, whole, claim](std::string* out) { *out = st->sent++ % 2 == 0 ? *whole : *claim; });
  }
  if (name == "duplicates") {
    auto pool = std::make_shared<std::vector<std::string>>();
    for (uint64_t s = 1; s <= 16; ++s) pool->push_back(SignedMessageFrame(peer.key(), s, cfg.message_size));
    return limited([st, pool](std::string* out) { *out = (*pool)[st->sent++ % pool->size()]; });
  }
  // many-peers and never-reads: fresh valid messages.
  const crypto::Ed25519PrivateKey* key = &peer.key();
  auto seqno = std::make_shared<uint64_t>(0);
  const size_t size = cfg.message_size;
  return limited([st, key, seqno, size](std::string* out) {
    *out = SignedMessageFrame(*key, ++*seqno, size);
    ++st->sent;
  });
}

struct Volume {
  int64_t count;
  const char* unit;
};

Volume VolumeOf(const std::string& name) {
  if (name == "subscriptions") return {1'000'000, "topics"};
  if (name == "graft") return {1'000'000, "GRAFTs"};
  if (name == "prune") return {1'000'000, "PRUNEs"};
  if (name == "ihave" || name == "iwant" || name == "idontwant" || name == "promises") return {1'000'000, "ids"};
  if (name == "oversized") return {1'000, "frames"};
  if (name == "duplicates") return {20'000, "messages"};
  return {5'000, "messages"};  // invalid-signatures, many-peers, never-reads.
}

// --- One run. ---

struct Outcome {
  std::string name;
  bool ran = false;  // Setup succeeded and the attack ran.
  std::string error;
  int delivered = 0, expected = 0;
  size_t idle_rss = 0, peak_rss = 0, bound = 0;
  int64_t sent = 0;
  std::string unit;
  double attack_s = 0;
  uint64_t reopens = 0;
  bool pass() const { return ran && delivered == expected && peak_rss <= bound; }
};

size_t CacheCaps() {
  const size_t seen = pubsub::PubSubOptions{}.seen_max_entries * kSeenEntryBytes;
  const size_t mcache = pubsub::gossipsub::MessageCache::kDefaultMaxBytes;
  return seen + mcache + mcache / 4;
}

Outcome RunAttack(const Config& cfg, const std::string& name) {
  Outcome o;
  o.name = name;
  std::unique_ptr<LibeventLoop> loop = std::move(LibeventLoop::Create()).value();
  auto fail = [&](const std::string& why) {
    o.error = why;
    return o;
  };

  // The victim.
  NodeProcess victim, publisher;
  std::string error;
  if (!victim.Start(cfg.node, {"--listen", "/ip4/127.0.0.1/tcp/0", "--topic", kTopic, "--seed", "attacks-victim"},
                    false, cfg.verbose, &error)) {
    return fail("victim: " + error);
  }
  std::string victim_addr, victim_id, publisher_id;
  bool victim_sees_publisher = false, publisher_sees_victim = false, warmed_up = false;
  std::set<std::string> grafted_peers;  // Peers the victim put in its mesh.
  std::set<std::string> delivered;  // Seqnos of honest messages the victim delivered.
  AttackState st;
  st.name = name;
  victim.Watch(loop.get(), [&](std::string_view line) {
    const std::string event = Field(line, "event");
    if (event == "started") {
      victim_addr = Field(line, "listen_addrs");
      victim_id = Field(line, "peer_id");
    } else if (event == "message") {
      if (publisher_id.empty() || Field(line, "from") != publisher_id) return;
      // The first is the warm-up; the honest lines are written only after it arrived.
      if (!warmed_up) {
        warmed_up = true;
      } else {
        delivered.insert(Field(line, "seqno"));
      }
    } else if (event == "peer_subscribed") {
      if (!publisher_id.empty() && Field(line, "peer_id") == publisher_id) victim_sees_publisher = true;
    } else if (event == "graft") {
      grafted_peers.insert(Field(line, "peer_id"));
    } else if (event == "summary" && cfg.verbose) {
      std::fprintf(stderr, "victim after %s: %.*s\n", name.c_str(), static_cast<int>(line.size()), line.data());
    }
  });
  if (!RunUntil(loop.get(), [&] { return !victim_addr.empty() || victim.Exited(); }, std::chrono::seconds(10)) ||
      victim_addr.empty()) {
    return fail("the victim did not report `started` within 10 s");
  }

  // The honest publisher.
  int published = 0, publish_errors = 0;
  if (!publisher.Start(cfg.node, {"--dial", victim_addr, "--topic", kTopic, "--stdin", "--seed", "attacks-honest"},
                       true, cfg.verbose, &error)) {
    return fail("publisher: " + error);
  }
  publisher.Watch(loop.get(), [&](std::string_view line) {
    const std::string event = Field(line, "event");
    if (event == "started") {
      publisher_id = Field(line, "peer_id");
      StatusOr<crypto::PeerId> id = crypto::PeerId::FromString(publisher_id);
      if (id.ok()) st.honest_from = std::string(AsStringView(id->bytes()));
    } else if (event == "peer_subscribed") {
      if (Field(line, "peer_id") == victim_id) publisher_sees_victim = true;
    } else if (event == "published") {
      st.honest_seqno = std::strtoull(Field(line, "seqno").c_str(), nullptr, 16);
      std::string id;
      const std::string hex = Field(line, "id");
      for (size_t i = 0; i + 1 < hex.size(); i += 2) id.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      st.honest_ids.push_back(std::move(id));
      ++published;
    } else if (event == "publish_error") {
      ++publish_errors;
    }
  });
  if (!RunUntil(loop.get(), [&] { return victim_sees_publisher && publisher_sees_victim && grafted_peers.count(publisher_id) > 0; },
                std::chrono::seconds(10))) {
    return fail("the publisher and the victim did not subscribe to each other and graft within 10 s");
  }
  if (!publisher.WriteLine("warm-up") ||
      !RunUntil(loop.get(), [&] { return warmed_up && published == 1; }, std::chrono::seconds(10))) {
    return fail("the victim did not deliver the warm-up message within 10 s");
  }
  RunUntil(loop.get(), [] { return false; }, std::chrono::milliseconds(300));  // Let the victim settle.
  o.idle_rss = victim.MemoryField("VmRSS");
  o.bound = o.idle_rss + CacheCaps() + 64 * kMiB;

  // The hostile peers.
  const Volume volume = VolumeOf(name);
  st.volume = static_cast<int64_t>(static_cast<double>(volume.count) * cfg.scale);
  st.unit = volume.unit;
  const Multiaddr victim_multiaddr = *Multiaddr::FromString(victim_addr);
  const crypto::PeerId victim_peer = *crypto::PeerId::FromString(victim_id);
  std::vector<std::unique_ptr<HostilePeer>> peers;
  auto add_peer = [&](const std::string& seed, const Multiaddr& source) -> HostilePeer& {
    peers.push_back(std::make_unique<HostilePeer>(loop.get(), seed, source, victim_multiaddr, victim_peer));
    return *peers.back();
  };
  // Waits until peers [from, to) have their streams open.
  auto wait_open = [&](size_t from, size_t to) {
    const auto open = [&] {
      return std::all_of(peers.begin() + from, peers.begin() + to, [](const auto& p) { return p->opened(); });
    };
    if (RunUntil(loop.get(), open, std::chrono::seconds(30))) return std::string();
    std::string why;
    for (size_t i = from; i < to; ++i) {
      if (!peers[i]->opened()) why = peers[i]->last_error();
    }
    return "hostile peers could not connect within 30 s: " + why;
  };
  if (name == "many-peers") {
    for (int i = 0; i < cfg.peers; ++i) {
      add_peer("many-" + std::to_string(i), *Multiaddr::FromString("/ip4/127.0.0." + std::to_string(2 + i) + "/tcp/0"));
    }
    // In groups of 25: the victim upgrades at most 64 inbound connections at once and drops the oldest for
    // a newcomer beyond that. Every stream is open before any flood starts.
    for (size_t group = 0; group < peers.size(); group += 25) {
      const size_t end = std::min(peers.size(), group + 25);
      for (size_t i = group; i < end; ++i) peers[i]->Connect(Hello(true));
      if (std::string why = wait_open(group, end); !why.empty()) return fail(why);
    }
  } else if (name == "never-reads") {
    // The reader joins the mesh (the victim's `graft` event), then stops reading; the feeder then floods.
    HostilePeer& reader = add_peer("never-reads", Multiaddr());
    add_peer("feeder", Multiaddr()).Connect(Hello(true));
    reader.Connect(Hello(true));
    if (std::string why = wait_open(0, peers.size()); !why.empty()) return fail(why);
    const std::string reader_id = crypto::PeerId::FromPublicKey(reader.key().public_key()).ToBase58();
    if (!RunUntil(loop.get(), [&] { return grafted_peers.count(reader_id) > 0; }, std::chrono::seconds(10))) {
      return fail("the victim did not graft the never-reading peer within 10 s");
    }
    reader.Freeze();
  } else {
    add_peer(name, Multiaddr()).Connect(Hello(name != "graft" && name != "subscriptions"));
    if (std::string why = wait_open(0, peers.size()); !why.empty()) return fail(why);
  }
  for (auto& p : peers) {
    if (p.get() != peers.front().get() || name != "never-reads") p->Flood(MakeProducer(&st, cfg, *p));
  }

  // The attack, with honest messages published during it.
  const auto attack_start = std::chrono::steady_clock::now();
  int written = 0;
  bool stdin_failed = false;
  auto honest_timer = loop->CreateTimer([&] {
    std::string line = "honest-" + std::to_string(written) + "-";
    line.resize(cfg.honest_size, 'h');
    if (!publisher.WriteLine(line)) stdin_failed = true;
    ++written;
  });
  auto first_honest = loop->CreateTimer([&] { honest_timer->ScheduleRepeating(std::chrono::milliseconds(cfg.honest_interval_ms)); });
  first_honest->Schedule(std::chrono::milliseconds(200));
  auto honest_written = [&] { return written >= cfg.honest || stdin_failed; };
  auto stop_honest = [&] {
    if (honest_written()) honest_timer->Cancel();
    return honest_written();
  };
  RunUntil(
      loop.get(),
      [&] { return (stop_honest() && st.sent >= st.volume) || victim.Exited(); },
      std::chrono::seconds(cfg.max_attack_s));
  st.active = false;
  o.attack_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - attack_start).count();
  // Still owed honest lines, when the attack was cut at its time limit.
  RunUntil(loop.get(), stop_honest, std::chrono::milliseconds(cfg.honest_interval_ms) * (cfg.honest + 1));
  honest_timer->Cancel();
  o.expected = cfg.honest;
  RunUntil(
      loop.get(), [&] { return static_cast<int>(delivered.size()) >= o.expected || victim.Exited(); },
      std::chrono::seconds(15));
  o.delivered = static_cast<int>(delivered.size());
  o.sent = st.sent;
  o.unit = st.unit;
  for (const auto& p : peers) o.reopens += p->reopens();
  if (victim.Exited()) return fail("the victim exited during the attack");
  o.peak_rss = victim.MemoryField("VmHWM");
  o.ran = true;
  if (stdin_failed) o.error = "the publisher stopped reading its stdin";
  if (published - 1 + publish_errors < written && o.error.empty()) {
    o.error = "the publisher reported " + std::to_string(published - 1) + " of " + std::to_string(written) +
              " published";
  }
  peers.clear();
  publisher.Stop();
  victim.Stop();
  return o;
}

std::string Mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(bytes) / kMiB);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = ParseFlags(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  const size_t seen = pubsub::PubSubOptions{}.seen_max_entries;
  std::printf(
      "bound = idle RSS + %s MiB (seen cache: %zu entries x %zu B; message cache: %s MiB + 1/4 in spare chunks) + "
      "64 MiB\n",
      Mib(CacheCaps()).c_str(), seen, kSeenEntryBytes,
      Mib(pubsub::gossipsub::MessageCache::kDefaultMaxBytes).c_str());
  std::printf("%-19s %9s %9s %9s %9s %20s %7s %7s  %s\n", "attack", "honest", "idle_MiB", "peak_MiB", "bound_MiB",
              "sent", "secs", "reopens", "result");
  std::fflush(stdout);
  bool all_pass = true;
  for (const std::string& name : cfg.attacks) {
    const Outcome o = RunAttack(cfg, name);
    all_pass = all_pass && o.pass();
    const std::string honest = std::to_string(o.delivered) + "/" + std::to_string(o.expected);
    const std::string sent = std::to_string(o.sent) + " " + o.unit;
    std::printf("%-19s %9s %9s %9s %9s %20s %7.1f %7" PRIu64 "  %s%s%s\n", name.c_str(), honest.c_str(),
                Mib(o.idle_rss).c_str(), Mib(o.peak_rss).c_str(), Mib(o.bound).c_str(), sent.c_str(), o.attack_s,
                o.reopens, o.pass() ? "PASS" : "FAIL", o.error.empty() ? "" : ": ", o.error.c_str());
    std::fflush(stdout);
  }
  return all_pass ? 0 : 1;
}
