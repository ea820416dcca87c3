#include "tools/node/flags.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace libp2p::tools {

void FlagError(std::string_view program, const std::string& message) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), message.c_str());
  std::exit(2);
}

int64_t WholeNumberFlag(std::string_view program, const std::string& flag, const std::string& value, int64_t min,
                        int64_t max) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || v < min || v > max) {
    FlagError(program, flag + ": expected a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got '" + value + "'");
  }
  return v;
}

LogLevel LogLevelFlag(std::string_view program, const std::string& flag, const std::string& value) {
  StatusOr<LogLevel> level = ParseLogLevel(value);
  if (!level.ok()) FlagError(program, flag + ": " + level.status().message());
  return *level;
}

}  // namespace libp2p::tools
