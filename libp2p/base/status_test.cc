#include "libp2p/base/status.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = OutOfRangeError("frame of 9000 bytes exceeds 4096");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.ToString(), "OUT_OF_RANGE: frame of 9000 bytes exceeds 4096");
}

TEST(StatusOrTest, HoldsValueOrError) {
  StatusOr<std::string> v = std::string("abc");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "abc");
  EXPECT_EQ(v->size(), 3u);
  StatusOr<std::string> e = InvalidArgumentError("bad");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

TEST(StatusOrTest, MoveOnlyValue) {
  StatusOr<std::unique_ptr<int>> v = std::make_unique<int>(7);
  ASSERT_TRUE(v.ok());
  std::unique_ptr<int> p = std::move(v).value();
  EXPECT_EQ(*p, 7);
}

Status FailsWhenNegative(int x) {
  if (x < 0) return InvalidArgumentError("negative");
  return OkStatus();
}

StatusOr<int> Doubled(int x) {
  RETURN_IF_ERROR(FailsWhenNegative(x));
  return 2 * x;
}

StatusOr<int> Quadrupled(int x) {
  ASSIGN_OR_RETURN(int d, Doubled(x));
  ASSIGN_OR_RETURN(d, Doubled(d));
  return d;
}

TEST(StatusOrTest, MacrosPropagate) {
  EXPECT_EQ(*Quadrupled(3), 12);
  StatusOr<int> e = Quadrupled(-1);
  EXPECT_EQ(e.status(), InvalidArgumentError("negative"));
}

}  // namespace
}  // namespace libp2p
