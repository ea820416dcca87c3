#include "tools/sim/simulation.h"

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/random.h"
#include "libp2p/stream/memory_transport.h"
#include "tools/sim/regions.h"

namespace libp2p::sim {
namespace {

// Scores are sampled this often (mesh degrees every simulated second).
constexpr Duration kScoreInterval = std::chrono::seconds(10);

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

StatusOr<Summary> Simulate(const Plan& plan, const SimulationOptions& options, const std::string& out_dir,
                           SimulationCost* cost) {
  const auto wall_start = std::chrono::steady_clock::now();
  // Every random draw of the stack on this thread (keys, Noise ephemerals, hash keys, ping payloads) comes
  // from the seed.
  ScopedDeterministicRandom random(options.seed);
  ManualEventLoop loop;
  stream::LinkModel model;
  // Host h sits where placements[h] says (its address is HostAddress(h)).
  const std::vector<Placement> placements = plan.placements;
  model.latency = [placements](stream::Ipv4 from, stream::Ipv4 to) {
    const size_t a = from - kFirstHostAddress, b = to - kFirstHostAddress;
    if (a >= placements.size() || b >= placements.size()) return Duration(std::chrono::milliseconds(1));
    return OneWayLatency(placements[a].region, placements[b].region);
  };
  model.jitter = options.jitter;
  model.seed = options.seed;
  model.null_cipher = options.null_cipher;
  stream::MemoryNetwork network(&loop, stream::WriteLimits{}, model);
  for (size_t n = 0; n < placements.size(); ++n) {
    const NodeClass& c = NodeClasses()[placements[n].super ? kSuperNode : kFullNode];
    network.SetAccessLink(HostAddress(n), stream::AccessLink{static_cast<uint64_t>(c.upload_bytes_per_second),
                                                             static_cast<uint64_t>(c.download_bytes_per_second)});
  }

  const MonoTime start = loop.Now();
  std::vector<std::unique_ptr<SimNode>> nodes;
  nodes.reserve(plan.scripts.size());
  for (size_t n = 0; n < plan.scripts.size(); ++n) {
    SimNodeConfig config;
    config.index = n;
    config.host_of = [&plan](size_t m) { return HostOf(plan, m); };
    config.script = plan.scripts[n];
    config.start = start;
    config.seed = options.seed * 1000003 + n;
    config.cpu = options.cpu;
    if (!plan.attackers.empty() && plan.attackers[n]) config.censor_from = start + plan.attack_from;
    if (!plan.outages.empty()) config.outages = plan.outages[n];
    nodes.push_back(std::make_unique<SimNode>(&loop, &network, std::move(config)));
  }
  for (auto& node : nodes) {
    if (Status s = node->Start(); !s.ok()) {
      return InternalError("node " + std::to_string(node->index()) + ": " + s.message());
    }
  }
  const double setup_seconds = SecondsSince(wall_start);
  const auto run_start = std::chrono::steady_clock::now();
  TimeSeries series;
  for (Duration t = Duration::zero(); t < plan.duration;) {
    loop.AdvanceTime(std::chrono::seconds(1));
    t += std::chrono::seconds(1);
    series.SampleMesh(t, nodes);
    if (t % kScoreInterval == Duration::zero()) series.SampleScores(t, plan, nodes);
    if (options.progress && t % std::chrono::seconds(10) == Duration::zero()) options.progress(t);
  }
  const double run_seconds = SecondsSince(run_start);
  StatusOr<Summary> summary = WriteResults(plan, nodes, network, start, series, out_dir);
  nodes.clear();
  loop.RunUntilIdle();
  if (cost != nullptr) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    *cost = SimulationCost{setup_seconds, run_seconds, static_cast<double>(usage.ru_maxrss) / 1024};
  }
  return summary;
}

}  // namespace libp2p::sim
