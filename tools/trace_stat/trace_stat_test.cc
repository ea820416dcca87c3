// trace_stat against a scripted run: four gossipsub nodes on the in-memory network (5 ms a hop) and virtual
// time, each writing its trace to a file (JSON lines, protobuf, gzipped protobuf). The expected figures come
// from what the test itself saw (its publishes, the handlers' deliveries and their virtual times, the
// validator's rejections, the cores' duplicate counters), not from the traces.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/trace/event_tracer.h"
#include "libp2p/pubsub/trace/gzip.h"
#include "libp2p/pubsub/trace/json_trace_writer.h"
#include "libp2p/pubsub/trace/pb_trace_writer.h"
#include "libp2p/stream/memory_transport.h"
#include "nlohmann/json.hpp"

namespace libp2p::pubsub::trace {
namespace {

using crypto::PeerId;
using gossipsub::KeyOf;
using gossipsub::Node;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kUnixBase = 1'700'000'000'000'000'000;

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

// Runs trace_stat with `args`; its standard output.
std::string RunTraceStat(const std::string& args) {
  const std::string cmd = "tools/trace_stat/trace_stat " + args;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

// Nearest-rank percentile, written out again here rather than taken from trace_stats.
int64_t Rank(std::vector<int64_t> v, int q) {
  std::sort(v.begin(), v.end());
  size_t k = (static_cast<size_t>(q) * v.size() + 99) / 100;
  return v[k - 1];
}

struct Expected {
  uint64_t published = 0;
  uint64_t delivered = 0;
  uint64_t rejected = 0;
  std::vector<int64_t> delays;
};

TEST(TraceStatTest, FiguresOfAScriptedRunMatchWhatTheTestSaw) {
  ManualEventLoop loop;
  const MonoTime start = loop.Now();
  stream::MemoryNetwork net(&loop, stream::WriteLimits{}, milliseconds(5));
  const std::string kT = "t";
  const std::string kX = "x<y>&z";

  // One trace file per node: a JSON, b protobuf, c protobuf (gzipped afterwards), d JSON.
  const std::vector<std::string> paths = {TempPath("a.json"), TempPath("b.pb"), TempPath("c.pb"), TempPath("d.json")};
  std::vector<std::unique_ptr<TraceSink>> writers;
  for (int n = 0; n < 4; ++n) {
    auto file = TraceFile::Create(paths[n]);
    ASSERT_TRUE(file.ok());
    if (n == 0 || n == 3) {
      writers.push_back(std::make_unique<JsonTraceWriter>(std::move(*file)));
    } else {
      writers.push_back(std::make_unique<PbTraceWriter>(std::move(*file)));
    }
  }
  std::vector<std::unique_ptr<TraceEventTracer>> tracers;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int n = 0; n < 4; ++n) {
    PubSubOptions po;
    const PeerId id = PeerId::FromPublicKey(KeyOf(std::to_string(n)).public_key());
    tracers.push_back(std::make_unique<TraceEventTracer>(id, po.message_id, writers[n].get(),
                                                         [&] { return kUnixBase + (loop.Now() - start).count(); }));
    po.tracers = {tracers.back().get()};
    nodes.push_back(std::make_unique<Node>(&loop, &net, n, gossipsub::GossipSubOptions{}, po));
  }

  std::map<std::string, Expected> expected;      // By topic.
  std::map<std::string, MonoTime> published_at;  // By data.
  const auto subscribe = [&](int n, const std::string& topic) {
    ASSERT_TRUE(nodes[n]
                    ->pubsub
                    ->Subscribe(topic,
                                [&, topic](const pb::Message& m, const std::string&, const PeerId&) {
                                  Expected& e = expected[topic];
                                  ++e.delivered;
                                  e.delays.push_back((loop.Now() - published_at.at(m.data())).count());
                                })
                    .ok());
  };
  const auto publish = [&](int n, const std::string& topic, const std::string& data) {
    published_at[data] = loop.Now();
    ASSERT_TRUE(nodes[n]->pubsub->Publish(topic, AsBytes(data)).status.ok());
    ++expected[topic].published;
    ++expected[topic].delivered;  // The publisher's own delivery is traced too (as go's).
    loop.AdvanceTime(milliseconds(700));
  };
  nodes[3]->pubsub->AddValidator(kT, [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data() == "bad") ++expected[kT].rejected;
    done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
  });
  for (int n = 0; n < 4; ++n) subscribe(n, kT);
  subscribe(0, kX);
  subscribe(1, kX);

