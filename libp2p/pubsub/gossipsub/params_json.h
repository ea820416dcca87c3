// GossipSub and peer-score parameters from JSON with go-libp2p-pubsub's field names, and back.
//
// An optional target (//libp2p/pubsub/gossipsub:params_json): it alone (with the node program) depends on the
// JSON library, so the router and the structs it takes do not. Accepted documents:
//   - an object with any of "GossipSubParams", "PeerScoreParams" and "PeerScoreThresholds" (and nothing
//     else), each an object of the go struct of that name;
//   - a bare GossipSubParams object, as libp2p/test-plans' gossipsub-interop writes it.
// Field names are the go structs' exported field names, matched exactly (go's decoder also takes other
// letter cases; this one does not, and says which name was meant). time.Duration fields are whole numbers
// of nanoseconds, as go's encoding/json writes them. Whole-number fields also take a number written with an
// exponent or a fraction of zero (1e9, 5.0); a fraction is an error. null is the same as leaving the field
// out. A field left out keeps this project's default: go's defaults for GossipSubParams, js-libp2p-gossipsub's
// for the score structs (go has none); every topic starts from TopicScoreParams{}.
//
// Errors (kInvalidArgument), each one line naming the field by its path in the document, e.g.
// `GossipSubParams.Dhigh: unknown field`, `PeerScoreParams.Topics["blocks"].TopicWeight: expected a number,
// got string`:
//   - a document that is not JSON, not an object, or has a key twice in one object;
//   - an unknown field;
//   - a value of the wrong type, or out of the range of the field it goes to (e.g. above 2^31-1 for a count);
//   - the code-only fields AppSpecificScore (a function) and IPColocationFactorWhitelist (a list of IP
//     networks) with any value but null (or [] for the whitelist): set PeerScoreParams::app_specific_score and
//     ip_colocation_factor_whitelist in code. They are errors, not warnings, because ignoring them would
//     silently score peers differently from what the file asks for;
//   - values the structs' own Validate() rejects, with the fields given their go names, e.g.
//     `GossipSubParams: Dlo (7) must be <= D (6)`.
// Warnings: go fields this project does not implement are accepted (their types are checked) and each gives
// one line; see kUnimplementedGoFields.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_JSON_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_JSON_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/status.h"
#include "libp2p/pubsub/gossipsub/params.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/gossipsub/px_connector.h"

namespace libp2p::pubsub::gossipsub {

// What a JSON document configures; each part is valid (its Validate() passed) when it comes from
// ParseGossipSubJson.
struct GossipSubJsonConfig {
  GossipSubParams params;
  // Set when the document has "PeerScoreParams" (scoring on); its app_specific_score is empty (P5 = 0) and
  // its whitelist empty.
  std::optional<PeerScoreParams> score_params;
  // Set when the document has "PeerScoreThresholds"; otherwise the caller's thresholds apply.
  std::optional<PeerScoreThresholds> thresholds;
  // go's Connectors, MaxPendingConnections and ConnectionTimeout (GossipSubParams fields in go) land here:
  // max_dialing, max_pending and dial_lease.
  PxConnectorOptions px_connector;
};

// A parsed document and the warnings it gave (one line each, naming the field), in document order.
struct GossipSubJsonResult {
  GossipSubJsonConfig config;
  std::vector<std::string> warnings;
};

// go fields that are accepted but do nothing here, by path in the wrapped form ("Topics.*" is every topic):
//   GossipSubParams.SlowHeartbeatWarning (no slow-heartbeat log), GossipSubParams.MaxIDontWantLength (ids
//   taken from a peer are bounded per heartbeat instead, and ours go out at most 10 to an RPC, go's default),
//   PeerScoreParams.SeenMsgTTL (delivery records are kept 2 minutes), and SkipAtomicValidation in
//   PeerScoreParams, PeerScoreThresholds and Topics.* (our Validate() never checks the fields of a term whose
//   weight is 0, and always checks the rest).
inline constexpr std::string_view kUnimplementedGoFields[] = {
    "GossipSubParams.SlowHeartbeatWarning", "GossipSubParams.MaxIDontWantLength",
    "PeerScoreParams.SeenMsgTTL",           "PeerScoreParams.SkipAtomicValidation",
    "PeerScoreParams.Topics.*.SkipAtomicValidation", "PeerScoreThresholds.SkipAtomicValidation",
};

// Parses `json` (see the top of this file). Never throws; the result owns everything it holds.
StatusOr<GossipSubJsonResult> ParseGossipSubJson(std::string_view json);

// Reads the file at `path` (at most 1 MiB) and parses it. Every error is kInvalidArgument naming the path:
// "cannot read <path>: <reason>", "<path>: larger than 1 MiB", or "<path>: " and ParseGossipSubJson's error.
StatusOr<GossipSubJsonResult> ReadGossipSubJsonFile(const std::string& path);

// The document for `config` in the wrapped form, with every field this project maps (go's names; durations
// in nanoseconds), PeerScoreParams and PeerScoreThresholds only when set, topics in name order, indented by
// two spaces. ParseGossipSubJson reads it back to the same values without warnings, provided the config is
// valid and its topic names are UTF-8 (other bytes are written as U+FFFD). The code-only fields are not
// written.
std::string WriteGossipSubJson(const GossipSubJsonConfig& config);

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_JSON_H_
