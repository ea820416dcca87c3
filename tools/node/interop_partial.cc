#include "tools/node/interop_partial.h"

#include <bit>

namespace libp2p::node {

using crypto::PeerId;
using pubsub::gossipsub::PartialFeedback;
using pubsub::gossipsub::PartialPeerView;
using pubsub::gossipsub::PartialSend;

namespace {

uint8_t Byte(const std::optional<std::string>& metadata) {
  return metadata && metadata->size() == 1 ? static_cast<uint8_t>((*metadata)[0]) : 0;
}

}  // namespace

std::string InteropGroupId(uint64_t group) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, group >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(group & 0xff);
  return out;
}

std::optional<uint64_t> InteropGroupNumber(const std::string& id) {
  if (id.size() != 8) return std::nullopt;
  uint64_t out = 0;
  for (char c : id) out = (out << 8) | static_cast<uint8_t>(c);
  return out;
}

std::string InteropPartialApp::Part(uint64_t group, size_t index) {
  std::string out;
  out.reserve(kPartSize);
  uint64_t counter = group + index * (kPartSize / 8);
  for (size_t i = 0; i < kPartSize / 8; ++i) out += InteropGroupId(counter++);
  return out;
}

std::string InteropPartialApp::Encode(uint64_t group, uint8_t bitmap) {
  if (bitmap == 0) return "";
  std::string out(1, static_cast<char>(bitmap));
  for (size_t i = 0; i < kParts; ++i) {
    if (bitmap & (1u << i)) out += Part(group, i);
  }
  return out + InteropGroupId(group);
}

uint8_t InteropPartialApp::Group::Held() const {
  uint8_t out = 0;
  for (size_t i = 0; i < kParts; ++i) {
    if (!parts[i].empty()) out = static_cast<uint8_t>(out | (1u << i));
  }
  return out;
}

void InteropPartialApp::Add(const std::string& topic, uint64_t group, uint8_t bitmap) {
  Group& g = groups_[topic][InteropGroupId(group)];
  const bool was_complete = g.Held() == 0xff;
  for (size_t i = 0; i < kParts; ++i) {
    if ((bitmap & (1u << i)) && g.parts[i].empty()) g.parts[i] = Part(group, i);
  }
  if (!was_complete && g.Held() == 0xff && on_complete_) on_complete_(topic, group);
}

uint8_t InteropPartialApp::Held(const std::string& topic, uint64_t group) const {
  auto t = groups_.find(topic);
  if (t == groups_.end()) return 0;
  auto g = t->second.find(InteropGroupId(group));
  return g == t->second.end() ? 0 : g->second.Held();
}

InteropPartialApp::Group* InteropPartialApp::Find(const std::string& topic, const std::string& group_id) {
  auto t = groups_.find(topic);
  if (t == groups_.end()) return nullptr;
  auto g = t->second.find(group_id);
  return g == t->second.end() ? nullptr : &g->second;
}

StatusOr<size_t> InteropPartialApp::Publish(const std::string& topic, uint64_t group, const std::vector<PeerId>& to) {
  if (router_ == nullptr) return FailedPreconditionError("no router");
  const std::string id = InteropGroupId(group);
  Group* g = Find(topic, id);
  if (g == nullptr) return NotFoundError("no group " + std::to_string(group) + " on " + topic);
  const uint8_t mine = g->Held();
  return router_->PublishPartial(topic, id, [&](const PeerId&, PartialPeerView& view, bool requests) {
    PartialSend send;
    uint8_t peer_has = Byte(view.peer_has);
    uint8_t told = Byte(view.told_peer);
    // Parts only once we know what the peer has, and only those it lacks.
    if (requests && view.peer_has && (mine & ~peer_has) != 0) {
      send.parts = Encode(group, static_cast<uint8_t>(mine & ~peer_has));
      told |= mine;  // It can infer what we have from what we send...
      peer_has |= mine;  // ...and will have it.
      view.peer_has = std::string(1, static_cast<char>(peer_has));
      view.told_peer = std::string(1, static_cast<char>(told));
    }
    if (!view.told_peer || (mine & ~Byte(view.told_peer)) != 0) {
      told = static_cast<uint8_t>(Byte(view.told_peer) | mine);
      view.told_peer = std::string(1, static_cast<char>(told));
      send.metadata = *view.told_peer;
    }
    return send;
  }, to);
}

bool InteropPartialApp::Extend(Group& g, const std::string& group_id, const std::string& encoded, uint8_t* carried) {
  if (encoded.size() < 1 + group_id.size()) return false;
  const uint8_t bitmap = static_cast<uint8_t>(encoded[0]);
  if (encoded.compare(encoded.size() - group_id.size(), group_id.size(), group_id) != 0) return false;
  const size_t body = encoded.size() - 1 - group_id.size();
  if (body != static_cast<size_t>(std::popcount(bitmap)) * kPartSize) return false;
  size_t at = 1;
  for (size_t i = 0; i < kParts; ++i) {
    if (!(bitmap & (1u << i))) continue;
    if (g.parts[i].empty()) g.parts[i] = encoded.substr(at, kPartSize);
    at += kPartSize;
  }
  *carried = bitmap;
  return true;
}

void InteropPartialApp::OnPartialRpc(const PeerId& from, const pubsub::pb::PartialMessagesExtension& rpc,
                                     PartialPeerView& view) {
  const std::optional<uint64_t> group = InteropGroupNumber(rpc.groupid());
  if (!group || (rpc.has_partsmetadata() && rpc.partsmetadata().size() != 1)) {
    ++invalid_rpcs_;
    if (router_ != nullptr) router_->ReportPartial(from, rpc.topicid(), PartialFeedback::kInvalid);
    return;
  }
  uint8_t peer_has = Byte(view.peer_has);
  uint8_t told = Byte(view.told_peer);
  bool knows = view.peer_has.has_value();
  if (rpc.has_partsmetadata()) {
    peer_has |= static_cast<uint8_t>(rpc.partsmetadata()[0]);
    knows = true;
  }
  auto& topic_groups = groups_[rpc.topicid()];
  if (topic_groups.size() >= kMaxGroupsPerTopic && topic_groups.count(rpc.groupid()) == 0) return;
  Group& g = topic_groups[rpc.groupid()];
  const uint8_t before = g.Held();
  if (!rpc.partialmessage().empty()) {
    uint8_t carried = 0;
    if (!Extend(g, rpc.groupid(), rpc.partialmessage(), &carried)) {
      ++invalid_rpcs_;
      if (router_ != nullptr) router_->ReportPartial(from, rpc.topicid(), PartialFeedback::kInvalid);
      return;
    }
    // The sender has what it sent, and knows we have it now.
    peer_has |= carried;
    told |= carried;
    knows = true;
    view.told_peer = std::string(1, static_cast<char>(told));
  }
  if (knows) view.peer_has = std::string(1, static_cast<char>(peer_has));
  const uint8_t after = g.Held();
  if (after != before && router_ != nullptr) router_->ReportPartial(from, rpc.topicid(), PartialFeedback::kUseful);
  if (after != before && after == 0xff && on_complete_) on_complete_(rpc.topicid(), *group);
  // Answer: parts the peers lack, and our metadata where it grew.
  (void)Publish(rpc.topicid(), *group);
}

void InteropPartialApp::OnGossip(const std::string& topic, const std::string& group_id,
                                 const std::vector<PeerId>& peers) {
  if (const std::optional<uint64_t> group = InteropGroupNumber(group_id)) (void)Publish(topic, *group, peers);
}

}  // namespace libp2p::node
