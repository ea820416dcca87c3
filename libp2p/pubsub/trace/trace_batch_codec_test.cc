// The remote tracer's stream format: batches encoded, compressed with a sync flush each, and decoded in
// order from pieces of any size; oversized and malformed batches refused.
#include "libp2p/pubsub/trace/trace_batch_codec.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libp2p/base/varint.h"

namespace libp2p::pubsub::trace {
namespace {

using tracepb::TraceEvent;

TraceEvent Join(const std::string& topic, int64_t t) {
  TraceEvent e;
  e.set_type(TraceEvent::JOIN);
  e.set_peerid("me");
  e.set_timestamp(t);
  e.mutable_join()->set_topic(topic);
  return e;
}

std::string BatchOf(const std::vector<TraceEvent>& events) {
  std::string b;
  for (const TraceEvent& e : events) AppendEventToBatch(e, &b);
  return b;
}

// A batch built event by event is the encoding of a TraceEventBatch.
TEST(TraceBatchCodecTest, BatchEncodingIsATraceEventBatch) {
  const std::vector<TraceEvent> events = {Join("a", 1), Join("b", 2)};
  std::string b;
  size_t appended = AppendEventToBatch(events[0], &b);
  EXPECT_EQ(appended, b.size());
  AppendEventToBatch(events[1], &b);
  tracepb::TraceEventBatch expected;
  for (const TraceEvent& e : events) *expected.add_batch() = e;
  EXPECT_EQ(b, expected.SerializeAsString());
}

TEST(TraceBatchCodecTest, BatchesComeBackInOrderWhateverThePieces) {
  TraceBatchEncoder enc;
  std::string stream;
  std::vector<std::vector<TraceEvent>> sent;
  for (int i = 0; i < 20; ++i) {
    std::vector<TraceEvent> batch;
    for (int k = 0; k <= i; ++k) batch.push_back(Join("topic-" + std::to_string(i), i * 100 + k));
    ASSERT_TRUE(enc.Encode(BatchOf(batch), &stream).ok());
    sent.push_back(batch);
  }
  for (size_t piece : {size_t{1}, size_t{13}, stream.size()}) {
    std::vector<tracepb::TraceEventBatch> got;
    TraceBatchDecoder dec([&](const tracepb::TraceEventBatch& b) { got.push_back(b); });
    for (size_t i = 0; i < stream.size(); i += piece) {
      ASSERT_TRUE(dec.Feed(std::string_view(stream).substr(i, piece)).ok());
    }
    EXPECT_TRUE(dec.at_batch_boundary());
    ASSERT_EQ(got.size(), sent.size()) << piece;
    EXPECT_EQ(dec.batches(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      ASSERT_EQ(got[i].batch_size(), static_cast<int>(sent[i].size()));
      for (size_t k = 0; k < sent[i].size(); ++k) {
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got[i].batch(k), sent[i][k]));
      }
    }
  }
}

// Each batch is readable as soon as it is encoded (the sync flush), with the gzip stream still open.
TEST(TraceBatchCodecTest, EachBatchIsReadableAtOnce) {
  TraceBatchEncoder enc;
  int batches = 0;
  TraceBatchDecoder dec([&](const tracepb::TraceEventBatch&) { ++batches; });
  for (int i = 1; i <= 3; ++i) {
    std::string out;
    ASSERT_TRUE(enc.Encode(BatchOf({Join("t", i)}), &out).ok());
    ASSERT_TRUE(dec.Feed(out).ok());
    EXPECT_EQ(batches, i);
  }
  std::string tail;
  ASSERT_TRUE(enc.Finish(&tail).ok());
  ASSERT_TRUE(dec.Feed(tail).ok());
  EXPECT_EQ(batches, 3);
}

TEST(TraceBatchCodecTest, AnOversizedBatchIsRefusedBeforeItArrives) {
  TraceBatchEncoder enc;
  std::string stream;
  ASSERT_TRUE(enc.Encode(std::string(2000, '\0'), &stream).ok());
  TraceBatchDecoder dec([](const tracepb::TraceEventBatch&) { FAIL(); }, /*max_batch_size=*/1000);
  // The length prefix alone is enough to refuse it.
  Status s = dec.Feed(stream);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(dec.Feed("x").code(), StatusCode::kOutOfRange);
}

TEST(TraceBatchCodecTest, MalformedBatchesAreRefused) {
  {
    GzipWriter gz;
    std::string stream;
    std::string frame;
    AppendUvarint(3, &frame);
    frame += "\x0a\x05x";  // A field that claims 5 bytes and has 1.
    ASSERT_TRUE(gz.Write(frame, true, &stream).ok());
    TraceBatchDecoder dec([](const tracepb::TraceEventBatch&) { FAIL(); });
    EXPECT_EQ(dec.Feed(stream).code(), StatusCode::kInvalidArgument);
  }
  {
    GzipWriter gz;
    std::string stream;
    ASSERT_TRUE(gz.Write(std::string("\x80\x00", 2), true, &stream).ok());  // A non-minimal length.
    TraceBatchDecoder dec([](const tracepb::TraceEventBatch&) { FAIL(); });
    EXPECT_EQ(dec.Feed(stream).code(), StatusCode::kInvalidArgument);
  }
  TraceBatchDecoder dec([](const tracepb::TraceEventBatch&) { FAIL(); });
  EXPECT_EQ(dec.Feed("plain bytes").code(), StatusCode::kInvalidArgument);
}

// A batch cut in the middle waits for the rest.
TEST(TraceBatchCodecTest, AHalfBatchWaits) {
  GzipWriter gz;
  const std::string batch = BatchOf({Join("t", 1)});
  std::string frame;
  AppendUvarint(batch.size(), &frame);
  frame += batch;
  int batches = 0;
  TraceBatchDecoder dec([&](const tracepb::TraceEventBatch&) { ++batches; });
  std::string out;
  ASSERT_TRUE(gz.Write(frame.substr(0, 4), true, &out).ok());
  ASSERT_TRUE(dec.Feed(out).ok());
  EXPECT_EQ(batches, 0);
  EXPECT_FALSE(dec.at_batch_boundary());
  out.clear();
  ASSERT_TRUE(gz.Write(frame.substr(4), true, &out).ok());
  ASSERT_TRUE(dec.Feed(out).ok());
  EXPECT_EQ(batches, 1);
  EXPECT_TRUE(dec.at_batch_boundary());
}

}  // namespace
}  // namespace libp2p::pubsub::trace
