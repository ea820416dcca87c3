// PubSubPeer: the pubsub layer's view of one remote peer: it reads varint-framed RPCs from the peer's inbound stream and sends RPCs on one outbound
// stream, opened when first needed, through bounded lanes: urgent ahead of control, control ahead of data.
//
// A PubSubPeer has no closed state: it sends and receives until its owner destroys it, and then drops
// whatever is still queued.
#ifndef LIBP2P_PUBSUB_PUBSUB_PEER_H_
#define LIBP2P_PUBSUB_PUBSUB_PEER_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/fifo.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/log_rate_limiter.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"
#include "libp2p/stream/stream.h"

namespace libp2p::pubsub {

// Which lane an RPC waits in. Urgent RPCs are written first, then control, then data: our own publishes and
// forwarded messages, which share the data lane's byte cap and go out in the order they were queued, but
// expire after different times (PubSubPeerOptions).
enum class SendLane {
  // What loses its worth if it waits behind anything else: IDONTWANT (it must reach the peer before the copies
  // it cancels are sent to us).
  kUrgent,
  // Subscriptions, GRAFT/PRUNE, IHAVE/IWANT.
  kControl,
  // A message we published.
  kPublish,
  // A message of someone else: relayed, or sent in answer to an IWANT.
  kForward,
};

// What happened to an RPC handed to Send(). (There is no "closed" result: a PubSubPeer accepts RPCs for as
// long as it exists; see the file comment.)
enum class SendResult {
  kQueued,       // Queued (or written at once). It may still be cancelled, or dropped at its send timeout.
  kDroppedFull,  // Its lane was full: dropped, counted in dropped_full.
  kTooLarge,     // Encoded, it exceeds the RPC size limit: dropped, not counted.
};

// What the send lanes of all peers together may hold, shared fairly: beyond the room left, a peer's lanes
// may hold at most its share, limit / peers, though never less than one largest RPC, so that slow readers
// cannot take the room the others need. Used on the loop thread; peers count themselves in and out.
class SendBudget {
 public:
  explicit SendBudget(size_t limit) : bytes_(limit) {}
  SendBudget(const SendBudget&) = delete;
  SendBudget& operator=(const SendBudget&) = delete;

  // A peer's share when it can hold `largest_frame` bytes at least.
  size_t share(size_t largest_frame) const {
    return std::max(bytes_.limit() / std::max<size_t>(peers_, 1), largest_frame);
  }
  MemoryBudget& bytes() { return bytes_; }
  const MemoryBudget& bytes() const { return bytes_; }
  size_t peers() const { return peers_; }
  // The sends all its peers dropped for their own slowness, ever: each peer's dropped_full less
  // dropped_no_room, plus dropped_timeout. While it stands still no peer has new drops of its own, so one
  // that watches each peer's drops may skip looking.
  uint64_t own_drops() const { return own_drops_; }

