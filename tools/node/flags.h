// Command-line flag helpers shared by the node program and the tools around it.
#ifndef TOOLS_NODE_FLAGS_H_
#define TOOLS_NODE_FLAGS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "libp2p/base/log.h"

namespace libp2p::tools {

// Prints "<program>: <message>" on standard error and exits with status 2 (a usage error).
[[noreturn]] void FlagError(std::string_view program, const std::string& message);

// `value` of `flag` as a whole number from `min` to `max`; anything else is a FlagError naming the flag and
// the range.
int64_t WholeNumberFlag(std::string_view program, const std::string& flag, const std::string& value, int64_t min,
                        int64_t max);

// `value` of `flag` as a log level (trace, debug, info, warn, error or off); anything else is a FlagError
// naming the flag and the levels.
LogLevel LogLevelFlag(std::string_view program, const std::string& flag, const std::string& value);

}  // namespace libp2p::tools

#endif  // TOOLS_NODE_FLAGS_H_
