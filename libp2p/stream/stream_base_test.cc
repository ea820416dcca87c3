#include "libp2p/stream/stream_base.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"

namespace libp2p::stream {
namespace {

// The read side alone: the test plays the layer below by calling the Deliver* functions.
class TestStream final : public StreamBase {
 public:
  explicit TestStream(EventLoop* loop) : StreamBase(loop) {}
  using StreamBase::DeliverData;
  using StreamBase::DeliverEof;
  using StreamBase::DeliverError;

  Status Write(ByteSpan) override { return OkStatus(); }
  size_t buffered_bytes() const override { return 0; }
  bool write_blocked() const override { return false; }
  void CloseWrite() override {}
  void Reset() override { MarkDead(); }
};

ByteSpan AsBytes(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
std::string AsString(ByteSpan b) { return std::string(b.begin(), b.end()); }

TEST(StreamBaseTest, HandlersReplacedDuringACallTakeOverAndTheOldOneStaysValidToItsEnd) {
  ManualEventLoop loop;
  TestStream stream(&loop);
  std::vector<std::string> first, second;
  const std::string tag(100, 't');  // Too large for std::function's inline buffer.
  stream.SetHandlers(Stream::Handlers{[&, tag](ByteSpan d) {
    stream.SetHandlers(Stream::Handlers{[&](ByteSpan d2) { second.push_back(AsString(d2)); }, {}, {}, {}});
    first.push_back(tag.substr(0, 1) + AsString(d));  // Reads a capture after the replacement.
  }, {}, {}, {}});
  EXPECT_TRUE(stream.DeliverData(AsBytes("a")));
  EXPECT_TRUE(stream.DeliverData(AsBytes("b")));
  EXPECT_TRUE(stream.DeliverData(AsBytes("c")));
  EXPECT_EQ(first, std::vector<std::string>({"ta"}));
  EXPECT_EQ(second, std::vector<std::string>({"b", "c"}));
}

TEST(StreamBaseTest, AHandlerKeepsRunningForLaterDeliveries) {
  ManualEventLoop loop;
  TestStream stream(&loop);
  std::string got;
  stream.SetHandlers(Stream::Handlers{[&](ByteSpan d) { got += AsString(d); }, {}, {}, {}});
  for (const char* part : {"x", "y", "z"}) EXPECT_TRUE(stream.DeliverData(AsBytes(part)));
  EXPECT_EQ(got, "xyz");
}

TEST(StreamBaseTest, StreamDestroyedByItsHandlerReportsIt) {
  ManualEventLoop loop;
  auto stream = std::make_unique<TestStream>(&loop);
  TestStream* raw = stream.get();
  const std::string tag(100, 't');
  std::string seen;
  stream->SetHandlers(Stream::Handlers{[&, tag](ByteSpan) {
    stream.reset();
    seen = tag;  // The running function outlives its stream.
  }, {}, {}, {}});
  EXPECT_FALSE(raw->DeliverData(AsBytes("a")));
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(seen, tag);
}

TEST(StreamBaseTest, DeliveryFromInsideTheHandlerIsHeldAndFollowsInOrder) {
  ManualEventLoop loop;
  TestStream stream(&loop);
  std::string got;
  bool nested = false;
  stream.SetHandlers(Stream::Handlers{[&](ByteSpan d) {
    got += AsString(d);
    if (!nested) {
      nested = true;
      EXPECT_TRUE(stream.DeliverData(AsBytes("2")));  // As a layer below delivering again from this call.
    }
  }, {}, {}, {}});
  EXPECT_TRUE(stream.DeliverData(AsBytes("1")));
  EXPECT_TRUE(stream.DeliverData(AsBytes("3")));
  loop.RunUntilIdle();
  EXPECT_EQ(got, "123");
}

TEST(StreamBaseTest, EofAndErrorReachTheirHandlersOnce) {
  ManualEventLoop loop;
  TestStream stream(&loop);
  int eofs = 0, errors = 0;
  stream.SetHandlers(Stream::Handlers{[](ByteSpan) {}, [&] { ++eofs; }, [&](const Status&) { ++errors; }, {}});
  EXPECT_TRUE(stream.DeliverEof());
  EXPECT_TRUE(stream.DeliverEof());
  EXPECT_TRUE(stream.DeliverError(UnavailableError("gone")));
  EXPECT_TRUE(stream.DeliverError(UnavailableError("gone again")));
  loop.RunUntilIdle();
  EXPECT_EQ(eofs, 1);
  EXPECT_EQ(errors, 1);
}

}  // namespace
}  // namespace libp2p::stream
