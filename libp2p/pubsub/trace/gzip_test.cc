// gzip streams: round trips fed in pieces of every size, sync flushes, several members, bounded output, and
// input that is not gzip.
#include "libp2p/pubsub/trace/gzip.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace libp2p::pubsub::trace {
namespace {

std::string Compress(const std::string& data, bool finish = true) {
  GzipWriter w;
  std::string out;
  EXPECT_TRUE(w.Write(data, /*sync_flush=*/false, &out).ok());
  if (finish) {
    EXPECT_TRUE(w.Finish(&out).ok());
  }
  return out;
}

// Feeds `in` in pieces of `piece` bytes; returns the output.
std::string Decompress(const std::string& in, size_t piece, GzipReader* reader) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += piece) {
    Status s = reader->Feed(std::string_view(in).substr(i, piece), [&](std::string_view chunk) {
      EXPECT_LE(chunk.size(), GzipReader::kChunkSize);
      out.append(chunk);
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return out;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() % 7);  // Compressible, but not trivially.
  return s;
}

TEST(GzipTest, RoundTripInPiecesOfAnySize) {
  const std::string data = RandomBytes(200'000, 1);
  const std::string gz = Compress(data);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, gz.size()}) {
    GzipReader r;
    EXPECT_EQ(Decompress(gz, piece, &r), data) << piece;
    EXPECT_TRUE(r.at_member_end());
  }
}

// After a sync flush everything written so far can be read, before the stream ends.
TEST(GzipTest, SyncFlushMakesEverythingReadable) {
  GzipWriter w;
  GzipReader r;
  std::string out;
  ASSERT_TRUE(w.Write("first", /*sync_flush=*/true, &out).ok());
  EXPECT_EQ(Decompress(out, 3, &r), "first");
  EXPECT_FALSE(r.at_member_end());
  out.clear();
  ASSERT_TRUE(w.Write("second", /*sync_flush=*/true, &out).ok());
  EXPECT_EQ(Decompress(out, 100, &r), "second");
  out.clear();
  ASSERT_TRUE(w.Finish(&out).ok());
  EXPECT_EQ(Decompress(out, 100, &r), "");
  EXPECT_TRUE(r.at_member_end());
  EXPECT_EQ(w.Finish(&out).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(w.Write("late", true, &out).code(), StatusCode::kFailedPrecondition);
}

// A highly compressible input: a few bytes of input give many chunks of output, all handed on.
TEST(GzipTest, LargeOutputFromLittleInputComesInChunks) {
  const std::string data(1 << 20, 'z');
  const std::string gz = Compress(data);
  ASSERT_LT(gz.size(), 5000u);
  GzipReader r;
  size_t chunks = 0, total = 0;
  ASSERT_TRUE(r.Feed(gz, [&](std::string_view c) {
                 ++chunks;
                 total += c.size();
                 return OkStatus();
               }).ok());
  EXPECT_EQ(total, data.size());
  EXPECT_GE(chunks, data.size() / GzipReader::kChunkSize);
  EXPECT_EQ(Gunzip(gz, 1000).status().code(), StatusCode::kOutOfRange);
}

TEST(GzipTest, ConcatenatedMembersAreOneStream) {
  const std::string gz = Compress("ab") + Compress("cd");
  auto out = Gunzip(gz, 100);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "abcd");
}

// Made by `gzip -n` (another implementation's header): a delimited batch of one JOIN event.
TEST(GzipTest, ReadsTheGzipTool) {
  const unsigned char kFrameGz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                                    0xe3, 0xe4, 0x62, 0xe7, 0xe0, 0xcc, 0x62, 0xe6, 0x62, 0x2c,
                                    0x01, 0x00, 0x24, 0x1e, 0x47, 0x16, 0x0a, 0x00, 0x00, 0x00};
  auto out = Gunzip(std::string_view(reinterpret_cast<const char*>(kFrameGz), sizeof(kFrameGz)), 100);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, std::string("\x09\x0a\x07\x08\x09\x6a\x03\x0a\x01\x74", 10));
}

TEST(GzipTest, BadInputIsRefusedAndStaysRefused) {
  GzipReader r;
  const auto ignore = [](std::string_view) { return OkStatus(); };
  EXPECT_EQ(r.Feed("not gzip at all", ignore).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Feed(Compress("x"), ignore).code(), StatusCode::kInvalidArgument);

  std::string corrupt = Compress(RandomBytes(1000, 2));
  corrupt[corrupt.size() - 6] ^= 1;  // The CRC.
  EXPECT_EQ(Gunzip(corrupt, 1 << 20).status().code(), StatusCode::kInvalidArgument);

  const std::string cut = Compress("hello").substr(0, 12);
  EXPECT_EQ(Gunzip(cut, 100).status().code(), StatusCode::kInvalidArgument);
  // Trailing bytes that do not start another member.
  EXPECT_EQ(Gunzip(Compress("a") + "junk", 100).status().code(), StatusCode::kInvalidArgument);
}

// The output callback's error stops decompression and is returned.
TEST(GzipTest, OutputErrorStops) {
  GzipReader r;
  Status s = r.Feed(Compress("data"), [](std::string_view) { return CancelledError("enough"); });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(r.Feed("x", [](std::string_view) { return OkStatus(); }).code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