 private:
  friend class PubSubPeer;
  MemoryBudget bytes_;
  size_t peers_ = 0;
  uint64_t own_drops_ = 0;
};

struct PubSubPeerOptions {
  RpcLimits limits;
  // Encoded bytes each lane may hold (counting only RPCs still to be sent, not cancelled ones); beyond, new
  // RPCs in that lane are dropped (never the caller blocked). kPublish and kForward together hold at most
  // max_data_bytes.
  size_t max_urgent_bytes = 1024 * 1024;
  size_t max_control_bytes = 4 * 1024 * 1024;
  size_t max_data_bytes = 16 * 1024 * 1024;
  // What all peers' lanes together may hold (PubSub gives its peers one, PubSubOptions::max_send_bytes): an
  // RPC beyond the room left or beyond this peer's share is dropped as if its lane were full. An observer
  // that must outlive the peer; null for none.
  SendBudget* send_budget = nullptr;
  // Limits the peer's log lines (a bad frame each) per peer: PubSub gives its peers the one it shares with its
  // router (PubSub::peer_log_limiter()). An observer that must outlive the peer; null for no limit.
  LogRateLimiter* log_limiter = nullptr;
  // An RPC still queued this long after Send() is dropped (a peer too slow to take it), and counted in
  // dropped_timeout. Control RPCs (GRAFT/PRUNE, subscriptions) get a minute. An urgent RPC (IDONTWANT) is
  // worth nothing once the peer would have forgotten it (go and rust keep one for about 3 s). A forwarded
  // message is stale after 1 s: its other mesh peers have it by then, and a peer that cannot take it in
  // time is better served by gossip; our own publish gets 5 s, as it may have no other way out (rust's
  // publish_queue_duration and forward_queue_duration). Each should be positive.
  Duration urgent_send_timeout = std::chrono::seconds(3);
  Duration control_send_timeout = std::chrono::seconds(60);
  Duration publish_send_timeout = std::chrono::seconds(5);
  Duration forward_send_timeout = std::chrono::seconds(1);
  // Time to open and negotiate the outbound stream.
  Duration open_timeout = std::chrono::seconds(10);
  // After the outbound stream fails to open, no new stream is opened for open_retry_initial; each further
  // failure in a row doubles the wait, up to open_retry_max. A stream that opens resets the wait to
  // open_retry_initial; when such a stream fails later (its connection went; the peer may have another),
  // the next open is at once. Should be positive, initial <= max.
  Duration open_retry_initial = std::chrono::seconds(1);
  Duration open_retry_max = std::chrono::seconds(30);
};

// Inspects or rewrites RPCs as they are received and, unless ObservesSends() is false, before they are sent.
// Runs on the loop thread. An observer must outlive the peers it is added to. An observer of a received RPC
// that stops the peer's reading (StopReading, or its owner letting it go) or replaces its stream ends the
// read there: on_rpc does not get that RPC.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void OnReceive(const crypto::PeerId& peer, pb::RPC* rpc) {}
  virtual void OnSend(const crypto::PeerId& peer, pb::RPC* rpc) {}
  // Whether OnSend is to be called; asked once per peer, as the observer is added to it (a later change of
  // answer is not seen). Seeing sends has a price: every RPC to the peer is then built as a pb::RPC, so a
  // message forwarded to many peers is encoded once per peer instead of once. An observer of received RPCs
  // alone answers false and leaves sending as it is.
  virtual bool ObservesSends() const { return true; }
};

struct PubSubPeerStats {
  uint64_t rpcs_received = 0;
  uint64_t rpcs_sent = 0;
  uint64_t bad_frames = 0;        // Oversized or undecodable inbound frames (each reset the stream).
  uint64_t elements_left_out = 0;  // Parts of inbound RPCs over a limit (RpcCounts::left_out), not read.
  uint64_t dropped_full = 0;      // RPCs dropped because a lane was full.
  // Of those, RPCs dropped while this peer was within its lane caps and its share of the node's budget, the
  // budget being held by other peers: not this peer's doing.
  uint64_t dropped_no_room = 0;
  uint64_t dropped_timeout = 0;   // RPCs dropped because they waited past their send timeout (all lanes).
  uint64_t dropped_timeout_publish = 0;  // Of those, our own publishes (kPublish).
  uint64_t dropped_timeout_forward = 0;  // Of those, forwarded messages (kForward).
  uint64_t dropped_unwanted = 0;  // Tagged data RPCs dropped unsent because Callbacks::wanted said no.
  // Outbound streams that could not be opened, were reset or failed by the remote, or refused a write.
  // Each is followed by a wait (see PubSubPeerOptions::open_retry_initial) before the next open.
  uint64_t stream_failures = 0;
};

class PubSubPeer {
 public:
  // RPCs queued in one loop turn go out together in stream writes of up to this many bytes (a larger RPC
  // alone).
  static constexpr size_t kBatchBytes = 64 * 1024;

