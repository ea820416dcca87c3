#include "libp2p/stream/identify.h"

#include <algorithm>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/proto_wire.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyFromSeed(uint8_t seed) { return *Ed25519PrivateKey::FromSeed(Bytes(32, seed)); }
Multiaddr Addr(std::string_view text) { return *Multiaddr::FromString(text); }

// A signed peer record of `key`'s peer listing one address.
Bytes SignedRecord(const Ed25519PrivateKey& key) {
  const crypto::PeerRecord record{
      PeerId::FromPublicKey(key.public_key()), 7, {Addr("/ip4/1.2.3.4/tcp/4001")}};
  return *crypto::SignPeerRecord(key, record);
}

IdentifyInfo FullInfo(const Ed25519PrivateKey& key) {
  IdentifyInfo info;
  info.public_key = key.public_key();
  info.listen_addrs = {Addr("/ip4/1.2.3.4/tcp/4001"), Addr("/ip6/::1/udp/4001/quic-v1"),
                       Addr("/dns4/example.com/tcp/443/wss")};
  info.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/meshsub/1.1.0"};
  info.observed_addr = Addr("/ip4/5.6.7.8/tcp/51234");
  info.protocol_version = "ipfs/0.1.0";
  info.agent_version = "libp2p-cpp/0.1";
  info.signed_peer_record = SignedRecord(key);
  return info;
}

Bytes Framed(ByteSpan message) {
  Bytes out;
  AppendFrame(message, &out);
  return out;
}

TEST(IdentifyInfoTest, FullMessageRoundTrips) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(1));
  const Bytes encoded = info.Encode();
  EXPECT_EQ(encoded[0], 0x0a);  // publicKey, field 1, comes first.
  StatusOr<IdentifyInfo> decoded = IdentifyInfo::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == info);
  EXPECT_EQ(decoded->Encode(), encoded);
}

TEST(IdentifyInfoTest, EmptyMessageAndKnownBytes) {
  StatusOr<IdentifyInfo> empty = IdentifyInfo::Decode(ByteSpan());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(*empty == IdentifyInfo());
  IdentifyInfo info;
  info.agent_version = "a";
  info.protocols = {"/p"};
  // protocols (3) "/p", then agentVersion (6) "a".
  EXPECT_EQ(HexEncode(info.Encode()), "1a022f70320161");
}

TEST(IdentifyInfoTest, FieldsInAnyOrderAndLastSingularValueWins) {
  Bytes m;
  proto::AppendBytesField(6, "first", &m);
  proto::AppendBytesField(3, "/b", &m);
  proto::AppendBytesField(4, Addr("/ip4/1.1.1.1/tcp/1").bytes(), &m);
  proto::AppendBytesField(6, "second", &m);
  proto::AppendBytesField(3, "/a", &m);
  proto::AppendBytesField(4, Addr("/ip4/2.2.2.2/tcp/2").bytes(), &m);
  StatusOr<IdentifyInfo> d = IdentifyInfo::Decode(m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->agent_version, "second");
  EXPECT_EQ(d->protocols, (std::vector<std::string>{"/b", "/a"}));
  EXPECT_TRUE(d->observed_addr == Addr("/ip4/2.2.2.2/tcp/2"));
}

TEST(IdentifyInfoTest, UnknownFieldsAreSkipped) {
  Bytes m;
  proto::AppendVarintField(7, 12345, &m);
  proto::AppendBytesField(100, "future", &m);
  proto::AppendBytesField(6, "agent", &m);
  m.insert(m.end(), {0x4d, 1, 2, 3, 4});              // Field 9, fixed32.
  m.insert(m.end(), {0x51, 1, 2, 3, 4, 5, 6, 7, 8});  // Field 10, fixed64.
  proto::AppendVarintField(5, 1, &m);  // A known field with the wrong wire type counts as unknown.
  StatusOr<IdentifyInfo> d = IdentifyInfo::Decode(m);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->agent_version, "agent");
  EXPECT_EQ(d->protocol_version, "");
  EXPECT_EQ(HexEncode(d->Encode()), "3205" + HexEncode(AsBytes("agent")));
}

