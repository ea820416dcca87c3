#include "libp2p/pubsub/gossipsub/extensions.h"

#include <google/protobuf/unknown_field_set.h>

namespace libp2p::pubsub::gossipsub {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// A message without unknown fields answers unknown_fields() with protobuf's shared empty set, which the library
// creates on first use behind a guard that ThreadSanitizer cannot see (the library is not instrumented): two
// loops on two threads reading it first reported a race. Created here, during static initialization, before
// any thread starts.
[[maybe_unused]] const UnknownFieldSet& kEmptyUnknownFields = UnknownFieldSet::default_instance();

// Whether `fields` holds field `number` of wire type `type` (for a flag: set to true).
bool HasField(const UnknownFieldSet& fields, uint32_t number, UnknownField::Type type) {
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (static_cast<uint32_t>(f.number()) != number || f.type() != type) continue;
    if (type != UnknownField::TYPE_VARINT || f.varint() != 0) return true;
  }
  return false;
}

}  // namespace

std::vector<uint32_t> ExperimentalFields(const ExtensionOptions& options) {
  if (!options.test_extension) return {};
  return {options.test_extension_field};
}

bool HasExtensions(const pb::RPC& rpc) { return rpc.has_control() && rpc.control().has_extensions(); }

PeerExtensions ReadExtensions(const pb::RPC& rpc, const ExtensionOptions& options) {
  PeerExtensions out;
  if (!HasExtensions(rpc)) return out;
  const pb::ControlExtensions& ext = rpc.control().extensions();
  out.partial_messages = ext.partialmessages();
  out.test_extension =
      HasField(ext.unknown_fields(), options.test_extension_field, UnknownField::TYPE_VARINT);
  return out;
}

void WriteExtensions(const PeerExtensions& ours, const ExtensionOptions& options, pb::RPC* rpc) {
  pb::ControlExtensions* ext = rpc->mutable_control()->mutable_extensions();
  ext->Clear();
  if (ours.partial_messages) ext->set_partialmessages(true);
  if (ours.test_extension) ext->mutable_unknown_fields()->AddVarint(static_cast<int>(options.test_extension_field), 1);
}

bool HasTestExtensionMessage(const pb::RPC& rpc, const ExtensionOptions& options) {
  return HasField(rpc.unknown_fields(), options.test_extension_field, UnknownField::TYPE_LENGTH_DELIMITED);
}

void AddTestExtensionMessage(const ExtensionOptions& options, pb::RPC* rpc) {
  rpc->mutable_unknown_fields()->AddLengthDelimited(static_cast<int>(options.test_extension_field));
}

}  // namespace libp2p::pubsub::gossipsub
