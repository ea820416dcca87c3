// trace_stat: statistics of pubsub traces from several nodes (go-libp2p-pubsub's JSON or protobuf traces,
// plain or gzipped), as go-libp2p-pubsub-tracer's tracestat. Usage:
//   trace_stat [--json] [--format=json|pb] FILE...
// Prints per topic the messages published, delivered, duplicated and rejected (by reason), and the
// propagation delay percentiles (each delivery on another node minus the publish, matched by message id
// across the files). Without --format each file's format is detected. Exits 1 when a file cannot be read.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/pubsub/trace/trace_reader.h"
#include "tools/trace_stat/trace_stats.h"

int main(int argc, char** argv) {
  using namespace libp2p::pubsub::trace;
  bool json = false;
  std::optional<TraceFormat> format;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--format=json") {
      format = TraceFormat::kJson;
    } else if (arg == "--format=pb") {
      format = TraceFormat::kPb;
    } else if (arg == "--help" || arg == "-h" || (arg.size() > 1 && arg[0] == '-')) {
      std::fprintf(stderr, "usage: trace_stat [--json] [--format=json|pb] FILE...\n");
      return arg.rfind("--help", 0) == 0 || arg == "-h" ? 0 : 2;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: trace_stat [--json] [--format=json|pb] FILE...\n");
    return 2;
  }
  TraceStats stats;
  for (const std::string& f : files) {
    libp2p::Status s = ReadTraceFile(f, format, [&](const tracepb::TraceEvent& e) { stats.Add(e); });
    if (!s.ok()) {
      std::fprintf(stderr, "trace_stat: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const TraceReport report = stats.Report();
  const std::string out = json ? FormatJson(report) : FormatText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
