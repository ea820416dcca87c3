#include "libp2p/base/owned_callback.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(OwnedCallbackTest, RunsAndReportsHolderAlive) {
  int calls = 0;
  OwnedCallback<int> cb([&](int n) { calls += n; });
  EXPECT_TRUE(cb.Run(2));
  EXPECT_TRUE(cb.Run(3));
  EXPECT_EQ(calls, 5);
}

TEST(OwnedCallbackTest, HolderDestroyedDuringCallKeepsCapturesAlive) {
  // A capture large enough to live on the heap, read after the holder is gone: ASan would flag a use after
  // free if the function object died with its holder.
  auto holder = std::make_unique<OwnedCallback<>>(nullptr);
  std::string seen;
  const std::string payload(100, 'p');
  holder = std::make_unique<OwnedCallback<>>([&holder, &seen, payload] {
    holder.reset();
    seen = payload;
  });
  EXPECT_FALSE(holder->Run());
  EXPECT_EQ(holder, nullptr);
  EXPECT_EQ(seen, payload);
}

TEST(OwnedCallbackTest, HolderDestroyedDuringCallKeepsSmallCapturesAlive) {
  // Two pointers fit in std::function's inline buffer, so the captures live in the function object itself:
  // they must not die with the holder either.
  auto holder = std::make_unique<OwnedCallback<>>(nullptr);
  int seen = 0;
  holder = std::make_unique<OwnedCallback<>>([h = &holder, s = &seen] {
    h->reset();
    *s = 7;
  });
  EXPECT_FALSE(holder->Run());
  EXPECT_EQ(seen, 7);
}

}  // namespace
}  // namespace libp2p
