#include "libp2p/stream/perf.h"

#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Recorder;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr Duration kLatency = milliseconds(2);

TEST(PerfHeaderTest, BigEndianUint64) {
  const std::array<uint8_t, 8> h = EncodePerfHeader(0x0102030405060708);
  EXPECT_EQ(h, (std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(DecodePerfHeader(h), 0x0102030405060708u);
  EXPECT_EQ(EncodePerfHeader(0), (std::array<uint8_t, 8>{}));
  EXPECT_EQ(DecodePerfHeader(EncodePerfHeader(kMax)), kMax);
  EXPECT_EQ(EncodePerfHeader(kMax), (std::array<uint8_t, 8>{255, 255, 255, 255, 255, 255, 255, 255}));
}

// A client connection and a server connection over the in-memory network (each delivery takes kLatency).
class PerfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [this](std::unique_ptr<RawConnection> c) { server_ = std::move(c); });
    listener_ = std::move(listener).value();
    dial_ = transport_->Dial(listener_->listen_addr(), [this](StatusOr<std::unique_ptr<RawConnection>> c) {
      client_ = std::move(c).value();
    });
    loop_.AdvanceTime(seconds(1));
    ASSERT_NE(client_, nullptr);
    ASSERT_NE(server_, nullptr);
  }

  void StartResponder(PerfResponderOptions options = {}) {
    responder_ = std::make_unique<PerfResponder>(&loop_, server_.get(), options, [this](Status s) {
      ++responder_calls_;
      responder_done_ = std::move(s);
    });
  }

  void StartClient(PerfRequest request, PerfClientOptions options = {}) {
    client_perf_ = std::make_unique<PerfClient>(&loop_, client_.get(), request, options,
                                                [this](StatusOr<PerfResult> r) {
                                                  ++client_calls_;
                                                  result_ = std::move(r);
                                                });
  }

  // Writes the request header from the raw client side.
  void WriteHeader(uint64_t download_bytes) {
    ASSERT_TRUE(client_->Write(EncodePerfHeader(download_bytes)).ok());
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{}, kLatency};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_, server_;
  std::unique_ptr<PerfResponder> responder_;
  std::unique_ptr<PerfClient> client_perf_;
  int responder_calls_ = 0;
  Status responder_done_ = CancelledError("unset");
  int client_calls_ = 0;
  StatusOr<PerfResult> result_ = CancelledError("unset");
};

TEST_F(PerfTest, UploadThenDownloadCountsAndTimesBothWays) {
  constexpr uint64_t kUp = 1024 * 1024 + 3, kDown = 3 * 1024 * 1024 + 5;
  StartResponder();
  StartClient({.upload_bytes = kUp, .download_bytes = kDown});
  loop_.AdvanceTime(seconds(5));
  ASSERT_EQ(client_calls_, 1);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_->uploaded, kUp);
  EXPECT_EQ(result_->downloaded, kDown);
  // The answer cannot start before the upload's end reached the server and the first byte came back.
  EXPECT_GE(result_->upload_time, 2 * kLatency);
  EXPECT_GT(result_->download_time, Duration::zero());
  EXPECT_EQ(result_->total_time, result_->upload_time + result_->download_time);
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_, OkStatus());
  EXPECT_EQ(responder_->bytes_received(), kUp);
  EXPECT_EQ(responder_->bytes_sent(), kDown);
  EXPECT_EQ(server_->buffered_bytes(), 0u);
}

TEST_F(PerfTest, NothingEitherWay) {
  StartResponder();
  StartClient({.upload_bytes = 0, .download_bytes = 0});
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(client_calls_, 1);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_->uploaded, 0u);
  EXPECT_EQ(result_->downloaded, 0u);
  EXPECT_EQ(result_->download_time, Duration::zero());
  // The server's end of stream answers ours: one round trip.
  EXPECT_EQ(result_->upload_time, 2 * kLatency);
  EXPECT_EQ(responder_done_, OkStatus());
}

