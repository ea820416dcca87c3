// The GossipSub router's parameters (gossipsub v1.0, v1.1 and v1.2 specs) with their defaults, and the
// rules that relate them.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_H_

#include <chrono>
#include <cstddef>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"

namespace libp2p::pubsub::gossipsub {

// Every tunable of the router. The defaults are the spec tables' values (gossipsub-v1.0.md "Parameters",
// gossipsub-v1.1.md "Overview of New Parameters"), and go-libp2p-pubsub's where the spec gives none; each
// field says which. A plain aggregate: copy it, change fields, then call Validate() before handing it to a
// router. Counts are `int` so that a negative value is representable and Validate() can name it.
struct GossipSubParams {
  // --- Mesh degree (v1.0; D_score and D_out are v1.1). ---

  // D: the number of peers the router keeps in each topic's mesh.
  int d = 6;
  // D_lo: a heartbeat grafts peers when a mesh has fewer than this. The spec's table says 4; we use 5, as
  // go-libp2p-pubsub and rust-libp2p do (most of the deployed network): a mesh of 6 that has lost two peers
  // is refilled at the next heartbeat instead of waiting for a third loss, and our meshes regraft at the
  // same point as our neighbours'.
  int d_lo = 5;
  // D_hi: a heartbeat prunes a mesh down to D when it has more than this.
  int d_hi = 12;
  // D_lazy: the minimum number of non-mesh peers that get IHAVE gossip per topic each heartbeat.
  int d_lazy = 6;
  // D_score: when pruning an oversubscribed mesh, this many peers are kept by score (the rest at random).
  // The spec suggests 4 or 5 for D = 6.
  int d_score = 4;
  // D_out: the mesh keeps at least this many peers that we dialed (an eclipse defence). The spec requires
  // D_out < D_lo and D_out <= D / 2.
  int d_out = 2;

  // --- Timing (v1.0, except where noted). ---

  // Time between heartbeats (mesh and fanout maintenance, gossip emission, mcache shift).
  Duration heartbeat_interval = std::chrono::seconds(1);
  // Delay before the first heartbeat (go's default).
  Duration heartbeat_initial_delay = std::chrono::milliseconds(100);
  // A fanout topic (one we publish to without being subscribed) is forgotten this long after our last
  // publish to it.
  Duration fanout_ttl = std::chrono::seconds(60);

  // --- Message cache and gossip (v1.0; gossip_factor and gossip_retransmission are v1.1). ---

  // mcache_len: the number of heartbeat windows the message cache keeps (IWANT can fetch from all of them).
  int mcache_len = 5;
  // mcache_gossip: the number of most recent windows whose ids are advertised in IHAVE.
  int mcache_gossip = 3;
  // The fraction of eligible non-mesh peers that get gossip, when that is more than D_lazy peers.
  double gossip_factor = 0.25;
  // A message is sent to one peer in answer to its IWANTs at most this many times (go's default); further
  // requests for it from that peer are ignored (v1.1 spam protection).
  int gossip_retransmission = 3;

  // --- PRUNE, backoff and peer exchange (v1.1). ---

  // Backoff after a PRUNE, both ways: neither side GRAFTs the other in the topic before it ends. Sent in our
  // PRUNEs in whole seconds.
  Duration prune_backoff = std::chrono::minutes(1);
  // The shorter backoff sent in the PRUNEs that leaving a topic causes, so we can rejoin sooner.
  Duration unsubscribe_backoff = std::chrono::seconds(10);
  // Heartbeats of slack added to a backoff before we GRAFT again, so that the remote's heartbeat has cleared
  // its side first (the v1.1 spec asks for "some slack"; 1 is rust-libp2p's backoff_slack default).
  int backoff_slack_heartbeats = 1;
  // Peer exchange: the number of other peers offered in a PRUNE (the spec recommends more than D_hi).
  int prune_peers = 16;
  // A GRAFT that arrives sooner than this after our PRUNE costs the sender an extra behaviour penalty (go).
  Duration graft_flood_threshold = std::chrono::seconds(10);

  // --- Opportunistic grafting (v1.1). ---

