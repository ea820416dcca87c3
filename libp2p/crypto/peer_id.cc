#include "libp2p/crypto/peer_id.h"

#include <algorithm>
#include <cstring>

#include "libp2p/base/multibase.h"
#include "libp2p/base/multihash.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::crypto {
namespace {

constexpr uint64_t kCidVersion1 = 1;
constexpr uint64_t kLibp2pKeyCodec = 0x72;

}  // namespace

PeerId PeerId::FromPublicKey(const PublicKey& key) {
  const Bytes encoded = key.ToProtobuf();
  const Bytes multihash = encoded.size() <= kMaxInlineKeySize ? IdentityMultihash(encoded)
                                                              : Sha256Multihash(Sha256(encoded).data());
  PeerId id;
  std::copy(multihash.begin(), multihash.end(), id.bytes_.begin());
  id.size_ = static_cast<uint8_t>(multihash.size());
  return id;
}

StatusOr<PeerId> PeerId::FromBytes(ByteSpan multihash) {
  if (multihash.size() > kMaxSize) {
    return InvalidArgumentError("peer id of " + std::to_string(multihash.size()) + " bytes is too long");
  }
  ASSIGN_OR_RETURN(const MultihashView view, ParseMultihash(multihash));
  if (view.code == kMultihashIdentity) {
    if (view.digest.size() > kMaxInlineKeySize) {
      return InvalidArgumentError("identity peer id embeds more than 42 bytes");
    }
  } else if (view.code == kMultihashSha2_256) {
    if (view.digest.size() != kSha256DigestLength) return InvalidArgumentError("sha2-256 peer id of wrong length");
  } else {
    return InvalidArgumentError("peer id multihash must be identity or sha2-256");
  }
  PeerId id;
  std::copy(multihash.begin(), multihash.end(), id.bytes_.begin());
  id.size_ = static_cast<uint8_t>(multihash.size());
  return id;
}

StatusOr<PeerId> PeerId::FromString(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty peer id");
  if (text[0] == '1' || text.substr(0, 2) == "Qm") {
    if (text.size() > 2 * kMaxSize) return InvalidArgumentError("peer id text too long");
    ASSIGN_OR_RETURN(const Bytes bytes, Base58BtcDecode(text));
    return FromBytes(bytes);
  }
  if (text.size() > 4 * kMaxSize) return InvalidArgumentError("peer id text too long");
  StatusOr<Bytes> cid = MultibaseDecode(text);
  if (!cid.ok()) return InvalidArgumentError("peer id is neither base58btc nor a CID: " + cid.status().message());
  ByteSpan rest(*cid);
  ASSIGN_OR_RETURN(const uint64_t version, ReadUvarint(&rest));
  if (version != kCidVersion1) return InvalidArgumentError("peer id CID must be CIDv1");
  ASSIGN_OR_RETURN(const uint64_t codec, ReadUvarint(&rest));
  if (codec != kLibp2pKeyCodec) return InvalidArgumentError("peer id CID must use the libp2p-key codec (0x72)");
  return FromBytes(rest);
}

std::string PeerId::ToBase58() const { return Base58BtcEncode(bytes()); }

std::string PeerId::ToCidString() const {
  Bytes cid;
  AppendUvarint(kCidVersion1, &cid);
  AppendUvarint(kLibp2pKeyCodec, &cid);
  cid.insert(cid.end(), bytes().begin(), bytes().end());
  return MultibaseEncode(Multibase::kBase32, cid);
}

StatusOr<PublicKey> PeerId::ExtractPublicKey() const {
  ASSIGN_OR_RETURN(const MultihashView view, ParseMultihash(bytes()));
  if (view.code != kMultihashIdentity) return NotFoundError("peer id is a hash; it does not embed its key");
  return PublicKey::FromProtobuf(view.digest);
}

}  // namespace libp2p::crypto
