// The network simulator: runs N full nodes (host, Noise, yamux, identify, ping, pubsub, gossipsub) in one
// process on virtual time over the in-memory network with a link model, and writes what happened as CSV
// (results.h). See tools/sim/README.md.
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "tools/node/flags.h"
#include "tools/sim/plan.h"
#include "tools/sim/regions.h"
#include "tools/sim/results.h"
#include "tools/sim/sim_node.h"

namespace libp2p::sim {
namespace {

constexpr std::string_view kProgram = "simulator";

[[noreturn]] void Usage(const std::string& message) { tools::FlagError(kProgram, message); }

struct Flags {
  std::string scenario = "blob";
  std::string params;
  std::string out;
  PlanOptions plan;
  bool duration_set = false;
  bool check = false;
  int64_t jitter_ms = 0;
  CpuModel cpu{Duration::zero(), 0.5};  // Decryption at 2 GB/s.
};

constexpr char kHelp[] =
    "usage: simulator --out DIR [--scenario blob|ethereum|params] [--params FILE] [--nodes N] [--seed S]\n"
    "                 [--duration-s S] [--dials N] [--jitter-ms MS] [--check]\n";

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    }
    if (flag == "--check") {
      f.check = true;
      continue;
    }
    if (i + 1 >= argc) Usage(flag + ": needs a value (or unknown flag; --help lists them)");
    const std::string value = argv[++i];
    if (flag == "--scenario") {
      if (value != "blob" && value != "ethereum" && value != "params") {
        Usage("--scenario: expected blob, ethereum or params, got '" + value + "'");
      }
      f.scenario = value;
    } else if (flag == "--params") {
      f.params = value;
    } else if (flag == "--out") {
      f.out = value;
    } else if (flag == "--nodes") {
      f.plan.nodes = static_cast<size_t>(tools::WholeNumberFlag(kProgram, flag, value, 2, 100000));
    } else if (flag == "--seed") {
      f.plan.seed = static_cast<uint64_t>(tools::WholeNumberFlag(kProgram, flag, value, 0, INT64_MAX));
    } else if (flag == "--duration-s") {
      f.plan.duration = std::chrono::seconds(tools::WholeNumberFlag(kProgram, flag, value, 1, 86400));
      f.duration_set = true;
    } else if (flag == "--dials") {
      f.plan.dials_per_node = static_cast<size_t>(tools::WholeNumberFlag(kProgram, flag, value, 1, 1000));
    } else if (flag == "--jitter-ms") {
      f.jitter_ms = tools::WholeNumberFlag(kProgram, flag, value, 0, 10000);
    } else {
      Usage("unknown flag " + flag + " (--help lists them)");
    }
  }
  if (f.out.empty()) Usage("--out: required (the folder for the CSV files)");
  if ((f.scenario == "params") != !f.params.empty()) Usage("--params FILE goes with --scenario params, and only with it");
  return f;
}

Plan MakePlan(const Flags& f) {
  if (f.scenario == "ethereum") return EthereumPlan(f.plan);
  if (f.scenario == "blob") {
    Plan plan = BlobPlan(f.plan);
    if (f.duration_set) plan.duration = f.plan.duration;
    return plan;
  }
  std::ifstream in(f.params, std::ios::binary);
  if (!in) Usage("--params: cannot read " + f.params);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<Plan> plan = PlanFromParams(text, f.plan);
  if (!plan.ok()) Usage("--params: " + plan.status().message());
  return std::move(plan).value();
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

int Run(const Flags& flags) {
  const Plan plan = MakePlan(flags);
  if (mkdir(flags.out.c_str(), 0755) != 0 && errno != EEXIST) Usage("--out: cannot create " + flags.out);
  const auto wall_start = std::chrono::steady_clock::now();

  ManualEventLoop loop;
  stream::LinkModel model;
  const std::vector<Placement> placements = plan.placements;
  model.latency = [placements](stream::Ipv4 from, stream::Ipv4 to) {
    const size_t a = from - 0x0a000001u, b = to - 0x0a000001u;
    if (a >= placements.size() || b >= placements.size()) return Duration(std::chrono::milliseconds(1));
    return OneWayLatency(placements[a].region, placements[b].region);
  };
  model.jitter = std::chrono::milliseconds(flags.jitter_ms);
  model.seed = flags.plan.seed;
  stream::MemoryNetwork network(&loop, stream::WriteLimits{}, model);
  for (size_t n = 0; n < placements.size(); ++n) {
    const NodeClass& c = NodeClasses()[placements[n].super ? kSuperNode : kFullNode];
    network.SetAccessLink(NodeAddress(n), stream::AccessLink{static_cast<uint64_t>(c.upload_bytes_per_second),
                                                             static_cast<uint64_t>(c.download_bytes_per_second)});
  }

  const MonoTime start = loop.Now();
  std::vector<std::unique_ptr<SimNode>> nodes;
  nodes.reserve(plan.scripts.size());
  for (size_t n = 0; n < plan.scripts.size(); ++n) {
    nodes.push_back(std::make_unique<SimNode>(&loop, &network, n, plan.scripts[n], start,
                                              flags.plan.seed * 1000003 + n, flags.cpu));
  }
  for (auto& node : nodes) {
    if (Status s = node->Start(); !s.ok()) {
      std::fprintf(stderr, "simulator: node %zu: %s\n", node->index(), s.ToString().c_str());
      return 1;
    }
  }
  const auto setup_done = std::chrono::steady_clock::now();
  MeshSampler mesh;
  for (Duration t = Duration::zero(); t < plan.duration;) {
    loop.AdvanceTime(std::chrono::seconds(1));
    t += std::chrono::seconds(1);
    mesh.Sample(t, nodes);
    if (t % std::chrono::seconds(10) == Duration::zero()) {
      std::fprintf(stderr, "simulator: %lld s simulated, %.1f s of wall time\n",
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(t).count()),
                   Seconds(std::chrono::steady_clock::now() - wall_start));
    }
  }
  const auto run_done = std::chrono::steady_clock::now();
  StatusOr<Summary> summary = WriteResults(plan, nodes, network, start, mesh, flags.out);
  if (!summary.ok()) {
    std::fprintf(stderr, "simulator: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double simulated = std::chrono::duration<double>(plan.duration).count();
  std::printf("%s: %zu nodes, %.0f s simulated in %.1f s of wall time (%.2fx; setup %.1f s), peak RSS %.0f MiB "
              "(%.0f KiB per node)\n",
              plan.name.c_str(), nodes.size(), simulated, Seconds(run_done - setup_done),
              simulated / Seconds(run_done - setup_done), Seconds(setup_done - wall_start),
              static_cast<double>(usage.ru_maxrss) / 1024, static_cast<double>(usage.ru_maxrss) / static_cast<double>(nodes.size()));
  std::printf("%s\n", Describe(*summary).c_str());
  int status = 0;
  if (flags.check) {
    if (Status s = CheckSummary(plan, *summary); !s.ok()) {
      std::printf("check failed: %s\n", s.message().c_str());
      status = 1;
    } else {
      std::printf("check passed\n");
    }
  }
  std::fflush(stdout);
  nodes.clear();
  loop.RunUntilIdle();
  return status;
}

}  // namespace
}  // namespace libp2p::sim

int main(int argc, char** argv) { return libp2p::sim::Run(libp2p::sim::ParseFlags(argc, argv)); }