  // Opens a new outbound stream that speaks our pubsub protocol and calls back with it (or the failure),
  // from the loop, never from inside the call. Returns a function that cancels the open: the peer calls it
  // when it is destroyed before the callback, which must then never run.
  using StreamOpener =
      std::function<std::function<void()>(std::function<void(StatusOr<std::unique_ptr<stream::Stream>>)>)>;

  // Callbacks run on the loop and must not destroy the peer: its owner hands it to a DeferredDeleter
  // (deferred_deleter.h).
  struct Callbacks {
    // A decoded (and observed) RPC from the peer.
    std::function<void(PubSubPeer& peer, pb::RPC rpc)> on_rpc;
    // The outbound stream is open: sends flow.
    std::function<void(PubSubPeer& peer)> on_ready;
    // Asked, when a tagged data RPC reaches the head of its lane, whether the peer still wants it; false
    // drops it unsent (counted in stats().dropped_unwanted). GossipSub answers from the peer's IDONTWANTs.
    // Must not call back into this peer. Empty: every RPC is wanted.
    std::function<bool(std::string_view tag)> wanted;
    // The RPCs written first on every new outbound stream, ahead of both lanes (our subscriptions, and
    // gossipsub v1.3's extensions in the first): asked as the stream opens, observed like any sent RPC,
    // neither queued nor counted against a lane. Empty: nothing goes first.
    std::function<std::vector<pb::RPC>(PubSubPeer& peer)> hello;
    // The open outbound stream closed: it failed, or it was retired for one on a newer connection (not
    // called as the peer is destroyed).
    std::function<void(PubSubPeer& peer)> on_outbound_closed;
    // The send lanes became empty after holding RPCs (written to the stream as it took them, or expired):
    // told from the loop (a stream that became writable or opened, the end of a loop turn, the expiry
    // timer), never from inside Send(), so that a sender pacing itself by queued_bytes() knows when to go
    // on. Empty: nobody is told.
    std::function<void(PubSubPeer& peer)> on_drained;
  };

  // The loop and observers are observers that must outlive the peer.
  PubSubPeer(EventLoop* loop, crypto::PeerId id, StreamOpener opener, PubSubPeerOptions options,
             Callbacks callbacks);
  ~PubSubPeer();
  PubSubPeer(const PubSubPeer&) = delete;
  PubSubPeer& operator=(const PubSubPeer&) = delete;

  const crypto::PeerId& id() const { return id_; }

  // Takes the stream the peer opened to us (replacing an earlier one, which is reset: the peer opens a new
  // one on a new connection) and reads RPCs from it. An oversized or undecodable frame resets that stream
  // and is counted; the peer stays.
  void AttachInbound(std::unique_ptr<stream::Stream> stream);
  // Ends reading for an owner letting the peer go: the inbound stream is silenced and destroyed from the
  // loop (which resets it), and on_rpc hears nothing more, not even the rest of a chunk being read. A
  // stream attached later is read again.
  void StopReading();

  // Stops (true) or resumes (false) reading the peer's inbound stream, and any it opens later, so that a
  // peer sending faster than its messages can be checked waits on its stream's flow control instead of
  // having them dropped. RPCs of a chunk already read are still delivered.
  void PauseInbound(bool paused);
  bool inbound_paused() const { return inbound_paused_; }

