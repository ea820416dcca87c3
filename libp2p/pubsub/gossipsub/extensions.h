// GossipSub v1.3's extensions (libp2p/specs pubsub/gossipsub/gossipsub-v1.3.md): the flags of the
// Extensions control message, and the experimental test extension, whose field number is configuration.
//
// Experimental extensions take field numbers of 0x200000 and up, and drafts already share some: their
// numbers are settings here, never declared in rpc.proto. They travel as unknown fields of the RPC (the
// extension's message) and of ControlExtensions (its flag), and the RPC codec keeps exactly the numbers it
// is told to (RpcLimits::experimental_fields).
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_EXTENSIONS_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_EXTENSIONS_H_

#include <cstdint>
#include <vector>

#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub::gossipsub {

struct ExtensionOptions {
  // The test extension (extensions/experimental/test-extension.md): advertised; with a peer that advertises
  // it too, one empty test-extension message is sent to it once both sides have advertised.
  bool test_extension = false;
  // Its field number, in the RPC and in ControlExtensions.
  uint32_t test_extension_field = 6492434;
  // Behaviour penalty (P₇ counts) for an Extensions control message that is not in the first RPC of the
  // peer's stream: go-libp2p-pubsub charges 10. Ignored without scoring.
  double misplaced_extensions_penalty = 10;
};

// What one side advertised.
struct PeerExtensions {
  bool partial_messages = false;
  bool test_extension = false;
};

// The experimental field numbers `options` uses, for RpcLimits::experimental_fields.
std::vector<uint32_t> ExperimentalFields(const ExtensionOptions& options);

// Whether `rpc` carries an Extensions control message.
bool HasExtensions(const pb::RPC& rpc);
// The extensions `rpc`'s Extensions control message advertises (none without one).
PeerExtensions ReadExtensions(const pb::RPC& rpc, const ExtensionOptions& options);
// Adds an Extensions control message advertising `ours` to `rpc` (it replaces one already there).
void WriteExtensions(const PeerExtensions& ours, const ExtensionOptions& options, pb::RPC* rpc);

// Whether `rpc` carries the test extension's message; and adds it.
bool HasTestExtensionMessage(const pb::RPC& rpc, const ExtensionOptions& options);
void AddTestExtensionMessage(const ExtensionOptions& options, pb::RPC* rpc);

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_EXTENSIONS_H_
