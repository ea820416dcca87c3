#include "tools/node/interop_script.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include "nlohmann/json.hpp"

namespace libp2p::node {
namespace {

using json = nlohmann::json;

Status Bad(const std::string& path, const std::string& problem) { return InvalidArgumentError(path + ": " + problem); }

StatusOr<const json*> Field(const json& object, const std::string& path, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return Bad(path + "." + name, "missing");
  return &*it;
}

StatusOr<uint64_t> WholeNumber(const json& object, const std::string& path, const char* name, uint64_t max) {
  ASSIGN_OR_RETURN(const json* v, Field(object, path, name));
  if (v->is_number_unsigned() && v->get<uint64_t>() <= max) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0 && static_cast<uint64_t>(v->get<int64_t>()) <= max) {
    return static_cast<uint64_t>(v->get<int64_t>());
  }
  return Bad(path + "." + name, "expected a whole number from 0 to " + std::to_string(max));
}

StatusOr<std::string> Topic(const json& object, const std::string& path) {
  ASSIGN_OR_RETURN(const json* v, Field(object, path, "topicID"));
  if (!v->is_string() || v->get<std::string>().empty() || v->get<std::string>().size() > 1024) {
    return Bad(path + ".topicID", "expected a topic of 1 to 1024 bytes");
  }
  return v->get<std::string>();
}

StatusOr<Duration> Seconds(const json& object, const std::string& path, const char* name) {
  ASSIGN_OR_RETURN(const json* v, Field(object, path, name));
  if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < 0 || v->get<double>() > 86400) {
    return Bad(path + "." + name, "expected seconds from 0 to 86400");
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v->get<double>()));
}

// Adds `instruction` (at `path`) to `script` if it is for `node_id`.
Status Add(const json& instruction, const std::string& path, uint64_t node_id, int depth, InteropScript* script) {
  if (!instruction.is_object()) return Bad(path, "expected an instruction object");
  ASSIGN_OR_RETURN(const json* type_field, Field(instruction, path, "type"));
  if (!type_field->is_string()) return Bad(path + ".type", "expected a string");
  const std::string type = type_field->get<std::string>();
  ScriptStep step;
  if (type == "ifNodeIDEquals") {
    if (depth > 8) return Bad(path, "ifNodeIDEquals nested too deep");
    ASSIGN_OR_RETURN(uint64_t id, WholeNumber(instruction, path, "nodeID", UINT32_MAX));
    ASSIGN_OR_RETURN(const json* inner, Field(instruction, path, "instruction"));
    if (id != node_id) return OkStatus();
    return Add(*inner, path + ".instruction", node_id, depth + 1, script);
  }
  if (type == "initGossipSub") {
    auto it = instruction.find("gossipSubParams");
    const std::string params = it == instruction.end() || it->is_null() ? "{}" : it->dump();
    StatusOr<pubsub::gossipsub::GossipSubJsonResult> parsed = pubsub::gossipsub::ParseGossipSubJson(params);
    if (!parsed.ok()) return Bad(path + ".gossipSubParams", parsed.status().message());
    script->gossipsub = std::move(parsed).value();
    return OkStatus();
  }
  if (type == "connect") {
    ASSIGN_OR_RETURN(const json* to, Field(instruction, path, "connectTo"));
    if (!to->is_array()) return Bad(path + ".connectTo", "expected an array of node ids");
    step.kind = ScriptStep::Kind::kConnect;
    for (const json& id : *to) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > UINT32_MAX) {
        return Bad(path + ".connectTo", "expected an array of node ids");
      }
      step.connect_to.push_back(static_cast<uint64_t>(id.get<int64_t>()));
    }
  } else if (type == "subscribeToTopic") {
    step.kind = ScriptStep::Kind::kSubscribe;
    ASSIGN_OR_RETURN(step.topic, Topic(instruction, path));
    if (auto it = instruction.find("partial"); it != instruction.end() && !it->is_null()) {
      if (!it->is_boolean()) return Bad(path + ".partial", "expected true or false");
      step.partial = it->get<bool>();
    }
  } else if (type == "publish") {
    step.kind = ScriptStep::Kind::kPublish;
    ASSIGN_OR_RETURN(step.topic, Topic(instruction, path));
    ASSIGN_OR_RETURN(step.message_id, WholeNumber(instruction, path, "messageID", UINT64_MAX));
    ASSIGN_OR_RETURN(uint64_t size, WholeNumber(instruction, path, "messageSizeBytes", kMaxInteropMessageSize));
    if (size < 8) return Bad(path + ".messageSizeBytes", "at least 8 (the message id's bytes)");
    step.message_size = static_cast<size_t>(size);
  } else if (type == "waitUntil") {
    step.kind = ScriptStep::Kind::kWaitUntil;
    ASSIGN_OR_RETURN(step.elapsed, Seconds(instruction, path, "elapsedSeconds"));
  } else if (type == "setTopicValidationDelay") {
    step.kind = ScriptStep::Kind::kSetTopicValidationDelay;
    ASSIGN_OR_RETURN(step.topic, Topic(instruction, path));
    ASSIGN_OR_RETURN(step.delay, Seconds(instruction, path, "delaySeconds"));
  } else if (type == "addPartialMessage") {
    step.kind = ScriptStep::Kind::kAddPartialMessage;
    ASSIGN_OR_RETURN(step.topic, Topic(instruction, path));
    ASSIGN_OR_RETURN(step.group_id, WholeNumber(instruction, path, "groupID", UINT64_MAX));
    ASSIGN_OR_RETURN(uint64_t parts, WholeNumber(instruction, path, "parts", 255));
    step.parts = static_cast<uint8_t>(parts);
  } else if (type == "publishPartial") {
    step.kind = ScriptStep::Kind::kPublishPartial;
    ASSIGN_OR_RETURN(step.topic, Topic(instruction, path));
    ASSIGN_OR_RETURN(step.group_id, WholeNumber(instruction, path, "groupID", UINT64_MAX));
    if (auto it = instruction.find("publishToNodeIDs"); it != instruction.end() && !it->is_null()) {
      if (!it->is_array()) return Bad(path + ".publishToNodeIDs", "expected an array of node ids");
      for (const json& id : *it) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > UINT32_MAX) {
          return Bad(path + ".publishToNodeIDs", "expected an array of node ids");
        }
        step.publish_to.push_back(static_cast<uint64_t>(id.get<int64_t>()));
      }
    }
  } else {
    return Bad(path + ".type", "unknown instruction " + type);
  }
  script->steps.push_back(std::move(step));
  return OkStatus();
}

}  // namespace