  // Runs the observers on `rpc`, then queues it for the peer and returns at once (see SendResult for what
  // can fail). Opens the outbound stream if there is none, unless a failed one is still being waited out
  // (the queue then waits too); a stream that worked and then failed (its connection closed, while the
  // peer may have another) is reopened at once: only failures to open are waited out.
  //
  // The first RPC of a loop turn is written at once; those that follow in the same turn are written
  // together when the turn ends or kBatchBytes of them wait (one stream write, one muxer frame, one
  // syscall for many small RPCs). A non-empty `tag` (a message id) on a kPublish or kForward RPC is shown to
  // Callbacks::wanted before the RPC is written, which may drop it; a tag on another lane's RPC is ignored.
  //
  // An RPC whose write to the stream fails stays at the head of its lane and goes out on the next stream
  // (unless unwanted or timed out first); RPCs that the stream had accepted before it failed are lost
  // with it, and counted as sent.
  SendResult Send(pb::RPC rpc, SendLane lane, std::string tag = "") { return SendInPlace(&rpc, lane, std::move(tag)); }
  // As Send, on the caller's RPC (not null): observers rewrite `*rpc` in place, and it is left as it was
  // encoded, for the caller to read after the call (what was sent, or dropped) without a copy.
  SendResult SendInPlace(pb::RPC* rpc, SendLane lane, std::string tag = "");
  // As Send, for an RPC the caller encoded (so that one encoding, and one buffer, serves every peer a message
  // goes to): `frame` (not null, never changed once shared) is the RPC of `rpc_size` bytes after its size as
  // a uvarint (AppendPublishFrame() writes one). Each peer holding it counts its whole size against its caps
  // and the budget. Observers would not see it: only for a peer whose sends none observes (sends_observed()
  // false; asserted).
  SendResult SendFrame(std::shared_ptr<const Bytes> frame, size_t rpc_size, SendLane lane, std::string tag = "");

  // Opens the outbound stream now, if there is none and no failed one is being waited out, so that the
  // hello goes out without waiting for a Send().
  void Open();

  // While Callbacks::on_rpc runs: whether its RPC is the first read from the current inbound stream.
  bool first_rpc_on_stream() const { return first_rpc_on_stream_; }

  // A newer connection to the peer appeared (a reconnect, possibly while the old connection is dead and
  // nobody knows yet): the outbound stream moves to it. The current one is closed (FIN after what it
  // holds, kept until it ends or kClosingTime passes) and a new one opened (the opener picks the newest
  // connection); RPCs still queued go out on the new one.
  void OnNewConnection();
  static constexpr Duration kClosingTime = std::chrono::seconds(10);

  // Adds an observer (not null) of received RPCs, and of sent ones if it ObservesSends(); it must outlive the
  // peer.
  void AddObserver(RpcObserver* observer);
  // Whether an observer of sent RPCs was added: then RPCs must be sent as pb::RPCs (Send, SendInPlace), not
  // SendFrame.
  bool sends_observed() const { return !send_observers_.empty(); }

  // True once an outbound stream is open.
  bool ready() const { return outbound_ != nullptr; }
  // Encoded bytes of the RPCs waiting in all lanes (unwanted ones included until their turn comes).
  size_t queued_bytes() const;
  const PubSubPeerStats& stats() const { return stats_; }

 private:
  // The inbound stream and the reader of its frames, replaced together. A replaced or failed one goes to the
  // deleter: its reader may be in the middle of a Feed().
  struct Inbound {
    std::unique_ptr<stream::Stream> stream;
    FrameReader reader;
    uint64_t rpcs = 0;  // Read from it so far.
  };
  struct Queued {
    std::shared_ptr<const Bytes> frame;  // Length-prefixed encoded RPC, perhaps shared with other peers.
    MonoTime deadline;
    uint64_t order = 0;  // Of Send() calls: which of the two data lanes' fronts goes first.
    std::string tag;  // Empty but for tagged data RPCs.
  };
  // The RPCs of one SendLane in Send() order, and their bytes; RPCs leave from the front only (written,
  // unwanted or expired). One timeout per lane, so deadlines only grow along it.
  struct Lane {
    Fifo<Queued> queue;
    size_t bytes = 0;
    Duration timeout{};
  };
  static constexpr size_t kLanes = 4;
  static bool IsData(SendLane lane) { return lane == SendLane::kPublish || lane == SendLane::kForward; }

