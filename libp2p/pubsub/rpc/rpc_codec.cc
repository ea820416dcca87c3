#include "libp2p/pubsub/rpc/rpc_codec.h"

#include "libp2p/base/proto_wire.h"

namespace libp2p::pubsub {
namespace {

using proto::Field;
using proto::Reader;
using proto::WireType;

Status Limit(const char* what, size_t limit) {
  return OutOfRangeError(std::string("RPC exceeds the limit of ") + std::to_string(limit) + " " + what);
}

// Checks a length-delimited field's length against `limit`.
Status CheckLength(const Field& f, size_t limit, const char* what) {
  if (f.type == WireType::kLengthDelimited && f.bytes.size() > limit) {
    return OutOfRangeError(std::string("RPC ") + what + " of " + std::to_string(f.bytes.size()) +
                           " bytes exceeds " + std::to_string(limit));
  }
  return OkStatus();
}

// Calls on_field for each field of a nested message.
template <typename F>
Status ForEachField(ByteSpan message, F&& on_field) {
  Reader r(message);
  while (!r.done()) {
    Field f;
    RETURN_IF_ERROR(r.Next(&f));
    RETURN_IF_ERROR(on_field(f));
  }
  return OkStatus();
}

Status CountIds(ByteSpan entry, uint32_t id_field, size_t* count, size_t max_count, const RpcLimits& limits,
                const char* what) {
  return ForEachField(entry, [&](const Field& f) -> Status {
    if (f.number == 1 && id_field != 1) return CheckLength(f, limits.max_topic_length, "topic");
    if (f.number != id_field || f.type != WireType::kLengthDelimited) return OkStatus();
    if (++*count > max_count) return Limit(what, max_count);
    return CheckLength(f, limits.max_message_id_length, "message id");
  });
}

Status CountControl(ByteSpan control, RpcCounts* c, const RpcLimits& limits) {
  return ForEachField(control, [&](const Field& f) -> Status {
    if (f.type != WireType::kLengthDelimited || f.number > 5) return OkStatus();
    if (++c->control_entries > limits.max_control_entries) return Limit("control entries", limits.max_control_entries);
    switch (f.number) {
      case 1: return CountIds(f.bytes, 2, &c->ihave_ids, limits.max_ihave_ids, limits, "IHAVE message ids");
      case 2: return CountIds(f.bytes, 1, &c->iwant_ids, limits.max_iwant_ids, limits, "IWANT message ids");
      case 3:
        return ForEachField(f.bytes, [&](const Field& g) { return CheckLength(g, limits.max_topic_length, "topic"); });
      case 4:
        return ForEachField(f.bytes, [&](const Field& g) -> Status {
          if (g.number == 1) return CheckLength(g, limits.max_topic_length, "topic");
          if (g.number == 2 && ++c->prune_peers > limits.max_prune_peers) {
            return Limit("PRUNE peers", limits.max_prune_peers);
          }
          return OkStatus();
        });
      case 5:
        return CountIds(f.bytes, 1, &c->idontwant_ids, limits.max_idontwant_ids, limits, "IDONTWANT message ids");
    }
    return OkStatus();
  });
}

}  // namespace

StatusOr<RpcCounts> CheckRpcLimits(ByteSpan encoded, const RpcLimits& limits) {
  if (encoded.size() > limits.max_rpc_size) {
    return OutOfRangeError("RPC of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(limits.max_rpc_size));
  }
  RpcCounts c;
  Status s = ForEachField(encoded, [&](const Field& f) -> Status {
    if (f.type != WireType::kLengthDelimited) return OkStatus();
    switch (f.number) {
      case 1:
        if (++c.subscriptions > limits.max_subscriptions) return Limit("subscriptions", limits.max_subscriptions);
        return ForEachField(f.bytes, [&](const Field& g) {
          return g.number == 2 ? CheckLength(g, limits.max_topic_length, "topic") : OkStatus();
        });
      case 2:
        if (++c.messages > limits.max_messages) return Limit("messages", limits.max_messages);
        return ForEachField(f.bytes, [&](const Field& g) {
          return g.number == 4 ? CheckLength(g, limits.max_topic_length, "topic") : OkStatus();
        });
      case 3:
        return CountControl(f.bytes, &c, limits);
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return c;
}

StatusOr<pb::RPC> DecodeRpc(ByteSpan encoded, const RpcLimits& limits) {
  RETURN_IF_ERROR(CheckRpcLimits(encoded, limits).status());
  pb::RPC rpc;
  if (!rpc.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) {
    return InvalidArgumentError("RPC is not a valid protobuf");
  }
  return rpc;
}

StatusOr<std::string> EncodeRpc(const pb::RPC& rpc, const RpcLimits& limits) {
  const size_t size = rpc.ByteSizeLong();
  if (size > limits.max_rpc_size) {
    return OutOfRangeError("RPC of " + std::to_string(size) + " bytes exceeds " + std::to_string(limits.max_rpc_size));
  }
  std::string out;
  if (!rpc.SerializeToString(&out)) return InternalError("RPC serialization failed");
  return out;
}

}  // namespace libp2p::pubsub
