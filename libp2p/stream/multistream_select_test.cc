#include "libp2p/stream/multistream_select.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using std::chrono::seconds;

class MultistreamSelectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_ = std::move(c).value(); });
    loop_.RunUntilIdle();
    ASSERT_NE(client_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_, server_;
};

TEST(MultistreamMessageTest, EncodeAndDecode) {
  const Bytes m = EncodeMultistreamMessage("/noise");
  EXPECT_EQ(ToString(m), std::string("\x07/noise\n"));
  EXPECT_EQ(*DecodeMultistreamMessage(ByteSpan(m).subspan(1)), "/noise");
  EXPECT_FALSE(DecodeMultistreamMessage(AsBytes("/noise")).ok());
  EXPECT_FALSE(DecodeMultistreamMessage(AsBytes("a\nb\n")).ok());
  EXPECT_FALSE(DecodeMultistreamMessage(ByteSpan()).ok());
  EXPECT_FALSE(DecodeMultistreamMessage(AsBytes(std::string(1025, 'a') + "\n")).ok());
  EXPECT_TRUE(DecodeMultistreamMessage(AsBytes(std::string(1024, 'a') + "\n")).ok());
}

TEST_F(MultistreamSelectTest, AgreesOnTheFirstSharedProtocol) {
  StatusOr<std::string> dialer_result = CancelledError("unset"), listener_result = CancelledError("unset");
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/yamux/1.0.0", "/mplex/6.7.0"}, seconds(10),
                                   [&](StatusOr<std::string> p) { dialer_result = std::move(p); });
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/mplex/6.7.0"}, seconds(10),
                                     [&](StatusOr<std::string> p) { listener_result = std::move(p); });
  loop_.RunUntilIdle();
  ASSERT_TRUE(dialer_result.ok()) << dialer_result.status().ToString();
  ASSERT_TRUE(listener_result.ok()) << listener_result.status().ToString();
  EXPECT_EQ(*dialer_result, "/mplex/6.7.0");
  EXPECT_EQ(*listener_result, "/mplex/6.7.0");
}

TEST_F(MultistreamSelectTest, BytesAfterNegotiationReachTheNextReader) {
  StatusOr<std::string> listener_result = CancelledError("unset");
  // The dialer writes its protocol's first bytes right behind the negotiation (optimistically).
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/echo/1.0.0"}, seconds(10), [&](auto p) {
    ASSERT_TRUE(p.ok());
  });
  ASSERT_TRUE(client_->Write(AsBytes("payload-after")).ok());
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/echo/1.0.0"}, seconds(10),
                                     [&](StatusOr<std::string> p) { listener_result = std::move(p); });
  loop_.RunUntilIdle();
  ASSERT_TRUE(listener_result.ok());
  testing::Recorder r;
  r.Attach(server_.get());
  loop_.RunUntilIdle();
  EXPECT_EQ(r.data, "payload-after");
}

TEST_F(MultistreamSelectTest, NoSharedProtocol) {
  StatusOr<std::string> dialer_result = CancelledError("unset");
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/a", "/b"}, seconds(10),
                                   [&](StatusOr<std::string> p) { dialer_result = std::move(p); });
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/c"}, seconds(10), [](auto) {});
  loop_.RunUntilIdle();
  EXPECT_EQ(dialer_result.status().code(), StatusCode::kNotFound);
}

TEST_F(MultistreamSelectTest, LsListsProtocols) {
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a/1", "/b/2"}, seconds(10), [](auto) {});
  testing::Recorder r;
  r.Attach(client_.get());
  Bytes out = EncodeMultistreamMessage(kMultistreamHeader);
  const Bytes ls = EncodeMultistreamMessage("ls");
  out.insert(out.end(), ls.begin(), ls.end());
  ASSERT_TRUE(client_->Write(out).ok());
  loop_.RunUntilIdle();
  const std::string header = ToString(EncodeMultistreamMessage(kMultistreamHeader));
  const std::string list = ToString(EncodeMultistreamMessage("/a/1")) + ToString(EncodeMultistreamMessage("/b/2"));
  std::string expected = header;
  expected += static_cast<char>(list.size() + 1);
  expected += list + "\n";
  EXPECT_EQ(r.data, expected);
}

