// The trace_collector program over real TCP: a RemoteTracer on this process's host streams events to it, and
// the JSON file it writes holds those events, in order.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/pubsub/trace/remote_tracer.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::pubsub::trace {
namespace {

using tracepb::TraceEvent;

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

TEST(TraceCollectorProgramTest, WritesTheEventsARemoteTracerSends) {
  const std::string out = TempPath("collected.json");
  const std::string err = TempPath("collector.err");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen(err.c_str(), "w", stderr);
    ::execl("tools/trace_collector/trace_collector", "trace_collector", "--listen", "/ip4/127.0.0.1/tcp/0", "--format",
            "json", "--out", out.c_str(), "--seed", "collector", nullptr);
    std::_Exit(127);
  }
  // Its address, once it listens.
  std::string addr;
  for (int i = 0; i < 1000 && addr.empty(); ++i) {
    std::istringstream lines(ReadAll(err));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("listening ", 0) == 0) addr = line.substr(10);
    }
    if (addr.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(addr.empty()) << ReadAll(err);
  auto collector_addr = Multiaddr::FromString(addr);
  ASSERT_TRUE(collector_addr.ok()) << addr;
  auto collector_id = crypto::PeerId::FromBytes(*collector_addr->PeerIdMultihash());
  ASSERT_TRUE(collector_id.ok());

  std::vector<TraceEvent> sent;
  {
    auto loop = LibeventLoop::Create();
    ASSERT_TRUE(loop.ok());
    const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
    stream::TcpTransport transport(loop->get());
    stream::HostOptions ho;
    ho.identity = &key;
    stream::Host host(loop->get(), &transport, ho);
    RemoteTracer tracer(*collector_id, {*collector_addr});
    tracer.Start(&host);
    for (int i = 0; i < 20; ++i) {
      TraceEvent e;
      e.set_type(TraceEvent::JOIN);
      e.set_peerid(std::string(AsStringView(host.peer_id().bytes())));
      e.set_timestamp(1000 + i);
      e.mutable_join()->set_topic("topic <" + std::to_string(i) + ">");
      tracer.Write(e);
      sent.push_back(e);
    }
    ASSERT_TRUE((*loop)->RunUntil([&] { return tracer.stats().events_sent == 20; }, std::chrono::seconds(20)))
        << tracer.last_error().ToString();
    tracer.Close();
    // The collector flushes its file every second: wait until it holds every line.
    ASSERT_TRUE((*loop)->RunUntil(
        [&] {
          const std::string text = ReadAll(out);
          return std::count(text.begin(), text.end(), '\n') == 20;
        },
        std::chrono::seconds(20)));
    tracer.Stop();
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(err);
  EXPECT_NE(ReadAll(err).find("20 events in"), std::string::npos) << ReadAll(err);

  std::istringstream lines(ReadAll(out));
  size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    ASSERT_LT(i, sent.size());
    TraceEvent e;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, sent[i])) << line;
  }
  EXPECT_EQ(i, sent.size());
  EXPECT_NE(ReadAll(out).find(R"("topic":"topic \u003c0\u003e")"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
