// The connection-upgrade half of a libp2p node, for interop tests of the secure channel: it listens or dials
// over TCP, negotiates /noise with multistream-select, runs the Noise handshake (checking the /p2p/ id it
// dialed), then agrees on a muxer, by the Noise extension or by multistream-select inside the secure channel.
// It prints NDJSON events on stdout: listening, secured, muxer_selected, error.
//
//   secure_channel_peer --seed S (--listen ADDR | --dial ADDR) [--announce-muxers] [--duration-s N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/tcp_transport.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

constexpr char kMuxer[] = "/yamux/1.0.0";

void Emit(const std::string& event, const std::string& fields) {
  std::printf("{\"event\":\"%s\"%s%s}\n", event.c_str(), fields.empty() ? "" : ",", fields.c_str());
  std::fflush(stdout);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

struct Peer {
  std::unique_ptr<LibeventLoop> loop;
  std::optional<crypto::Ed25519PrivateKey> key;
  bool announce_muxers = false;
  bool dialer = false;
  std::unique_ptr<TcpTransport> transport;
  std::unique_ptr<Listener> listener;
  std::unique_ptr<PendingDial> dial;
  std::unique_ptr<RawConnection> raw;
  std::unique_ptr<MultistreamSelect> negotiation;
  std::unique_ptr<NoiseHandshake> handshake;
  std::unique_ptr<RawConnection> secure;
  std::optional<crypto::PeerId> expected;

  void Fail(const std::string& what) {
    Emit("error", "\"message\":" + Quote(what));
    loop->Stop();
  }

  void OnRaw(std::unique_ptr<RawConnection> conn) {
    raw = std::move(conn);
    auto done = [this](StatusOr<std::string> p) {
      negotiation.reset();
      if (!p.ok()) return Fail("security negotiation: " + p.status().ToString());
      NoiseOptions options{&*key, announce_muxers ? std::vector<std::string>{kMuxer} : std::vector<std::string>{}};
      auto on_secured = [this](StatusOr<NoiseSession> s) { OnSecured(std::move(s)); };
      handshake = dialer ? NoiseHandshake::Initiate(loop.get(), std::move(raw), options, expected, on_secured)
                         : NoiseHandshake::Respond(loop.get(), std::move(raw), options, on_secured);
    };
    negotiation = dialer ? MultistreamSelect::Dial(loop.get(), raw.get(), {"/noise"}, std::chrono::seconds(10), done)
                         : MultistreamSelect::Listen(loop.get(), raw.get(), {"/noise"}, std::chrono::seconds(10), done);
  }

  void OnSecured(StatusOr<NoiseSession> session) {
    if (!session.ok()) return Fail("noise: " + session.status().ToString());
    secure = std::move(session->connection);
    Emit("secured", "\"peer_id\":" + Quote(session->remote_peer.ToBase58()) + ",\"early_muxer\":" +
                        Quote(session->early_muxer));
    if (!session->early_muxer.empty()) {
      Emit("muxer_selected", "\"muxer\":" + Quote(session->early_muxer) + ",\"by\":\"noise-extension\"");
      return;
    }
    auto done = [this](StatusOr<std::string> p) {
      if (!p.ok()) return Fail("muxer negotiation: " + p.status().ToString());
      Emit("muxer_selected", "\"muxer\":" + Quote(*p) + ",\"by\":\"multistream-select\"");
    };
    negotiation = dialer ? MultistreamSelect::Dial(loop.get(), secure.get(), {kMuxer}, std::chrono::seconds(10), done)
                         : MultistreamSelect::Listen(loop.get(), secure.get(), {kMuxer}, std::chrono::seconds(10), done);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string seed, listen_addr, dial_addr;
  int duration_s = 20;
  Peer peer;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", flag.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (flag == "--seed") {
      seed = value();
    } else if (flag == "--listen") {
      listen_addr = value();
    } else if (flag == "--dial") {
      dial_addr = value();
    } else if (flag == "--announce-muxers") {
      peer.announce_muxers = true;
    } else if (flag == "--duration-s") {
      duration_s = std::atoi(value().c_str());
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (seed.empty() || listen_addr.empty() == dial_addr.empty()) {
    std::fprintf(stderr, "usage: secure_channel_peer --seed S (--listen ADDR | --dial ADDR) [--announce-muxers]\n");
    return 2;
  }
  peer.loop = std::move(LibeventLoop::Create()).value();
  peer.key.emplace(*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))));
  peer.transport = std::make_unique<TcpTransport>(peer.loop.get());
  const std::string my_id = crypto::PeerId::FromPublicKey(peer.key->public_key()).ToBase58();
  auto stop = peer.loop->CreateTimer([&] { peer.loop->Stop(); });
  stop->Schedule(std::chrono::seconds(duration_s));

  if (!listen_addr.empty()) {
    auto addr = Multiaddr::FromString(listen_addr);
    if (!addr.ok()) return std::fprintf(stderr, "--listen: %s\n", addr.status().ToString().c_str()), 2;
    auto listener = peer.transport->Listen(*addr, [&](std::unique_ptr<RawConnection> c) {
      if (peer.raw == nullptr && peer.secure == nullptr && peer.handshake == nullptr) peer.OnRaw(std::move(c));
    });
    if (!listener.ok()) return std::fprintf(stderr, "listen: %s\n", listener.status().ToString().c_str()), 1;
    peer.listener = std::move(listener).value();
    Emit("listening", "\"peer_id\":" + Quote(my_id) + ",\"listen_addrs\":[" +
                          Quote(peer.listener->listen_addr().ToString() + "/p2p/" + my_id) + "]");
  } else {
    peer.dialer = true;
    auto addr = Multiaddr::FromString(dial_addr);
    if (!addr.ok()) return std::fprintf(stderr, "--dial: %s\n", addr.status().ToString().c_str()), 2;
    if (auto id = addr->PeerIdMultihash()) peer.expected.emplace(*crypto::PeerId::FromBytes(*id));
    Emit("started", "\"peer_id\":" + Quote(my_id));
    peer.dial = peer.transport->Dial(*addr, [&](StatusOr<std::unique_ptr<RawConnection>> c) {
      if (!c.ok()) return peer.Fail("dial: " + c.status().ToString());
      peer.OnRaw(std::move(c).value());
    });
  }
  peer.loop->Run();
  return 0;
}