TEST_F(PerfTest, ServerAnswersOnlyAfterTheClientsEndOfStream) {
  Recorder client_side;
  client_side.Attach(client_.get());
  StartResponder();
  WriteHeader(100);
  ASSERT_TRUE(client_->Write(Bytes(5000, 7)).ok());
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(client_side.data.size(), 0u);
  EXPECT_EQ(responder_->bytes_received(), 5000u);
  client_->CloseWrite();
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(client_side.data, std::string(100, '\0'));
  EXPECT_TRUE(client_side.eof);
  EXPECT_EQ(responder_done_, OkStatus());
}

TEST_F(PerfTest, HeaderSplitAcrossWrites) {
  Recorder client_side;
  client_side.Attach(client_.get());
  StartResponder();
  const std::array<uint8_t, 8> h = EncodePerfHeader(70000);
  for (uint8_t b : h) {
    ASSERT_TRUE(client_->Write(ByteSpan(&b, 1)).ok());
    loop_.AdvanceTime(milliseconds(5));
  }
  client_->CloseWrite();
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(client_side.data.size(), 70000u);
  EXPECT_TRUE(client_side.eof);
  EXPECT_EQ(responder_->bytes_received(), 0u);
  EXPECT_EQ(responder_done_, OkStatus());
}

TEST_F(PerfTest, EndOfStreamBeforeTheWholeHeaderIsAnError) {
  StartResponder();
  ASSERT_TRUE(client_->Write(Bytes(5, 0)).ok());
  client_->CloseWrite();
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_.code(), StatusCode::kInvalidArgument);
}

TEST_F(PerfTest, RequestOverTheCapIsRefusedAtTheHeader) {
  StartResponder({.max_send_bytes = 1000});
  WriteHeader(1001);  // The client has not even closed: the refusal does not wait for the upload.
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(responder_->bytes_sent(), 0u);
}

TEST_F(PerfTest, RequestAtTheCapIsAnswered) {
  StartResponder({.max_send_bytes = 1000});
  StartClient({.upload_bytes = 10, .download_bytes = 1000});
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_->downloaded, 1000u);
}

// A hostile client asks for 2^64 - 1 bytes and reads none: the server writes only up to its stream's
// high-water mark (one fixed buffer, never the count), then gives up after the idle timeout.
TEST_F(PerfTest, HugeRequestNotReadIsBoundedAndTimesOut) {
  StartResponder({.idle_timeout = seconds(30)});
  client_->PauseReading(true);
  WriteHeader(kMax);
  client_->CloseWrite();
  for (int i = 0; i < 20; ++i) {
    loop_.AdvanceTime(seconds(1));
    EXPECT_LE(server_->buffered_bytes(), WriteLimits{}.high_water + 64 * 1024);
  }
  const uint64_t sent = responder_->bytes_sent();
  EXPECT_GT(sent, 0u);
  EXPECT_LT(sent, uint64_t{8} * 1024 * 1024);  // What the pipe and the write buffer hold, no more.
  EXPECT_EQ(responder_calls_, 0);
  loop_.AdvanceTime(seconds(11));
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(responder_->bytes_sent(), sent);
}

// A client that asks for 2^64 - 1 bytes and reads keeps the server sending from its fixed buffer, a bounded
// amount per loop turn, until the client resets.
TEST_F(PerfTest, HugeRequestReadStreamsUntilTheClientResets) {
  uint64_t read = 0;
  client_->SetHandlers(Stream::Handlers{[&](ByteSpan d) { read += d.size(); }, {}, {}, {}});
  StartResponder();
  WriteHeader(kMax);
  client_->CloseWrite();
  loop_.AdvanceTime(milliseconds(500));
  EXPECT_GT(read, uint64_t{10} * 1024 * 1024);
  EXPECT_LE(server_->buffered_bytes(), WriteLimits{}.high_water + 64 * 1024);
  EXPECT_EQ(responder_calls_, 0);
  client_->Reset();
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_.code(), StatusCode::kUnavailable);
}

