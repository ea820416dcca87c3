#include "libp2p/base/multihash.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/varint.h"

namespace libp2p {
namespace {

Bytes Digest32() {
  Bytes d(kSha256DigestLength);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(0xa0 + i);
  return d;
}

void ExpectError(ByteSpan in, StatusCode code, std::string_view needle) {
  const StatusOr<MultihashView> result = ParseMultihash(in);
  ASSERT_FALSE(result.ok()) << HexEncode(in);
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().ToString();
}

TEST(MultihashTest, Sha256RoundTrip) {
  const Bytes digest = Digest32();
  const Bytes mh = Sha256Multihash(digest.data());
  ASSERT_EQ(mh.size(), 34u);
  EXPECT_EQ(mh[0], 0x12);
  EXPECT_EQ(mh[1], 0x20);
  const StatusOr<MultihashView> view = ParseMultihash(mh);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->code, kMultihashSha2_256);
  EXPECT_EQ(Bytes(view->digest.begin(), view->digest.end()), digest);
  EXPECT_EQ(view->digest.data(), mh.data() + 2);  // A view into the input.
}

TEST(MultihashTest, IdentityRoundTrip) {
  for (const size_t size : {size_t{0}, size_t{1}, size_t{36}, kMaxIdentityDigestLength}) {
    const Bytes data(size, 0x5a);
    const Bytes mh = IdentityMultihash(data);
    EXPECT_EQ(mh.size(), size + 2);
    const StatusOr<MultihashView> view = ParseMultihash(mh);
    ASSERT_TRUE(view.ok()) << size << ": " << view.status().ToString();
    EXPECT_EQ(view->code, kMultihashIdentity);
    EXPECT_EQ(Bytes(view->digest.begin(), view->digest.end()), data);
  }
}

TEST(MultihashTest, AcceptsOtherCodes) {
  Bytes mh;
  AppendUvarint(0x13, &mh);  // sha2-512
  AppendUvarint(64, &mh);
  mh.resize(mh.size() + 64, 7);
  const StatusOr<MultihashView> view = ParseMultihash(mh);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->code, 0x13u);
  EXPECT_EQ(view->digest.size(), 64u);
  Bytes big_code;
  AppendUvarint(0xb220, &big_code);  // blake2b-256, a multi-byte code
  AppendUvarint(1, &big_code);
  big_code.push_back(9);
  const StatusOr<MultihashView> blake = ParseMultihash(big_code);
  ASSERT_TRUE(blake.ok());
  EXPECT_EQ(blake->code, 0xb220u);
}

TEST(MultihashTest, RejectsLengthMismatches) {
  Bytes mh = Sha256Multihash(Digest32().data());
  ExpectError(ByteSpan(mh).first(33), StatusCode::kInvalidArgument, "digest of 32 bytes but 31 follow");
  mh.push_back(0);
  ExpectError(mh, StatusCode::kInvalidArgument, "digest of 32 bytes but 33 follow");
  ExpectError(Bytes{0x12, 0x01, 0x00}, StatusCode::kInvalidArgument, "must be 32 bytes, not 1");
  ExpectError(Bytes{0x00, 0x02, 0x00}, StatusCode::kInvalidArgument, "digest of 2 bytes but 1 follow");
}

TEST(MultihashTest, RejectsBadVarints) {
  ExpectError({}, StatusCode::kInvalidArgument, "empty");
  ExpectError(Bytes{0x80}, StatusCode::kInvalidArgument, "code: truncated");
  ExpectError(Bytes{0x12}, StatusCode::kInvalidArgument, "digest length: truncated");
  ExpectError(Bytes{0x92, 0x00, 0x00}, StatusCode::kInvalidArgument, "not minimally encoded");
  ExpectError(Bytes{0x00, 0x80, 0x00}, StatusCode::kInvalidArgument, "not minimally encoded");
}

TEST(MultihashTest, LengthLimit) {
  Bytes at_limit = IdentityMultihash(Bytes(kMaxIdentityDigestLength, 1));
  ASSERT_EQ(at_limit.size(), kMaxMultihashLength);
  EXPECT_TRUE(ParseMultihash(at_limit).ok());
  Bytes over;
  AppendUvarint(kMultihashIdentity, &over);
  AppendUvarint(kMaxIdentityDigestLength + 1, &over);
  over.resize(over.size() + kMaxIdentityDigestLength + 1, 1);
  ExpectError(over, StatusCode::kOutOfRange, "exceeds the limit of 128");
}

TEST(MultihashTest, EveryTruncationFails) {
  const Bytes mh = Sha256Multihash(Digest32().data());
  for (size_t n = 0; n < mh.size(); ++n) {
    EXPECT_FALSE(ParseMultihash(ByteSpan(mh).first(n)).ok()) << n;
  }
}

}  // namespace
}  // namespace libp2p
