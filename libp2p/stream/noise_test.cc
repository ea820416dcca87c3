#include "libp2p/stream/noise.h"

#include <cstdint>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/x25519.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/stream_base.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::seconds;
using testing::Recorder;

Ed25519PrivateKey KeyFromSeed(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }

// Wraps a raw connection and flips bits (`mask`, by default the lowest) of the received byte at a chosen
// offset: a network attacker. It also keeps every byte it received, as it came off the wire.
class TamperingConnection final : public RawConnection, public StreamBase {
 public:
  TamperingConnection(EventLoop* loop, std::unique_ptr<RawConnection> inner, size_t flip_at, uint8_t mask = 1)
      : StreamBase(loop), inner_(std::move(inner)), flip_at_(flip_at), mask_(mask) {
    inner_->SetHandlers(Handlers{[this](ByteSpan d) {
                                   Bytes copy(d.begin(), d.end());
                                   if (flip_at_ >= seen_ && flip_at_ < seen_ + copy.size()) {
                                     copy[flip_at_ - seen_] ^= mask_;
                                   }
                                   seen_ += copy.size();
                                   wire_.insert(wire_.end(), d.begin(), d.end());
                                   DeliverData(copy);
                                 },
                                 [this] { DeliverEof(); }, [this](const Status& e) { DeliverError(e); },
                                 [this] { NotifyWritable(); }});
  }
  const Multiaddr& local_addr() const override { return inner_->local_addr(); }
  const Multiaddr& remote_addr() const override { return inner_->remote_addr(); }
  bool simulation_null_cipher() const override { return inner_->simulation_null_cipher(); }
  const Bytes& wire() const { return wire_; }
  Status Write(ByteSpan d) override { return inner_->Write(d); }
  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  bool write_blocked() const override { return inner_->write_blocked(); }
  void CloseWrite() override { inner_->CloseWrite(); }
  void Reset() override {
    MarkDead();
    inner_->Reset();
  }

 private:
  std::unique_ptr<RawConnection> inner_;
  size_t flip_at_;
  uint8_t mask_;
  size_t seen_ = 0;
  Bytes wire_;
};

// An identity that counts its signatures.
class CountingKey final : public crypto::PrivateKey {
 public:
  explicit CountingKey(const crypto::PrivateKey& inner) : inner_(inner) {}
  const crypto::PublicKey& public_key() const override { return inner_.public_key(); }
  Bytes Sign(ByteSpan message) const override {
    ++signatures_;
    return inner_.Sign(message);
  }
  Bytes ToProtobuf() const override { return inner_.ToProtobuf(); }
  int signatures() const { return signatures_; }

 private:
  const crypto::PrivateKey& inner_;
  mutable int signatures_ = 0;
};

class NoiseTest : public ::testing::Test {
 protected:
  void Connect() {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = std::move(c).value(); });
    loop_.RunUntilIdle();
    ASSERT_NE(client_raw_, nullptr);
    ASSERT_NE(server_raw_, nullptr);
  }

  void Handshake(std::optional<PeerId> expected, std::vector<std::string> client_muxers = {},
                 std::vector<std::string> server_muxers = {}) {
    client_ = NoiseHandshake::Initiate(&loop_, std::move(client_raw_), NoiseOptions{&client_key_, client_muxers},
                                       expected, [this](StatusOr<NoiseSession> s) { client_result_ = std::move(s); });
    server_ = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, server_muxers},
                                      [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
    loop_.RunUntilIdle();
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_raw_, server_raw_;
  Ed25519PrivateKey client_key_ = KeyFromSeed("client");
  Ed25519PrivateKey server_key_ = KeyFromSeed("server");
  std::unique_ptr<NoiseHandshake> client_, server_;
  StatusOr<NoiseSession> client_result_ = CancelledError("unset");
  StatusOr<NoiseSession> server_result_ = CancelledError("unset");
};

