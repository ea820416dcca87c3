// TraceFile: buffering, flushing, the two kinds of output, and write errors that are counted, never fatal.
#include "libp2p/pubsub/trace/trace_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace libp2p::pubsub::trace {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Append(TraceFile& f, const std::string& record) {
  f.buffer()->append(record);
  f.EndRecord();
}

TEST(TraceFileTest, BuffersUntilTheThresholdThenWrites) {
  const std::string path = TempPath("buffered");
  auto f = TraceFile::Create(path, /*flush_bytes=*/10);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  Append(**f, "12345\n");
  EXPECT_EQ(ReadAll(path), "");
  Append(**f, "67890\n");  // 12 bytes buffered: written.
  EXPECT_EQ(ReadAll(path), "12345\n67890\n");
  Append(**f, "x\n");
  EXPECT_EQ(ReadAll(path), "12345\n67890\n");
  EXPECT_TRUE((*f)->Flush().ok());
  EXPECT_EQ(ReadAll(path), "12345\n67890\nx\n");
  EXPECT_EQ((*f)->stats().records, 3u);
  EXPECT_EQ((*f)->stats().bytes_written, 14u);
  EXPECT_EQ((*f)->stats().write_errors, 0u);
}

TEST(TraceFileTest, ZeroThresholdWritesEveryRecord) {
  const std::string path = TempPath("unbuffered");
  auto f = TraceFile::Create(path, 0);
  ASSERT_TRUE(f.ok());
  Append(**f, "a\n");
  EXPECT_EQ(ReadAll(path), "a\n");
}

TEST(TraceFileTest, DestructorFlushesAndClosesWhatItOwns) {
  const std::string path = TempPath("destroyed");
  {
    auto f = TraceFile::Create(path);
    ASSERT_TRUE(f.ok());
    Append(**f, "kept\n");
  }
  EXPECT_EQ(ReadAll(path), "kept\n");
}

TEST(TraceFileTest, ABorrowedDescriptorStaysOpen) {
  const std::string path = TempPath("borrowed");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  {
    TraceFile f(fd, /*owned=*/false);
    Append(f, "one\n");
  }
  ASSERT_EQ(::write(fd, "two\n", 4), 4);  // Still open.
  ::close(fd);
  EXPECT_EQ(ReadAll(path), "one\ntwo\n");
}

TEST(TraceFileTest, WritesToAFile) {
  const std::string path = TempPath("stdio");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  {
    TraceFile f(file, /*owned=*/false, /*flush_bytes=*/0);
    Append(f, "via stdio\n");
    EXPECT_TRUE(f.Flush().ok());
    EXPECT_EQ(ReadAll(path), "via stdio\n");
  }
  std::fputs("more\n", file);  // Not closed.
  std::fclose(file);
  EXPECT_EQ(ReadAll(path), "via stdio\nmore\n");
}

// A descriptor that cannot be written: every failed write drops its records, counts them, and keeps the
// error; nothing throws or aborts, and later records are tried again.
TEST(TraceFileTest, WriteErrorsAreCountedNotFatal) {
  const std::string path = TempPath("readonly");
  std::ofstream(path) << "";
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  TraceFile f(fd, /*owned=*/true, /*flush_bytes=*/4);
  Append(f, "ab");
  EXPECT_TRUE(f.last_error().ok());
  Append(f, "cd");  // Reaches 4 bytes: the write fails.
  EXPECT_FALSE(f.last_error().ok());
  EXPECT_EQ(f.stats().write_errors, 1u);
  EXPECT_EQ(f.stats().records_lost, 2u);
  Append(f, "e");
  Status s = f.Flush();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(f.stats().write_errors, 2u);
  EXPECT_EQ(f.stats().records_lost, 3u);
  EXPECT_EQ(f.stats().records, 3u);
  EXPECT_TRUE(f.Flush().ok());  // Nothing left to write.
}

TEST(TraceFileTest, CreateFailsForAMissingDirectory) {
  auto f = TraceFile::Create(TempPath("no/such/dir/file"));
  EXPECT_EQ(f.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