TEST_F(MultistreamSelectTest, TimesOutOnASilentPeer) {
  StatusOr<std::string> result = CancelledError("unset");
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/a"}, seconds(10),
                                   [&](StatusOr<std::string> p) { result = std::move(p); });
  loop_.AdvanceTime(seconds(9));
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);  // Still waiting.
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(MultistreamSelectTest, WrongHeaderFails) {
  StatusOr<std::string> result = CancelledError("unset");
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a"}, seconds(10),
                                     [&](StatusOr<std::string> p) { result = std::move(p); });
  ASSERT_TRUE(client_->Write(EncodeMultistreamMessage("/multistream/2.0.0")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

// Noise (a peer on another private network) often starts with a small length that the few bytes which
// follow cannot fill: it is refused at its first byte, not after the timeout.
TEST_F(MultistreamSelectTest, NoiseIsRefusedAtItsFirstByteWithoutWaiting) {
  for (const std::string& noise : {std::string("\x05" "ab"), std::string("\x13/multistream/1.0.1")}) {
    StatusOr<std::string> result = CancelledError("unset");
    auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a"}, seconds(10),
                                       [&](StatusOr<std::string> p) { result = std::move(p); });
    ASSERT_TRUE(client_->Write(AsBytes(noise)).ok());
    loop_.RunUntilIdle();  // No time passes.
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << noise;
    EXPECT_NE(result.status().message().find("does not speak multistream-select 1.0"), std::string::npos)
        << result.status().ToString();
  }
}

TEST_F(MultistreamSelectTest, AHeaderSplitAcrossWritesIsAccepted) {
  StatusOr<std::string> result = CancelledError("unset");
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a"}, seconds(10),
                                     [&](StatusOr<std::string> p) { result = std::move(p); });
  Bytes out = EncodeMultistreamMessage(kMultistreamHeader);
  const Bytes proposal = EncodeMultistreamMessage("/a");
  out.insert(out.end(), proposal.begin(), proposal.end());
  for (uint8_t b : out) {
    ASSERT_TRUE(client_->Write(Bytes{b}).ok());
    loop_.RunUntilIdle();
  }
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(*result, "/a");
}

TEST_F(MultistreamSelectTest, OversizedMessageFails) {
  StatusOr<std::string> result = CancelledError("unset");
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a"}, seconds(10),
                                     [&](StatusOr<std::string> p) { result = std::move(p); });
  Bytes huge = EncodeMultistreamMessage(kMultistreamHeader);
  AppendUvarint(1 << 20, &huge);
  ASSERT_TRUE(client_->Write(huge).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(result.status().code(), StatusCode::kOutOfRange);
}

TEST_F(MultistreamSelectTest, EndlessProposalsAreCut) {
  StatusOr<std::string> result = CancelledError("unset");
  auto l = MultistreamSelect::Listen(&loop_, server_.get(), {"/a"}, seconds(10),
                                     [&](StatusOr<std::string> p) { result = std::move(p); });
  Bytes out = EncodeMultistreamMessage(kMultistreamHeader);
  for (int i = 0; i <= kMaxProposals; ++i) {
    const Bytes p = EncodeMultistreamMessage("/unknown/" + std::to_string(i));
    out.insert(out.end(), p.begin(), p.end());
  }
  ASSERT_TRUE(client_->Write(out).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(MultistreamSelectTest, PeerClosingMidNegotiationFails) {
  StatusOr<std::string> result = CancelledError("unset");
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/a"}, seconds(10),
                                   [&](StatusOr<std::string> p) { result = std::move(p); });
  server_->Reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
}

TEST_F(MultistreamSelectTest, DestroyingCancels) {
  bool called = false;
  auto d = MultistreamSelect::Dial(&loop_, client_.get(), {"/a"}, seconds(1), [&](auto) { called = true; });
  d.reset();
  loop_.AdvanceTime(seconds(5));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace libp2p::stream
