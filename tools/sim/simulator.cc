// The network simulator: runs N full nodes (host, Noise, yamux, identify, ping, pubsub, gossipsub) in one
// process on virtual time over the in-memory network with a link model, and writes what happened as CSV
// (results.h). See tools/sim/README.md.
#include <malloc.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "tools/node/flags.h"
#include "tools/sim/plan.h"
#include "tools/sim/results.h"
#include "tools/sim/simulation.h"

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
  bool scoring = true;
  bool null_cipher = true;
  int64_t jitter_ms = 0;
  int64_t threads = 1;
};

constexpr char kHelp[] =
    "usage: simulator --out DIR\n"
    "                 [--scenario blob|ethereum|churn|censor-attack|covert-flash|colocation|attack-at-dawn|\n"
    "                             eclipse|censor-baseline|params]\n"
    "                 [--params FILE] [--nodes N] [--seed S] [--duration-s S] [--dials N] [--jitter-ms MS]\n"
    "                 [--scoring on|off] [--cipher null|real] [--threads N] [--check]\n";

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
      if (value != "blob" && value != "ethereum" && value != "churn" && value != "censor-attack" &&
          value != "covert-flash" && value != "colocation" && value != "attack-at-dawn" && value != "eclipse" &&
          value != "censor-baseline" && value != "params") {
        Usage("--scenario: expected blob, ethereum, churn, censor-attack, covert-flash, colocation, attack-at-dawn, "
              "eclipse, censor-baseline or params, got '" + value + "'");
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
    } else if (flag == "--scoring") {
      if (value != "on" && value != "off") Usage("--scoring: expected on or off, got '" + value + "'");
      f.scoring = value == "on";
    } else if (flag == "--cipher") {
      if (value != "null" && value != "real") Usage("--cipher: expected null or real, got '" + value + "'");
      f.null_cipher = value == "null";
    } else if (flag == "--jitter-ms") {
      f.jitter_ms = tools::WholeNumberFlag(kProgram, flag, value, 0, 10000);
    } else if (flag == "--threads") {
      f.threads = tools::WholeNumberFlag(kProgram, flag, value, 1, 4);
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
  if (f.scenario == "censor-attack") return CensorAttack(f.plan, CensorMode::kColdBoot);
  if (f.scenario == "covert-flash") return CensorAttack(f.plan, CensorMode::kCovertFlash);
  if (f.scenario == "colocation") return CensorAttack(f.plan, CensorMode::kColocated);
  if (f.scenario == "attack-at-dawn") return CensorAttack(f.plan, CensorMode::kAtDawn);
  if (f.scenario == "eclipse") return CensorAttack(f.plan, CensorMode::kEclipse);
  if (f.scenario == "churn") return ChurnPlan(f.plan);
  if (f.scenario == "censor-baseline") return CensorAttack(f.plan, CensorMode::kBaseline);
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

int Run(const Flags& flags) {
  Plan plan = MakePlan(flags);
  if (!flags.scoring) {
    plan.name += "-unscored";
    for (node::InteropScript& script : plan.scripts) {
      script.gossipsub.config.score_params.reset();
      script.gossipsub.config.thresholds.reset();
    }
  }
  if (mkdir(flags.out.c_str(), 0755) != 0 && errno != EEXIST) Usage("--out: cannot create " + flags.out);
  const auto wall_start = std::chrono::steady_clock::now();
  SimulationOptions options;
  options.seed = flags.plan.seed;
  options.jitter = std::chrono::milliseconds(flags.jitter_ms);
  options.null_cipher = flags.null_cipher;
  options.shards = static_cast<size_t>(flags.threads);
  options.progress = [wall_start](Duration simulated) {
    std::fprintf(stderr, "simulator: %lld s simulated, %.1f s of wall time\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(simulated).count()),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
  };
  SimulationCost cost;
  StatusOr<Summary> summary = Simulate(plan, options, flags.out, &cost);
  if (!summary.ok()) {
    std::fprintf(stderr, "simulator: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  const double simulated = std::chrono::duration<double>(plan.duration).count();
  std::printf("%s: %zu nodes, %.0f s simulated in %.1f s of wall time (%.2fx; setup %.1f s), peak RSS %.0f MiB "
              "(%.0f KiB per node)\n",
              plan.name.c_str(), plan.scripts.size(), simulated, cost.run_seconds, simulated / cost.run_seconds,
              cost.setup_seconds, cost.peak_rss_mib, cost.peak_rss_mib * 1024 / static_cast<double>(plan.scripts.size()));
  std::printf("%s\n", Describe(*summary).c_str());
  if (!flags.check) return 0;
  if (Status s = CheckSummary(plan, *summary); !s.ok()) {
    std::printf("check failed: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("check passed\n");
  return 0;
}

}  // namespace
}  // namespace libp2p::sim

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // A run frees and allocates large buffers all the time (each copy of a block in flight is one). By
  // default glibc hands a freed top of its heap back to the kernel and serves a large request with a fresh
  // mapping, so the next buffer faults its pages in anew (about a fifth of the run's page faults). Freed
  // memory stays in the process instead: the peak is the same, since it is reached while blocks spread.
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
  return libp2p::sim::Run(libp2p::sim::ParseFlags(argc, argv));
}
