// libp2p/test-plans' gossipsub-interop contract (docs/cli.md, "The gossipsub-interop mode"): the instruction
// script of params.json, the harness's node identities and message payloads.
#ifndef TOOLS_NODE_INTEROP_SCRIPT_H_
#define TOOLS_NODE_INTEROP_SCRIPT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/pubsub/gossipsub/params_json.h"

namespace libp2p::node {

// One step of a node's script, `ifNodeIDEquals` resolved.
struct ScriptStep {
  enum class Kind {
    kConnect,
    kSubscribe,
    kPublish,
    kWaitUntil,
    kSetTopicValidationDelay,
    kAddPartialMessage,
    kPublishPartial
  };
  Kind kind = Kind::kConnect;
  std::vector<uint64_t> connect_to;  // kConnect: node ids, dialed in order.
  std::string topic;                 // Every kind but kConnect and kWaitUntil.
  bool partial = false;              // kSubscribe: request partial messages on the topic.
  uint64_t group_id = 0;             // kAddPartialMessage, kPublishPartial.
  uint8_t parts = 0;                 // kAddPartialMessage: the bitmap of the parts added.
  std::vector<uint64_t> publish_to;  // kPublishPartial: node ids; empty: the peers the router chooses.
  uint64_t message_id = 0;           // kPublish.
  size_t message_size = 0;           // kPublish: at least 8 (the id's bytes).
  Duration elapsed{};                // kWaitUntil: since the start instant.
  Duration delay{};                  // kSetTopicValidationDelay.
};

struct InteropScript {
  // From the node's initGossipSub (go's GossipSubParams field names, durations in nanoseconds); go's
  // defaults when it has none.
  pubsub::gossipsub::GossipSubJsonResult gossipsub;
  std::vector<ScriptStep> steps;
};

// The largest payload a publish instruction may ask for: the harness's 10 MiB message limit.
inline constexpr size_t kMaxInteropMessageSize = 10 * 1024 * 1024;

// The script of node `node_id` in a params.json document ({"script": [instruction, ...]}). kInvalidArgument
// naming the path of what is wrong (e.g. "script[3].connectTo: expected an array of node ids"); unknown
// instruction types are errors too.
StatusOr<InteropScript> ParseInteropScript(std::string_view json, uint64_t node_id);
// The same from a file; kNotFound when it cannot be read.
StatusOr<InteropScript> ReadInteropScript(const std::string& path, uint64_t node_id);

// The harness's identity of node `node_id`: the Ed25519 key of the seed holding the id little-endian in its
// first 8 bytes, zeros after.
crypto::Ed25519PrivateKey InteropNodeKey(uint64_t node_id);
// A published message: `size` bytes (at least 8), the message id big-endian in the first 8, zeros after.
Bytes InteropPayload(uint64_t message_id, size_t size);
// The message id of a payload (its first 8 bytes, big-endian), or nothing when it is shorter.
std::optional<uint64_t> InteropMessageId(std::string_view data);

}  // namespace libp2p::node

#endif  // TOOLS_NODE_INTEROP_SCRIPT_H_
