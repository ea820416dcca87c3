// PubSubPeer: the pubsub layer's view of one remote peer (the seed's pubsubpeer.nim, with what nim-libp2p
// learned since): it reads varint-framed RPCs from the peer's inbound stream and sends RPCs on one outbound
// stream, opened when first needed, through a bounded queue whose control lane goes ahead of data.
#ifndef LIBP2P_PUBSUB_PUBSUB_PEER_H_
#define LIBP2P_PUBSUB_PUBSUB_PEER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/liveness.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"
#include "libp2p/stream/stream.h"

namespace libp2p::pubsub {

// Which lane an RPC waits in: control (subscriptions, GRAFT/PRUNE, IHAVE/IWANT/IDONTWANT) goes first.
enum class SendLane { kControl, kData };

// What happened to an RPC handed to Send().
enum class SendResult {
  kQueued,        // Queued (or written at once).
  kDroppedFull,   // Its lane was full: dropped, counted.
  kDroppedClosed, // The peer is closed.
  kTooLarge,      // Encoded, it exceeds the RPC size limit.
};

struct PubSubPeerOptions {
  RpcLimits limits;
  // Encoded bytes each lane may hold; beyond, new RPCs in that lane are dropped (never the caller blocked).
  size_t max_control_bytes = 4 * 1024 * 1024;
  size_t max_data_bytes = 16 * 1024 * 1024;
  // An RPC still queued this long after Send() is dropped (a peer too slow to take it); control RPCs get
  // longer, as in the seed (1 min for GRAFT/PRUNE and subscriptions, 10 s for data).
  Duration data_send_timeout = std::chrono::seconds(10);
  Duration control_send_timeout = std::chrono::seconds(60);
  // Time to open and negotiate the outbound stream.
  Duration open_timeout = std::chrono::seconds(10);
};

// Inspects or rewrites RPCs as they are received and before they are sent (the seed's observers). Runs on
// the loop thread. An observer must outlive the peers it is added to.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void OnReceive(const crypto::PeerId& peer, pb::RPC* rpc) {}
  virtual void OnSend(const crypto::PeerId& peer, pb::RPC* rpc) {}
};

struct PubSubPeerStats {
  uint64_t rpcs_received = 0;
  uint64_t rpcs_sent = 0;
  uint64_t bad_frames = 0;        // Oversized or undecodable inbound frames (each reset the stream).
  uint64_t dropped_full = 0;      // RPCs dropped because a lane was full.
  uint64_t dropped_timeout = 0;   // RPCs dropped because they waited past their send timeout.
  uint64_t stream_failures = 0;   // Outbound streams that failed or could not be opened.
};

class PubSubPeer {
 public:
  // Opens a new outbound stream that speaks our pubsub protocol and calls back with it (or the failure),
  // from the loop, never from inside the call. The PubSubPeer may be destroyed before the callback: the
  // opener must then not call it, or the callback must be harmless (it holds no raw `this`; see the .cc).
  using StreamOpener = std::function<void(std::function<void(StatusOr<std::unique_ptr<stream::Stream>>)>)>;

  struct Callbacks {
    // A decoded (and observed) RPC from the peer.
    std::function<void(PubSubPeer& peer, pb::RPC rpc)> on_rpc;
    // The outbound stream is open: sends flow.
    std::function<void(PubSubPeer& peer)> on_ready;
  };

  // The loop and observers are observers that must outlive the peer.
  PubSubPeer(EventLoop* loop, crypto::PeerId id, StreamOpener opener, PubSubPeerOptions options, Callbacks callbacks);
  ~PubSubPeer();
  PubSubPeer(const PubSubPeer&) = delete;
  PubSubPeer& operator=(const PubSubPeer&) = delete;

  const crypto::PeerId& id() const { return id_; }

  // Takes the stream the peer opened to us (replacing an earlier one) and reads RPCs from it. An oversized
  // or undecodable frame resets that stream and is counted; the peer stays.
  void AttachInbound(std::unique_ptr<stream::Stream> stream);

  // Queues `rpc` for the peer and returns at once. Opens the outbound stream if there is none. A non-empty
  // `tag` (a message id) lets CancelQueued() withdraw the RPC while it waits.
  SendResult Send(pb::RPC rpc, SendLane lane, std::string tag = "");
  // Drops queued RPCs tagged `tag` (the peer said IDONTWANT). Returns how many.
  size_t CancelQueued(const std::string& tag);

  void AddObserver(RpcObserver* observer) { observers_.push_back(observer); }

  // True once an outbound stream is open.
  bool ready() const { return outbound_ != nullptr; }
  size_t queued_bytes() const { return control_bytes_ + data_bytes_; }
  const PubSubPeerStats& stats() const { return stats_; }

 private:
  struct Queued {
    Bytes frame;  // Length-prefixed encoded RPC.
    MonoTime deadline;
    std::string tag;
  };

  void OnInboundData(ByteSpan data);
  void OpenOutbound();
  void OnOutboundOpened(StatusOr<std::unique_ptr<stream::Stream>> stream);
  void Flush();
  void DropExpired();

  EventLoop* const loop_;
  const crypto::PeerId id_;
  StreamOpener opener_;
  const PubSubPeerOptions options_;
  Callbacks callbacks_;
  std::vector<RpcObserver*> observers_;

  std::unique_ptr<stream::Stream> inbound_;
  // Shared so that a Feed() in progress keeps its reader when on_rpc replaces the stream or destroys us.
  std::shared_ptr<FrameReader> reader_;
  std::unique_ptr<stream::Stream> outbound_;
  bool opening_ = false;
  std::deque<Queued> control_, data_;
  size_t control_bytes_ = 0, data_bytes_ = 0;
  std::unique_ptr<Timer> expiry_timer_;
  std::unique_ptr<Timer> retry_timer_;
  // Shared with pending open callbacks so they can tell whether this peer still exists.
  std::shared_ptr<bool> alive_;
  PubSubPeerStats stats_;
  Liveness liveness_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_PUBSUB_PEER_H_