TEST(IdentifyInfoTest, InvalidAddressesAreSkipped) {
  Bytes m;
  proto::AppendBytesField(2, Bytes{0x80, 0x80, 0x01, 0x00}, &m);  // Protocol code 16384: unknown to us.
  proto::AppendBytesField(2, Addr("/ip4/1.2.3.4/tcp/1").bytes(), &m);
  proto::AppendBytesField(2, Bytes{}, &m);
  proto::AppendBytesField(2, Bytes{0x04, 1, 2}, &m);  // A truncated ip4.
  proto::AppendBytesField(4, Bytes{0x04, 1, 2, 3, 4, 0x99}, &m);
  StatusOr<IdentifyInfo> d = IdentifyInfo::Decode(m);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->listen_addrs.size(), 1u);
  EXPECT_TRUE(d->listen_addrs[0] == Addr("/ip4/1.2.3.4/tcp/1"));
  EXPECT_FALSE(d->observed_addr.has_value());
}

TEST(IdentifyInfoTest, InvalidPublicKeyIsAnError) {
  Bytes m;
  proto::AppendBytesField(1, Bytes{0x08, 0x01, 0x12, 0x03, 1, 2, 3}, &m);  // Ed25519 with 3 key bytes.
  EXPECT_EQ(IdentifyInfo::Decode(m).status().code(), StatusCode::kInvalidArgument);
  Bytes empty_key;
  proto::AppendBytesField(1, Bytes{}, &empty_key);
  EXPECT_EQ(IdentifyInfo::Decode(empty_key).status().code(), StatusCode::kInvalidArgument);
}

