// Decoding and encoding pubsub RPCs with limits. Every count and length is checked on the raw bytes before
// the full protobuf decode allocates anything; elements beyond a limit are left out of the decode (as go
// truncates them), so one over-long list never costs the rest of the RPC, and only a malformed or
// oversized RPC is an error.
#ifndef LIBP2P_PUBSUB_RPC_RPC_CODEC_H_
#define LIBP2P_PUBSUB_RPC_RPC_CODEC_H_

#include <cstddef>
#include <string>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

struct RpcLimits {
  // The whole encoded RPC (the frame), as the stream's frame reader also enforces: larger is an error.
  size_t max_rpc_size = 1024 * 1024;
  // The control part (subscriptions are not part of it): larger is left out whole, unread.
  size_t max_control_size = 512 * 1024;
  // The counts below keep the first elements up to the limit and leave out the rest.
  size_t max_subscriptions = 1024;
  size_t max_messages = 1024;
  // IHAVE, IWANT, GRAFT, PRUNE and IDONTWANT entries together.
  size_t max_control_entries = 1024;
  // Message ids across all IHAVE entries, across all IWANT entries, across all IDONTWANT entries.
  size_t max_ihave_ids = 5000;
  size_t max_iwant_ids = 5000;
  size_t max_idontwant_ids = 5000;
  // Peers offered across all PRUNE entries.
  size_t max_prune_peers = 64;
  // A subscription, message, GRAFT, PRUNE or IHAVE whose topic is longer is left out; so is a longer id.
  size_t max_topic_length = 1024;
  size_t max_message_id_length = 256;
  // A partial-messages RPC whose group id is longer is left out (so is every such RPC after the first of an
  // RPC, and an extensions control message after the first of an RPC).
  size_t max_group_id_length = 256;
  // Experimental extensions kept: fields with these numbers in the RPC (an extension's message, at most
  // max_experimental_field_size bytes) and in the extensions control message (a flag). Other unknown fields
  // are left out.
  std::vector<uint32_t> experimental_fields;
  size_t max_experimental_field_size = 1024;
};

// What a decode kept, and how many elements it left out for a limit.
struct RpcCounts {
  size_t subscriptions = 0;
  size_t messages = 0;
  size_t control_entries = 0;
  size_t ihave_ids = 0;
  size_t iwant_ids = 0;
  size_t idontwant_ids = 0;
  size_t prune_peers = 0;
  size_t partials = 0;    // Partial-messages RPCs: 0 or 1.
  size_t extensions = 0;  // Extensions control messages: 0 or 1.
  size_t left_out = 0;  // Elements (and ids, offered peers) over a limit; a whole control part counts 1.
};

// Counts the elements of an encoded RPC against `limits` without decoding it. kOutOfRange when the RPC is
// larger than max_rpc_size; kInvalidArgument when the bytes are not a well-formed RPC.
StatusOr<RpcCounts> CheckRpcLimits(ByteSpan encoded, const RpcLimits& limits);

// CheckRpcLimits, then the full decode of what is within the limits (the elements over them are left out).
// The result owns its data; `counts`, when given, receives what CheckRpcLimits counted.
StatusOr<pb::RPC> DecodeRpc(ByteSpan encoded, const RpcLimits& limits, RpcCounts* counts = nullptr);

// What one RPC we send carries of subscriptions and control, at most (rust-libp2p 0.50 refuses more, and
// checks before decoding). A single GRAFT or PRUNE entry larger than this still goes, alone.
inline constexpr size_t kMaxControlBytesPerRpc = 16 * 1024;

// `control` cut into control messages of at most `max_bytes` encoded each, in the order GRAFT, PRUNE, IHAVE,
// IWANT, IDONTWANT; an IHAVE, IWANT or IDONTWANT entry too large is split into entries of fewer ids (IHAVE
// keeping its topic). Empty when `control` is. One that fits is moved whole into the only part.
std::vector<pb::ControlMessage> SplitControl(pb::ControlMessage control, size_t max_bytes = kMaxControlBytesPerRpc);

// The encoded RPC. Fails with kOutOfRange when it exceeds limits.max_rpc_size.
StatusOr<std::string> EncodeRpc(const pb::RPC& rpc, const RpcLimits& limits);

// Appends to `out` the frame of the RPC that carries `msg` alone (its publish field): the RPC's size as a
// uvarint, then the RPC, byte for byte what encoding a pb::RPC holding just that message gives, without
// building one (no copy of the message). Returns the RPC's size, without the prefix; the caller checks it
// against its limits.
size_t AppendPublishFrame(const pb::Message& msg, Bytes* out);

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_RPC_RPC_CODEC_H_