  // A triangle a-b-c, and d behind c.
  const auto connect = [&](int x, int y) { nodes[x]->host->Dial(nodes[y]->host->listen_addrs()[0], [](auto) {}); };
  connect(0, 1);
  connect(1, 2);
  connect(0, 2);
  connect(2, 3);
  loop.AdvanceTime(seconds(2));

  publish(0, kT, "m1");
  publish(3, kT, "m2");
  publish(1, kT, "bad");
  publish(2, kT, "m3");
  publish(0, kX, "x1");
  publish(1, kX, "x2");
  publish(0, kT, "m4");
  loop.AdvanceTime(seconds(1));

  uint64_t duplicates = 0;
  for (const auto& n : nodes) duplicates += n->pubsub->stats().duplicates;
  EXPECT_GT(duplicates, 0u);  // The triangle makes some.
  EXPECT_EQ(expected[kT].rejected, 1u);
  for (auto& w : writers) {
    if (auto* j = dynamic_cast<JsonTraceWriter*>(w.get())) {
      ASSERT_TRUE(j->Flush().ok());
    }
    if (auto* p = dynamic_cast<PbTraceWriter*>(w.get())) {
      ASSERT_TRUE(p->Flush().ok());
    }
  }
  // c's trace as go's traced keeps it: gzipped.
  GzipWriter gz;
  std::string compressed;
  ASSERT_TRUE(gz.Write(ReadAll(paths[2]), false, &compressed).ok());
  ASSERT_TRUE(gz.Finish(&compressed).ok());
  std::ofstream(TempPath("c.pb.gz"), std::ios::binary) << compressed;

  const std::string files = paths[0] + " " + paths[1] + " " + TempPath("c.pb.gz") + " " + paths[3];
  const nlohmann::json report = nlohmann::json::parse(RunTraceStat("--json " + files));
  EXPECT_EQ(report["peers"], 4);
  ASSERT_EQ(report["topics"].size(), 2u) << report.dump();
  uint64_t traced_duplicates = 0;
  for (const std::string& topic : {kT, kX}) {
    SCOPED_TRACE(topic);
    const nlohmann::json& t = report["topics"][topic];
    const Expected& e = expected[topic];
    EXPECT_EQ(t["published"], e.published);
    EXPECT_EQ(t["delivered"], e.delivered);
    EXPECT_EQ(t["unmatched"], 0);
    traced_duplicates += t["duplicates"].get<uint64_t>();
    const nlohmann::json& d = t["delay_ns"];
    ASSERT_EQ(d["count"], e.delays.size());
    EXPECT_EQ(d["p50"], Rank(e.delays, 50));
    EXPECT_EQ(d["p90"], Rank(e.delays, 90));
    EXPECT_EQ(d["p99"], Rank(e.delays, 99));
    EXPECT_EQ(d["max"], *std::max_element(e.delays.begin(), e.delays.end()));
  }
  EXPECT_EQ(traced_duplicates, duplicates);
  EXPECT_EQ(report["topics"][kT]["rejected"], nlohmann::json({{"validation failed", 1}}));
  EXPECT_EQ(report["topics"][kX]["rejected"], nlohmann::json::object());
  EXPECT_EQ(report["topics"][kX]["duplicates"], 0);
  // Hops are 5 ms: one hop to a neighbour, two between d and a or b (d is behind c).
  EXPECT_EQ(Rank(expected[kT].delays, 1), 5'000'000);
  EXPECT_EQ(*std::max_element(expected[kT].delays.begin(), expected[kT].delays.end()), 10'000'000);

  // The text form says the same for people; --format forces a format (here the wrong one, for the JSON file).
  const std::string text = RunTraceStat(files);
  EXPECT_NE(text.find("peers: 4"), std::string::npos) << text;
  EXPECT_NE(text.find("topic \"t\""), std::string::npos) << text;
  EXPECT_NE(text.find("rejected:   1 (validation failed: 1)"), std::string::npos) << text;
  EXPECT_NE(std::system(("tools/trace_stat/trace_stat --format=pb " + paths[0] + " 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace libp2p::pubsub::trace