TEST(IdentifyInfoTest, MalformedProtobufIsAnError) {
  EXPECT_EQ(IdentifyInfo::Decode(Bytes{0x32, 0x05, 'a'}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(IdentifyInfo::Decode(Bytes{0x33}).status().code(), StatusCode::kInvalidArgument);  // A group.
  EXPECT_EQ(IdentifyInfo::Decode(Bytes{0x32}).status().code(), StatusCode::kInvalidArgument);
}

TEST(IdentifyInfoTest, LimitsAreEnforced) {
  auto with_addrs = [](size_t n) {
    Bytes m;
    // Invalid addresses count too.
    for (size_t i = 0; i < n; ++i) proto::AppendBytesField(2, Bytes{0xff}, &m);
    return m;
  };
  EXPECT_TRUE(IdentifyInfo::Decode(with_addrs(kMaxIdentifyListenAddrs)).ok());
  EXPECT_EQ(IdentifyInfo::Decode(with_addrs(kMaxIdentifyListenAddrs + 1)).status().code(),
            StatusCode::kInvalidArgument);

  auto with_protocols = [](size_t n, size_t length) {
    Bytes m;
    for (size_t i = 0; i < n; ++i) proto::AppendBytesField(3, std::string(length, 'p'), &m);
    return m;
  };
  StatusOr<IdentifyInfo> most = IdentifyInfo::Decode(with_protocols(kMaxIdentifyProtocols, 10));
  ASSERT_TRUE(most.ok());
  EXPECT_EQ(most->protocols.size(), kMaxIdentifyProtocols);
  EXPECT_EQ(IdentifyInfo::Decode(with_protocols(kMaxIdentifyProtocols + 1, 10)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(IdentifyInfo::Decode(with_protocols(1, kMaxIdentifyProtocolLength)).ok());
  EXPECT_EQ(IdentifyInfo::Decode(with_protocols(1, kMaxIdentifyProtocolLength + 1)).status().code(),
            StatusCode::kInvalidArgument);

  Bytes big;
  proto::AppendBytesField(6, std::string(kMaxIdentifyMessageSize, 'a'), &big);
  EXPECT_EQ(IdentifyInfo::Decode(big).status().code(), StatusCode::kOutOfRange);
}

class IdentifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = transport_->Listen(Addr("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      client_ = std::move(c).value();
    });
    loop_.RunUntilIdle();
    ASSERT_NE(client_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  // Starts a request on the client side, recording its result.
  void StartRequest(Duration timeout = seconds(10), Duration more_parts_wait = kIdentifyMorePartsWait) {
    request_ = IdentifyRequest::Start(
        &loop_, client_.get(), timeout,
        [this](StatusOr<IdentifyInfo> r) {
          ++calls_;
          result_ = std::move(r);
        },
        more_parts_wait);
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_, server_;
  std::unique_ptr<IdentifyRequest> request_;
  StatusOr<IdentifyInfo> result_ = CancelledError("unset");
  int calls_ = 0;
};

TEST_F(IdentifyTest, AnswerAndRequestOverAConnection) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(2));
  StartRequest();
  EXPECT_EQ(calls_, 0);  // Never from inside Start().
  testing::Recorder server_side;
  server_side.Attach(server_.get());
  AnswerIdentify(server_.get(), info);
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_TRUE(*result_ == info);
  // The asker is done with the stream and closes it; the answerer sees its end.
  client_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(server_side.eof);
  EXPECT_TRUE(server_side.data.empty());
  EXPECT_EQ(CheckIdentifyMatchesPeer(*result_, PeerId::FromPublicKey(KeyFromSeed(2).public_key())),
            OkStatus());
}

TEST_F(IdentifyTest, AnswerSentBeforeTheRequestStarts) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(2));
  AnswerIdentify(server_.get(), info);
  loop_.RunUntilIdle();  // The answer and the end of stream wait in the client's stream.
  StartRequest();
  loop_.RunUntilIdle();
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, MessageSplitAtEveryOffset) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(3));
  const Bytes framed = Framed(info.Encode());
  for (size_t split = 0; split <= framed.size(); ++split) {
    SetUp();
    calls_ = 0;
    StartRequest();
    ASSERT_TRUE(server_->Write(ByteSpan(framed).first(split)).ok());
    loop_.RunUntilIdle();
    ASSERT_TRUE(server_->Write(ByteSpan(framed).subspan(split)).ok());
    loop_.RunUntilIdle();
    server_->CloseWrite();
    loop_.RunUntilIdle();
    ASSERT_EQ(calls_, 1) << "split at " << split;
    ASSERT_TRUE(result_.ok()) << "split at " << split << ": " << result_.status().ToString();
    EXPECT_TRUE(*result_ == info) << "split at " << split;
    request_.reset();
  }
}

TEST_F(IdentifyTest, MessageOneByteAtATime) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(3));
  const Bytes framed = Framed(info.Encode());
  StartRequest();
  for (uint8_t b : framed) {
    ASSERT_TRUE(server_->Write(Bytes{b}).ok());
    loop_.RunUntilIdle();
  }
  server_->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, CompleteMessageIsAcceptedWithoutEndOfStream) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(4));
  StartRequest();
  ASSERT_TRUE(server_->Write(Framed(info.Encode())).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(calls_, 0);  // Waiting briefly for more parts or the end of stream.
  loop_.AdvanceTime(kIdentifyMorePartsWait);
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(result_.ok());
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, ZeroWaitAcceptsAsSoonAsTheMessageIsComplete) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(4));
  StartRequest(seconds(10), Duration::zero());
  ASSERT_TRUE(server_->Write(Framed(info.Encode())).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(result_.ok());
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, PartsAreMergedUpToEndOfStream) {
  // go-libp2p sends a large answer as the message without its signed record, then the record alone.
  const IdentifyInfo info = FullInfo(KeyFromSeed(5));
  IdentifyInfo first = info;
  first.signed_peer_record.clear();
  IdentifyInfo second;
  second.signed_peer_record = info.signed_peer_record;
  StartRequest();
  ASSERT_TRUE(server_->Write(Framed(first.Encode())).ok());
  loop_.RunUntilIdle();
  loop_.AdvanceTime(kIdentifyMorePartsWait - milliseconds(1));
  ASSERT_TRUE(server_->Write(Framed(second.Encode())).ok());
  server_->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, TooManyPartsAreRefused) {
  StartRequest();
  Bytes parts;
  for (size_t i = 0; i <= kMaxIdentifyParts; ++i) AppendFrame(IdentifyInfo{}.Encode(), &parts);
  ASSERT_TRUE(server_->Write(parts).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IdentifyTest, OversizedMessageIsRefusedFromItsLengthPrefix) {
  StartRequest();
  Bytes prefix;
  AppendUvarint(kMaxIdentifyMessageSize + 1, &prefix);
  ASSERT_TRUE(server_->Write(prefix).ok());  // No body follows: the prefix alone is enough to refuse.
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kOutOfRange);
}

