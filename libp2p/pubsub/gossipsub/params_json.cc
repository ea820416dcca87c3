#include "libp2p/pubsub/gossipsub/params_json.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace libp2p::pubsub::gossipsub {
namespace {

// Object members keep the document's order, so errors and warnings come in the order the fields were written.
using Json = nlohmann::ordered_json;
using OrderedJson = nlohmann::ordered_json;
using Warnings = std::vector<std::string>;

constexpr size_t kMaxFileBytes = size_t{1} << 20;

// The go type of a field, which decides what JSON it takes.
enum class GoType {
  kInt,       // int: a whole number
  kUint64,    // uint64: a whole number >= 0
  kFloat64,   // float64: any finite number
  kDuration,  // time.Duration: a whole number of nanoseconds
  kBool,
};

// Where a go field's value goes in our structs.
using Ref = std::variant<int*, size_t*, double*, Duration*>;

// One go field of the struct a JSON object describes, and the field of T it maps to.
template <typename T>
struct Field {
  std::string_view go_name;
  GoType type;
  Ref (*ref)(T&);  // Null: a go field this project does not implement (accepted with a warning).
  std::string_view our_name;  // The name Validate() uses; for an unimplemented field, why it is ignored.
};

// The last component of a member path ("params.d_lo" -> "d_lo"): the name Validate() uses for it.
constexpr std::string_view MemberName(std::string_view path) { return path.substr(path.rfind('.') + 1); }

#define LIBP2P_FIELD(T, go, type, expr) \
  Field<T> { go, GoType::type, [](T& t) -> Ref { return &t.expr; }, MemberName(#expr) }
#define LIBP2P_UNIMPLEMENTED(T, go, type, why) \
  Field<T> { go, GoType::type, nullptr, why }

constexpr std::string_view kNoAtomicValidation =
    "our Validate() never checks the fields of a term whose weight is 0, and always checks the rest";

// go's GossipSubParams, in go's order. Connectors, MaxPendingConnections and ConnectionTimeout go to the
// peer-exchange connector, which takes them as go's connector goroutines, queue and dial timeout do.
const Field<GossipSubJsonConfig> kGossipSubFields[] = {
    LIBP2P_FIELD(GossipSubJsonConfig, "D", kInt, params.d),
    LIBP2P_FIELD(GossipSubJsonConfig, "Dlo", kInt, params.d_lo),
    LIBP2P_FIELD(GossipSubJsonConfig, "Dhi", kInt, params.d_hi),
    LIBP2P_FIELD(GossipSubJsonConfig, "Dscore", kInt, params.d_score),
    LIBP2P_FIELD(GossipSubJsonConfig, "Dout", kInt, params.d_out),
    LIBP2P_FIELD(GossipSubJsonConfig, "HistoryLength", kInt, params.mcache_len),
    LIBP2P_FIELD(GossipSubJsonConfig, "HistoryGossip", kInt, params.mcache_gossip),
    LIBP2P_FIELD(GossipSubJsonConfig, "Dlazy", kInt, params.d_lazy),
    LIBP2P_FIELD(GossipSubJsonConfig, "GossipFactor", kFloat64, params.gossip_factor),
    LIBP2P_FIELD(GossipSubJsonConfig, "GossipRetransmission", kInt, params.gossip_retransmission),
    LIBP2P_FIELD(GossipSubJsonConfig, "HeartbeatInitialDelay", kDuration, params.heartbeat_initial_delay),
    LIBP2P_FIELD(GossipSubJsonConfig, "HeartbeatInterval", kDuration, params.heartbeat_interval),
    LIBP2P_UNIMPLEMENTED(GossipSubJsonConfig, "SlowHeartbeatWarning", kFloat64, "no slow-heartbeat warning is logged"),
    LIBP2P_FIELD(GossipSubJsonConfig, "FanoutTTL", kDuration, params.fanout_ttl),
    LIBP2P_FIELD(GossipSubJsonConfig, "PrunePeers", kInt, params.prune_peers),
    LIBP2P_FIELD(GossipSubJsonConfig, "PruneBackoff", kDuration, params.prune_backoff),
    LIBP2P_FIELD(GossipSubJsonConfig, "UnsubscribeBackoff", kDuration, params.unsubscribe_backoff),
    LIBP2P_FIELD(GossipSubJsonConfig, "Connectors", kInt, px_connector.max_dialing),
    LIBP2P_FIELD(GossipSubJsonConfig, "MaxPendingConnections", kInt, px_connector.max_pending),
    LIBP2P_FIELD(GossipSubJsonConfig, "ConnectionTimeout", kDuration, px_connector.dial_lease),
    LIBP2P_FIELD(GossipSubJsonConfig, "DirectConnectTicks", kUint64, params.direct_connect_ticks),
    LIBP2P_FIELD(GossipSubJsonConfig, "DirectConnectInitialDelay", kDuration, params.direct_connect_initial_delay),
    LIBP2P_FIELD(GossipSubJsonConfig, "OpportunisticGraftTicks", kUint64, params.opportunistic_graft_ticks),
    LIBP2P_FIELD(GossipSubJsonConfig, "OpportunisticGraftPeers", kInt, params.opportunistic_graft_peers),
    LIBP2P_FIELD(GossipSubJsonConfig, "GraftFloodThreshold", kDuration, params.graft_flood_threshold),
    LIBP2P_FIELD(GossipSubJsonConfig, "MaxIHaveLength", kInt, params.max_ihave_length),
    LIBP2P_FIELD(GossipSubJsonConfig, "MaxIHaveMessages", kInt, params.max_ihave_messages),
    LIBP2P_UNIMPLEMENTED(GossipSubJsonConfig, "MaxIDontWantLength", kInt,
                         "IDONTWANT ids taken from a peer are bounded per heartbeat instead, and ours carry at "
                         "most 10 ids to an RPC, go's default"),
    LIBP2P_FIELD(GossipSubJsonConfig, "MaxIDontWantMessages", kInt, params.max_idontwant_messages),
    LIBP2P_FIELD(GossipSubJsonConfig, "IWantFollowupTime", kDuration, params.iwant_followup_time),
    LIBP2P_FIELD(GossipSubJsonConfig, "IDontWantMessageThreshold", kInt, params.idontwant_message_size_threshold),
    LIBP2P_FIELD(GossipSubJsonConfig, "IDontWantMessageTTL", kInt, params.idontwant_retention_heartbeats),
};

const Field<TopicScoreParams> kTopicFields[] = {
    LIBP2P_UNIMPLEMENTED(TopicScoreParams, "SkipAtomicValidation", kBool, kNoAtomicValidation),
    LIBP2P_FIELD(TopicScoreParams, "TopicWeight", kFloat64, topic_weight),
    LIBP2P_FIELD(TopicScoreParams, "TimeInMeshWeight", kFloat64, time_in_mesh_weight),
    LIBP2P_FIELD(TopicScoreParams, "TimeInMeshQuantum", kDuration, time_in_mesh_quantum),
    LIBP2P_FIELD(TopicScoreParams, "TimeInMeshCap", kFloat64, time_in_mesh_cap),
    LIBP2P_FIELD(TopicScoreParams, "FirstMessageDeliveriesWeight", kFloat64, first_message_deliveries_weight),
    LIBP2P_FIELD(TopicScoreParams, "FirstMessageDeliveriesDecay", kFloat64, first_message_deliveries_decay),
    LIBP2P_FIELD(TopicScoreParams, "FirstMessageDeliveriesCap", kFloat64, first_message_deliveries_cap),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesWeight", kFloat64, mesh_message_deliveries_weight),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesDecay", kFloat64, mesh_message_deliveries_decay),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesCap", kFloat64, mesh_message_deliveries_cap),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesThreshold", kFloat64, mesh_message_deliveries_threshold),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesWindow", kDuration, mesh_message_deliveries_window),
    LIBP2P_FIELD(TopicScoreParams, "MeshMessageDeliveriesActivation", kDuration, mesh_message_deliveries_activation),
    LIBP2P_FIELD(TopicScoreParams, "MeshFailurePenaltyWeight", kFloat64, mesh_failure_penalty_weight),
    LIBP2P_FIELD(TopicScoreParams, "MeshFailurePenaltyDecay", kFloat64, mesh_failure_penalty_decay),
    LIBP2P_FIELD(TopicScoreParams, "InvalidMessageDeliveriesWeight", kFloat64, invalid_message_deliveries_weight),
    LIBP2P_FIELD(TopicScoreParams, "InvalidMessageDeliveriesDecay", kFloat64, invalid_message_deliveries_decay),
};

// PeerScoreParams without its special fields: Topics (an object of topics), and the code-only
// AppSpecificScore and IPColocationFactorWhitelist.
const Field<PeerScoreParams> kScoreFields[] = {
    LIBP2P_UNIMPLEMENTED(PeerScoreParams, "SkipAtomicValidation", kBool, kNoAtomicValidation),
    LIBP2P_FIELD(PeerScoreParams, "TopicScoreCap", kFloat64, topic_score_cap),
    LIBP2P_FIELD(PeerScoreParams, "AppSpecificWeight", kFloat64, app_specific_weight),
    LIBP2P_FIELD(PeerScoreParams, "IPColocationFactorWeight", kFloat64, ip_colocation_factor_weight),
    LIBP2P_FIELD(PeerScoreParams, "IPColocationFactorThreshold", kInt, ip_colocation_factor_threshold),
    LIBP2P_FIELD(PeerScoreParams, "BehaviourPenaltyWeight", kFloat64, behaviour_penalty_weight),
    LIBP2P_FIELD(PeerScoreParams, "BehaviourPenaltyThreshold", kFloat64, behaviour_penalty_threshold),
    LIBP2P_FIELD(PeerScoreParams, "BehaviourPenaltyDecay", kFloat64, behaviour_penalty_decay),
    LIBP2P_FIELD(PeerScoreParams, "DecayInterval", kDuration, decay_interval),
    LIBP2P_FIELD(PeerScoreParams, "DecayToZero", kFloat64, decay_to_zero),
    LIBP2P_FIELD(PeerScoreParams, "RetainScore", kDuration, retain_score),
    LIBP2P_UNIMPLEMENTED(PeerScoreParams, "SeenMsgTTL", kDuration,
                         "delivery records are kept 2 minutes, as long as the seen cache"),
};

const Field<PeerScoreThresholds> kThresholdFields[] = {
    LIBP2P_UNIMPLEMENTED(PeerScoreThresholds, "SkipAtomicValidation", kBool, kNoAtomicValidation),
    LIBP2P_FIELD(PeerScoreThresholds, "GossipThreshold", kFloat64, gossip_threshold),
    LIBP2P_FIELD(PeerScoreThresholds, "PublishThreshold", kFloat64, publish_threshold),
    LIBP2P_FIELD(PeerScoreThresholds, "GraylistThreshold", kFloat64, graylist_threshold),
    LIBP2P_FIELD(PeerScoreThresholds, "AcceptPXThreshold", kFloat64, accept_px_threshold),
    LIBP2P_FIELD(PeerScoreThresholds, "OpportunisticGraftThreshold", kFloat64, opportunistic_graft_threshold),
};

#undef LIBP2P_FIELD
#undef LIBP2P_UNIMPLEMENTED

constexpr std::string_view kTopLevel[] = {"GossipSubParams", "PeerScoreParams", "PeerScoreThresholds"};
constexpr std::string_view kTopics = "Topics";
constexpr std::string_view kAppSpecificScore = "AppSpecificScore";
constexpr std::string_view kWhitelist = "IPColocationFactorWhitelist";

// A key as JSON text: quoted, with control characters escaped, so that a message stays on one line.
std::string Quote(std::string_view key) {
  return Json(std::string(key)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsIdentifier(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// `path` extended by the object member `key`: `a.b`, or `a["b c"]` for a key that is not an identifier.
std::string Member(const std::string& path, std::string_view key) {
  if (!IsIdentifier(key)) return path + "[" + Quote(key) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Status FieldError(const std::string& path, const std::string& what) { return InvalidArgumentError(path + ": " + what); }

// What a value is, for messages: its type, with the value itself when it is short.
std::string Describe(const Json& v) {
  if (v.is_string() || v.is_object() || v.is_array()) return v.type_name();
  return v.dump();
}

// A JSON number that is a whole number within int64.
StatusOr<int64_t> WholeNumber(const Json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(path, v.dump() + " is out of range");
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) != d) return FieldError(path, "expected a whole number, got " + v.dump());
    // 2^63 is exactly representable; every double below it converts without overflow.
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
      return FieldError(path, v.dump() + " is out of range");
    }
    return static_cast<int64_t>(d);
  }
  return FieldError(path, "expected a whole number, got " + Describe(v));
}

std::string_view Unit(GoType type) { return type == GoType::kDuration ? " (nanoseconds)" : ""; }

// Checks `v` against the field's go type and stores it where the field maps to.
template <typename T>
Status Apply(const Field<T>& f, const Json& v, const std::string& path, T& target, Warnings& warnings) {
  if (v.is_null()) return OkStatus();  // As go's decoder does: null leaves the field as it is.
  int64_t whole = 0;
  double real = 0;
  switch (f.type) {
    case GoType::kBool:
      if (!v.is_boolean()) return FieldError(path, "expected true or false, got " + Describe(v));
      break;
    case GoType::kFloat64:
      if (!v.is_number()) return FieldError(path, "expected a number, got " + Describe(v));
      real = v.get<double>();
      if (!std::isfinite(real)) return FieldError(path, "expected a finite number, got " + v.dump());
      break;
    case GoType::kInt:
    case GoType::kUint64:
    case GoType::kDuration: {
      if (!v.is_number()) {
        return FieldError(path, "expected a whole number" + std::string(Unit(f.type)) + ", got " + Describe(v));
      }
      ASSIGN_OR_RETURN(whole, WholeNumber(v, path));
      if (f.type == GoType::kUint64 && whole < 0) {
        return FieldError(path, "expected a whole number >= 0 (a go uint64), got " + v.dump());
      }
      break;
    }
  }
  if (f.ref == nullptr) {
    warnings.push_back(path + ": a go field this project does not implement; ignored (" + std::string(f.our_name) +
                       ")");
    return OkStatus();
  }
  const Ref ref = f.ref(target);
  if (int* const* p = std::get_if<int*>(&ref)) {
    if (whole < std::numeric_limits<int>::min() || whole > std::numeric_limits<int>::max()) {
      return FieldError(path, v.dump() + " is out of range (at most " +
                                  std::to_string(std::numeric_limits<int>::max()) + " in magnitude)");
    }
    **p = static_cast<int>(whole);
  } else if (size_t* const* p = std::get_if<size_t*>(&ref)) {
    if (whole < 0) return FieldError(path, "expected a whole number >= 0, got " + v.dump());
    **p = static_cast<size_t>(whole);
  } else if (double* const* p = std::get_if<double*>(&ref)) {
    **p = real;
  } else {
    *std::get<Duration*>(ref) = Duration(whole);
  }
  return OkStatus();
}

// The error for a key that names no field; a name that differs only in letter case is pointed out.
template <typename T, size_t N>
Status UnknownField(const std::string& path, std::string_view key, const Field<T> (&table)[N],
                    std::initializer_list<std::string_view> more = {}) {
  const auto same_letters = [&](std::string_view name) {
    return name.size() == key.size() && std::equal(name.begin(), name.end(), key.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  std::vector<std::string_view> names;
  for (const Field<T>& f : table) names.push_back(f.go_name);
  names.insert(names.end(), more.begin(), more.end());
  for (std::string_view name : names) {
    if (same_letters(name)) {
      return FieldError(path, "unknown field (names are case-sensitive: did you mean " + std::string(name) + "?)");
    }
  }
  return FieldError(path, "unknown field");
}

template <typename T, size_t N>
const Field<T>* Find(const Field<T> (&table)[N], std::string_view key) {
  for (const Field<T>& f : table) {
    if (f.go_name == key) return &f;
  }
  return nullptr;
}

// `message` (from a Validate()) with our field names replaced by go's, outside quoted text (topic names).
template <typename T, size_t N>
std::string GoNames(const std::string& message, const Field<T> (&table)[N]) {
  std::string out;
  bool quoted = false;
  size_t i = 0;
  while (i < message.size()) {
    const char c = message[i];
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!word) {
      if (c == '"') quoted = !quoted;
      out += c;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '_')) {
      ++end;
    }
    const std::string_view token(message.data() + i, end - i);
    std::string_view replacement = token;
    if (!quoted && !std::isdigit(static_cast<unsigned char>(c))) {
      for (const Field<T>& f : table) {
        if (f.ref != nullptr && f.our_name == token) replacement = f.go_name;
      }
    }
    out += replacement;
    i = end;
  }
  return out;
}

// Applies every member of `obj` (an object) to `target` through `table`. `special` handles the keys the
// table does not (returning nullopt when the key is not one of them).
template <typename T, size_t N, typename Special>
Status ApplyObject(const Json& obj, const std::string& path, const Field<T> (&table)[N], T& target,
                   Warnings& warnings, Special special, std::initializer_list<std::string_view> special_names = {}) {
  for (const auto& [key, value] : obj.items()) {
    const std::string field_path = Member(path, key);
    if (const Field<T>* f = Find(table, key)) {
      RETURN_IF_ERROR(Apply(*f, value, field_path, target, warnings));
      continue;
    }
    std::optional<Status> handled = special(key, value, field_path);
    if (!handled) return UnknownField(field_path, key, table, special_names);
    RETURN_IF_ERROR(*handled);
  }
  return OkStatus();
}

// The name a struct has in messages: its path, or the go struct's name for the bare form.
std::string StructName(const std::string& path, std::string_view go_struct) {
  return path.empty() ? std::string(go_struct) : path;
}

Status ParseGossipSub(const Json& obj, const std::string& path, GossipSubJsonConfig& config, Warnings& warnings) {
  if (!obj.is_object()) return FieldError(StructName(path, "GossipSubParams"), "expected an object, got " + Describe(obj));
  for (const auto& [key, value] : obj.items()) {
    const std::string field_path = Member(path, key);
    const Field<GossipSubJsonConfig>* f = Find(kGossipSubFields, key);
    if (f == nullptr) {
      // A bare document may have been meant as the wrapped form: point at a top-level name in other letters.
      return path.empty() ? UnknownField(field_path, key, kGossipSubFields,
                                         {kTopLevel[0], kTopLevel[1], kTopLevel[2]})
                          : UnknownField(field_path, key, kGossipSubFields);
    }
    RETURN_IF_ERROR(Apply(*f, value, field_path, config, warnings));
  }
  const std::string name = StructName(path, "GossipSubParams");
  if (Status s = config.params.Validate(); !s.ok()) {
    return InvalidArgumentError(name + ": " + GoNames(s.message(), kGossipSubFields));
  }
  if (config.px_connector.dial_lease <= Duration::zero()) {
    return InvalidArgumentError(name + ": ConnectionTimeout (" + std::to_string(config.px_connector.dial_lease.count()) +
                                "ns) must be > 0");
  }
  return OkStatus();
}

Status ParseTopic(const Json& obj, const std::string& path, TopicScoreParams& topic, Warnings& warnings) {
  if (!obj.is_object()) return FieldError(path, "expected an object, got " + Describe(obj));
  RETURN_IF_ERROR(ApplyObject(obj, path, kTopicFields, topic, warnings,
                              [](const std::string&, const Json&, const std::string&) { return std::optional<Status>(); }));
  if (Status s = topic.Validate(); !s.ok()) return InvalidArgumentError(path + ": " + GoNames(s.message(), kTopicFields));
  return OkStatus();
}

Status ParseScore(const Json& obj, const std::string& path, PeerScoreParams& score, Warnings& warnings) {
  if (!obj.is_object()) return FieldError(path, "expected an object, got " + Describe(obj));
  const auto special = [&](const std::string& key, const Json& value, const std::string& field_path)
      -> std::optional<Status> {
    if (key == kTopics) {
      if (value.is_null()) return OkStatus();
      if (!value.is_object()) return FieldError(field_path, "expected an object of topics, got " + Describe(value));
      for (const auto& [name, topic_json] : value.items()) {
        const std::string topic_path = field_path + "[" + Quote(name) + "]";
        TopicScoreParams topic;
        RETURN_IF_ERROR(ParseTopic(topic_json, topic_path, topic, warnings));
        score.topics[name] = topic;
      }
      return OkStatus();
    }
    if (key == kAppSpecificScore) {
      if (value.is_null()) return OkStatus();
      return FieldError(field_path, "a function, which JSON cannot carry: set PeerScoreParams::app_specific_score in "
                                    "code (only null is accepted here)");
    }
    if (key == kWhitelist) {
      if (value.is_null() || (value.is_array() && value.empty())) return OkStatus();
      return FieldError(field_path, "set PeerScoreParams::ip_colocation_factor_whitelist in code (only null or [] "
                                    "is accepted here)");
    }
    return std::nullopt;
  };
  RETURN_IF_ERROR(ApplyObject(obj, path, kScoreFields, score, warnings, special,
                              {kTopics, kAppSpecificScore, kWhitelist}));
  // Topics were validated one by one above, with their paths; what is left is the rest of the struct.
  if (Status s = score.Validate(); !s.ok()) return InvalidArgumentError(path + ": " + GoNames(s.message(), kScoreFields));
  return OkStatus();
}

Status ParseThresholds(const Json& obj, const std::string& path, PeerScoreThresholds& thresholds,
                       Warnings& warnings) {
  if (!obj.is_object()) return FieldError(path, "expected an object, got " + Describe(obj));
  RETURN_IF_ERROR(ApplyObject(obj, path, kThresholdFields, thresholds, warnings,
                              [](const std::string&, const Json&, const std::string&) { return std::optional<Status>(); }));
  if (Status s = thresholds.Validate(); !s.ok()) {
    return InvalidArgumentError(path + ": " + GoNames(s.message(), kThresholdFields));
  }
  return OkStatus();
}

// Parses `text`, failing on a key that appears twice in one object (go's decoder would keep the last; here
// it is taken for a mistake). Throws nothing.
StatusOr<Json> ParseDocument(std::string_view text) {
  struct Frame {
    std::set<std::string> keys;
    std::string key;  // The last key read in this object: the member whose value is being parsed.
    bool object = false;
  };
  std::vector<Frame> frames;
  std::optional<std::string> duplicate;
  const auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        frames.push_back(Frame{{}, {}, event == Json::parse_event_t::object_start});
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!frames.empty() && parsed.is_string()) {
          Frame& top = frames.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second && !duplicate) {
            std::string path;
            for (const Frame& f : frames) path = f.object ? Member(path, f.key) : path + "[]";
            duplicate = path;
          }
        }
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; keep what follows
    // the bracket.
    std::string what = e.what();
    if (const size_t close = what.find("] "); what.rfind("[json.exception.", 0) == 0 && close != std::string::npos) {
      what.erase(0, close + 2);
    }
    std::replace(what.begin(), what.end(), '\n', ' ');
    return InvalidArgumentError("not valid JSON: " + what);
  }
  if (duplicate) return FieldError(*duplicate, "appears twice in one object");
  return doc;
}

