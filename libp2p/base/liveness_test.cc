#include "libp2p/base/liveness.h"

#include <memory>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

struct Object {
  Liveness liveness;
};

TEST(LivenessTest, ScopeStaysAliveWhenObjectSurvives) {
  Object o;
  Liveness::Scope scope(&o.liveness);
  EXPECT_TRUE(scope.alive());
}

TEST(LivenessTest, DestructionMarksAllNestedScopes) {
  auto o = std::make_unique<Object>();
  Liveness::Scope outer(&o->liveness);
  {
    Liveness::Scope inner(&o->liveness);
    o.reset();
    EXPECT_FALSE(inner.alive());
  }
  EXPECT_FALSE(outer.alive());
}

TEST(LivenessTest, ClosedInnerScopeDoesNotAffectOuter) {
  auto o = std::make_unique<Object>();
  Liveness::Scope outer(&o->liveness);
  { Liveness::Scope inner(&o->liveness); }
  o.reset();
  EXPECT_FALSE(outer.alive());
}

}  // namespace
}  // namespace libp2p
