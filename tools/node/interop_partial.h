// libp2p/test-plans' partial-messages application (gossipsub-interop, the partial-messages scenarios), on
// the library's partial-messages interface: a full message is 8 parts of 1024 bytes; its group id is 8
// bytes (a big-endian uint64); the parts metadata is one byte, bit i for part i; and an encoded partial
// message is [the bitmap of the parts included][those parts, in index order][the group id]. Part i of
// group g is 128 big-endian uint64 counters from g + 128 i. Peers are sent parts once we know what they
// have, and our metadata whenever it grew since we last told them (as the go reference does).
#ifndef TOOLS_NODE_INTEROP_PARTIAL_H_
#define TOOLS_NODE_INTEROP_PARTIAL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/partial_messages.h"

namespace libp2p::node {

class InteropPartialApp final : public pubsub::gossipsub::PartialMessagesHandler {
 public:
  static constexpr size_t kParts = 8;
  static constexpr size_t kPartSize = 1024;
  // Groups kept per topic (they are never dropped: an interop run has a few); RPCs for further new groups
  // are ignored.
  static constexpr size_t kMaxGroupsPerTopic = 4096;

  // Called when a group becomes complete (from parts received, or added).
  using CompleteFn = std::function<void(const std::string& topic, uint64_t group)>;
  explicit InteropPartialApp(CompleteFn on_complete) : on_complete_(std::move(on_complete)) {}

  // The router the app publishes through; an observer that must outlive the app's use of it. Set it
  // before any RPC can arrive (the router is created with the app as its handler).
  void SetRouter(pubsub::gossipsub::GossipSubRouter* router) { router_ = router; }

  // Adds the parts of `bitmap` of group `group` on `topic` (their contents are the counters).
  void Add(const std::string& topic, uint64_t group, uint8_t bitmap);
  // Publishes group `group` of `topic`: to `to` when given, else to the peers the router chooses.
  // kNotFound for a group never added or received; the router's errors otherwise.
  StatusOr<size_t> Publish(const std::string& topic, uint64_t group, const std::vector<crypto::PeerId>& to = {});
  // The parts held of a group (0 when unknown).
  uint8_t Held(const std::string& topic, uint64_t group) const;
  // The contents of part `index` of `group` (the counters).
  static std::string Part(uint64_t group, size_t index);
  // The parts of `bitmap` that `parts` carries, encoded for the wire; empty for no part.
  static std::string Encode(uint64_t group, uint8_t bitmap);

  uint64_t invalid_rpcs() const { return invalid_rpcs_; }

  void OnPartialRpc(const crypto::PeerId& from, const pubsub::pb::PartialMessagesExtension& rpc,
                    pubsub::gossipsub::PartialPeerView& view) override;
  void OnGossip(const std::string& topic, const std::string& group_id,
                const std::vector<crypto::PeerId>& peers) override;

 private:
  struct Group {
    std::array<std::string, kParts> parts;  // Empty: not held.
    uint8_t Held() const;
  };
  // Adds the parts an encoded partial message carries; false when it is malformed or for another group.
  static bool Extend(Group& g, const std::string& group_id, const std::string& encoded, uint8_t* carried);
  Group* Find(const std::string& topic, const std::string& group_id);

  CompleteFn on_complete_;
  pubsub::gossipsub::GossipSubRouter* router_ = nullptr;
  // topic -> group id (8 bytes) -> parts.
  std::map<std::string, std::map<std::string, Group>> groups_;
  uint64_t invalid_rpcs_ = 0;
};

// The group id's 8 bytes, big-endian; and back (nothing when not 8 bytes).
std::string InteropGroupId(uint64_t group);
std::optional<uint64_t> InteropGroupNumber(const std::string& id);

}  // namespace libp2p::node

#endif  // TOOLS_NODE_INTEROP_PARTIAL_H_
