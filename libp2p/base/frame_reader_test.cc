#include "libp2p/base/frame_reader.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

// Collects frames as strings.
struct Collector {
  std::vector<std::string> frames;
  FrameReader::FrameCallback callback() {
    return [this](ByteSpan f) {
      frames.push_back(ToString(f));
      return OkStatus();
    };
  }
};

Bytes Framed(const std::vector<std::string>& payloads) {
  Bytes out;
  for (const auto& p : payloads) AppendFrame(AsBytes(p), &out);
  return out;
}

const std::vector<std::string>& SamplePayloads() {
  static const std::vector<std::string> payloads = {
      "hello", "", std::string(300, 'x'), "a", std::string(20000, 'y'), std::string(127, 'z'), "last"};
  return payloads;
}

TEST(FrameReaderTest, WholeFramesInOneFeed) {
  FrameReader reader(1 << 20);
  Collector c;
  const Bytes data = Framed(SamplePayloads());
  ASSERT_TRUE(reader.Feed(data, c.callback()).ok());
  EXPECT_EQ(c.frames, SamplePayloads());
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(FrameReaderTest, ALargeFrameInReadsOf64KiBKeepsItsBufferWithinFourTimesWhatArrived) {
  std::string payload(1'000'000, 'b');
  for (size_t i = 0; i < payload.size(); i += 997) payload[i] = static_cast<char>('a' + i % 26);
  const Bytes data = Framed({payload, "after"});
  FrameReader reader(1 << 21);
  Collector c;
  size_t arrived = 0;
  for (size_t at = 0; at < data.size(); at += 65536) {
    const ByteSpan read = ByteSpan(data).subspan(at, std::min<size_t>(65536, data.size() - at));
    ASSERT_TRUE(reader.Feed(read, c.callback()).ok());
    arrived += read.size();
    if (c.frames.empty()) {
      EXPECT_LE(reader.reserved_bytes(), std::max<size_t>(64 * 1024, 4 * arrived)) << arrived;
      EXPECT_LE(reader.reserved_bytes(), payload.size());
    }
  }
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.frames[0], payload);
  EXPECT_EQ(c.frames[1], "after");
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

// A block arriving in two reads (the first of a frame reaches four times the second's share) gets its whole
// buffer at the first, and is never moved.
TEST(FrameReaderTest, AFrameOfTwoReadsIsGivenItsWholeBufferAtTheFirst) {
  const std::string payload(131'072, 'k');
  const Bytes data = Framed({payload});
  FrameReader reader(1 << 20);
  Collector c;
  const size_t first = 65'507;
  ASSERT_TRUE(reader.Feed(ByteSpan(data).first(first), c.callback()).ok());
  EXPECT_EQ(reader.reserved_bytes(), payload.size());
  ASSERT_TRUE(reader.Feed(ByteSpan(data).subspan(first), c.callback()).ok());
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0], payload);
}

TEST(FrameReaderTest, SplitAtEveryByteOffset) {
  const Bytes data = Framed(SamplePayloads());
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    FrameReader reader(1 << 20);
    Collector c;
    ASSERT_TRUE(reader.Feed(ByteSpan(data).first(cut), c.callback()).ok()) << cut;
    ASSERT_TRUE(reader.Feed(ByteSpan(data).subspan(cut), c.callback()).ok()) << cut;
    ASSERT_EQ(c.frames, SamplePayloads()) << "cut at " << cut;
    ASSERT_EQ(reader.buffered_bytes(), 0u);
  }
}

TEST(FrameReaderTest, SplitAtEveryPairOfOffsetsOfSmallFrames) {
  const std::vector<std::string> payloads = {"ab", "", std::string(200, 'q'), "xyz"};
  const Bytes data = Framed(payloads);
  for (size_t a = 0; a <= data.size(); ++a) {
    for (size_t b = a; b <= data.size(); ++b) {
      FrameReader reader(1024);
      Collector c;
      ASSERT_TRUE(reader.Feed(ByteSpan(data).first(a), c.callback()).ok());
      ASSERT_TRUE(reader.Feed(ByteSpan(data).subspan(a, b - a), c.callback()).ok());
      ASSERT_TRUE(reader.Feed(ByteSpan(data).subspan(b), c.callback()).ok());
      ASSERT_EQ(c.frames, payloads) << a << "," << b;
    }
  }
}

