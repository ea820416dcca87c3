#include "libp2p/pubsub/subscription_filter.h"

#include <utility>

namespace libp2p::pubsub {

AllowlistSubscriptionFilter::AllowlistSubscriptionFilter(const std::vector<std::string>& topics)
    : topics_(topics.begin(), topics.end()) {}

bool AllowlistSubscriptionFilter::CanSubscribe(std::string_view topic) const {
  // A transparent comparator: the lookup takes the view as it is, without building a std::string.
  return topics_.find(topic) != topics_.end();
}

PredicateSubscriptionFilter::PredicateSubscriptionFilter(std::function<bool(std::string_view topic)> predicate)
    : predicate_(std::move(predicate)) {}

bool PredicateSubscriptionFilter::CanSubscribe(std::string_view topic) const {
  return predicate_ && predicate_(topic);
}

}  // namespace libp2p::pubsub
