#include "libp2p/stream/mplex.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using testing::Recorder;

Bytes Frame(uint64_t id, MplexFlag flag, std::string_view data = "") {
  return EncodeMplexFrame(MplexFrame{id, flag, ToBytes(data)});
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Distinct, position-dependent bytes, so that reordering or loss shows.
std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed * 7 + i / 251) & 0xff);
  return s;
}

// --- The wire format.

TEST(MplexFrameTest, EncodesHeaderLengthAndData) {
  // NewStream for stream 3 named "3": header 3 << 3 | 0 = 0x18.
  EXPECT_EQ(EncodeMplexFrame({3, MplexFlag::kNewStream, ToBytes("3")}), (Bytes{0x18, 0x01, '3'}));
  // MessageInitiator on stream 17: header 17 << 3 | 2 = 138, a two-byte varint.
  EXPECT_EQ(EncodeMplexFrame({17, MplexFlag::kMessageInitiator, ToBytes("hi")}),
            (Bytes{0x8a, 0x01, 0x02, 'h', 'i'}));
  EXPECT_EQ(EncodeMplexFrame({0, MplexFlag::kResetReceiver, {}}), (Bytes{0x05, 0x00}));
}

TEST(MplexFrameTest, DecodeInvertsEncode) {
  const std::vector<MplexFrame> frames = {
      {0, MplexFlag::kNewStream, {}},
      {1, MplexFlag::kMessageReceiver, ToBytes("data")},
      {kMplexMaxStreamId, MplexFlag::kResetInitiator, {}},
      {12345, MplexFlag::kCloseReceiver, {}},
      {7, MplexFlag::kMessageInitiator, Bytes(kMplexMaxMessageSize, 0x5a)},
  };
  for (const MplexFrame& f : frames) {
    StatusOr<MplexFrame> d = DecodeMplexFrame(EncodeMplexFrame(f));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_TRUE(*d == f) << f.id;
  }
}

TEST(MplexFrameTest, RejectsMalformedMessages) {
  struct Case {
    Bytes bytes;
    StatusCode code;
  };
  Bytes oversized;
  AppendUvarint(1 << 3 | 2, &oversized);
  AppendUvarint(kMplexMaxMessageSize + 1, &oversized);
  const std::vector<Case> cases = {
      {{0x07, 0x00}, StatusCode::kInvalidArgument},               // Flag 7 does not exist.
      {{0x82, 0x00, 0x00}, StatusCode::kInvalidArgument},         // Non-minimal header varint.
      {Bytes(10, 0xff), StatusCode::kInvalidArgument},            // Header varint over 9 bytes.
      {{0x02, 0x85, 0x00}, StatusCode::kInvalidArgument},         // Non-minimal length varint.
      {oversized, StatusCode::kOutOfRange},                       // 1 MiB + 1.
      {{0x02, 0x80, 0x80, 0x80, 0x01}, StatusCode::kOutOfRange},  // A 4-byte length: 2^21 at least.
      {{0x02, 0x03, 'a'}, StatusCode::kInvalidArgument},          // Truncated data.
      {{0x02}, StatusCode::kInvalidArgument},                     // No length.
      {{0x02, 0x01, 'a', 'b'}, StatusCode::kInvalidArgument},     // Trailing byte.
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeMplexFrame(c.bytes).status().code(), c.code) << HexEncode(c.bytes);
  }
}

TEST(MplexFrameTest, OversizedLengthIsRefusedBeforeAnyData) {
  MplexFrameDecoder decoder;
  Bytes header;
  AppendUvarint(5 << 3 | 1, &header);
  AppendUvarint(uint64_t{1} << 40, &header);
  ByteSpan in(header);
  MplexFrameDecoder::View frame;
  StatusOr<bool> r = decoder.Next(&in, &frame);
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_LE(decoder.buffered_bytes(), 2 * kMaxUvarintLength);
  // Failed for good.
  const Bytes good = Frame(1, MplexFlag::kMessageReceiver, "x");
  ByteSpan again(good);
  EXPECT_EQ(decoder.Next(&again, &frame).status().code(), StatusCode::kOutOfRange);
}

