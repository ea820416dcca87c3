#include "libp2p/crypto/peer_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libp2p/crypto/sha256.h"

namespace libp2p::crypto {
namespace {

// A sha2-256 peer id of its own for each n.
PeerId Id(int n) {
  std::vector<uint8_t> multihash = {0x12, 0x20};
  const auto digest = Sha256(AsBytes(std::to_string(n)));
  multihash.insert(multihash.end(), digest.begin(), digest.end());
  return *PeerId::FromBytes(multihash);
}

TEST(PeerMapTest, FindsWhatWasAddedAndNothingElse) {
  PeerMap<int> map;
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(Id(1)), map.end());
  auto [it, added] = map.try_emplace(Id(1), 10);
  EXPECT_TRUE(added);
  EXPECT_EQ(it->first, Id(1));
  EXPECT_EQ(it->second, 10);
  auto [again, added_again] = map.try_emplace(Id(1), 20);
  EXPECT_FALSE(added_again);
  EXPECT_EQ(again, it);
  EXPECT_EQ(again->second, 10);
  map[Id(2)] = 30;
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.count(Id(2)), 1u);
  EXPECT_EQ(map.count(Id(3)), 0u);
  EXPECT_EQ(map.find(Id(2))->second, 30);
  EXPECT_EQ(map.find(Id(3)), map.end());
}

TEST(PeerMapTest, AgreesWithAnOrderedMapThroughManyAddsAndErasures) {
  PeerMap<int> map;
  std::map<PeerId, int> model;
  // Enough entries to grow and shrink the index several times, with erasures in between.
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < 500; ++n) {
      map[Id(n)] = n + round;
      model[Id(n)] = n + round;
    }
    for (int n = round; n < 500; n += 2 + round) {
      EXPECT_EQ(map.erase(Id(n)), 1u);
      model.erase(Id(n));
    }
    EXPECT_EQ(map.erase(Id(1000)), 0u);
    ASSERT_EQ(map.size(), model.size());
    for (int n = 0; n < 500; ++n) {
      auto it = map.find(Id(n));
      auto expected = model.find(Id(n));
      ASSERT_EQ(it == map.end(), expected == model.end()) << n;
      if (it != map.end()) {
        EXPECT_EQ(it->second, expected->second);
      }
    }
    std::map<PeerId, int> iterated;
    for (const auto& [id, value] : map) EXPECT_TRUE(iterated.emplace(id, value).second);
    EXPECT_EQ(iterated, model);
  }
  for (int n = 0; n < 250; ++n) map.erase(Id(n));
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.begin(), map.end());
  EXPECT_EQ(map.find(Id(300)), map.end());
  map[Id(300)] = 1;
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.find(Id(300))->second, 1);
}

TEST(PeerMapTest, AnErasingLoopVisitsEveryEntryOnce) {
  PeerMap<int> map;
  for (int n = 0; n < 20; ++n) map[Id(n)] = n;
  std::vector<int> visited;
  for (auto it = map.begin(); it != map.end();) {
    visited.push_back(it->second);
    it = it->second % 3 == 0 ? map.erase(it) : std::next(it);
  }
  std::sort(visited.begin(), visited.end());
  std::vector<int> all;
  for (int n = 0; n < 20; ++n) all.push_back(n);
  EXPECT_EQ(visited, all);
  EXPECT_EQ(map.size(), 13u);
  for (int n = 0; n < 20; ++n) EXPECT_EQ(map.count(Id(n)), n % 3 == 0 ? 0u : 1u) << n;
}

TEST(PeerMapTest, AValueStaysWhereItIsWhileOthersComeAndGo) {
  PeerMap<std::unique_ptr<std::string>> map;
  for (int n = 1; n < 10; ++n) map[Id(n)] = std::make_unique<std::string>(std::to_string(n));
  map[Id(0)] = std::make_unique<std::string>("last");
  std::unique_ptr<std::string>& last = map[Id(0)];
  // Erasing the first entry moves the last one into its place in the order; then the index grows.
  map.erase(Id(1));
  EXPECT_EQ(map.begin()->first, Id(0));
  for (int n = 10; n < 100; ++n) map[Id(n)] = std::make_unique<std::string>(std::to_string(n));
  for (int n = 2; n < 100; n += 2) map.erase(Id(n));
  EXPECT_EQ(&map[Id(0)], &last);
  EXPECT_EQ(*last, "last");
}

TEST(PeerMapTest, ConstLookupsAndIteration) {
  PeerMap<int> map;
  map[Id(1)] = 1;
  map[Id(2)] = 2;
  const PeerMap<int>& view = map;
  EXPECT_EQ(view.find(Id(2))->second, 2);
  EXPECT_EQ(view.find(Id(3)), view.end());
  int sum = 0;
  for (const auto& [id, value] : view) sum += value;
  EXPECT_EQ(sum, 3);
  PeerMap<int>::const_iterator converted = map.find(Id(1));
  EXPECT_EQ(converted->second, 1);
  EXPECT_EQ(std::count_if(view.begin(), view.end(), [](const auto& e) { return e.second > 1; }), 1);
}

TEST(PeerMapTest, MovesWithItsEntries) {
  PeerMap<int> map;
  map[Id(1)] = 1;
  int* value = &map[Id(1)];
  PeerMap<int> moved = std::move(map);
  EXPECT_EQ(&moved[Id(1)], value);
  EXPECT_EQ(moved.find(Id(1))->second, 1);
}

}  // namespace
}  // namespace libp2p::crypto
