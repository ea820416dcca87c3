// The host among peers that misbehave: stalls at every step of the upgrade, handlers that disconnect from
// inside their own callbacks. Time passes between steps here, as it does on a network.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/noise.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }

class HostHostileTest : public ::testing::Test {
 protected:
  HostHostileTest() : victim_key_(KeyOf("victim")), attacker_key_(KeyOf("attacker")) {
    HostOptions options;
    options.identity = &victim_key_;
    victim_ = std::make_unique<Host>(&loop_, victim_transport_.get(), options);
    victim_->AddEvents(Host::Events{[this](const ConnectionInfo&) { ++connected_; }, nullptr,
                                    [this](const ConnectionInfo&, const Status&) { ++disconnected_; }});
    EXPECT_TRUE(victim_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }

  // A raw connection to the victim, and the attacker's side of it.
  std::unique_ptr<RawConnection> RawDial() {
    std::unique_ptr<RawConnection> raw;
    auto dial = attacker_transport_->Dial(victim_->listen_addrs()[0], [&](StatusOr<std::unique_ptr<RawConnection>> c) {
      if (c.ok()) raw = std::move(c).value();
    });
    loop_.AdvanceTime(milliseconds(20));
    return raw;
  }

  // The attacker secures a connection with Noise, announcing `muxers` (none: the victim then negotiates the
  // muxer with multistream-select).
  std::unique_ptr<RawConnection> SecureDial(std::vector<std::string> muxers) {
    std::unique_ptr<RawConnection> raw = RawDial();
    if (raw == nullptr) return nullptr;
    bool agreed = false;
    auto ms = MultistreamSelect::Dial(&loop_, raw.get(), {"/noise"}, seconds(30),
                                      [&](StatusOr<std::string> p) { agreed = p.ok(); });
    loop_.AdvanceTime(milliseconds(50));
    if (!agreed) return nullptr;
    ms.reset();
    NoiseOptions options;
    options.identity = &attacker_key_;
    options.muxers = std::move(muxers);
    std::unique_ptr<RawConnection> secure;
    auto handshake = NoiseHandshake::Initiate(&loop_, std::move(raw), options, std::nullopt,
                                              [&](StatusOr<NoiseSession> s) {
                                                if (s.ok()) secure = std::move(s->connection);
                                              });
    loop_.AdvanceTime(milliseconds(100));
    return secure;
  }

  ManualEventLoop loop_;
  // Every delivery takes 5 ms: time passes between the steps of each handshake.
  MemoryNetwork network_{&loop_, WriteLimits{}, milliseconds(5)};
  std::unique_ptr<Transport> victim_transport_ = network_.CreateTransport();
  std::unique_ptr<Transport> attacker_transport_ = network_.CreateTransport();
  Ed25519PrivateKey victim_key_, attacker_key_;
  std::unique_ptr<Host> victim_;
  int connected_ = 0, disconnected_ = 0;
};

// A peer completes Noise without announcing muxers and then never answers the muxer negotiation: the
// upgrade times out while the negotiation still runs on the Noise connection (this was a use-after-free:
// the upgrade destroyed the Noise connection before the negotiation that pointed at it).
TEST_F(HostHostileTest, StallAfterNoiseUntilTheUpgradeTimesOut) {
  std::unique_ptr<RawConnection> secure = SecureDial({});
  ASSERT_NE(secure, nullptr);
  loop_.AdvanceTime(seconds(11));
  EXPECT_EQ(connected_, 0);
  // The victim gave up on the connection: it is closed from its side.
  bool ended = false;
  secure->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [&] { ended = true; }, [&](const Status&) { ended = true; }, {}});
  loop_.AdvanceTime(seconds(1));
  EXPECT_TRUE(ended);
}

// The same stall with the host destroyed while the upgrade is still in its muxer step.
TEST_F(HostHostileTest, HostDestroyedDuringTheMuxerNegotiation) {
  std::unique_ptr<RawConnection> secure = SecureDial({});
  ASSERT_NE(secure, nullptr);
  loop_.AdvanceTime(seconds(2));
  victim_.reset();
  loop_.AdvanceTime(seconds(20));
}

// Stalls at each earlier step: after TCP, after the multistream header, in the middle of Noise.
TEST_F(HostHostileTest, StallAtEveryStepOfTheUpgrade) {
  std::unique_ptr<RawConnection> raw = RawDial();
  ASSERT_NE(raw, nullptr);
  std::unique_ptr<RawConnection> raw2 = RawDial();
  ASSERT_NE(raw2, nullptr);
  ASSERT_TRUE(raw2->Write(EncodeMultistreamMessage(kMultistreamHeader)).ok());
  std::unique_ptr<RawConnection> raw3 = RawDial();
  ASSERT_NE(raw3, nullptr);
  bool agreed = false;
  auto ms = MultistreamSelect::Dial(&loop_, raw3.get(), {"/noise"}, seconds(30),
                                    [&](StatusOr<std::string> p) { agreed = p.ok(); });
  loop_.AdvanceTime(milliseconds(50));
  ASSERT_TRUE(agreed);
  ms.reset();
  ASSERT_TRUE(raw3->Write(Bytes{0, 32}).ok());  // Half of Noise message 1: a length and nothing more.
  for (int i = 0; i < 12; ++i) loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(connected_, 0);
  // A well-behaved peer still gets in afterwards.
  std::unique_ptr<RawConnection> good = SecureDial({std::string(kYamuxProtocolId)});
  ASSERT_NE(good, nullptr);
  loop_.AdvanceTime(milliseconds(100));
  EXPECT_EQ(connected_, 1);
}

// A handler that disconnects its peer from inside on_data, then keeps reading the view it was given (as a
// parser iterating over a chunk would). Disconnect() must not destroy the buffers under the caller.
TEST_F(HostHostileTest, DisconnectFromInsideOnData) {
  HostOptions options;
  options.identity = &attacker_key_;
  Host peer(&loop_, attacker_transport_.get(), options);
  std::unique_ptr<Stream> in, out;
  size_t sum = 0;
  victim_->SetStreamHandler("/x/1", [&](std::unique_ptr<Stream> s, const PeerId& from, const std::string&) {
    in = std::move(s);
    in->SetHandlers(Stream::Handlers{[&, from](ByteSpan d) {
                                       victim_->Disconnect(from);
                                       for (uint8_t c : d) sum += c;
                                     },
                                     {}, {}, {}});
  });
  peer.Dial(victim_->listen_addrs()[0], [&](StatusOr<PeerId> p) {
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    peer.NewStream(*p, {"/x/1"}, [&](StatusOr<std::unique_ptr<Stream>> s, const std::string&) {
      ASSERT_TRUE(s.ok());
      out = std::move(s).value();
      ASSERT_TRUE(out->Write(Bytes(1000, 7)).ok());
    });
  });
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(sum, 7000u);
  EXPECT_EQ(disconnected_, 1);
  EXPECT_FALSE(victim_->IsConnected(peer.peer_id()));
  in.reset();
  out.reset();
}

}  // namespace
}  // namespace libp2p::stream