TEST(MplexFrameTest, DecoderHandlesEverySplit) {
  const Bytes wire =
      Concat({Frame(0, MplexFlag::kNewStream, "0"), Frame(0, MplexFlag::kMessageInitiator, "hello"),
              Frame(300, MplexFlag::kMessageReceiver, std::string(200, 'z')),
              Frame(0, MplexFlag::kCloseInitiator), Frame(1ull << 50, MplexFlag::kResetReceiver)});
  auto decode_in_pieces = [&](const std::vector<size_t>& cuts) {
    MplexFrameDecoder decoder;
    std::vector<MplexFrame> out;
    size_t start = 0;
    for (size_t i = 0; i <= cuts.size(); ++i) {
      const size_t end = i < cuts.size() ? cuts[i] : wire.size();
      ByteSpan in = ByteSpan(wire).subspan(start, end - start);
      MplexFrameDecoder::View v;
      while (true) {
        StatusOr<bool> r = decoder.Next(&in, &v);
        EXPECT_TRUE(r.ok());
        if (!r.ok() || !*r) break;
        out.push_back({v.id, v.flag, Bytes(v.data.begin(), v.data.end())});
      }
      EXPECT_TRUE(in.empty());
      start = end;
    }
    EXPECT_TRUE(decoder.at_boundary());
    return out;
  };
  const std::vector<MplexFrame> whole = decode_in_pieces({});
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[2].id, 300u);
  EXPECT_EQ(whole[2].data.size(), 200u);
  EXPECT_EQ(whole[4].id, 1ull << 50);
  for (size_t k = 0; k <= wire.size(); ++k) EXPECT_TRUE(decode_in_pieces({k}) == whole) << k;
  std::vector<size_t> every;
  for (size_t k = 1; k < wire.size(); ++k) every.push_back(k);
  EXPECT_TRUE(decode_in_pieces(every) == whole);
}

// --- The muxer over an in-memory connection.

struct RawPair {
  std::unique_ptr<RawConnection> client;
  std::unique_ptr<RawConnection> server;
};

// One side of a muxed connection: the streams the remote opened and the on_closed reasons.
struct Side {
  std::unique_ptr<MuxedConnection> conn;
  std::vector<std::unique_ptr<Stream>> accepted;
  std::vector<Recorder*> recs;  // A recorder attached to each accepted stream when record_accepted.
  std::vector<Status> closed;
  bool record_accepted = true;
};

class MplexTest : public ::testing::Test {
 protected:
  RawPair ConnectRaw(WriteLimits wire = {}) {
    network_ = std::make_unique<MemoryNetwork>(&loop_, wire);
    auto transport = network_->CreateTransport();
    RawPair pair;
    auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> c) { pair.server = std::move(c); });
    auto dial = transport->Dial(listener->listen_addr(), [&](StatusOr<std::unique_ptr<RawConnection>> c) {
      pair.client = std::move(c).value();
    });
    loop_.RunUntilIdle();
    EXPECT_NE(pair.client, nullptr);
    EXPECT_NE(pair.server, nullptr);
    return pair;
  }

  MuxedConnection::Handlers HandlersFor(Side* side) {
    return {[this, side](std::unique_ptr<Stream> s) {
              if (side->record_accepted) side->recs.push_back(Record(s.get()));
              side->accepted.push_back(std::move(s));
            },
            [side](const Status& s) { side->closed.push_back(s); }};
  }

  // Mplex on both ends.
  void Start(MuxerLimits client_limits = {}, MuxerLimits server_limits = {}, WriteLimits wire = {}) {
    RawPair raw = ConnectRaw(wire);
    client_.conn =
        CreateMplexConnection(&loop_, std::move(raw.client), true, HandlersFor(&client_), client_limits);
    server_.conn =
        CreateMplexConnection(&loop_, std::move(raw.server), false, HandlersFor(&server_), server_limits);
  }

  // Mplex on the client end only; the test plays the remote through remote_ and sees what we send in
  // remote_rec_.
  void StartWithRawRemote(MuxerLimits limits = {}) {
    client_ = Side{};
    remote_.reset();
    remote_rec_ = Recorder{};
    RawPair raw = ConnectRaw();
    client_.conn = CreateMplexConnection(&loop_, std::move(raw.client), true, HandlersFor(&client_), limits);
    remote_ = std::move(raw.server);
    remote_rec_.Attach(remote_.get());
  }

  void RemoteSends(const Bytes& bytes) {
    ASSERT_TRUE(remote_->Write(bytes).ok());
    loop_.RunUntilIdle();
  }

  std::unique_ptr<Stream> Open(Side* side) {
    StatusOr<std::unique_ptr<Stream>> s = side->conn->OpenStream();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  Recorder* Record(Stream* s) {
    recorders_.emplace_back();
    recorders_.back().Attach(s);
    return &recorders_.back();
  }

  ManualEventLoop loop_;
  std::unique_ptr<MemoryNetwork> network_;
  std::deque<Recorder> recorders_;  // Outlives the streams below.
  Recorder remote_rec_;
  Side client_, server_;
  std::unique_ptr<RawConnection> remote_;
};

