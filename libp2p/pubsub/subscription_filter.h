// Which topics a pubsub core takes part in (PubSubOptions::subscription_filter): ours and our peers'.
//
// A filter is asked for each subscription entry of a peer's RPC (unless the RPC is dropped whole, over
// PubSubOptions::max_subscriptions_per_rpc) and for every topic we subscribe to, publish to or set options
// for. A peer's entry for a refused topic is dropped before anything is recorded (counted in
// PubSubStats::subscriptions_filtered), so however many topics a peer names, a refused one costs one call
// and no memory; our own calls on a refused topic fail with kPermissionDenied. go-libp2p-pubsub's
// SubscriptionFilter.CanSubscribe and rust-libp2p's TopicSubscriptionFilter::can_subscribe decide the same
// thing.
#ifndef LIBP2P_PUBSUB_SUBSCRIPTION_FILTER_H_
#define LIBP2P_PUBSUB_SUBSCRIPTION_FILTER_H_

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace libp2p::pubsub {

// Decides whether a topic may be subscribed to, by us or by a peer (as far as we are concerned). Called on
// the core's loop thread, once for each subscription entry a peer sends: it must be quick and must not call
// back into the core. Its answer for a topic may change over time; each call is decided by the answer then.
// A subscription recorded earlier stays until the peer undoes it: its unsubscribe is applied even when the
// filter now refuses the topic.
class SubscriptionFilter {
 public:
  virtual ~SubscriptionFilter() = default;
  // Whether `topic` is allowed. `topic` is never empty.
  virtual bool CanSubscribe(std::string_view topic) const = 0;
};

// Allows exactly a fixed set of topic names (go's NewAllowlistSubscriptionFilter, rust's
// WhitelistSubscriptionFilter). Lookups are O(log n) in the set's size, with no allocation.
class AllowlistSubscriptionFilter final : public SubscriptionFilter {
 public:
  explicit AllowlistSubscriptionFilter(const std::vector<std::string>& topics);
  bool CanSubscribe(std::string_view topic) const override;

 private:
  const std::set<std::string, std::less<>> topics_;
};

// Allows the topics `predicate` says yes to (a prefix, a pattern, a lookup in the application's state; go's
// NewRegexpSubscriptionFilter and rust's CallbackSubscriptionFilter are this). The predicate has the
// filter's duties: quick, on the loop thread, no calls into the core. An empty predicate refuses every topic.
class PredicateSubscriptionFilter final : public SubscriptionFilter {
 public:
  explicit PredicateSubscriptionFilter(std::function<bool(std::string_view topic)> predicate);
  bool CanSubscribe(std::string_view topic) const override;

 private:
  const std::function<bool(std::string_view)> predicate_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_SUBSCRIPTION_FILTER_H_