TEST_F(IdentifyTest, PartsTogetherMayNotExceedTheLimit) {
  StartRequest();
  IdentifyInfo half;
  half.agent_version = std::string(kMaxIdentifyMessageSize / 2, 'a');
  const Bytes framed = Framed(half.Encode());
  ASSERT_TRUE(server_->Write(framed).ok());
  ASSERT_TRUE(server_->Write(framed).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kOutOfRange);
}

TEST_F(IdentifyTest, MaximumSizeMessageIsAccepted) {
  IdentifyInfo info;
  info.agent_version = std::string(kMaxIdentifyMessageSize - 4, 'a');  // Tag and 3-byte length: 64 KiB.
  ASSERT_EQ(info.Encode().size(), kMaxIdentifyMessageSize);
  StartRequest();
  AnswerIdentify(server_.get(), info);
  loop_.RunUntilIdle();
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_->agent_version.size(), kMaxIdentifyMessageSize - 4);
}

TEST_F(IdentifyTest, AnsweringWithAnOversizedMessageResetsTheStream) {
  IdentifyInfo info;
  info.agent_version = std::string(kMaxIdentifyMessageSize, 'a');
  StartRequest();
  AnswerIdentify(server_.get(), info);
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
}

TEST_F(IdentifyTest, EndOfStreamInsideAMessageIsAnError) {
  const Bytes framed = Framed(FullInfo(KeyFromSeed(6)).Encode());
  StartRequest();
  ASSERT_TRUE(server_->Write(ByteSpan(framed).first(framed.size() - 1)).ok());
  server_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IdentifyTest, EndOfStreamWithoutAMessageIsUnavailable) {
  StartRequest();
  server_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
}

TEST_F(IdentifyTest, MalformedMessageIsAnError) {
  StartRequest();
  ASSERT_TRUE(server_->Write(Framed(Bytes{0x32, 0x09, 'x'})).ok());  // The field overruns its part.
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IdentifyTest, ResetIsUnavailable) {
  StartRequest();
  server_->Reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
}

TEST_F(IdentifyTest, SilentPeerTimesOut) {
  StartRequest(seconds(5));
  loop_.AdvanceTime(seconds(5) - milliseconds(1));
  EXPECT_EQ(calls_, 0);
  loop_.AdvanceTime(milliseconds(1));
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(IdentifyTest, TimeoutWithACompleteMessageReturnsIt) {
  const IdentifyInfo info = FullInfo(KeyFromSeed(7));
  const Bytes second = Framed(info.Encode());
  // The more-parts wait is longer than the timeout, and a second part never completes.
  StartRequest(seconds(5), seconds(60));
  ASSERT_TRUE(server_->Write(Framed(info.Encode())).ok());
  ASSERT_TRUE(server_->Write(ByteSpan(second).first(10)).ok());
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(5));
  ASSERT_EQ(calls_, 1);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_TRUE(*result_ == info);
}