TEST_F(MplexTest, OpensStreamsBothWaysAndExchangesData) {
  Start();
  EXPECT_EQ(client_.conn->protocol(), kMplexProtocolId);
  auto c1 = Open(&client_);
  auto s1 = Open(&server_);
  Recorder* rc1 = Record(c1.get());
  Recorder* rs1 = Record(s1.get());
  ASSERT_TRUE(c1->Write(AsBytes("from client")).ok());
  ASSERT_TRUE(s1->Write(AsBytes("from server")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  ASSERT_EQ(client_.accepted.size(), 1u);
  Recorder* as1 = server_.recs[0];
  Recorder* ac1 = client_.recs[0];
  loop_.RunUntilIdle();
  EXPECT_EQ(as1->data, "from client");
  EXPECT_EQ(ac1->data, "from server");
  ASSERT_TRUE(server_.accepted[0]->Write(AsBytes("reply 1")).ok());
  ASSERT_TRUE(client_.accepted[0]->Write(AsBytes("reply 2")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(rc1->data, "reply 1");
  EXPECT_EQ(rs1->data, "reply 2");
  EXPECT_EQ(client_.conn->stream_count(), 2u);
  EXPECT_EQ(server_.conn->stream_count(), 2u);
  EXPECT_TRUE(client_.closed.empty() && server_.closed.empty());
}

TEST_F(MplexTest, LargeWritesAreCutIntoMessagesAndArriveWhole) {
  Start();
  auto c = Open(&client_);
  const std::string big = Pattern(3 * kMplexMaxMessageSize + 12345, 1);
  ASSERT_TRUE(c->Write(AsBytes(big)).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* r = server_.recs[0];
  loop_.RunUntilIdle();
  EXPECT_TRUE(r->data == big);
}

TEST_F(MplexTest, WireFormatUsesInitiatorAndReceiverFlags) {
  StartWithRawRemote();
  auto ours = Open(&client_);
  ASSERT_TRUE(ours->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(
      remote_rec_.data,
      ToString(Concat({Frame(0, MplexFlag::kNewStream, "0"), Frame(0, MplexFlag::kMessageInitiator, "x")})));
  remote_rec_.data.clear();
  // The remote opens its own stream 0: a different stream from ours with the same number.
  RemoteSends(
      Concat({Frame(0, MplexFlag::kNewStream, ""), Frame(0, MplexFlag::kMessageInitiator, "to theirs"),
              Frame(0, MplexFlag::kMessageReceiver, "to ours")}));
  ASSERT_EQ(client_.accepted.size(), 1u);
  Recorder* theirs = client_.recs[0];
  Recorder* mine = Record(ours.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(theirs->data, "to theirs");
  EXPECT_EQ(mine->data, "to ours");
  ASSERT_TRUE(client_.accepted[0]->Write(AsBytes("y")).ok());
  client_.accepted[0]->CloseWrite();
  ours->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(remote_rec_.data,
            ToString(Concat({Frame(0, MplexFlag::kMessageReceiver, "y"), Frame(0, MplexFlag::kCloseReceiver),
                             Frame(0, MplexFlag::kCloseInitiator)})));
  ours.reset();  // Still open for reading: destroying it resets it.
  loop_.RunUntilIdle();
  EXPECT_EQ(remote_rec_.data.substr(remote_rec_.data.size() - 2),
            ToString(Frame(0, MplexFlag::kResetInitiator)));
}

TEST_F(MplexTest, ManyConcurrentStreamsInterleaved) {
  Start();
  constexpr int kStreams = 200;
  constexpr int kRounds = 5;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<Recorder*> replies;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(Open(&client_));
    replies.push_back(Record(streams.back().get()));
  }
  // Each round writes a piece of every stream's message, so the streams' messages interleave on the wire.
  std::vector<std::string> sent(kStreams);
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kStreams; ++i) {
      const std::string piece = Pattern(100 + 37 * ((i + round) % 11), i * kRounds + round);
      sent[i] += piece;
      ASSERT_TRUE(streams[i]->Write(AsBytes(piece)).ok());
    }
    if (round == 1) loop_.RunUntilIdle();
  }
  for (auto& s : streams) s->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), static_cast<size_t>(kStreams));
  const std::vector<Recorder*>& received = server_.recs;
  // Accepted in opening order; each echoes what it got.
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_TRUE(received[i]->data == sent[i]) << i;
    EXPECT_TRUE(received[i]->eof) << i;
    ASSERT_TRUE(server_.accepted[i]->Write(AsBytes(received[i]->data)).ok());
    server_.accepted[i]->CloseWrite();
  }
  loop_.RunUntilIdle();
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_TRUE(replies[i]->data == sent[i]) << i;
    EXPECT_TRUE(replies[i]->eof) << i;
  }
  EXPECT_EQ(client_.conn->stream_count(), 0u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, HalfCloseOnEachSideIndependently) {
  Start();
  auto c = Open(&client_);
  Recorder* rc = Record(c.get());
  ASSERT_TRUE(c->Write(AsBytes("request")).ok());
  c->CloseWrite();
  c->CloseWrite();  // Idempotent.
  EXPECT_EQ(c->Write(AsBytes("more")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Stream* s = server_.accepted[0].get();
  Recorder* rs = server_.recs[0];
  EXPECT_EQ(rs->data, "request");
  EXPECT_TRUE(rs->eof);
  // The server's direction is still open.
  ASSERT_TRUE(s->Write(AsBytes("response part 1, ")).ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(s->Write(AsBytes("part 2")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(rc->data, "response part 1, part 2");
  EXPECT_FALSE(rc->eof);
  EXPECT_EQ(client_.conn->stream_count(), 1u);
  s->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rc->eof);
  EXPECT_FALSE(rc->errored);
  EXPECT_FALSE(rs->errored);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);

  // And the other way round: the acceptor closes first.
  auto c2 = Open(&client_);
  Recorder* rc2 = Record(c2.get());
  ASSERT_TRUE(c2->Write(AsBytes("hi")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 2u);
  Stream* s2 = server_.accepted[1].get();
  Recorder* rs2 = server_.recs[1];
  ASSERT_TRUE(s2->Write(AsBytes("bye")).ok());
  s2->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(rc2->data, "bye");
  EXPECT_TRUE(rc2->eof);
  ASSERT_TRUE(c2->Write(AsBytes(" after their close")).ok());
  c2->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(rs2->data, "hi after their close");
  EXPECT_TRUE(rs2->eof);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, ResetByTheOpener) {
  Start();
  auto c = Open(&client_);
  ASSERT_TRUE(c->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = server_.recs[0];
  c->Reset();
  c->Reset();  // Idempotent.
  EXPECT_EQ(c->Write(AsBytes("y")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->errored);
  EXPECT_EQ(rs->error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_.accepted[0]->Write(AsBytes("z")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, ResetByTheAcceptor) {
  Start();
  auto c = Open(&client_);
  Recorder* rc = Record(c.get());
  ASSERT_TRUE(c->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  server_.accepted[0]->Reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rc->errored);
  EXPECT_EQ(rc->error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(c->Write(AsBytes("y")).code(), StatusCode::kUnavailable);
  // A stream failed by the remote accepts Reset() and CloseWrite() quietly.
  c->CloseWrite();
  c->Reset();
  EXPECT_EQ(client_.conn->stream_count(), 0u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, DestroyingAnOpenStreamResetsIt) {
  Start();
  auto c = Open(&client_);
  ASSERT_TRUE(c->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = server_.recs[0];
  c.reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->errored);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
  // Dropping an accepted stream resets it too.
  auto c2 = Open(&client_);
  Recorder* rc2 = Record(c2.get());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 2u);
  server_.accepted[1].reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rc2->errored);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, PausedReaderGetsEverythingWhenItResumes) {
  Start();
  auto c = Open(&client_);
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Stream* s = server_.accepted[0].get();
  Recorder* rs = server_.recs[0];
  s->PauseReading(true);
  const std::string data = Pattern(300000, 3);
  ASSERT_TRUE(c->Write(AsBytes(data)).ok());
  c->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->data.empty());
  EXPECT_FALSE(rs->eof);
  s->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->data == data);
  EXPECT_TRUE(rs->eof);
  EXPECT_FALSE(rs->errored);
}

TEST_F(MplexTest, BytesBeforeHandlersAreSetAreKept) {
  Start();
  server_.record_accepted = false;
  auto c = Open(&client_);
  const std::string data = Pattern(200000, 4);
  ASSERT_TRUE(c->Write(AsBytes(data)).ok());
  c->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = Record(server_.accepted[0].get());
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->data == data);
  EXPECT_TRUE(rs->eof);
}

TEST_F(MplexTest, SlowReaderIsResetAtTheLimitWhileOthersContinue) {
  MuxerLimits server_limits;
  server_limits.mplex_max_buffered = 100000;
  Start({}, server_limits);
  auto slow = Open(&client_);
  auto fast = Open(&client_);
  Recorder* slow_client = Record(slow.get());
  Recorder* fast_client = Record(fast.get());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 2u);
  Recorder* slow_server = server_.recs[0];
  Recorder* fast_server = server_.recs[1];
  server_.accepted[0]->PauseReading(true);

  // Up to the limit the bytes wait for the reader.
  ASSERT_TRUE(slow->Write(AsBytes(Pattern(100000, 5))).ok());
  ASSERT_TRUE(fast->Write(AsBytes("one")).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(slow_server->data.empty());
  EXPECT_FALSE(slow_server->errored);
  EXPECT_EQ(fast_server->data, "one");

  // One byte more and the stream is reset, on both sides.
  ASSERT_TRUE(slow->Write(AsBytes("!")).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(slow_server->errored);
  EXPECT_EQ(slow_server->error.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(slow_server->data.empty());
  EXPECT_TRUE(slow_client->errored);
  EXPECT_EQ(slow_client->error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_.accepted[0]->Write(AsBytes("late")).code(), StatusCode::kUnavailable);

  // The other stream and the connection go on.
  ASSERT_TRUE(fast->Write(AsBytes(" two")).ok());
  ASSERT_TRUE(server_.accepted[1]->Write(AsBytes("back")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(fast_server->data, "one two");
  EXPECT_EQ(fast_client->data, "back");
  EXPECT_TRUE(server_.closed.empty());
  EXPECT_EQ(server_.conn->stream_count(), 1u);
  EXPECT_EQ(client_.conn->stream_count(), 1u);
}

TEST_F(MplexTest, FrameSplitAtEveryByteOffset) {
  const Bytes wire =
      Concat({Frame(5, MplexFlag::kNewStream, "5"), Frame(5, MplexFlag::kMessageInitiator, "hello "),
              Frame(5, MplexFlag::kMessageInitiator, std::string(150, 'w')),
              Frame(5, MplexFlag::kMessageInitiator, ""), Frame(5, MplexFlag::kCloseInitiator)});
  const std::string expected = "hello " + std::string(150, 'w');
  for (size_t k = 0; k <= wire.size(); ++k) {
    StartWithRawRemote();
    RemoteSends(Bytes(wire.begin(), wire.begin() + k));
    RemoteSends(Bytes(wire.begin() + k, wire.end()));
    ASSERT_EQ(client_.accepted.size(), 1u) << k;
    Recorder* r = client_.recs[0];
    loop_.RunUntilIdle();
    EXPECT_EQ(r->data, expected) << k;
    EXPECT_TRUE(r->eof) << k;
    EXPECT_TRUE(client_.closed.empty()) << k;
  }
  // And one byte per read.
  StartWithRawRemote();
  for (uint8_t b : wire) RemoteSends(Bytes{b});
  ASSERT_EQ(client_.accepted.size(), 1u);
  Recorder* r = client_.recs[0];
  loop_.RunUntilIdle();
  EXPECT_EQ(r->data, expected);
  EXPECT_TRUE(r->eof);
}

TEST_F(MplexTest, MessageOfTheMaximumSizeIsAccepted) {
  StartWithRawRemote();
  const std::string data = Pattern(kMplexMaxMessageSize, 6);
  RemoteSends(Concat({Frame(1, MplexFlag::kNewStream, "1"), Frame(1, MplexFlag::kMessageInitiator, data)}));
  ASSERT_EQ(client_.accepted.size(), 1u);
  Recorder* r = client_.recs[0];
  loop_.RunUntilIdle();
  EXPECT_TRUE(r->data == data);
  EXPECT_TRUE(client_.closed.empty());
}

TEST_F(MplexTest, OversizedMessageClosesTheConnection) {
  StartWithRawRemote();
  auto ours = Open(&client_);
  Recorder* r = Record(ours.get());
  loop_.RunUntilIdle();
  Bytes header;
  AppendUvarint(0 << 3 | 1, &header);
  AppendUvarint(kMplexMaxMessageSize + 1, &header);
  RemoteSends(header);  // The length alone is enough: no data needs to arrive.
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(client_.closed[0].code(), StatusCode::kOutOfRange);
  EXPECT_NE(client_.closed[0].message().find("mplex protocol error"), std::string::npos);
  EXPECT_TRUE(r->errored);
  EXPECT_EQ(r->error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(ours->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(remote_rec_.errored);  // The secure connection was reset.
  EXPECT_EQ(client_.conn->OpenStream().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, MalformedInputClosesTheConnection) {
  const std::vector<Bytes> inputs = {
      Bytes(10, 0xff),  // Header varint overflow.
      {0x80, 0x00},     // Non-minimal header varint.
      {0x0f, 0x00},     // Flag 7 on stream 1.
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    StartWithRawRemote();
    RemoteSends(Concat({Frame(0, MplexFlag::kNewStream, "0"), inputs[i]}));
    ASSERT_EQ(client_.accepted.size(), 1u) << i;
    ASSERT_EQ(client_.closed.size(), 1u) << i;
    EXPECT_EQ(client_.closed[0].code(), StatusCode::kInvalidArgument) << i;
    EXPECT_TRUE(client_.recs[0]->errored) << i;
    EXPECT_TRUE(remote_rec_.errored) << i;
  }
}

TEST_F(MplexTest, DuplicateNewStreamIsIgnored) {
  StartWithRawRemote();
  RemoteSends(Concat({Frame(7, MplexFlag::kNewStream), Frame(7, MplexFlag::kMessageInitiator, "a"),
                      Frame(7, MplexFlag::kNewStream), Frame(7, MplexFlag::kMessageInitiator, "b"),
                      Frame(8, MplexFlag::kNewStream)}));
  ASSERT_EQ(client_.accepted.size(), 2u);
  EXPECT_EQ(client_.recs[0]->data, "ab");
  EXPECT_FALSE(client_.recs[0]->errored);
  EXPECT_TRUE(client_.closed.empty());
  EXPECT_FALSE(remote_rec_.errored);
}

TEST_F(MplexTest, ReusingAClosedStreamIdIsAllowed) {
  StartWithRawRemote();
  RemoteSends(Frame(4, MplexFlag::kNewStream));
  ASSERT_EQ(client_.accepted.size(), 1u);
  client_.accepted[0]->Reset();
  RemoteSends(
      Concat({Frame(4, MplexFlag::kMessageInitiator, "raced the reset"), Frame(4, MplexFlag::kNewStream)}));
  EXPECT_EQ(client_.accepted.size(), 2u);
  EXPECT_TRUE(client_.closed.empty());
}

TEST_F(MplexTest, MessagesForUnknownStreamsAreIgnored) {
  StartWithRawRemote();
  RemoteSends(Concat({Frame(9, MplexFlag::kMessageInitiator, "nobody"),
                      Frame(9, MplexFlag::kMessageReceiver, "?"), Frame(3, MplexFlag::kCloseInitiator),
                      Frame(3, MplexFlag::kResetReceiver), Frame(3, MplexFlag::kResetInitiator)}));
  EXPECT_TRUE(client_.closed.empty());
  EXPECT_TRUE(client_.accepted.empty());
  EXPECT_TRUE(remote_rec_.data.empty());  // Not even a reset in answer.
  auto s = Open(&client_);
  EXPECT_NE(s, nullptr);
}

TEST_F(MplexTest, InboundStreamLimitResetsTheExtraStreams) {
  MuxerLimits server_limits;
  server_limits.max_inbound_streams = 3;
  Start({}, server_limits);
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<Recorder*> recs;
  for (int i = 0; i < 5; ++i) {
    streams.push_back(Open(&client_));
    recs.push_back(Record(streams.back().get()));
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(server_.accepted.size(), 3u);
  EXPECT_EQ(server_.conn->stream_count(), 3u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(recs[i]->errored, i >= 3) << i;
  EXPECT_EQ(client_.conn->stream_count(), 3u);
  // Once one of them is gone there is room for another.
  server_.accepted[0]->Reset();
  loop_.RunUntilIdle();
  auto again = Open(&client_);
  Recorder* r = Record(again.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(server_.accepted.size(), 4u);
  EXPECT_FALSE(r->errored);
  EXPECT_TRUE(server_.closed.empty());
}

TEST_F(MplexTest, OutboundStreamLimit) {
  MuxerLimits limits;
  limits.max_outbound_streams = 2;
  Start(limits);
  auto a = Open(&client_);
  auto b = Open(&client_);
  EXPECT_EQ(client_.conn->OpenStream().status().code(), StatusCode::kResourceExhausted);
  a.reset();
  EXPECT_NE(Open(&client_), nullptr);
}

TEST_F(MplexTest, RemoteResetOfTheConnectionFailsEveryStream) {
  StartWithRawRemote();
  auto a = Open(&client_);
  auto b = Open(&client_);
  RemoteSends(Frame(0, MplexFlag::kNewStream));
  ASSERT_EQ(client_.accepted.size(), 1u);
  Recorder* ra = Record(a.get());
  Recorder* rb = Record(b.get());
  Recorder* rc = client_.recs[0];
  remote_->Reset();
  loop_.RunUntilIdle();
  for (Recorder* r : {ra, rb, rc}) {
    EXPECT_TRUE(r->errored);
    EXPECT_EQ(r->error.code(), StatusCode::kUnavailable);
  }
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(client_.closed[0].code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(client_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, RemoteVanishingMidStreamFailsEveryStream) {
  Start();
  auto a = Open(&client_);
  Recorder* ra = Record(a.get());
  ASSERT_TRUE(a->Write(AsBytes("half a message")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = server_.recs[0];
  // The remote's whole connection goes away (its secure connection closes under it).
  server_.conn.reset();
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra->errored);
  EXPECT_EQ(ra->error.code(), StatusCode::kUnavailable);
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(client_.closed[0].code(), StatusCode::kUnavailable);
  // The server's stream outlived its connection.
  EXPECT_TRUE(rs->errored);
  EXPECT_EQ(server_.accepted[0]->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
}

TEST_F(MplexTest, SecureConnectionEofFailsEveryStream) {
  StartWithRawRemote();
  auto a = Open(&client_);
  Recorder* ra = Record(a.get());
  loop_.RunUntilIdle();
  remote_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra->errored);
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(client_.closed[0].code(), StatusCode::kUnavailable);
}

TEST_F(MplexTest, StreamsOutliveTheConnection) {
  Start();
  auto a = Open(&client_);
  auto b = Open(&client_);
  Recorder* ra = Record(a.get());
  client_.conn.reset();
  EXPECT_FALSE(ra->errored);  // Failures are delivered from the loop, not from the destructor.
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra->errored);
  EXPECT_EQ(ra->error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->buffered_bytes(), 0u);
  EXPECT_FALSE(a->write_blocked());
  a->CloseWrite();
  a->Reset();
  a.reset();
  b.reset();
  // The remote saw the streams opened, then reset, then the connection end.
  ASSERT_EQ(server_.accepted.size(), 2u);
  for (Recorder* r : server_.recs) EXPECT_TRUE(r->errored);
  ASSERT_EQ(server_.closed.size(), 1u);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
}

TEST_F(MplexTest, CloseResetsStreamsWithoutCallingOnClosed) {
  Start();
  auto a = Open(&client_);
  Recorder* ra = Record(a.get());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = server_.recs[0];
  client_.conn->Close();
  client_.conn->Close();  // Idempotent.
  loop_.RunUntilIdle();
  EXPECT_TRUE(ra->errored);
  EXPECT_EQ(ra->error.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(client_.closed.empty());
  EXPECT_EQ(client_.conn->OpenStream().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(rs->errored);
  EXPECT_NE(rs->error.message().find("reset by the remote"), std::string::npos);
  ASSERT_EQ(server_.closed.size(), 1u);
}

TEST_F(MplexTest, CallbackDestroysItsStream) {
  Start();
  auto c = Open(&client_);
  Recorder* rc = Record(c.get());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  int calls = 0;
  server_.accepted[0]->SetHandlers({[&](ByteSpan) {
                                      ++calls;
                                      server_.accepted[0].reset();
                                    },
                                    {},
                                    {},
                                    {}});
  // Three messages arrive in one read; the stream is gone after the first.
  ASSERT_TRUE(c->Write(AsBytes("one")).ok());
  ASSERT_TRUE(c->Write(AsBytes("two")).ok());
  c->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(rc->errored);
  EXPECT_EQ(server_.conn->stream_count(), 0u);
  EXPECT_TRUE(server_.closed.empty());
  // The connection still works.
  auto d = Open(&client_);
  ASSERT_TRUE(d->Write(AsBytes("x")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(server_.accepted.size(), 2u);
}

TEST_F(MplexTest, DataCallbackDestroysTheConnection) {
  Start();
  auto c = Open(&client_);
  Recorder* rc = Record(c.get());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  int calls = 0;
  server_.accepted[0]->SetHandlers({[&](ByteSpan) {
                                      ++calls;
                                      server_.conn.reset();
                                    },
                                    {},
                                    {},
                                    {}});
  ASSERT_TRUE(c->Write(AsBytes("one")).ok());
  ASSERT_TRUE(c->Write(AsBytes("two")).ok());
  auto other = Open(&client_);
  loop_.RunUntilIdle();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_.accepted.size(), 1u);  // The NewStream behind was not read.
  EXPECT_TRUE(rc->errored);
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(server_.accepted[0]->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
}

TEST_F(MplexTest, OnStreamAndOnClosedMayDestroyTheConnection) {
  RawPair raw = ConnectRaw();
  int accepted = 0;
  server_.conn = CreateMplexConnection(&loop_, std::move(raw.server), false,
                                       {[&](std::unique_ptr<Stream> s) {
                                          ++accepted;
                                          server_.accepted.push_back(std::move(s));
                                          server_.conn.reset();
                                        },
                                        {}});
  int closed = 0;
  client_.conn = CreateMplexConnection(&loop_, std::move(raw.client), true, {{}, [&](const Status&) {
                                                                               ++closed;
                                                                               client_.conn.reset();
                                                                             }});
  auto a = Open(&client_);
  auto b = Open(&client_);
  Recorder* ra = Record(a.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(client_.conn, nullptr);
  EXPECT_TRUE(ra->errored);
}

TEST_F(MplexTest, WriteBackpressureFollowsTheConnection) {
  Start({}, {}, WriteLimits{8 * 1024, 2 * 1024, 16 * 1024 * 1024});
  auto writer = Open(&client_);
  auto idle = Open(&client_);
  Recorder* rw = Record(writer.get());
  Recorder* ri = Record(idle.get());
  loop_.RunUntilIdle();
  EXPECT_FALSE(writer->write_blocked());
  ASSERT_TRUE(writer->Write(AsBytes(Pattern(20000, 8))).ok());
  EXPECT_TRUE(writer->write_blocked());
  EXPECT_GE(writer->buffered_bytes(), 20000u);
  EXPECT_TRUE(idle->write_blocked());  // Every stream shares the connection's buffer.
  loop_.RunUntilIdle();
  EXPECT_FALSE(writer->write_blocked());
  EXPECT_EQ(rw->writable, 1);
  EXPECT_EQ(ri->writable, 1);  // It asked write_blocked() and saw true.
  ASSERT_EQ(server_.accepted.size(), 2u);
  Recorder* rs = server_.recs[0];
  loop_.RunUntilIdle();
  EXPECT_EQ(rs->data.size(), 20000u);
}

TEST_F(MplexTest, WriteOverTheHardLimitResetsTheStream) {
  MuxerLimits limits;
  limits.stream_write_limits.hard_limit = 1000;
  Start(limits);
  auto s = Open(&client_);
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Recorder* rs = server_.recs[0];
  EXPECT_EQ(s->Write(Bytes(2000, 1)).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s->Write(AsBytes("x")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_TRUE(rs->errored);
  EXPECT_TRUE(rs->data.empty());
  EXPECT_TRUE(client_.closed.empty());
}

TEST_F(MplexTest, FailedWriteToTheSecureConnectionEndsIt) {
  // The wire's own hard limit is below the streams': the secure connection refuses the write and resets.
  Start({}, {}, WriteLimits{1024, 256, 4096});
  auto s = Open(&client_);
  auto t = Open(&client_);
  Recorder* rt = Record(t.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(s->Write(Bytes(8000, 1)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(t->Write(AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(rt->errored);  // Not from inside Write().
  loop_.RunUntilIdle();
  EXPECT_TRUE(rt->errored);
  ASSERT_EQ(client_.closed.size(), 1u);
  EXPECT_EQ(client_.closed[0].code(), StatusCode::kUnavailable);
}

TEST_F(MplexTest, UnreadBytesAreReservedFromTheBudget) {
  MemoryBudget budget(1000);
  MuxerLimits limits;
  limits.budget = &budget;
  StartWithRawRemote(limits);
  RemoteSends(Concat({Frame(1, MplexFlag::kNewStream), Frame(2, MplexFlag::kNewStream)}));
  ASSERT_EQ(client_.accepted.size(), 2u);
  client_.accepted[0]->PauseReading(true);
  client_.accepted[1]->PauseReading(true);
  RemoteSends(Frame(1, MplexFlag::kMessageInitiator, std::string(600, 'a')));
  RemoteSends(Frame(2, MplexFlag::kMessageInitiator, std::string(300, 'b')));
  EXPECT_EQ(budget.used(), 900u);
  // 200 more bytes for stream 1 do not fit: it is reset, as over mplex_max_buffered.
  RemoteSends(Frame(1, MplexFlag::kMessageInitiator, std::string(200, 'a')));
  EXPECT_TRUE(client_.recs[0]->errored);
  EXPECT_EQ(client_.recs[0]->error.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(remote_rec_.data, ToString(Frame(1, MplexFlag::kResetReceiver)));
  EXPECT_EQ(budget.used(), 300u);
  // The other goes on; what its reader takes goes back to the budget.
  client_.accepted[1]->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(client_.recs[1]->data.size(), 300u);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(client_.closed.empty());
  // A reservation goes back when the connection ends too.
  client_.accepted[1]->PauseReading(true);
  RemoteSends(Frame(2, MplexFlag::kMessageInitiator, std::string(100, 'b')));
  EXPECT_EQ(budget.used(), 100u);
  client_.conn.reset();
  EXPECT_EQ(budget.used(), 0u);
}

TEST_F(MplexTest, NoNewStreamsOnceTheConnectionEnded) {
  Start();
  EXPECT_TRUE(client_.conn->accepts_new_streams());
  client_.conn->Close();
  EXPECT_FALSE(client_.conn->accepts_new_streams());
  loop_.RunUntilIdle();
  EXPECT_FALSE(server_.conn->accepts_new_streams());  // It saw the secure connection end.
}

TEST_F(MplexTest, RunSoonWorkKeepsTheLoopsOrder) {
  Start();
  auto a = Open(&client_);
  std::vector<std::string> order;
  a->SetHandlers({{}, {}, [&](const Status&) { order.push_back("stream failed"); }, {}});
  client_.conn->Close();
  loop_.Post([&] { order.push_back("posted after"); });
  loop_.RunUntilIdle();
  EXPECT_EQ(order, (std::vector<std::string>{"stream failed", "posted after"}));
}

TEST_F(MplexTest, UnreadBytesComeBackFirst) {
  Start();
  server_.record_accepted = false;
  auto c = Open(&client_);
  ASSERT_TRUE(c->Write(AsBytes("abcdef")).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(server_.accepted.size(), 1u);
  Stream* s = server_.accepted[0].get();
  std::string got;
  bool unread = false;
  s->SetHandlers({[&](ByteSpan d) {
                    got += ToString(d);
                    if (!unread) {
                      unread = true;
                      s->Unread(d.subspan(3));
                      got.resize(got.size() - 3);
                    }
                  },
                  {},
                  {},
                  {}});
  loop_.RunUntilIdle();
  ASSERT_TRUE(c->Write(AsBytes("gh")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(got, "abcdefgh");
}

}  // namespace
}  // namespace libp2p::stream
