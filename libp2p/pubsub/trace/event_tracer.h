// Turns the core's tracer events into go-libp2p-pubsub's TraceEvent messages, as go's EventTracer receives
// them, and hands each to a TraceSink (a JSON or protobuf file, the remote tracer).
#ifndef LIBP2P_PUBSUB_TRACE_EVENT_TRACER_H_
#define LIBP2P_PUBSUB_TRACE_EVENT_TRACER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/message.h"
#include "libp2p/pubsub/trace/trace_sink.h"
#include "libp2p/pubsub/tracer.h"

namespace libp2p::pubsub::trace {

// Wall-clock time as Unix nanoseconds: the timestamps of trace events. Traces of several nodes are compared
// by these (propagation delays), so they come from the wall clock, not from the loop's monotonic clock.
using UnixNanosFn = std::function<int64_t()>;
// std::chrono::system_clock, in nanoseconds since the Unix epoch.
int64_t SystemUnixNanos();

// A PubSubTracer (give it in PubSubOptions::tracers) that writes go's trace events:
// - PublishMessage, DeliverMessage, RejectMessage (with the reason string), DuplicateMessage: the message's
//   id, its topic (when it has one) and, but for publishes, the peer it came from;
// - OnNewOutboundStream, OnClosedOutboundStream, Join, Leave, Graft, Prune;
// - RecvRpc, SendRpc, DropRpc: the peer, and the RPC's meta as go builds it (each published message's id
//   computed with `message_id` and its topic; subscriptions; the control messages' topics, message ids and
//   PRUNE peer ids). The partial-messages extension has no place in go's schema and is left out.
// Events go's EventTracer does not get (ValidateMessage, UndeliverableMessage, ThrottlePeer) and our own
// (Heartbeat, BrokenPromise) are ignored. Every event carries our peer id and the time from `now`.
//
// Runs on the loop thread, as every tracer. One event message is reused for all events (cleared, keeping
// its memory), so an event costs no allocation once the message has grown; what the sink does is its own
// cost. Each RPC message's id is computed again per RPC (as go does): with an id function that hashes the
// data, tracing RPCs costs a hash per copy sent.
class TraceEventTracer final : public PubSubTracer {
 public:
  // `self`: our peer id (the events' peerID). `message_id`: the core's id function
  // (PubSubOptions::message_id), for the messages inside RPCs. `sink`: an observer that must outlive the
  // tracer. `now`: the wall clock; empty means SystemUnixNanos (tests inject their own for exact times).
  TraceEventTracer(const crypto::PeerId& self, MessageIdFn message_id, TraceSink* sink, UnixNanosFn now = {});

  // Events handed to the sink.
  uint64_t events() const { return events_; }

  void OnNewOutboundStream(const crypto::PeerId& peer, const std::string& protocol) override;
  void OnClosedOutboundStream(const crypto::PeerId& peer) override;
  void Join(const std::string& topic) override;
  void Leave(const std::string& topic) override;
  void Graft(const crypto::PeerId& peer, const std::string& topic) override;
  void Prune(const crypto::PeerId& peer, const std::string& topic) override;
  void PublishMessage(const TracedMessage& m) override;
  void DeliverMessage(const TracedMessage& m) override;
  void RejectMessage(const TracedMessage& m, std::string_view reason) override;
  void DuplicateMessage(const TracedMessage& m) override;
  void RecvRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;
  void SendRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;
  void DropRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override;

 private:
  // Clears the reused event and fills in the type, our peer id and the time.
  tracepb::TraceEvent& Begin(tracepb::TraceEvent::Type type);
  void Emit();
  void FillRpcMeta(const pb::RPC& rpc, tracepb::TraceEvent::RPCMeta* meta);

  const std::string self_;  // Binary peer id.
  const MessageIdFn message_id_;
  TraceSink* const sink_;
  const UnixNanosFn now_;
  tracepb::TraceEvent event_;
  uint64_t events_ = 0;
};

}  // namespace libp2p::pubsub::trace

#endif  // LIBP2P_PUBSUB_TRACE_EVENT_TRACER_H_