TEST_F(IdentifyTest, DestroyingTheRequestCancelsIt) {
  StartRequest(seconds(1));
  AnswerIdentify(server_.get(), FullInfo(KeyFromSeed(8)));
  request_.reset();
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  EXPECT_EQ(calls_, 0);
  // The stream's handlers were cleared: the answer is still there for another reader.
  StartRequest();
  loop_.RunUntilIdle();
  ASSERT_EQ(calls_, 1);
  EXPECT_TRUE(result_.ok()) << result_.status().ToString();
}

TEST_F(IdentifyTest, CallbackMayDestroyTheRequest) {
  request_ = IdentifyRequest::Start(&loop_, client_.get(), seconds(10), [this](StatusOr<IdentifyInfo> r) {
    ++calls_;
    request_.reset();
  });
  AnswerIdentify(server_.get(), IdentifyInfo{});
  loop_.RunUntilIdle();
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(request_, nullptr);
}

TEST_F(IdentifyTest, PushUsesTheSameFraming) {
  // The opener of a push stream writes and closes; the other side reads.
  const IdentifyInfo info = FullInfo(KeyFromSeed(9));
  request_ = IdentifyRequest::Start(&loop_, server_.get(), seconds(10), [this](StatusOr<IdentifyInfo> r) {
    ++calls_;
    result_ = std::move(r);
  });
  AnswerIdentify(client_.get(), info);
  loop_.RunUntilIdle();
  ASSERT_TRUE(result_.ok());
  EXPECT_TRUE(*result_ == info);
}

TEST(CheckIdentifyMatchesPeerTest, KeysAndRecords) {
  const Ed25519PrivateKey key = KeyFromSeed(10);
  const Ed25519PrivateKey other = KeyFromSeed(11);
  const PeerId peer = PeerId::FromPublicKey(key.public_key());

  IdentifyInfo info;
  info.public_key = key.public_key();
  EXPECT_EQ(CheckIdentifyMatchesPeer(info, peer), OkStatus());

  IdentifyInfo missing;
  EXPECT_EQ(CheckIdentifyMatchesPeer(missing, peer).code(), StatusCode::kUnauthenticated);

  IdentifyInfo wrong_key;
  wrong_key.public_key = other.public_key();
  EXPECT_EQ(CheckIdentifyMatchesPeer(wrong_key, peer).code(), StatusCode::kUnauthenticated);

  IdentifyInfo with_record = info;
  with_record.signed_peer_record = SignedRecord(key);
  EXPECT_EQ(CheckIdentifyMatchesPeer(with_record, peer), OkStatus());

  // Another peer's valid record attached to our key.
  IdentifyInfo foreign_record = info;
  foreign_record.signed_peer_record = SignedRecord(other);
  EXPECT_EQ(CheckIdentifyMatchesPeer(foreign_record, peer).code(), StatusCode::kUnauthenticated);

  // Our record with one byte of its signature (the envelope's last field) flipped.
  IdentifyInfo forged = with_record;
  forged.signed_peer_record.back() ^= 1;
  EXPECT_EQ(CheckIdentifyMatchesPeer(forged, peer).code(), StatusCode::kUnauthenticated);

  // Our record with its address changed but the old signature kept.
  IdentifyInfo altered = with_record;
  const Bytes old_addr = Addr("/ip4/1.2.3.4/tcp/4001").bytes();
  auto it = std::search(altered.signed_peer_record.begin(), altered.signed_peer_record.end(),
                        old_addr.begin(), old_addr.end());
  ASSERT_NE(it, altered.signed_peer_record.end());
  it[1] ^= 1;  // 1.2.3.4 becomes 0.2.3.4.
  EXPECT_EQ(CheckIdentifyMatchesPeer(altered, peer).code(), StatusCode::kUnauthenticated);

  IdentifyInfo garbage = info;
  garbage.signed_peer_record = Bytes{1, 2, 3};
  EXPECT_EQ(CheckIdentifyMatchesPeer(garbage, peer).code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace libp2p::stream