// Uploading without end is allowed (a client that uploads for a set time), and the bytes are dropped as they
// come; a client that goes quiet without closing is given up after the idle timeout.
TEST_F(PerfTest, ClientThatNeverClosesIsDiscardedThenTimedOut) {
  StartResponder({.idle_timeout = seconds(30)});
  WriteHeader(10);
  const Bytes chunk(64 * 1024, 1);
  for (int i = 0; i < 128; ++i) {
    ASSERT_TRUE(client_->Write(chunk).ok());
    loop_.AdvanceTime(milliseconds(100));
  }
  EXPECT_EQ(responder_->bytes_received(), 128u * chunk.size());
  // A byte every 20 s keeps it alive.
  for (int i = 0; i < 3; ++i) {
    loop_.AdvanceTime(seconds(20));
    ASSERT_TRUE(client_->Write(chunk).ok());
  }
  EXPECT_EQ(responder_calls_, 0);
  loop_.AdvanceTime(seconds(31));
  ASSERT_EQ(responder_calls_, 1);
  EXPECT_EQ(responder_done_.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(PerfTest, DestroyingTheResponderEarlyStopsIt) {
  StartResponder();
  WriteHeader(1000);
  loop_.AdvanceTime(seconds(1));
  responder_.reset();
  client_->CloseWrite();
  loop_.AdvanceTime(seconds(60));
  EXPECT_EQ(responder_calls_, 0);
}

// --- The client against servers that break the protocol. ---

// Reads the client's header (and whatever follows) on the raw server side.
struct RawServer {
  explicit RawServer(Stream* s) : stream(s) { recorder.Attach(s); }
  uint64_t requested() const {
    std::array<uint8_t, 8> h{};
    std::copy_n(recorder.data.begin(), 8, h.begin());
    return DecodePerfHeader(h);
  }
  Stream* stream;
  Recorder recorder;
};

TEST_F(PerfTest, ClientRefusesMoreBytesThanAskedFor) {
  RawServer server(server_.get());
  StartClient({.upload_bytes = 3, .download_bytes = 5});
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(server.recorder.eof);
  EXPECT_EQ(server.recorder.data.size(), 8u + 3u);
  EXPECT_EQ(server.requested(), 5u);
  ASSERT_TRUE(server_->Write(Bytes(6, 0)).ok());
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(client_calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PerfTest, ClientRefusesAShortAnswer) {
  RawServer server(server_.get());
  StartClient({.upload_bytes = 0, .download_bytes = 5});
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(server_->Write(Bytes(4, 0)).ok());
  server_->CloseWrite();
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(client_calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PerfTest, ClientTimesOutOnASilentServer) {
  RawServer server(server_.get());
  StartClient({.upload_bytes = 100, .download_bytes = 5}, {.timeout = seconds(10)});
  loop_.AdvanceTime(seconds(9));
  EXPECT_EQ(client_calls_, 0);
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(client_calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(PerfTest, ClientSeesTheStreamFail) {
  RawServer server(server_.get());
  StartClient({.upload_bytes = 100, .download_bytes = 5});
  loop_.AdvanceTime(seconds(1));
  server_->Reset();
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(client_calls_, 1);
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
}

// The upload respects the stream's write buffer: a server that does not read holds the client at the
// high-water mark.
TEST_F(PerfTest, ClientUploadRespectsFlowControl) {
  server_->PauseReading(true);
  StartClient({.upload_bytes = uint64_t{1} << 40, .download_bytes = 0});
  loop_.AdvanceTime(seconds(5));
  EXPECT_LE(client_->buffered_bytes(), WriteLimits{}.high_water + 64 * 1024);
  EXPECT_EQ(client_calls_, 0);
  client_perf_.reset();  // Cancels: no callback.
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(client_calls_, 0);
}

}  // namespace
}  // namespace libp2p::stream
