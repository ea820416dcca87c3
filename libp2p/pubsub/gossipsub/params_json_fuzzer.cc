// Feeds arbitrary text to ParseGossipSubJson. Invariants: it never crashes or throws; an error or warning is
// one non-empty line; whatever parses is valid (each struct's Validate() passes); and writing what was parsed
// and parsing that again gives a document that writes back identically (the same values) and warns of nothing
// the first parse did not (a warning about the configuration itself, such as thresholds without score
// parameters, comes back; one about the input, such as an unimplemented go field, does not).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libp2p/pubsub/gossipsub/params_json.h"

using libp2p::pubsub::gossipsub::GossipSubJsonConfig;
using libp2p::pubsub::gossipsub::GossipSubJsonResult;
using libp2p::pubsub::gossipsub::ParseGossipSubJson;
using libp2p::pubsub::gossipsub::WriteGossipSubJson;

namespace {

void Check(bool ok, const char* what, const std::string& detail) {
  if (ok) return;
  std::fprintf(stderr, "params_json_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

bool OneLine(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

void CheckValid(const GossipSubJsonConfig& c, const std::string& doc) {
  Check(c.params.Validate().ok(), "parsed GossipSubParams do not validate", doc);
  if (c.score_params) Check(c.score_params->Validate().ok(), "parsed PeerScoreParams do not validate", doc);
  if (c.thresholds) Check(c.thresholds->Validate().ok(), "parsed PeerScoreThresholds do not validate", doc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const libp2p::StatusOr<GossipSubJsonResult> first = ParseGossipSubJson(input);
  if (!first.ok()) {
    Check(OneLine(first.status().message()), "error is not one line", first.status().message());
    return 0;
  }
  for (const std::string& w : first->warnings) Check(OneLine(w), "warning is not one line", w);
  CheckValid(first->config, input);

  const std::string written = WriteGossipSubJson(first->config);
  const libp2p::StatusOr<GossipSubJsonResult> second = ParseGossipSubJson(written);
  Check(second.ok(), "the written document does not parse", second.status().ToString() + "\n" + written);
  for (const std::string& w : second->warnings) {
    const bool known = std::find(first->warnings.begin(), first->warnings.end(), w) != first->warnings.end();
    Check(known, "the written document gives a warning the input did not", w + "\n" + written);
  }
  CheckValid(second->config, written);
  Check(WriteGossipSubJson(second->config) == written, "the round trip changed a value", written);
  return 0;
}
