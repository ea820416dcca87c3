// Decodes arbitrary bytes as a pubsub RPC under small limits. On success: the limits hold for what was
// decoded, and encoding is a fixed point (decode(encode(rpc)) encodes to the same bytes).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "libp2p/pubsub/rpc/rpc_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libp2p::pubsub;
  RpcLimits limits;
  limits.max_rpc_size = 64 * 1024;
  limits.max_subscriptions = 16;
  limits.max_messages = 16;
  limits.max_control_entries = 16;
  limits.max_ihave_ids = 32;
  limits.max_iwant_ids = 32;
  limits.max_idontwant_ids = 32;
  limits.max_prune_peers = 4;
  libp2p::StatusOr<pb::RPC> rpc = DecodeRpc(libp2p::ByteSpan(data, size), limits);
  if (!rpc.ok()) return 0;
  if (static_cast<size_t>(rpc->subscriptions_size()) > limits.max_subscriptions) abort();
  if (static_cast<size_t>(rpc->publish_size()) > limits.max_messages) abort();
  size_t ihave_ids = 0;
  for (const auto& ihave : rpc->control().ihave()) ihave_ids += ihave.messageids_size();
  if (ihave_ids > limits.max_ihave_ids) abort();
  libp2p::StatusOr<std::string> first = EncodeRpc(*rpc, RpcLimits{});
  if (!first.ok()) abort();
  libp2p::StatusOr<pb::RPC> again = DecodeRpc(libp2p::AsBytes(*first), RpcLimits{});
  if (!again.ok()) abort();
  if (again->SerializeAsString() != *first) abort();
  return 0;
}
