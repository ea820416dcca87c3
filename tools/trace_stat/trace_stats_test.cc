// TraceStats on hand-made events: counting per topic, delays matched across nodes in any order, the
// publisher's own delivery, unmatched deliveries, and nearest-rank percentiles.
#include "tools/trace_stat/trace_stats.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace libp2p::pubsub::trace {
namespace {

using tracepb::TraceEvent;

TraceEvent Ev(TraceEvent::Type type, const std::string& peer, int64_t time, const std::string& id,
              const std::string& topic) {
  TraceEvent e;
  e.set_type(type);
  e.set_peerid(peer);
  e.set_timestamp(time);
  switch (type) {
    case TraceEvent::PUBLISH_MESSAGE:
      e.mutable_publishmessage()->set_messageid(id);
      if (!topic.empty()) e.mutable_publishmessage()->set_topic(topic);
      break;
    case TraceEvent::DELIVER_MESSAGE:
      e.mutable_delivermessage()->set_messageid(id);
      if (!topic.empty()) e.mutable_delivermessage()->set_topic(topic);
      break;
    case TraceEvent::DUPLICATE_MESSAGE:
      e.mutable_duplicatemessage()->set_messageid(id);
      if (!topic.empty()) e.mutable_duplicatemessage()->set_topic(topic);
      break;
    default:
      break;
  }
  return e;
}

TEST(PercentilesTest, NearestRank) {
  EXPECT_EQ(Percentiles({}).count, 0u);
  const DelayPercentiles one = Percentiles({7});
  EXPECT_EQ(one.p50, 7);
  EXPECT_EQ(one.max, 7);
  std::vector<int64_t> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  const DelayPercentiles p = Percentiles(hundred);
  EXPECT_EQ(p.count, 100u);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);
  const DelayPercentiles ten = Percentiles({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_EQ(ten.p50, 5);
  EXPECT_EQ(ten.p90, 9);
  EXPECT_EQ(ten.p99, 10);
}

TEST(TraceStatsTest, CountsAndDelaysPerTopic) {
  TraceStats s;
  // b's trace is read before a's: the delivery comes before its publish.
  s.Add(Ev(TraceEvent::DELIVER_MESSAGE, "b", 1'005, "m1", "t"));
  s.Add(Ev(TraceEvent::DUPLICATE_MESSAGE, "b", 1'020, "m1", ""));   // No topic: the publish's.
  s.Add(Ev(TraceEvent::DELIVER_MESSAGE, "b", 3'000, "lost", "t"));  // Nobody published it.
  s.Add(Ev(TraceEvent::PUBLISH_MESSAGE, "a", 1'000, "m1", "t"));
  s.Add(Ev(TraceEvent::DELIVER_MESSAGE, "a", 1'000, "m1", "t"));  // The publisher's own: no delay sample.
  s.Add(Ev(TraceEvent::DELIVER_MESSAGE, "c", 1'012, "m1", "t"));
  TraceEvent reject;
  reject.set_type(TraceEvent::REJECT_MESSAGE);
  reject.set_peerid("c");
  reject.mutable_rejectmessage()->set_messageid("m2");
  reject.mutable_rejectmessage()->set_topic("u");
  reject.mutable_rejectmessage()->set_reason("validation failed");
  s.Add(reject);
  s.Add(Ev(TraceEvent::PUBLISH_MESSAGE, "c", 5'000, "m2", "u"));
  s.Add(Ev(TraceEvent::JOIN, "d", 0, "", ""));
  const TraceReport r = s.Report();
  EXPECT_EQ(r.peers, 4u);
  EXPECT_EQ(r.events, 9u);
  ASSERT_EQ(r.topics.size(), 2u);
  const TopicReport& t = r.topics.at("t");
  EXPECT_EQ(t.published, 1u);
  EXPECT_EQ(t.delivered, 4u);
  EXPECT_EQ(t.duplicates, 1u);
  EXPECT_EQ(t.unmatched, 1u);
  EXPECT_EQ(t.delay.count, 2u);
  EXPECT_EQ(t.delay.p50, 5);
  EXPECT_EQ(t.delay.max, 12);
  const TopicReport& u = r.topics.at("u");
  EXPECT_EQ(u.published, 1u);
  EXPECT_EQ(u.rejected.at("validation failed"), 1u);

  const nlohmann::json j = nlohmann::json::parse(FormatJson(r));
  EXPECT_EQ(j["topics"]["t"]["delay_ns"]["p99"], 12);
  EXPECT_EQ(j["topics"]["u"]["rejected"]["validation failed"], 1);
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("topic \"t\""), std::string::npos) << text;
  EXPECT_NE(text.find("rejected:   1 (validation failed: 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("p50 0.000 ms"), std::string::npos) << text;
}

}  // namespace
}  // namespace libp2p::pubsub::trace
