#include "libp2p/pubsub/gossipsub/params.h"

#include <cstdio>
#include <string>
#include <vector>

namespace libp2p::pubsub::gossipsub {
namespace {

// Durations print in the largest unit that divides them exactly, so a message shows "60s", not "60000000000".
std::string Show(Duration d) {
  const long long ns = d.count();
  if (ns != 0 && ns % 1000000000 == 0) return std::to_string(ns / 1000000000) + "s";
  if (ns != 0 && ns % 1000000 == 0) return std::to_string(ns / 1000000) + "ms";
  if (ns != 0 && ns % 1000 == 0) return std::to_string(ns / 1000) + "us";
  return std::to_string(ns) + "ns";
}
std::string Show(int v) { return std::to_string(v); }
std::string Show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Collects the violated rules, so one Validate() call reports all of them.
class Checker {
 public:
  // Records "<name> (<value>) must be <rule>" when `ok` is false.
  template <typename T>
  void Check(bool ok, const char* name, T value, const std::string& rule) {
    if (!ok) errors_.push_back(std::string(name) + " (" + Show(value) + ") must be " + rule);
  }
  Status Result() const {
    if (errors_.empty()) return OkStatus();
    std::string all;
    for (const std::string& e : errors_) {
      if (!all.empty()) all += "; ";
      all += e;
    }
    return InvalidArgumentError(std::move(all));
  }

 private:
  std::vector<std::string> errors_;
};

}  // namespace

Status GossipSubParams::Validate() const {
  Checker c;
  const auto named = [](const char* name, auto v) { return std::string(name) + " (" + Show(v) + ")"; };

  // Mesh degree. d == 0 is the spec's mesh-less bootstrapper (D = D_lo = D_hi = D_out = 0), where the
  // rules that need a non-empty mesh do not apply.
  c.Check(d >= 0, "d", d, ">= 0");
  c.Check(d_lo <= d, "d_lo", d_lo, "<= " + named("d", d));
  c.Check(d <= d_hi, "d_hi", d_hi, ">= " + named("d", d));
  c.Check(d == 0 || d_lo >= 1, "d_lo", d_lo, ">= 1 unless d is 0");
  c.Check(d_out >= 0, "d_out", d_out, ">= 0");
  c.Check(d == 0 || d_out < d_lo, "d_out", d_out, "< " + named("d_lo", d_lo) + " unless d is 0");
  c.Check(d_out <= d / 2, "d_out", d_out, "<= d / 2 (" + Show(d / 2) + ")");
  c.Check(d_score >= 0, "d_score", d_score, ">= 0");
  c.Check(d_score <= d, "d_score", d_score, "<= " + named("d", d));
  c.Check(d_lazy >= 0, "d_lazy", d_lazy, ">= 0");

  // Timing.
  c.Check(heartbeat_interval > Duration::zero(), "heartbeat_interval", heartbeat_interval, "> 0");
  c.Check(heartbeat_initial_delay >= Duration::zero(), "heartbeat_initial_delay", heartbeat_initial_delay,
          ">= 0");
  c.Check(fanout_ttl > Duration::zero(), "fanout_ttl", fanout_ttl, "> 0");

  // Message cache and gossip. The range test admits a value only when both comparisons hold, so a NaN
  // (for which every comparison is false) is rejected too.
  c.Check(mcache_len >= 1, "mcache_len", mcache_len, ">= 1");
  c.Check(mcache_gossip >= 1, "mcache_gossip", mcache_gossip, ">= 1");
  c.Check(mcache_gossip <= mcache_len, "mcache_gossip", mcache_gossip, "<= " + named("mcache_len", mcache_len));
  c.Check(gossip_factor >= 0.0 && gossip_factor <= 1.0, "gossip_factor", gossip_factor, "in [0, 1]");
  c.Check(gossip_retransmission >= 1, "gossip_retransmission", gossip_retransmission, ">= 1");

  // PRUNE, backoff and peer exchange.
  c.Check(prune_backoff >= Duration::zero(), "prune_backoff", prune_backoff, ">= 0");
  c.Check(unsubscribe_backoff >= Duration::zero(), "unsubscribe_backoff", unsubscribe_backoff, ">= 0");
  c.Check(backoff_slack_heartbeats >= 0, "backoff_slack_heartbeats", backoff_slack_heartbeats, ">= 0");
  c.Check(prune_peers >= 0, "prune_peers", prune_peers, ">= 0");
  c.Check(graft_flood_threshold >= Duration::zero(), "graft_flood_threshold", graft_flood_threshold, ">= 0");

  // Opportunistic grafting and direct peers.
  c.Check(opportunistic_graft_ticks >= 1, "opportunistic_graft_ticks", opportunistic_graft_ticks, ">= 1");
  c.Check(opportunistic_graft_peers >= 0, "opportunistic_graft_peers", opportunistic_graft_peers, ">= 0");
  c.Check(direct_connect_ticks >= 1, "direct_connect_ticks", direct_connect_ticks, ">= 1");
  c.Check(direct_connect_initial_delay >= Duration::zero(), "direct_connect_initial_delay",
          direct_connect_initial_delay, ">= 0");

  // IHAVE / IWANT.
  c.Check(iwant_followup_time > Duration::zero(), "iwant_followup_time", iwant_followup_time, "> 0");
  c.Check(max_ihave_length >= 1, "max_ihave_length", max_ihave_length, ">= 1");
  c.Check(max_ihave_messages >= 1, "max_ihave_messages", max_ihave_messages, ">= 1");
  c.Check(max_iwant_messages_per_heartbeat >= 1, "max_iwant_messages_per_heartbeat",
          max_iwant_messages_per_heartbeat, ">= 1");

  // IDONTWANT. idontwant_message_size_threshold is unsigned: every value is meaningful (0 sends IDONTWANT
  // for every message).
  c.Check(max_idontwant_messages >= 0, "max_idontwant_messages", max_idontwant_messages, ">= 0");
  c.Check(idontwant_retention_heartbeats >= 1, "idontwant_retention_heartbeats", idontwant_retention_heartbeats,
          ">= 1");
  c.Check(max_idontwant_entries_per_peer >= 1, "max_idontwant_entries_per_peer", max_idontwant_entries_per_peer,
          ">= 1");

  return c.Result();
}

}  // namespace libp2p::pubsub::gossipsub