template <typename T, size_t N>
void WriteFields(const Field<T> (&table)[N], const T& source, OrderedJson& out) {
  for (const Field<T>& f : table) {
    if (f.ref == nullptr) continue;
    // ref() only takes the address; nothing is written through it here.
    const Ref ref = f.ref(const_cast<T&>(source));
    std::visit(
        [&](auto* p) {
          using V = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<V, Duration>) {
            out[std::string(f.go_name)] = static_cast<int64_t>(p->count());
          } else {
            out[std::string(f.go_name)] = *p;
          }
        },
        ref);
  }
}

}  // namespace

StatusOr<GossipSubJsonResult> ParseGossipSubJson(std::string_view json) {
  ASSIGN_OR_RETURN(const Json doc, ParseDocument(json));
  if (!doc.is_object()) return InvalidArgumentError("the document must be a JSON object, not " + Describe(doc));
  GossipSubJsonResult result;
  const bool wrapped = std::any_of(std::begin(kTopLevel), std::end(kTopLevel),
                                   [&](std::string_view k) { return doc.contains(std::string(k)); });
  if (!wrapped) {
    RETURN_IF_ERROR(ParseGossipSub(doc, "", result.config, result.warnings));
    return result;
  }
  for (const auto& [key, value] : doc.items()) {
    if (std::find(std::begin(kTopLevel), std::end(kTopLevel), key) == std::end(kTopLevel)) {
      return FieldError(Member("", key), "unknown field (a document with GossipSubParams, PeerScoreParams or "
                                         "PeerScoreThresholds at the top holds only those)");
    }
  }
  // In a fixed order, so the errors and warnings do not depend on the order of the document's members.
  if (const auto it = doc.find("GossipSubParams"); it != doc.end() && !it->is_null()) {
    RETURN_IF_ERROR(ParseGossipSub(*it, "GossipSubParams", result.config, result.warnings));
  }
  if (const auto it = doc.find("PeerScoreParams"); it != doc.end() && !it->is_null()) {
    RETURN_IF_ERROR(ParseScore(*it, "PeerScoreParams", result.config.score_params.emplace(), result.warnings));
  }
  if (const auto it = doc.find("PeerScoreThresholds"); it != doc.end() && !it->is_null()) {
    RETURN_IF_ERROR(
        ParseThresholds(*it, "PeerScoreThresholds", result.config.thresholds.emplace(), result.warnings));
    if (!result.config.score_params) {
      result.warnings.push_back(
          "PeerScoreThresholds: scoring is off without PeerScoreParams, so every peer scores 0 against them");
    }
  }
  return result;
}