  // Every this many heartbeats the router checks the mesh's median score (the spec: once a minute).
  int opportunistic_graft_ticks = 60;
  // The number of better-scoring peers grafted when the median is below the threshold (the spec: 2).
  int opportunistic_graft_peers = 2;

  // --- Direct peers (v1.1). ---

  // Every this many heartbeats the router reconnects to direct peers it lost (go: 300, i.e. 5 minutes).
  int direct_connect_ticks = 300;
  // Delay before the first connection attempt to direct peers (go's default).
  Duration direct_connect_initial_delay = std::chrono::seconds(1);

  // --- Publishing (v1.1). ---

  // Publish our own messages to every peer in the topic with an acceptable score, not only to the mesh.
  bool flood_publish = true;

  // --- IHAVE / IWANT limits (v1.1 spam protection; go's defaults). ---

  // An IWANT we send must be answered within this time or the advertising peer's promise is broken
  // (behaviour penalty).
  Duration iwant_followup_time = std::chrono::seconds(3);
  // At most this many message ids, over all its IHAVEs, are taken from one peer per heartbeat; also the
  // most ids we put in one IHAVE.
  int max_ihave_length = 5000;
  // At most this many IHAVE messages are processed from one peer per heartbeat; the rest are ignored.
  int max_ihave_messages = 10;
  // At most this many messages are sent to one peer per heartbeat in answer to its IWANTs; the ids beyond
  // are ignored until the next heartbeat. Not in the specs or in go (which bounds this only through
  // gossip_retransmission); the default equals max_ihave_length, since an honest peer asks only for ids
  // that were advertised to it and an IHAVE carries at most max_ihave_length of them.
  int max_iwant_messages_per_heartbeat = 5000;

  // --- IDONTWANT (v1.2). ---

  // We send IDONTWANT to our mesh peers for a received message whose data is at least this many bytes
  // (go's threshold; js uses 512). Smaller messages are cheaper to receive twice than to announce.
  size_t idontwant_message_size_threshold = 1024;
  // At most this many IDONTWANT control messages are taken from one peer per heartbeat; the ones beyond are
  // ignored (gossipsub-v1.2.md's max_idontwant_messages, which gives no value; go's default). Ours go out as
  // soon as the loop comes back from the read that brought the messages, the ids of one read together, at
  // most 10 in an RPC (what go reads of one); a peer over its own limit just ignores the rest.
  int max_idontwant_messages = 1000;
  // A peer's IDONTWANT entries are kept for this many heartbeats (go's IDontWantMessageTTL of 3): long
  // enough to cover the message's propagation through the mesh, short enough to bound the set.
  int idontwant_retention_heartbeats = 3;
  // At most this many IDONTWANT ids are taken from one peer per heartbeat, and held for it at once; the ids
  // beyond are ignored (a bound on the memory and work one peer can make us spend).
  int max_idontwant_entries_per_peer = 5000;

  // Checks every rule below at once. Returns OK, or kInvalidArgument whose message lists each violated rule,
  // separated by "; ", naming the parameter, its value and the rule, e.g. "d_lo (7) must be <= d (6)".
  //   d_lo <= d <= d_hi; d_lo >= 1 unless d is 0; d_out < d_lo unless d is 0; d_out <= d / 2;
  //   0 <= d_score <= d; d_lazy >= 0; d_out >= 0;
  //   1 <= mcache_gossip <= mcache_len; gossip_factor in [0, 1]; gossip_retransmission >= 1;
  //   heartbeat_interval, fanout_ttl, iwant_followup_time > 0;
  //   heartbeat_initial_delay, direct_connect_initial_delay, prune_backoff, unsubscribe_backoff,
  //   graft_flood_threshold >= 0; backoff_slack_heartbeats, prune_peers, opportunistic_graft_peers,
  //   max_idontwant_messages >= 0; opportunistic_graft_ticks, direct_connect_ticks, max_ihave_length,
  //   max_ihave_messages, max_iwant_messages_per_heartbeat, idontwant_retention_heartbeats,
  //   max_idontwant_entries_per_peer >= 1.
  // A d of 0 (with d_lo = d_hi = d_out = 0) is the mesh-less node the v1.1 spec recommends for bootstrappers.
  Status Validate() const;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PARAMS_H_
