#include "tools/sim/simulation.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>
#include <memory>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/keys.h"
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
  // from the seed; shard 0 runs on this thread, the others on threads with seeds of their own.
  ScopedDeterministicRandom random(options.seed);
  // Each peer's Noise payload and signed peer record are checked once per thread, not once per connection.
  crypto::ScopedVerificationMemo verified;
  // Host h sits where placements[h] says (its address is HostAddress(h)).
  const std::vector<Placement> placements = plan.placements;
  const size_t shard_count = std::clamp<size_t>(options.shards, 1, 4);
  std::array<size_t, kRegionCount> nodes_per_region{};
  for (size_t n = 0; n < plan.scripts.size(); ++n) ++nodes_per_region[placements[HostOf(plan, n)].region];
  const RegionShards split = ShardRegions(nodes_per_region, shard_count);
  std::vector<std::unique_ptr<ManualEventLoop>> loops;
  stream::Sharding sharding;
  for (size_t s = 0; s < shard_count; ++s) {
    loops.push_back(std::make_unique<ManualEventLoop>());
    sharding.loops.push_back(loops.back().get());
  }
  auto shard_of_host = [placements, split](size_t h) {
    return h < placements.size() ? split.shard_of_region[placements[h].region] : 0;
  };
  sharding.shard_of = [shard_of_host](stream::Ipv4 ip) { return shard_of_host(ip - kFirstHostAddress); };
  sharding.lookahead = split.lookahead;
  // Windows of about kWindow: a shard may then run up to a lookahead ahead of another wherever that one
  // stands, not only from the end of a window (at one window per lookahead the two threads each waited
  // about 14% of the 1,000-node ethereum run).
  constexpr Duration kWindow = std::chrono::milliseconds(10);
  sharding.windows_per_lookahead = std::max<size_t>(1, split.lookahead / kWindow);
  stream::LinkModel model;
  model.latency = [placements](stream::Ipv4 from, stream::Ipv4 to) {
    const size_t a = from - kFirstHostAddress, b = to - kFirstHostAddress;
    if (a >= placements.size() || b >= placements.size()) return Duration(std::chrono::milliseconds(1));
    return OneWayLatency(placements[a].region, placements[b].region);
  };
  model.jitter = options.jitter;
  model.seed = options.seed;
  model.null_cipher = options.null_cipher;
  stream::MemoryNetwork network(sharding, stream::WriteLimits{}, model);
  for (size_t n = 0; n < placements.size(); ++n) {
    const NodeClass& c = NodeClasses()[placements[n].super ? kSuperNode : kFullNode];
    network.SetAccessLink(HostAddress(n), stream::AccessLink{static_cast<uint64_t>(c.upload_bytes_per_second),
                                                             static_cast<uint64_t>(c.download_bytes_per_second)});
  }

  const MonoTime start = loops[0]->Now();
  // Each node's address, its peer id derived once rather than at every dial to it (read by every shard;
  // outlives the nodes).
  std::vector<Multiaddr> dial_addresses;
  dial_addresses.reserve(plan.scripts.size());
  for (size_t n = 0; n < plan.scripts.size(); ++n) dial_addresses.push_back(NodeDialAddress(n, HostOf(plan, n)));
  std::vector<std::unique_ptr<SimNode>> nodes;
  nodes.reserve(plan.scripts.size());
  std::vector<std::vector<SimNode*>> shard_nodes(shard_count);
  for (size_t n = 0; n < plan.scripts.size(); ++n) {
    SimNodeConfig config;
    config.index = n;
    config.host_of = [&plan](size_t m) { return HostOf(plan, m); };
    config.dial_address = [&dial_addresses](size_t m) -> const Multiaddr& { return dial_addresses[m]; };
    config.script = plan.scripts[n];
    config.start = start;
    config.seed = options.seed * 1000003 + n;
    config.cpu = options.cpu;
    if (!plan.attackers.empty() && plan.attackers[n]) config.censor_from = start + plan.attack_from;
    if (!plan.outages.empty()) config.outages = plan.outages[n];
    const size_t shard = shard_of_host(HostOf(plan, n));
    nodes.push_back(std::make_unique<SimNode>(loops[shard].get(), &network, std::move(config)));
    shard_nodes[shard].push_back(nodes.back().get());
  }

  // The shards run in windows of at most lookahead / lag, ending on every whole simulated second. A shard
  // begins window k once every other one has finished window k - lag (MemoryNetwork::BeginWindow); at each
  // whole second all of them stop together, and one samples the meshes.
  constexpr Duration kSecond = std::chrono::seconds(1);
  const uint64_t lag = network.windows_per_lookahead();
  const Duration longest_window =
      shard_count == 1 ? kSecond : std::min(network.lookahead() / static_cast<int64_t>(lag), kSecond);
  std::vector<Status> start_status(shard_count);
  bool started = false;
  double setup_seconds = 0;
  std::chrono::steady_clock::time_point run_start;
  Duration simulated = Duration::zero();  // Up to the last whole second every shard reached.
  bool done = false;
  TimeSeries series;
  auto on_second = [&]() noexcept {
    if (!started) {
      started = true;
      setup_seconds = SecondsSince(wall_start);
      run_start = std::chrono::steady_clock::now();
      done = std::any_of(start_status.begin(), start_status.end(), [](const Status& s) { return !s.ok(); });
    } else {
      simulated += kSecond;
      series.SampleMesh(simulated, nodes);
      if (simulated % kScoreInterval == Duration::zero()) series.SampleScores(simulated, plan, nodes);
      if (options.progress && simulated % std::chrono::seconds(10) == Duration::zero()) options.progress(simulated);
    }
    done = done || simulated >= plan.duration;
  };
  std::barrier all_stopped(static_cast<std::ptrdiff_t>(shard_count), on_second);
  // Windows each shard has finished (0: its nodes started).
  std::vector<std::atomic<uint64_t>> finished(shard_count);
  auto run_shard = [&](size_t shard) {
    for (SimNode* node : shard_nodes[shard]) {
      if (Status s = node->Start(); !s.ok() && start_status[shard].ok()) {
        start_status[shard] = InternalError("node " + std::to_string(node->index()) + ": " + s.message());
      }
    }
    all_stopped.arrive_and_wait();
    Duration t = Duration::zero();
    for (uint64_t k = 1; !done; ++k) {
      for (size_t other = 0; other < shard_count; ++other) {
        for (uint64_t seen = finished[other].load(); seen + lag < k; seen = finished[other].load()) {
          finished[other].wait(seen);
        }
      }
      network.BeginWindow(shard);
      const Duration window = std::min(longest_window, kSecond - t % kSecond);
      loops[shard]->AdvanceTime(window);
      t += window;
      finished[shard].store(k);
      finished[shard].notify_all();
      if (t % kSecond == Duration::zero()) all_stopped.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (size_t shard = 1; shard < shard_count; ++shard) {
    threads.emplace_back([&, shard] {
      ScopedDeterministicRandom shard_random(options.seed * 1000003 + 999983 * shard);
      crypto::ScopedVerificationMemo shard_verified;
      run_shard(shard);
    });
  }
  run_shard(0);
  for (std::thread& thread : threads) thread.join();
  // What the last windows sent between shards reaches them now, so that it counts as received (as bytes
  // within a shard do when written).
  for (size_t shard = 0; shard < shard_count; ++shard) {
    for (uint64_t i = 0; i < lag; ++i) network.BeginWindow(shard);
  }
  for (const Status& s : start_status) {
    if (!s.ok()) return s;
  }
  const double run_seconds = SecondsSince(run_start);
  StatusOr<Summary> summary = WriteResults(plan, nodes, network, start, series, out_dir);
  // The nodes go as they ran: each shard's on a thread of its own (what a closing connection tells one on
  // another shard waits in the network's outboxes, and goes with the network).
  auto tear_down = [&](size_t shard) {
    for (SimNode* node : shard_nodes[shard]) nodes[node->index()].reset();
    loops[shard]->RunUntilIdle();
  };
  threads.clear();
  for (size_t shard = 1; shard < shard_count; ++shard) threads.emplace_back(tear_down, shard);
  tear_down(0);
  for (std::thread& thread : threads) thread.join();
  if (cost != nullptr) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    *cost = SimulationCost{setup_seconds, run_seconds, static_cast<double>(usage.ru_maxrss) / 1024};
  }
  return summary;
}

}  // namespace libp2p::sim