StatusOr<GossipSubJsonResult> ReadGossipSubJsonFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return InvalidArgumentError("cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxFileBytes) {
      std::fclose(f);
      return InvalidArgumentError(path + ": larger than 1 MiB");
    }
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return InvalidArgumentError("cannot read " + path);
  StatusOr<GossipSubJsonResult> result = ParseGossipSubJson(text);
  if (!result.ok()) return InvalidArgumentError(path + ": " + result.status().message());
  return result;
}

std::string WriteGossipSubJson(const GossipSubJsonConfig& config) {
  OrderedJson doc = OrderedJson::object();
  OrderedJson& gs = doc["GossipSubParams"] = OrderedJson::object();
  WriteFields(kGossipSubFields, config, gs);
  if (config.score_params) {
    OrderedJson& score = doc["PeerScoreParams"] = OrderedJson::object();
    OrderedJson& topics = score["Topics"] = OrderedJson::object();
    std::vector<const std::string*> names;
    for (const auto& [name, unused] : config.score_params->topics) names.push_back(&name);
    std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (const std::string* name : names) {
      OrderedJson& topic = topics[*name] = OrderedJson::object();
      WriteFields(kTopicFields, config.score_params->topics.at(*name), topic);
    }
    WriteFields(kScoreFields, *config.score_params, score);
  }
  if (config.thresholds) {
    OrderedJson& thresholds = doc["PeerScoreThresholds"] = OrderedJson::object();
    WriteFields(kThresholdFields, *config.thresholds, thresholds);
  }
  return doc.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

}  // namespace libp2p::pubsub::gossipsub
