// Decodes arbitrary bytes as a pubsub RPC under small limits (with one experimental extension number kept).
// On success: the limits hold for what was decoded, what was decoded is what the pre-check counted, no
// unknown field but the experimental one survives, and encoding is a fixed point
// (decode(encode(rpc)) encodes to the same bytes, leaving nothing out); and each message framed alone
// (AppendPublishFrame) is the frame of the RPC holding just it.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/unknown_field_set.h>

#include "libp2p/base/proto_wire.h"
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
  limits.max_control_size = 4 * 1024;
  limits.max_group_id_length = 16;
  limits.experimental_fields = {6492434};
  limits.max_experimental_field_size = 64;
  RpcCounts counts;
  libp2p::StatusOr<pb::RPC> rpc = DecodeRpc(libp2p::ByteSpan(data, size), limits, &counts);
  if (!rpc.ok()) return 0;
  if (static_cast<size_t>(rpc->subscriptions_size()) != counts.subscriptions) abort();
  if (counts.subscriptions > limits.max_subscriptions) abort();
  if (static_cast<size_t>(rpc->publish_size()) != counts.messages) abort();
  if (counts.messages > limits.max_messages) abort();
  const pb::ControlMessage& c = rpc->control();
  const size_t entries = static_cast<size_t>(c.ihave_size() + c.iwant_size() + c.graft_size() + c.prune_size() +
                                             c.idontwant_size());
  if (entries != counts.control_entries || entries > limits.max_control_entries) abort();
  size_t ihave_ids = 0, iwant_ids = 0, idontwant_ids = 0, prune_peers = 0;
  for (const auto& e : c.ihave()) ihave_ids += static_cast<size_t>(e.messageids_size());
  for (const auto& e : c.iwant()) iwant_ids += static_cast<size_t>(e.messageids_size());
  for (const auto& e : c.idontwant()) idontwant_ids += static_cast<size_t>(e.messageids_size());
  for (const auto& e : c.prune()) prune_peers += static_cast<size_t>(e.peers_size());
  if (ihave_ids != counts.ihave_ids || ihave_ids > limits.max_ihave_ids) abort();
  if (iwant_ids != counts.iwant_ids || iwant_ids > limits.max_iwant_ids) abort();
  if (idontwant_ids != counts.idontwant_ids || idontwant_ids > limits.max_idontwant_ids) abort();
  if (prune_peers != counts.prune_peers || prune_peers > limits.max_prune_peers) abort();
  if (rpc->has_partial() != (counts.partials == 1) || counts.partials > 1) abort();
  if (rpc->partial().topicid().size() > limits.max_topic_length) abort();
  if (rpc->partial().groupid().size() > limits.max_group_id_length) abort();
  if (c.has_extensions() != (counts.extensions == 1)) abort();
  // Unknown fields kept: only the experimental number, within its size.
  const auto& unknown = rpc->unknown_fields();
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() != 6492434) abort();
    if (unknown.field(i).type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED &&
        unknown.field(i).length_delimited().size() > limits.max_experimental_field_size) {
      abort();
    }
  }
  libp2p::StatusOr<std::string> first = EncodeRpc(*rpc, RpcLimits{});
  if (!first.ok()) abort();
  RpcCounts again_counts;
  libp2p::StatusOr<pb::RPC> again = DecodeRpc(libp2p::AsBytes(*first), limits, &again_counts);
  if (!again.ok() || again_counts.left_out != 0) abort();
  if (again->SerializeAsString() != *first) abort();
  // Each decoded message, framed alone without a pb::RPC, is the frame of the RPC holding just it (decoded
  // messages may carry unknown fields and odd field orders, which the frame must keep).
  for (const pb::Message& m : rpc->publish()) {
    pb::RPC alone;
    *alone.add_publish() = m;
    const std::string encoded = alone.SerializeAsString();
    libp2p::Bytes frame;
    if (AppendPublishFrame(m, &frame) != encoded.size()) abort();
    libp2p::ByteSpan rest(frame);
    libp2p::StatusOr<uint64_t> length = libp2p::proto::ReadVarint(&rest);
    if (!length.ok() || *length != encoded.size() || libp2p::AsStringView(rest) != encoded) abort();
  }
  return 0;
}
