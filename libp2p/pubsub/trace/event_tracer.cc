#include "libp2p/pubsub/trace/event_tracer.h"

#include <chrono>

namespace libp2p::pubsub::trace {
namespace {

template <typename Event>
void SetMessage(const TracedMessage& m, Event* e) {
  e->set_messageid(m.id);
  if (m.msg.has_topic()) e->set_topic(m.msg.topic());
}

}  // namespace

int64_t SystemUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TraceEventTracer::TraceEventTracer(const crypto::PeerId& self, MessageIdFn message_id, TraceSink* sink, UnixNanosFn now)
    : self_(AsStringView(self.bytes())),
      message_id_(std::move(message_id)),
      sink_(sink),
      now_(now ? std::move(now) : UnixNanosFn(SystemUnixNanos)) {}

tracepb::TraceEvent& TraceEventTracer::Begin(tracepb::TraceEvent::Type type) {
  event_.Clear();
  event_.set_type(type);
  event_.set_peerid(self_);
  event_.set_timestamp(now_());
  return event_;
}

void TraceEventTracer::Emit() {
  ++events_;
  sink_->Write(event_);
}

void TraceEventTracer::OnNewOutboundStream(const crypto::PeerId& peer, const std::string& protocol) {
  auto* e = Begin(tracepb::TraceEvent::ON_NEW_OUTBOUND_STREAM).mutable_onnewoutboundstream();
  e->set_peerid(peer.bytes().data(), peer.bytes().size());
  e->set_proto(protocol);
  Emit();
}

void TraceEventTracer::OnClosedOutboundStream(const crypto::PeerId& peer) {
  Begin(tracepb::TraceEvent::ON_CLOSED_OUTBOUND_STREAM)
      .mutable_onclosedoutboundstream()
      ->set_peerid(peer.bytes().data(), peer.bytes().size());
  Emit();
}

void TraceEventTracer::Join(const std::string& topic) {
  Begin(tracepb::TraceEvent::JOIN).mutable_join()->set_topic(topic);
  Emit();
}

void TraceEventTracer::Leave(const std::string& topic) {
  Begin(tracepb::TraceEvent::LEAVE).mutable_leave()->set_topic(topic);
  Emit();
}

void TraceEventTracer::Graft(const crypto::PeerId& peer, const std::string& topic) {
  auto* e = Begin(tracepb::TraceEvent::GRAFT).mutable_graft();
  e->set_peerid(peer.bytes().data(), peer.bytes().size());
  e->set_topic(topic);
  Emit();
}

void TraceEventTracer::Prune(const crypto::PeerId& peer, const std::string& topic) {
  auto* e = Begin(tracepb::TraceEvent::PRUNE).mutable_prune();
  e->set_peerid(peer.bytes().data(), peer.bytes().size());
  e->set_topic(topic);
  Emit();
}

void TraceEventTracer::PublishMessage(const TracedMessage& m) {
  SetMessage(m, Begin(tracepb::TraceEvent::PUBLISH_MESSAGE).mutable_publishmessage());
  Emit();
}

void TraceEventTracer::DeliverMessage(const TracedMessage& m) {
  auto* e = Begin(tracepb::TraceEvent::DELIVER_MESSAGE).mutable_delivermessage();
  SetMessage(m, e);
  e->set_receivedfrom(m.from.bytes().data(), m.from.bytes().size());
  Emit();
}

void TraceEventTracer::RejectMessage(const TracedMessage& m, std::string_view reason) {
  auto* e = Begin(tracepb::TraceEvent::REJECT_MESSAGE).mutable_rejectmessage();
  SetMessage(m, e);
  e->set_receivedfrom(m.from.bytes().data(), m.from.bytes().size());
  e->set_reason(std::string(reason));
  Emit();
}

void TraceEventTracer::DuplicateMessage(const TracedMessage& m) {
  auto* e = Begin(tracepb::TraceEvent::DUPLICATE_MESSAGE).mutable_duplicatemessage();
  SetMessage(m, e);
  e->set_receivedfrom(m.from.bytes().data(), m.from.bytes().size());
  Emit();
}

void TraceEventTracer::RecvRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {
  auto* e = Begin(tracepb::TraceEvent::RECV_RPC).mutable_recvrpc();
  e->set_receivedfrom(peer.bytes().data(), peer.bytes().size());
  FillRpcMeta(rpc, e->mutable_meta());
  Emit();
}

void TraceEventTracer::SendRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {
  auto* e = Begin(tracepb::TraceEvent::SEND_RPC).mutable_sendrpc();
  e->set_sendto(peer.bytes().data(), peer.bytes().size());
  FillRpcMeta(rpc, e->mutable_meta());
  Emit();
}

void TraceEventTracer::DropRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {
  auto* e = Begin(tracepb::TraceEvent::DROP_RPC).mutable_droprpc();
  e->set_sendto(peer.bytes().data(), peer.bytes().size());
  FillRpcMeta(rpc, e->mutable_meta());
  Emit();
}

// Optional fields of the RPC stay unset in the meta when they are unset in the RPC, as go copies its
// pointers; the meta itself is always there, and its control part whenever the RPC has one.
void TraceEventTracer::FillRpcMeta(const pb::RPC& rpc, tracepb::TraceEvent::RPCMeta* meta) {
  for (const pb::Message& m : rpc.publish()) {
    auto* mm = meta->add_messages();
    mm->set_messageid(message_id_(m));
    if (m.has_topic()) mm->set_topic(m.topic());
  }
  for (const pb::RPC::SubOpts& s : rpc.subscriptions()) {
    auto* sm = meta->add_subscription();
    if (s.has_subscribe()) sm->set_subscribe(s.subscribe());
    if (s.has_topicid()) sm->set_topic(s.topicid());
  }
  if (!rpc.has_control()) return;
  const pb::ControlMessage& c = rpc.control();
  auto* cm = meta->mutable_control();
  for (const pb::ControlIHave& ihave : c.ihave()) {
    auto* x = cm->add_ihave();
    if (ihave.has_topicid()) x->set_topic(ihave.topicid());
    x->mutable_messageids()->CopyFrom(ihave.messageids());
  }
  for (const pb::ControlIWant& iwant : c.iwant()) {
    cm->add_iwant()->mutable_messageids()->CopyFrom(iwant.messageids());
  }
  for (const pb::ControlGraft& graft : c.graft()) {
    auto* x = cm->add_graft();
    if (graft.has_topicid()) x->set_topic(graft.topicid());
  }
  for (const pb::ControlPrune& prune : c.prune()) {
    auto* x = cm->add_prune();
    if (prune.has_topicid()) x->set_topic(prune.topicid());
    // A peer entry without a peer id is an empty element here (go's is a nil []byte, which its JSON writes as
    // null); the protobuf encodings are the same.
    for (const pb::PeerInfo& p : prune.peers()) x->add_peers(p.peerid());
  }
  for (const pb::ControlIDontWant& idontwant : c.idontwant()) {
    cm->add_idontwant()->mutable_messageids()->CopyFrom(idontwant.messageids());
  }
}

}  // namespace libp2p::pubsub::trace