TEST_F(NoiseTest, HandshakesSharingAStaticKeyAuthenticateWithoutSigningAgain) {
  CountingKey identity(client_key_);
  const NoiseStaticKey static_key(identity);
  EXPECT_EQ(identity.signatures(), 1);
  for (int i = 0; i < 3; ++i) {
    Connect();
    client_ = NoiseHandshake::Initiate(&loop_, std::move(client_raw_), NoiseOptions{&identity, {}, seconds(10), &static_key},
                                       std::nullopt, [this](StatusOr<NoiseSession> s) { client_result_ = std::move(s); });
    server_ = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, {}},
                                      [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
    loop_.RunUntilIdle();
    ASSERT_TRUE(client_result_.ok()) << client_result_.status().ToString();
    ASSERT_TRUE(server_result_.ok()) << server_result_.status().ToString();
    EXPECT_TRUE(server_result_->remote_peer == PeerId::FromPublicKey(client_key_.public_key()));
  }
  EXPECT_EQ(identity.signatures(), 1);

  // Without a shared key, each handshake makes and signs its own.
  Connect();
  client_ = NoiseHandshake::Initiate(&loop_, std::move(client_raw_), NoiseOptions{&identity, {}}, std::nullopt,
                                     [this](StatusOr<NoiseSession> s) { client_result_ = std::move(s); });
  server_ = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, {}},
                                    [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
  loop_.RunUntilIdle();
  ASSERT_TRUE(server_result_.ok()) << server_result_.status().ToString();
  EXPECT_EQ(identity.signatures(), 2);
}

TEST_F(NoiseTest, HandshakeAuthenticatesBothSidesAndCarriesData) {
  Connect();
  Handshake(PeerId::FromPublicKey(server_key_.public_key()));
  ASSERT_TRUE(client_result_.ok()) << client_result_.status().ToString();
  ASSERT_TRUE(server_result_.ok()) << server_result_.status().ToString();
  EXPECT_TRUE(client_result_->remote_peer == PeerId::FromPublicKey(server_key_.public_key()));
  EXPECT_TRUE(server_result_->remote_peer == PeerId::FromPublicKey(client_key_.public_key()));
  EXPECT_TRUE(client_result_->early_muxer.empty());

  RawConnection* c = client_result_->connection.get();
  RawConnection* s = server_result_->connection.get();
  Recorder rc, rs;
  rc.Attach(c);
  rs.Attach(s);
  // More than one Noise message's worth, so writes are split into several frames.
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(c->Write(AsBytes(big)).ok());
  ASSERT_TRUE(s->Write(AsBytes("reply")).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs.data == big);
  EXPECT_EQ(rc.data, "reply");
  c->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs.eof);
}

TEST_F(NoiseTest, EarlyMuxerNegotiationPicksTheInitiatorsFirstCommonChoice) {
  Connect();
  Handshake(std::nullopt, {"/mplex/6.7.0", "/yamux/1.0.0"}, {"/yamux/1.0.0", "/mplex/6.7.0"});
  ASSERT_TRUE(client_result_.ok() && server_result_.ok());
  EXPECT_EQ(client_result_->early_muxer, "/mplex/6.7.0");
  EXPECT_EQ(server_result_->early_muxer, "/mplex/6.7.0");
  EXPECT_EQ(client_result_->remote_muxers, (std::vector<std::string>{"/yamux/1.0.0", "/mplex/6.7.0"}));
}

// One side lists no muxers: multistream-select decides after the handshake.
TEST_F(NoiseTest, OneSideWithoutMuxersLeavesTheChoiceToMultistream) {
  Connect();
  Handshake(std::nullopt, {}, {"/mplex/6.7.0"});
  ASSERT_TRUE(client_result_.ok() && server_result_.ok());
  EXPECT_TRUE(client_result_->early_muxer.empty());
  EXPECT_TRUE(server_result_->early_muxer.empty());
}

