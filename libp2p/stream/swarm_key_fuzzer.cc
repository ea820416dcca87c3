// Parses arbitrary bytes as a swarm key file. Invariants: nothing crashes; a failure is kInvalidArgument;
// whatever parses formats to the canonical 95-byte base16 file, which parses back to the same key; and a
// file is accepted only if its key text stands where the format puts it (the first two lines are exact).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libp2p/stream/pnet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libp2p;
  using namespace libp2p::stream;
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  StatusOr<SwarmKey> key = ParseSwarmKey(file);
  if (!key.ok()) {
    if (key.status().code() != StatusCode::kInvalidArgument) abort();
    return 0;
  }
  if (file.substr(0, kSwarmKeyHeader.size()) != kSwarmKeyHeader) abort();
  const std::string formatted = FormatSwarmKey(*key);
  if (formatted.size() != 95) abort();
  StatusOr<SwarmKey> again = ParseSwarmKey(formatted);
  if (!again.ok() || again->key != key->key) abort();
  if (FormatSwarmKey(*again) != formatted) abort();
  return 0;
}