StatusOr<InteropScript> ParseInteropScript(std::string_view text, uint64_t node_id) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("not JSON");
  if (!doc.is_object()) return InvalidArgumentError("expected an object with \"script\"");
  auto script_field = doc.find("script");
  if (script_field == doc.end() || !script_field->is_array()) return Bad("script", "expected an array");
  InteropScript script;
  ASSIGN_OR_RETURN(script.gossipsub, pubsub::gossipsub::ParseGossipSubJson("{}"));
  for (size_t i = 0; i < script_field->size(); ++i) {
    RETURN_IF_ERROR(Add((*script_field)[i], "script[" + std::to_string(i) + "]", node_id, 0, &script));
  }
  return script;
}

StatusOr<InteropScript> ReadInteropScript(const std::string& path, uint64_t node_id) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + " cannot be read");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<InteropScript> script = ParseInteropScript(text, node_id);
  if (!script.ok()) return InvalidArgumentError(path + ": " + script.status().message());
  return script;
}

crypto::Ed25519PrivateKey InteropNodeKey(uint64_t node_id) {
  uint8_t seed[crypto::Ed25519PrivateKey::kSeedSize] = {};
  for (int i = 0; i < 8; ++i) seed[i] = static_cast<uint8_t>(node_id >> (8 * i));
  return *crypto::Ed25519PrivateKey::FromSeed(ByteSpan(seed, sizeof(seed)));
}

Bytes InteropPayload(uint64_t message_id, size_t size) {
  Bytes out(std::max<size_t>(size, 8), 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(message_id >> (56 - 8 * i));
  return out;
}

std::optional<uint64_t> InteropMessageId(std::string_view data) {
  if (data.size() < 8) return std::nullopt;
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | static_cast<uint8_t>(data[i]);
  return id;
}

}  // namespace libp2p::node