// Both list muxers and none is common: the inlined-muxer spec says the handshake MUST fail (it once fell back
// to multistream-select).
TEST_F(NoiseTest, NoCommonMuxerFailsTheHandshake) {
  Connect();
  Handshake(std::nullopt, {"/yamux/1.0.0"}, {"/mplex/6.7.0"});
  ASSERT_FALSE(client_result_.ok());
  ASSERT_FALSE(server_result_.ok());  // The initiator, which learns first, resets the connection.
  EXPECT_EQ(client_result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NoiseTest, DialingTheWrongPeerIdFails) {
  Connect();
  Handshake(PeerId::FromPublicKey(KeyFromSeed("someone else").public_key()));
  ASSERT_FALSE(client_result_.ok());
  EXPECT_EQ(client_result_.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(client_result_.status().message().find("but the remote is"), std::string::npos);
  EXPECT_FALSE(server_result_.ok());  // The initiator gave up before message 3.
}

TEST_F(NoiseTest, TamperedHandshakeMessageFails) {
  Connect();
  // Flip a bit inside the responder's encrypted static key in message 2, as the initiator receives it.
  client_raw_ = std::make_unique<TamperingConnection>(&loop_, std::move(client_raw_), 2 + 32 + 5);
  Handshake(std::nullopt);
  EXPECT_EQ(client_result_.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(server_result_.ok());
}

TEST_F(NoiseTest, TamperedTransportMessageFails) {
  Connect();
  // Bytes the server receives: message 1 (2 + 32), message 3 (2 + 48 + payload), then transport data.
  // Flip a bit far beyond the handshake, inside the first transport message.
  server_raw_ = std::make_unique<TamperingConnection>(&loop_, std::move(server_raw_), 2000);
  Handshake(std::nullopt);
  ASSERT_TRUE(client_result_.ok() && server_result_.ok());
  Recorder rs;
  rs.Attach(server_result_->connection.get());
  ASSERT_TRUE(client_result_->connection->Write(Bytes(5000, 'x')).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs.errored);
  EXPECT_EQ(rs.error.code(), StatusCode::kUnauthenticated);
  EXPECT_LT(rs.data.size(), 5000u);
}

TEST_F(NoiseTest, GarbageFromThePeerFails) {
  Connect();
  server_ = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, {}},
                                    [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
  ASSERT_TRUE(client_raw_->Write(Bytes{0x00, 0x05, 1, 2, 3, 4, 5}).ok());  // Message 1 shorter than a key.
  loop_.RunUntilIdle();
  EXPECT_EQ(server_result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NoiseTest, SilentPeerTimesOut) {
  Connect();
  server_ = NoiseHandshake::Respond(&loop_, std::move(server_raw_), NoiseOptions{&server_key_, {}, seconds(10)},
                                    [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
  loop_.AdvanceTime(seconds(10));
  EXPECT_EQ(server_result_.status().code(), StatusCode::kDeadlineExceeded);
}

// What crossed the wire to the responder while the initiator sent `text` after the handshake, on a simulated
// network with or without the null cipher, and what the responder read (the wire's byte at `flip_at`
// XORed with `mask` on the way) and the error it heard, if any.
struct NullCipherRun {
  Bytes wire;
  std::string received;
  Status error;
};
NullCipherRun SendOverSimulatedNetwork(bool null_cipher, const std::string& text, size_t flip_at = SIZE_MAX,
                                       uint8_t mask = 1) {
  ScopedDeterministicRandom scope(7);  // The same handshake bytes both times.
  ManualEventLoop loop;
  LinkModel model;
  model.null_cipher = null_cipher;
  MemoryNetwork network(&loop, WriteLimits{}, model);
  std::unique_ptr<Transport> transport = network.CreateTransport();
  std::unique_ptr<RawConnection> client_raw, server_raw;
  auto listener = transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                    [&](std::unique_ptr<RawConnection> c) { server_raw = std::move(c); });
  auto dial = transport->Dial((*listener)->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
    client_raw = std::move(c).value();
  });
  loop.RunUntilIdle();
  EXPECT_TRUE(client_raw != nullptr && server_raw != nullptr);
  EXPECT_EQ(server_raw->simulation_null_cipher(), null_cipher);
  auto tap = std::make_unique<TamperingConnection>(&loop, std::move(server_raw), flip_at, mask);
  TamperingConnection* wire = tap.get();
  const Ed25519PrivateKey client_key = KeyFromSeed("client"), server_key = KeyFromSeed("server");
  StatusOr<NoiseSession> client = CancelledError("unset"), server = CancelledError("unset");
  auto initiate = NoiseHandshake::Initiate(&loop, std::move(client_raw), NoiseOptions{&client_key, {}}, std::nullopt,
                                           [&](StatusOr<NoiseSession> r) { client = std::move(r); });
  auto respond = NoiseHandshake::Respond(&loop, std::move(tap), NoiseOptions{&server_key, {}},
                                         [&](StatusOr<NoiseSession> r) { server = std::move(r); });
  loop.AdvanceTime(seconds(1));
  EXPECT_TRUE(client.ok() && server.ok());
  if (!client.ok() || !server.ok()) return {};
  // The identities are checked either way.
  EXPECT_EQ(client->remote_peer, PeerId::FromPublicKey(server_key.public_key()));
  EXPECT_EQ(server->remote_peer, PeerId::FromPublicKey(client_key.public_key()));
  Recorder rs;
  rs.Attach(server->connection.get());
  EXPECT_TRUE(client->connection->Write(AsBytes(text)).ok());
  loop.AdvanceTime(seconds(1));
  return {wire->wire(), rs.data, rs.error};
}

TEST(NoiseNullCipherTest, ASimulatedNetworkCarriesThePlaintextAtItsRealSize) {
  const std::string text = "a message of the simulation, " + std::string(70000, 'x') + " and its end";
  const NullCipherRun real = SendOverSimulatedNetwork(false, text);
  const NullCipherRun null = SendOverSimulatedNetwork(true, text);
  EXPECT_EQ(real.received, text);
  EXPECT_EQ(null.received, text);
  // The same bytes go each way, frames and tags included; only their content differs.
  EXPECT_EQ(null.wire.size(), real.wire.size());
  const std::string null_wire(null.wire.begin(), null.wire.end()), real_wire(real.wire.begin(), real.wire.end());
  EXPECT_NE(null_wire.find("a message of the simulation"), std::string::npos);
  EXPECT_NE(null_wire.find(" and its end"), std::string::npos);
  EXPECT_EQ(real_wire.find("a message of the simulation"), std::string::npos);
}

// Under the null cipher a message's plaintext goes up as it arrives and its tag is checked after it: a tag
// that is not zero (a peer sealing with something else) fails the connection once it arrives.
TEST(NoiseNullCipherTest, ATagNotZeroFailsTheConnectionAfterItsPlaintext) {
  const std::string text = "plaintext before its tag";
  const NullCipherRun clean = SendOverSimulatedNetwork(true, text);
  ASSERT_TRUE(clean.error.ok());
  ASSERT_EQ(clean.received, text);
  // The last byte on the wire is the last of the message's tag.
  const NullCipherRun tampered = SendOverSimulatedNetwork(true, text, clean.wire.size() - 1);
  EXPECT_EQ(tampered.received, text);
  EXPECT_EQ(tampered.error.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(tampered.error.message().find("tag is not zero"), std::string::npos) << tampered.error.message();
}

// A message length shorter than a tag is refused before anything of it goes up.
TEST(NoiseNullCipherTest, AMessageShorterThanATagFailsTheConnection) {
  const std::string text = "x";  // A message of 1 + 16 bytes: length 0x0011.
  const NullCipherRun clean = SendOverSimulatedNetwork(true, text);
  ASSERT_TRUE(clean.error.ok());
  const size_t length_at = clean.wire.size() - 16 - 1 - 1;  // The length's low byte.
  ASSERT_EQ(clean.wire[length_at], 0x11);
  const NullCipherRun tampered = SendOverSimulatedNetwork(true, text, length_at, 0x10);  // Length 1.
  EXPECT_EQ(tampered.received, "");
  EXPECT_EQ(tampered.error.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(tampered.error.message().find("shorter than its tag"), std::string::npos) << tampered.error.message();
}

// What the initiator sends first (its ephemeral key), with everything drawn under `seed`, on a simulated
// network with or without the null cipher.
std::string FirstHandshakeMessageUnder(uint64_t seed, bool null_cipher = false) {
  ScopedDeterministicRandom scope(seed);
  struct World {
    explicit World(bool null_cipher) : network(&loop, WriteLimits{}, LinkModel{.null_cipher = null_cipher}) {}
    ManualEventLoop loop;
    MemoryNetwork network;
    std::unique_ptr<Transport> transport = network.CreateTransport();
    Recorder server_side;
    Ed25519PrivateKey key = KeyFromSeed("client");
    std::unique_ptr<Listener> listener;
    std::unique_ptr<PendingDial> dial;
    std::unique_ptr<RawConnection> client_raw, server_raw;
    std::unique_ptr<NoiseHandshake> handshake;
  } w(null_cipher);
  w.listener = std::move(w.transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                             [&](std::unique_ptr<RawConnection> c) { w.server_raw = std::move(c); }))
                   .value();
  w.dial = w.transport->Dial(w.listener->listen_addr(),
                             [&](StatusOr<std::unique_ptr<RawConnection>> c) { w.client_raw = std::move(c).value(); });
  w.loop.RunUntilIdle();
  EXPECT_NE(w.server_raw, nullptr);
  if (w.server_raw == nullptr) return "";
  w.server_side.Attach(w.server_raw.get());
  w.handshake = NoiseHandshake::Initiate(&w.loop, std::move(w.client_raw), NoiseOptions{&w.key, {}}, std::nullopt,
                                         [](StatusOr<NoiseSession>) {});
  w.loop.RunUntilIdle();
  return w.server_side.data;
}

TEST(NoiseDeterminismTest, EphemeralKeyFollowsTheSeed) {
  const std::string first = FirstHandshakeMessageUnder(1);
  EXPECT_EQ(first.size(), 2u + 32u);  // Length prefix and the ephemeral public key.
  EXPECT_EQ(FirstHandshakeMessageUnder(1), first);
  EXPECT_NE(FirstHandshakeMessageUnder(2), first);
}

TEST(NoiseNullCipherTest, TheStandInKeyAgreementDrawsTheKeyWithoutTheCurve) {
  std::string drawn(32, '\0');
  {
    ScopedDeterministicRandom scope(3);
    RandomBytes(MutableByteSpan(reinterpret_cast<uint8_t*>(drawn.data()), drawn.size()));
  }
  const std::string real = FirstHandshakeMessageUnder(3, false);
  const std::string null = FirstHandshakeMessageUnder(3, true);
  ASSERT_EQ(real.size(), 2u + 32u);
  ASSERT_EQ(null.size(), real.size());
  // The stand-in's ephemeral key is the seed's first 32 bytes as drawn; a real one is their curve point.
  EXPECT_EQ(null.substr(2), drawn);
  EXPECT_NE(real.substr(2), drawn);
}

TEST(NoisePayloadTest, SignatureMustCoverTheStaticKey) {
  const Ed25519PrivateKey id = KeyFromSeed("id");
  const auto static_key = crypto::X25519KeyPair::Generate();
  const auto other_static = crypto::X25519KeyPair::Generate();
  const Bytes payload = MakeNoisePayload(id, static_key.public_key(), {"/yamux/1.0.0"});
  auto ok = VerifyNoisePayload(payload, static_key.public_key());
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->peer == PeerId::FromPublicKey(id.public_key()));
  EXPECT_EQ(ok->muxers, std::vector<std::string>{"/yamux/1.0.0"});
  // A payload replayed on another Noise static key.
  EXPECT_EQ(VerifyNoisePayload(payload, other_static.public_key()).status().code(), StatusCode::kUnauthenticated);
  // An identity key swapped for another one: the signature was not made by it.
  auto decoded = *NoiseHandshakePayload::Decode(payload);
  decoded.identity_key = KeyFromSeed("impostor").public_key().ToProtobuf();
  EXPECT_EQ(VerifyNoisePayload(decoded.Encode(), static_key.public_key()).status().code(),
            StatusCode::kUnauthenticated);
  // A flipped signature bit.
  decoded = *NoiseHandshakePayload::Decode(payload);
  decoded.identity_sig[10] ^= 0x40;
  EXPECT_EQ(VerifyNoisePayload(decoded.Encode(), static_key.public_key()).status().code(),
            StatusCode::kUnauthenticated);
  // No identity at all.
  EXPECT_FALSE(VerifyNoisePayload(Bytes{}, static_key.public_key()).ok());
}

TEST(NoisePayloadTest, EncodeDecodeRoundTrip) {
  NoiseHandshakePayload p;
  p.identity_key = {1, 2, 3};
  p.identity_sig = {4, 5};
  p.stream_muxers = {"/yamux/1.0.0", "/mplex/6.7.0"};
  p.webtransport_certhashes = {{9, 9}};
  auto d = NoiseHandshakePayload::Decode(p.Encode());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->Encode(), p.Encode());
  EXPECT_EQ(d->stream_muxers, p.stream_muxers);
  NoiseHandshakePayload many;
  for (int i = 0; i < 17; ++i) many.stream_muxers.push_back("/m/" + std::to_string(i));
  EXPECT_FALSE(NoiseHandshakePayload::Decode(many.Encode()).ok());
}

}  // namespace
}  // namespace libp2p::stream
