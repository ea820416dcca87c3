#include "libp2p/base/multihash.h"

#include <cassert>
#include <string>

#include "libp2p/base/varint.h"

namespace libp2p {

namespace {

StatusOr<uint64_t> ReadField(ByteSpan* in, const char* field) {
  StatusOr<uint64_t> value = ReadUvarint(in);
  if (!value.ok()) {
    return InvalidArgumentError(std::string("multihash ") + field + ": " + value.status().message());
  }
  return value;
}

Bytes Frame(uint64_t code, ByteSpan digest) {
  Bytes out;
  out.reserve(2 * kMaxUvarintLength + digest.size());
  AppendUvarint(code, &out);
  AppendUvarint(digest.size(), &out);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

}  // namespace

StatusOr<MultihashView> ParseMultihash(ByteSpan in) {
  if (in.size() > kMaxMultihashLength) {
    return OutOfRangeError("multihash of " + std::to_string(in.size()) + " bytes exceeds the limit of " +
                           std::to_string(kMaxMultihashLength));
  }
  if (in.empty()) return InvalidArgumentError("multihash: empty input");
  ByteSpan rest = in;
  ASSIGN_OR_RETURN(const uint64_t code, ReadField(&rest, "code"));
  ASSIGN_OR_RETURN(const uint64_t length, ReadField(&rest, "digest length"));
  if (length != rest.size()) {
    return InvalidArgumentError("multihash declares a digest of " + std::to_string(length) + " bytes but " +
                                std::to_string(rest.size()) + " follow");
  }
  if (code == kMultihashSha2_256 && length != kSha256DigestLength) {
    return InvalidArgumentError("sha2-256 multihash digest must be 32 bytes, not " + std::to_string(length));
  }
  return MultihashView{code, rest};
}

Bytes IdentityMultihash(ByteSpan data) {
  assert(data.size() <= kMaxIdentityDigestLength);
  return Frame(kMultihashIdentity, data);
}

Bytes Sha256Multihash(const uint8_t digest[kSha256DigestLength]) {
  return Frame(kMultihashSha2_256, ByteSpan(digest, kSha256DigestLength));
}

}  // namespace libp2p
