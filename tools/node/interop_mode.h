// The node program's gossipsub-interop mode (docs/cli.md): it runs a libp2p/test-plans instruction script
// and prints the harness's log lines instead of the node's events.
#ifndef TOOLS_NODE_INTEROP_MODE_H_
#define TOOLS_NODE_INTEROP_MODE_H_

#include <cstdint>
#include <optional>
#include <string>

namespace libp2p::node {

struct InteropModeOptions {
  std::string params_path;               // --params FILE.
  std::optional<uint64_t> node_id;       // --node-id N; else the hostname's node<N>.
  std::optional<int64_t> base_port;      // --base-port P: listen on 127.0.0.1:P+N, dial 127.0.0.1:P+M.
  std::optional<int64_t> start_time_ms;  // --start-time-ms T: the instant waitUntil counts from.
  int64_t duration_s = 0;                // --duration-s S: exit after S seconds (0: at a signal).
  std::string muxer = "yamux";           // --muxer.
  int signal_fd = -1;                    // Readable when SIGINT or SIGTERM arrived.
};

// Runs the script until the duration ends or a signal comes; returns the exit status. A bad script or
// node id is a usage error (one line on stderr, exit status 2).
int RunInteropMode(const InteropModeOptions& options);

}  // namespace libp2p::node

#endif  // TOOLS_NODE_INTEROP_MODE_H_
