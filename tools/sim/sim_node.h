// One simulated node: the shipping stack (a host with Noise, yamux, identify and ping over the in-memory
// network; pubsub with a GossipSubRouter) running one instruction script on the simulation's virtual-time
// loop, with a CPU model for validation and a record of every message copy it receives.
#ifndef TOOLS_SIM_SIM_NODE_H_
#define TOOLS_SIM_SIM_NODE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"
#include "tools/node/interop_script.h"
#include "tools/sim/plan.h"
#include "tools/sim/receipt_table.h"

namespace libp2p::sim {

// What validating a message costs a node: the script's validation delay for the topic, plus these, all
// charged to one CPU per node (a message waits for the ones before it).
struct CpuModel {
  Duration per_message{};      // E.g. a signature check.
  double nanos_per_byte = 0;   // E.g. decryption: 0.5 ns per byte at 2 GB/s.
};

// A message a node published.
struct Publication {
  uint64_t id = 0;
  std::string topic;
  MonoTime at{};
};

// Host h's address is kFirstHostAddress + h: 10.0.0.1 for host 0, and so on.
inline constexpr stream::Ipv4 kFirstHostAddress = 0x0a000001;
std::string HostAddress(size_t h);
// Where node `n`, on host `h`, listens, with its peer id: /ip4/<host's address>/tcp/<9000 + n % 50000>/p2p/<id>
// (each node of a host on a port of its own).
Multiaddr NodeDialAddress(size_t n, size_t h);

// What one node runs and where.
struct SimNodeConfig {
  size_t index = 0;
  std::function<size_t(size_t)> host_of;  // The host of every node (for this one's address).
  // Where every node listens, with its peer id (NodeDialAddress), for this one's dials. Called on this node's
  // shard thread, perhaps while other shards call theirs; the addresses it returns outlive the node.
  std::function<const Multiaddr&(size_t)> dial_address;
  node::InteropScript script;
  MonoTime start{};                       // The instant the script's times count from.
  uint64_t seed = 0;                      // Seeds the router's random choices.
  CpuModel cpu;
  // From this instant on (if set), the node takes part in meshes but never forwards a message or gossips:
  // it strips messages and IHAVEs from every RPC it sends.
  std::optional<MonoTime> censor_from;
  std::vector<Outage> outages;            // When it leaves and comes back (churn), in time order.
};

class SimNode : private pubsub::RpcObserver {
 public:
  // Builds the node on `network`; both must outlive it. Nothing happens until Start().
  SimNode(EventLoop* loop, stream::MemoryNetwork* network, SimNodeConfig config);
  ~SimNode() override;

  // Listens, runs the script's steps up to its first wait and schedules the outages. Fails if the node
  // cannot listen.
  Status Start();

  size_t index() const { return config_.index; }
  const crypto::PeerId& id() const { return id_; }
  bool online() const { return host_ != nullptr; }
  const ReceiptTable& receipts() const { return receipts_; }
  const std::vector<Publication>& publications() const { return publications_; }
  // Topics the script subscribed to so far.
  const std::vector<std::string>& topics() const { return topics_; }
  // The mesh of `topic` (0 while away).
  size_t MeshSize(const std::string& topic) const { return online() ? router_->Mesh(topic).size() : 0; }
  // The score this node gives each of its pubsub peers (empty while away or without peer scoring).
  std::vector<std::pair<crypto::PeerId, double>> Scores() const;
  // Dials that failed; publishes and subscriptions refused (steps that fell while the node was away count).
  size_t failed_dials() const { return failed_dials_; }
  size_t failed_publishes() const { return failed_publishes_; }
  size_t failed_subscribes() const { return failed_subscribes_; }

 private:
  void OnReceive(const crypto::PeerId& peer, pubsub::pb::RPC* rpc) override;
  void OnSend(const crypto::PeerId& peer, pubsub::pb::RPC* rpc) override;
  // Only a censor rewrites what it sends; an honest node's sends take the stack's usual path.
  bool ObservesSends() const override { return config_.censor_from.has_value(); }
  // The stack, from the transport up, fresh (at the start and on coming back), and listening.
  Status Boot();
  // Stops the stack as a stopping process would (every connection closes); the record stays.
  void Leave();
  void ComeBack();
  void ScheduleOutage();
  void Step();
  void Do(const node::ScriptStep& step);
  void Dial(uint64_t peer);
  void Subscribe(const std::string& topic);
  void AddValidator(const std::string& topic, Duration delay);
  void Validate(Duration delay, size_t bytes, std::function<void(pubsub::ValidationResult)> done);
  void ReleaseValidated();

  EventLoop* const loop_;
  stream::MemoryNetwork* const network_;
  const SimNodeConfig config_;
  crypto::Ed25519PrivateKey key_;
  const crypto::PeerId id_;
  std::unique_ptr<stream::Transport> transport_;
  std::unique_ptr<stream::Host> host_;                     // Null while away.
  pubsub::gossipsub::GossipSubRouter* router_ = nullptr;  // Owned by pubsub_.
  std::unique_ptr<pubsub::PubSub> pubsub_;
  std::unique_ptr<Timer> wait_;
  std::unique_ptr<Timer> outage_timer_;
  size_t next_step_ = 0;
  size_t next_outage_ = 0;
  std::vector<std::string> topics_;
  std::vector<std::pair<std::string, Duration>> validation_delays_;  // Set again on coming back.
  ReceiptTable receipts_;
  std::vector<Publication> publications_;
  // The CPU: validations in the order they finish (each starts when the one before it ended).
  MonoTime cpu_free_{};
  std::deque<std::pair<MonoTime, std::function<void(pubsub::ValidationResult)>>> validating_;
  std::unique_ptr<Timer> validated_;
  size_t failed_dials_ = 0;
  size_t failed_publishes_ = 0;
  size_t failed_subscribes_ = 0;
};

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_SIM_NODE_H_
