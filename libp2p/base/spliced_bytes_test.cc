#include "libp2p/base/spliced_bytes.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

std::shared_ptr<const Bytes> Shared(std::string_view s) { return std::make_shared<const Bytes>(ToBytes(s)); }

TEST(SplicedBytesTest, WithoutSplicesFlatIsItsOwnBufferUncopied) {
  Bytes own = ToBytes("abc");
  const uint8_t* data = own.data();
  SplicedBytes b(std::move(own));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_FALSE(b.has_splices());
  Bytes flat = std::move(b).Flat();
  EXPECT_EQ(flat.data(), data);
  EXPECT_EQ(ToString(flat), "abc");
}

TEST(SplicedBytesTest, SplicesGoBeforeTheOwnByteTheyNameInOrder) {
  const auto shared = Shared("0123456789");
  const ByteSpan all(*shared);
  std::vector<SplicedBytes::Splice> splices = {
      {0, all.subspan(0, 2), shared},  // Before everything.
      {2, all.subspan(2, 3), shared},  // Two splices at one place, in their order.
      {2, all.subspan(5, 1), shared},
      {4, all.subspan(6, 4), shared},  // At the end.
  };
  SplicedBytes b(ToBytes("abcd"), std::move(splices));
  EXPECT_EQ(b.size(), 14u);
  EXPECT_TRUE(b.has_splices());
  std::vector<std::string> pieces;
  b.ForEachPiece([&](ByteSpan piece) { pieces.push_back(ToString(piece)); });
  EXPECT_EQ(pieces, (std::vector<std::string>{"01", "ab", "234", "5", "cd", "6789"}));
  EXPECT_EQ(ToString(std::move(b).Flat()), "01ab2345cd6789");
}

TEST(SplicedBytesTest, PiecesOfARangeAreItsBytesInPlace) {
  const auto shared = Shared("0123456789");
  const ByteSpan all(*shared);
  const SplicedBytes b(ToBytes("abcd"), {{0, all.subspan(0, 2), shared},
                                         {2, all.subspan(2, 3), shared},
                                         {2, all.subspan(5, 1), shared},
                                         {4, all.subspan(6, 4), shared}});
  const std::string flat = "01ab2345cd6789";
  // Every range: its pieces, none empty, are the range's bytes, each a view of where they lie.
  for (size_t from = 0; from <= flat.size(); ++from) {
    for (size_t count = 0; from + count <= flat.size(); ++count) {
      std::string got;
      b.ForEachPiece(from, count, [&](ByteSpan piece) {
        EXPECT_FALSE(piece.empty());
        const bool in_shared = piece.data() >= all.data() && piece.data() + piece.size() <= all.data() + all.size();
        const bool in_own = piece.data() >= b.own().data() && piece.data() + piece.size() <= b.own().data() + 4;
        EXPECT_TRUE(in_shared || in_own);
        got += ToString(piece);
      });
      EXPECT_EQ(got, flat.substr(from, count)) << "from " << from << " count " << count;
    }
  }
  std::vector<std::string> pieces;
  b.ForEachPiece(3, 8, [&](ByteSpan piece) { pieces.push_back(ToString(piece)); });
  EXPECT_EQ(pieces, (std::vector<std::string>{"b", "234", "5", "cd", "6"}));
}

TEST(SplicedBytesTest, HoldsTheSharedBufferUntilFlattenedOrGone) {
  auto shared = Shared("payload");
  SplicedBytes b(ToBytes("[]"), {{1, ByteSpan(*shared), shared}});
  const std::weak_ptr<const Bytes> watch = shared;
  shared.reset();
  ASSERT_FALSE(watch.expired());  // The splice keeps it: the writer may drop its own reference.
  SplicedBytes moved = std::move(b);
  EXPECT_EQ(ToString(std::move(moved).Flat()), "[payload]");
  EXPECT_TRUE(watch.expired());
}

TEST(SplicedBytesTest, EmptyOwnBufferWithOnlySplices) {
  const auto shared = Shared("xyz");
  SplicedBytes b(Bytes(), {{0, ByteSpan(*shared), shared}});
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(ToString(std::move(b).Flat()), "xyz");
  EXPECT_TRUE(SplicedBytes().empty());
}

}  // namespace
}  // namespace libp2p