TEST(FrameReaderTest, OneByteAtATime) {
  const Bytes data = Framed(SamplePayloads());
  FrameReader reader(1 << 20);
  Collector c;
  for (uint8_t byte : data) ASSERT_TRUE(reader.Feed(ByteSpan(&byte, 1), c.callback()).ok());
  EXPECT_EQ(c.frames, SamplePayloads());
}

TEST(FrameReaderTest, FrameExactlyAtLimitAccepted) {
  FrameReader reader(300);
  Collector c;
  ASSERT_TRUE(reader.Feed(Framed({std::string(300, 'a')}), c.callback()).ok());
  EXPECT_EQ(c.frames.size(), 1u);
}

TEST(FrameReaderTest, OversizedFrameRefusedBeforeItsBodyArrives) {
  FrameReader reader(300);
  Collector c;
  Bytes prefix;
  AppendUvarint(301, &prefix);
  Status s = reader.Feed(prefix, c.callback());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(reader.buffered_bytes(), 0u);
  EXPECT_TRUE(c.frames.empty());
}

TEST(FrameReaderTest, HugeDeclaredLengthSplitPrefixRefused) {
  FrameReader reader(1 << 20);
  Collector c;
  Bytes prefix;
  AppendUvarint(kMaxUvarintValue, &prefix);
  for (size_t i = 0; i + 1 < prefix.size(); ++i) {
    ASSERT_TRUE(reader.Feed(ByteSpan(&prefix[i], 1), c.callback()).ok());
  }
  EXPECT_EQ(reader.Feed(ByteSpan(&prefix.back(), 1), c.callback()).code(), StatusCode::kOutOfRange);
}

TEST(FrameReaderTest, PartialFrameBuffersOnlyWhatArrived) {
  FrameReader reader(1 << 20);
  Collector c;
  Bytes data;
  AppendUvarint(1 << 20, &data);  // Declares 1 MiB...
  data.push_back('x');            // ...but sends one byte.
  ASSERT_TRUE(reader.Feed(data, c.callback()).ok());
  EXPECT_EQ(reader.buffered_bytes(), 1u);
}

TEST(FrameReaderTest, MalformedPrefixFailsAndStaysFailed) {
  FrameReader reader(1024);
  Collector c;
  const Bytes non_minimal = {0x80, 0x00};
  EXPECT_EQ(reader.Feed(non_minimal, c.callback()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.Feed(Framed({"ok"}), c.callback()).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.frames.empty());
}

TEST(FrameReaderTest, NonMinimalPrefixSplitAcrossFeedsFails) {
  FrameReader reader(1024);
  Collector c;
  const uint8_t first = 0x80, second = 0x00;
  ASSERT_TRUE(reader.Feed(ByteSpan(&first, 1), c.callback()).ok());
  EXPECT_EQ(reader.Feed(ByteSpan(&second, 1), c.callback()).code(), StatusCode::kInvalidArgument);
}

TEST(FrameReaderTest, CallbackErrorStopsFeed) {
  FrameReader reader(1024);
  int calls = 0;
  Status s = reader.Feed(Framed({"a", "b", "c"}), [&](ByteSpan) {
    ++calls;
    return calls == 2 ? InvalidArgumentError("undecodable") : OkStatus();
  });
  EXPECT_EQ(s, InvalidArgumentError("undecodable"));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(reader.failed());
}

TEST(FrameWriterTest, AppendsPrefixAndPayload) {
  std::string out;
  AppendFrame(AsBytes("abc"), &out);
  EXPECT_EQ(out, std::string("\x03" "abc"));
}

}  // namespace
}  // namespace libp2p
