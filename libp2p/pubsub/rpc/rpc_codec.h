// Decoding and encoding pubsub RPCs with limits: the size and the number of every repeated element are
// checked on the raw bytes before the full protobuf decode allocates anything for them.
#ifndef LIBP2P_PUBSUB_RPC_RPC_CODEC_H_
#define LIBP2P_PUBSUB_RPC_RPC_CODEC_H_

#include <cstddef>
#include <string>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

struct RpcLimits {
  // The whole encoded RPC (the frame), as the stream's frame reader also enforces.
  size_t max_rpc_size = 1024 * 1024;
  size_t max_subscriptions = 1024;
  size_t max_messages = 1024;
  // IHAVE, IWANT, GRAFT, PRUNE and IDONTWANT entries together.
  size_t max_control_entries = 1024;
  // Message ids across all IHAVE entries (gossipsub's max IHAVE length), and across IWANT and IDONTWANT.
  size_t max_ihave_ids = 5000;
  size_t max_iwant_ids = 5000;
  size_t max_idontwant_ids = 5000;
  // Peers offered across all PRUNE entries.
  size_t max_prune_peers = 64;
  size_t max_topic_length = 1024;
  size_t max_message_id_length = 256;
};

// What the pre-check counted.
struct RpcCounts {
  size_t subscriptions = 0;
  size_t messages = 0;
  size_t control_entries = 0;
  size_t ihave_ids = 0;
  size_t iwant_ids = 0;
  size_t idontwant_ids = 0;
  size_t prune_peers = 0;
};

// Counts the elements of an encoded RPC without decoding it, checking each count, each topic and each
// message id against `limits` as it goes. kOutOfRange names the limit exceeded; kInvalidArgument means the
// bytes are not a well-formed RPC.
StatusOr<RpcCounts> CheckRpcLimits(ByteSpan encoded, const RpcLimits& limits);

// CheckRpcLimits, then the full decode. The result owns its data.
StatusOr<pb::RPC> DecodeRpc(ByteSpan encoded, const RpcLimits& limits);

// The encoded RPC. Fails with kOutOfRange when it exceeds limits.max_rpc_size.
StatusOr<std::string> EncodeRpc(const pb::RPC& rpc, const RpcLimits& limits);

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_RPC_RPC_CODEC_H_