  void OnInboundData(ByteSpan data);
  void OpenOutbound();
  void OnOutboundOpened(StatusOr<std::unique_ptr<stream::Stream>> stream);
  // The outbound stream failed (`was_open`) or never opened: count it, drop it, and reopen (at once after a
  // stream that worked, else after the backoff wait).
  void OnOutboundFailed(bool was_open);
  // Drops the inbound stream (destroyed from the loop).
  void DropInbound();
  // Closes the outbound stream and keeps it as closing_ until it ends; drops the one closing before.
  void RetireOutbound();
  void DropClosing();
  void Flush();
  // Flush() from the loop, then TellIfDrained.
  void FlushAndTell();
  // Calls Callbacks::on_drained when the lanes are empty now and `held` RPCs before.
  void TellIfDrained(bool held);
  // Whether a frame of `frame_size` bytes fits `lane`'s cap and the peer's share of the budget (reserving
  // its bytes there); counts the drop when not.
  bool Admit(SendLane lane, size_t frame_size);
  // Queues an admitted frame and writes or schedules it (see Send()).
  void Enqueue(std::shared_ptr<const Bytes> frame, SendLane lane, std::string tag);
  // Writes Callbacks::hello's RPCs on the stream that just opened; false when the write failed (the stream
  // is then dropped).
  bool WriteHello();
  // Drops the RPCs past their deadlines, then schedules the timer for the next deadline.
  void DropExpired();
  // Makes the expiry timer fire by `deadline` (it may already be due sooner).
  void ExpireBy(MonoTime deadline);
  // The bytes `lane` counts against its cap (both data lanes', for a data lane), and that cap.
  size_t CappedBytes(SendLane lane) const;
  size_t Cap(SendLane lane) const;
  // Whether every lane is empty.
  bool Idle() const;
  // The lane whose front goes out next (urgent, then control, then the data lane whose front was queued
  // first); null when all are empty.
  Lane* NextLane();
  // A frame taken from its lane for a write, to go back to it if the write fails.
  struct Taken {
    Lane* lane = nullptr;
    Queued queued;
  };
  // Takes the frame that goes out next into `out`, dropping the unwanted ones before it, unless the lanes
  // are empty or it would take a batch of `batch_size` bytes (0: none yet) past kBatchBytes.
  bool TakeNext(size_t batch_size, Taken* out);
  // Removes the front entry of `lane`, with its bytes (`size` of them when it was moved out already).
  void PopFront(Lane& lane);
  void PopFront(Lane& lane, size_t size);

  EventLoop* const loop_;
  const crypto::PeerId id_;
  StreamOpener opener_;
  const PubSubPeerOptions options_;
  Callbacks callbacks_;
  std::vector<RpcObserver*> observers_;       // All of them: they see received RPCs.
  std::vector<RpcObserver*> send_observers_;  // Those that ObservesSends().

  std::unique_ptr<Inbound> inbound_;
  bool inbound_paused_ = false;
  bool first_rpc_on_stream_ = false;
  std::unique_ptr<stream::Stream> outbound_;
  // The outbound stream of an older connection, closed and kept until it ends (see OnNewConnection).
  std::unique_ptr<stream::Stream> closing_;
  std::unique_ptr<Timer> closing_timer_;
  bool opening_ = false;
  std::function<void()> cancel_open_;  // Set while opening_.
  // Indexed by SendLane.
  std::array<Lane, kLanes> lanes_;
  std::unique_ptr<Timer> expiry_timer_;
  MonoTime expiry_at_{};  // When expiry_timer_ fires, while it is scheduled.
  uint64_t sends_ = 0;  // Send() calls so far: the next Queued::order.
  // Sends what the loop turn queued, together (see Send()).
  std::unique_ptr<Task> flush_task_;
  // Scheduled while a failed stream is being waited out; no stream is opened meanwhile.
  std::unique_ptr<Timer> retry_timer_;
  // The wait after the next failure.
  Duration retry_delay_;
  PubSubPeerStats stats_;
  // Streams that ended inside their own callbacks. Declared last: destroyed first.
  DeferredDeleter deleter_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_PUBSUB_PEER_H_
